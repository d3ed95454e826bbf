//! The live-task set of a multi-thread scheduler: the wakers of `Send` tasks that returned
//! `Pending` and have not finished, so shutdown can cancel tasks whose wakers are held elsewhere.
//!
//! Ground rules: one mutex-protected slab per worker (a task registers in the shard of the
//! worker that first saw it pending; it may deregister from any worker, which locks that
//! shard). A registration key encodes its shard. Once [`take_all`](Registry::take_all) ran,
//! the registry is closed: new registrations are refused and removals ignored, so a stale key
//! can never remove a newer entry.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::Waker;

use slab::Slab;

pub(crate) struct Registry {
    shards: Box<[Mutex<Slab<Waker>>]>,
    /// Set by `take_all`; checked under the shard lock.
    closed: AtomicBool,
}

impl Registry {
    pub(crate) fn new(shards: usize) -> Registry {
        Registry {
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(Slab::new()))
                .collect(),
            closed: AtomicBool::new(false),
        }
    }

    /// Records `waker` in shard `shard`; returns its key, or `None` once closed.
    pub(crate) fn register(&self, shard: usize, waker: &Waker) -> Option<usize> {
        let n = self.shards.len();
        let shard = shard % n;
        let mut slab = self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        Some(slab.insert(waker.clone()) * n + shard)
    }

    /// Removes the entry `key`; returns its waker for the caller to drop outside the lock.
    pub(crate) fn deregister(&self, key: usize) -> Option<Waker> {
        let n = self.shards.len();
        let mut slab = self.shards[key % n]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        slab.try_remove(key / n)
    }

    /// Closes the registry and takes every waker in it.
    pub(crate) fn take_all(&self) -> Vec<Waker> {
        self.closed.store(true, Ordering::Release);
        let mut wakers = Vec::new();
        for shard in self.shards.iter() {
            let slab = std::mem::take(&mut *shard.lock().unwrap_or_else(PoisonError::into_inner));
            wakers.extend(slab.into_iter().map(|(_, waker)| waker));
        }
        wakers
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
