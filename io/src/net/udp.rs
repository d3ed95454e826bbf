//! [`UdpSocket`]: datagrams over UDP, with tokio's names and behaviour.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use ember_reactor::{Direction, Interest, Ready};

use super::addr::resolve_first;
use super::socket;
use super::ToSocketAddrs;
use crate::async_fd::Async;

/// A UDP socket: datagrams to and from any address, or to and from one
/// peer after [`connect`](UdpSocket::connect).
///
/// Every method takes `&self`, so one socket can be shared (for example in
/// an `Arc`) by a task that receives and a task that sends; any number of
/// tasks may wait in the `async fn`s at once. The `poll_*` methods keep one
/// waker slot per direction.
///
/// **Truncation.** A datagram larger than the buffer given to
/// [`recv`](UdpSocket::recv), [`recv_from`](UdpSocket::recv_from) or their
/// `try_`/`poll_`/`peek` forms is truncated: the call returns
/// `Ok(buf.len())`, the rest of that datagram is discarded (by a `peek`, it
/// stays queued), and the next call receives the next datagram intact. It
/// is never an error. Size the buffer for the largest datagram you accept
/// (65,507 bytes covers any UDP payload over IPv4).
///
/// tokio's readiness API is here too: [`readable`](UdpSocket::readable) /
/// [`writable`](UdpSocket::writable) / [`ready`](UdpSocket::ready) wait,
/// and the `try_*` methods never do; one that reports `WouldBlock` clears
/// the readiness, so a `readable().await` loop sleeps until the next
/// datagram instead of spinning.
///
/// # Examples
///
/// An echo round trip:
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::UdpSocket;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let server = UdpSocket::bind("127.0.0.1:0").await?;
///     let client = UdpSocket::bind("127.0.0.1:0").await?;
///     client.connect(server.local_addr()?).await?;
///
///     client.send(b"ping").await?;
///     let mut buf = [0; 1500];
///     let (n, from) = server.recv_from(&mut buf).await?;
///     server.send_to(&buf[..n], from).await?;
///
///     let n = client.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok(())
/// })
/// # }
/// ```
pub struct UdpSocket {
    io: Async<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Creates a socket bound to `addr`.
    ///
    /// Each address `addr` resolves to is tried in turn; the first that
    /// binds is used. Port 0 asks the OS for a free port: read it back with
    /// [`local_addr`](UdpSocket::local_addr).
    ///
    /// # Errors
    ///
    /// The error of the last address tried (for example
    /// [`io::ErrorKind::AddrInUse`]), the resolution error, or
    /// [`io::ErrorKind::InvalidInput`] if `addr` resolves to no address.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_ne!(socket.local_addr()?.port(), 0);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        socket::each_addr(addr, |addr| async move {
            let socket = socket::new_udp_socket(addr)?;
            socket.bind(&addr.into())?;
            UdpSocket::from_nonblocking(socket.into())
        })
        .await
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
    /// use ember_io::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// block_on(async {
    ///     let socket = UdpSocket::from_std(std_socket)?;
    ///     let std_socket: std::net::UdpSocket = socket.into_std()?;
    ///     assert!(std_socket.local_addr()?.ip().is_loopback());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: Async::new(socket)?,
        })
    }

    fn from_nonblocking(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: Async::new_nonblocking(socket)?,
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
    /// See [`from_std`](UdpSocket::from_std).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        self.io.into_inner()
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockname`.
    ///
    /// # Examples
    ///
    /// See [`bind`](UdpSocket::bind).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer set by [`connect`](UdpSocket::connect).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotConnected`] if the socket is not connected; the
    /// OS error from `getpeername` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(a.peer_addr().is_err());
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.peer_addr()?, b.local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Connects the socket to `addr`: [`send`](UdpSocket::send) goes there,
    /// and [`recv`](UdpSocket::recv) only receives datagrams from there.
    /// Nothing is sent; the call only resolves `addr` and sets the peer.
    /// Each resolved address is tried in turn.
    ///
    /// # Errors
    ///
    /// The error of the last address tried, the resolution error, or
    /// [`io::ErrorKind::InvalidInput`] if `addr` resolves to no address.
    ///
    /// # Examples
    ///
    /// See [`peer_addr`](UdpSocket::peer_addr).
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let socket = self.io.get_ref();
        socket::each_addr(addr, |addr| async move { socket.connect(addr) }).await
    }

    /// Waits until the socket is ready for any of `interest` and returns
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
    /// use ember_io::net::UdpSocket;
    /// use ember_io::Interest;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let ready = socket.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(ready.is_writable());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.stream_ready(interest).await
    }

    /// Waits until a datagram (or an error) is waiting. Any number of tasks
    /// may wait at once.
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
    /// use ember_io::net::UdpSocket;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let sender = UdpSocket::bind("127.0.0.1:0").await?;
    ///     sender.send_to(b"hi", socket.local_addr()?).await?;
    ///
    ///     let mut buf = [0; 64];
    ///     let (n, _from) = loop {
    ///         socket.readable().await?;
    ///         match socket.try_recv_from(&mut buf) {
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

    /// Waits until a datagram can be sent (or an error is pending). Any
    /// number of tasks may wait at once.
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
    /// use ember_io::net::UdpSocket;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let target = UdpSocket::bind("127.0.0.1:0").await?.local_addr()?;
    ///     let n = loop {
    ///         socket.writable().await?;
    ///         match socket.try_send_to(b"hi", target) {
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

    /// Polls for read readiness. When `Pending` is returned, `cx`'s waker is
    /// stored in the read direction's single slot: only the task that
    /// polled last is woken.
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     UdpSocket::bind("127.0.0.1:0").await?.send_to(b"x", socket.local_addr()?).await?;
    ///     poll_fn(|cx| socket.poll_recv_ready(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_stream_ready(cx, Direction::Read)
    }

    /// Polls for write readiness, with the one-slot contract of
    /// [`poll_recv_ready`](UdpSocket::poll_recv_ready).
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     poll_fn(|cx| socket.poll_send_ready(cx)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_stream_ready(cx, Direction::Write)
    }

    /// Sends `buf` as one datagram to the connected peer, waiting while the
    /// send buffer is full; returns the bytes sent (all of `buf`).
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::NotConnected`] (or the OS's equivalent) on a socket
    /// that is not connected; the OS error otherwise, for example
    /// [`io::ErrorKind::ConnectionRefused`] after an earlier datagram was
    /// refused by the peer, or `EMSGSIZE` for a datagram too large.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram is sent only if the future completes.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Write, || socket.send(buf))
            .await
    }

    /// Polls to send `buf` to the connected peer. One waker slot.
    ///
    /// # Errors
    ///
    /// As [`send`](UdpSocket::send).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.connect(UdpSocket::bind("127.0.0.1:0").await?.local_addr()?).await?;
    ///     assert_eq!(poll_fn(|cx| socket.poll_send(cx, b"hey")).await?, 3);
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

    /// Sends `buf` to the connected peer if the socket is writable now.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] (the readiness is then cleared) when
    /// the send buffer is full; otherwise as [`send`](UdpSocket::send).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.connect(UdpSocket::bind("127.0.0.1:0").await?.local_addr()?).await?;
    ///     loop {
    ///         socket.writable().await?;
    ///         match socket.try_send(b"hey") {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break assert_eq!(result?, 3),
    ///         }
    ///     }
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Write, || socket.send(buf))
    }

    /// Receives one datagram from the connected peer into `buf`, waiting
    /// until one arrives; returns its length, truncated to `buf.len()` (see
    /// [truncation](UdpSocket#truncation)).
    ///
    /// # Errors
    ///
    /// The OS error, for example [`io::ErrorKind::ConnectionRefused`] when
    /// an earlier datagram to the peer was refused.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken from the queue when the future
    /// completes.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Read, || socket.recv(buf))
            .await
    }

    /// Polls to receive one datagram from the connected peer. One waker
    /// slot.
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.send_to(b"hey", a.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let n = poll_fn(|cx| a.poll_recv(cx, &mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"hey");
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

    /// Receives a datagram from the connected peer if one is waiting now.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] (the readiness is then cleared) when
    /// none is; otherwise as [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.send_to(b"hey", a.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let n = loop {
    ///         a.readable().await?;
    ///         match a.try_recv(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"hey");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Read, || socket.recv(buf))
    }

    /// Sends `buf` as one datagram to `target`, waiting while the send
    /// buffer is full. A host name is resolved first, and the first address
    /// it resolves to is used.
    ///
    /// # Errors
    ///
    /// The resolution error, [`io::ErrorKind::InvalidInput`] if `target`
    /// resolves to no address, or the OS error (for example `EMSGSIZE`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the datagram is sent only if the future completes.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve_first(target).await?;
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Write, || socket.send_to(buf, target))
            .await
    }

    /// Polls to send `buf` to `target`. One waker slot.
    ///
    /// # Errors
    ///
    /// The OS error, as [`send_to`](UdpSocket::send_to).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let target = UdpSocket::bind("127.0.0.1:0").await?.local_addr()?;
    ///     assert_eq!(poll_fn(|cx| socket.poll_send_to(cx, b"hey", target)).await?, 3);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .poll_io(cx, Direction::Write, || socket.send_to(buf, target))
    }

    /// Sends `buf` to `target` if the socket is writable now.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] (the readiness is then cleared) when
    /// the send buffer is full; the OS error otherwise.
    ///
    /// # Examples
    ///
    /// See [`writable`](UdpSocket::writable).
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Write, || socket.send_to(buf, target))
    }

    /// Receives one datagram into `buf`, waiting until one arrives; returns
    /// its length, truncated to `buf.len()` (see
    /// [truncation](UdpSocket#truncation)), and the sender's address.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is only taken from the queue when the future
    /// completes.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Read, || socket.recv_from(buf))
            .await
    }

    /// Polls to receive one datagram and its sender. One waker slot.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"hey", a.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = poll_fn(|cx| a.poll_recv_from(cx, &mut buf)).await?;
    ///     assert_eq!((&buf[..n], from), (&b"hey"[..], b.local_addr()?));
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

    /// Receives a datagram and its sender if one is waiting now.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::WouldBlock`] (the readiness is then cleared) when
    /// none is; the OS error otherwise.
    ///
    /// # Examples
    ///
    /// See [`readable`](UdpSocket::readable).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Read, || socket.recv_from(buf))
    }

    /// Receives the next datagram and its sender without taking it from the
    /// queue: the next receive returns it again. Waits until one arrives.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"hey", a.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = a.peek_from(&mut buf).await?;
    ///     assert_eq!(a.recv_from(&mut buf).await?, (n, from)); // still there
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Read, || socket.peek_from(buf))
            .await
    }

    /// Polls to peek at the next datagram and its sender. One waker slot.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.send_to(b"hey", a.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, _) = poll_fn(|cx| a.poll_peek_from(cx, &mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"hey");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .poll_io(cx, Direction::Read, || socket.peek_from(buf))
    }

    /// Peeks at the next datagram and its sender if one is waiting now.
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
    /// use ember_io::net::UdpSocket;
    /// use std::io::ErrorKind;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(a.try_peek_from(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .try_io(Direction::Read, || socket.peek_from(buf))
    }

    /// Runs `op`, a non-blocking operation of the caller's own on this
    /// socket (for example a `recvmsg` through `socket2::SockRef`), if the
    /// socket is marked ready for `interest` (tokio's `try_io`). Returns
    /// `WouldBlock` at once, without calling `op`, when it is not; clears
    /// the readiness when `op` reports `WouldBlock`.
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
    /// use ember_io::net::UdpSocket;
    /// use ember_io::Interest;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let target = UdpSocket::bind("127.0.0.1:0").await?.local_addr()?;
    ///     socket.writable().await?;
    ///     let send = || socket2::SockRef::from(&socket).send_to(b"raw", &target.into());
    ///     assert_eq!(socket.try_io(Interest::WRITABLE, send)?, 3);
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

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_broadcast`](UdpSocket::set_broadcast).
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets `SO_BROADCAST`: whether datagrams may be sent to a broadcast
    /// address.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await?;
    ///     socket.set_broadcast(true)?;
    ///     assert!(socket.broadcast()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// The IP time-to-live of datagrams sent from this socket.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_ttl`](UdpSocket::set_ttl).
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets the IP time-to-live of datagrams sent from this socket.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.set_ttl(16)?;
    ///     assert_eq!(socket.ttl()?, 16);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with
    /// address `interface` (`Ipv4Addr::UNSPECIFIED`: the system's choice).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt` (for example when no interface can
    /// reach the group).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example() -> std::io::Result<()> {
    /// use ember_io::net::UdpSocket;
    /// use std::net::Ipv4Addr;
    ///
    /// let socket = UdpSocket::bind("0.0.0.0:5353").await?;
    /// socket.join_multicast_v4(Ipv4Addr::new(224, 0, 0, 251), Ipv4Addr::UNSPECIFIED)?;
    /// # Ok(()) }
    /// ```
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with
    /// index `interface` (0: the system's choice).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example() -> std::io::Result<()> {
    /// use ember_io::net::UdpSocket;
    /// use std::net::Ipv6Addr;
    ///
    /// let socket = UdpSocket::bind("[::]:5353").await?;
    /// socket.join_multicast_v6(&Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb), 0)?;
    /// # Ok(()) }
    /// ```
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group joined with
    /// [`join_multicast_v4`](UdpSocket::join_multicast_v4).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt` (for example, the group was not
    /// joined).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example() -> std::io::Result<()> {
    /// use ember_io::net::UdpSocket;
    /// use std::net::Ipv4Addr;
    ///
    /// let socket = UdpSocket::bind("0.0.0.0:5353").await?;
    /// let group = Ipv4Addr::new(224, 0, 0, 251);
    /// socket.join_multicast_v4(group, Ipv4Addr::UNSPECIFIED)?;
    /// socket.leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED)?;
    /// # Ok(()) }
    /// ```
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv6 multicast group joined with
    /// [`join_multicast_v6`](UdpSocket::join_multicast_v6).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn example() -> std::io::Result<()> {
    /// use ember_io::net::UdpSocket;
    /// use std::net::Ipv6Addr;
    ///
    /// let socket = UdpSocket::bind("[::]:5353").await?;
    /// let group = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb);
    /// socket.join_multicast_v6(&group, 0)?;
    /// socket.leave_multicast_v6(&group, 0)?;
    /// # Ok(()) }
    /// ```
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Whether IPv4 multicast datagrams sent from this socket loop back to
    /// the sending host (`IP_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_multicast_loop_v4`](UdpSocket::set_multicast_loop_v4).
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_LOOP`: whether IPv4 multicast datagrams sent from
    /// this socket loop back to the sending host (on by default).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await?;
    ///     socket.set_multicast_loop_v4(false)?;
    ///     assert!(!socket.multicast_loop_v4()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// The time-to-live of IPv4 multicast datagrams sent from this socket
    /// (`IP_MULTICAST_TTL`).
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_multicast_ttl_v4`](UdpSocket::set_multicast_ttl_v4).
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IP_MULTICAST_TTL` (1 by default: the local network only).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("0.0.0.0:0").await?;
    ///     socket.set_multicast_ttl_v4(4)?;
    ///     assert_eq!(socket.multicast_ttl_v4()?, 4);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// Whether IPv6 multicast datagrams sent from this socket loop back
    /// (`IPV6_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_multicast_loop_v6`](UdpSocket::set_multicast_loop_v6).
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt` (for example on an IPv4 socket).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     if let Ok(socket) = UdpSocket::bind("[::1]:0").await {
    ///         socket.set_multicast_loop_v6(false)?;
    ///         assert!(!socket.multicast_loop_v6()?);
    ///     }
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it: for
    /// example the refusal of an earlier datagram.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt` (the pending error is the `Ok` value).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UdpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(socket.take_error()?.is_none());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UdpSocket").field(self.io.get_ref()).finish()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// As [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}
