//! [`Async<T>`]: any file descriptor, non-blocking and registered with the
//! current reactor. This module owns the descriptor's registration, the
//! readiness API handed to users ([`Async::readable`] and its guard), and,
//! in [`stream`], the one I/O loop every ember stream runs its reads and
//! writes through.
//!
//! # Ground rules
//!
//! * Readiness is the reactor's cached, edge-triggered state. It is cleared
//!   only with the event it was seen in (tick-checked, so a newer event is
//!   never thrown away), and only when an operation proved it stale: a
//!   `WouldBlock`, or, on descriptors built by this crate's stream
//!   constructors, a short transfer (see [`stream`]).
//! * The `async fn`s (`readable`, `writable`, `ready`, `read_with`,
//!   `write_with`) wait as entries of the source's waiter list: any number
//!   of tasks may wait at once. The `poll_*` methods and the futures-io
//!   impls keep one waker slot per direction, where the last poller wins.
//! * A user may run system calls on [`Async::get_ref`] that the reactor never
//!   sees fail. So readiness that `readable`/`writable`/`ready`/`poll_*able`
//!   already handed out once (same direction, same event tick, remembered in
//!   `handed`) is confirmed with a zero-timeout `poll(2)` before it is handed
//!   out again; if the descriptor is not actually ready the readiness is
//!   cleared and the caller waits. A naive "wait, then my own syscall" loop
//!   therefore sleeps between events instead of spinning, at the price of
//!   one extra `poll(2)` per repeated hand-out.
//! * The inner handle is reachable only through `&T` (and `&mut T` inside
//!   the futures-io impls, which call `T`'s own `Read`/`Write`): there is no
//!   `get_mut`, so no caller can swap the descriptor out from under the
//!   registration.

mod guard;
pub(crate) mod stream;

pub use guard::{ReadyGuard, TryIoError};

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::task::{ready, Context, Poll};

use ember_reactor::{Direction, Handle, Interest, ReadyEvent, Registration};
use mio::unix::SourceFd;

/// An I/O handle in non-blocking mode, registered with ember's reactor.
///
/// `Async<T>` works with any `T` that owns a file descriptor: sockets, pipes,
/// terminals, `std::process::ChildStdout`, ... Regular files are always
/// "ready" to the OS and gain nothing from it.
///
/// Operations come in three flavours:
///
/// - [`read_with`](Async::read_with) / [`write_with`](Async::write_with) run
///   any non-blocking operation on the inner handle, waiting for readiness
///   and retrying while it fails with [`io::ErrorKind::WouldBlock`];
/// - [`readable`](Async::readable) / [`writable`](Async::writable) /
///   [`ready`](Async::ready) wait for readiness and return a [`ReadyGuard`]
///   (tokio's `AsyncFd` style): run the operation with
///   [`ReadyGuard::try_io`], which clears the readiness when it would block;
/// - the futures-io [`AsyncRead`](futures_io::AsyncRead) and
///   [`AsyncWrite`](futures_io::AsyncWrite) traits, implemented for
///   `Async<T>` when `T: Read`/`T: Write` and for `&Async<T>` when
///   `&T: Read`/`&T: Write`.
///
/// Reading and writing wake independently, and any number of tasks may wait
/// in the `async fn`s at once.
///
/// There is no `get_mut`: through `&mut T` a caller could replace the
/// descriptor the reactor watches (async-io 2 made its `get_mut` `unsafe`
/// for this reason). Use [`get_ref`](Async::get_ref), or take the handle
/// back with [`into_inner`](Async::into_inner).
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
    /// The reactor slot; its readiness bits and waiters.
    registration: Registration,
    /// The descriptor registered with the OS poller, remembered so that
    /// `Drop` can deregister it without requiring `T: AsFd` on the struct.
    fd: RawFd,
    /// Whether a short transfer proves the kernel queue drained (stream
    /// sockets, pipes), so the stream loop may clear readiness on it. Set
    /// only by this crate's own constructors: not for user handles such as
    /// a terminal in canonical mode, which returns one line per read even
    /// with more buffered.
    stream: bool,
    /// Per direction (read, write): the event tick, truncated to 16 bits, of
    /// the readiness last handed out by `readable`/`writable`/`ready`/
    /// `poll_*able`. A hint: a stale or wrapped value costs one `poll(2)` or
    /// one extra wake-up, never a lost one. (16 bits keep `TcpStream` at 32
    /// bytes.)
    handed: [AtomicU16; 2],
    /// `Some` from construction until `into_inner` or `Drop` takes it.
    io: Option<T>,
}

// `Async` never pins its contents in place: it is moved freely, so it is
// `Unpin` whatever `T` is.
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
        Async::register(io, false)
    }

    /// Registers `io`, which the caller has already put in non-blocking mode
    /// (saves an `fcntl` for sockets created with `SOCK_NONBLOCK`), as a
    /// byte stream: a short read or write clears readiness. Only for stream
    /// sockets and pipes, where a short transfer proves the queue drained.
    pub(crate) fn new_stream_nonblocking(io: T) -> io::Result<Async<T>> {
        Async::register(io, true)
    }

    /// As [`Async::new`], for a byte stream (see `new_stream_nonblocking`).
    pub(crate) fn new_stream(io: T) -> io::Result<Async<T>> {
        ember_reactor::__private::set_nonblocking(io.as_fd())?;
        Async::register(io, true)
    }

    /// Registers `io`, which the caller has already put in non-blocking
    /// mode, as anything but a byte stream (a listener, a datagram socket).
    pub(crate) fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        Async::register(io, false)
    }

    fn register(io: T, stream: bool) -> io::Result<Async<T>> {
        let fd = io.as_fd().as_raw_fd();
        let registration = Handle::current().register(
            &mut SourceFd(&fd),
            mio::Interest::READABLE | mio::Interest::WRITABLE,
        )?;
        Ok(Async {
            registration,
            fd,
            stream,
            handed: [AtomicU16::new(0), AtomicU16::new(0)],
            io: Some(io),
        })
    }

    /// Waits until the handle is readable (or closed for reading, or in
    /// error) and returns a guard over that readiness.
    ///
    /// Run the read with [`ReadyGuard::try_io`]: when it fails with
    /// `WouldBlock` the guard clears the readiness, and the next
    /// `readable()` waits for a new event. A loop that instead runs its own
    /// system call on [`get_ref`](Async::get_ref) and calls `readable()`
    /// again after `WouldBlock` does not spin either: readiness this handle
    /// already handed out is confirmed with a non-blocking `poll(2)` first,
    /// and cleared if the descriptor is not actually readable.
    ///
    /// Any number of tasks may wait at once; each is woken by the next
    /// event.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down, or the OS error of the
    /// `poll(2)` probe.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// tokio's guard loop:
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (mut a, b) = UnixStream::pair()?;
    ///     let b = Async::new(b)?;
    ///     a.write_all(b"x")?;
    ///     let mut buf = [0; 8];
    ///     let n = loop {
    ///         let mut guard = b.readable().await?;
    ///         match guard.try_io(|b| b.get_ref().read(&mut buf)) {
    ///             Ok(result) => break result?,
    ///             Err(_would_block) => continue,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"x");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    ///
    /// The plain loop, which waits just as well:
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::io::{ErrorKind, Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (mut a, b) = UnixStream::pair()?;
    ///     let b = Async::new(b)?;
    ///     a.write_all(b"x")?;
    ///     let mut buf = [0; 8];
    ///     let n = loop {
    ///         let _ = b.readable().await?; // the guard is not needed here
    ///         match b.get_ref().read(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"x");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn readable(&self) -> io::Result<ReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// Waits until the handle is writable (or closed for writing, or in
    /// error); the counterpart of [`readable`](Async::readable), with the
    /// same guarantees.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down, or the OS error of the
    /// `poll(2)` probe.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
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
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     let mut guard = a.writable().await?;
    ///     let n = guard.try_io(|a| a.get_ref().write(b"hi")).expect("just became writable")?;
    ///     assert_eq!(n, 2);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn writable(&self) -> io::Result<ReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// Waits until the handle is ready for any of `interest` and returns a
    /// guard over the readiness seen ([`ReadyGuard::ready`] says which).
    /// See [`readable`](Async::readable).
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down, or the OS error of the
    /// `poll(2)` probe.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::{Async, Interest};
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     let guard = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     // Nothing to read, but room to write.
    ///     assert!(guard.ready().is_writable());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<ReadyGuard<'_, T>> {
        loop {
            let event = self.registration.ready(interest).await?;
            if self.confirm(event)? {
                return Ok(ReadyGuard::new(self, event));
            }
            self.registration.clear_readiness(event);
        }
    }

    /// Polls until the handle is readable (or closed for reading, or in
    /// error), with the same no-spin guarantee as
    /// [`readable`](Async::readable).
    ///
    /// When `Pending` is returned, `cx`'s waker is stored in the read
    /// direction's single slot: only the task that polled last is woken.
    /// Tasks that share the handle should await [`readable`](Async::readable)
    /// instead.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down, or the OS error of the
    /// `poll(2)` probe.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::future::poll_fn;
    /// use std::io::Write;
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (mut a, b) = UnixStream::pair()?;
    ///     let b = Async::new(b)?;
    ///     a.write_all(b"x")?;
    ///     poll_fn(|cx| b.poll_readable(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_confirmed(cx, Direction::Read)
    }

    /// Polls until the handle is writable (or closed for writing, or in
    /// error). The counterpart of [`poll_readable`](Async::poll_readable),
    /// with the same one-slot contract.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down, or the OS error of the
    /// `poll(2)` probe.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::future::poll_fn;
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     poll_fn(|cx| a.poll_writable(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_confirmed(cx, Direction::Write)
    }

    /// The `poll_*able` loop: one-slot readiness, confirmed as `ready` does.
    fn poll_confirmed(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        loop {
            let event = ready!(self.registration.poll_ready(cx, dir))?;
            if self.confirm(event)? {
                return Poll::Ready(Ok(()));
            }
            // Stale: clear it (unless a newer event arrived) and poll again,
            // which stores the waker or sees that newer event.
            self.registration.clear_readiness(event);
        }
    }

    /// Whether the readiness in `event` may be handed out (see the ground
    /// rules): always if it is new to this handle, else if a `poll(2)` probe
    /// confirms it. Records it as handed out.
    fn confirm(&self, event: ReadyEvent) -> io::Result<bool> {
        let ready = event.readiness();
        // Closed and error states never make a loop spin: the next
        // operation returns at once (end of stream, EPIPE, the error).
        if ready.is_read_closed() || ready.is_write_closed() || ready.is_error() {
            return Ok(true);
        }
        // Truncation can only make two ticks look equal, which costs a probe.
        let tick = ember_reactor::__private::event_tick(&event) as u16;
        let mut fresh = false;
        let mut probe: Option<Interest> = None;
        let directions = [
            (ready.is_readable(), &self.handed[0], Interest::READABLE),
            (ready.is_writable(), &self.handed[1], Interest::WRITABLE),
        ];
        for (is_ready, handed, interest) in directions {
            if !is_ready {
                continue;
            }
            if handed.swap(tick, Ordering::Relaxed) != tick {
                fresh = true;
            }
            probe = Some(probe.map_or(interest, |p| p | interest));
        }
        match probe {
            Some(interest) if !fresh => {
                let now = ember_reactor::__private::poll_now(self.get_ref().as_fd(), interest)?;
                Ok(!now.is_empty())
            }
            _ => Ok(true),
        }
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

    /// Runs the non-blocking read operation `op` on the handle until it
    /// stops failing with [`io::ErrorKind::WouldBlock`], waiting for
    /// readiness in between. Any number of tasks may wait at once.
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
        self.registration.async_io(Direction::Read, || op(io)).await
    }

    /// Runs the non-blocking write operation `op` on the handle until it
    /// stops failing with [`io::ErrorKind::WouldBlock`], waiting for
    /// writability in between. Any number of tasks may wait at once.
    ///
    /// # Errors
    ///
    /// Returns the first error from `op` other than `WouldBlock`, or an
    /// error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// As for [`read_with`](Async::read_with).
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
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     let n = a.write_with(|s| (&*s).write(b"hi")).await?;
    ///     assert_eq!(n, 2);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        self.registration
            .async_io(Direction::Write, || op(io))
            .await
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
