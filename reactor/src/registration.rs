//! [`Registration`]: a source's membership in the reactor, owned by the I/O
//! object (for example `ember_io::Async<T>`).
//!
//! It owns one slab slot and the source's [`ScheduledIo`]; dropping it frees
//! the slot. It does not own the source itself, so the owner calls
//! [`Registration::deregister`] before closing the fd.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::coop;
use crate::handle::Handle;
use crate::ready::{Direction, ReadyEvent};
use crate::scheduled_io::ScheduledIo;

/// A source registered with a reactor; `Send + Sync`, so both halves of a
/// split stream can share it (reader and writer wake independently).
///
/// # Examples
///
/// Reading from a non-blocking socket with [`poll_io`](Registration::poll_io):
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::io::{Read, Write};
/// use std::task::{Context, Poll};
/// use ember_reactor::{Direction, Driver};
/// use mio::{net::UnixStream, Interest};
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
/// # let mut cx = Context::from_waker(&waker);
///
/// let mut driver = Driver::new(ember_timer::Clock::real())?;
/// let (mut a, mut b) = UnixStream::pair()?;
/// let reg = driver.handle().register(&mut a, Interest::READABLE)?;
/// b.write_all(b"hi")?;
/// let mut buf = [0; 2];
/// loop {
///     match reg.poll_io(&mut cx, Direction::Read, || (&a).read(&mut buf)) {
///         Poll::Ready(n) => break assert_eq!(n?, 2),
///         Poll::Pending => driver.turn(None)?,
///     }
/// }
/// reg.deregister(&mut a)?;
/// # Ok(())
/// # }
/// ```
pub struct Registration {
    handle: Handle,
    io: Arc<ScheduledIo>,
}

impl Registration {
    pub(crate) fn new(handle: Handle, io: Arc<ScheduledIo>) -> Registration {
        Registration { handle, io }
    }

    pub(crate) fn token(&self) -> mio::Token {
        self.io.token()
    }

    /// Poll for readiness in `direction`.
    ///
    /// Ready when the direction is ready, closed in that direction, or the
    /// source reported an error. Returning `Ready` spends one unit of the
    /// task's [`coop`] budget; when the budget is spent this wakes `cx` and
    /// returns `Pending` so the task yields. Otherwise `Pending` stores `cx`'s
    /// waker in the direction's slot (one waiter per direction: the last
    /// poller wins).
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    pub fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<ReadyEvent>> {
        match self.io.poll_readiness(cx, dir) {
            Poll::Ready(Ok(event)) => match coop::poll_proceed(cx) {
                Poll::Ready(()) => Poll::Ready(Ok(event)),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }

    /// Clear the readiness seen in `event` for its direction, unless an event
    /// arrived since `event` was observed (then the new readiness is kept).
    /// Closed states are final and never cleared.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event);
    }

    /// The usual I/O loop: wait for readiness in `dir`, run `op`; if it
    /// fails with `WouldBlock`, clear the readiness and wait again; any other
    /// result is returned.
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`, or the error of
    /// [`poll_ready`](Registration::poll_ready).
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.poll_ready(cx, dir) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                result => return Poll::Ready(result),
            }
        }
    }

    /// Remove `source` from the OS poller. Call it before closing the fd; the
    /// slot itself is freed when the `Registration` is dropped.
    ///
    /// # Errors
    ///
    /// The OS error if the source was not registered with this reactor.
    pub fn deregister(&self, source: &mut impl mio::event::Source) -> io::Result<()> {
        self.handle.inner.registry.deregister(source)
    }

    /// The reactor this source is registered with.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.handle.inner.release(&self.io);
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("token", &self.io.token())
            .finish_non_exhaustive()
    }
}
