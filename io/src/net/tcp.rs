//! The halves of a split [`TcpStream`], with tokio's names (`tokio::net::tcp`).
//!
//! [`TcpStream::split`] borrows the stream and returns a [`ReadHalf`] and a
//! [`WriteHalf`]; [`TcpStream::into_split`] consumes it and returns an
//! [`OwnedReadHalf`] and an [`OwnedWriteHalf`] that can move to different
//! tasks and be put back together with `reunite`. The halves are the
//! crate's generic stream halves (the same code serves every ember stream)
//! named for TCP. Reads and writes wake independently.

use std::error::Error;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use super::TcpStream;
use crate::split;

/// The read half of a [`TcpStream`], borrowed from it by
/// [`TcpStream::split`]: `AsyncRead`, `readable`, `ready`, `try_read`,
/// `try_read_vectored`, `peek`, `poll_peek`, `try_peek`, `peer_addr` and
/// `local_addr`.
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
///     // Spelled out: `AsyncReadExt` has a `split` of its own.
///     let (mut read, mut write) = TcpStream::split(&mut client);
///     write.write_all(b"hi").await?;
///     let mut buf = [0; 2];
///     server.read_exact(&mut buf).await?;
///     server.write_all(&buf).await?;
///     read.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     Ok(())
/// })
/// # }
/// ```
pub type ReadHalf<'a> = split::ReadHalf<&'a TcpStream>;

/// The write half of a [`TcpStream`], borrowed from it by
/// [`TcpStream::split`]: `AsyncWrite` (one `writev` per vectored write;
/// `poll_close` shuts down the write side), `writable`, `ready`,
/// `try_write`, `try_write_vectored`, `is_write_vectored`, `peer_addr` and
/// `local_addr`.
///
/// # Examples
///
/// See [`ReadHalf`].
pub type WriteHalf<'a> = split::WriteHalf<&'a TcpStream>;

/// The read half of a [`TcpStream`], owned, from [`TcpStream::into_split`]:
/// the methods of [`ReadHalf`] and `reunite`.
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
///     assert_eq!(read.peer_addr()?, write.peer_addr()?);
///     let _stream: TcpStream = read.reunite(write).expect("halves of one stream");
///     Ok(())
/// })
/// # }
/// ```
pub type OwnedReadHalf = split::ReadHalf<Arc<TcpStream>>;

/// The write half of a [`TcpStream`], owned, from [`TcpStream::into_split`]:
/// the methods of [`WriteHalf`], `reunite` and `forget`.
///
/// Dropping it shuts down the write side of the stream (the peer reads end
/// of stream), unless it is given back with `reunite` or dropped with
/// `forget`, as in tokio.
///
/// # Examples
///
/// See [`OwnedReadHalf`].
pub type OwnedWriteHalf = split::WriteHalf<Arc<TcpStream>>;

/// The two halves given to `reunite` came from different streams; both are
/// handed back.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::tcp::ReuniteError;
/// use ember_io::net::{TcpListener, TcpStream};
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let (r1, w1) = TcpStream::connect(listener.local_addr()?).await?.into_split();
///     let (r2, w2) = TcpStream::connect(listener.local_addr()?).await?.into_split();
///     let ReuniteError(r1, w2) = r1.reunite(w2).expect_err("different streams");
///     r1.reunite(w1).expect("same stream");
///     r2.reunite(w2).expect("same stream");
///     Ok(())
/// })
/// # }
/// ```
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same TcpStream")
    }
}

impl Error for ReuniteError {}

split::socket_halves!(TcpStream, SocketAddr, ReuniteError);
