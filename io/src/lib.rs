//! ember's I/O types: [`Async<T>`], TCP sockets and signal streams.
//!
//! This crate owns everything between a file descriptor and a `Future`: it
//! puts descriptors in non-blocking mode, registers them with the current
//! [`ember_reactor`] and turns "would block" into "wait for readiness, then
//! try again". The reactor knows nothing of sockets; this crate knows nothing
//! of tasks or scheduling.
//!
//! # How it works
//!
//! [`Async<T>`] wraps any `T: AsFd`. [`Async::new`] sets `O_NONBLOCK` on the
//! descriptor and registers it with the reactor of the current thread
//! (`ember_reactor::Handle::current()`) for both directions. The reactor is
//! edge-triggered: it records per-direction readiness bits when the OS reports
//! an event, and wakes the tasks waiting for that direction.
//!
//! An I/O operation first waits until its direction is marked ready, then
//! runs the non-blocking system call. When the call fails with
//! [`io::ErrorKind::WouldBlock`](std::io::ErrorKind::WouldBlock) (or, on a
//! stream socket, transfers less than asked, which proves the kernel queue
//! drained), the readiness the call was attempted under is cleared and the
//! operation waits for the next event; any other result, success or error,
//! is returned to the caller. That loop exists once, in `Async`; the socket
//! types are thin wrappers over it. Every readiness check also spends one
//! unit of the task's cooperative budget (`ember_reactor::coop`), so a task
//! that always finds its sockets ready still yields to the others now and
//! then.
//!
//! Waiting comes in two contracts, as in tokio. The `async fn`s (`accept`,
//! `readable`, `writable`, `ready`, `peek`, `read_with`, ...) admit any
//! number of tasks waiting on one direction of one socket, each woken by the
//! event it waits for. The `poll_*` methods (the futures-io impls,
//! `poll_accept`, `poll_peek`, `poll_readable`, ...) keep one waker per
//! direction: only the task that polled last is woken.
//!
//! tokio's readiness API is there too: [`net::TcpStream::readable`] and
//! friends with `try_read`, `try_write`, `try_io`, where a `WouldBlock`
//! clears the readiness so a `readable()` loop sleeps instead of spinning;
//! and [`Async::readable`], which returns a [`ReadyGuard`] (tokio's
//! `AsyncFd` style) and also confirms readiness it already handed out with
//! a non-blocking `poll(2)`, so that a loop running its own system calls on
//! [`Async::get_ref`] does not spin either.
//!
//! [`net::TcpStream`] and [`net::TcpListener`] have the names and behaviour
//! of tokio's types and implement the futures-io
//! [`AsyncRead`](futures_io::AsyncRead) and
//! [`AsyncWrite`](futures_io::AsyncWrite) traits (with one `writev` per
//! vectored write); their split halves are in [`net::tcp`], written once
//! for every stream in [`split`]. [`signal::Signals`] is a stream of the
//! Unix signals delivered to the process, fed by the reactor's signal
//! self-pipe.
//!
//! [`process::Command`] spawns child processes whose pipes are byte streams
//! over `Async` and whose exit the reactor reports (a pidfd on Linux, else
//! `SIGCHLD`), so waiting on any number of children takes no thread; a
//! child dropped unreaped is reaped in the background.
//! The rest of the network surface is there with tokio's names too, each
//! type a thin wrapper over `Async`: [`net::UdpSocket`],
//! [`net::UnixListener`], [`net::UnixStream`] (halves in [`net::unix`]),
//! [`net::UnixDatagram`] and [`net::TcpSocket`]. Listeners do not spin when
//! the process runs out of descriptors (a spare descriptor sheds the queue;
//! see [`net::TcpListener::accept`]), and streams send files with
//! `sendfile(2)` ([`net::TcpStream::send_file`]).
//!
//! The stream utilities work on any futures-io stream, ember's or not:
//! [`copy_bidirectional`] is a proxy's inner loop (both directions, the
//! half-close passed on), [`copy`] its one-way half, [`duplex`] an
//! in-memory, bounded pair of connected streams, and [`RateLimited`] holds a
//! stream to a [`RateLimit`], on its own or shared with others in a
//! [`RateGroup`], refilling its token buckets on ember's timer.
//!
//! # Features
//!
//! `tokio-io` (off by default) implements tokio's `AsyncRead` and
//! `AsyncWrite` on every type that has the futures-io traits (sockets,
//! their halves, `Async<T>`, `DuplexStream`, `fs::File`, stdio,
//! `RateLimited`), so crates written against tokio's traits (tokio-util's
//! codecs, tokio-rustls) take ember's types directly. It depends on `tokio`
//! with no features: the traits only, no tokio runtime.
//!
//! # Runtime context
//!
//! Constructors that register a descriptor (`Async::new`, `TcpStream::connect`,
//! `TcpListener::bind`, `Signals::new`, ...) must run on a thread that has
//! entered a reactor: inside `ember::block_on`, a `Runtime` or
//! `#[ember::main]`. Elsewhere they panic, as tokio's do.
//!
//! # Examples
//!
//! An echo round trip over loopback (the hidden lines build a minimal
//! reactor-driven `block_on`; with the `ember` facade you would use
//! `ember::block_on`):
//!
//! ```
//! # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
//! use ember_io::net::{TcpListener, TcpStream};
//! use futures_util::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # fn main() -> std::io::Result<()> {
//! block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (mut server, _peer) = listener.accept().await?;
//!
//!     client.write_all(b"ping").await?;
//!     let mut buf = [0; 4];
//!     server.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"ping");
//!     Ok(())
//! })
//! # }
//! ```
#![forbid(unsafe_code)]
#![cfg(unix)]

mod async_fd;
mod blocking;
mod copy;
mod duplex;
pub mod fs;
pub mod net;
pub mod process;
mod rate;
pub mod signal;
pub mod split;
pub mod stdio;
#[cfg(feature = "tokio-io")]
mod tokio_io;

pub use async_fd::{Async, ReadyGuard, TryIoError};
pub use copy::{copy, copy_bidirectional, Copy, CopyBidirectional};
pub use duplex::{duplex, DuplexStream};
pub use ember_reactor::{Interest, Ready};
pub use rate::{RateGroup, RateLimit, RateLimited};

/// Not public API: what the `ember` facade needs from this crate's
/// internals. Not covered by semver; anything here may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    use std::io;
    use std::task::{Context, Poll};

    /// Reads from an ember stream (a [`TcpStream`](crate::net::TcpStream),
    /// ...) with the caller's own system call, through the stream's one I/O
    /// loop: waits for read readiness (one waker slot, as `poll_read`), runs
    /// `op`, which must read at most `len` bytes, and clears the readiness
    /// on `WouldBlock` or a short read. `Ok(0)` at once if `len` is 0.
    ///
    /// For `ember::hyper::EmberIo`, which receives straight into hyper's
    /// uninitialised read buffer.
    pub fn poll_read_with<S: crate::split::Stream>(
        stream: &S,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        stream.io().poll_read_with(cx, len, op)
    }
}
