//! The [`Instant`] newtype: a point in time read from the current timer's
//! clock, with saturating arithmetic so that far-future deadlines
//! (`Duration::MAX`, years) never panic.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

use crate::context;

/// A measurement of a monotonically nondecreasing clock, as
/// [`std::time::Instant`], but read through the current ember timer's
/// [`Clock`](crate::Clock) so that a paused clock freezes it.
///
/// Unlike `std`, adding or subtracting a [`Duration`] saturates at the
/// latest / earliest instant the platform can represent instead of panicking:
/// `Instant::now() + Duration::MAX` is simply "never".
///
/// # Examples
///
/// ```
/// use ember_timer::{Clock, Driver};
/// use std::time::Duration;
///
/// let driver = Driver::new(Clock::paused());
/// let timer = driver.handle();
///
/// let start = timer.now();
/// timer.clock().advance(Duration::from_secs(30));
/// assert_eq!(timer.now() - start, Duration::from_secs(30));
///
/// // Saturating, never panics:
/// let never = start + Duration::MAX;
/// assert!(never > start);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// Returns the current time of the current thread's timer clock (see
    /// [`Handle::try_current`](crate::Handle::try_current)), or of
    /// [`std::time::Instant::now`] outside a runtime. A given timer's time
    /// is [`Handle::now`](crate::Handle::now).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = ember_timer::Instant::now();
    /// let b = ember_timer::Instant::now();
    /// assert!(b >= a);
    /// ```
    pub fn now() -> Instant {
        context::with_current(|handle| handle.now())
            .unwrap_or_else(|| Instant(std::time::Instant::now()))
    }

    /// Wraps a [`std::time::Instant`].
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant(std)
    }

    /// Returns the wrapped [`std::time::Instant`].
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// Returns the time elapsed from `earlier` to `self`, or zero if
    /// `earlier` is later. Never panics.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_timer::Instant;
    /// use std::time::Duration;
    ///
    /// let a = Instant::now();
    /// let b = a + Duration::from_secs(1);
    /// assert_eq!(b.duration_since(a), Duration::from_secs(1));
    /// assert_eq!(a.duration_since(b), Duration::ZERO);
    /// ```
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// Returns the time elapsed from `earlier` to `self`, or zero if
    /// `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// Returns the time elapsed from `earlier` to `self`, or `None` if
    /// `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_duration_since(earlier.0)
    }

    /// Returns the time elapsed since `self` according to [`Instant::now`],
    /// or zero if `self` is in the future.
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// Returns `self + d`, or `None` if the platform cannot represent it.
    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }

    /// Returns `self - d`, or `None` if the platform cannot represent it.
    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        self.0.checked_sub(d).map(Instant)
    }

    /// Returns `self + d`, or the latest representable instant.
    pub(crate) fn saturating_add(self, d: Duration) -> Instant {
        Instant(saturating_add_std(self.0, d))
    }
}

/// `base + d`, or the latest instant the platform can represent.
pub(crate) fn saturating_add_std(base: std::time::Instant, d: Duration) -> std::time::Instant {
    match base.checked_add(d) {
        Some(sum) => sum,
        None => extreme(base, |cur, step| cur.checked_add(step)),
    }
}

/// `base - d`, or the earliest instant the platform can represent.
fn saturating_sub_std(base: std::time::Instant, d: Duration) -> std::time::Instant {
    match base.checked_sub(d) {
        Some(diff) => diff,
        None => extreme(base, |cur, step| cur.checked_sub(step)),
    }
}

/// Walks from `base` as far as `step` allows, greedily with halving steps:
/// the representable range is platform-defined, so it is found, not assumed.
/// Only reached on overflow, so its ~100 checked operations are no concern.
fn extreme(
    base: std::time::Instant,
    step: impl Fn(std::time::Instant, Duration) -> Option<std::time::Instant>,
) -> std::time::Instant {
    let mut cur = base;
    let steps = (0..64)
        .rev()
        .map(|shift| Duration::from_secs(1 << shift))
        .chain((0..30).rev().map(|shift| Duration::from_nanos(1 << shift)));
    for s in steps {
        while let Some(next) = step(cur, s) {
            cur = next;
        }
    }
    cur
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the latest representable instant instead of panicking.
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the earliest representable instant instead of panicking.
    fn sub(self, d: Duration) -> Instant {
        Instant(saturating_sub_std(self.0, d))
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturating: zero if `earlier` is later than `self`.
    fn sub(self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_saturates_and_stays_ordered() {
        let now = Instant::from_std(std::time::Instant::now());
        let max = now + Duration::MAX;
        assert!(max > now + Duration::from_secs(100 * 365 * 86_400));
        assert_eq!(max + Duration::from_secs(1), max);
        assert_eq!(now + Duration::MAX, max, "saturation point is absolute");
        assert_eq!(now.checked_add(Duration::MAX), None);
        let mut m = max;
        m += Duration::MAX;
        assert_eq!(m, max);
    }

    #[test]
    fn sub_saturates() {
        let now = Instant::from_std(std::time::Instant::now());
        let min = now - Duration::MAX;
        assert!(min < now);
        assert_eq!(min - Duration::from_secs(1), min);
        assert_eq!(now.checked_sub(Duration::MAX), None);
    }

    #[test]
    fn differences_saturate() {
        let a = Instant::from_std(std::time::Instant::now());
        let b = a + Duration::from_millis(1500);
        assert_eq!(b - a, Duration::from_millis(1500));
        assert_eq!(a - b, Duration::ZERO);
        assert_eq!(a.checked_duration_since(b), None);
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
        assert_eq!(
            b.checked_duration_since(a),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(Instant::from(a.into_std()), a);
    }
}
