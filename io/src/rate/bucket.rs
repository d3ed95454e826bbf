//! The token bucket of one direction of a [`RateGroup`](super::RateGroup),
//! and the queue of the streams waiting on it. Pure bookkeeping: it reads no
//! clock (callers pass `now`), sleeps on no timer and touches no stream.
//!
//! # Ground rules
//!
//! - Tokens are counted in nano-bytes (bytes x 10^9), so a refill of
//!   `elapsed_ns * rate` is exact and no rounding accumulates; the level is
//!   capped at `burst` bytes. The bucket starts full, at its first use.
//! - A stream asks for up to `want` bytes and is granted between `need` and
//!   `want`, where `need = min(want, burst, max(1, rate / 100))`: at least
//!   10 ms of the rate, so a waiting stream is woken at most about 100 times
//!   a second, and never more than the bucket can hold.
//! - Fairness is a FIFO with reservations. A stream that cannot be served
//!   joins the back of the queue; every queued stream reserves its `need`
//!   against everyone behind it (and against newcomers). A stream is served
//!   when the level, minus the reservations of those ahead of it, covers its
//!   `need`, whether or not those ahead have been polled again, so a waiter
//!   whose task went quiet holds back only its own reservation; and since
//!   the reservations ahead count for at most `burst - need`, a full bucket
//!   serves anyone, however many quiet waiters are ahead. A queued
//!   stream with others behind it takes at most an equal share of what is
//!   available to it (never less than its `need`), so a large request does
//!   not empty the bucket while others wait.
//! - Every waiter is woken by its own timer at the instant its reservation
//!   will be covered, assuming nobody else takes tokens meanwhile; a grant
//!   only makes that estimate early (the waiter re-checks and sleeps again),
//!   and the two events that make it late, a refund and a waiter leaving the
//!   queue, wake every waiter that became servable.
//! - Granted tokens are spent at once; what the stream did not transfer is
//!   refunded after the I/O, so concurrent streams never overdraw the bucket.

use std::collections::VecDeque;
use std::task::Waker;
use std::time::Duration;

use ember_timer::Instant;

/// Nano-bytes per byte.
const NANOS: u128 = 1_000_000_000;

/// The smallest grant is this fraction of a second's worth of the rate.
const MIN_GRANT_DIVISOR: u64 = 100;

/// One direction's bucket and its waiters.
#[derive(Debug)]
pub(super) struct Bucket {
    /// Bytes per second; at least 1.
    rate: u64,
    /// The most tokens the bucket holds, in bytes; at least 1.
    burst: u64,
    /// The level in nano-bytes, `<= burst * NANOS`, as of `updated`.
    level: u128,
    /// When `level` was last refilled; `None` until first used (then full).
    updated: Option<Instant>,
    /// Streams waiting for tokens, in arrival order.
    waiters: VecDeque<Waiter>,
}

/// A queued stream.
#[derive(Debug)]
struct Waiter {
    id: u64,
    /// The tokens reserved for it (its `need` at its last request).
    need: u64,
    waker: Waker,
}

/// The answer to a request for tokens.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Acquire {
    /// This many tokens are spent: transfer at most this many bytes, then
    /// refund the rest.
    Granted(u64),
    /// Queued: ask again at this instant (or when woken).
    Wait(Instant),
}

impl Bucket {
    /// A full bucket of `burst` bytes refilling at `rate` bytes per second.
    pub(super) fn new(rate: u64, burst: u64) -> Bucket {
        debug_assert!(rate > 0 && burst > 0);
        Bucket {
            rate,
            burst,
            level: u128::from(burst) * NANOS,
            updated: None,
            waiters: VecDeque::new(),
        }
    }

    /// Whole tokens in the bucket as of its last refill.
    #[cfg(test)]
    pub(super) fn tokens(&self) -> u64 {
        u64::try_from(self.level / NANOS).unwrap_or(u64::MAX)
    }

    /// Streams queued.
    #[cfg(test)]
    pub(super) fn waiting(&self) -> usize {
        self.waiters.len()
    }

    fn capacity(&self) -> u128 {
        u128::from(self.burst) * NANOS
    }

    fn refill(&mut self, now: Instant) {
        if let Some(updated) = self.updated {
            let elapsed = now.saturating_duration_since(updated).as_nanos();
            let added = elapsed.saturating_mul(u128::from(self.rate));
            self.level = self.level.saturating_add(added).min(self.capacity());
        }
        self.updated = Some(match self.updated {
            Some(updated) if updated > now => updated,
            _ => now,
        });
    }

    /// The least a request for `want` bytes is served with.
    fn need(&self, want: u64) -> u64 {
        let slice = (self.rate / MIN_GRANT_DIVISOR).max(1);
        want.min(self.burst).min(slice)
    }

    /// Asks for up to `want` (>= 1) bytes for stream `id` at `now`; queues
    /// it with `waker` if it cannot be served (see the ground rules).
    pub(super) fn acquire(&mut self, id: u64, want: u64, now: Instant, waker: &Waker) -> Acquire {
        self.refill(now);
        let pos = self.waiters.iter().position(|w| w.id == id);
        let ahead_end = pos.unwrap_or(self.waiters.len());
        let behind = pos.map_or(0, |i| self.waiters.len() - i - 1);
        let reserved: u128 = self
            .waiters
            .iter()
            .take(ahead_end)
            .map(|w| u128::from(w.need))
            .sum::<u128>()
            * NANOS;
        let need = self.need(want);
        // Never more than a full bucket can cover along with `need`.
        let reserved = reserved.min(self.capacity() - u128::from(need) * NANOS);
        let available =
            u64::try_from(self.level.saturating_sub(reserved) / NANOS).unwrap_or(u64::MAX);
        if available >= need {
            let share = (available / (behind as u64 + 1)).max(need);
            let grant = want.min(share);
            self.level -= u128::from(grant) * NANOS;
            if let Some(i) = pos {
                self.waiters.remove(i);
            }
            return Acquire::Granted(grant);
        }
        match pos {
            Some(i) => {
                let waiter = &mut self.waiters[i];
                waiter.need = need;
                if !waiter.waker.will_wake(waker) {
                    waiter.waker = waker.clone();
                }
            }
            None => self.waiters.push_back(Waiter {
                id,
                need,
                waker: waker.clone(),
            }),
        }
        let deficit = (reserved + u128::from(need) * NANOS).saturating_sub(self.level);
        let wait_ns = deficit.div_ceil(u128::from(self.rate));
        let wait = Duration::from_nanos(u64::try_from(wait_ns).unwrap_or(u64::MAX));
        // `updated` is `now` (or later) after the refill above.
        Acquire::Wait(self.updated.unwrap_or(now) + wait)
    }

    /// Returns `n` granted but unused tokens; wakes (into `wake`) the
    /// waiters this makes servable.
    pub(super) fn refund(&mut self, n: u64, wake: &mut Vec<Waker>) {
        if n == 0 {
            return;
        }
        self.level = (self.level + u128::from(n) * NANOS).min(self.capacity());
        self.servable(wake);
    }

    /// Removes stream `id` from the queue, if it is there; wakes (into
    /// `wake`) the waiters this makes servable.
    pub(super) fn leave(&mut self, id: u64, wake: &mut Vec<Waker>) {
        if let Some(i) = self.waiters.iter().position(|w| w.id == id) {
            self.waiters.remove(i);
            self.servable(wake);
        }
    }

    /// Collects the wakers of the queue's prefix whose reservations the
    /// current level covers.
    fn servable(&self, wake: &mut Vec<Waker>) {
        let mut reserved = 0_u128;
        for waiter in &self.waiters {
            reserved += u128::from(waiter.need) * NANOS;
            if reserved > self.level {
                break;
            }
            wake.push(waiter.waker.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    fn noop() -> Waker {
        Waker::from(Arc::new(Noop))
    }

    fn t0() -> Instant {
        Instant::from_std(std::time::Instant::now())
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn starts_full_and_refills_continuously_up_to_burst() {
        let w = noop();
        let start = t0();
        let mut b = Bucket::new(1000, 500);
        assert_eq!(b.acquire(1, 10_000, start, &w), Acquire::Granted(500));
        // 1000 B/s: 7 ms make 7 bytes, but the least grant is 10 ms' worth.
        assert_eq!(
            b.acquire(1, 10_000, start + 7 * MS, &w),
            Acquire::Wait(start + 10 * MS)
        );
        assert_eq!(
            b.acquire(1, 10_000, start + 10 * MS, &w),
            Acquire::Granted(10)
        );
        // A long pause refills only up to the burst.
        assert_eq!(
            b.acquire(1, 10_000, start + 3600 * 1000 * MS, &w),
            Acquire::Granted(500)
        );
    }

    #[test]
    fn sub_byte_refills_are_not_lost() {
        let w = noop();
        let start = t0();
        // 3 B/s: each ms adds 0.003 bytes; 1000 refills of 1 ms make 3 bytes.
        let mut b = Bucket::new(3, 1);
        assert_eq!(b.acquire(1, 1, start, &w), Acquire::Granted(1));
        let mut now = start;
        for _ in 0..333 {
            now += MS;
            b.refill(now);
        }
        assert_eq!(b.tokens(), 0, "333 ms at 3 B/s is 0.999 bytes");
        now += MS;
        assert_eq!(b.acquire(1, 1, now, &w), Acquire::Granted(1));
    }

    #[test]
    fn wait_deadline_is_exact_and_never_early() {
        let w = noop();
        let start = t0();
        let mut b = Bucket::new(3, 1);
        assert_eq!(b.acquire(1, 1, start, &w), Acquire::Granted(1));
        // One byte at 3 B/s takes 333.33.. ms: rounded up.
        let Acquire::Wait(at) = b.acquire(1, 1, start, &w) else {
            panic!("expected to wait")
        };
        assert_eq!(at - start, Duration::from_nanos(333_333_334));
        assert!(matches!(
            b.acquire(1, 1, at - Duration::from_nanos(1), &w),
            Acquire::Wait(_)
        ));
        assert_eq!(b.acquire(1, 1, at, &w), Acquire::Granted(1));
    }

    #[test]
    fn queued_streams_are_served_in_order_and_newcomers_wait_behind() {
        let w = noop();
        let start = t0();
        let mut b = Bucket::new(1000, 100);
        assert_eq!(b.acquire(1, 100, start, &w), Acquire::Granted(100));
        // 1 and 2 queue, needing 10 bytes each.
        assert_eq!(b.acquire(1, 100, start, &w), Acquire::Wait(start + 10 * MS));
        assert_eq!(b.acquire(2, 100, start, &w), Acquire::Wait(start + 20 * MS));
        // At 10 ms, a newcomer finds the 10 bytes reserved for 1.
        assert_eq!(
            b.acquire(3, 100, start + 10 * MS, &w),
            Acquire::Wait(start + 30 * MS)
        );
        assert_eq!(b.waiting(), 3);
        // 2 is not served before 1's reservation and its own are covered...
        assert!(matches!(
            b.acquire(2, 100, start + 15 * MS, &w),
            Acquire::Wait(_)
        ));
        // ...but then it is, even though 1 has not come back.
        assert_eq!(b.acquire(2, 100, start + 20 * MS, &w), Acquire::Granted(10));
        assert_eq!(b.acquire(1, 100, start + 20 * MS, &w), Acquire::Granted(10));
        assert_eq!(b.waiting(), 1);
    }

    #[test]
    fn a_full_bucket_serves_anyone_however_much_is_reserved_ahead() {
        let w = noop();
        let start = t0();
        let mut b = Bucket::new(1000, 100);
        assert_eq!(b.acquire(0, 100, start, &w), Acquire::Granted(100));
        // 20 waiters reserve 10 bytes each: twice what the bucket holds.
        for id in 1..=20 {
            assert!(matches!(b.acquire(id, 100, start, &w), Acquire::Wait(_)));
        }
        // A newcomer waits for a full bucket, no longer.
        let full = start + 100 * MS;
        assert_eq!(b.acquire(99, 100, start, &w), Acquire::Wait(full));
        assert_eq!(b.acquire(99, 100, full, &w), Acquire::Granted(10));
    }

    #[test]
    fn a_queued_stream_takes_a_fair_share_when_others_wait() {
        let w = noop();
        let start = t0();
        let mut b = Bucket::new(1000, 1000);
        assert_eq!(b.acquire(1, 1000, start, &w), Acquire::Granted(1000));
        assert!(matches!(b.acquire(1, 1000, start, &w), Acquire::Wait(_)));
        assert!(matches!(b.acquire(2, 1000, start, &w), Acquire::Wait(_)));
        assert!(matches!(b.acquire(3, 1000, start, &w), Acquire::Wait(_)));
        // 300 bytes later, 1 (two behind it) takes a third, not all of it.
        let later = start + 300 * MS;
        assert_eq!(b.acquire(1, 1000, later, &w), Acquire::Granted(100));
        assert_eq!(b.acquire(2, 1000, later, &w), Acquire::Granted(100));
        assert_eq!(b.acquire(3, 1000, later, &w), Acquire::Granted(100));
    }

    #[test]
    fn refund_and_leave_wake_servable_waiters() {
        let w = noop();
        let start = t0();
        let mut b = Bucket::new(1000, 100);
        assert_eq!(b.acquire(1, 100, start, &w), Acquire::Granted(100));
        assert!(matches!(b.acquire(2, 100, start, &w), Acquire::Wait(_)));
        assert!(matches!(b.acquire(3, 100, start, &w), Acquire::Wait(_)));
        let mut wake = Vec::new();
        b.refund(15, &mut wake);
        assert_eq!(wake.len(), 1, "15 bytes cover 2's reservation, not 3's");
        wake.clear();
        b.leave(2, &mut wake);
        assert_eq!(wake.len(), 1, "with 2 gone, 3 is servable");
        assert_eq!(b.acquire(3, 100, start, &w), Acquire::Granted(15));
        assert_eq!(b.waiting(), 0);
        // A refund never overfills the bucket.
        b.refund(1000, &mut wake);
        assert_eq!(b.tokens(), 100);
    }
}
