//! The park hook: how the run loop sleeps and how other threads wake it.
//!
//! The executor knows nothing of I/O or timers. When it has nothing to run it calls
//! [`Park::park`]; whoever drives the thread (a reactor in the `ember` facade, or a plain
//! thread parker in the standalone [`block_on`](crate::block_on)) decides what "sleeping" means.
//! Other threads that schedule work call [`Unpark::unpark`] to interrupt that sleep.

use std::thread::{self, Thread};
use std::time::Duration;

/// Task polls between two non-blocking parks (`park(Some(ZERO))`), so the park hook checks
/// for I/O and timers even while tasks stay runnable. Both schedulers use it; it is also the
/// current-thread scheduler's batch size between two polls of its `block_on` future, and the
/// multi-thread worker's number of ticks between two looks at the injection queue while its
/// own queue has work. Prime, so it does not beat in step with power-of-two batch sizes.
pub(crate) const EVENT_INTERVAL: u32 = 61;

/// Blocks the scheduler thread until there may be work to do.
///
/// Implementations must remember an [`Unpark::unpark`] that happened before `park` was called
/// (or while it was not sleeping) and return promptly from the next `park` instead of
/// sleeping: the scheduler checks its queues, then parks, and a wakeup that lands between
/// the two must not be lost.
///
/// # Examples
///
/// ```
/// use ember_executor::Park;
/// use std::time::Duration;
///
/// /// Never sleeps: a busy loop (fine for a test, wasteful otherwise).
/// struct Spin;
/// impl Park for Spin {
///     fn park(&mut self, _timeout: Option<Duration>) {
///         std::hint::spin_loop();
///     }
/// }
/// # let mut p = Spin; p.park(None);
/// ```
pub trait Park {
    /// Sleep until unparked, or for at most `timeout`.
    ///
    /// `Some(Duration::ZERO)` means "check for events without blocking"; `None` means "block
    /// until unparked". Spurious returns are allowed: the scheduler re-checks its queues.
    fn park(&mut self, timeout: Option<Duration>);
}

/// Wakes a thread blocked in [`Park::park`]. Called from any thread after work was queued.
pub trait Unpark: Send + Sync + 'static {
    /// Wake the parked thread, or make its next `park` return immediately.
    fn unpark(&self);
}

/// The standalone [`block_on`](crate::block_on)'s park: `std::thread::park`.
///
/// The std park token gives exactly the "remember an early unpark" semantics [`Park`] asks for.
#[derive(Debug)]
pub(crate) struct ThreadPark;

impl Park for ThreadPark {
    fn park(&mut self, timeout: Option<Duration>) {
        match timeout {
            None => thread::park(),
            // A zero-timeout park has nothing to poll here: return without touching the token.
            Some(d) if d.is_zero() => {}
            Some(d) => thread::park_timeout(d),
        }
    }
}

/// Unparks the thread that created it.
#[derive(Debug)]
pub(crate) struct ThreadUnpark(Thread);

impl ThreadUnpark {
    /// An unparker for the calling thread.
    pub(crate) fn current() -> ThreadUnpark {
        ThreadUnpark(thread::current())
    }
}

impl Unpark for ThreadUnpark {
    fn unpark(&self) {
        self.0.unpark();
    }
}
