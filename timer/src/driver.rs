//! The timer [`Driver`] (owned by the reactor, fires due entries) and its
//! shared [`Handle`] (registers entries from any thread). Which handle is
//! current on a thread is not kept here: see [`crate::context`].
//!
//! # Ground rules
//!
//! - One `Shared` per driver: the clock, the start instant (tick 0) and the
//!   wheel behind a `Mutex`. `Handle` is an `Arc` of it and is `Send + Sync`;
//!   `Sleep`s hold a `Handle` once registered, so they may be polled, reset
//!   and dropped on any thread.
//! - Only [`Driver::process`] advances the wheel. It reads the clock, fires
//!   under the lock, and wakes the collected wakers after unlocking, reusing
//!   one buffer so firing allocates nothing.
//! - The lock is held only for O(1) wheel operations (and `process`); no
//!   waker is woken or dropped while it is held.
//! - Entries may be inserted from threads other than the one turning the
//!   driver (a multi-thread runtime). While the driver's owner sleeps, it
//!   records the tick it sleeps until (`sleeping_until`, set *before* it
//!   reads the wheel's next expiration under the lock); an insert or reset
//!   of an earlier deadline, made under the same lock, then sees it and
//!   calls the wake hook (the reactor's unpark) so the sleep is cut short.
//!   Either the owner's read of the wheel sees the new entry, or the
//!   inserter's later read of `sleeping_until` sees the sleep.
//! - Dropping the `Driver` shuts its `Shared` down: under the wheel's lock it
//!   sets `shut_down` and takes the wakers of all pending entries, which it
//!   wakes after unlocking. A `Sleep` checks `shut_down` under the same lock
//!   before it stores a waker, so either its waker is taken and woken, or it
//!   sees the shutdown; then it gives its entry back and registers on the
//!   timer current where it is polled (a deadline is only an instant). The
//!   wheel of a shut-down driver is never processed or inserted into again.
//!   A `Sleep` made by [`Handle::sleep`] (bound to a handle, not yet
//!   registered) that finds its handle's driver shut down does the same.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::Waker;
use std::time::Duration;

use crate::clock::Clock;
use crate::context::{self, NO_RUNTIME};
use crate::instant::{saturating_add_std, Instant};
use crate::wheel::{Wheel, MAX_TICK};

/// State shared by a driver and all its handles.
struct Shared {
    clock: Clock,
    /// The instant of tick 0.
    start: std::time::Instant,
    wheel: Mutex<Wheel>,
    /// `NOT_SLEEPING`, or 1 + the tick the driver's owner sleeps until
    /// (`u64::MAX`: no deadline). See the ground rules.
    sleeping_until: AtomicU64,
    /// Called when an earlier deadline arrives during a sleep.
    wake_hook: OnceLock<WakeHook>,
    /// Set (under the wheel's lock) when the driver is dropped; see the
    /// ground rules.
    shut_down: AtomicBool,
}

/// Wakes a sleeping driver owner; see
/// [`__private::set_wake_hook`](crate::__private::set_wake_hook).
pub type WakeHook = Arc<dyn Fn() + Send + Sync>;

/// `Shared::sleeping_until` when the driver's owner is not sleeping.
const NOT_SLEEPING: u64 = 0;

/// Nanoseconds per wheel tick: 1/16 ms. See the crate docs for the choice.
const TICK_NANOS: u32 = 62_500;
/// Ticks per second: a whole number, as are ticks per millisecond (16).
const TICKS_PER_SEC: u64 = 1_000_000_000 / TICK_NANOS as u64;

/// The timer driver: owns the wheel's turning. The reactor holds one, asks
/// it for [`next_deadline`](Driver::next_deadline) to bound its poll, and
/// calls [`process`](Driver::process) after every poll.
///
/// # Examples
///
/// ```
/// use ember_timer::{Clock, Driver};
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Waker};
/// use std::time::Duration;
///
/// let mut driver = Driver::new(Clock::paused());
///
/// let mut sleep = pin!(driver.handle().sleep(Duration::from_secs(30)));
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let noop = Waker::from(std::sync::Arc::new(Noop));
/// let mut cx = Context::from_waker(&noop);
/// assert!(sleep.as_mut().poll(&mut cx).is_pending());
///
/// let deadline = driver.next_deadline().unwrap();
/// driver.handle().clock().advance(Duration::from_secs(30));
/// assert!(driver.handle().clock().now() >= deadline);
/// assert_eq!(driver.process(), 1);
/// assert!(sleep.as_mut().poll(&mut cx).is_ready());
/// ```
pub struct Driver {
    handle: Handle,
    /// Wakers collected under the lock, woken after it; kept to reuse its
    /// allocation.
    wakers: Vec<Waker>,
}

impl Driver {
    /// A driver whose wheel starts (tick 0) at `clock`'s current time.
    pub fn new(clock: Clock) -> Driver {
        let start = clock.now().into_std();
        Driver {
            handle: Handle {
                shared: Arc::new(Shared {
                    clock,
                    start,
                    wheel: Mutex::new(Wheel::new()),
                    sleeping_until: AtomicU64::new(NOT_SLEEPING),
                    wake_hook: OnceLock::new(),
                    shut_down: AtomicBool::new(false),
                }),
            },
            wakers: Vec::new(),
        }
    }

    /// The handle that registers timers on this driver.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// When [`process`](Driver::process) will next have work: the due time
    /// of the earliest pending entry, rounded up to its 62.5 µs tick, or an
    /// instant at or before it when that entry still sits in a coarse slot
    /// of the wheel (processing at that instant moves the entry closer and
    /// the next call is more precise). An instant in the past means "now".
    /// `None` if no entries are pending, not counting those so far away
    /// (over ~9 million years, e.g. `sleep(Duration::MAX)`) that they never
    /// fire.
    pub fn next_deadline(&self) -> Option<Instant> {
        let tick = self.handle.lock().next_expiration_tick()?;
        Some(self.handle.shared.tick_to_instant(tick))
    }

    /// Like [`next_deadline`](Driver::next_deadline), for an owner about to
    /// sleep until that deadline: from now until [`Driver::end_sleep`], a
    /// timer inserted (from any thread) with an earlier deadline calls the
    /// [wake hook](Driver::set_wake_hook). Reached through
    /// [`__private::begin_sleep`](crate::__private::begin_sleep).
    pub(crate) fn begin_sleep(&self) -> Option<Instant> {
        let shared = &self.handle.shared;
        shared.sleeping_until.store(u64::MAX, Ordering::SeqCst);
        let tick = self.handle.lock().next_expiration_tick();
        if let Some(tick) = tick {
            shared
                .sleeping_until
                .store(tick.saturating_add(1), Ordering::SeqCst);
        }
        tick.map(|tick| shared.tick_to_instant(tick))
    }

    /// Ends the sleep [`begin_sleep`](Driver::begin_sleep) announced.
    pub(crate) fn end_sleep(&self) {
        self.handle
            .shared
            .sleeping_until
            .store(NOT_SLEEPING, Ordering::SeqCst);
    }

    /// Sets what wakes the driver's owner when an earlier deadline arrives
    /// during a sleep (the reactor installs its unpark). Only the first call
    /// takes effect; returns whether it did.
    pub(crate) fn set_wake_hook(&self, hook: WakeHook) -> bool {
        self.handle.shared.wake_hook.set(hook).is_ok()
    }

    /// Fires every entry due at the clock's current time and wakes their
    /// wakers after releasing the wheel's lock. Returns how many fired.
    pub fn process(&mut self) -> usize {
        let now = self.handle.shared.now_tick(self.handle.clock().now());
        let fired = self.handle.lock().process(now, &mut self.wakers);
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
        fired
    }
}

/// Shuts the timer down: pending timers are woken, and each registers on the
/// timer current where it is next polled (see the module's ground rules).
impl Drop for Driver {
    fn drop(&mut self) {
        let mut wheel = self.handle.lock();
        self.handle.shared.shut_down.store(true, Ordering::Release);
        wheel.take_pending_wakers(&mut self.wakers);
        drop(wheel);
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

/// A shared reference to a timer [`Driver`]: `Clone + Send + Sync`. Timers
/// register through it.
///
/// Its constructors ([`Handle::sleep`], [`Handle::timeout`],
/// [`Handle::interval`] and their `_until`/`_at` forms) make timers that
/// wait on this timer, wherever they are polled; [`Handle::now`] reads its
/// clock. The free functions ([`sleep`](crate::sleep), [`Instant::now`],
/// ...) use the current thread's timer instead, which a runtime built on
/// this crate provides ([`Handle::try_current`]).
///
/// # Examples
///
/// ```
/// use ember_timer::{Clock, Driver};
/// use std::time::Duration;
///
/// let driver = Driver::new(Clock::paused());
/// let handle = driver.handle().clone();
/// let start = handle.now();
/// handle.clock().advance(Duration::from_secs(5));
/// assert_eq!(handle.now() - start, Duration::from_secs(5));
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    /// The clock this timer reads.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// The current time on this timer's clock.
    ///
    /// ```
    /// use ember_timer::{Clock, Driver};
    ///
    /// let driver = Driver::new(Clock::paused());
    /// let handle = driver.handle();
    /// assert_eq!(handle.now(), handle.clock().now());
    /// ```
    pub fn now(&self) -> Instant {
        self.shared.clock.now()
    }

    /// The current thread's timer: the one of the ember runtime this thread
    /// is in.
    ///
    /// # Panics
    ///
    /// If there is none (see [`Handle::try_current`]), with the message
    /// every ember crate gives for a missing runtime, which says how to
    /// start one.
    ///
    /// ```should_panic
    /// // No runtime on this thread.
    /// let _ = ember_timer::Handle::current();
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!("{NO_RUNTIME}"),
        }
    }

    /// The current thread's timer, or `None` on a thread that is in no ember
    /// runtime (and during its teardown). Which timer is current is decided
    /// by the runtime built on this crate: ember's reactor makes its timer
    /// current on every thread that uses that reactor.
    ///
    /// ```
    /// assert!(ember_timer::Handle::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::with_current(Handle::clone)
    }

    /// Whether this timer's driver was dropped. Exact under the wheel's lock
    /// (the flag is set under it), a hint without.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shared.shut_down.load(Ordering::Acquire)
    }

    /// Whether two handles share one driver.
    #[cfg(test)]
    pub(crate) fn same_driver(&self, other: &Handle) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Wheel> {
        // Wheel methods run no user code (see the module's ground rules), so
        // a poisoned wheel is still consistent.
        self.shared
            .wheel
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wakes the driver's owner if it sleeps past `tick`, an entry's new
    /// deadline. Call after inserting or moving the entry (lock released).
    pub(crate) fn deadline_added(&self, tick: u64) {
        let sleeping_until = self.shared.sleeping_until.load(Ordering::SeqCst);
        if sleeping_until != NOT_SLEEPING && tick.saturating_add(1) < sleeping_until {
            if let Some(hook) = self.shared.wake_hook.get() {
                hook();
            }
        }
    }

    /// The tick at which `deadline` is due (rounded up: never early).
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        match deadline
            .into_std()
            .checked_duration_since(self.shared.start)
        {
            Some(since) => ceil_ticks(since),
            None => 0,
        }
    }
}

impl Shared {
    /// The last whole tick reached at `now` (rounded down: never early). Kept
    /// below `MAX_TICK`, so saturated deadlines never come due.
    fn now_tick(&self, now: Instant) -> u64 {
        let since = now.into_std().saturating_duration_since(self.start);
        let ticks = since
            .as_secs()
            .saturating_mul(TICKS_PER_SEC)
            .saturating_add(u64::from(since.subsec_nanos() / TICK_NANOS));
        ticks.min(MAX_TICK - 1)
    }

    /// The instant tick `tick` starts at: exact, to the nanosecond.
    fn tick_to_instant(&self, tick: u64) -> Instant {
        // `tick % TICKS_PER_SEC < 16_000`, so the nanoseconds fit in a u32
        // and stay below one second.
        let nanos = (tick % TICKS_PER_SEC) as u32 * TICK_NANOS;
        let since = Duration::new(tick / TICKS_PER_SEC, nanos);
        Instant::from_std(saturating_add_std(self.start, since))
    }
}

/// Whole ticks in `d`, rounded up and capped at `MAX_TICK`.
fn ceil_ticks(d: Duration) -> u64 {
    let sub = d.subsec_nanos().div_ceil(TICK_NANOS);
    d.as_secs()
        .saturating_mul(TICKS_PER_SEC)
        .saturating_add(u64::from(sub))
        .min(MAX_TICK)
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("clock", &self.shared.clock)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_deadlines_up_and_now_down() {
        let driver = Driver::new(Clock::paused());
        let handle = driver.handle();
        let start = handle.clock().now();
        let at = |nanos: u64| start + Duration::from_nanos(nanos);
        assert_eq!(handle.deadline_tick(start), 0);
        assert_eq!(handle.deadline_tick(start - Duration::from_secs(1)), 0);
        assert_eq!(handle.deadline_tick(at(1)), 1);
        assert_eq!(handle.deadline_tick(at(62_500)), 1);
        assert_eq!(handle.deadline_tick(at(62_501)), 2);
        assert_eq!(handle.deadline_tick(at(5_000_000)), 80, "5 ms: exact");
        assert_eq!(handle.deadline_tick(at(3_000_000_001)), 48_001);
        assert_eq!(handle.deadline_tick(start + Duration::MAX), MAX_TICK);
        let shared = &handle.shared;
        assert_eq!(shared.now_tick(at(62_499)), 0);
        assert_eq!(shared.now_tick(at(1_999_999)), 31);
        assert_eq!(shared.now_tick(at(2_000_000)), 32);
        assert_eq!(shared.now_tick(at(3_000_062_499)), 48_000);
        assert_eq!(shared.now_tick(start + Duration::MAX), MAX_TICK - 1);
        assert_eq!(shared.now_tick(start - Duration::from_secs(1)), 0);
    }

    #[test]
    fn tick_instants_are_exact_and_round_trip() {
        let driver = Driver::new(Clock::paused());
        let handle = driver.handle();
        let shared = &handle.shared;
        let start = handle.clock().now();
        for tick in [0, 1, 15, 16, 15_999, 16_000, 16_001, 1 << 40] {
            let instant = shared.tick_to_instant(tick);
            assert_eq!(
                instant - start,
                Duration::from_nanos(tick * 62_500),
                "tick {tick}"
            );
            assert_eq!(handle.deadline_tick(instant), tick);
            assert_eq!(shared.now_tick(instant), tick);
            assert_eq!(
                shared.now_tick(instant - Duration::from_nanos(1)),
                tick.saturating_sub(1)
            );
        }
    }

    #[test]
    fn the_current_handle_is_what_the_provider_shows() {
        use crate::context::test_provider::enter;
        assert!(Handle::try_current().is_none());
        let a = Driver::new(Clock::real());
        let b = Driver::new(Clock::paused());
        let guard_a = enter(a.handle());
        {
            let _guard_b = enter(b.handle());
            assert!(Handle::current().same_driver(b.handle()));
        }
        assert!(Handle::current().same_driver(a.handle()));
        drop(guard_a);
        assert!(Handle::try_current().is_none());
    }

    #[test]
    fn current_panics_outside_with_the_one_message() {
        let panic = std::panic::catch_unwind(Handle::current).expect_err("no timer here");
        assert_eq!(
            panic.downcast_ref::<String>().map(String::as_str),
            Some(NO_RUNTIME)
        );
    }

    #[test]
    fn auto_traits() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Handle>();
        assert_send_sync::<Clock>();
        assert_send_sync::<Driver>();
    }
}
