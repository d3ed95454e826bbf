//! Cross-thread wake-up of a driver blocked in `mio::Poll::poll`.
//!
//! # Ground rules
//!
//! One atomic holds the driver's sleep state: `IDLE`, `ASLEEP` or `NOTIFIED`.
//! Only the driver thread moves the state *into* `ASLEEP` (just before a
//! blocking poll) and back to `IDLE` (after the poll, or to consume a
//! notification). Any thread may move it to `NOTIFIED` with
//! [`Unparker::unpark`]; the `mio::Waker` (a syscall) is written only by the
//! one unpark call that finds the driver `ASLEEP`, so unparking a busy driver
//! costs one atomic operation and a driver is woken at most once per sleep.
//!
//! No lost wakeup: the driver publishes `ASLEEP` with a compare-and-swap from
//! `IDLE` *before* blocking. If a notification arrived first, the swap fails,
//! the driver consumes it and polls with a zero timeout. If it arrives after,
//! the notifier sees `ASLEEP` and writes the waker, which makes the poll
//! return.

use std::io;
use std::sync::atomic::{AtomicU8, Ordering};

const IDLE: u8 = 0;
const ASLEEP: u8 = 1;
const NOTIFIED: u8 = 2;

/// The shared half: sleep state plus the `mio::Waker` under [`crate::token::WAKER`].
#[derive(Debug)]
pub(crate) struct Unparker {
    state: AtomicU8,
    waker: mio::Waker,
}

impl Unparker {
    pub(crate) fn new(registry: &mio::Registry) -> io::Result<Unparker> {
        Ok(Unparker {
            state: AtomicU8::new(IDLE),
            waker: mio::Waker::new(registry, crate::token::WAKER)?,
        })
    }

    /// Any thread: make the driver's current or next turn return promptly.
    pub(crate) fn unpark(&self) {
        // Cheap path: a notification is already pending.
        if self.state.load(Ordering::Acquire) == NOTIFIED {
            return;
        }
        if self.state.swap(NOTIFIED, Ordering::AcqRel) == ASLEEP {
            // Nothing useful can be done if the waker write fails (it only fails
            // if the eventfd/pipe is broken); the driver then wakes on its own
            // timeout or the next event.
            let _ = self.waker.wake();
        }
    }

    /// Driver only, before a blocking poll: returns `true` if the driver may
    /// block (state is now `ASLEEP`), `false` if a notification was pending
    /// (consumed; poll without blocking).
    pub(crate) fn begin_sleep(&self) -> bool {
        match self
            .state
            .compare_exchange(IDLE, ASLEEP, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(_) => {
                // A swap, not a store: it synchronizes with the latest unpark
                // even if another one raced in after the failed exchange.
                self.state.swap(IDLE, Ordering::AcqRel);
                false
            }
        }
    }

    /// Driver only, after a blocking poll: back to `IDLE`, consuming any
    /// notification that arrived while asleep (the turn is returning anyway).
    pub(crate) fn end_sleep(&self) {
        // A swap so that the work published before an unpark that arrived
        // while asleep is visible to the caller once the turn returns.
        self.state.swap(IDLE, Ordering::AcqRel);
    }

    /// Driver only, on a non-blocking turn: consume a pending notification and
    /// report whether there was one.
    pub(crate) fn take_notified(&self) -> bool {
        self.state.load(Ordering::Acquire) == NOTIFIED
            && self.state.swap(IDLE, Ordering::AcqRel) == NOTIFIED
    }

    /// Tests: whether the driver is currently blocked (or about to block) in poll.
    #[cfg(test)]
    pub(crate) fn is_asleep(&self) -> bool {
        self.state.load(Ordering::Acquire) == ASLEEP
    }
}
