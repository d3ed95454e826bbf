//! The driver context of a thread: which reactor (and, through it, which
//! timer, signal pipe and blocking offload) this thread uses, and the
//! cooperative budget of the task it is polling. One thread-local holds
//! both, so an I/O resource checks its budget and finds its reactor with one
//! thread-local access; the timer, which keeps no thread-local of its own,
//! finds its current handle here too, through the provider that
//! [`Driver::new`](crate::Driver::new) installs ([`visit_timer`]).
//!
//! # Ground rules
//!
//! * The context is entered with [`Handle::enter`](crate::Handle::enter),
//!   which returns a guard that restores the previous reactor on drop (so
//!   entering nests). That one guard enters everything: sockets, signals,
//!   timers and the budget. Entering never runs user code while the cell is
//!   borrowed.
//! * Every access uses `try_with`: during thread teardown the context reads
//!   as empty ("no runtime") instead of panicking.
//! * The timer's lookups borrow the handle for the length of a clock read or
//!   an `Arc` clone (see `ember_timer`'s context rules); they never clone
//!   the reactor's handle.
//! * The budget is `None` outside a task poll (unconstrained), `Some(n)`
//!   with `n` units left inside one (see [`crate::coop`]).

use std::cell::{Cell, RefCell};

use crate::handle::Handle;

/// The one message for "this needs a runtime and there is none": the
/// timer's, which every ember crate on the driver side shares.
pub use ember_timer::__private::NO_RUNTIME;

pub(crate) struct Context {
    /// The reactor entered on this thread, if any.
    pub(crate) handle: RefCell<Option<Handle>>,
    /// The coop budget: `None` unconstrained, `Some(n)` n units left.
    pub(crate) budget: Cell<Option<u8>>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            budget: Cell::new(None),
        }
    };
}

/// Runs `f` on this thread's context; `None` during thread teardown.
pub(crate) fn with<R>(f: impl FnOnce(&Context) -> R) -> Option<R> {
    CONTEXT.try_with(f).ok()
}

/// The reactor entered on this thread, cloned.
pub(crate) fn current() -> Option<Handle> {
    with(|c| c.handle.borrow().clone()).flatten()
}

/// Makes `handle` current, returning the previous one.
pub(crate) fn replace(handle: Option<Handle>) -> Option<Handle> {
    with(|c| c.handle.replace(handle)).flatten()
}

/// The timer's context provider: shows the timer of the reactor entered on
/// this thread, borrowed. Installed by [`Driver::new`](crate::Driver::new).
pub(crate) fn visit_timer(visit: &mut dyn FnMut(&ember_timer::Handle)) {
    with(|c| {
        if let Some(handle) = c.handle.borrow().as_ref() {
            visit(handle.timer());
        }
    });
}
