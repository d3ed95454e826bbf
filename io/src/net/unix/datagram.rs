//! [`UnixDatagram`]: datagrams over Unix-domain sockets.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{Context, Poll};

use ember_reactor::{Direction, Interest, Ready};

use super::{socket_addr, SocketAddr};
use crate::async_fd::Async;

/// A Unix-domain datagram socket: reliable and ordered on one machine, with
/// message boundaries kept.
///
/// [`bind`](UnixDatagram::bind) it to a path to receive from anyone,
/// create it [`unbound`](UnixDatagram::unbound) to only send (or receive
/// replies to an autobound name), or make a connected
/// [`pair`](UnixDatagram::pair). Every method takes `&self`; any number of
/// tasks may wait at once in the `async fn`s, the `poll_*` methods keep
/// one waker slot per direction.
///
/// A datagram larger than the receive buffer is truncated to
/// `buf.len()`, the rest of it discarded, and the next receive gets the
/// next datagram intact, as with [`UdpSocket`](crate::net::UdpSocket).
/// Unlike UDP, a sender to a full receiver waits instead of losing the
/// datagram.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::UnixDatagram;
///
/// # fn main() -> std::io::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("ember-dgram-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let (server_path, client_path) = (dir.join("server"), dir.join("client"));
/// block_on(async {
///     let server = UnixDatagram::bind(&server_path)?;
///     let client = UnixDatagram::bind(&client_path)?;
///     client.send_to(b"ping", &server_path).await?;
///
///     let mut buf = [0; 64];
///     let (n, from) = server.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     let reply_to = from.as_pathname().expect("the client is bound");
///     server.send_to(b"pong", reply_to).await?;
///
///     let n = client.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"pong");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # std::fs::remove_dir_all(&dir)
/// # }
/// ```
pub struct UnixDatagram {
    io: Async<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path` (an abstract name if its first byte is NUL,
    /// on Linux and Android). Synchronous, as in tokio.
    ///
    /// # Errors
    ///
    /// The OS error, for example [`io::ErrorKind::AddrInUse`] when the path
    /// exists.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram`].
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let addr = socket_addr(path.as_ref())?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::bind_addr(&addr)?)
    }

    /// A socket bound to no address: it can send with
    /// [`send_to`](UnixDatagram::send_to), or
    /// [`connect`](UnixDatagram::connect) and [`send`](UnixDatagram::send).
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
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(target_os = "linux")]
    /// block_on(async {
    ///     let name = format!("\0ember-unbound-doc-{}", std::process::id());
    ///     let server = UnixDatagram::bind(&name)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     client.connect(&name)?;
    ///     client.send(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(server.recv(&mut buf).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// A pair of connected, unnamed datagram sockets.
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
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"one").await?;
    ///     a.send(b"two").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv(&mut buf).await?, 3); // boundaries kept
    ///     assert_eq!(&buf[..3], b"one");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: Async::new_nonblocking(socket.into())?,
        })
    }

    /// Wraps a standard-library socket, putting it in non-blocking mode and
    /// registering it with the current reactor.
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
    /// use ember_io::net::UnixDatagram;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let (a, _b) = std::os::unix::net::UnixDatagram::pair()?;
    /// block_on(async {
    ///     let a = UnixDatagram::from_std(a)?;
    ///     let _a: std::os::unix::net::UnixDatagram = a.into_std()?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: Async::new(socket)?,
        })
    }

    /// Deregisters the socket and returns the standard-library socket, still
    /// in non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error if deregistration fails.
    ///
    /// # Examples
    ///
    /// See [`from_std`](UnixDatagram::from_std).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        self.io.into_inner()
    }

    /// Connects the socket to `path`: [`send`](UnixDatagram::send) goes
    /// there and [`recv`](UnixDatagram::recv) only receives from there.
    /// Synchronous, as in tokio.
    ///
    /// # Errors
    ///
    /// The OS error, for example [`io::ErrorKind::NotFound`] or
    /// [`io::ErrorKind::ConnectionRefused`].
    ///
    /// # Examples
    ///
    /// See [`unbound`](UnixDatagram::unbound).
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let addr = socket_addr(path.as_ref())?;
        self.io.get_ref().connect_addr(&addr)
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UnixDatagram::unbound()?;
    ///     assert!(socket.local_addr()?.is_unnamed());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the connected peer.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotConnected`] if not connected; the OS error from
    /// `getpeername` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     assert!(a.peer_addr()?.is_unnamed());
    ///     assert!(UnixDatagram::unbound()?.peer_addr().is_err());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Waits until the socket is ready for any of `interest` and returns the
    /// readiness seen. Any number of tasks may wait at once.
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    /// use ember_io::Interest;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     assert!(a.ready(Interest::WRITABLE).await?.is_writable());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.stream_ready(interest).await
    }

    /// Waits until a datagram (or an error) is waiting.
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     let n = loop {
    ///         b.readable().await?;
    ///         match b.try_recv(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.io.stream_ready(Interest::READABLE).await?;
        Ok(())
    }

    /// Waits until a datagram can be sent.
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     let n = loop {
    ///         a.writable().await?;
    ///         match a.try_send(b"hi") {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(n, 2);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.io.stream_ready(Interest::WRITABLE).await?;
        Ok(())
    }

    /// Polls for read readiness (one waker slot).
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"x").await?;
    ///     poll_fn(|cx| b.poll_recv_ready(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
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
    /// use ember_io::net::UnixDatagram;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     poll_fn(|cx| a.poll_send_ready(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_stream_ready(cx, Direction::Write)
    }

    /// Sends `buf` as one datagram to the connected peer, waiting while the
    /// peer's queue is full.
    ///
    /// # Errors
    ///
    /// The OS error, for example [`io::ErrorKind::NotConnected`], or
    /// `EMSGSIZE` for a datagram larger than the socket's send buffer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram is sent only if the future completes.
    ///
    /// # Examples
    ///
    /// See [`pair`](UnixDatagram::pair).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Write, || socket.send(buf))
            .await
    }

    /// Sends to the connected peer if that can be done now.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] (the readiness is then cleared) when
    /// the peer's queue is full; otherwise as [`send`](UnixDatagram::send).
    ///
    /// # Examples
    ///
    /// See [`writable`](UnixDatagram::writable).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Write, || socket.send(buf))
    }

    /// Polls to send `buf` to the connected peer (one waker slot).
    ///
    /// # Errors
    ///
    /// As [`send`](UnixDatagram::send).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     assert_eq!(poll_fn(|cx| a.poll_send(cx, b"hey")).await?, 3);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .poll_io(cx, Direction::Write, || socket.send(buf))
    }

    /// Receives one datagram from the connected peer, waiting until one
    /// arrives; returns its length, truncated to `buf.len()`.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken when the future completes.
    ///
    /// # Examples
    ///
    /// See [`pair`](UnixDatagram::pair).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Read, || socket.recv(buf))
            .await
    }

    /// Receives a datagram if one is waiting now.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] (the readiness is then cleared) when
    /// none is; the OS error otherwise.
    ///
    /// # Examples
    ///
    /// See [`readable`](UnixDatagram::readable).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Read, || socket.recv(buf))
    }

    /// Polls to receive one datagram (one waker slot).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"hey").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(poll_fn(|cx| b.poll_recv(cx, &mut buf)).await?, 3);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .poll_io(cx, Direction::Read, || socket.recv(buf))
    }

    /// Sends `buf` as one datagram to the socket at `path`, waiting while
    /// its queue is full.
    ///
    /// # Errors
    ///
    /// The OS error, for example [`io::ErrorKind::NotFound`] or
    /// [`io::ErrorKind::ConnectionRefused`] when nothing is bound there.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram is sent only if the future completes.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram`].
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = socket_addr(path.as_ref())?;
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Write, || socket.send_to_addr(buf, &addr))
            .await
    }

    /// Sends to the socket at `path` if that can be done now.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] (the readiness is then cleared) when
    /// the receiver's queue is full; otherwise as
    /// [`send_to`](UnixDatagram::send_to).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(target_os = "linux")]
    /// block_on(async {
    ///     let name = format!("\0ember-try-send-to-{}", std::process::id());
    ///     let server = UnixDatagram::bind(&name)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     client.writable().await?;
    ///     assert_eq!(client.try_send_to(b"hi", &name)?, 2);
    ///     let mut buf = [0; 8];
    ///     assert_eq!(server.recv(&mut buf).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = socket_addr(path.as_ref())?;
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Write, || socket.send_to_addr(buf, &addr))
    }

    /// Polls to send `buf` to the socket at `path` (one waker slot).
    ///
    /// # Errors
    ///
    /// As [`send_to`](UnixDatagram::send_to).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(target_os = "linux")]
    /// block_on(async {
    ///     let name = format!("\0ember-poll-send-to-{}", std::process::id());
    ///     let _server = UnixDatagram::bind(&name)?;
    ///     let client = UnixDatagram::unbound()?;
    ///     assert_eq!(poll_fn(|cx| client.poll_send_to(cx, b"hi", &name)).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        path: impl AsRef<Path>,
    ) -> Poll<io::Result<usize>> {
        let addr = match socket_addr(path.as_ref()) {
            Ok(addr) => addr,
            Err(e) => return Poll::Ready(Err(e)),
        };
        let socket = self.io.get_ref();
        self.io
            .registration()
            .poll_io(cx, Direction::Write, || socket.send_to_addr(buf, &addr))
    }

    /// Receives one datagram and its sender's address, waiting until one
    /// arrives; the length is truncated to `buf.len()`. The address is
    /// unnamed when the sender is not bound.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken when the future completes.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram`].
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Read, || socket.recv_from(buf))
            .await
    }

    /// Receives a datagram and its sender if one is waiting now.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] (the readiness is then cleared) when
    /// none is; the OS error otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.try_recv_from(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    ///     a.send(b"x").await?;
    ///     b.readable().await?;
    ///     assert_eq!(b.try_recv_from(&mut buf)?.0, 1);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Read, || socket.recv_from(buf))
    }

    /// Polls to receive one datagram and its sender (one waker slot).
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, b) = UnixDatagram::pair()?;
    ///     a.send(b"hey").await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await?;
    ///     assert_eq!(n, 3);
    ///     assert!(from.is_unnamed());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .poll_io(cx, Direction::Read, || socket.recv_from(buf))
    }

    /// Runs `op`, a non-blocking operation of the caller's own on this
    /// socket (for example passing descriptors with `sendmsg`), if the
    /// socket is marked ready for `interest`: `WouldBlock` at once, without
    /// calling `op`, when it is not; the readiness is cleared when `op`
    /// reports `WouldBlock`.
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
    /// use ember_io::net::UnixDatagram;
    /// use ember_io::Interest;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     a.writable().await?;
    ///     let send = || socket2::SockRef::from(&a).send(b"raw");
    ///     assert_eq!(a.try_io(Interest::WRITABLE, send)?, 3);
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
    /// use ember_io::net::UnixDatagram;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     assert!(UnixDatagram::unbound()?.take_error()?.is_none());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the read side, the write side, or both.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixDatagram;
    /// use std::net::Shutdown;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixDatagram::pair()?;
    ///     a.shutdown(Shutdown::Write)?;
    ///     assert!(a.send(b"x").await.is_err()); // EPIPE
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixDatagram")
            .field(self.io.get_ref())
            .finish()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// As [`UnixDatagram::from_std`].
    fn try_from(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}
