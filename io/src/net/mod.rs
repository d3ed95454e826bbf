//! TCP networking: [`TcpListener`] and [`TcpStream`], with tokio's names and
//! behaviour, over [`Async`](crate::Async) and the current reactor.
//!
//! Addresses are anything [`std::net::ToSocketAddrs`] accepts: a
//! [`SocketAddr`](std::net::SocketAddr), `(&str, u16)`, `"host:port"`, ...
//! Every resolved address is tried in turn and the last error is returned if
//! none works. Name resolution itself is the standard library's and blocks
//! the calling thread; pass literal addresses where that matters.

mod socket;
mod split;
mod split_owned;
mod tcp_listener;
mod tcp_stream;

pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use tcp_listener::{Incoming, TcpListener};
pub use tcp_stream::TcpStream;
