//! The [`Clock`] every timer reads: the real monotonic clock, or one that
//! tests pause and advance by hand.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::instant::{saturating_add_std, Instant};

/// The source of time for one timer [`Driver`](crate::Driver): real, or
/// paused and advanced by hand.
///
/// Clones share the same clock. A real clock that was never paused reads
/// [`std::time::Instant::now`] directly, without taking a lock.
///
/// # Examples
///
/// ```
/// use ember_timer::Clock;
/// use std::time::Duration;
///
/// let clock = Clock::paused();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(30));
/// assert_eq!(clock.now() - t0, Duration::from_secs(30));
///
/// clock.resume();               // time flows again from t0 + 30 s
/// assert!(clock.now() >= t0 + Duration::from_secs(30));
/// ```
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    /// False until the clock is paused for the first time; while false the
    /// clock is std's clock and `now` skips the lock. Never goes back to false.
    adjusted: AtomicBool,
    state: Mutex<State>,
}

/// Time while running is `base + (std_now - real_base)`; while paused it is
/// `frozen`.
struct State {
    frozen: Option<std::time::Instant>,
    base: std::time::Instant,
    real_base: std::time::Instant,
}

impl Clock {
    /// A clock that follows [`std::time::Instant::now`].
    pub fn real() -> Clock {
        let now = std::time::Instant::now();
        Clock {
            inner: Arc::new(Inner {
                adjusted: AtomicBool::new(false),
                state: Mutex::new(State {
                    frozen: None,
                    base: now,
                    real_base: now,
                }),
            }),
        }
    }

    /// A clock paused at the current [`std::time::Instant::now`]; it moves
    /// only through [`Clock::advance`] until [`Clock::resume`]d.
    pub fn paused() -> Clock {
        let clock = Clock::real();
        clock.pause();
        clock
    }

    /// The clock's current time.
    pub fn now(&self) -> Instant {
        if !self.inner.adjusted.load(Ordering::Acquire) {
            return Instant::from_std(std::time::Instant::now());
        }
        Instant::from_std(self.lock().now())
    }

    /// Whether the clock is paused.
    pub fn is_paused(&self) -> bool {
        self.inner.adjusted.load(Ordering::Acquire) && self.lock().frozen.is_some()
    }

    /// Freezes the clock at its current time. Does nothing if already paused.
    pub fn pause(&self) {
        let mut state = self.lock();
        if state.frozen.is_none() {
            state.frozen = Some(state.now());
            self.inner.adjusted.store(true, Ordering::Release);
        }
    }

    /// Lets time flow again, continuing from the frozen time. Does nothing if
    /// the clock is not paused.
    pub fn resume(&self) {
        let mut state = self.lock();
        if let Some(frozen) = state.frozen.take() {
            state.base = frozen;
            state.real_base = std::time::Instant::now();
        }
    }

    /// Moves a paused clock forward by `d`, saturating at the latest
    /// representable instant. It does not fire timers by itself: the
    /// [`Driver`](crate::Driver) fires them on its next `process`.
    ///
    /// # Panics
    ///
    /// If the clock is not paused.
    ///
    /// ```should_panic
    /// ember_timer::Clock::real().advance(std::time::Duration::from_secs(1));
    /// ```
    pub fn advance(&self, d: Duration) {
        let mut state = self.lock();
        match state.frozen {
            Some(frozen) => state.frozen = Some(saturating_add_std(frozen, d)),
            None => {
                drop(state);
                panic!(
                    "Clock::advance called on a clock that is not paused: call Clock::pause first"
                );
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is three plain instants, consistent after any panic.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn now(&self) -> std::time::Instant {
        match self.frozen {
            Some(frozen) => frozen,
            None => saturating_add_std(
                self.base,
                std::time::Instant::now().saturating_duration_since(self.real_base),
            ),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("paused", &self.is_paused())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_clock_moves_only_when_advanced() {
        let clock = Clock::paused();
        assert!(clock.is_paused());
        let t0 = clock.now();
        assert_eq!(clock.now(), t0);
        clock.advance(Duration::from_millis(7));
        assert_eq!(clock.now() - t0, Duration::from_millis(7));
        let other = clock.clone();
        other.advance(Duration::from_millis(3));
        assert_eq!(clock.now() - t0, Duration::from_millis(10));
    }

    #[test]
    fn resume_continues_from_frozen_time() {
        let clock = Clock::paused();
        let t0 = clock.now();
        clock.advance(Duration::from_secs(3600));
        clock.resume();
        assert!(!clock.is_paused());
        assert!(clock.now() >= t0 + Duration::from_secs(3600));
        clock.pause();
        let frozen = clock.now();
        assert!(frozen >= t0 + Duration::from_secs(3600));
        assert_eq!(clock.now(), frozen);
        clock.pause(); // idempotent
        assert_eq!(clock.now(), frozen);
    }

    #[test]
    fn real_clock_is_not_paused() {
        let clock = Clock::real();
        assert!(!clock.is_paused());
        let a = clock.now();
        assert!(clock.now() >= a);
        clock.resume(); // no-op
        assert!(!clock.is_paused());
    }

    #[test]
    fn advance_saturates() {
        let clock = Clock::paused();
        let t0 = clock.now();
        clock.advance(Duration::MAX);
        clock.advance(Duration::MAX);
        assert!(clock.now() > t0);
    }

    #[test]
    #[should_panic(expected = "not paused")]
    fn advance_panics_when_running() {
        Clock::real().advance(Duration::from_secs(1));
    }
}
