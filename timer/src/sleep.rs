//! [`Sleep`], the future that completes at a deadline, and its
//! constructors [`sleep`] and [`sleep_until`]. A `Sleep` costs nothing
//! until it first has to wait: only then does it take a wheel entry.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::driver::Handle;
use crate::instant::Instant;

/// Waits until `duration` has elapsed on the current timer's clock.
///
/// The deadline is `Instant::now() + duration`, saturating: `Duration::MAX`
/// means never, and nothing panics. The future registers with the current
/// thread's timer ([`Handle::current`]) the first time it has to wait.
///
/// # Panics
///
/// Polling panics if the deadline has not passed and there is no current
/// timer (see [`Handle::current`]).
///
/// # Examples
///
/// ```
/// use ember_timer::{sleep, Clock, Driver};
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
/// use std::time::Duration;
///
/// let mut driver = Driver::new(Clock::paused());
/// let _guard = driver.handle().enter();
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let noop = Waker::from(std::sync::Arc::new(Noop));
/// let mut cx = Context::from_waker(&noop);
///
/// let mut nap = pin!(sleep(Duration::from_millis(100)));
/// assert_eq!(nap.as_mut().poll(&mut cx), Poll::Pending);
/// driver.handle().clock().advance(Duration::from_millis(100));
/// driver.process();
/// assert_eq!(nap.as_mut().poll(&mut cx), Poll::Ready(()));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

/// Waits until `deadline` on the current timer's clock.
///
/// A deadline the driver has already processed past completes on the first
/// poll; one that passed since the driver's last
/// [`process`](crate::Driver::process) completes on the next (as in tokio,
/// this saves reading the clock when polling).
///
/// # Panics
///
/// Polling panics if the deadline has not passed and there is no current
/// timer (see [`Handle::current`]).
///
/// # Examples
///
/// ```
/// use ember_timer::{sleep_until, Instant};
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
/// use std::time::Duration;
///
/// // A deadline in the past needs no timer at all.
/// let mut past = pin!(sleep_until(Instant::now() - Duration::from_secs(1)));
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let noop = Waker::from(std::sync::Arc::new(Noop));
/// let mut cx = Context::from_waker(&noop);
/// assert_eq!(past.as_mut().poll(&mut cx), Poll::Ready(()));
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        entry: None,
        elapsed: false,
    }
}

/// A future that completes at its [`deadline`](Sleep::deadline); created by
/// [`sleep`] and [`sleep_until`].
///
/// Its wheel entry is inserted on the first poll that returns `Pending` and
/// removed when the `Sleep` is dropped, both O(1). Polling from a new task
/// replaces the stored waker (compared with `will_wake` first, so re-polling
/// from the same task does not clone it).
///
/// # Cancel safety
///
/// Dropping a `Sleep` simply cancels it.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    /// The wheel entry, from the first `Pending` poll until drop.
    entry: Option<Entry>,
    /// Set once the sleep is seen to have completed; cleared by `reset`.
    elapsed: bool,
}

/// A registered wheel entry: the slab key is owned by this `Sleep`.
#[derive(Debug)]
struct Entry {
    handle: Handle,
    key: usize,
}

impl Sleep {
    /// The instant at which this sleep completes.
    ///
    /// ```
    /// use ember_timer::{sleep_until, Instant};
    ///
    /// let when = Instant::now();
    /// assert_eq!(sleep_until(when).deadline(), when);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the sleep has completed: once it has a wheel entry, whether
    /// that fired (the next poll returns `Ready`); before its first poll,
    /// whether the clock has reached the deadline.
    ///
    /// ```
    /// use ember_timer::{sleep, Clock, Driver};
    /// use std::time::Duration;
    ///
    /// let driver = Driver::new(Clock::paused());
    /// let _guard = driver.handle().enter();
    /// let nap = sleep(Duration::from_secs(1));
    /// assert!(!nap.is_elapsed());
    /// driver.handle().clock().advance(Duration::from_secs(1));
    /// assert!(nap.is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        if self.elapsed {
            return true;
        }
        match &self.entry {
            Some(entry) => entry.handle.lock().is_fired(entry.key),
            None => self.deadline <= Instant::now(),
        }
    }

    /// Changes the deadline, whether or not the sleep has completed: it then
    /// completes at `deadline` (at once if that has passed). O(1).
    ///
    /// ```
    /// use ember_timer::{sleep, Clock, Driver};
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Waker};
    /// use std::time::Duration;
    ///
    /// let driver = Driver::new(Clock::paused());
    /// let _guard = driver.handle().enter();
    /// # struct Noop;
    /// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
    /// # let noop = Waker::from(std::sync::Arc::new(Noop));
    /// let mut cx = Context::from_waker(&noop);
    /// let mut nap = pin!(sleep(Duration::from_secs(60)));
    /// assert!(nap.as_mut().poll(&mut cx).is_pending());
    ///
    /// let now = driver.handle().clock().now();
    /// nap.as_mut().reset(now);
    /// assert!(nap.as_mut().poll(&mut cx).is_ready());
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        this.elapsed = false;
        let Some(entry) = &this.entry else {
            // Not registered yet: the next poll compares with the clock.
            return;
        };
        if deadline <= entry.handle.clock().now() {
            // Complete at once rather than on the driver's next turn (an
            // Interval bursting through missed ticks relies on this). Wake a
            // waiting task, as the driver would have.
            let waker = entry.handle.lock().fire_now(entry.key);
            this.elapsed = true;
            if let Some(waker) = waker {
                waker.wake();
            }
        } else {
            let tick = entry.handle.deadline_tick(deadline);
            entry.handle.lock().reset(entry.key, tick);
            entry.handle.deadline_added(tick);
        }
    }

    /// The clock this sleep runs on: its driver's once registered, else the
    /// current one.
    pub(crate) fn now(&self) -> Instant {
        match &self.entry {
            Some(entry) => entry.handle.clock().now(),
            None => Instant::now(),
        }
    }

    fn poll_registered(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(entry) = &self.entry else {
            return self.register(cx);
        };
        let mut wheel = entry.handle.lock();
        if wheel.is_fired(entry.key) {
            drop(wheel);
            self.elapsed = true;
            return Poll::Ready(());
        }
        let replaced = wheel.update_waker(entry.key, cx.waker());
        drop(wheel);
        drop(replaced);
        Poll::Pending
    }

    /// First poll: complete if the deadline's tick has been processed
    /// already, else insert an entry. Compared with the wheel rather than the
    /// clock, to save a clock read: a deadline that passed since the driver's
    /// last `process` is fired by the next one.
    fn register(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let handle = match Handle::try_current() {
            Some(handle) => handle,
            // No timer here: fine only if there is nothing to wait for.
            None if self.deadline <= Instant::now() => {
                self.elapsed = true;
                return Poll::Ready(());
            }
            None => Handle::current(),
        };
        let tick = handle.deadline_tick(self.deadline);
        let key = handle.lock().insert_pending(tick, cx.waker());
        match key {
            Some(key) => {
                handle.deadline_added(tick);
                self.entry = Some(Entry { handle, key });
                Poll::Pending
            }
            None => {
                self.elapsed = true;
                Poll::Ready(())
            }
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.elapsed {
            return Poll::Ready(());
        }
        this.poll_registered(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            let waker = entry.handle.lock().remove(entry.key);
            drop(waker);
        }
    }
}
