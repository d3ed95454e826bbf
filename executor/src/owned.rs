//! The live-task sets ("owned tasks") and the one shutdown drain.
//!
//! Every scheduler records each task it spawns, at spawn, as the task's waker in a live-task
//! set, and the task removes itself when its future finishes or is dropped (its metadata
//! carries its owner and its key: see `task::raw::Owner`). Shutdown then reaches every task
//! still alive, including pending ones whose wakers are held elsewhere: [`drain`] wakes them
//! all, so that each gets queued, and cancels whatever gets queued, until nothing moves.
//!
//! Two sets, for two kinds of owner:
//! - [`OwnedTasks`]: any thread may insert or remove. Mutex-protected slabs (shards): a
//!   multi-thread scheduler has a few per worker and spreads tasks over them by id, so workers
//!   rarely meet on a lock; the current-thread scheduler uses one for spawns from other
//!   threads.
//! - [`LocalOwned`]: one thread only, no lock: the current-thread scheduler's own spawns, and
//!   the tasks pinned to a multi-thread worker (`spawn_local`). It is `!Sync`; the scheduler
//!   reaches it through its thread-local core, and a task that finishes on another thread (only
//!   ever after the set closed) leaves it alone.
//!
//! A scheduler tells the two apart in the key it hands the task ([`Key`]). Owners (schedulers,
//! blocking pools) are identified by a process-wide monotonic id ([`next_id`]), never by an
//! address.
//!
//! Ground rules: each set is closed exactly once, by the first [`close_and_take`]
//! (`OwnedTasks::close_and_take`, `LocalOwned::close_and_take`), which takes every value in
//! it. From then on insertions are refused (handed back) and removals ignored, so a stale key
//! can never remove a newer entry, and a task spawned during shutdown is reached through the
//! queue it is pushed to instead. `OwnedTasks` checks `closed` under the shard's lock, so an
//! insertion either lands before the close (and is taken) or is refused; no value is in the set
//! after its last `close_and_take` returned. Values are handed back to the caller to drop
//! outside any lock or borrow (dropping a waker may free a task, which runs user code).
//!
//! [`close_and_take`]: OwnedTasks::close_and_take

use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::PoisonError;
use std::task::Waker;

use slab::Slab;

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::Mutex;

/// A fresh owner id: process-unique, increasing, never 0.
pub(crate) fn next_id() -> u64 {
    // Not the loom shim: a static needs a const constructor, and the counter only has to be
    // unique.
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Where a task sits in its scheduler's live-task sets, as one `usize` in the task's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// A key of the scheduler's [`LocalOwned`] set.
    Local(usize),
    /// A key of the scheduler's [`OwnedTasks`] set.
    Shared(usize),
}

impl Key {
    pub(crate) fn encode(self) -> usize {
        match self {
            Key::Local(key) => key << 1,
            Key::Shared(key) => (key << 1) | 1,
        }
    }

    pub(crate) fn decode(raw: usize) -> Key {
        if raw & 1 == 0 {
            Key::Local(raw >> 1)
        } else {
            Key::Shared(raw >> 1)
        }
    }
}

/// A live-task set any thread may use: mutex-protected shards. See the module docs.
pub(crate) struct OwnedTasks<T = Waker> {
    /// A power of two of them, so a key splits into shard and slot with a mask and a shift
    /// (no division on the spawn path).
    shards: Box<[Mutex<Slab<T>>]>,
    /// `log2(shards.len())`: a key is `slot << shift | shard`.
    shift: u32,
    /// Set by the first `close_and_take`; read under a shard's lock.
    closed: AtomicBool,
}

impl<T> OwnedTasks<T> {
    /// A set of at least `shards` shards (at least one; rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> OwnedTasks<T> {
        let shards = shards.max(1).next_power_of_two();
        OwnedTasks {
            shards: (0..shards).map(|_| Mutex::new(Slab::new())).collect(),
            shift: shards.trailing_zeros(),
            closed: AtomicBool::new(false),
        }
    }

    fn lock(&self, shard: usize) -> crate::loom::sync::MutexGuard<'_, Slab<T>> {
        self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn mask(&self) -> usize {
        self.shards.len() - 1
    }

    /// Records `value` in shard `shard` (modulo the shard count) and returns its key, or hands
    /// `value` back once the set is closed.
    pub(crate) fn insert(&self, shard: usize, value: T) -> Result<usize, T> {
        let shard = shard & self.mask();
        let mut slab = self.lock(shard);
        if self.closed.load(Ordering::Acquire) {
            return Err(value);
        }
        Ok((slab.insert(value) << self.shift) | shard)
    }

    /// Removes entry `key` and hands its value back; `None` once the set is closed.
    pub(crate) fn remove(&self, key: usize) -> Option<T> {
        let mut slab = self.lock(key & self.mask());
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        slab.try_remove(key >> self.shift)
    }

    /// Closes the set (if open) and takes every value left in it.
    pub(crate) fn close_and_take(&self) -> Vec<T> {
        self.closed.store(true, Ordering::Release);
        let mut values = Vec::new();
        for shard in 0..self.shards.len() {
            let slab = std::mem::take(&mut *self.lock(shard));
            values.extend(slab.into_iter().map(|(_, value)| value));
        }
        values
    }

    /// How many values are in the set.
    pub(crate) fn len(&self) -> usize {
        (0..self.shards.len()).map(|s| self.lock(s).len()).sum()
    }
}

impl<T> fmt::Debug for OwnedTasks<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedTasks")
            .field("shards", &self.shards.len())
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A live-task set for one thread: no lock. See the module docs.
pub(crate) struct LocalOwned<T = Waker> {
    slab: RefCell<Slab<T>>,
    closed: Cell<bool>,
}

impl<T> LocalOwned<T> {
    pub(crate) fn new() -> LocalOwned<T> {
        LocalOwned {
            slab: RefCell::new(Slab::new()),
            closed: Cell::new(false),
        }
    }

    /// Records `value` and returns its key, or hands it back once the set is closed.
    pub(crate) fn insert(&self, value: T) -> Result<usize, T> {
        if self.closed.get() {
            return Err(value);
        }
        Ok(self.slab.borrow_mut().insert(value))
    }

    /// Removes entry `key` and hands its value back; `None` once the set is closed.
    pub(crate) fn remove(&self, key: usize) -> Option<T> {
        if self.closed.get() {
            return None;
        }
        self.slab.borrow_mut().try_remove(key)
    }

    /// Closes the set (if open) and takes every value left in it.
    pub(crate) fn close_and_take(&self) -> Vec<T> {
        self.closed.set(true);
        let slab = std::mem::take(&mut *self.slab.borrow_mut());
        slab.into_iter().map(|(_, value)| value).collect()
    }

    /// How many values are in the set.
    pub(crate) fn len(&self) -> usize {
        self.slab.borrow().len()
    }
}

impl<T> fmt::Debug for LocalOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalOwned")
            .field("len", &self.slab.try_borrow().map(|s| s.len()).ok())
            .field("closed", &self.closed.get())
            .finish()
    }
}

/// The shutdown drain, shared by every scheduler: cancels every task it can reach, exactly once.
///
/// Each round wakes every recorded task (`take_recorded`: the first call closes the set), which
/// queues it unless it is queued already, then takes every queued runnable (`next_queued`) and
/// hands it to `dispose` (which cancels it: runs it with its abort bit set, so its future is
/// dropped and its `JoinHandle` gets a cancelled error). Destructors run by cancelling may wake
/// or spawn more, so rounds repeat while they make progress. When a round finds nothing,
/// `settle` gets the last word: it closes what must be closed (say, an injection queue) and
/// returns true if that turned up more work, for another round.
///
/// Every task is disposed of exactly once because each runnable exists once and only its
/// holder disposes of it; waking a task that is queued or running is a no-op.
pub(crate) fn drain<R>(
    mut take_recorded: impl FnMut() -> Vec<Waker>,
    mut next_queued: impl FnMut() -> Option<R>,
    mut dispose: impl FnMut(R),
    mut settle: impl FnMut() -> bool,
) {
    loop {
        let recorded = take_recorded();
        let mut progressed = !recorded.is_empty();
        for waker in recorded {
            waker.wake();
        }
        while let Some(runnable) = next_queued() {
            dispose(runnable);
            progressed = true;
        }
        if !progressed && !settle() {
            return;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for key in [0, 1, 2, 12345] {
            assert_eq!(Key::decode(Key::Local(key).encode()), Key::Local(key));
            assert_eq!(Key::decode(Key::Shared(key).encode()), Key::Shared(key));
        }
    }

    #[test]
    fn closed_sets_refuse_and_ignore() {
        let owned = OwnedTasks::new(3);
        let keys: Vec<usize> = (0..7).map(|i| owned.insert(i, i).unwrap()).collect();
        assert_eq!(owned.remove(keys[4]), Some(4));
        assert_eq!(owned.len(), 6);
        let mut taken = owned.close_and_take();
        taken.sort_unstable();
        assert_eq!(taken, [0, 1, 2, 3, 5, 6]);
        assert_eq!(owned.insert(0, 9), Err(9));
        assert_eq!(owned.remove(keys[0]), None);
        assert!(owned.close_and_take().is_empty());

        let local = LocalOwned::new();
        let a = local.insert('a').unwrap();
        local.insert('b').unwrap();
        assert_eq!(local.remove(a), Some('a'));
        assert_eq!(local.close_and_take(), ['b']);
        assert_eq!(local.insert('c'), Err('c'));
    }
}

#[cfg(all(test, loom))]
mod loom_tests;
