//! TCP networking: [`TcpListener`] and [`TcpStream`], with tokio's names and
//! behaviour, over [`Async`](crate::Async) and the current reactor.
//!
//! Addresses are anything [`ToSocketAddrs`] accepts, the forms of the
//! standard library's trait: a [`SocketAddr`](std::net::SocketAddr),
//! `(&str, u16)`, `"host:port"`, ... Every resolved address is tried in turn
//! and the last error is returned if none works. Host names are resolved by
//! the system resolver on the runtime's blocking pool ([`lookup_host`]),
//! never on the reactor's thread; literal addresses need no lookup at all.

//!
//! The halves of a split [`TcpStream`] live in [`tcp`], as in tokio.

mod accept;
mod addr;
mod socket;
pub mod tcp;
mod tcp_listener;
mod tcp_stream;

pub use addr::{lookup_host, ToSocketAddrs};
pub use tcp_listener::{Incoming, TcpListener};
pub use tcp_stream::TcpStream;
