//! ember-timer: time for the ember runtime. It owns the hierarchical timing
//! wheel, the clock every timer reads (real, or paused and advanced by
//! tests), ember's [`Instant`], and the futures built on them: [`Sleep`],
//! [`Timeout`] and [`Interval`].
//!
//! # How it works
//!
//! A [`Driver`] owns the turning of one timing wheel and a [`Handle`] shares
//! it: `Send + Sync`, cloned into every registered timer. The reactor owns the
//! driver; before it blocks it asks [`Driver::next_deadline`] how long it may
//! sleep, and after every poll it calls [`Driver::process`], which fires what
//! is due and wakes the waiting tasks once the wheel's lock is released.
//!
//! Timers are made two ways. [`Handle::sleep`], [`Handle::timeout`],
//! [`Handle::interval`] (and their `_until`/`_at` forms) wait on that
//! handle's timer, and [`Handle::now`] reads its clock: this is how the
//! crate is used on its own. The free functions [`sleep`], [`timeout`],
//! [`interval`] and [`Instant::now`] use the current thread's timer, which
//! the runtime built on this crate provides (in ember, the timer of the
//! reactor the thread uses): the crate keeps no thread-local of its own.
//!
//! The wheel has 7 levels of 64 slots over ticks of 1/16 ms (62.5 µs)
//! counted from the driver's start: level 0 slots are one tick wide, level 6
//! slots 2^36 ticks (49.7 days), and the whole wheel spans 2^42 ticks (about
//! 8.7 years). Entries live in a slab, linked into per-slot lists, so
//! inserting, cancelling and moving a timer are O(1); a bitmap per level
//! finds the next busy slot in O(1). As time passes, entries of a due coarse
//! slot move down to finer levels until they fire. Deadlines further away
//! than the wheel's span wait in the top level and are re-placed once per
//! turn of it; deadlines in the past fire on the next `process`. Deadlines
//! are rounded up to a tick and the clock rounded down, so no timer ever
//! fires early, and all arithmetic saturates: `sleep(Duration::MAX)` never
//! completes and never panics.
//!
//! Why 1/16 ms: rounding a deadline up to its tick then adds at most 62.5 µs
//! to when it fires, below what waking a thread costs on a busy machine, so
//! the reactor's sleep (which ends exactly at a tick) sets the precision. A
//! finer tick would buy little and cost more moves between levels for the
//! 1-50 ms timeouts services use (which sit in levels 0-2 and move at most
//! twice). And a millisecond is a whole number of ticks: conversions are
//! integer arithmetic with no `u128`, and a deadline a whole number of
//! milliseconds after the driver's start, as in every paused-clock test,
//! falls exactly on a tick, so it fires at exactly its instant. (A power of
//! two such as 2^16 ns would make conversion a shift, but then no
//! millisecond is a whole number of ticks.)
//!
//! Timers are lazy. A [`Sleep`] takes a wheel entry only on the first poll
//! that has to wait: a deadline that has passed by then (such as
//! `sleep(Duration::ZERO)` or `sleep_until` an earlier instant) completes at
//! once, without an entry or a wait for the driver's next turn. Each timer
//! reads the clock once: a `Sleep` from [`sleep`] when created, one from
//! [`sleep_until`] on its first poll, and a [`Timeout`] only on the first
//! poll that finds its future pending, so a timeout around a future that is
//! ready at once costs a struct move: no clock read, no context lookup, no
//! lock, no allocation.
//!
//! A deadline is only an instant, so timers may outlive their timer: when a
//! [`Driver`] is dropped it wakes its pending timers, and each then waits on
//! the current timer where it is next polled.
//!
//! # Testing with a paused clock
//!
//! [`Clock::paused`] freezes time; [`Clock::advance`] moves it, and the next
//! [`Driver::process`] fires what became due, so a 30-second timeout is
//! tested in microseconds:
//!
//! ```
//! use ember_timer::{Clock, Driver};
//! use std::future::{pending, Future};
//! use std::pin::pin;
//! use std::task::{Context, Poll, Waker};
//! use std::time::Duration;
//!
//! let mut driver = Driver::new(Clock::paused());
//! # struct Noop;
//! # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
//! # let noop = Waker::from(std::sync::Arc::new(Noop));
//! let mut cx = Context::from_waker(&noop);
//!
//! let mut slow = pin!(driver.handle().timeout(Duration::from_secs(30), pending::<()>()));
//! assert!(slow.as_mut().poll(&mut cx).is_pending());
//! driver.handle().clock().advance(Duration::from_secs(29));
//! assert_eq!(driver.process(), 0);
//! driver.handle().clock().advance(Duration::from_secs(1));
//! assert_eq!(driver.process(), 1);
//! assert!(matches!(slow.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
//! ```
#![forbid(unsafe_code)]

mod clock;
mod context;
mod driver;
mod instant;
mod interval;
mod sleep;
mod timeout;
mod wheel;

pub use clock::Clock;
pub use driver::{Driver, Handle};
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// Used by ember's own crates (the reactor drives the timer through it); not
/// covered by semver: anything here may change or go in any release.
#[doc(hidden)]
pub mod __private {
    use crate::{Driver, Instant};

    pub use crate::context::{ContextProvider, NO_RUNTIME};
    pub use crate::driver::WakeHook;

    /// Installs how the timer finds the current thread's [`Handle`](crate::Handle):
    /// `provider` shows it, borrowed, to the visitor it is given, or does not
    /// call the visitor on a thread without one. Process-wide and set once:
    /// the first provider wins; returns whether this one is installed. The
    /// reactor's `Driver::new` installs its driver context.
    ///
    /// ```
    /// use ember_timer::__private::set_context;
    /// use ember_timer::Handle;
    ///
    /// fn nowhere(_visit: &mut dyn FnMut(&Handle)) {}
    /// assert!(set_context(nowhere));
    /// assert!(!set_context(nowhere), "the first provider wins");
    /// assert!(Handle::try_current().is_none());
    /// ```
    pub fn set_context(provider: ContextProvider) -> bool {
        crate::context::set(provider)
    }

    /// [`Driver::next_deadline`] for an owner about to sleep until it: until
    /// [`end_sleep`], a timer inserted (from any thread) with an earlier
    /// deadline calls the [wake hook](set_wake_hook).
    ///
    /// ```
    /// use ember_timer::{Clock, Driver};
    /// use ember_timer::__private::{begin_sleep, end_sleep, set_wake_hook};
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let driver = Driver::new(Clock::paused());
    /// let woken = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&woken);
    /// set_wake_hook(&driver, Arc::new(move || {
    ///     counter.fetch_add(1, Ordering::SeqCst);
    /// }));
    /// assert_eq!(begin_sleep(&driver), None); // would sleep with no deadline
    /// end_sleep(&driver);
    /// ```
    pub fn begin_sleep(driver: &Driver) -> Option<Instant> {
        driver.begin_sleep()
    }

    /// Ends the sleep [`begin_sleep`] announced.
    pub fn end_sleep(driver: &Driver) {
        driver.end_sleep();
    }

    /// Sets what wakes the driver's owner when an earlier deadline arrives
    /// during a sleep (the reactor installs its unpark). Only the first call
    /// takes effect; returns whether it did.
    pub fn set_wake_hook(driver: &Driver, hook: WakeHook) -> bool {
        driver.set_wake_hook(hook)
    }
}
