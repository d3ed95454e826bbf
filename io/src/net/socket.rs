//! The system-call side of TCP and UDP: creating non-blocking sockets, accepting
//! connections without blocking, and trying each resolved address in turn.
//! The rest of `net` never calls socket2 for these directly.

use super::addr::ToSocketAddrs;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

/// Backlog of listening sockets; the kernel caps it at `somaxconn`. The same
/// value as tokio's, large enough for connection-storm benchmarks.
const LISTEN_BACKLOG: i32 = 1024;

/// A new non-blocking, close-on-exec TCP socket for `addr`'s family.
pub(crate) fn new_tcp_socket(addr: SocketAddr) -> io::Result<Socket> {
    new_socket(Domain::for_address(addr), Type::STREAM, Protocol::TCP)
}

/// A new non-blocking, close-on-exec UDP socket for `addr`'s family.
pub(crate) fn new_udp_socket(addr: SocketAddr) -> io::Result<Socket> {
    new_socket(Domain::for_address(addr), Type::DGRAM, Protocol::UDP)
}

/// A new non-blocking, close-on-exec socket.
pub(crate) fn new_socket(domain: Domain, ty: Type, protocol: Protocol) -> io::Result<Socket> {
    // Where the platform allows it, create the socket non-blocking in the
    // same system call (socket2 always sets close-on-exec).
    #[cfg(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "fuchsia",
        target_os = "illumos",
        target_os = "linux",
        target_os = "netbsd",
        target_os = "openbsd",
    ))]
    let socket = Socket::new(domain, ty.nonblocking(), Some(protocol))?;
    #[cfg(not(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "fuchsia",
        target_os = "illumos",
        target_os = "linux",
        target_os = "netbsd",
        target_os = "openbsd",
    )))]
    let socket = {
        let socket = Socket::new(domain, ty, Some(protocol))?;
        socket.set_nonblocking(true)?;
        socket
    };
    Ok(socket)
}

/// Sets `SO_LINGER`, refusing a non-zero linger: with one, `close(2)` blocks
/// the thread (the event loop's) until the data is acknowledged or the time
/// runs out, non-blocking socket or not.
pub(crate) fn set_linger(socket: SockRef<'_>, linger: Option<Duration>) -> io::Result<()> {
    if linger.is_some_and(|d| !d.is_zero()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a non-zero SO_LINGER makes closing the socket block the event loop; \
             use set_zero_linger for a reset, or shut down and read to the end for a graceful close",
        ));
    }
    socket.set_linger(linger)
}

/// A non-blocking socket bound to `addr` and listening.
pub(crate) fn listen(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = new_tcp_socket(addr)?;
    // As std does: a restarted server can bind while old connections to its
    // port linger in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// Starts a non-blocking connect to `addr`. The returned socket is connected
/// or still connecting (`EINPROGRESS`); the caller waits for writability and
/// then checks the outcome.
pub(crate) fn start_connect(addr: SocketAddr) -> io::Result<std::net::TcpStream> {
    let socket = new_tcp_socket(addr)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(socket.into())
}

/// Accepts one pending connection without blocking; the new stream is
/// non-blocking and close-on-exec.
///
/// Connections aborted by the peer while queued (`ECONNABORTED`) and
/// interrupted calls are skipped. Every other error, `WouldBlock` included,
/// is returned: resource exhaustion such as `EMFILE` is for the caller to
/// handle.
pub(crate) fn accept(
    listener: &std::net::TcpListener,
) -> io::Result<(std::net::TcpStream, SocketAddr)> {
    let listener = SockRef::from(listener);
    loop {
        match accept_nonblocking(&listener) {
            Ok((socket, addr)) => {
                let addr = addr.as_socket().ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        "accepted a connection without an IP address",
                    )
                })?;
                return Ok((socket.into(), addr));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(any(
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "linux",
    target_os = "netbsd",
    target_os = "openbsd",
))]
fn accept_nonblocking(listener: &Socket) -> io::Result<(Socket, socket2::SockAddr)> {
    // One system call instead of accept + fcntl.
    listener.accept4(libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK)
}

#[cfg(not(any(
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "linux",
    target_os = "netbsd",
    target_os = "openbsd",
)))]
fn accept_nonblocking(listener: &Socket) -> io::Result<(Socket, socket2::SockAddr)> {
    let (socket, addr) = listener.accept()?;
    socket.set_nonblocking(true)?;
    Ok((socket, addr))
}

/// Resolves `addr` and runs `attempt` on each address until one succeeds;
/// returns the last error otherwise.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: A, mut attempt: F) -> io::Result<T>
where
    A: ToSocketAddrs,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last_err = None;
    for addr in super::addr::resolve(addr).await? {
        match attempt(addr).await {
            Ok(value) => return Ok(value),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}
