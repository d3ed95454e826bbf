//! [`Sleep`], the future that completes at a deadline, and its
//! constructors: [`sleep`] and [`sleep_until`] on the current timer,
//! [`Handle::sleep`] and [`Handle::sleep_until`] on a given one. A `Sleep`
//! costs nothing until it first has to wait: only then does it take a wheel
//! entry.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::context;
use crate::driver::Handle;
use crate::instant::Instant;

/// [`Entry::key`] of a sleep bound to a handle that has no wheel entry yet.
const UNREGISTERED: usize = usize::MAX;

/// Waits until `duration` has elapsed on the current timer's clock.
///
/// The deadline is `Instant::now() + duration`, saturating: `Duration::MAX`
/// means never, and nothing panics. The future registers with the current
/// thread's timer ([`Handle::current`]) the first time it has to wait; a
/// zero duration completes on the first poll, with no timer involved. To
/// wait on a given timer, use [`Handle::sleep`].
///
/// # Panics
///
/// Polling panics if the deadline has not passed and there is no current
/// timer (see [`Handle::current`]).
///
/// ```should_panic
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Waker};
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let noop = Waker::from(std::sync::Arc::new(Noop));
///
/// // No runtime on this thread: nothing to wait on.
/// let mut nap = pin!(ember_timer::sleep(std::time::Duration::from_secs(1)));
/// let _ = nap.as_mut().poll(&mut Context::from_waker(&noop));
/// ```
///
/// # Examples
///
/// ```
/// use ember_timer::sleep;
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Poll, Waker};
/// use std::time::Duration;
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let noop = Waker::from(std::sync::Arc::new(Noop));
/// let mut cx = Context::from_waker(&noop);
///
/// // Nothing to wait for: no timer needed.
/// assert_eq!(pin!(sleep(Duration::ZERO)).poll(&mut cx), Poll::Ready(()));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let mut sleep = sleep_until(Instant::now() + duration);
    // The clock was just read: a positive duration puts the deadline ahead.
    sleep.known_ahead = !duration.is_zero();
    sleep
}

/// Waits until `deadline` on the current timer's clock.
///
/// A deadline that has passed on the current timer's clock completes on the
/// first poll, without taking a wheel entry or waiting for the driver's next
/// [`process`](crate::Driver::process). To wait on a given timer, use
/// [`Handle::sleep_until`].
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
        known_ahead: false,
    }
}

impl Handle {
    /// Waits until `duration` has elapsed on this timer's clock, on this
    /// timer: like [`sleep`], but bound to this handle instead of the
    /// current thread's timer. If this timer's driver is dropped before the
    /// sleep completes, it waits on the current timer where it is next
    /// polled, as every [`Sleep`] that outlives its timer does.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_timer::{Clock, Driver};
    /// use std::future::Future;
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
    /// let mut nap = pin!(driver.handle().sleep(Duration::from_millis(100)));
    /// assert_eq!(nap.as_mut().poll(&mut cx), Poll::Pending);
    /// driver.handle().clock().advance(Duration::from_millis(100));
    /// assert_eq!(driver.process(), 1);
    /// assert_eq!(nap.as_mut().poll(&mut cx), Poll::Ready(()));
    /// ```
    pub fn sleep(&self, duration: Duration) -> Sleep {
        let mut sleep = self.sleep_until(self.now() + duration);
        // As in `sleep`: this clock was just read.
        sleep.known_ahead = !duration.is_zero();
        sleep
    }

    /// Waits until `deadline` on this timer's clock, on this timer: like
    /// [`sleep_until`], but bound to this handle (see [`Handle::sleep`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_timer::{Clock, Driver};
    /// use std::future::Future;
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
    /// let at = handle.now() + Duration::from_secs(2);
    /// let mut nap = pin!(handle.sleep_until(at));
    /// assert!(nap.as_mut().poll(&mut cx).is_pending());
    /// handle.clock().advance(Duration::from_secs(2));
    /// driver.process();
    /// assert!(nap.as_mut().poll(&mut cx).is_ready());
    /// ```
    pub fn sleep_until(&self, deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            entry: Some(Entry {
                handle: self.clone(),
                key: UNREGISTERED,
            }),
            elapsed: false,
            known_ahead: false,
        }
    }
}

/// A future that completes at its [`deadline`](Sleep::deadline); created by
/// [`sleep`] and [`sleep_until`] (on the current timer) and by
/// [`Handle::sleep`] and [`Handle::sleep_until`] (on that handle's timer).
///
/// The first poll completes at once if the deadline has passed; otherwise it
/// inserts a wheel entry, which is removed when the `Sleep` is dropped, both
/// O(1). Later polls only look at that entry. To know whether the deadline
/// has passed, the first poll reads the clock, except after [`sleep`] with a
/// positive duration: that read the clock a moment ago and found the
/// deadline ahead, so the first poll only compares it with the last tick the
/// driver processed, saving a second clock read (as costly as the whole
/// insertion on some virtual machines). Such a sleep first polled only after
/// its duration has passed completes on the driver's next turn.
/// Polling from a new task replaces the stored waker (compared with
/// `will_wake` first, so re-polling from the same task does not clone it).
///
/// A `Sleep` may outlive the timer it registered with, for example a future
/// first polled on one runtime and then awaited on another after the first
/// was dropped: the deadline is only an instant, so dropping that timer's
/// [`Driver`](crate::Driver) wakes the sleep, and its next poll waits on the
/// timer current there (or completes, if the deadline has passed on that
/// timer's clock). A sleep made by a [`Handle`] whose driver is gone by its
/// first wait does the same. This holds for [`Timeout`](crate::Timeout) and
/// [`Interval`](crate::Interval) too, which are built on `Sleep`.
///
/// # Panics
///
/// Polling panics if the deadline has not passed and there is no timer to
/// wait on: no current timer (see [`Handle::current`]) for a sleep made by
/// [`sleep`] or [`sleep_until`], and for any sleep whose timer was dropped
/// when none is current where it is polled.
///
/// # Cancel safety
///
/// Dropping a `Sleep` simply cancels it.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    /// The timer this sleep waits on: its wheel entry, from the first
    /// `Pending` poll until drop; before that, for a sleep made by a
    /// [`Handle`], that handle with no key yet ([`UNREGISTERED`]), and
    /// `None` for one that will wait on the current timer. Keeping the bound
    /// handle here rather than in a field of its own keeps `Sleep` (and so
    /// every timeout and interval) as small as before there were bound ones.
    entry: Option<Entry>,
    /// Set once the sleep is seen to have completed; cleared by `reset`.
    elapsed: bool,
    /// The deadline was ahead of the clock when it was set (by `sleep` with
    /// a positive duration): registering compares it with the wheel's last
    /// processed tick instead of reading the clock again. Cleared by `reset`
    /// and when the sleep moves to another timer.
    known_ahead: bool,
}

/// The timer of a `Sleep` and its wheel entry: the slab key is owned by this
/// `Sleep`, or is [`UNREGISTERED`] (a bound sleep that has not waited yet).
#[derive(Debug)]
struct Entry {
    handle: Handle,
    key: usize,
}

impl Entry {
    /// Whether the sleep holds a wheel entry (else it is only bound).
    fn is_registered(&self) -> bool {
        self.key != UNREGISTERED
    }
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
    /// use ember_timer::{Clock, Driver};
    /// use std::time::Duration;
    ///
    /// let driver = Driver::new(Clock::paused());
    /// let nap = driver.handle().sleep(Duration::from_secs(1));
    /// assert!(!nap.is_elapsed());
    /// driver.handle().clock().advance(Duration::from_secs(1));
    /// assert!(nap.is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        if self.elapsed {
            return true;
        }
        if let Some(entry) = self.entry.as_ref().filter(|entry| entry.is_registered()) {
            if entry.handle.lock().is_fired(entry.key) {
                return true;
            }
            if !entry.handle.is_shut_down() {
                return false;
            }
            // Its driver is gone: the next poll re-registers on the current
            // timer, and compares with that one's clock first.
        }
        self.deadline <= self.now()
    }

    /// Changes the deadline, whether or not the sleep has completed: it then
    /// completes at `deadline` (at once if that has passed). O(1).
    ///
    /// ```
    /// use ember_timer::{Clock, Driver};
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Waker};
    /// use std::time::Duration;
    ///
    /// let driver = Driver::new(Clock::paused());
    /// # struct Noop;
    /// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
    /// # let noop = Waker::from(std::sync::Arc::new(Noop));
    /// let mut cx = Context::from_waker(&noop);
    /// let mut nap = pin!(driver.handle().sleep(Duration::from_secs(60)));
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
        this.known_ahead = false;
        let Some(entry) = &this.entry else {
            // Not registered yet: the next poll compares with the clock.
            return;
        };
        if entry.handle.is_shut_down() {
            // Its driver is gone: the next poll registers on the current one.
            this.release();
            return;
        }
        if !entry.is_registered() {
            // Bound, not registered yet: the next poll compares with its clock.
            return;
        }
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
            let mut wheel = entry.handle.lock();
            if entry.handle.is_shut_down() {
                // Shut down since the check above: nothing may be inserted.
                drop(wheel);
                this.release();
                return;
            }
            wheel.reset(entry.key, tick);
            drop(wheel);
            entry.handle.deadline_added(tick);
        }
    }

    /// The clock this sleep runs on: its driver's while registered on (or
    /// bound to) a live one, else the current one.
    pub(crate) fn now(&self) -> Instant {
        match &self.entry {
            Some(entry) if !entry.handle.is_shut_down() => entry.handle.clock().now(),
            _ => Instant::now(),
        }
    }

    fn poll_registered(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(entry) = self.entry.as_ref().filter(|entry| entry.is_registered()) else {
            return self.register(cx);
        };
        let mut wheel = entry.handle.lock();
        if wheel.is_fired(entry.key) {
            drop(wheel);
            self.elapsed = true;
            return Poll::Ready(());
        }
        if entry.handle.is_shut_down() {
            // The driver was dropped before the deadline (read under the lock,
            // so its shutdown has taken or will never see this waker): the
            // deadline is still an instant, so wait for it on the timer here.
            drop(wheel);
            self.release();
            self.known_ahead = false;
            return self.register(cx);
        }
        let replaced = wheel.update_waker(entry.key, cx.waker());
        drop(wheel);
        drop(replaced);
        Poll::Pending
    }

    /// Gives the wheel entry back, if any, and forgets the timer: the sleep
    /// will wait on the current timer.
    fn release(&mut self) {
        if let Some(entry) = self.entry.take() {
            if entry.is_registered() {
                let waker = entry.handle.lock().remove(entry.key);
                drop(waker);
            }
        }
    }

    /// First wait (or first since its driver shut down): completes at once
    /// if the deadline has passed on the clock of the timer it waits on,
    /// without an entry; else inserts one on that timer. That timer is the
    /// one it is bound to while that one runs, else the current one.
    fn register(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(entry) = &self.entry {
            // Bound (`poll_registered` calls this only without a key). It
            // stays bound if it completes without an entry: a reset (an
            // interval's next tick) must wait on the same timer.
            let handle = entry.handle.clone();
            if !handle.is_shut_down() {
                let now = (!self.known_ahead).then(|| handle.clock().now());
                if let Some(poll) = self.register_on(handle, now, cx) {
                    return poll;
                }
            }
            // Its driver is gone: wait on the current one, as a registered
            // sleep does; that one's clock was not read.
            self.entry = None;
            self.known_ahead = false;
        }
        let Some(handle) = Handle::try_current() else {
            return self.no_timer(Instant::now());
        };
        let now = (!self.known_ahead).then(|| handle.clock().now());
        match self.register_on(handle, now, cx) {
            Some(poll) => poll,
            // A runtime entered on this thread outlived its timer.
            None => self.no_timer(Instant::now()),
        }
    }

    /// A sleep of `duration` from now, polled once: the first poll of a
    /// [`Timeout`](crate::Timeout) that found its future pending, on its
    /// bound handle `on` while that one runs, else on the current timer.
    /// Reads the clock once, for both the deadline and the check that it is
    /// due.
    pub(crate) fn start(
        duration: Duration,
        on: Option<Handle>,
        cx: &mut Context<'_>,
    ) -> (Sleep, Poll<()>) {
        let handle = match on {
            Some(handle) if !handle.is_shut_down() => Some(handle),
            _ => Handle::try_current(),
        };
        let Some(handle) = handle else {
            let mut sleep = sleep(duration);
            let poll = sleep.register(cx);
            return (sleep, poll);
        };
        let now = handle.clock().now();
        let mut sleep = sleep_until(now + duration);
        let poll = match sleep.register_on(handle, Some(now), cx) {
            Some(poll) => poll,
            // That timer shut down meanwhile: wait on the current one.
            None => sleep.register(cx),
        };
        (sleep, poll)
    }

    /// Registers on `handle`, whose clock reads `now` (`None`: not read, the
    /// deadline is [known ahead](Sleep::known_ahead)). `None` if that timer
    /// has shut down: then nothing changed.
    fn register_on(
        &mut self,
        handle: Handle,
        now: Option<Instant>,
        cx: &mut Context<'_>,
    ) -> Option<Poll<()>> {
        if now.is_some_and(|now| self.deadline <= now) {
            self.elapsed = true;
            return Some(Poll::Ready(()));
        }
        let tick = handle.deadline_tick(self.deadline);
        let mut wheel = handle.lock();
        if handle.is_shut_down() {
            return None;
        }
        if tick <= wheel.elapsed() {
            // Processed already (a deadline known ahead when set, first
            // polled later): due without reading the clock.
            drop(wheel);
            self.elapsed = true;
            return Some(Poll::Ready(()));
        }
        let key = wheel.insert(tick, cx.waker().clone());
        drop(wheel);
        handle.deadline_added(tick);
        self.entry = Some(Entry { handle, key });
        Some(Poll::Pending)
    }

    /// No timer to wait on: fine only if there is nothing to wait for.
    fn no_timer(&mut self, now: Instant) -> Poll<()> {
        if self.deadline <= now {
            self.elapsed = true;
            return Poll::Ready(());
        }
        context::no_runtime()
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
        self.release();
    }
}
