//! Who runs the final drain at shutdown: `shutdown` or the last worker to leave.
//!
//! Ground rules: one word holds the shutdown flag and the number of workers still running, and
//! both `shutdown` and a leaving worker change it by one read-modify-write. The RMWs are
//! totally ordered, so exactly one of them sees "flag raised and no worker left": that one
//! drains, and never while a worker still runs.

use std::fmt;

use crate::loom::sync::atomic::{AtomicUsize, Ordering};

/// The flag bit; the rest of the word counts live workers.
const SHUTDOWN: usize = 1 << (usize::BITS - 1);

pub(crate) struct Lifecycle {
    /// `SHUTDOWN | live workers` (workers that have neither left `run` nor been dropped unrun).
    state: AtomicUsize,
}

impl Lifecycle {
    pub(crate) fn new(workers: usize) -> Lifecycle {
        Lifecycle {
            state: AtomicUsize::new(workers),
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.state.load(Ordering::Acquire) & SHUTDOWN != 0
    }

    /// Raises the flag. Returns true the first time it finds no worker left: the caller drains.
    pub(crate) fn shutdown(&self) -> bool {
        self.state.fetch_or(SHUTDOWN, Ordering::AcqRel) == 0
    }

    /// A worker left. Returns true if it was the last and shutdown was requested: the caller
    /// drains.
    pub(crate) fn worker_exited(&self) -> bool {
        self.state.fetch_sub(1, Ordering::AcqRel) == SHUTDOWN | 1
    }
}

impl fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Lifecycle")
            .field("shutdown", &(state & SHUTDOWN != 0))
            .field("live_workers", &(state & !SHUTDOWN))
            .finish()
    }
}
