//! Fault injection for tests: a reactor built with `--cfg ember_fault`
//! makes the OS poller misbehave in every way its contract allows, so that
//! the suite proves the layers above cope. It owns a seeded random source
//! and the real events it is holding back; the [`Driver`](crate::Driver)
//! asks it, turn by turn, what to do.
//!
//! # Ground rules
//!
//! * Never compiled into a normal build: the module exists only under
//!   `cfg(ember_fault)` (where every driver uses it) and `cfg(test)` (where
//!   the driver's unit tests switch it on explicitly).
//! * Only what a real poller may do is injected, on source tokens only (the
//!   unpark waker, the signal pipe and the timer fd are the reactor's own):
//!   - **spurious readiness**: readable and/or writable on a random
//!     registered source, as epoll reports after a concurrent read or a
//!     wake-up that another waiter consumed. Never closed or error bits:
//!     those are final states, and a spurious one would end a stream early.
//!   - **late delivery**: a real event is held back for 1 to [`MAX_HOLD`]
//!     turns, then delivered. It is never dropped: readiness is
//!     edge-triggered, so the kernel will not repeat it. While an event is
//!     held, polls do not block, so holding cannot turn into a hang.
//!   - **early return**: now and then a turn returns at once without
//!     polling, as `epoll_wait` does on `EINTR`.
//! * A held event is delivered through the slab with the usual generation
//!   check, so one held past its source's deregistration is dropped as
//!   stale, exactly like a late kernel event.
//! * Rates (the constants below): one real event in 4 is held back, one
//!   turn in 2 marks one or two random sources ready, one turn in 8 ends
//!   early. Enough that every test meets each fault many times, few enough
//!   that the suite's time barely changes.
//! * The seed comes from `EMBER_FAULT_SEED` (a decimal `u64`), else from the
//!   clock and the process id, once per process; every driver prints it to
//!   stderr when it is created (a test harness captures it and shows it
//!   beside a failure), so a failing run can be replayed. Replay repeats
//!   each driver's decisions turn by turn; where threads race, the turns
//!   themselves may differ.

use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use slab::Slab;

use crate::ready::Ready;
use crate::scheduled_io::ScheduledIo;
use crate::token;

/// The environment variable that fixes the seed.
#[cfg(ember_fault)]
const SEED_VAR: &str = "EMBER_FAULT_SEED";

/// A real event is held back for at most this many turns.
const MAX_HOLD: u32 = 3;
/// One real source event in this many is held back.
const HOLD_ONE_IN: u64 = 4;
/// One turn in this many adds spurious readiness.
const SPURIOUS_ONE_IN: u64 = 2;
/// At most this many sources get spurious readiness in one turn.
const SPURIOUS_MAX: u64 = 2;
/// One turn in this many returns early without polling.
const CUT_SHORT_ONE_IN: u64 = 8;

/// The faults of one driver: its random source and held-back events.
#[derive(Debug)]
pub(crate) struct Faults {
    rng: Rng,
    held: Vec<Held>,
    /// How many events were ever held, for tests that must see some.
    #[cfg(test)]
    pub(crate) holds: usize,
}

/// A real event delivered late.
#[derive(Debug)]
struct Held {
    token: mio::Token,
    ready: Ready,
    /// Turns to wait before delivery; delivered at the first turn that
    /// finds it zero.
    turns: u32,
}

impl Faults {
    /// Faults seeded from `EMBER_FAULT_SEED` (or the process's own random
    /// seed), announced on stderr.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `EMBER_FAULT_SEED` is set but not a `u64`.
    #[cfg(ember_fault)]
    pub(crate) fn from_env() -> std::io::Result<Faults> {
        let seed = process_seed()?;
        // `eprintln!`, which a test harness captures and shows beside the
        // test's failure, and only then.
        eprintln!("ember: fault injection on (--cfg ember_fault); replay with {SEED_VAR}={seed}");
        Ok(Faults::with_seed(seed))
    }

    /// Faults from a fixed seed.
    pub(crate) fn with_seed(seed: u64) -> Faults {
        Faults {
            rng: Rng::new(seed),
            held: Vec::new(),
            #[cfg(test)]
            holds: 0,
        }
    }

    /// Whether this turn should return at once, without polling.
    pub(crate) fn cut_turn_short(&mut self) -> bool {
        self.rng.one_in(CUT_SHORT_ONE_IN)
    }

    /// The poll timeout to use instead of `timeout`: zero while an event is
    /// held, so that it is delivered in a few turns, not after a sleep.
    pub(crate) fn poll_timeout(&self, timeout: Option<Duration>) -> Option<Duration> {
        if self.held.is_empty() {
            timeout
        } else {
            Some(Duration::ZERO)
        }
    }

    /// Whether to hold back this real event; if so it is kept and delivered
    /// by a later [`inject`](Faults::inject).
    pub(crate) fn hold(&mut self, token: mio::Token, ready: Ready) -> bool {
        if !self.rng.one_in(HOLD_ONE_IN) {
            return false;
        }
        let turns = 1 + self.rng.below(u64::from(MAX_HOLD)) as u32;
        #[cfg(test)]
        {
            self.holds += 1;
        }
        self.held.push(Held {
            token,
            ready,
            turns,
        });
        true
    }

    /// At the end of a turn's dispatch: deliver the held events whose time
    /// has come and age the others, then maybe add spurious readiness to
    /// random sources of `slab`. Wakers go to `wake`.
    ///
    /// Returns how many real events this delivered or still holds: activity
    /// the turn must count, so that a paused clock does not jump ahead of an
    /// event that is merely late. Spurious readiness is not counted: it is
    /// not activity, and a turn that only saw it lets the clock move on.
    pub(crate) fn inject(&mut self, slab: &Slab<Arc<ScheduledIo>>, wake: &mut Vec<Waker>) -> usize {
        let mut delivered = 0;
        self.held.retain_mut(|held| {
            if held.turns > 0 {
                held.turns -= 1;
                return true;
            }
            match slab.get(token::slot(held.token)) {
                // The generation check of a real event: a source that went
                // away while its event was held never sees it.
                Some(io) if io.token() == held.token => io.set_readiness(held.ready, wake),
                _ => {}
            }
            delivered += 1;
            false
        });
        if slab.capacity() > 0 && self.rng.one_in(SPURIOUS_ONE_IN) {
            for _ in 0..=self.rng.below(SPURIOUS_MAX) {
                // A random slot; a vacant one gets nothing, as when the
                // source just went away.
                let slot = self.rng.below(slab.capacity() as u64) as usize;
                if let Some(io) = slab.get(slot) {
                    io.set_readiness(self.spurious_readiness(), wake);
                }
            }
        }
        delivered + self.held.len()
    }

    /// Readable, writable or both; never a closed or error bit.
    fn spurious_readiness(&mut self) -> Ready {
        match self.rng.below(3) {
            0 => Ready::READABLE,
            1 => Ready::WRITABLE,
            _ => Ready::READABLE | Ready::WRITABLE,
        }
    }

    /// How many real events are held back now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.len()
    }
}

/// The process's seed: `EMBER_FAULT_SEED`, else one drawn from the clock and
/// the process id the first time it is asked for.
#[cfg(ember_fault)]
fn process_seed() -> std::io::Result<u64> {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    match std::env::var(SEED_VAR) {
        Ok(text) => text.trim().parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{SEED_VAR} must be an unsigned 64-bit integer, not {text:?}"),
            )
        }),
        Err(_) => Ok(*SEED.get_or_init(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            // One splitmix step spreads nearby clocks over all 64 bits.
            Rng::new(nanos ^ u64::from(std::process::id()).rotate_left(32)).next()
        })),
    }
}

/// splitmix64: tiny, fast, and good enough to scatter faults; not for
/// anything that must be unpredictable.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` (`n > 0`) for fault injection.
    fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: no division, and the bias is below 2^-32 for the
        // small `n` used here.
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ready::Interest;

    fn slab_of(count: usize) -> Slab<Arc<ScheduledIo>> {
        let mut slab = Slab::new();
        for generation in 0..count {
            let entry = slab.vacant_entry();
            let io = ScheduledIo::new(token::encode(entry.key(), generation + 1));
            entry.insert(Arc::new(io));
        }
        slab
    }

    #[test]
    fn the_same_seed_makes_the_same_decisions() {
        let decisions = |seed| {
            let mut faults = Faults::with_seed(seed);
            (0..256)
                .map(|_| (faults.cut_turn_short(), faults.rng.next()))
                .collect::<Vec<_>>()
        };
        assert_eq!(decisions(7), decisions(7));
        assert_ne!(decisions(7), decisions(8));
    }

    #[test]
    fn every_held_event_is_delivered_within_max_hold_turns() {
        let slab = slab_of(4);
        let mut faults = Faults::with_seed(1);
        let mut wake = Vec::new();
        let mut held = 0;
        for (_, io) in slab.iter() {
            for _ in 0..64 {
                if faults.hold(io.token(), Ready::READABLE) {
                    held += 1;
                }
            }
        }
        assert!(held > 0, "1 in {HOLD_ONE_IN} of 256 events should be held");
        assert_eq!(faults.held(), held);
        let mut delivered = 0;
        for _ in 0..=MAX_HOLD {
            assert_eq!(
                faults.poll_timeout(None),
                Some(Duration::ZERO),
                "a poll must not block while an event is held"
            );
            // A turn counts what it delivers and what it still holds.
            let before = faults.held();
            assert_eq!(faults.inject(&slab, &mut wake), before);
            delivered += before - faults.held();
        }
        assert_eq!(delivered, held, "a held event was lost");
        assert_eq!(faults.held(), 0);
        assert_eq!(faults.poll_timeout(None), None);
        for (_, io) in slab.iter() {
            assert!(io.ready_event(Interest::READABLE).is_some());
        }
    }

    #[test]
    fn a_held_event_for_a_source_that_went_away_is_dropped() {
        let mut slab = slab_of(1);
        let stale = slab[0].token();
        let mut faults = Faults::with_seed(3);
        // Closed: a bit that spurious readiness never sets, so it shows
        // whether the stale event got through.
        while !faults.hold(stale, Ready::READ_CLOSED) {}
        // The slot is reused by a newcomer with another generation.
        slab.remove(0);
        let entry = slab.vacant_entry();
        entry.insert(Arc::new(ScheduledIo::new(token::encode(0, 99))));
        let mut wake = Vec::new();
        for _ in 0..=MAX_HOLD {
            faults.inject(&slab, &mut wake);
        }
        assert_eq!(faults.held(), 0);
        let newcomer = slab[0].ready_event(Interest::READABLE | Interest::WRITABLE);
        if let Some(Ok(event)) = newcomer {
            assert!(
                !event.readiness().is_read_closed(),
                "the stale event reached the slot's new owner"
            );
        }
    }

    #[test]
    fn spurious_readiness_is_never_closed_or_error() {
        let slab = slab_of(8);
        let mut faults = Faults::with_seed(5);
        let mut wake = Vec::new();
        for _ in 0..1_000 {
            faults.inject(&slab, &mut wake);
        }
        let mut reached = 0;
        for (_, io) in slab.iter() {
            if let Some(Ok(event)) = io.ready_event(Interest::READABLE | Interest::WRITABLE) {
                reached += 1;
                let ready = event.readiness();
                assert!(!ready.is_read_closed() && !ready.is_write_closed() && !ready.is_error());
            }
        }
        assert!(reached > 0, "no source got spurious readiness");
    }

    #[test]
    fn below_stays_in_range_and_reaches_every_value() {
        let mut rng = Rng::new(11);
        let mut seen = [false; 5];
        for _ in 0..1_000 {
            let v = rng.below(5) as usize;
            seen[v] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
