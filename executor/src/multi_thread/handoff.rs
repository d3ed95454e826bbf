//! What lets a worker's thread-local half move to a stand-in thread during `block_in_place`:
//! the worker's park kept where a stand-in can use it ([`ParkSlot`]), and the core wrapped to
//! cross threads ([`LentCore`]). The one unsafe part of the multi-thread scheduler outside its
//! ring.
//!
//! Ground rules:
//! - A [`WorkerCore`] is used by one thread at a time: its home thread (the one that called
//!   `Worker::run`), or, while that thread blocks in `block_in_place`, the one stand-in that
//!   took it through the [`Lend`](super::lend::Lend). The home thread stops touching the core
//!   before the offer (it takes the core out of its executor context, so no wake or spawn on
//!   that thread reaches it, and holds its own `Rc`s untouched) and resumes only after the
//!   reclaim; the stand-in touches it only between `take` and `give_back`, and drops every
//!   `Rc` clone it made before giving it back. The lend's mutex orders the two.
//! - Tasks pinned to the worker (`spawn_local`) never run, and are never cancelled or
//!   dropped, on a stand-in: the core's `lent` flag keeps their queue and inbox closed to it,
//!   and `spawn_local` there panics instead of pinning a future made on the wrong thread. A
//!   stand-in may move their runnables between queues (a runnable is a pointer; `LocalOnly`
//!   guards what matters: polls and drops).
//! - The park is filled into the slot by `Worker::run` for the whole loop, which borrows it
//!   mutably that long; the slot is emptied before that borrow ends, even by unwinding.
//!   Whoever parks takes the park out of the slot for the call and puts it back after, so it
//!   is never used twice at once, and a `block_in_place` that finds the slot empty (called
//!   from inside a park, say by an odd waker, or while the worker leaves) runs its closure in
//!   place instead of lending.

#![allow(unsafe_code)]

use std::cell::Cell;
use std::fmt;
use std::ptr::NonNull;
use std::rc::Rc;
use std::time::Duration;

use super::worker::WorkerCore;
use crate::park::Park;

/// The worker's park, for whichever thread runs the worker loop. See the module docs.
pub(super) struct ParkSlot {
    /// The `'static` is a lie the slot keeps honest: see [`ParkSlot::fill_during`].
    park: Cell<Option<NonNull<dyn Park + Send>>>,
}

impl ParkSlot {
    pub(super) fn empty() -> ParkSlot {
        ParkSlot {
            park: Cell::new(None),
        }
    }

    /// Puts `park` in the slot while `body` runs, and empties the slot when `body` returns
    /// or unwinds.
    ///
    /// # Panics
    ///
    /// If the slot is already filled.
    pub(super) fn fill_during<R>(
        &self,
        park: &mut (dyn Park + Send),
        body: impl FnOnce() -> R,
    ) -> R {
        /// Empties the slot on drop.
        struct Empty<'a>(&'a ParkSlot);

        impl Drop for Empty<'_> {
            fn drop(&mut self) {
                self.0.park.set(None);
            }
        }

        assert!(
            self.park.get().is_none(),
            "a worker's park slot is filled once"
        );
        let park: NonNull<dyn Park + Send + '_> = NonNull::from(park);
        // SAFETY: only the trait object's lifetime bound changes (same pointer, same vtable).
        // The pointer is used only while it is in the slot or taken out of it by `park`, and
        // the slot is emptied by `Empty` before this function returns or unwinds, that is
        // while the `&mut` borrow it came from is still live: it is never used after `park`
        // can be gone. `park` holds no other reference to it meanwhile (the borrow is ours).
        let park = unsafe {
            std::mem::transmute::<NonNull<dyn Park + Send + '_>, NonNull<dyn Park + Send + 'static>>(
                park,
            )
        };
        self.park.set(Some(park));
        let _empty = Empty(self);
        body()
    }

    /// True if the park is in the slot: not in use further up this thread's stack, and the
    /// loop is running.
    pub(super) fn is_filled(&self) -> bool {
        self.park.get().is_some()
    }

    /// Empties the slot early (the worker is leaving: nothing may lend it any more).
    pub(super) fn clear(&self) {
        self.park.set(None);
    }

    /// Calls the park. Returns false, without parking, if the slot is empty.
    pub(super) fn park(&self, timeout: Option<Duration>) -> bool {
        /// Puts the park back on drop, also when it unwinds.
        struct PutBack<'a>(&'a ParkSlot, NonNull<dyn Park + Send>);

        impl Drop for PutBack<'_> {
            fn drop(&mut self) {
                self.0.park.set(Some(self.1));
            }
        }

        let Some(mut park) = self.park.take() else {
            return false;
        };
        let _put_back = PutBack(self, park);
        // SAFETY: the pointer came from `fill_during`, whose borrow is live while the pointer
        // is in the slot (we just took it from there, and `fill_during` empties the slot
        // before its borrow ends). Taking it out makes this call its only user: a nested
        // `park` or a `block_in_place` inside this call finds the slot empty. The thread
        // calling is the one using the core (module ground rules), and `dyn Park + Send` may
        // be used from any thread.
        unsafe { park.as_mut() }.park(timeout);
        true
    }
}

impl fmt::Debug for ParkSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParkSlot")
            .field("filled", &self.is_filled())
            .finish()
    }
}

/// A worker's core in the hand of a [`Lend`](super::lend::Lend): on its way to a stand-in
/// thread and back.
pub(super) struct LentCore(pub(super) Rc<WorkerCore>);

// SAFETY: a `WorkerCore` is `!Send` because its cells and its `Rc` count are unsynchronised
// and because tasks pinned to it must stay on its home thread. Moving it (in this wrapper)
// through a `Lend` keeps both safe, by the module's ground rules: exactly one thread uses the
// core, its cells or its `Rc` at a time, and every change of hands goes through the lend's
// mutex, which orders one thread's last use before the next thread's first; the stand-in never
// polls, cancels or drops a pinned task and cannot pin a new one. The park inside the core is
// `Send` (`dyn Park + Send`), and so are the ring's owner half and the shared state.
unsafe impl Send for LentCore {}

impl fmt::Debug for LentCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LentCore").field(&self.0).finish()
    }
}
