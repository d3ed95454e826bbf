//! [`Entries`]: the values of a join set, and which of them are worth polling.
//!
//! Each entry gets a waker of its own (a [`Notifier`]) and is only ever polled with it; when
//! it fires, the entry goes on the ready queue and the set's waiter is woken. So finding a
//! finished task costs a pop, not a poll of every handle in the set. A new entry starts on
//! the ready queue: its first poll registers its waker.
//!
//! Ground rules:
//! - `Entries` (the slab) is owned by the set and touched only through `&mut`. The ready queue
//!   and the waiter live behind one mutex shared with the notifiers, which any thread may
//!   fire; no user code runs under it (wakers are woken after it is released).
//! - A notifier's `state` is `QUEUED` from the moment it is pushed until the set pops it,
//!   `IDLE` while its entry waits for a wake, and `REMOVED` once its entry is gone. Only the
//!   wake that moves it from `IDLE` to `QUEUED` pushes it, so an entry is queued at most once.
//!   The set marks a popped entry `IDLE` *before* polling it: a wake during the poll queues it
//!   again rather than being lost.
//! - The queue holds notifiers, not keys: a notifier popped for a slot that now holds another
//!   entry (its own was removed and the slot reused) is recognised and skipped.
//! - The queue and the notifiers point at each other; dropping `Entries` closes the queue and
//!   empties it, and a closed queue takes no pushes, so nothing is left to keep the cycle
//!   alive.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use slab::Slab;

/// On the ready queue, or popped and about to be polled.
const QUEUED: u8 = 0;
/// Waiting for a wake.
const IDLE: u8 = 1;
/// Its entry is gone: wakes do nothing.
const REMOVED: u8 = 2;

/// A set of values (join handles) polled only when their waker fired. See the module docs.
pub(super) struct Entries<J> {
    slab: Slab<Entry<J>>,
    ready: Arc<ReadyQueue>,
}

struct Entry<J> {
    value: J,
    notifier: Arc<Notifier>,
    /// `notifier` as a `Waker`, built once.
    waker: Waker,
}

/// What the notifiers share with the set.
struct ReadyQueue {
    inner: Mutex<Ready>,
}

struct Ready {
    queue: VecDeque<Arc<Notifier>>,
    /// Whoever waits for an entry to become ready (`join_next`).
    waiter: Option<Waker>,
    /// Set when the `Entries` is dropped: pushes are refused.
    closed: bool,
}

/// The waker of one entry.
struct Notifier {
    /// The entry's slot in the slab.
    key: usize,
    ready: Arc<ReadyQueue>,
    /// `QUEUED`, `IDLE` or `REMOVED`; see the ground rules.
    state: AtomicU8,
}

impl ReadyQueue {
    fn lock(&self) -> MutexGuard<'_, Ready> {
        // Nothing panics while the queue is half-updated.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Wake for Notifier {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self
            .state
            .compare_exchange(IDLE, QUEUED, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // Already queued (or being polled, which sees the news), or removed.
            return;
        }
        let waiter = {
            let mut ready = self.ready.lock();
            if ready.closed {
                return;
            }
            ready.queue.push_back(self.clone());
            ready.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl<J> Entries<J> {
    pub(super) fn new() -> Entries<J> {
        Entries {
            slab: Slab::new(),
            ready: Arc::new(ReadyQueue {
                inner: Mutex::new(Ready {
                    queue: VecDeque::new(),
                    waiter: None,
                    closed: false,
                }),
            }),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.slab.len()
    }

    /// Adds `value`, ready to be polled (so that its first poll registers its waker).
    pub(super) fn insert(&mut self, value: J) {
        let slot = self.slab.vacant_entry();
        let notifier = Arc::new(Notifier {
            key: slot.key(),
            ready: self.ready.clone(),
            state: AtomicU8::new(QUEUED),
        });
        let waker = Waker::from(notifier.clone());
        self.ready.lock().queue.push_back(notifier.clone());
        slot.insert(Entry {
            value,
            notifier,
            waker,
        });
    }

    /// Polls ready entries with `poll` until one gives `Ready`, which is removed and returned.
    /// `Ready(None)` if the set is empty; `Pending` if no entry is ready, after registering
    /// `waiter` (if any) to be woken when one becomes ready.
    pub(super) fn poll_next<R>(
        &mut self,
        waiter: Option<&Waker>,
        mut poll: impl FnMut(&mut J, &mut Context<'_>) -> Poll<R>,
    ) -> Poll<Option<R>> {
        loop {
            if self.slab.is_empty() {
                return Poll::Ready(None);
            }
            let notifier = {
                let mut ready = self.ready.lock();
                match ready.queue.pop_front() {
                    Some(notifier) => notifier,
                    None => {
                        if let Some(waiter) = waiter {
                            if !ready.waiter.as_ref().is_some_and(|w| w.will_wake(waiter)) {
                                ready.waiter = Some(waiter.clone());
                            }
                        }
                        return Poll::Pending;
                    }
                }
            };
            let key = notifier.key;
            let Some(entry) = self
                .slab
                .get_mut(key)
                .filter(|entry| Arc::ptr_eq(&entry.notifier, &notifier))
            else {
                // The entry it was queued for is gone.
                continue;
            };
            // Before the poll: a wake from now on queues the entry again.
            entry.notifier.state.store(IDLE, Ordering::Release);
            let mut cx = Context::from_waker(&entry.waker);
            if let Poll::Ready(output) = poll(&mut entry.value, &mut cx) {
                self.remove(key);
                return Poll::Ready(Some(output));
            }
        }
    }

    fn remove(&mut self, key: usize) -> J {
        let entry = self.slab.remove(key);
        entry.notifier.state.store(REMOVED, Ordering::Release);
        entry.value
    }

    /// Runs `f` on every value.
    pub(super) fn for_each(&mut self, mut f: impl FnMut(&mut J)) {
        for (_, entry) in self.slab.iter_mut() {
            f(&mut entry.value);
        }
    }

    /// Removes every value and hands them back.
    pub(super) fn take_all(&mut self) -> Vec<J> {
        let values = std::mem::take(&mut self.slab)
            .into_iter()
            .map(|(_, entry)| {
                entry.notifier.state.store(REMOVED, Ordering::Release);
                entry.value
            })
            .collect();
        // Every notifier left in the queue is stale now; drop them here rather than one at a
        // time in later polls.
        let stale = std::mem::take(&mut self.ready.lock().queue);
        drop(stale);
        values
    }
}

impl<J> Drop for Entries<J> {
    fn drop(&mut self) {
        for (_, entry) in self.slab.iter() {
            entry.notifier.state.store(REMOVED, Ordering::Release);
        }
        // Dropped outside the lock: a waiter's destructor is user code.
        let (stale, waiter) = {
            let mut ready = self.ready.lock();
            ready.closed = true;
            (std::mem::take(&mut ready.queue), ready.waiter.take())
        };
        drop((stale, waiter));
    }
}

impl<J> fmt::Debug for Entries<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entries")
            .field("len", &self.slab.len())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// A value that is ready once its flag is set, and records the waker it was polled with.
    struct Flag {
        set: Arc<AtomicBool>,
        waker: Option<Waker>,
        polls: usize,
    }

    fn poll_flag(flag: &mut Flag, cx: &mut Context<'_>) -> Poll<usize> {
        flag.polls += 1;
        flag.waker = Some(cx.waker().clone());
        if flag.set.load(Ordering::SeqCst) {
            Poll::Ready(flag.polls)
        } else {
            Poll::Pending
        }
    }

    fn flag() -> (Flag, Arc<AtomicBool>) {
        let set = Arc::new(AtomicBool::new(false));
        let flag = Flag {
            set: set.clone(),
            waker: None,
            polls: 0,
        };
        (flag, set)
    }

    #[test]
    fn only_woken_entries_are_polled_again() {
        let mut entries = Entries::new();
        let (a, a_set) = flag();
        let (b, _b_set) = flag();
        entries.insert(a);
        entries.insert(b);
        // First round: both are new, so both are polled once and stay.
        assert!(entries.poll_next(None, poll_flag).is_pending());
        let mut wakers = Vec::new();
        entries.for_each(|f| {
            assert_eq!(f.polls, 1);
            wakers.push(f.waker.clone().unwrap());
        });
        // Nothing woke: nothing is polled.
        assert!(entries.poll_next(None, poll_flag).is_pending());
        entries.for_each(|f| assert_eq!(f.polls, 1));
        // `a` finishes and wakes (twice: queued once).
        a_set.store(true, Ordering::SeqCst);
        wakers[0].wake_by_ref();
        wakers[0].wake_by_ref();
        assert_eq!(entries.poll_next(None, poll_flag), Poll::Ready(Some(2)));
        assert_eq!(entries.len(), 1);
        entries.for_each(|f| assert_eq!(f.polls, 1));
        assert!(entries.poll_next(None, poll_flag).is_pending());
    }

    #[test]
    fn a_late_wake_of_a_removed_entry_does_not_poll_its_slot_s_new_entry() {
        let mut entries = Entries::new();
        let (a, _) = flag();
        entries.insert(a);
        assert!(entries.poll_next(None, poll_flag).is_pending());
        let mut old = None;
        entries.for_each(|f| old = f.waker.clone());
        let values = entries.take_all();
        assert_eq!(values.len(), 1);
        // Same slot, new entry; a late wake of the removed one is ignored.
        let (b, _) = flag();
        entries.insert(b);
        assert!(entries.poll_next(None, poll_flag).is_pending());
        old.unwrap().wake();
        assert!(entries.poll_next(None, poll_flag).is_pending());
        entries.for_each(|f| assert_eq!(f.polls, 1));
    }

    #[test]
    fn the_waiter_is_woken_by_an_entry() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(Default::default()));
        let waiter = Waker::from(count.clone());
        let mut entries = Entries::new();
        let (a, a_set) = flag();
        entries.insert(a);
        assert!(entries.poll_next(Some(&waiter), poll_flag).is_pending());
        let mut waker = None;
        entries.for_each(|f| waker = f.waker.clone());
        a_set.store(true, Ordering::SeqCst);
        waker.unwrap().wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            entries.poll_next(Some(&waiter), poll_flag),
            Poll::Ready(Some(2))
        );
        assert_eq!(
            entries.poll_next(Some(&waiter), poll_flag),
            Poll::Ready(None)
        );
    }
}
