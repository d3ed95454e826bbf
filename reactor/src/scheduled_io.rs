//! Per-source state shared by the driver and the source's owner: readiness
//! bits, an event tick, and one waker slot per direction.
//!
//! # Ground rules
//!
//! * `readiness` is one atomic word. Only the driver thread *sets* readiness
//!   (in [`ScheduledIo::set_readiness`], during a turn) and it is the only one
//!   to bump the tick. Any thread may *clear* readiness, and only with a
//!   compare-and-swap that fails if the tick moved ([`ScheduledIo::clear_readiness`]).
//! * `waiters` is a mutex held only for a few stores: the owner stores its
//!   waker there ([`ScheduledIo::poll_readiness`]); the driver takes wakers out
//!   while holding it and wakes them **after** releasing it.
//! * No lost wakeup: the driver sets readiness *before* locking `waiters`;
//!   the owner stores its waker *under* the lock and then re-checks the
//!   readiness. Either the driver took the lock after the store (and wakes the
//!   stored waker) or the owner's re-check, which happens after the driver
//!   released the lock, sees the new bits.
//! * Lock order: the reactor's slab lock, then a source's `waiters`. Nothing
//!   takes the slab lock while holding `waiters`.
//!
//! # State word
//!
//! | bits | name | invariant |
//! |------|------|-----------|
//! | 0 | `READABLE` | set by an event with readable; cleared only by a tick-matching `clear_readiness(Read)` |
//! | 1 | `WRITABLE` | same, for writable and `Write` |
//! | 2 | `READ_CLOSED` | peer closed its write side; final: never cleared |
//! | 3 | `WRITE_CLOSED` | our write side is closed; final: never cleared |
//! | 4 | `ERROR` | error reported; cleared like readable/writable (the failing operation reports the error itself) |
//! | 5 | `SHUTDOWN` | the reactor is gone; final; `poll_readiness` then fails |
//! | 8.. | tick | number of events delivered to this source, wrapping; bumped with every `set_readiness` |

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use crate::ready::{Direction, Ready, ReadyEvent};

const READINESS_MASK: usize = 0x1f;
const SHUTDOWN: usize = 1 << 5;
const TICK_SHIFT: u32 = 8;
const TICK_ONE: usize = 1 << TICK_SHIFT;

/// State of one registered source (see the module docs for its rules).
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    /// Token this source was registered under; fixed for its lifetime.
    token: mio::Token,
    /// Readiness bits, shutdown flag and tick (see the table above).
    readiness: AtomicUsize,
    /// The task waiting to read and the task waiting to write.
    waiters: Mutex<Waiters>,
}

#[derive(Debug, Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl Waiters {
    fn slot(&mut self, direction: Direction) -> &mut Option<Waker> {
        match direction {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

fn tick_of(word: usize) -> usize {
    word >> TICK_SHIFT
}

impl ScheduledIo {
    pub(crate) fn new(token: mio::Token) -> ScheduledIo {
        ScheduledIo {
            token,
            readiness: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    pub(crate) fn token(&self) -> mio::Token {
        self.token
    }

    fn waiters(&self) -> std::sync::MutexGuard<'_, Waiters> {
        // A panic while holding this lock cannot leave `Waiters` inconsistent
        // (it is two independent options), so poisoning is ignored.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Driver only: record `ready`, bump the tick, and push the wakers of the
    /// directions that became ready onto `wake` (to be woken after all locks
    /// are released).
    pub(crate) fn set_readiness(&self, ready: Ready, wake: &mut Vec<Waker>) {
        let bits = usize::from(ready.bits());
        // Only the driver thread modifies the tick, so a plain RMW suffices;
        // concurrent clears use CAS on the tick and fail harmlessly.
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                Some((word | bits).wrapping_add(TICK_ONE))
            });
        let wake_reader = !ready.intersection(Ready::READ_MASK).is_empty();
        let wake_writer = !ready.intersection(Ready::WRITE_MASK).is_empty();
        if wake_reader || wake_writer {
            let mut waiters = self.waiters();
            if wake_reader {
                wake.extend(waiters.reader.take());
            }
            if wake_writer {
                wake.extend(waiters.writer.take());
            }
        }
    }

    /// Driver only, at shutdown: mark the source dead and hand out every waker.
    pub(crate) fn shutdown(&self, wake: &mut Vec<Waker>) {
        self.readiness.fetch_or(SHUTDOWN, Ordering::AcqRel);
        let mut waiters = self.waiters();
        wake.extend(waiters.reader.take());
        wake.extend(waiters.writer.take());
    }

    /// The readiness currently recorded for `direction`, or `None` if none.
    fn ready_event(&self, direction: Direction) -> Option<io::Result<ReadyEvent>> {
        let word = self.readiness.load(Ordering::Acquire);
        let ready =
            Ready::from_bits((word & READINESS_MASK) as u8).intersection(Ready::mask(direction));
        if !ready.is_empty() {
            return Some(Ok(ReadyEvent {
                ready,
                direction,
                tick: tick_of(word),
            }));
        }
        if word & SHUTDOWN != 0 {
            return Some(Err(shutdown_error()));
        }
        None
    }

    /// Ready if `direction` is ready (or closed, or errored); otherwise store
    /// `cx`'s waker in the direction's slot and return `Pending`.
    pub(crate) fn poll_readiness(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(result) = self.ready_event(direction) {
            return Poll::Ready(result);
        }
        let mut waiters = self.waiters();
        let slot = waiters.slot(direction);
        match slot {
            Some(existing) if existing.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        // Re-check under the lock: see "No lost wakeup" in the module docs.
        match self.ready_event(direction) {
            Some(result) => {
                // Leave the waker: a spurious wake later is harmless.
                Poll::Ready(result)
            }
            None => Poll::Pending,
        }
    }

    /// Clear the readiness seen in `event`, unless a newer event arrived
    /// (tick moved). Closed states are final and stay set.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = usize::from(event.ready.without(Ready::CLOSED).bits());
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                (tick_of(word) == event.tick).then_some(word & !clear)
            });
    }
}

pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other("the ember reactor this source was registered with has shut down")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_is_ignored_after_a_newer_event() {
        let io = ScheduledIo::new(mio::Token(0));
        let mut wake = Vec::new();
        io.set_readiness(Ready::READABLE, &mut wake);
        let first = io.ready_event(Direction::Read).expect("ready").expect("ok");
        // A second edge arrives before the owner clears.
        io.set_readiness(Ready::READABLE, &mut wake);
        io.clear_readiness(first);
        assert!(io.ready_event(Direction::Read).is_some(), "newer edge lost");
        let second = io.ready_event(Direction::Read).expect("ready").expect("ok");
        io.clear_readiness(second);
        assert!(io.ready_event(Direction::Read).is_none());
    }

    #[test]
    fn closed_is_final_and_directions_are_independent() {
        let io = ScheduledIo::new(mio::Token(0));
        let mut wake = Vec::new();
        io.set_readiness(Ready::READABLE | Ready::READ_CLOSED, &mut wake);
        assert!(io.ready_event(Direction::Write).is_none());
        let ev = io.ready_event(Direction::Read).expect("ready").expect("ok");
        io.clear_readiness(ev);
        let ev = io
            .ready_event(Direction::Read)
            .expect("still ready")
            .expect("ok");
        assert!(ev.readiness().is_read_closed());
        assert!(!ev.readiness().is_readable());
    }

    /// The owner waits and clears while the "driver" thread sets readiness,
    /// racing on every round (both sides spin a pseudo-random few iterations
    /// so the set lands anywhere around the owner's poll). A lost wakeup
    /// leaves the owner parked, which the generous park timeout turns into a
    /// failure instead of a hang.
    #[test]
    fn no_lost_wakeup_between_set_and_poll() {
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        use std::task::Wake;
        use std::thread::{self, Thread};
        use std::time::{Duration, Instant};

        struct Unparker {
            woken: AtomicBool,
            thread: Thread,
        }
        impl Wake for Unparker {
            fn wake(self: Arc<Self>) {
                self.woken.store(true, Ordering::SeqCst);
                self.thread.unpark();
            }
        }
        fn jitter(seed: &mut u32) {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 17;
            *seed ^= *seed << 5;
            for _ in 0..(*seed % 512) {
                std::hint::spin_loop();
            }
        }

        const ROUNDS: usize = 10_000;
        let io = Arc::new(ScheduledIo::new(mio::Token(0)));
        // Rounds the owner has finished; the driver sets once per round.
        let consumed = Arc::new(AtomicUsize::new(0));
        let driver = {
            let (io, consumed) = (io.clone(), consumed.clone());
            thread::spawn(move || {
                let mut wake = Vec::new();
                let mut seed = 0x9e37_79b9;
                for round in 0..ROUNDS {
                    let give_up = Instant::now() + Duration::from_secs(10);
                    while consumed.load(Ordering::SeqCst) < round {
                        assert!(Instant::now() < give_up, "owner stuck in round {round}");
                        std::hint::spin_loop();
                    }
                    jitter(&mut seed);
                    io.set_readiness(Ready::READABLE, &mut wake);
                    wake.drain(..).for_each(Waker::wake);
                }
            })
        };
        let unparker = Arc::new(Unparker {
            woken: AtomicBool::new(false),
            thread: thread::current(),
        });
        let waker = Waker::from(unparker.clone());
        let mut cx = Context::from_waker(&waker);
        let mut seed = 0x1234_5678;
        for round in 0..ROUNDS {
            jitter(&mut seed);
            loop {
                unparker.woken.store(false, Ordering::SeqCst);
                match io.poll_readiness(&mut cx, Direction::Read) {
                    Poll::Ready(Ok(event)) => {
                        io.clear_readiness(event);
                        break;
                    }
                    Poll::Ready(Err(e)) => panic!("unexpected error: {e}"),
                    Poll::Pending => {
                        // `park` may return spuriously (a leftover unpark
                        // token), so only a long silence counts as lost.
                        let give_up = Instant::now() + Duration::from_secs(10);
                        while !unparker.woken.load(Ordering::SeqCst) {
                            let now = Instant::now();
                            assert!(now < give_up, "lost wakeup in round {round}");
                            thread::park_timeout(give_up - now);
                        }
                    }
                }
            }
            consumed.store(round + 1, Ordering::SeqCst);
        }
        driver.join().expect("driver thread panicked");
    }

    #[test]
    fn state_is_small() {
        // Part of the per-connection memory budget (~1 KB incl. the task).
        assert!(std::mem::size_of::<ScheduledIo>() <= 64);
    }
}
