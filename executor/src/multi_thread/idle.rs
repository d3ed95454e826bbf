//! Idle-worker bookkeeping: who is parked, who is searching for work, and whom to wake.
//!
//! Ground rules (the "searching / unparked" protocol):
//! - `state` packs the number of *searching* workers (looking for work to steal, low 16 bits)
//!   and of *unparked* workers (the rest). Every change is a SeqCst read-modify-write.
//! - A notifier first makes its work visible (pushes to a queue), then calls
//!   [`worker_to_notify`](Idle::worker_to_notify): a worker is woken only when nobody is
//!   searching and somebody is parked. The woken worker counts as searching and unparked from
//!   that moment, so a burst of notifications wakes one worker, which wakes the next once it
//!   finds work (see `transition_worker_from_searching`), and so on.
//! - A worker parks only after finding every queue empty, either as a searcher or while
//!   someone else searches. [`transition_worker_to_parked`](Idle::transition_worker_to_parked)
//!   tells it whether it was the last searcher; the last searcher must check every queue once
//!   more after the transition and notify if it finds work. Both sides' RMWs hit `state`, so
//!   either the notifier sees "nobody searching" and wakes someone, or the last searcher's
//!   re-check (ordered after the notifier's push by the RMW chain) sees the work. No wakeup is
//!   lost.
//! - At most half the workers search at once ([`transition_worker_to_searching`]), so an idle
//!   pool does not thrash on the queues.
//! - `sleepers` (the parked workers' indices) is only touched under its mutex, together with
//!   the matching change of `state`.
//!
//! [`transition_worker_to_searching`]: Idle::transition_worker_to_searching

use std::fmt;
use std::sync::PoisonError;

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};

const UNPARKED_SHIFT: usize = 16;
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
const ONE_UNPARKED: usize = 1 << UNPARKED_SHIFT;

pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARKED_SHIFT
}

impl Idle {
    /// Every worker starts unparked and not searching.
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCHING_MASK, "too many workers");
        Idle {
            state: AtomicUsize::new(num_workers << UNPARKED_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<usize>> {
        self.sleepers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn should_notify(&self) -> bool {
        // An RMW rather than a load: it orders this read after the caller's push, against the
        // RMWs of parking workers (see the module docs).
        let state = self.state.fetch_add(0, Ordering::SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// Picks a parked worker to wake, after new work was made visible. The caller unparks it.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_notify() {
            return None;
        }
        let mut sleepers = self.lock();
        if !self.should_notify() {
            return None;
        }
        let index = sleepers.pop()?;
        // The woken worker is unparked and searching from now on.
        self.state.fetch_add(ONE_UNPARKED | 1, Ordering::SeqCst);
        Some(index)
    }

    /// Records that worker `index` is going to park. Returns true if it was the last searching
    /// worker: then it must re-check every queue and notify if one has work.
    pub(crate) fn transition_worker_to_parked(&self, index: usize, is_searching: bool) -> bool {
        let mut sleepers = self.lock();
        let dec = ONE_UNPARKED | usize::from(is_searching);
        let previous = self.state.fetch_sub(dec, Ordering::SeqCst);
        sleepers.push(index);
        is_searching && searching(previous) == 1
    }

    /// Tries to become a searcher. Fails if half the workers are searching already.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(Ordering::SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        // Not a CAS: the limit is a heuristic; going over it by a little is harmless.
        self.state.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// A searcher found work. Returns true if it was the last searcher: then it must notify
    /// another worker, so that more work gets looked for.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let previous = self.state.fetch_sub(1, Ordering::SeqCst);
        searching(previous) == 1
    }

    /// Removes worker `index` from the sleepers if it is there (it woke up for another reason,
    /// e.g. work arrived on its own thread). Returns true if it was there: it is then unparked
    /// but not searching. False means a notifier already took it out (it counts as searching).
    pub(crate) fn unpark_worker_by_id(&self, index: usize) -> bool {
        let mut sleepers = self.lock();
        match sleepers.iter().position(|&i| i == index) {
            Some(position) => {
                sleepers.swap_remove(position);
                self.state.fetch_add(ONE_UNPARKED, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// True if worker `index` is still in the sleepers (nobody notified it).
    pub(crate) fn is_parked(&self, index: usize) -> bool {
        self.lock().contains(&index)
    }
}

impl fmt::Debug for Idle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Idle")
            .field("searching", &searching(state))
            .field("unparked", &unparked(state))
            .field("num_workers", &self.num_workers)
            .finish()
    }
}
