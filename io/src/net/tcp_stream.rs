//! [`TcpStream`]: a connected TCP socket, readable and writable through the
//! futures-io traits.

use super::ToSocketAddrs;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use ember_reactor::{Direction, ReadyEvent};
use futures_io::{AsyncRead, AsyncWrite};
use socket2::SockRef;

use super::socket;
use super::split::{self, ReadHalf, WriteHalf};
use super::split_owned::{OwnedReadHalf, OwnedWriteHalf};
use crate::async_fd::{all_empty, Async};

/// A TCP connection between a local and a remote socket.
///
/// Create one with [`TcpStream::connect`], or accept one from a
/// [`TcpListener`](super::TcpListener). Read and write it through the
/// futures-io [`AsyncRead`] and [`AsyncWrite`] traits (with
/// `futures_util::io::{AsyncReadExt, AsyncWriteExt}` for `read`, `write_all`,
/// ...), implemented for both `TcpStream` and `&TcpStream`, so one task can
/// read while another writes.
///
/// [`AsyncWrite::poll_close`] shuts down the write side, sending FIN to the
/// peer; the stream can still be read afterwards. Dropping the stream closes
/// the socket.
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
        poll_fn(|cx| stream.poll_connected(cx)).await?;
        Ok(stream)
    }

    /// Waits until the connect started by `start_connect` has finished, and
    /// reports how.
    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let registration = self.io.registration();
        loop {
            let event = ready!(registration.poll_ready(cx, Direction::Write))?;
            // SO_ERROR holds the reason a connect failed (ECONNREFUSED, ...).
            if let Some(e) = self.io.get_ref().take_error()? {
                return Poll::Ready(Err(e));
            }
            match self.io.get_ref().peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                // Writable but not yet connected: a spurious wake-up. Wait
                // for the next event, unless the socket is already closed and
                // none will come.
                Err(e)
                    if e.kind() == io::ErrorKind::NotConnected
                        && !is_final(event, Direction::Write) =>
                {
                    registration.clear_readiness(event);
                }
                Err(e) => return Poll::Ready(Err(e)),
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
            io: Async::new(stream)?,
        })
    }

    /// Registers a stream that is already non-blocking.
    pub(crate) fn from_nonblocking(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Async::new_nonblocking(stream)?,
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

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes closing the socket
    /// abort the connection with a reset (RST) instead of a FIN.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `setsockopt`.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(linger)
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

    /// Receives data without removing it from the socket's receive queue:
    /// the next read returns it again. Waits until data arrives.
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
        poll_fn(|cx| self.poll_peek(cx, buf)).await
    }

    /// Polls for data to peek at; see [`peek`](TcpStream::peek).
    ///
    /// # Errors
    ///
    /// Returns the OS error, for example [`io::ErrorKind::ConnectionReset`].
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let stream = self.io.get_ref();
        self.io
            .registration()
            .poll_io(cx, Direction::Read, || stream.peek(buf))
    }

    /// Splits the stream into a read half and a write half that borrow it,
    /// to read and write concurrently from one task (for example with
    /// `futures::join!`). Cheaper than
    /// [`into_split`](TcpStream::into_split): no `Arc`.
    ///
    /// With `futures_util::io::AsyncReadExt` in scope, `stream.split()`
    /// resolves to that trait's by-value `split` (which works, through a
    /// lock); write `TcpStream::split(&mut stream)` to get these halves.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into owned read and write halves that can move to
    /// different tasks. [`OwnedReadHalf::reunite`] puts them back together.
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
        crate::net::split_owned::split_owned(Arc::new(self))
    }

    /// The read operation behind every `AsyncRead` impl of the stream and its
    /// halves.
    pub(crate) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let len = buf.len();
        self.poll_stream_io(cx, Direction::Read, len, |mut stream| stream.read(buf))
    }

    pub(crate) fn poll_read_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        if all_empty(bufs) {
            return Poll::Ready(Ok(0));
        }
        let len = total_len(bufs);
        self.poll_stream_io(cx, Direction::Read, len, |mut stream| {
            stream.read_vectored(bufs)
        })
    }

    pub(crate) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.poll_stream_io(cx, Direction::Write, buf.len(), |mut stream| {
            stream.write(buf)
        })
    }

    pub(crate) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if all_empty(bufs) {
            return Poll::Ready(Ok(0));
        }
        let len = total_len(bufs);
        self.poll_stream_io(cx, Direction::Write, len, |mut stream| {
            stream.write_vectored(bufs)
        })
    }

    /// Shuts down the write side for `poll_close`. Closing twice is fine,
    /// and so is closing a connection the peer has already reset: there is
    /// nothing left to shut down.
    pub(crate) fn poll_close_priv(&self) -> Poll<io::Result<()>> {
        match self.io.get_ref().shutdown(Shutdown::Write) {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(())),
        }
    }

    /// Waits for readiness in `dir` and runs `op`, retrying on `WouldBlock`.
    ///
    /// A short transfer (`0 < n < len`) also clears the readiness it ran
    /// under, which saves the system call that would only report
    /// `WouldBlock`: on a stream socket a short read means the receive queue
    /// was drained and a short write means the send buffer filled, and either
    /// way the kernel reports the next change as a new event (the tick check
    /// in `clear_readiness` keeps an event that arrived meanwhile). This is
    /// not done when the event reported the direction closed or in error:
    /// those states never produce another event, so they must stay.
    fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        mut op: impl FnMut(&std::net::TcpStream) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let registration = self.io.registration();
        loop {
            let event = ready!(registration.poll_ready(cx, dir))?;
            match op(self.io.get_ref()) {
                Ok(n) => {
                    if n > 0 && n < len && !is_final(event, dir) {
                        registration.clear_readiness(event);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    registration.clear_readiness(event);
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// Whether `event` reports a state that no later event will repeat: the
/// direction closed, or an error.
fn is_final(event: ReadyEvent, dir: Direction) -> bool {
    let ready = event.readiness();
    ready.is_error()
        || match dir {
            Direction::Read => ready.is_read_closed(),
            Direction::Write => ready.is_write_closed(),
        }
}

fn total_len(bufs: &[impl std::ops::Deref<Target = [u8]>]) -> usize {
    bufs.iter()
        .fold(0, |sum, buf| sum.saturating_add(buf.len()))
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

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_priv(cx, bufs)
    }
}

impl AsyncRead for &TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_priv(cx, bufs)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    /// A no-op: TCP sockets have no user-space buffer to flush.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the write side (idempotent).
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_close_priv()
    }
}

impl AsyncWrite for &TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    /// A no-op: TCP sockets have no user-space buffer to flush.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the write side.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_close_priv()
    }
}
