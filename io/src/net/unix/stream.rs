//! [`UnixStream`]: a connected Unix-domain stream socket, readable and
//! writable through the futures-io traits.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{Context, Poll};

use ember_reactor::{Direction, Interest, Ready};

use super::{socket_addr, OwnedReadHalf, OwnedWriteHalf, ReadHalf, SocketAddr, UCred, WriteHalf};
use crate::async_fd::Async;
use crate::split;

/// A connected Unix-domain stream socket.
///
/// Create one with [`UnixStream::connect`] or [`UnixStream::pair`], or
/// accept one from a [`UnixListener`](crate::net::UnixListener). It has
/// [`TcpStream`](crate::net::TcpStream)'s API: the futures-io
/// [`AsyncRead`](futures_io::AsyncRead) and
/// [`AsyncWrite`](futures_io::AsyncWrite) traits for `UnixStream` and
/// `&UnixStream` ([`poll_close`](futures_io::AsyncWrite::poll_close) shuts
/// down the write side), tokio's readiness API (`readable`, `writable`,
/// `ready`, `try_read`, `try_write`, `try_io`, ...), split halves in
/// [`unix`](super), and [`send_file`](UnixStream::send_file).
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::UnixStream;
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"hello").await?;
///     a.close().await?; // shuts down a's write side: b reads to the end
///     let mut received = String::new();
///     b.read_to_string(&mut received).await?;
///     assert_eq!(received, "hello");
///     Ok(())
/// })
/// # }
/// ```
pub struct UnixStream {
    io: Async<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path` (an abstract name if its first byte
    /// is NUL, on Linux and Android).
    ///
    /// # Errors
    ///
    /// The OS error: [`io::ErrorKind::NotFound`] when no socket file is
    /// there, [`io::ErrorKind::ConnectionRefused`] when nothing listens on
    /// it, and on Linux [`io::ErrorKind::WouldBlock`] when the listener's
    /// queue is full (as tokio: a Unix connect never waits for room).
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`](crate::net::UnixListener).
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = socket_addr(path.as_ref())?;
        let stream = mio::net::UnixStream::connect_addr(&addr)?;
        let stream = UnixStream::from_nonblocking(stream.into())?;
        // Where connecting can be in progress, writability says it ended;
        // SO_ERROR says how.
        stream.io.stream_ready(Interest::WRITABLE).await?;
        match stream.io.get_ref().take_error()? {
            Some(e) => Err(e),
            None => Ok(stream),
        }
    }

    /// A pair of connected streams (`socketpair(2)`), both registered with
    /// the current reactor.
    ///
    /// # Errors
    ///
    /// The OS error, for example `EMFILE`.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// See [`UnixStream`].
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((
            UnixStream::from_nonblocking(a.into())?,
            UnixStream::from_nonblocking(b.into())?,
        ))
    }

    /// Wraps a connected standard-library stream, putting it in non-blocking
    /// mode and registering it with the current reactor.
    ///
    /// # Errors
    ///
    /// The OS error if the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// block_on(async {
    ///     let a = UnixStream::from_std(a)?;
    ///     let _a: std::os::unix::net::UnixStream = a.into_std()?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Async::new_stream(stream)?,
        })
    }

    /// Registers a stream that is already non-blocking.
    pub(super) fn from_nonblocking(
        stream: std::os::unix::net::UnixStream,
    ) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: Async::new_stream_nonblocking(stream)?,
        })
    }

    /// Deregisters the stream and returns the standard-library stream, still
    /// in non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error if deregistration fails.
    ///
    /// # Examples
    ///
    /// See [`from_std`](UnixStream::from_std).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        self.io.into_inner()
    }

    /// The local address of this end (usually unnamed for a client).
    ///
    /// # Errors
    ///
    /// The OS error from `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     assert!(a.local_addr()?.is_unnamed());
    ///     assert!(b.peer_addr()?.is_unnamed());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer (the listener's, for a client).
    ///
    /// # Errors
    ///
    /// The OS error from `getpeername`.
    ///
    /// # Examples
    ///
    /// See [`local_addr`](UnixStream::local_addr).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The credentials of the peer process (user, group and, on Linux and
    /// Android, process id), as the kernel recorded them at connect time.
    ///
    /// # Errors
    ///
    /// The OS error; [`io::ErrorKind::Unsupported`] on platforms without a
    /// way to ask.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let cred = a.peer_cred()?;
    ///     # #[cfg(target_os = "linux")]
    ///     assert_eq!(cred.pid(), Some(std::process::id() as i32)); // a pair: this process
    ///     # let _ = cred;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn peer_cred(&self) -> io::Result<UCred> {
        ember_reactor::__private::peer_cred(self.io.get_ref().as_fd()).map(UCred::from)
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt` (the pending error is the `Ok` value).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     assert!(a.take_error()?.is_none());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the read side, the write side, or both, at once and
    /// without waiting (as [`std::os::unix::net::UnixStream::shutdown`]).
    /// `Shutdown::Write` is a half-close: the peer reads end of stream and
    /// can still send.
    ///
    /// # Errors
    ///
    /// The OS error, for example [`io::ErrorKind::NotConnected`].
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    /// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    /// use std::net::Shutdown;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (mut a, mut b) = UnixStream::pair()?;
    ///     a.shutdown(Shutdown::Write)?;
    ///     assert_eq!(b.read(&mut [0; 8]).await?, 0); // end of stream
    ///     b.write_all(b"still open").await?; // the other way still works
    ///     let mut buf = [0; 10];
    ///     a.read_exact(&mut buf).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Waits until the stream is readable: data, end of stream or an error
    /// is waiting. Any number of tasks may wait at once. See
    /// [`TcpStream::readable`](crate::net::TcpStream::readable).
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    /// use futures_util::io::AsyncWriteExt;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (mut a, b) = UnixStream::pair()?;
    ///     a.write_all(b"hello").await?;
    ///     let mut buf = [0; 16];
    ///     let n = loop {
    ///         b.readable().await?;
    ///         match b.try_read(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"hello");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.stream_ready(Interest::READABLE).await?;
        Ok(())
    }

    /// Waits until the stream is writable. Any number of tasks may wait at
    /// once.
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let n = loop {
    ///         a.writable().await?;
    ///         match a.try_write(b"hello") {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(n, 5);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.stream_ready(Interest::WRITABLE).await?;
        Ok(())
    }

    /// Waits until the stream is ready for any of `interest` and returns
    /// the readiness seen. Any number of tasks may wait at once.
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    /// use ember_io::Interest;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(ready.is_writable() && !ready.is_readable());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.stream_ready(interest).await
    }

    /// Polls for read readiness (one waker slot: only the task that polled
    /// last is woken).
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    /// use futures_util::io::AsyncWriteExt;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (mut a, b) = UnixStream::pair()?;
    ///     a.write_all(b"x").await?;
    ///     poll_fn(|cx| b.poll_read_ready(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_stream_ready(cx, Direction::Read)
    }

    /// Polls for write readiness (one waker slot).
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     poll_fn(|cx| a.poll_write_ready(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_stream_ready(cx, Direction::Write)
    }

    /// Reads what is available now, without waiting. `WouldBlock` (at once
    /// when the stream is not marked readable) or a short read clears the
    /// readiness, so the next [`readable`](UnixStream::readable) waits.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] when nothing is available; the OS error
    /// otherwise.
    ///
    /// # Examples
    ///
    /// See [`readable`](UnixStream::readable).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read_stream(buf)
    }

    /// Reads into several buffers with one `readv`, without waiting.
    ///
    /// # Errors
    ///
    /// As [`try_read`](UnixStream::try_read).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    /// use futures_util::io::AsyncWriteExt;
    /// use std::io::{ErrorKind, IoSliceMut};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (mut a, b) = UnixStream::pair()?;
    ///     a.write_all(b"head+body").await?;
    ///     let (mut head, mut body) = ([0; 5], [0; 4]);
    ///     let n = loop {
    ///         b.readable().await?;
    ///         let mut bufs = [IoSliceMut::new(&mut head), IoSliceMut::new(&mut body)];
    ///         match b.try_read_vectored(&mut bufs) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(n, 9);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.try_read_vectored_stream(bufs)
    }

    /// Writes what fits now, without waiting. `WouldBlock` (at once when the
    /// stream is not marked writable) or a short write clears the
    /// readiness.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] when the send buffer is full; the OS
    /// error otherwise, for example [`io::ErrorKind::BrokenPipe`].
    ///
    /// # Examples
    ///
    /// See [`writable`](UnixStream::writable).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_write_stream(buf)
    }

    /// Writes several buffers with one `writev`, without waiting.
    ///
    /// # Errors
    ///
    /// As [`try_write`](UnixStream::try_write).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    /// use std::io::{ErrorKind, IoSlice};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let bufs = [IoSlice::new(b"head"), IoSlice::new(b"+body")];
    ///     let n = loop {
    ///         a.writable().await?;
    ///         match a.try_write_vectored(&bufs) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(n, 9);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_write_vectored_stream(bufs)
    }

    /// Runs `op`, a non-blocking operation of the caller's own on this
    /// socket, if the stream is marked ready for `interest` (tokio's
    /// `try_io`): `WouldBlock` at once, without calling `op`, when it is
    /// not; the readiness is cleared when `op` reports `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as above, an error if the reactor has shut down, or
    /// what `op` returns.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    /// use ember_io::Interest;
    /// use std::io::Write;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     a.writable().await?;
    ///     let write = || (&*socket2::SockRef::from(&a)).write(b"raw");
    ///     assert_eq!(a.try_io(Interest::WRITABLE, write)?, 3);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_io<R>(
        &self,
        interest: Interest,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io_ready(interest, op)
    }

    /// Always `true`: `poll_write_vectored` issues one `writev`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     assert!(UnixStream::pair()?.0.is_write_vectored());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn is_write_vectored(&self) -> bool {
        true
    }

    /// Sends `len` bytes of `file` from byte `offset` and returns the bytes
    /// sent (fewer only if the file ends first), with `sendfile(2)` on Linux
    /// and Android and a read-and-write loop elsewhere. Everything
    /// [`TcpStream::send_file`](crate::net::TcpStream::send_file) says
    /// holds here.
    ///
    /// # Errors
    ///
    /// The OS error of the socket or the file;
    /// [`io::ErrorKind::InvalidInput`] if `offset + len` overflows `u64`.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped future has sent a prefix of the range of
    /// unknown length.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixStream;
    /// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let path = std::env::temp_dir().join(format!("ember-unix-send-file-{}", std::process::id()));
    /// std::fs::write(&path, b"0123456789")?;
    /// let file = std::fs::File::open(&path)?;
    /// block_on(async {
    ///     let (mut a, mut b) = UnixStream::pair()?;
    ///     assert_eq!(a.send_file(&file, 2, 5).await?, 5);
    ///     a.close().await?;
    ///     let mut got = Vec::new();
    ///     b.read_to_end(&mut got).await?;
    ///     assert_eq!(got, b"23456");
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)
    /// # }
    /// ```
    pub async fn send_file(
        &mut self,
        file: &std::fs::File,
        offset: u64,
        len: u64,
    ) -> io::Result<u64> {
        crate::net::send_file::send_file(&self.io, file, offset, len).await
    }

    /// Splits the stream into a read half and a write half that borrow it,
    /// to read and write concurrently from one task. With
    /// `futures_util::io::AsyncReadExt` in scope, write
    /// `UnixStream::split(&mut stream)`: that trait has a `split` of its
    /// own.
    ///
    /// # Examples
    ///
    /// See [`unix::ReadHalf`](super::ReadHalf).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into owned halves that can move to different
    /// tasks; `reunite` puts them back together. Dropping the
    /// [`OwnedWriteHalf`] shuts down the write side, as in tokio.
    ///
    /// # Examples
    ///
    /// See [`unix::OwnedReadHalf`](super::OwnedReadHalf).
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }

    /// Shuts down the write side for `poll_close`: closing twice, or after
    /// the peer went away, is not an error.
    fn shutdown_write(&self) -> io::Result<()> {
        match self.io.get_ref().shutdown(Shutdown::Write) {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(e),
            _ => Ok(()),
        }
    }
}

impl split::sealed::StreamIo for UnixStream {
    type Inner = std::os::unix::net::UnixStream;

    fn io(&self) -> &Async<std::os::unix::net::UnixStream> {
        &self.io
    }

    fn shutdown_write(&self) -> io::Result<()> {
        UnixStream::shutdown_write(self)
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixStream")
            .field(self.io.get_ref())
            .finish()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// As [`UnixStream::from_std`].
    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
}

crate::net::stream_impls::stream_io_impls!(UnixStream, &UnixStream);
