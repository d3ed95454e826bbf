//! [`TcpStream`]: a connected TCP socket, readable and writable through the
//! futures-io traits.

use super::ToSocketAddrs;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};
use std::time::Duration;

use ember_reactor::{Direction, Interest, Ready};
use socket2::SockRef;

use super::socket;
use super::tcp::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::async_fd::stream::is_final;
use crate::async_fd::Async;
use crate::split;

/// A TCP connection between a local and a remote socket.
///
/// Create one with [`TcpStream::connect`], or accept one from a
/// [`TcpListener`](super::TcpListener). Read and write it through the
/// futures-io [`AsyncRead`](futures_io::AsyncRead) and
/// [`AsyncWrite`](futures_io::AsyncWrite) traits (with
/// `futures_util::io::{AsyncReadExt, AsyncWriteExt}` for `read`, `write_all`,
/// ...), implemented for both `TcpStream` and `&TcpStream`, so one task can
/// read while another writes.
///
/// [`AsyncWrite::poll_close`](futures_io::AsyncWrite::poll_close) shuts down the write side, sending FIN to the
/// peer; the stream can still be read afterwards. Dropping the stream closes
/// the socket.
///
/// tokio's readiness API is here too: [`readable`](TcpStream::readable),
/// [`writable`](TcpStream::writable) and [`ready`](TcpStream::ready) wait
/// (any number of tasks at once), and [`try_read`](TcpStream::try_read),
/// [`try_write`](TcpStream::try_write), their vectored forms,
/// [`try_peek`](TcpStream::try_peek) and [`try_io`](TcpStream::try_io)
/// never wait. A `try_*` that reports `WouldBlock` (or reads or writes less
/// than asked, which on a stream socket means the kernel queue is drained)
/// clears the readiness, so a `readable().await` loop sleeps until new data
/// arrives instead of spinning.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::{TcpListener, TcpStream};
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut stream = TcpStream::connect(listener.local_addr()?).await?;
///     stream.write_all(b"hello").await?;
///     stream.close().await?; // FIN: the server reads to the end
///
///     let (mut server, _) = listener.accept().await?;
///     let mut received = Vec::new();
///     server.read_to_end(&mut received).await?;
///     assert_eq!(received, b"hello");
///     Ok(())
/// })
/// # }
/// ```
pub struct TcpStream {
    io: Async<std::net::TcpStream>,
}

impl TcpStream {
    /// Opens a TCP connection to `addr`.
    ///
    /// Each address `addr` resolves to is tried in turn with a non-blocking
    /// connect; the first connection established is returned.
    ///
    /// # Errors
    ///
    /// Returns the error of the last address tried if none could be
    /// connected (for example [`io::ErrorKind::ConnectionRefused`]), the
    /// resolution error, or [`io::ErrorKind::InvalidInput`] if `addr`
    /// resolves to no address at all.
    ///
    /// # Panics
    ///
    /// Panics when called outside an ember runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes its socket.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example() -> std::io::Result<()> {
    /// use ember_io::net::TcpStream;
    ///
    /// let stream = TcpStream::connect("localhost:8080").await?;
    /// println!("connected to {}", stream.peer_addr()?);
    /// # Ok(()) }
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        socket::each_addr(addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::from_nonblocking(socket::start_connect(addr)?)?;
        stream.connected().await?;
        Ok(stream)
    }

    /// Waits until the connect started by `start_connect` (or
    /// `TcpSocket::connect`) has finished, and reports how.
    pub(crate) async fn connected(&self) -> io::Result<()> {
        let registration = self.io.registration();
        loop {
            let event = registration.ready(Interest::WRITABLE).await?;
            // SO_ERROR holds the reason a connect failed (ECONNREFUSED, ...).
            if let Some(e) = self.io.get_ref().take_error()? {
                return Err(e);
            }
            match self.io.get_ref().peer_addr() {
                Ok(_) => return Ok(()),
                // Writable but not yet connected: a spurious wake-up. Wait
                // for the next event, unless the socket is already closed and
                // none will come.
                Err(e)
                    if e.kind() == io::ErrorKind::NotConnected
                        && !is_final(event, Direction::Write) =>
                {
                    registration.clear_readiness(event);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Wraps a connected standard-library stream, putting it in non-blocking
    /// mode and registering it with the current reactor.
    ///
    /// # Errors
    ///
    /// Returns the OS error if the socket cannot be made non-blocking or
    /// registered.
    ///
    /// # Panics
    ///
    /// Panics when called outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::TcpStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// block_on(async {
    ///     let stream = TcpStream::from_std(std_stream)?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Async::new_stream(stream)?,
        })
    }

    /// Registers a stream that is already non-blocking.
    pub(crate) fn from_nonblocking(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Async::new_stream_nonblocking(stream)?,
        })
    }

    /// Deregisters the stream and returns the standard-library stream. It
    /// stays in non-blocking mode; call `set_nonblocking(false)` on it to
    /// use blocking I/O.
    ///
    /// # Errors
    ///
    /// Returns the OS error if deregistration fails.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_inner()
    }

    /// The local address of this end of the connection.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the remote peer.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `getpeername`, for example
    /// [`io::ErrorKind::NotConnected`] after the connection was reset.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Whether `TCP_NODELAY` is set (Nagle's algorithm disabled).
    ///
    /// # Errors
    ///
    /// Returns the OS error from `getsockopt`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `TCP_NODELAY`: with `true`, small writes are sent at once
    /// instead of being coalesced by Nagle's algorithm.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_nodelay(true)?;
    ///     assert!(stream.nodelay()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// The IP time-to-live of packets sent from this socket.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `getsockopt`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets the IP time-to-live of packets sent from this socket.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `setsockopt`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The `SO_LINGER` setting: how long closing the socket waits to send
    /// unsent data.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `getsockopt`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.io.get_ref()).linger()
    }

    /// Sets `SO_LINGER`, refusing the setting that would block the event
    /// loop: `None` (the default: closing returns at once and the kernel
    /// sends what is still queued in the background) and
    /// `Some(Duration::ZERO)` (closing aborts the connection with a reset,
    /// as [`set_zero_linger`](TcpStream::set_zero_linger)) are accepted.
    ///
    /// A non-zero linger is refused with [`io::ErrorKind::InvalidInput`]:
    /// with it, `close(2)` (dropping the stream) *blocks the calling thread*
    /// until the queued data is acknowledged or the time runs out, even on a
    /// non-blocking socket, and that thread is the one running every other
    /// task of the runtime. tokio deprecated its `set_linger` for this. To
    /// wait until the peer has everything, shut down the write side
    /// (`close` from `AsyncWriteExt`, or
    /// [`shutdown`](TcpStream::shutdown)) and read until the peer closes,
    /// under a timeout.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] for a non-zero linger; the OS error
    /// from `setsockopt` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     let refused = stream.set_linger(Some(Duration::from_secs(5)));
    ///     assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    ///     stream.set_linger(Some(Duration::ZERO))?; // an RST on close
    ///     assert_eq!(stream.linger()?, Some(Duration::ZERO));
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        socket::set_linger(SockRef::from(self.io.get_ref()), linger)
    }

    /// Makes closing the stream abort the connection: `SO_LINGER` with a
    /// zero timeout, so dropping the stream sends a reset (RST) at once and
    /// discards any data still queued, instead of a FIN. The peer's next
    /// read or write fails with [`io::ErrorKind::ConnectionReset`]. Also
    /// useful to leave no `TIME_WAIT` behind.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use futures_util::io::AsyncReadExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     server.set_zero_linger()?;
    ///     drop(server); // RST
    ///     let err = client.read(&mut [0; 8]).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_zero_linger(&self) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(Some(Duration::ZERO))
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `getsockopt` (not the pending error, which
    /// is the `Ok` value).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(stream.take_error()?.is_none());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Sends `len` bytes of `file`, starting at byte `offset`, and returns
    /// the bytes sent: `len`, or fewer only if the file ends first. The
    /// file's own offset is neither used nor moved.
    ///
    /// On Linux and Android this is `sendfile(2)`: the bytes go from the
    /// page cache to the socket without a copy through user space, which
    /// roughly halves the CPU a server spends on large static payloads (see
    /// the `sendfile` benchmark). Between partial sends it waits for the
    /// socket to become writable; each wait spends one unit of the task's
    /// cooperative budget, so a large file does not starve the other tasks.
    /// Elsewhere, or for a file `sendfile` refuses (a pipe, some special
    /// files), it reads and writes through a 64 KiB buffer instead.
    ///
    /// The file is read on the calling thread (by the kernel, or by `pread`
    /// in the fallback): a file in the page cache costs a memory copy at
    /// most, but a file on a slow disk costs disk latency on the event
    /// loop.
    ///
    /// # Errors
    ///
    /// The OS error of the socket (for example
    /// [`io::ErrorKind::BrokenPipe`] when the peer closed) or of the file;
    /// [`io::ErrorKind::InvalidInput`] if `offset + len` overflows `u64`.
    /// Bytes already sent when an error occurs are not reported.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped before it completes, a
    /// prefix of the range (of unknown length) has been sent, and never
    /// anything after a gap. Only closing the stream is sensible then.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let path = std::env::temp_dir().join(format!("ember-send-file-doc-{}", std::process::id()));
    /// std::fs::write(&path, b"HTTP/1.1 200 OK\r\n\r\nhello")?;
    /// let file = std::fs::File::open(&path)?;
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///
    ///     // The body only: 5 bytes from offset 19 (asking for more stops at the end).
    ///     assert_eq!(server.send_file(&file, 19, 100).await?, 5);
    ///     server.close().await?;
    ///     let mut body = String::new();
    ///     client.read_to_string(&mut body).await?;
    ///     assert_eq!(body, "hello");
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
        super::send_file::send_file(&self.io, file, offset, len).await
    }

    /// Shuts down the read side, the write side, or both, at once and
    /// without waiting (as [`std::net::TcpStream::shutdown`]).
    ///
    /// # Errors
    ///
    /// Returns the OS error, for example [`io::ErrorKind::NotConnected`]
    /// when the connection has been reset.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Waits until the stream is readable: data, end of stream or an error
    /// is waiting. Any number of tasks may wait at once; each is woken by
    /// the next event.
    ///
    /// Readiness is a hint: the read that follows may still report
    /// `WouldBlock` (use [`try_read`](TcpStream::try_read), which then
    /// clears it, and wait again).
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use futures_util::io::AsyncWriteExt;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"hello").await?;
    ///
    ///     let mut buf = [0; 16];
    ///     let n = loop {
    ///         server.readable().await?;
    ///         match server.try_read(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], &b"hello"[..n]);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.stream_ready(Interest::READABLE).await?;
        Ok(())
    }

    /// Waits until the stream is writable: there is room in the send buffer,
    /// or the write side is closed or in error. Any number of tasks may
    /// wait at once.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let n = loop {
    ///         client.writable().await?;
    ///         match client.try_write(b"hello") {
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
    /// the readiness seen (tokio's `ready`). Any number of tasks may wait
    /// at once.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use ember_io::Interest;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let ready = client.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     // Nothing was sent to the client, but it can send.
    ///     assert!(ready.is_writable() && !ready.is_readable());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.stream_ready(interest).await
    }

    /// Polls for read readiness. When `Pending` is returned, `cx`'s waker
    /// is stored in the read direction's single slot: only the task that
    /// polled last is woken (as tokio's `poll_read_ready`). Tasks sharing
    /// the stream should await [`readable`](TcpStream::readable) instead.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use futures_util::io::AsyncWriteExt;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"x").await?;
    ///     poll_fn(|cx| server.poll_read_ready(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_stream_ready(cx, Direction::Read)
    }

    /// Polls for write readiness, with the one-slot contract of
    /// [`poll_read_ready`](TcpStream::poll_read_ready).
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     poll_fn(|cx| client.poll_write_ready(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_stream_ready(cx, Direction::Write)
    }

    /// Reads what is available now into `buf`, without waiting.
    ///
    /// Returns `WouldBlock` at once, without a system call, when the stream
    /// is not marked readable, and clears that mark when the read itself
    /// reports `WouldBlock` or comes back short (the receive queue is
    /// drained), so the next [`readable`](TcpStream::readable) waits for new
    /// data. `Ok(0)` means end of stream, or an empty `buf`.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] when no data is available; the OS
    /// error otherwise, for example [`io::ErrorKind::ConnectionReset`].
    ///
    /// # Examples
    ///
    /// See [`readable`](TcpStream::readable).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_read_stream(buf)
    }

    /// Reads what is available now into several buffers with one `readv`,
    /// without waiting; otherwise as [`try_read`](TcpStream::try_read).
    ///
    /// # Errors
    ///
    /// As [`try_read`](TcpStream::try_read).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use futures_util::io::AsyncWriteExt;
    /// use std::io::{ErrorKind, IoSliceMut};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"head+body").await?;
    ///
    ///     let (mut head, mut body) = ([0; 5], [0; 4]);
    ///     let n = loop {
    ///         server.readable().await?;
    ///         let mut bufs = [IoSliceMut::new(&mut head), IoSliceMut::new(&mut body)];
    ///         match server.try_read_vectored(&mut bufs) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert!(n > 0);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.try_read_vectored_stream(bufs)
    }

    /// Writes what fits now from `buf`, without waiting.
    ///
    /// Returns `WouldBlock` at once, without a system call, when the stream
    /// is not marked writable, and clears that mark when the write itself
    /// reports `WouldBlock` or comes back short (the send buffer is full),
    /// so the next [`writable`](TcpStream::writable) waits for room.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] when the send buffer is full; the OS
    /// error otherwise, for example [`io::ErrorKind::BrokenPipe`].
    ///
    /// # Examples
    ///
    /// See [`writable`](TcpStream::writable).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_write_stream(buf)
    }

    /// Writes several buffers with one `writev`, without waiting; otherwise
    /// as [`try_write`](TcpStream::try_write).
    ///
    /// # Errors
    ///
    /// As [`try_write`](TcpStream::try_write).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use std::io::{ErrorKind, IoSlice};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let bufs = [IoSlice::new(b"head"), IoSlice::new(b"+body")];
    ///     let n = loop {
    ///         client.writable().await?;
    ///         match client.try_write_vectored(&bufs) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(n, 9); // one writev, both buffers
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_write_vectored_stream(bufs)
    }

    /// Runs `op`, a non-blocking operation of the caller's own on this
    /// socket (through [`AsFd`] or `socket2::SockRef`), if the stream is
    /// marked ready for `interest` (tokio's `try_io`).
    ///
    /// Returns `WouldBlock` at once, without calling `op`, when it is not;
    /// clears the readiness when `op` reports `WouldBlock`, so the next wait
    /// sleeps until a new event. `op` must not block.
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
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use ember_io::Interest;
    /// use futures_util::io::AsyncWriteExt;
    /// use std::io::{ErrorKind, Read};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"raw").await?;
    ///
    ///     let mut buf = [0u8; 8];
    ///     let n = loop {
    ///         server.readable().await?;
    ///         // The caller's own system call: here a plain read through socket2.
    ///         let read = || (&*socket2::SockRef::from(&server)).read(&mut buf);
    ///         match server.try_io(Interest::READABLE, read) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], &b"raw"[..n]);
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

    /// Receives data without removing it from the socket's receive queue:
    /// the next read returns it again. Waits until data arrives; any number
    /// of tasks may wait at once.
    ///
    /// Returns `Ok(0)` at end of stream or if `buf` is empty.
    ///
    /// # Errors
    ///
    /// Returns the OS error, for example [`io::ErrorKind::ConnectionReset`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed until the future completes.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(b"abc").await?;
    ///
    ///     let mut buf = [0; 3];
    ///     let n = server.peek(&mut buf).await?;
    ///     assert_eq!(&buf[..n], &b"abc"[..n]);
    ///     server.read_exact(&mut buf).await?; // the data is still there
    ///     assert_eq!(&buf, b"abc");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        split::peek(self, buf).await
    }

    /// Polls for data to peek at; see [`peek`](TcpStream::peek).
    ///
    /// When `Pending` is returned, `cx`'s waker is stored in the read
    /// direction's single slot: only the task that polled last is woken.
    ///
    /// # Errors
    ///
    /// Returns the OS error, for example [`io::ErrorKind::ConnectionReset`].
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use futures_util::io::AsyncWriteExt;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"x").await?;
    ///     let mut buf = [0; 1];
    ///     assert_eq!(poll_fn(|cx| server.poll_peek(cx, &mut buf)).await?, 1);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        split::poll_peek(self, cx, buf)
    }

    /// Peeks at what is available now, without waiting and without
    /// consuming it. `WouldBlock` (at once when the stream is not marked
    /// readable) clears the readiness; a short peek does not, since the data
    /// stays queued.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] when no data is available; the OS
    /// error otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use futures_util::io::AsyncWriteExt;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"x").await?;
    ///     let mut buf = [0; 4];
    ///     let n = loop {
    ///         server.readable().await?;
    ///         match server.try_peek(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"x");
    ///     assert_eq!(server.try_read(&mut buf)?, 1); // still there
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        split::try_peek(self, buf)
    }

    /// Always `true`: the `poll_write_vectored` of the stream and of its
    /// halves issues one `writev` for all the buffers, so buffered writers
    /// and HTTP libraries can hand over several buffers at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(client.is_write_vectored());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn is_write_vectored(&self) -> bool {
        true
    }

    /// Splits the stream into a read half and a write half that borrow it,
    /// to read and write concurrently from one task (for example with
    /// `futures::join!`). Cheaper than
    /// [`into_split`](TcpStream::into_split): no `Arc`.
    ///
    /// With `futures_util::io::AsyncReadExt` in scope, `stream.split()`
    /// resolves to that trait's by-value `split` (which works, through a
    /// lock); write `TcpStream::split(&mut stream)` to get these halves.
    ///
    /// # Examples
    ///
    /// See [`tcp::ReadHalf`](super::tcp::ReadHalf).
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into owned read and write halves that can move to
    /// different tasks. `reunite` puts them back
    /// together.
    ///
    /// Dropping the [`OwnedWriteHalf`] shuts down the write side, as in
    /// tokio.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (read, write) = stream.into_split();
    ///     let stream = read.reunite(write).expect("halves of the same stream");
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }

    /// Shuts down the write side for `poll_close`. Closing twice is fine,
    /// and so is closing a connection the peer has already reset: there is
    /// nothing left to shut down.
    fn shutdown_write(&self) -> io::Result<()> {
        match self.io.get_ref().shutdown(Shutdown::Write) {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(e),
            _ => Ok(()),
        }
    }
}

impl split::sealed::StreamIo for TcpStream {
    type Inner = std::net::TcpStream;

    fn io(&self) -> &Async<std::net::TcpStream> {
        &self.io
    }

    fn shutdown_write(&self) -> io::Result<()> {
        TcpStream::shutdown_write(self)
    }
}

impl split::sealed::PeekIo for TcpStream {
    fn peek_once(inner: &std::net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        inner.peek(buf)
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpStream").field(self.io.get_ref()).finish()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// As [`TcpStream::from_std`].
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}

super::stream_impls::stream_io_impls!(TcpStream, &TcpStream);
