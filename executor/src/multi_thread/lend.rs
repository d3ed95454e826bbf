//! [`Lend`]: one worker's core, lent to a stand-in thread while its own thread blocks, and
//! brought back.
//!
//! `block_in_place` on a worker offers the core; a stand-in thread takes it and runs the
//! worker loop with it; when the blocking closure returns, the worker reclaims it. The
//! protocol is generic over the payload so that loom can check it alone (`loom_tests`).
//!
//! Ground rules:
//! - The payload is in exactly one place at a time: with the lender (before the offer and
//!   after the reclaim), in the `state` mutex, or with the stand-in (between `take` and
//!   `give_back`). Every move goes through the mutex, so whatever one side did with the
//!   payload happens before the other side's next use of it.
//! - The lender reclaims exactly once. If the stand-in has not taken the payload yet, the
//!   reclaim withdraws the offer and returns at once (a late stand-in then finds nothing to
//!   take). Otherwise it raises `recalled`, then calls `nudge` (which unparks the worker: a
//!   stand-in asleep in the worker's park wakes up), and waits for `give_back`.
//! - The stand-in checks [`Lend::is_recalled`] between tasks and before each sleep; the park
//!   remembers an unpark that comes early, so a recall that lands between the check and the
//!   sleep still wakes it.

use std::fmt;
use std::sync::PoisonError;

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Condvar, Mutex, MutexGuard};

/// A payload offered by a lender to one borrower. See the module docs.
pub(super) struct Lend<P> {
    state: Mutex<State<P>>,
    /// Signalled by `give_back`.
    returned: Condvar,
    /// Raised by `reclaim` when the borrower has the payload; read by the borrower often.
    recalled: AtomicBool,
}

enum State<P> {
    /// Offered, not taken yet.
    Offered(P),
    /// With the borrower.
    Taken,
    /// The borrower gave it back.
    Returned(P),
    /// The lender has it back (or withdrew the offer): nothing to take.
    Closed,
}

impl<P> Lend<P> {
    /// Offers `payload`.
    pub(super) fn offer(payload: P) -> Lend<P> {
        Lend {
            state: Mutex::new(State::Offered(payload)),
            returned: Condvar::new(),
            recalled: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<P>> {
        // Nothing panics while the state is half-updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Borrower: takes the payload, unless the lender already withdrew it.
    pub(super) fn take(&self) -> Option<P> {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, State::Closed) {
            State::Offered(payload) => {
                *state = State::Taken;
                Some(payload)
            }
            other => {
                *state = other;
                None
            }
        }
    }

    /// Borrower: true once the lender wants the payload back.
    pub(super) fn is_recalled(&self) -> bool {
        self.recalled.load(Ordering::SeqCst)
    }

    /// Borrower: hands the payload back (once, after `take` gave it).
    pub(super) fn give_back(&self, payload: P) {
        *self.lock() = State::Returned(payload);
        self.returned.notify_one();
    }

    /// Lender: gets the payload back, waiting for the borrower if it has it. Called once.
    pub(super) fn reclaim(&self, nudge: impl FnOnce()) -> P {
        let mut state = self.lock();
        let mut nudge = Some(nudge);
        loop {
            match std::mem::replace(&mut *state, State::Closed) {
                State::Offered(payload) | State::Returned(payload) => return payload,
                State::Taken => {
                    *state = State::Taken;
                    if let Some(nudge) = nudge.take() {
                        self.recalled.store(true, Ordering::SeqCst);
                        // Unlocked while nudging: the nudge may take the borrower's park locks.
                        drop(state);
                        nudge();
                        state = self.lock();
                    } else {
                        state = self
                            .returned
                            .wait(state)
                            .unwrap_or_else(PoisonError::into_inner);
                    }
                }
                State::Closed => unreachable!("a lent worker core is reclaimed once"),
            }
        }
    }
}

impl<P> fmt::Debug for Lend<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lend")
            .field("recalled", &self.recalled.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
