//! [`TcpSocket`]: a TCP socket not yet connected or listening, to set
//! options that must be set before (tokio's `TcpSocket`).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use super::socket;
use super::{TcpListener, TcpStream};

/// A TCP socket that is neither connected nor listening yet: set its
/// options, [`bind`](TcpSocket::bind) it if needed, then turn it into a
/// [`TcpStream`] with [`connect`](TcpSocket::connect) or into a
/// [`TcpListener`] with [`listen`](TcpSocket::listen).
///
/// This is where the options go that must be set before binding or
/// connecting: `SO_REUSEADDR`, `SO_REUSEPORT` (several listeners on one
/// port, one per thread or process, with the kernel spreading the
/// connections), buffer sizes, and binding to a local address before
/// connecting.
///
/// Creating a `TcpSocket` needs no runtime; `connect` and `listen` register
/// the socket with the current one. The socket is non-blocking and
/// close-on-exec from the start.
///
/// # Examples
///
/// Two listeners on one port:
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::TcpSocket;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let first = TcpSocket::new_v4()?;
///     first.set_reuseport(true)?;
///     first.bind("127.0.0.1:0".parse().unwrap())?;
///     let addr = first.local_addr()?;
///     let first = first.listen(1024)?;
///
///     let second = TcpSocket::new_v4()?;
///     second.set_reuseport(true)?;
///     second.bind(addr)?;
///     let second = second.listen(1024)?;
///     assert_eq!(first.local_addr()?, second.local_addr()?);
///     Ok(())
/// })
/// # }
/// ```
pub struct TcpSocket {
    inner: Socket,
    /// Made by `from_std_stream`: perhaps still in blocking mode.
    foreign: bool,
}

impl TcpSocket {
    /// A new IPv4 TCP socket.
    ///
    /// # Errors
    ///
    /// The OS error from `socket(2)`, for example `EMFILE`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::net::TcpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_nodelay(true)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket.
    ///
    /// # Errors
    ///
    /// The OS error from `socket(2)`, for example `EAFNOSUPPORT` on a
    /// system without IPv6.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v6(); // may fail without IPv6
    /// # drop(socket);
    /// ```
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        Ok(TcpSocket {
            inner: socket::new_socket(domain, Type::STREAM, Protocol::TCP)?,
            foreign: false,
        })
    }

    /// Wraps a socket created elsewhere and not yet connected (for example
    /// with socket2, to set an option this type lacks), as tokio's
    /// `from_std_stream`. [`connect`](TcpSocket::connect) and
    /// [`listen`](TcpSocket::listen) put it in non-blocking mode.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpSocket};
    /// use socket2::{Domain, Socket, Type};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let raw = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    ///     raw.set_tos_v4(0x10)?; // an option TcpSocket does not have
    ///     let socket = TcpSocket::from_std_stream(raw.into());
    ///     let stream = socket.connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        TcpSocket {
            inner: Socket::from(stream),
            foreign: true,
        }
    }

    /// A socket from [`from_std_stream`](TcpSocket::from_std_stream) in
    /// non-blocking mode, as everything after `connect` and `listen`
    /// expects.
    fn into_nonblocking(self) -> io::Result<Socket> {
        if self.foreign {
            self.inner.set_nonblocking(true)?;
        }
        Ok(self.inner)
    }

    /// Sets `SO_KEEPALIVE`: the kernel probes an idle connection and reports
    /// it broken if the peer stops answering.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::net::TcpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_keepalive(true)?;
    /// assert!(socket.keepalive()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_keepalive`](TcpSocket::set_keepalive).
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `SO_REUSEADDR`: a listener may bind a port that connections in
    /// `TIME_WAIT` still hold (as `TcpListener::bind` always does).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::net::TcpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_reuseaddr(true)?;
    /// assert!(socket.reuseaddr()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_reuseaddr`](TcpSocket::set_reuseaddr).
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets (in one process or several) may
    /// bind the same address and port if all set it first. On Linux the
    /// kernel spreads incoming connections over the listeners, one per
    /// thread or shard.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// See [`TcpSocket`].
    #[cfg(not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin")))]
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::net::TcpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let socket = TcpSocket::new_v4()?;
    /// assert!(!socket.reuseport()?);
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin")))]
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `SO_SNDBUF`, the size of the kernel's send buffer. Linux
    /// doubles the value (for its bookkeeping) and clamps it to
    /// `net.core.wmem_max`; [`send_buffer_size`](TcpSocket::send_buffer_size)
    /// reads back what it kept.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::net::TcpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_send_buffer_size(64 * 1024)?;
    /// assert!(socket.send_buffer_size()? >= 64 * 1024 / 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The size of the kernel's send buffer (`SO_SNDBUF`).
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_send_buffer_size`](TcpSocket::set_send_buffer_size).
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .send_buffer_size()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_RCVBUF`, the size of the kernel's receive buffer (doubled
    /// and clamped by Linux, as for the send buffer). Set it before
    /// connecting or listening: the TCP window scale is fixed during the
    /// handshake.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::net::TcpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_recv_buffer_size(64 * 1024)?;
    /// assert!(socket.recv_buffer_size()? >= 64 * 1024 / 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The size of the kernel's receive buffer (`SO_RCVBUF`).
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_recv_buffer_size`](TcpSocket::set_recv_buffer_size).
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .recv_buffer_size()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_LINGER`, with the rule of [`TcpStream::set_linger`]: `None`
    /// and `Some(Duration::ZERO)` (close with a reset) are accepted, a
    /// non-zero linger is refused because closing would block the event
    /// loop.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::InvalidInput`] for a non-zero linger; the OS error
    /// from `setsockopt` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::net::TcpSocket;
    /// use std::time::Duration;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let socket = TcpSocket::new_v4()?;
    /// assert!(socket.set_linger(Some(Duration::from_secs(1))).is_err());
    /// socket.set_linger(Some(Duration::ZERO))?;
    /// assert_eq!(socket.linger()?, Some(Duration::ZERO));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        socket::set_linger(SockRef::from(&self.inner), linger)
    }

    /// The `SO_LINGER` setting.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_linger`](TcpSocket::set_linger).
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// Sets `TCP_NODELAY` (Nagle's algorithm off), inherited by the stream
    /// [`connect`](TcpSocket::connect) returns.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::net::TcpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let socket = TcpSocket::new_v4()?;
    /// socket.set_nodelay(true)?;
    /// assert!(socket.nodelay()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// See [`set_nodelay`](TcpSocket::set_nodelay).
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// The address the socket is bound to (`0.0.0.0:0` or `[::]:0` before
    /// [`bind`](TcpSocket::bind)).
    ///
    /// # Errors
    ///
    /// The OS error from `getsockname`.
    ///
    /// # Examples
    ///
    /// See [`TcpSocket`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP socket address"))
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
    /// use ember_io::net::TcpSocket;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// assert!(TcpSocket::new_v4()?.take_error()?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Binds the socket to `addr`: before [`listen`](TcpSocket::listen),
    /// the address to listen on; before [`connect`](TcpSocket::connect),
    /// the local address (and port, 0 for any) the connection leaves from.
    ///
    /// # Errors
    ///
    /// The OS error from `bind(2)`, for example
    /// [`io::ErrorKind::AddrInUse`].
    ///
    /// # Examples
    ///
    /// See [`connect`](TcpSocket::connect).
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// Connects to `addr` and returns the stream, registered with the
    /// current reactor.
    ///
    /// # Errors
    ///
    /// The OS error, for example [`io::ErrorKind::ConnectionRefused`].
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the attempt and closes the socket.
    ///
    /// # Examples
    ///
    /// Bind before connect: the connection leaves from a chosen address.
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{TcpListener, TcpSocket};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let socket = TcpSocket::new_v4()?;
    ///     socket.bind("127.0.0.1:0".parse().unwrap())?;
    ///     let from = socket.local_addr()?;
    ///     let stream = socket.connect(listener.local_addr()?).await?;
    ///     let (_server, peer) = listener.accept().await?;
    ///     assert_eq!(peer, from);
    ///     assert_eq!(stream.local_addr()?, from);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = self.into_nonblocking()?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let stream = TcpStream::from_nonblocking(socket.into())?;
        stream.connected().await?;
        Ok(stream)
    }

    /// Starts listening with a queue of at most `backlog` connections (the
    /// kernel caps it at `net.core.somaxconn`) and returns the listener,
    /// registered with the current reactor. Bind first: an unbound socket
    /// listens on an ephemeral port of every address.
    ///
    /// # Errors
    ///
    /// The OS error from `listen(2)`, or from registering the socket.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// See [`TcpSocket`].
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        let socket = self.into_nonblocking()?;
        socket.listen(backlog)?;
        TcpListener::from_nonblocking(socket.into())
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TcpSocket").field(&self.inner).finish()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}
