//! Per-source state shared by the driver and the source's owners: readiness
//! bits, an event tick, and the tasks waiting for readiness.
//!
//! # Ground rules
//!
//! * `readiness` is one atomic word. Only the driver thread *sets* readiness
//!   (in [`ScheduledIo::set_readiness`], during a turn) and it is the only one
//!   to bump the tick. Any thread may *clear* readiness, and only with a
//!   compare-and-swap that fails if the tick moved ([`ScheduledIo::clear_readiness`]).
//! * `waiters` is a mutex held only for a few stores and a scan of the
//!   waiter list: owners store their wakers there; the driver takes wakers
//!   out while holding it and wakes them **after** releasing it.
//! * Two kinds of waiters (see [`Waiters`]): the `poll_*` contract keeps one
//!   slot per direction, where the last poller wins (as in tokio); the
//!   `async fn`s each own an entry of a waiter list from their first
//!   `Pending` until they are dropped, so any number of tasks may wait on
//!   one direction of one source and every one of them is woken by the
//!   event it waits for. The first list entry is stored inline, so the
//!   common case of one waiter allocates nothing.
//! * No lost wakeup: the driver sets readiness *before* locking `waiters`;
//!   an owner stores its waker *under* the lock and then re-checks the
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
//! | 5 | `SHUTDOWN` | the reactor is gone; final; polls then fail |
//! | 8.. | tick | number of events delivered to this source, wrapping; bumped with every `set_readiness` |

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use crate::ready::{Direction, Interest, Ready, ReadyEvent};

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
    /// Every task waiting on this source.
    waiters: Mutex<Waiters>,
}

/// The tasks waiting on one source.
#[derive(Debug, Default)]
struct Waiters {
    /// The `poll_*` slot for reading: one waiter, the last poller wins.
    reader: Option<Waker>,
    /// The `poll_*` slot for writing.
    writer: Option<Waker>,
    /// The `async fn` waiters.
    list: WaiterList,
}

/// The `async fn` waiters of one source: entry 0 is stored inline (no
/// allocation for a single waiter), the others in `rest` (entry `k + 1` is
/// `rest[k]`). An entry belongs to one [`Waiter`](crate::registration) from
/// its insertion until that waiter is dropped; a woken entry keeps its place
/// with no waker until its owner polls again or leaves.
#[derive(Debug, Default)]
struct WaiterList {
    /// Interest of entry 0; empty (`None`) while the entry is free.
    first_interest: Option<Interest>,
    first_waker: Option<Waker>,
    /// Entries 1..: `None` is a free place, reused by the next insertion.
    rest: Vec<Option<Entry>>,
}

#[derive(Debug)]
struct Entry {
    interest: Interest,
    waker: Option<Waker>,
}

impl WaiterList {
    fn insert(&mut self, interest: Interest, waker: Waker) -> usize {
        if self.first_interest.is_none() {
            self.first_interest = Some(interest);
            self.first_waker = Some(waker);
            return 0;
        }
        let entry = Some(Entry {
            interest,
            waker: Some(waker),
        });
        match self.rest.iter().position(Option::is_none) {
            Some(free) => {
                self.rest[free] = entry;
                free + 1
            }
            None => {
                self.rest.push(entry);
                self.rest.len()
            }
        }
    }

    /// The waker slot of entry `key`, if that entry is in use.
    fn waker_mut(&mut self, key: usize) -> Option<&mut Option<Waker>> {
        match key {
            0 => self.first_interest.map(|_| &mut self.first_waker),
            k => self
                .rest
                .get_mut(k - 1)
                .and_then(Option::as_mut)
                .map(|entry| &mut entry.waker),
        }
    }

    /// Frees entry `key` and returns its waker (to be dropped unlocked).
    fn remove(&mut self, key: usize) -> Option<Waker> {
        match key {
            0 => {
                self.first_interest = None;
                self.first_waker.take()
            }
            k => {
                let entry = self.rest.get_mut(k - 1)?.take()?;
                // Keep the vector short once the crowd has gone.
                while matches!(self.rest.last(), Some(None)) {
                    self.rest.pop();
                }
                entry.waker
            }
        }
    }

    /// Takes the waker of every entry interested in `ready`.
    fn take_matching(&mut self, ready: Ready, wake: &mut Vec<Waker>) {
        if self.first_interest.is_some_and(|i| i.matches(ready)) {
            wake.extend(self.first_waker.take());
        }
        for entry in self.rest.iter_mut().flatten() {
            if entry.interest.matches(ready) {
                wake.extend(entry.waker.take());
            }
        }
    }

    fn take_all(&mut self, wake: &mut Vec<Waker>) {
        wake.extend(self.first_waker.take());
        for entry in self.rest.iter_mut().flatten() {
            wake.extend(entry.waker.take());
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        usize::from(self.first_interest.is_some()) + self.rest.iter().flatten().count()
    }
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

/// Replace the waker in `slot` with `waker` unless it would wake the same
/// task; returns the replaced one, to be dropped after unlocking.
fn store_waker(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(existing) if existing.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
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
        // Every update of `Waiters` is a handful of stores that cannot panic
        // halfway (only `Waker::clone` runs user code, before the store), so
        // a poisoned lock is still consistent.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Driver only: record `ready`, bump the tick, and push the wakers of
    /// every waiter whose direction became ready onto `wake` (to be woken
    /// after all locks are released).
    pub(crate) fn set_readiness(&self, ready: Ready, wake: &mut Vec<Waker>) {
        let bits = usize::from(ready.bits());
        // Only the driver thread modifies the tick, so a plain RMW suffices;
        // concurrent clears use CAS on the tick and fail harmlessly.
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                Some((word | bits).wrapping_add(TICK_ONE))
            });
        let wake_reader = Interest::READABLE.matches(ready);
        let wake_writer = Interest::WRITABLE.matches(ready);
        if wake_reader || wake_writer {
            let mut waiters = self.waiters();
            if wake_reader {
                wake.extend(waiters.reader.take());
            }
            if wake_writer {
                wake.extend(waiters.writer.take());
            }
            waiters.list.take_matching(ready, wake);
        }
    }

    /// Driver only, at shutdown: mark the source dead and hand out every waker.
    pub(crate) fn shutdown(&self, wake: &mut Vec<Waker>) {
        self.readiness.fetch_or(SHUTDOWN, Ordering::AcqRel);
        let mut waiters = self.waiters();
        wake.extend(waiters.reader.take());
        wake.extend(waiters.writer.take());
        waiters.list.take_all(wake);
    }

    /// The readiness currently recorded for `interest`, or `None` if none.
    pub(crate) fn ready_event(&self, interest: Interest) -> Option<io::Result<ReadyEvent>> {
        let word = self.readiness.load(Ordering::Acquire);
        let ready = Ready::from_bits((word & READINESS_MASK) as u8).intersection(interest.mask());
        if !ready.is_empty() {
            return Some(Ok(ReadyEvent {
                ready,
                direction: if Interest::READABLE.matches(ready) {
                    Direction::Read
                } else {
                    Direction::Write
                },
                tick: tick_of(word),
            }));
        }
        if word & SHUTDOWN != 0 {
            return Some(Err(shutdown_error()));
        }
        None
    }

    /// The `poll_*` contract: ready if `direction` is ready (or closed, or
    /// errored); otherwise store `cx`'s waker in the direction's one slot
    /// (replacing the previous poller's) and return `Pending`.
    pub(crate) fn poll_readiness(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let interest = direction.interest();
        if let Some(result) = self.ready_event(interest) {
            return Poll::Ready(result);
        }
        let mut waiters = self.waiters();
        let replaced = store_waker(waiters.slot(direction), cx.waker());
        // Re-check under the lock: see "No lost wakeup" in the module docs.
        // Leave the waker when ready: a spurious wake later is harmless.
        let result = self.ready_event(interest);
        drop(waiters);
        drop(replaced);
        match result {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }

    /// The `async fn` contract: ready if `interest` is satisfied; otherwise
    /// store `cx`'s waker in the waiter list entry `key` (inserting one the
    /// first time) and return `Pending`. The caller owns the entry until it
    /// passes `key` to [`remove_waiter`](ScheduledIo::remove_waiter).
    pub(crate) fn poll_waiter(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        key: &mut Option<usize>,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(result) = self.ready_event(interest) {
            return Poll::Ready(result);
        }
        let mut waiters = self.waiters();
        let replaced = match *key {
            Some(k) => match waiters.list.waker_mut(k) {
                Some(slot) => store_waker(slot, cx.waker()),
                None => unreachable!("a waiter's entry is freed only by its owner"),
            },
            None => {
                *key = Some(waiters.list.insert(interest, cx.waker().clone()));
                None
            }
        };
        // Re-check under the lock: see "No lost wakeup" in the module docs.
        let result = self.ready_event(interest);
        drop(waiters);
        drop(replaced);
        match result {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }

    /// Frees waiter list entry `key`, taken by [`poll_waiter`](ScheduledIo::poll_waiter).
    pub(crate) fn remove_waiter(&self, key: usize) {
        let waker = self.waiters().list.remove(key);
        drop(waker);
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

    #[cfg(test)]
    fn waiter_count(&self) -> usize {
        self.waiters().list.len()
    }
}

pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other("the ember reactor this source was registered with has shut down")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::task::Wake;
    use std::thread::{self, Thread};
    use std::time::{Duration, Instant};

    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn counting() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    #[test]
    fn clear_is_ignored_after_a_newer_event() {
        let io = ScheduledIo::new(mio::Token(0));
        let mut wake = Vec::new();
        io.set_readiness(Ready::READABLE, &mut wake);
        let first = io
            .ready_event(Interest::READABLE)
            .expect("ready")
            .expect("ok");
        // A second edge arrives before the owner clears.
        io.set_readiness(Ready::READABLE, &mut wake);
        io.clear_readiness(first);
        assert!(
            io.ready_event(Interest::READABLE).is_some(),
            "newer edge lost"
        );
        let second = io
            .ready_event(Interest::READABLE)
            .expect("ready")
            .expect("ok");
        io.clear_readiness(second);
        assert!(io.ready_event(Interest::READABLE).is_none());
    }

    #[test]
    fn closed_is_final_and_directions_are_independent() {
        let io = ScheduledIo::new(mio::Token(0));
        let mut wake = Vec::new();
        io.set_readiness(Ready::READABLE | Ready::READ_CLOSED, &mut wake);
        assert!(io.ready_event(Interest::WRITABLE).is_none());
        let ev = io
            .ready_event(Interest::READABLE)
            .expect("ready")
            .expect("ok");
        io.clear_readiness(ev);
        let ev = io
            .ready_event(Interest::READABLE)
            .expect("still ready")
            .expect("ok");
        assert!(ev.readiness().is_read_closed());
        assert!(!ev.readiness().is_readable());
    }

    #[test]
    fn every_list_waiter_of_a_direction_is_woken_and_only_those() {
        let io = ScheduledIo::new(mio::Token(0));
        let counters: Vec<_> = (0..5).map(|_| counting()).collect();
        let interests = [
            Interest::READABLE,
            Interest::READABLE,
            Interest::WRITABLE,
            Interest::READABLE | Interest::WRITABLE,
            Interest::READABLE,
        ];
        let mut keys = [None; 5];
        for ((key, (_, waker)), interest) in keys.iter_mut().zip(&counters).zip(interests) {
            let mut cx = Context::from_waker(waker);
            assert!(io.poll_waiter(&mut cx, interest, key).is_pending());
        }
        // The poll slot coexists with the list.
        let (slot_counter, slot_waker) = counting();
        let mut cx = Context::from_waker(&slot_waker);
        assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());
        assert_eq!(io.waiter_count(), 5);

        let mut wake = Vec::new();
        io.set_readiness(Ready::READABLE, &mut wake);
        wake.drain(..).for_each(Waker::wake);
        let woken: Vec<usize> = counters
            .iter()
            .map(|(c, _)| c.0.load(Ordering::SeqCst))
            .collect();
        assert_eq!(woken, [1, 1, 0, 1, 1]);
        assert_eq!(slot_counter.0.load(Ordering::SeqCst), 1);

        // Woken entries keep their place until their owners leave.
        assert_eq!(io.waiter_count(), 5);
        for key in keys.iter().flatten() {
            io.remove_waiter(*key);
        }
        assert_eq!(io.waiter_count(), 0);
    }

    #[test]
    fn a_dropped_waiter_frees_its_entry_and_others_still_wake() {
        let io = ScheduledIo::new(mio::Token(0));
        let (a, wa) = counting();
        let (b, wb) = counting();
        let (mut ka, mut kb) = (None, None);
        assert!(io
            .poll_waiter(&mut Context::from_waker(&wa), Interest::READABLE, &mut ka)
            .is_pending());
        assert!(io
            .poll_waiter(&mut Context::from_waker(&wb), Interest::READABLE, &mut kb)
            .is_pending());
        // The first (inline) waiter leaves; its entry is reused without
        // disturbing the other one.
        io.remove_waiter(ka.take().expect("registered"));
        let (c, wc) = counting();
        let mut kc = None;
        assert!(io
            .poll_waiter(&mut Context::from_waker(&wc), Interest::READABLE, &mut kc)
            .is_pending());
        assert_eq!(kc, Some(0), "the inline entry is reused");
        let mut wake = Vec::new();
        io.set_readiness(Ready::READABLE, &mut wake);
        wake.drain(..).for_each(Waker::wake);
        assert_eq!(a.0.load(Ordering::SeqCst), 0);
        assert_eq!(b.0.load(Ordering::SeqCst), 1);
        assert_eq!(c.0.load(Ordering::SeqCst), 1);
        io.remove_waiter(kb.expect("registered"));
        io.remove_waiter(kc.expect("registered"));
        assert_eq!(io.waiter_count(), 0);
    }

    #[test]
    fn shutdown_wakes_every_waiter_and_fails_them() {
        let io = ScheduledIo::new(mio::Token(0));
        let (a, wa) = counting();
        let mut key = None;
        let mut cx = Context::from_waker(&wa);
        assert!(io
            .poll_waiter(&mut cx, Interest::WRITABLE, &mut key)
            .is_pending());
        let mut wake = Vec::new();
        io.shutdown(&mut wake);
        wake.drain(..).for_each(Waker::wake);
        assert_eq!(a.0.load(Ordering::SeqCst), 1);
        assert!(matches!(
            io.poll_waiter(&mut cx, Interest::WRITABLE, &mut key),
            Poll::Ready(Err(_))
        ));
        io.remove_waiter(key.expect("registered"));
    }

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

    /// Waits (bounded) until `unparker` was woken; a lost wakeup fails.
    fn wait_for_wake(unparker: &Unparker, what: &str) {
        // `park` may return spuriously (a leftover unpark token), so only a
        // long silence counts as lost.
        let give_up = Instant::now() + Duration::from_secs(10);
        while !unparker.woken.load(Ordering::SeqCst) {
            let now = Instant::now();
            assert!(now < give_up, "lost wakeup: {what}");
            thread::park_timeout(give_up - now);
        }
    }

    /// The owner waits and clears while the "driver" thread sets readiness,
    /// racing on every round (both sides spin a pseudo-random few iterations
    /// so the set lands anywhere around the owner's poll). A lost wakeup
    /// leaves the owner parked, which the generous park timeout turns into a
    /// failure instead of a hang.
    #[test]
    fn no_lost_wakeup_between_set_and_poll() {
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
                    Poll::Pending => wait_for_wake(&unparker, &format!("round {round}")),
                }
            }
            consumed.store(round + 1, Ordering::SeqCst);
        }
        driver.join().expect("driver thread panicked");
    }

    /// Stress of the waiter list against `set_readiness`: several waiter
    /// threads, each owning a list entry (which some of them drop and take
    /// again every round, to churn the inline slot and the overflow), wait
    /// for the same direction while a driver thread sets readiness. Each
    /// round the driver sets once every waiter has consumed the previous
    /// round, so a waiter that misses its wake-up stalls the round and fails
    /// the test instead of hanging it.
    #[test]
    fn no_lost_wakeup_with_many_waiters() {
        const WAITERS: usize = 4;
        const ROUNDS: usize = 2_000;
        let io = Arc::new(ScheduledIo::new(mio::Token(0)));
        // Per waiter: the last round it completed.
        let done: Arc<Vec<AtomicUsize>> =
            Arc::new((0..WAITERS).map(|_| AtomicUsize::new(0)).collect());
        // The round the driver has published readiness for.
        let published = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..WAITERS)
            .map(|w| {
                let (io, done, published) = (io.clone(), done.clone(), published.clone());
                thread::spawn(move || {
                    let unparker = Arc::new(Unparker {
                        woken: AtomicBool::new(false),
                        thread: thread::current(),
                    });
                    let waker = Waker::from(unparker.clone());
                    let mut cx = Context::from_waker(&waker);
                    let mut seed = 0x2545_f491 ^ (w as u32 + 1).wrapping_mul(0x9e37_79b9);
                    let mut key = None;
                    for round in 1..=ROUNDS {
                        jitter(&mut seed);
                        if w % 2 == 1 {
                            // Leave and come back: the entry moves around.
                            if let Some(k) = key.take() {
                                io.remove_waiter(k);
                            }
                        }
                        loop {
                            unparker.woken.store(false, Ordering::SeqCst);
                            match io.poll_waiter(&mut cx, Interest::READABLE, &mut key) {
                                // Only this round's readiness counts; an
                                // older one is waited out like an empty one.
                                Poll::Ready(Ok(_)) if published.load(Ordering::SeqCst) >= round => {
                                    break
                                }
                                Poll::Ready(Ok(_)) => thread::yield_now(),
                                Poll::Ready(Err(e)) => panic!("unexpected error: {e}"),
                                Poll::Pending => {
                                    wait_for_wake(&unparker, &format!("waiter {w}, round {round}"))
                                }
                            }
                        }
                        done[w].store(round, Ordering::SeqCst);
                    }
                    if let Some(k) = key {
                        io.remove_waiter(k);
                    }
                })
            })
            .collect();
        let mut wake = Vec::new();
        let mut seed = 0x1357_9bdf;
        for round in 1..=ROUNDS {
            // Every waiter finished the previous round.
            let give_up = Instant::now() + Duration::from_secs(10);
            while done.iter().any(|d| d.load(Ordering::SeqCst) < round - 1) {
                assert!(
                    Instant::now() < give_up,
                    "a waiter is stuck in round {round}"
                );
                thread::yield_now();
            }
            // Clear, as an owner whose operation hit WouldBlock would.
            if let Some(Ok(event)) = io.ready_event(Interest::READABLE) {
                io.clear_readiness(event);
            }
            jitter(&mut seed);
            published.store(round, Ordering::SeqCst);
            io.set_readiness(Ready::READABLE, &mut wake);
            wake.drain(..).for_each(Waker::wake);
        }
        for waiter in waiters {
            waiter.join().expect("waiter thread panicked");
        }
        assert_eq!(io.waiter_count(), 0, "a waiter's entry leaked");
    }

    #[test]
    fn state_is_small() {
        // Part of the per-connection memory budget (~500 B incl. the task):
        // two poll slots, one inline list entry and an empty overflow vector.
        assert!(std::mem::size_of::<ScheduledIo>() <= 112);
    }
}
