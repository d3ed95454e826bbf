//! [`TcpListener`]: a socket listening for TCP connections, and its
//! [`Incoming`] stream.

use super::ToSocketAddrs;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use super::accept::Acceptor;
use super::socket;
use super::TcpStream;
use crate::async_fd::Async;

/// A TCP socket server, listening for connections.
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
///     let (server, peer) = listener.accept().await?;
///     assert_eq!(peer, client.local_addr()?);
///     assert_eq!(server.peer_addr()?, peer);
///     Ok(())
/// })
/// # }
/// ```
pub struct TcpListener {
    io: Async<std::net::TcpListener>,
    /// The spare descriptor and burst state for running out of descriptors.
    acceptor: Acceptor,
}

impl TcpListener {
    /// Creates a listener bound to `addr`.
    ///
    /// Each address `addr` resolves to is tried in turn; the first that
    /// binds is used. Port 0 asks the OS for a free port: read it back with
    /// [`local_addr`](TcpListener::local_addr). The socket has `SO_REUSEADDR`
    /// set (as with std) and a backlog of 1024.
    ///
    /// # Errors
    ///
    /// Returns the error of the last address tried (for example
    /// [`io::ErrorKind::AddrInUse`]), the resolution error, or
    /// [`io::ErrorKind::InvalidInput`] if `addr` resolves to no address.
    ///
    /// # Panics
    ///
    /// Panics when called outside an ember runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        socket::each_addr(addr, |addr| async move {
            TcpListener::from_nonblocking(socket::listen(addr)?)
        })
        .await
    }

    /// Wraps a standard-library listener (already bound and listening),
    /// putting it in non-blocking mode and registering it with the current
    /// reactor.
    ///
    /// # Errors
    ///
    /// Returns the OS error if the socket cannot be made non-blocking or
    /// registered.
    ///
    /// # Panics
    ///
    /// Panics when called outside an ember runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Async::new(listener)?,
            acceptor: Acceptor::new(),
        })
    }

    /// Registers a listener that is already non-blocking.
    pub(crate) fn from_nonblocking(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Async::new_nonblocking(listener)?,
            acceptor: Acceptor::new(),
        })
    }

    /// Deregisters the listener and returns the standard-library listener,
    /// still in non-blocking mode.
    ///
    /// # Errors
    ///
    /// Returns the OS error if deregistration fails.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.io.into_inner()
    }

    /// Waits for a new connection and returns it with the peer's address.
    /// The new stream is registered with the current reactor.
    ///
    /// Any number of tasks may accept on one listener at once (for example
    /// through an `Arc<TcpListener>`): each waiting task is woken when
    /// connections arrive, and each connection goes to exactly one of them.
    ///
    /// # Out of file descriptors
    ///
    /// When `accept(2)` fails with `EMFILE` or `ENFILE`, a runtime that
    /// just returns the error leaves the connection queued and the listener
    /// readable, and the usual `loop { match listener.accept().await { .. } }`
    /// spins at 100% CPU until a descriptor frees up. ember does this
    /// instead (libuv's trick):
    ///
    /// 1. Every listener keeps one spare descriptor (`/dev/null`) reserved
    ///    from its creation. Out of descriptors, it closes the spare, accepts
    ///    and immediately closes every connection waiting in the queue (each
    ///    client sees a clean close instead of hanging in the backlog), and
    ///    reserves the spare again.
    /// 2. The error is returned **once per burst**: a burst starts with the
    ///    first such error after a connection was accepted (or after the
    ///    listener was created) and ends with the next accepted connection.
    ///    Within a burst, `accept` does not return the error again.
    /// 3. During a burst, `accept` backs off: it waits for the next
    ///    connection to arrive *or* 100 ms, whichever comes first, and tries
    ///    again (shedding the queue again if still out of descriptors). It
    ///    never retries hot, so a server out of descriptors uses next to no
    ///    CPU, and it serves again as soon as descriptors are freed.
    ///
    /// `ENOBUFS` and `ENOMEM` (the kernel is out of memory for sockets) are
    /// reported and backed off from in the same way, without shedding.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `accept`, for example `EMFILE` as above.
    /// Connections aborted by the peer while they were queued are skipped
    /// silently.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a connection is only taken from the queue when the
    /// future completes (or to be shed, as above).
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
    ///     let (_server, peer) = listener.accept().await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let listener = self.io.get_ref();
        let (stream, addr) = self
            .acceptor
            .accept(self.io.registration(), || socket::accept(listener))
            .await?;
        Ok((TcpStream::from_nonblocking(stream)?, addr))
    }

    /// Polls for a new connection; see [`accept`](TcpListener::accept).
    ///
    /// When `Pending` is returned, `cx`'s waker is stored in the listener's
    /// single read slot: only the task that polled last is woken (as with
    /// tokio's `poll_accept`). Tasks that share a listener should await
    /// [`accept`](TcpListener::accept) instead.
    ///
    /// Running out of descriptors is handled as in `accept` (the back-off
    /// timer also has one waker slot).
    ///
    /// # Errors
    ///
    /// As [`accept`](TcpListener::accept).
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
    ///     let _client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_server, _peer) = poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let listener = self.io.get_ref();
        let (stream, addr) = ready!(self
            .acceptor
            .poll_accept(self.io.registration(), cx, || socket::accept(listener)))?;
        Poll::Ready(TcpStream::from_nonblocking(stream).map(|stream| (stream, addr)))
    }

    /// A stream of incoming connections: [`poll_accept`](TcpListener::poll_accept)
    /// in a loop, without the peer addresses. It never ends; errors are
    /// yielded as items. It has `poll_accept`'s one-slot contract: give each
    /// task that accepts on a shared listener its own `accept()` instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpStream};
    /// use futures_util::StreamExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let _client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let mut incoming = listener.incoming();
    ///     if let Some(stream) = incoming.next().await {
    ///         println!("connection from {}", stream?.peer_addr()?);
    ///     }
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// Returns the OS error from `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
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
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpListener")
            .field(self.io.get_ref())
            .finish()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// As [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

/// The stream of connections returned by [`TcpListener::incoming`].
///
/// Yields `io::Result<TcpStream>` and never ends.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let accepted = ready!(self.listener.poll_accept(cx));
        Poll::Ready(Some(accepted.map(|(stream, _addr)| stream)))
    }
}
