//! ember: a small, fast async runtime.
//!
//! ember runs `Future`s on a hand-written executor over a portable readiness
//! reactor (mio: epoll, kqueue). It is libevent and libuv as idiomatic async
//! Rust: one event loop per thread, one consistent interface over the
//! kernel's readiness APIs, and the futures-io traits on every I/O type so
//! the crates you already use plug in.
//!
//! ```
//! use ember::io::{AsyncReadExt, AsyncWriteExt};
//! use ember::net::{TcpListener, TcpStream};
//!
//! ember::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = ember::spawn(async move {
//!         let (mut socket, _) = listener.accept().await?;
//!         let mut buf = [0u8; 5];
//!         socket.read_exact(&mut buf).await?;
//!         socket.write_all(&buf).await?;
//!         std::io::Result::Ok(())
//!     });
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello").await?;
//!     let mut reply = [0u8; 5];
//!     client.read_exact(&mut reply).await?;
//!     assert_eq!(&reply, b"hello");
//!     server.await??;
//!     std::io::Result::Ok(())
//! })?;
//! # std::io::Result::Ok(())
//! ```
//!
//! # How it fits together
//!
//! The workspace is layered, and dependencies point one way:
//! - [`ember_timer`]: the hierarchical timing wheel, the pausable clock and
//!   the [`time`] futures.
//! - [`ember_reactor`]: the mio poller, the registry of I/O sources with
//!   per-direction readiness and wakers, cross-thread unpark, signals. Each
//!   turn of its driver also fires the timers that are due.
//! - [`ember_io`]: [`io::Async`], [`net`] sockets and [`signal`] streams on top
//!   of the reactor.
//! - [`ember_executor`]: tasks and the scheduler. It knows nothing of I/O: it
//!   calls a park hook when it has nothing to run.
//! - this crate joins the executor and the reactor: a [`Runtime`] is a
//!   scheduler whose park hook turns the reactor.
//!
//! A thread is inside a runtime when it has entered both halves: the
//! executor's context (which scheduler [`spawn`] uses, its blocking pool)
//! and the reactor's driver context (sockets, signals, timers and the coop
//! budget). [`Runtime::block_on`], the runtime's own threads and
//! [`runtime::Handle::enter`] enter both with one guard; outside, everything
//! that needs a runtime panics with one message, which says how to start
//! one.

// Denied, not forbidden: the `hyper` module (behind its feature) allows it
// for the one place that needs it, filling hyper's uninitialised read
// buffer; the rest of the crate has none.
#![deny(unsafe_code)]

mod coop;
pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod net;
pub mod process;
pub mod runtime;
pub mod signal;
pub mod task;
pub mod time;

pub use ember_macros::{main, test};
pub use runtime::{Builder, Runtime};
pub use task::{spawn, spawn_blocking, spawn_local};

/// Runs a future to completion on a fresh current-thread runtime.
///
/// Shorthand for `Runtime::new()?.block_on(future)`: [`spawn`], timers and
/// sockets all work inside it, and tasks still pending when it returns are
/// dropped with the runtime.
///
/// # Panics
///
/// If the runtime cannot be created (the process is out of file
/// descriptors), or if called from inside a runtime (use `.await` there).
///
/// # Examples
///
/// ```
/// let answer = ember::block_on(async {
///     let task = ember::spawn(async { 6 * 7 });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match Runtime::new() {
        Ok(rt) => rt.block_on(future),
        Err(e) => panic!("failed to start the ember runtime: {e}"),
    }
}

/// The README's example, compiled as a doctest so it cannot rot.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
