//! Read and write halves of any ember stream, written once.
//!
//! [`ReadHalf`] and [`WriteHalf`] hold either a borrow of the stream (from
//! its `split`) or an `Arc` of it (from its `into_split`), and run their I/O
//! through the stream's one I/O loop, so a new stream type gets its halves
//! for free. Each stream type names them with tokio's names in its own
//! module, and adds its addresses and a `ReuniteError` of its own: for TCP,
//! [`net::tcp::{ReadHalf, WriteHalf, OwnedReadHalf, OwnedWriteHalf,
//! ReuniteError}`](crate::net::tcp). Use those names; this module is where
//! their methods are documented.
//!
//! Reading and writing wake independently; the `async fn`s (`readable`,
//! `writable`, `ready`, `peek`) admit any number of waiting tasks, the
//! futures-io `poll_*` methods keep one waker slot per direction.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ember_reactor::{Direction, Interest, Ready};
use futures_io::{AsyncRead, AsyncWrite};

use crate::async_fd::stream::RefIo;
use crate::async_fd::Async;

/// An ember byte stream that can be split into a [`ReadHalf`] and a
/// [`WriteHalf`]: [`TcpStream`](crate::net::TcpStream) (and later ember's
/// other streams). Sealed: only this crate implements it.
///
/// # Examples
///
/// Code generic over ember's streams:
///
/// ```
/// use ember_io::split::{ReadHalf, Stream};
/// use std::ops::Deref;
///
/// /// Whatever is queued now, without waiting.
/// fn drain<P: Deref<Target: Stream>>(read: &ReadHalf<P>, out: &mut Vec<u8>) -> std::io::Result<()> {
///     let mut buf = [0; 4096];
///     loop {
///         match read.try_read(&mut buf) {
///             Ok(0) => return Ok(()),
///             Ok(n) => out.extend_from_slice(&buf[..n]),
///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
///             Err(e) => return Err(e),
///         }
///     }
/// }
/// ```
pub trait Stream: sealed::StreamIo {}

impl<S: sealed::StreamIo> Stream for S {}

/// A [`Stream`] whose read half can [`peek`](ReadHalf::peek) (`MSG_PEEK`).
/// Sealed.
///
/// # Examples
///
/// ```
/// fn can_peek<S: ember_io::split::Peek>() {}
/// can_peek::<ember_io::net::TcpStream>();
/// ```
pub trait Peek: Stream + sealed::PeekIo {}

impl<S: sealed::PeekIo> Peek for S {}

pub(crate) mod sealed {
    use super::*;

    /// What the halves need from a stream.
    #[allow(unreachable_pub)] // Reachable as a supertrait, by design unnameable.
    pub trait StreamIo: Sized {
        /// The registered handle, for example `std::net::TcpStream`.
        type Inner: RefIo;
        /// The stream's registered handle.
        fn io(&self) -> &Async<Self::Inner>;
        /// Shuts down the write side: `poll_close` of a write half, and
        /// dropping an owned one. Closing twice, or after the peer reset
        /// the connection, is not an error.
        fn shutdown_write(&self) -> io::Result<()>;
    }

    /// What peeking needs from a stream.
    #[allow(unreachable_pub)] // Reachable as a supertrait, by design unnameable.
    pub trait PeekIo: StreamIo {
        /// One non-blocking peek (`recv` with `MSG_PEEK`).
        fn peek_once(inner: &Self::Inner, buf: &mut [u8]) -> io::Result<usize>;
    }
}

use sealed::StreamIo;

/// The read half of a stream: `P` is `&S` (from `split`) or `Arc<S>` (from
/// `into_split`, then called `OwnedReadHalf`).
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
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     let (mut read, _write) = client.into_split();
///     server.write_all(b"data").await?;
///
///     let mut buf = [0; 8];
///     let n = read.peek(&mut buf).await?; // waits, consumes nothing
///     assert_eq!(&buf[..n], &b"data"[..n]);
///     let n = loop {
///         read.readable().await?;
///         match read.try_read(&mut buf) {
///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
///             result => break result?,
///         }
///     };
///     assert_eq!(&buf[..n], &b"data"[..n]);
///     Ok(())
/// })
/// # }
/// ```
pub struct ReadHalf<P> {
    stream: P,
}

/// The write half of a stream: `P` is `&S` (from `split`) or `Arc<S>` (from
/// `into_split`, then called `OwnedWriteHalf`).
///
/// [`AsyncWrite::poll_close`] shuts down the write side of the stream; so
/// does dropping an owned write half, unless it is given back with
/// `reunite` or dropped with `forget`.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::{TcpListener, TcpStream};
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
/// use std::io::IoSlice;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     let (_read, mut write) = TcpStream::split(&mut client);
///
///     assert!(write.is_write_vectored());
///     write.write_vectored(&[IoSlice::new(b"head "), IoSlice::new(b"body")]).await?;
///     write.writable().await?;
///     write.try_write(b"!")?;
///     write.close().await?; // shuts down the write side
///
///     let mut got = String::new();
///     server.read_to_string(&mut got).await?;
///     assert_eq!(got, "head body!");
///     Ok(())
/// })
/// # }
/// ```
pub struct WriteHalf<P: Deref<Target: Stream>> {
    stream: P,
    /// Set for owned halves only; cleared by `reunite` and `forget`.
    shutdown_on_drop: bool,
}

/// Borrowed halves of `stream`.
pub(crate) fn split<S: Stream>(stream: &S) -> (ReadHalf<&S>, WriteHalf<&S>) {
    let write = WriteHalf {
        stream,
        shutdown_on_drop: false,
    };
    (ReadHalf { stream }, write)
}

/// Owned halves of `stream`.
pub(crate) fn into_split<S: Stream>(stream: S) -> (ReadHalf<Arc<S>>, WriteHalf<Arc<S>>) {
    let stream = Arc::new(stream);
    let read = ReadHalf {
        stream: Arc::clone(&stream),
    };
    let write = WriteHalf {
        stream,
        shutdown_on_drop: true,
    };
    (read, write)
}

/// The two owned halves of one stream, or both back if they belong to
/// different streams (the stream's own `reunite` wraps them in its
/// `ReuniteError`).
pub(crate) type Halves<S> = (ReadHalf<Arc<S>>, WriteHalf<Arc<S>>);

/// Puts a stream back together from its owned halves.
pub(crate) fn reunite<S: Stream>(
    read: ReadHalf<Arc<S>>,
    mut write: WriteHalf<Arc<S>>,
) -> Result<S, Halves<S>> {
    if !Arc::ptr_eq(&read.stream, &write.stream) {
        return Err((read, write));
    }
    write.shutdown_on_drop = false;
    drop(write);
    // The two halves held the only references to the stream.
    match Arc::try_unwrap(read.stream) {
        Ok(stream) => Ok(stream),
        Err(_) => unreachable!("a stream split in two is only shared by its halves"),
    }
}

impl<P: Deref<Target: Stream>> ReadHalf<P> {
    /// Waits until the stream is readable; any number of tasks may wait.
    /// See `TcpStream::readable`.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn readable(&self) -> io::Result<()> {
        self.stream.io().stream_ready(Interest::READABLE).await?;
        Ok(())
    }

    /// Waits until the stream is ready for any of `interest` and returns the
    /// readiness seen. See `TcpStream::ready`.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.stream.io().stream_ready(interest).await
    }

    /// Reads what is available now without waiting; `WouldBlock` clears the
    /// readiness. See `TcpStream::try_read`.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if nothing is available, or the OS error.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.io().try_read_stream(buf)
    }

    /// Reads into several buffers with one `readv`, without waiting. See
    /// `TcpStream::try_read_vectored`.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if nothing is available, or the OS error.
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.stream.io().try_read_vectored_stream(bufs)
    }
}

impl<P: Deref<Target: Peek>> ReadHalf<P> {
    /// Receives data without consuming it, waiting until some arrives. See
    /// `TcpStream::peek`.
    ///
    /// # Errors
    ///
    /// The OS error, for example [`io::ErrorKind::ConnectionReset`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    pub async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        peek(&*self.stream, buf).await
    }

    /// Polls for data to peek at. Only the task that polled last is woken.
    /// See `TcpStream::poll_peek`.
    ///
    /// # Errors
    ///
    /// The OS error, for example [`io::ErrorKind::ConnectionReset`].
    pub fn poll_peek(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_peek(&*self.stream, cx, buf)
    }

    /// Peeks at what is available now without waiting. See
    /// `TcpStream::try_peek`.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if nothing is available, or the OS error.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        try_peek(&*self.stream, buf)
    }
}

impl<P: Deref<Target: Stream>> WriteHalf<P> {
    /// Waits until the stream is writable; any number of tasks may wait.
    /// See `TcpStream::writable`.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn writable(&self) -> io::Result<()> {
        self.stream.io().stream_ready(Interest::WRITABLE).await?;
        Ok(())
    }

    /// Waits until the stream is ready for any of `interest` and returns the
    /// readiness seen. See `TcpStream::ready`.
    ///
    /// # Errors
    ///
    /// Returns an error if the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.stream.io().stream_ready(interest).await
    }

    /// Writes what fits now without waiting; `WouldBlock` clears the
    /// readiness. See `TcpStream::try_write`.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if the send buffer is full, or the OS error.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.stream.io().try_write_stream(buf)
    }

    /// Writes several buffers with one `writev`, without waiting. See
    /// `TcpStream::try_write_vectored`.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if the send buffer is full, or the OS error.
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.stream.io().try_write_vectored_stream(bufs)
    }

    /// Always `true`: `poll_write_vectored` issues one `writev`.
    pub fn is_write_vectored(&self) -> bool {
        true
    }
}

impl<S: Stream> WriteHalf<Arc<S>> {
    /// Drops the write half without shutting down the write side.
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
    ///     let (read, write) = client.into_split();
    ///     write.forget(); // no FIN: the peer does not see end of stream
    ///     assert!(read.peer_addr().is_ok());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }
}

impl<P: Deref<Target: Stream>> Drop for WriteHalf<P> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // Nothing to report to: a reset connection has no write side left.
            let _ = self.stream.shutdown_write();
        }
    }
}

impl<P: Deref> AsRef<P::Target> for ReadHalf<P> {
    fn as_ref(&self) -> &P::Target {
        &self.stream
    }
}

impl<P: Deref<Target: Stream>> AsRef<P::Target> for WriteHalf<P> {
    fn as_ref(&self) -> &P::Target {
        &self.stream
    }
}

impl<P: Deref<Target: fmt::Debug>> fmt::Debug for ReadHalf<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(&&*self.stream).finish()
    }
}

impl<P: Deref<Target: Stream + fmt::Debug>> fmt::Debug for WriteHalf<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(&&*self.stream).finish()
    }
}

impl<P: Deref<Target: Stream> + Unpin> AsyncRead for ReadHalf<P> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.io().poll_read_stream(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.io().poll_read_vectored_stream(cx, bufs)
    }
}

impl<P: Deref<Target: Stream> + Unpin> AsyncWrite for WriteHalf<P> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.io().poll_write_stream(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.io().poll_write_vectored_stream(cx, bufs)
    }

    /// A no-op: sockets have no user-space buffer to flush.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the write side of the stream.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.shutdown_write())
    }
}

/// Waits for data and peeks at it, as one of any number of waiters.
pub(crate) async fn peek<S: Peek>(stream: &S, buf: &mut [u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let io = stream.io();
    let inner = io.get_ref();
    io.registration()
        .async_io(Direction::Read, || S::peek_once(inner, buf))
        .await
}

/// Polls for data to peek at (one waker slot).
pub(crate) fn poll_peek<S: Peek>(
    stream: &S,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    let io = stream.io();
    let inner = io.get_ref();
    io.registration()
        .poll_io(cx, Direction::Read, || S::peek_once(inner, buf))
}

/// Peeks without waiting. A peek never clears readiness on a short count:
/// the data stays queued, and no new event would announce it.
pub(crate) fn try_peek<S: Peek>(stream: &S, buf: &mut [u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let io = stream.io();
    let inner = io.get_ref();
    io.registration()
        .try_io(Direction::Read, || S::peek_once(inner, buf))
}

/// The socket-specific rest of a stream's halves: `peer_addr`/`local_addr`
/// with the socket's address type, and `reunite` with the stream's own
/// `ReuniteError` (a tuple struct, so that `ReuniteError(read, write)`
/// patterns work as in tokio). Invoked once per socket type, in the module
/// that names its halves; inherent impls on the concrete half types, since
/// two generic ones would collide.
macro_rules! socket_halves {
    ($stream:ident, $addr:ty, $reunite_error:ident) => {
        $crate::split::socket_halves!(@addrs $crate::split::ReadHalf<&$stream>, $stream, $addr);
        $crate::split::socket_halves!(@addrs $crate::split::WriteHalf<&$stream>, $stream, $addr);
        $crate::split::socket_halves!(
            @addrs $crate::split::ReadHalf<::std::sync::Arc<$stream>>, $stream, $addr
        );
        $crate::split::socket_halves!(
            @addrs $crate::split::WriteHalf<::std::sync::Arc<$stream>>, $stream, $addr
        );

        impl $crate::split::ReadHalf<::std::sync::Arc<$stream>> {
            #[doc = concat!("Puts the [`", stringify!($stream), "`] back together from its two halves.")]
            ///
            /// # Errors
            ///
            #[doc = concat!("Returns both halves in a [`", stringify!($reunite_error), "`] if they came from different streams.")]
            pub fn reunite(
                self,
                other: $crate::split::WriteHalf<::std::sync::Arc<$stream>>,
            ) -> ::std::result::Result<$stream, $reunite_error> {
                $crate::split::reunite(self, other).map_err(|(read, write)| $reunite_error(read, write))
            }
        }

        impl $crate::split::WriteHalf<::std::sync::Arc<$stream>> {
            #[doc = concat!("Puts the [`", stringify!($stream), "`] back together from its two halves.")]
            ///
            /// # Errors
            ///
            #[doc = concat!("Returns both halves in a [`", stringify!($reunite_error), "`] if they came from different streams.")]
            pub fn reunite(
                self,
                other: $crate::split::ReadHalf<::std::sync::Arc<$stream>>,
            ) -> ::std::result::Result<$stream, $reunite_error> {
                $crate::split::reunite(other, self).map_err(|(read, write)| $reunite_error(read, write))
            }
        }
    };
    (@addrs $half:ty, $stream:ident, $addr:ty) => {
        impl $half {
            /// The address of the remote peer.
            ///
            /// # Errors
            ///
            /// The OS error from `getpeername`, for example
            /// [`NotConnected`](::std::io::ErrorKind::NotConnected) after a reset.
            pub fn peer_addr(&self) -> ::std::io::Result<$addr> {
                <$stream>::peer_addr(::std::convert::AsRef::<$stream>::as_ref(self))
            }

            /// The local address of the stream.
            ///
            /// # Errors
            ///
            /// The OS error from `getsockname`.
            pub fn local_addr(&self) -> ::std::io::Result<$addr> {
                <$stream>::local_addr(::std::convert::AsRef::<$stream>::as_ref(self))
            }
        }
    };
}

pub(crate) use socket_halves;
