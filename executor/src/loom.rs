//! The concurrency shim: std's primitives normally, loom's under `--cfg loom`.
//!
//! The concurrency-critical parts of the executor (the multi-thread scheduler's local run
//! queue, injection queue, idle-worker bookkeeping and `block_in_place` hand-off, and the
//! live-task sets of `owned`) take
//! their atomics, mutexes and cells from here, so the same code is model-checked by loom and
//! compiled against std otherwise. The std `UnsafeCell` is wrapped to offer loom's
//! closure-based `with`/`with_mut` API.

#[cfg(loom)]
pub(crate) use loom::{cell, sync};

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};

    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{
            AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering,
        };
    }
}

#[cfg(not(loom))]
pub(crate) mod cell {
    /// `std::cell::UnsafeCell` with loom's access API.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(data: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(data))
        }

        /// Calls `f` with a shared pointer to the contents.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Calls `f` with a mutable pointer to the contents.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}
