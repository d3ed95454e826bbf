//! ember's reactor: it owns the OS poller (mio: epoll, kqueue), the registry
//! of I/O sources with their readiness and wakers, cross-thread wake-up of a
//! blocked poll, Unix signal delivery, and it drives the timer.
//!
//! # How it works
//!
//! A [`Driver`] is owned by the runtime thread and turned with
//! [`Driver::turn`]; everything else talks to it through its cloneable,
//! thread-safe [`Handle`]. A turn polls the OS for at most the time until the
//! next timer deadline, records what each event says about its source, wakes
//! the tasks waiting on it, drains the signal self-pipe, and fires due timers.
//!
//! Sources are registered with [`Handle::register`], which returns a
//! [`Registration`]. Each source has a slot in a slab and is named to the OS
//! by a token holding the slot *and* a generation, so an event for a source
//! that was dropped never wakes a newcomer in the same slot. Readiness is
//! edge-triggered and kept per direction: a reader and a writer on the same
//! socket wait and wake independently. An operation clears the readiness it
//! saw only when it hits `WouldBlock` ([`Registration::poll_io`]), and only if
//! no newer event arrived meanwhile (a tick check), so no edge is lost.
//! Closed and error states count as ready, so a half-closed socket returns
//! end-of-file instead of hanging.
//!
//! Another thread wakes a driver blocked in poll with [`Handle::unpark`],
//! which writes the OS waker only if the driver is actually asleep.
//! Signals ([`Handle::listen_signals`]) are written by a signal-hook action
//! to a per-reactor self-pipe and fanned out to every listener. The
//! coop budget makes a task that keeps finding I/O ready yield now and
//! then, so one busy connection cannot starve the others.
//!
//! # Example
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! use std::io::Write;
//! use std::task::{Context, Poll};
//! use ember_reactor::{Direction, Driver};
//! use mio::{net::UnixStream, Interest};
//! # struct Noop;
//! # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
//! # let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
//! # let mut cx = Context::from_waker(&waker);
//!
//! let mut driver = Driver::new(ember_timer::Clock::real())?;
//! let (mut a, mut b) = UnixStream::pair()?;
//! let reg = driver.handle().register(&mut a, Interest::READABLE)?;
//! b.write_all(b"ping")?;
//! while reg.poll_ready(&mut cx, Direction::Read).is_pending() {
//!     driver.turn(None)?;
//! }
//! reg.deregister(&mut a)?;
//! # Ok(())
//! # }
//! ```

mod context;
mod coop;
mod driver;
#[cfg(any(ember_fault, test))]
mod fault;
mod handle;
mod ready;
mod registration;
mod scheduled_io;
mod signal;
mod sys;
mod token;
mod unpark;

pub use driver::Driver;
pub use handle::{EnterGuard, Handle};
pub use ready::{Direction, Interest, Ready, ReadyEvent};
pub use registration::{Readiness, Registration};
pub use signal::SignalListener;

/// What ember's own crates share with the reactor beyond its public API.
///
/// Not part of the public API: used by `ember-io` and the `ember` facade,
/// and not covered by semver. Do not use it.
#[doc(hidden)]
pub mod __private {
    pub use crate::context::NO_RUNTIME;
    pub use crate::handle::BlockingOffload;
    /// The cooperative budget (see the module docs of `coop`).
    pub mod coop {
        pub use crate::coop::{budget, poll_proceed, BUDGET};
    }
    pub use crate::sys::{poll_now, set_nonblocking};
    // Pipes handed on to a child, for `ember_io::process`.
    pub use crate::sys::set_blocking;
    // Child exit through the poller, for `ember_io::process` (Linux >= 5.3).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub use crate::sys::pidfd_open;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub use crate::sys::sendfile;
    pub use crate::sys::{peer_cred, PeerCred};

    /// The event tick `event` was observed at (wrapping). Two events of one
    /// source with the same tick report the same readiness; `ember-io`
    /// uses it to tell readiness it already handed out from a newer event.
    pub fn event_tick(event: &crate::ReadyEvent) -> usize {
        event.tick
    }

    /// Installs where the reactor sends blocking work (name lookups): the
    /// runtime's blocking pool. The reactor itself owns no threads. Only the
    /// first call takes effect; returns whether it did.
    pub fn set_blocking_offload(handle: &crate::Handle, offload: BlockingOffload) -> bool {
        handle.set_blocking_offload(offload)
    }

    /// Runs `work`, which may block, on the blocking offload of `handle`
    /// (or on this thread without one). A pool that shuts down may drop
    /// `work` without running it.
    pub fn offload_blocking(handle: &crate::Handle, work: Box<dyn FnOnce() + Send>) {
        handle.offload_blocking(work);
    }
}
