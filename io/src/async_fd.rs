//! [`Async<T>`]: any file descriptor, non-blocking and registered with the
//! current reactor, with futures-io `AsyncRead`/`AsyncWrite` on top.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use ember_reactor::{Direction, Handle, Registration};
use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::SourceFd;
use mio::Interest;

/// An I/O handle in non-blocking mode, registered with ember's reactor.
///
/// `Async<T>` works with any `T` that owns a file descriptor: sockets, pipes,
/// terminals, `std::process::ChildStdout`, ... Regular files are always
/// "ready" to the OS and gain nothing from it.
///
/// Operations come in two flavours:
///
/// - [`read_with`](Async::read_with) / [`write_with`](Async::write_with) (and
///   their `_mut` variants) run any non-blocking operation on the inner
///   handle, waiting for readiness and retrying while it fails with
///   [`io::ErrorKind::WouldBlock`];
/// - the futures-io [`AsyncRead`] and [`AsyncWrite`] traits, implemented for
///   `Async<T>` when `T: Read`/`T: Write` and for `&Async<T>` when
///   `&T: Read`/`&T: Write`.
///
/// Reading and writing wake independently: one task may wait to read while
/// another waits to write on the same handle.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::Async;
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
/// use std::os::unix::net::UnixStream;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let (mut a, mut b) = (Async::new(a)?, Async::new(b)?);
///     a.write_all(b"hello").await?;
///     let mut buf = [0; 5];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hello");
///     Ok(())
/// })
/// # }
/// ```
pub struct Async<T> {
    /// The reactor slot; its readiness bits and wakers.
    registration: Registration,
    /// The descriptor registered with the OS poller, remembered so that
    /// `Drop` can deregister it without requiring `T: AsFd` on the struct.
    fd: RawFd,
    /// `Some` from construction until `into_inner` or `Drop` takes it.
    io: Option<T>,
}

// `Async` never pins its contents in place: it is moved freely and gives out
// `&mut T`, so it is `Unpin` whatever `T` is.
impl<T> Unpin for Async<T> {}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the current
    /// reactor, for both reading and writing.
    ///
    /// # Errors
    ///
    /// Returns the OS error if `O_NONBLOCK` cannot be set or the descriptor
    /// cannot be registered (for example, it is already registered, or it is
    /// a regular file, which epoll refuses).
    ///
    /// # Panics
    ///
    /// Panics when called outside an ember runtime (no current reactor).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = Async::new(UdpSocket::bind("127.0.0.1:0")?)?;
    ///     println!("bound to {}", socket.get_ref().local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn new(io: T) -> io::Result<Async<T>> {
        ember_reactor::__private::set_nonblocking(io.as_fd())?;
        Async::new_nonblocking(io)
    }

    /// Registers `io`, which the caller has already put in non-blocking mode
    /// (saves an `fcntl` for sockets created with `SOCK_NONBLOCK`).
    pub(crate) fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        let fd = io.as_fd().as_raw_fd();
        let registration = Handle::current()
            .register(&mut SourceFd(&fd), Interest::READABLE | Interest::WRITABLE)?;
        Ok(Async {
            registration,
            fd,
            io: Some(io),
        })
    }
}

impl<T> Async<T> {
    /// A shared reference to the inner handle.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::net::TcpListener;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = Async::new(TcpListener::bind("127.0.0.1:0")?)?;
    ///     let addr = listener.get_ref().local_addr()?;
    ///     assert!(addr.ip().is_loopback());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect(IO_TAKEN)
    }

    /// A mutable reference to the inner handle.
    ///
    /// Do not replace the handle or change its descriptor through this
    /// reference: the reactor keeps watching the descriptor registered by
    /// [`Async::new`].
    pub fn get_mut(&mut self) -> &mut T {
        self.io.as_mut().expect(IO_TAKEN)
    }

    /// Deregisters the handle from the reactor and returns it. It stays in
    /// non-blocking mode.
    ///
    /// # Errors
    ///
    /// Returns the OS error if deregistration fails; the handle is then
    /// dropped (closed).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = Async::new(UdpSocket::bind("127.0.0.1:0")?)?;
    ///     let socket: UdpSocket = socket.into_inner()?;
    ///     // It can be registered again.
    ///     let _socket = Async::new(socket)?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect(IO_TAKEN);
        self.registration.deregister(&mut SourceFd(&self.fd))?;
        Ok(io)
    }

    /// The reactor registration, for the socket types built on `Async`.
    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Polls until the handle is readable (or closed for reading, or in
    /// error).
    ///
    /// Readiness is a hint, cleared only when an operation run by
    /// [`read_with`](Async::read_with), [`read_with_mut`](Async::read_with_mut)
    /// or [`AsyncRead`] fails with `WouldBlock`. If you run the operation
    /// yourself after this returns `Ready` and it would block, this keeps
    /// returning `Ready`; prefer `read_with`.
    ///
    /// When `Pending` is returned, `cx`'s waker is stored and woken when the
    /// handle becomes readable; only the waker of the most recent call is
    /// kept.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.registration
            .poll_ready(cx, Direction::Read)
            .map_ok(|_event| ())
    }

    /// Polls until the handle is writable (or closed for writing, or in
    /// error). The counterpart of [`poll_readable`](Async::poll_readable),
    /// with the same caveats.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.registration
            .poll_ready(cx, Direction::Write)
            .map_ok(|_event| ())
    }

    /// Waits until the handle is readable. See
    /// [`poll_readable`](Async::poll_readable) for what "readable" promises.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (mut a, b) = UnixStream::pair()?;
    ///     let b = Async::new(b)?;
    ///     a.write_all(b"x")?;
    ///     b.readable().await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_readable(cx)).await
    }

    /// Waits until the handle is writable. See
    /// [`poll_writable`](Async::poll_writable).
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses nothing.
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_writable(cx)).await
    }

    /// Runs the non-blocking read operation `op` on the handle until it
    /// stops failing with [`io::ErrorKind::WouldBlock`], waiting for
    /// readiness in between.
    ///
    /// `op` must be non-blocking and should be a *read* operation (anything
    /// that waits for incoming data or connections): a write operation here
    /// could wait forever for readability.
    ///
    /// # Errors
    ///
    /// Returns the first error from `op` other than `WouldBlock`, or an
    /// error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe as far as this method goes: `op` has either run to
    /// completion or not run at all when the future is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let a = Async::new(UdpSocket::bind("127.0.0.1:0")?)?;
    ///     let b = Async::new(UdpSocket::bind("127.0.0.1:0")?)?;
    ///     let b_addr = b.get_ref().local_addr()?;
    ///     a.write_with(|s| s.send_to(b"hi", b_addr)).await?;
    ///
    ///     let mut buf = [0; 16];
    ///     let (n, from) = b.read_with(|s| s.recv_from(&mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     assert_eq!(from, a.get_ref().local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        poll_fn(|cx| self.registration.poll_io(cx, Direction::Read, || op(io))).await
    }

    /// Like [`read_with`](Async::read_with), with mutable access to the
    /// handle.
    ///
    /// # Errors
    ///
    /// Returns the first error from `op` other than `WouldBlock`, or an
    /// error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// As for `read_with`.
    pub async fn read_with_mut<R>(
        &mut self,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let (registration, io) = self.parts_mut();
        poll_fn(|cx| registration.poll_io(cx, Direction::Read, || op(io))).await
    }

    /// Runs the non-blocking write operation `op` on the handle until it
    /// stops failing with [`io::ErrorKind::WouldBlock`], waiting for
    /// writability in between.
    ///
    /// # Errors
    ///
    /// Returns the first error from `op` other than `WouldBlock`, or an
    /// error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// As for [`read_with`](Async::read_with).
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        poll_fn(|cx| self.registration.poll_io(cx, Direction::Write, || op(io))).await
    }

    /// Like [`write_with`](Async::write_with), with mutable access to the
    /// handle.
    ///
    /// # Errors
    ///
    /// Returns the first error from `op` other than `WouldBlock`, or an
    /// error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// As for [`read_with`](Async::read_with).
    pub async fn write_with_mut<R>(
        &mut self,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let (registration, io) = self.parts_mut();
        poll_fn(|cx| registration.poll_io(cx, Direction::Write, || op(io))).await
    }

    /// Splits the borrow so an operation can hold `&mut T` while polling the
    /// registration.
    fn parts_mut(&mut self) -> (&Registration, &mut T) {
        (&self.registration, self.io.as_mut().expect(IO_TAKEN))
    }
}

/// `io` is only `None` inside `into_inner` and `Drop`, which consume `self`.
const IO_TAKEN: &str = "ember_io::Async: the I/O handle was already taken";

impl<T> Drop for Async<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Deregister while the descriptor is still open: once it is
            // closed its number may be reused by a new registration. Errors
            // cannot be reported from `drop`; closing the descriptor removes
            // it from the poller anyway.
            let _ = self.registration.deregister(&mut SourceFd(&self.fd));
            drop(io);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async").field("io", &self.io).finish()
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsRawFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

/// True when a vectored buffer list holds no bytes at all.
pub(crate) fn all_empty(bufs: &[impl std::ops::Deref<Target = [u8]>]) -> bool {
    bufs.iter().all(|buf| buf.is_empty())
}

impl<T: Read> AsyncRead for Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let (registration, io) = self.get_mut().parts_mut();
        registration.poll_io(cx, Direction::Read, || io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        if all_empty(bufs) {
            return Poll::Ready(Ok(0));
        }
        let (registration, io) = self.get_mut().parts_mut();
        registration.poll_io(cx, Direction::Read, || io.read_vectored(bufs))
    }
}

impl<T> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        this.registration
            .poll_io(cx, Direction::Read, || io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        if all_empty(bufs) {
            return Poll::Ready(Ok(0));
        }
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        this.registration
            .poll_io(cx, Direction::Read, || io.read_vectored(bufs))
    }
}

impl<T: Write> AsyncWrite for Async<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let (registration, io) = self.get_mut().parts_mut();
        registration.poll_io(cx, Direction::Write, || io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if all_empty(bufs) {
            return Poll::Ready(Ok(0));
        }
        let (registration, io) = self.get_mut().parts_mut();
        registration.poll_io(cx, Direction::Write, || io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (registration, io) = self.get_mut().parts_mut();
        poll_flush_with(registration, cx, || io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        this.registration
            .poll_io(cx, Direction::Write, || io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if all_empty(bufs) {
            return Poll::Ready(Ok(0));
        }
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        this.registration
            .poll_io(cx, Direction::Write, || io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this: &Async<T> = *self;
        let mut io = this.get_ref();
        poll_flush_with(&this.registration, cx, || io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// Flushes without waiting for writability first: for sockets and pipes
/// `flush` is a no-op that must not wait behind a full send buffer. Only a
/// flush that would block waits for readiness.
fn poll_flush_with(
    registration: &Registration,
    cx: &mut Context<'_>,
    mut flush: impl FnMut() -> io::Result<()>,
) -> Poll<io::Result<()>> {
    match flush() {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            registration.poll_io(cx, Direction::Write, flush)
        }
        result => Poll::Ready(result),
    }
}
