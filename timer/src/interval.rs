//! [`Interval`]: a stream of ticks every `period`, with a policy for ticks
//! missed while the owner was busy ([`MissedTickBehavior`]), and its
//! constructors ([`interval`] and [`interval_at`] on the current timer,
//! [`Handle::interval`] and [`Handle::interval_at`] on a given one).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::driver::Handle;
use crate::instant::Instant;
use crate::sleep::{sleep_until, Sleep};

/// Ticks are "missed" only when more than this late, so ordinary scheduling
/// delay does not switch an interval onto its missed-tick policy.
const MISSED_TOLERANCE: Duration = Duration::from_millis(5);

/// An [`Interval`] on the current timer whose first tick completes
/// immediately and then every `period`. Same as
/// `interval_at(Instant::now(), period)`; to tick on a given timer, use
/// [`Handle::interval`].
///
/// # Panics
///
/// If `period` is zero. Polling panics as [`sleep`](crate::sleep) does: if a
/// tick is not due and there is no current timer.
///
/// # Examples
///
/// ```
/// use ember_timer::interval;
/// use std::task::{Context, Poll, Waker};
/// use std::time::Duration;
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let noop = Waker::from(std::sync::Arc::new(Noop));
/// let mut cx = Context::from_waker(&noop);
///
/// // The first tick is due at once: no timer needed for it.
/// let mut every = interval(Duration::from_millis(10));
/// assert!(every.poll_tick(&mut cx).is_ready());
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// An [`Interval`] on the current timer whose first tick completes at
/// `start`, then every `period`. To tick on a given timer, use
/// [`Handle::interval_at`].
///
/// # Panics
///
/// If `period` is zero.
///
/// ```should_panic
/// ember_timer::interval_at(ember_timer::Instant::now(), std::time::Duration::ZERO);
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    Interval::new(sleep_until(start), period)
}

impl Handle {
    /// An [`Interval`] on this timer whose first tick completes immediately
    /// and then every `period`: like [`interval`], but bound to this handle
    /// instead of the current thread's timer (see [`Handle::sleep`]).
    ///
    /// # Panics
    ///
    /// If `period` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_timer::{Clock, Driver};
    /// use std::task::{Context, Poll, Waker};
    /// use std::time::Duration;
    ///
    /// let mut driver = Driver::new(Clock::paused());
    /// # struct Noop;
    /// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
    /// # let noop = Waker::from(std::sync::Arc::new(Noop));
    /// let mut cx = Context::from_waker(&noop);
    ///
    /// let mut every = driver.handle().interval(Duration::from_millis(10));
    /// let Poll::Ready(start) = every.poll_tick(&mut cx) else { panic!() };
    /// assert!(every.poll_tick(&mut cx).is_pending());
    /// driver.handle().clock().advance(Duration::from_millis(10));
    /// driver.process();
    /// assert_eq!(every.poll_tick(&mut cx), Poll::Ready(start + Duration::from_millis(10)));
    /// ```
    #[track_caller]
    pub fn interval(&self, period: Duration) -> Interval {
        self.interval_at(self.now(), period)
    }

    /// An [`Interval`] on this timer whose first tick completes at `start`,
    /// then every `period`: like [`interval_at`], but bound to this handle.
    ///
    /// # Panics
    ///
    /// If `period` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_timer::{Clock, Driver};
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
    /// let first = handle.now() + Duration::from_secs(1);
    /// let mut every = handle.interval_at(first, Duration::from_secs(1));
    /// assert!(every.poll_tick(&mut cx).is_pending());
    /// handle.clock().advance(Duration::from_secs(1));
    /// driver.process();
    /// assert_eq!(every.poll_tick(&mut cx), Poll::Ready(first));
    /// ```
    #[track_caller]
    pub fn interval_at(&self, start: Instant, period: Duration) -> Interval {
        Interval::new(self.sleep_until(start), period)
    }
}

/// What an [`Interval`] does when ticks were missed: its owner polled it
/// more than 5 ms after a tick was due.
///
/// With a 10 ms period starting at 0 and the owner busy until 35 ms:
///
/// | behaviour | ticks returned from 35 ms on               |
/// |-----------|--------------------------------------------|
/// | `Burst`   | 10, 20, 30 at once, then 40, 50, ...       |
/// | `Delay`   | 10 at once, then 45, 55, ...               |
/// | `Skip`    | 10 at once, then 40, 50, ...               |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Return every missed tick at once, then keep the original schedule.
    #[default]
    Burst,
    /// Return one tick, then schedule the following ones `period` after now.
    Delay,
    /// Return one tick, then resume at the next multiple of `period` on the
    /// original schedule.
    Skip,
}

impl MissedTickBehavior {
    /// The tick after one due at `due`, seen late at `now`.
    fn next_tick(self, due: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => due + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let late = (now - due).as_nanos();
                let into_period = late % period.as_nanos();
                // `into_period < period`, so this fits in a Duration.
                let into_period = Duration::new(
                    (into_period / 1_000_000_000) as u64,
                    (into_period % 1_000_000_000) as u32,
                );
                now + (period - into_period)
            }
        }
    }
}

/// Ticks every `period`; created by [`interval`] and [`interval_at`] (on
/// the current timer) and by [`Handle::interval`] and
/// [`Handle::interval_at`] (on that handle's timer).
///
/// Each tick yields the instant it was scheduled for (not when it was
/// observed). Missed ticks follow [`MissedTickBehavior`].
#[derive(Debug)]
pub struct Interval {
    /// Completes at the next tick; its deadline is that tick's instant.
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Ticks first when `delay` completes, then every `period`.
    #[track_caller]
    fn new(delay: Sleep, period: Duration) -> Interval {
        assert!(!period.is_zero(), "`period` must be non-zero");
        Interval {
            delay,
            period,
            missed_tick_behavior: MissedTickBehavior::default(),
        }
    }

    /// Completes at the next tick with its scheduled instant.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the returned future is dropped before completing, no
    /// tick is lost.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: `Ready` with its scheduled instant, or
    /// `Pending` with `cx`'s waker registered.
    ///
    /// # Panics
    ///
    /// If the tick is not due and there is no timer to wait on, as
    /// [`Sleep`] (see [`Handle::current`]).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.delay).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.delay.deadline();
        let now = self.delay.now();
        let next = if now > due + MISSED_TOLERANCE {
            self.missed_tick_behavior.next_tick(due, now, self.period)
        } else {
            due + self.period
        };
        Pin::new(&mut self.delay).reset(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule: the next tick is one `period` from now.
    ///
    /// ```
    /// use ember_timer::{Clock, Driver};
    /// use std::task::{Context, Waker};
    /// use std::time::Duration;
    ///
    /// let driver = Driver::new(Clock::paused());
    /// # struct Noop;
    /// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
    /// # let noop = Waker::from(std::sync::Arc::new(Noop));
    /// let mut cx = Context::from_waker(&noop);
    /// let mut every = driver.handle().interval(Duration::from_secs(1));
    /// every.reset(); // no immediate first tick any more
    /// assert!(every.poll_tick(&mut cx).is_pending());
    /// ```
    pub fn reset(&mut self) {
        let next = self.delay.now() + self.period;
        Pin::new(&mut self.delay).reset(next);
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The current missed-tick policy.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets the missed-tick policy.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}
