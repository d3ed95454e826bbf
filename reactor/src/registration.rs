//! [`Registration`]: a source's membership in the reactor, owned by the I/O
//! object (for example `ember_io::Async<T>`).
//!
//! It owns one slab slot and the source's [`ScheduledIo`]; dropping it frees
//! the slot. It does not own the source itself, so the owner calls
//! [`Registration::deregister`] before closing the fd.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::coop;
use crate::handle::Handle;
use crate::ready::{Direction, Interest, ReadyEvent};
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

    /// Poll for readiness in `dir`, for the `poll_*` methods of I/O types.
    ///
    /// Ready when the direction is ready, closed in that direction, or the
    /// source reported an error. Returning `Ready` spends one unit of the
    /// task's coop budget; when the budget is spent this wakes `cx` and
    /// returns `Pending` so the task yields.
    ///
    /// Each direction has **one** slot for the wakers of this method: when
    /// two tasks poll the same direction, only the most recent one is woken
    /// (as with tokio's `poll_*` methods). Code that may wait on one
    /// direction from several tasks at once uses [`ready`](Registration::ready)
    /// or [`async_io`](Registration::async_io) instead.
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

    /// Waits until the source is ready for `interest`; any number of tasks
    /// may wait at once, and each is woken by the event it waits for.
    ///
    /// The returned event says which readiness was seen; hand it to
    /// [`clear_readiness`](Registration::clear_readiness) once an operation
    /// reports `WouldBlock`. Completing spends one unit of the coop budget.
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future frees its place in the waiter list
    /// and loses no readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use std::future::Future;
    /// use std::io::Write;
    /// use std::pin::pin;
    /// use std::task::{Context, Poll};
    /// use ember_reactor::{Driver, Interest};
    /// # struct Noop;
    /// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
    /// # let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
    /// # let mut cx = Context::from_waker(&waker);
    ///
    /// let mut driver = Driver::new(ember_timer::Clock::real())?;
    /// let (mut a, mut b) = mio::net::UnixStream::pair()?;
    /// let reg = driver.handle().register(&mut a, mio::Interest::READABLE)?;
    /// // Two waiters on the same direction.
    /// let mut first = pin!(reg.ready(Interest::READABLE));
    /// let mut second = pin!(reg.ready(Interest::READABLE));
    /// assert!(first.as_mut().poll(&mut cx).is_pending());
    /// assert!(second.as_mut().poll(&mut cx).is_pending());
    /// b.write_all(b"x")?;
    /// // A turn may end before the event arrives (EINTR): turn until it has.
    /// while first.as_mut().poll(&mut cx).is_pending() {
    ///     driver.turn(None)?;
    /// }
    /// assert!(matches!(second.as_mut().poll(&mut cx), Poll::Ready(Ok(_))));
    /// reg.deregister(&mut a)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn ready(&self, interest: Interest) -> Readiness<'_> {
        Readiness {
            waiter: Waiter::new(&self.io, interest),
        }
    }

    /// The usual I/O loop, for any number of concurrent callers: wait for
    /// readiness in `dir` (as [`ready`](Registration::ready)), run `op`; if
    /// it fails with `WouldBlock`, clear the readiness and wait again; any
    /// other result is returned.
    ///
    /// # Errors
    ///
    /// Whatever `op` returns other than `WouldBlock`, or an error if the
    /// reactor has shut down.
    ///
    /// # Cancel safety
    ///
    /// `op` has either run to completion or not run at all when the future
    /// is dropped.
    pub async fn async_io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        let mut waiter = Waiter::new(&self.io, dir.interest());
        std::future::poll_fn(|cx| loop {
            let event = match waiter.poll(cx) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                result => return Poll::Ready(result),
            }
        })
        .await
    }

    /// Runs `op` now if the source is marked ready in `dir`, without waiting
    /// (tokio's `try_io`): returns `WouldBlock` at once, without calling
    /// `op`, when it is not; clears the readiness if `op` itself returns
    /// `WouldBlock`, so that a `ready().await; try_io(..)` loop waits for the
    /// next event instead of spinning.
    ///
    /// # Errors
    ///
    /// `WouldBlock` as above, an error if the reactor has shut down, or what
    /// `op` returns.
    pub fn try_io<R>(&self, dir: Direction, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        let event = match self.io.ready_event(dir.interest()) {
            Some(Ok(event)) => event,
            Some(Err(e)) => return Err(e),
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_readiness(event);
                Err(e)
            }
            result => result,
        }
    }

    /// The readiness recorded now for `interest`, without waiting or
    /// spending budget; `None` if none.
    ///
    /// # Errors
    ///
    /// If the reactor has shut down.
    pub fn readiness(&self, interest: Interest) -> Option<io::Result<ReadyEvent>> {
        self.io.ready_event(interest)
    }

    /// Clear the readiness seen in `event` for its direction, unless an event
    /// arrived since `event` was observed (then the new readiness is kept).
    /// Closed states are final and never cleared.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event);
    }

    /// The usual I/O loop for `poll_*` methods: wait for readiness in `dir`
    /// (one waiter per direction, see [`poll_ready`](Registration::poll_ready)),
    /// run `op`; if it fails with `WouldBlock`, clear the readiness and wait
    /// again; any other result is returned.
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

/// One `async fn` waiter's place in a source's waiter list: taken at the
/// first `Pending`, freed on drop.
struct Waiter<'a> {
    io: &'a ScheduledIo,
    interest: Interest,
    key: Option<usize>,
}

impl<'a> Waiter<'a> {
    fn new(io: &'a ScheduledIo, interest: Interest) -> Waiter<'a> {
        Waiter {
            io,
            interest,
            key: None,
        }
    }

    /// Ready (spending a unit of coop budget) or `Pending` with `cx`'s waker
    /// stored in this waiter's entry.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        match self.io.poll_waiter(cx, self.interest, &mut self.key) {
            Poll::Ready(Ok(event)) => coop::poll_proceed(cx).map(|()| Ok(event)),
            other => other,
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.io.remove_waiter(key);
        }
    }
}

/// The future of [`Registration::ready`]: completes when the source is
/// ready for its interest. Any number of them may wait on one source.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Readiness<'a> {
    waiter: Waiter<'a>,
}

impl Future for Readiness<'_> {
    type Output = io::Result<ReadyEvent>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.waiter.poll(cx)
    }
}

impl fmt::Debug for Readiness<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readiness")
            .field("interest", &self.waiter.interest)
            .field("waiting", &self.waiter.key.is_some())
            .finish()
    }
}
