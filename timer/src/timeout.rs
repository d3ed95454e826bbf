//! [`Timeout`]: a future raced against a [`Sleep`], plus its constructors
//! ([`timeout`] and [`timeout_at`] on the current timer,
//! [`Handle::timeout`] and [`Handle::timeout_at`] on a given one) and the
//! [`Elapsed`] error.

use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::driver::Handle;
use crate::instant::Instant;
use crate::sleep::{sleep_until, Sleep};

/// Requires `future` to complete within `duration`, else yields
/// `Err(`[`Elapsed`]`)`.
///
/// The inner future is polled first on every poll, so one that is ready
/// completes with `Ok` even if the deadline has passed. The deadline
/// saturates (`Duration::MAX` means never); with `Duration::ZERO` the inner
/// future is polled once and, if pending, the result is `Err(Elapsed)` at
/// once, with no timer entry.
///
/// The clock starts at the first poll that finds the inner future pending
/// (tokio starts it at the call to `timeout`). For `timeout(d, f).await` that
/// is the same moment; it makes a timeout whose future is ready at once
/// cost nothing: no clock read, no context lookup, no wheel entry. To count
/// from an earlier instant, use [`timeout_at`]; to wait on a given timer
/// rather than the current thread's, [`Handle::timeout`].
///
/// # Cancel safety
///
/// Dropping a `Timeout` drops the inner future and cancels the deadline.
///
/// # Panics
///
/// Polling panics if the inner future is pending, the deadline has not
/// passed, and there is no current timer (see [`Handle::current`]).
///
/// # Examples
///
/// ```
/// use ember_timer::timeout;
/// use std::future::{self, Future};
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
/// use std::time::Duration;
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let noop = Waker::from(std::sync::Arc::new(Noop));
/// let mut cx = Context::from_waker(&noop);
///
/// // Ready at once: no clock read, no timer needed.
/// let mut quick = pin!(timeout(Duration::from_secs(1), future::ready(7)));
/// assert_eq!(quick.as_mut().poll(&mut cx), Poll::Ready(Ok(7)));
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        value: future.into_future(),
        delay: Delay::After(duration, None),
    }
}

/// Requires `future` to complete before `deadline`, else yields
/// `Err(`[`Elapsed`]`)`. See [`timeout`].
///
/// # Panics
///
/// As [`timeout`].
///
/// # Examples
///
/// ```
/// use ember_timer::{timeout_at, Instant};
/// use std::future::{self, Future};
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
///
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let noop = Waker::from(std::sync::Arc::new(Noop));
/// let mut cx = Context::from_waker(&noop);
/// // Already past: the inner future is still polled first.
/// let mut t = pin!(timeout_at(Instant::now(), future::ready("done")));
/// assert_eq!(t.as_mut().poll(&mut cx), Poll::Ready(Ok("done")));
///
/// let mut t = pin!(timeout_at(Instant::now(), future::pending::<()>()));
/// assert!(matches!(t.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
/// ```
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        value: future.into_future(),
        delay: Delay::Sleep(sleep_until(deadline)),
    }
}

impl Handle {
    /// Requires `future` to complete within `duration` on this timer: like
    /// [`timeout`], but bound to this handle instead of the current thread's
    /// timer (see [`Handle::sleep`]). The clock starts at the first poll that
    /// finds `future` pending.
    ///
    /// # Cancel safety
    ///
    /// Dropping the `Timeout` drops the inner future and cancels the
    /// deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_timer::{Clock, Driver};
    /// use std::future::{self, Future};
    /// use std::pin::pin;
    /// use std::task::{Context, Poll, Waker};
    /// use std::time::Duration;
    ///
    /// let mut driver = Driver::new(Clock::paused());
    /// # struct Noop;
    /// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
    /// # let noop = Waker::from(std::sync::Arc::new(Noop));
    /// let mut cx = Context::from_waker(&noop);
    ///
    /// let mut quick = pin!(driver.handle().timeout(Duration::from_secs(1), future::ready(7)));
    /// assert_eq!(quick.as_mut().poll(&mut cx), Poll::Ready(Ok(7)));
    ///
    /// let mut slow = pin!(driver.handle().timeout(Duration::from_secs(30), future::pending::<()>()));
    /// assert!(slow.as_mut().poll(&mut cx).is_pending());
    /// driver.handle().clock().advance(Duration::from_secs(30));
    /// driver.process();
    /// assert!(matches!(slow.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
    /// ```
    pub fn timeout<F: IntoFuture>(&self, duration: Duration, future: F) -> Timeout<F::IntoFuture> {
        Timeout {
            value: future.into_future(),
            delay: Delay::After(duration, Some(self.clone())),
        }
    }

    /// Requires `future` to complete before `deadline` on this timer: like
    /// [`timeout_at`], but bound to this handle (see [`Handle::sleep`]).
    ///
    /// # Cancel safety
    ///
    /// As [`Handle::timeout`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_timer::{Clock, Driver};
    /// use std::future::{pending, Future};
    /// use std::pin::pin;
    /// use std::task::{Context, Poll, Waker};
    /// use std::time::Duration;
    ///
    /// let mut driver = Driver::new(Clock::paused());
    /// let handle = driver.handle().clone();
    /// # struct Noop;
    /// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
    /// # let noop = Waker::from(std::sync::Arc::new(Noop));
    /// let mut cx = Context::from_waker(&noop);
    ///
    /// let mut late = pin!(handle.timeout_at(handle.now() + Duration::from_secs(3), pending::<()>()));
    /// assert!(late.as_mut().poll(&mut cx).is_pending());
    /// handle.clock().advance(Duration::from_secs(3));
    /// driver.process();
    /// assert!(matches!(late.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
    /// ```
    pub fn timeout_at<F: IntoFuture>(
        &self,
        deadline: Instant,
        future: F,
    ) -> Timeout<F::IntoFuture> {
        Timeout {
            value: future.into_future(),
            delay: Delay::Sleep(self.sleep_until(deadline)),
        }
    }
}

pin_project_lite::pin_project! {
    /// A future with a deadline; created by [`timeout`] and [`timeout_at`]
    /// (on the current timer) and by [`Handle::timeout`] and
    /// [`Handle::timeout_at`] (on that handle's timer). Its output is
    /// `Ok(output)` if the inner future completed first, else
    /// `Err(Elapsed)`.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        value: F,
        delay: Delay,
    }
}

/// A [`Timeout`]'s deadline: a duration (and the handle it is bound to, if
/// any) until the first pending poll, then a [`Sleep`] (which is `Unpin`).
#[derive(Debug)]
enum Delay {
    After(Duration, Option<Handle>),
    Sleep(Sleep),
}

impl<F> Timeout<F> {
    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// Gives back the inner future, cancelling the deadline.
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let expired = match this.delay {
            Delay::Sleep(delay) => Pin::new(delay).poll(cx),
            Delay::After(duration, on) => {
                // The clock starts now; a zero duration has elapsed already.
                let (delay, expired) = Sleep::start(*duration, on.take(), cx);
                *this.delay = Delay::Sleep(delay);
                expired
            }
        };
        match expired {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The error of a [`Timeout`] whose deadline passed first. Converts into
/// an [`io::Error`] of kind [`TimedOut`](io::ErrorKind::TimedOut).
///
/// ```
/// use ember_timer::{timeout_at, Instant};
/// use std::future::{pending, Future};
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let noop = Waker::from(std::sync::Arc::new(Noop));
///
/// let mut late = pin!(timeout_at(Instant::now(), pending::<()>()));
/// let Poll::Ready(Err(elapsed)) = late.as_mut().poll(&mut Context::from_waker(&noop)) else {
///     unreachable!()
/// };
/// assert_eq!(elapsed.to_string(), "deadline has elapsed");
/// let err = std::io::Error::from(elapsed);
/// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(elapsed: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, elapsed)
    }
}
