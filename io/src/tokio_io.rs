//! tokio's I/O traits on ember's I/O types (feature `tokio-io`).
//!
//! This module owns one thing: `tokio::io::AsyncRead` and
//! `tokio::io::AsyncWrite` for the types that already implement the
//! futures-io traits, so that crates written against tokio's traits
//! (tokio-util's `Framed`, tokio-rustls, ...) take ember's types directly,
//! with no `compat()` wrapper. Only the traits come from tokio (no default
//! features): no tokio runtime or reactor is started, and every impl runs
//! the type's own futures-io method, so readiness, wake-ups and the
//! cooperative budget are ember's.
//!
//! Reads hand the futures-io method the unfilled part of tokio's
//! [`ReadBuf`] after `initialize_unfilled` (which zeroes only what the
//! `ReadBuf` does not already know to be initialised): this crate forbids
//! `unsafe`, and a futures-io read takes `&mut [u8]`. tokio's
//! `AsyncSeek` (`start_seek`/`poll_complete`) needs a pending-seek slot in
//! `fs::File` and is not implemented yet; no ember type implements
//! futures' `AsyncBufRead`, so there is nothing to forward for it.
//!
//! A new ember stream gets the traits with one line in the macro calls at
//! the end of this file.
//!
//! # Examples
//!
//! ```
//! # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
//! use tokio::io::{AsyncRead, AsyncWrite};
//!
//! fn takes_tokio_io<T: AsyncRead + AsyncWrite + Unpin>(_: &T) {}
//!
//! # fn main() -> std::io::Result<()> {
//! block_on(async {
//!     let listener = ember_io::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let stream = ember_io::net::TcpStream::connect(listener.local_addr()?).await?;
//!     takes_tokio_io(&stream);
//!     let (read, write) = stream.into_split();
//!     fn reader<R: AsyncRead>(_: &R) {}
//!     fn writer<W: AsyncWrite>(_: &W) {}
//!     reader(&read);
//!     writer(&write);
//!     Ok(())
//! })
//! # }
//! ```

use std::io::{self, IoSlice};
use std::ops::Deref;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::ReadBuf;

use crate::split::{ReadHalf, Stream, WriteHalf};
use crate::stdio::{Stderr, Stdin, Stdout};
use crate::{fs, net, process, Async, DuplexStream, RateLimited};

/// tokio's `poll_read` through a futures-io `poll_read`.
fn poll_read_buf<R: futures_io::AsyncRead + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let dst = buf.initialize_unfilled();
    let len = dst.len();
    let n = ready!(reader.poll_read(cx, dst))?;
    if n > len {
        // `advance` would panic: report the broken reader instead.
        return Poll::Ready(Err(io::Error::other(
            "poll_read reported more bytes than the buffer holds",
        )));
    }
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// `tokio::io::AsyncRead` for each `[generics] Type`, through its
/// futures-io `AsyncRead`.
macro_rules! tokio_read {
    ($([$($generics:tt)*] $ty:ty),* $(,)?) => {$(
        impl<$($generics)*> tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_buf(self, cx, buf)
            }
        }
    )*};
}

/// `tokio::io::AsyncWrite` for each `[generics] Type => vectored`, through
/// its futures-io `AsyncWrite` (`poll_shutdown` is `poll_close`).
/// `vectored` is whether its `poll_write_vectored` writes all the buffers
/// at once (one `writev` for sockets), tokio's `is_write_vectored`.
macro_rules! tokio_write {
    ($([$($generics:tt)*] $ty:ty => $vectored:expr),* $(,)?) => {$(
        impl<$($generics)*> tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                $vectored
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_close(self, cx)
            }
        }
    )*};
}

// Sockets: TcpStream, UnixStream, their borrowed and owned halves (the
// generic halves serve every ember stream), the child process pipes, and
// `Async<T>` for user handles. Add a line here for each new stream type.
tokio_read!(
    [] net::TcpStream,
    ['a] &'a net::TcpStream,
    [] net::UnixStream,
    ['a] &'a net::UnixStream,
    [] process::ChildStdout,
    [] process::ChildStderr,
    [P: Deref<Target: Stream> + Unpin] ReadHalf<P>,
    [T: std::io::Read] Async<T>,
);
tokio_write!(
    [] net::TcpStream => true,
    ['a] &'a net::TcpStream => true,
    [] net::UnixStream => true,
    ['a] &'a net::UnixStream => true,
    [] process::ChildStdin => true,
    [P: Deref<Target: Stream> + Unpin] WriteHalf<P> => true,
    // `Write::write_vectored` of a user handle may write only the first
    // buffer: say so.
    [T: std::io::Write] Async<T> => false,
);

// In-memory and pool-backed streams, and the rate limiter over any of them.
tokio_read!(
    [] DuplexStream,
    [] fs::File,
    [] Stdin,
    [S: futures_io::AsyncRead] RateLimited<S>,
);
tokio_write!(
    [] DuplexStream => true,
    [] fs::File => false,
    [] Stdout => false,
    [] Stderr => false,
    [S: futures_io::AsyncWrite] RateLimited<S> => false,
);
