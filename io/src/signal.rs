//! Unix signals as async streams: [`Signals`] and [`ctrl_c`].
//!
//! The reactor installs one process-wide handler per signal (through
//! signal-hook-registry) that writes the signal number to its self-pipe; the
//! reactor then hands it to every [`Signals`] stream that asked for it. Any
//! number of streams, in any number of runtimes, each see every signal they
//! asked for. Signals delivered while nothing listens for them are not
//! queued, and several deliveries of one signal before the stream is polled
//! may be reported once.
//!
//! Once a handler is installed for a signal, the signal's default action
//! (for example, terminating the process on `SIGINT`) no longer happens,
//! even after every stream is dropped.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use ember_reactor::{Handle, SignalListener};
use futures_core::Stream;

pub use libc::{
    SIGALRM, SIGCHLD, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH,
};

/// A stream of the signals received by the process, out of a chosen set.
///
/// Yields the signal number each time one of the signals arrives; never
/// ends.
///
/// # Examples
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// use ember_io::signal::{Signals, SIGHUP, SIGTERM};
///
/// let mut signals = Signals::new([SIGHUP, SIGTERM])?;
/// while let Some(signal) = signals.recv().await {
///     match signal {
///         SIGHUP => println!("reloading configuration"),
///         _ => break,
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Signals {
    listener: SignalListener,
}

impl Signals {
    /// Starts listening for `signals` on the current reactor.
    ///
    /// # Errors
    ///
    /// Returns an error for signals that cannot be handled (`SIGKILL`,
    /// `SIGSTOP`, and the ones signal-hook-registry forbids such as
    /// `SIGSEGV`), or if the handler cannot be installed.
    ///
    /// # Panics
    ///
    /// Panics when called outside an ember runtime.
    pub fn new(signals: impl IntoIterator<Item = i32>) -> io::Result<Signals> {
        let signals: Vec<i32> = signals.into_iter().collect();
        let listener = Handle::current().listen_signals(&signals)?;
        Ok(Signals { listener })
    }

    /// Waits for the next signal. Always returns `Some`: the `Option` is
    /// there for symmetry with tokio and `while let` loops.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a signal is only consumed when the future completes.
    pub async fn recv(&mut self) -> Option<i32> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next signal; see [`recv`](Signals::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        self.listener.poll_recv(cx).map(Some)
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signals").finish_non_exhaustive()
    }
}

impl Stream for Signals {
    type Item = i32;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<i32>> {
        self.get_mut().poll_recv(cx)
    }
}

/// Waits for the process to receive `SIGINT` (Ctrl-C in a terminal).
///
/// The handler is installed when the future is first polled; signals sent
/// before that are not seen. From then on, `SIGINT` no longer terminates the
/// process by default.
///
/// # Errors
///
/// Returns an error if the signal handler cannot be installed.
///
/// # Panics
///
/// Panics when polled outside an ember runtime.
///
/// # Examples
///
/// ```no_run
/// # async fn example() -> std::io::Result<()> {
/// ember_io::signal::ctrl_c().await?;
/// println!("shutting down");
/// # Ok(()) }
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut signals = Signals::new([SIGINT])?;
    signals.recv().await;
    Ok(())
}
