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
pub use ember_io::Async;
pub use ember_io::{
    copy_bidirectional, duplex, CopyBidirectional, DuplexStream, RateGroup, RateLimit, RateLimited,
};
pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use futures_util::io::{
    copy, copy_buf, empty, repeat, sink, AllowStdIo, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt,
    AsyncWriteExt, BufReader, BufWriter, Cursor, Empty, LineWriter, ReadHalf, Repeat, ReuniteError,
    Sink, WriteHalf,
};
pub use std::io::{Error, ErrorKind, Result, SeekFrom};
