//! Asynchronous I/O: the futures-io traits, their extension methods, and
//! [`Async`] for adapting any file descriptor.
//!
//! ember does not define its own read/write traits: it uses the
//! [`futures_io`] ones, which the wider ecosystem (codecs, TLS, HTTP) builds
//! on. The extension traits and helpers come from `futures-util`.
//!
//! ember's own utilities work on any futures-io stream:
//! [`copy_bidirectional`] (a proxy's inner loop, half-close included),
//! [`duplex`] (an in-memory, bounded pair of connected streams) and rate
//! limits ([`RateLimited`] over a [`RateLimit`], shared through a
//! [`RateGroup`]).
//!
//! ```
//! use ember::io::{AsyncReadExt, AsyncWriteExt};
//!
//! ember::block_on(async {
//!     let mut out = Vec::new();
//!     ember::io::copy(&b"hello"[..], &mut out).await.unwrap();
//!     assert_eq!(out, b"hello");
//! });
//! ```

pub use ember_io::stdio::{stderr, stdin, stdout, Stderr, Stdin, Stdout};
pub use ember_io::{
    copy, copy_bidirectional, duplex, Async, Copy, CopyBidirectional, DuplexStream, Interest,
    RateGroup, RateLimit, RateLimited, Ready, ReadyGuard, TryIoError,
};
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_util::io::{
    copy_buf, empty, repeat, sink, AllowStdIo, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt,
    AsyncWriteExt, BufReader, BufWriter, Cursor, Empty, LineWriter, ReadHalf, Repeat, ReuniteError,
    Sink, WriteHalf,
};
pub use std::io::{Error, ErrorKind, Result, SeekFrom};

/// Splits any stream that reads and writes into a read half and a write
/// half, which share it through a lock (tokio's `io::split`). For a
/// [`TcpStream`](crate::net::TcpStream), its own
/// [`into_split`](crate::net::TcpStream::into_split) is cheaper: its halves
/// need no lock and wake independently.
///
/// The halves are futures' [`ReadHalf`] and [`WriteHalf`];
/// [`ReadHalf::reunite`] puts them back together, or fails with a
/// [`ReuniteError`].
///
/// # Examples
///
/// ```
/// use ember::io::{AsyncReadExt, AsyncWriteExt, Cursor};
///
/// ember::block_on(async {
///     let (mut read, mut write) = ember::io::split(Cursor::new(Vec::new()));
///     write.write_all(b"hello").await?;
///     let mut out = Vec::new();
///     read.read_to_end(&mut out).await?; // the cursor is now at the end
///     assert!(out.is_empty());
///     let cursor = read.reunite(write).expect("halves of one stream");
///     assert_eq!(cursor.into_inner(), b"hello");
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub fn split<T: AsyncRead + AsyncWrite>(stream: T) -> (ReadHalf<T>, WriteHalf<T>) {
    AsyncReadExt::split(stream)
}
