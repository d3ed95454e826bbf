//! Networking over the current reactor, with tokio's names and behaviour:
//! TCP ([`TcpListener`], [`TcpStream`], and [`TcpSocket`] for the options
//! set before connecting or listening), UDP ([`UdpSocket`]) and Unix-domain
//! sockets ([`UnixListener`], [`UnixStream`], [`UnixDatagram`]). Each is a
//! thin wrapper over [`Async`](crate::Async) and its one I/O loop.
//!
//! Addresses are anything [`ToSocketAddrs`] accepts, the forms of the
//! standard library's trait: a [`SocketAddr`](std::net::SocketAddr),
//! `(&str, u16)`, `"host:port"`, ... Every resolved address is tried in turn
//! and the last error is returned if none works. Host names are resolved by
//! the system resolver on the runtime's blocking pool ([`lookup_host`]),
//! never on the reactor's thread; literal addresses need no lookup at all.
//! Unix sockets take paths (a leading NUL byte names Linux's abstract
//! namespace; see [`unix`]).
//!
//! The halves of a split [`TcpStream`] live in [`tcp`], those of a
//! [`UnixStream`] in [`unix`], as in tokio. Both listeners survive running
//! out of file descriptors without spinning (see
//! [`TcpListener::accept`]), and both streams can
//! [`send_file`](TcpStream::send_file) with `sendfile(2)`.

mod accept;
mod addr;
mod send_file;
mod socket;
mod stream_impls;
pub mod tcp;
mod tcp_listener;
mod tcp_socket;
mod tcp_stream;
mod udp;
pub mod unix;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp_listener::{Incoming, TcpListener};
pub use tcp_socket::TcpSocket;
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
pub use unix::datagram::UnixDatagram;
pub use unix::listener::UnixListener;
pub use unix::stream::UnixStream;
