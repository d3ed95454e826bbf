//! The thread-local scheduler context.
//!
//! While a thread runs [`CurrentThread::block_on`](crate::CurrentThread::block_on) (or drops a
//! scheduler), `CURRENT` holds that scheduler's [`Core`]. It answers three questions cheaply:
//! which [`Handle`](crate::Handle) is current, where [`spawn_local`](crate::spawn_local) puts
//! tasks, and whether a wake happening on this thread can take the lock-free local path.
//!
//! Ground rules: the `RefCell` is only borrowed for the duration of a queue or slab operation,
//! never while user code (a task poll, a waker, a destructor) runs, so re-entrant wakes from
//! inside a poll or a drop always find it free.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::Waker;

use crate::current_thread::{Core, Shared};
use crate::task::raw::{Registration, TaskRunnable};

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

const NESTED_BLOCK_ON: &str = "Cannot block_on inside a running ember runtime: this thread is \
    already driving one (block_on was called from inside a task or another block_on); \
    use .await or spawn instead";

/// Restores the previous context on drop, including during unwinding.
#[derive(Debug)]
pub(crate) struct EnterGuard {
    previous: Option<Rc<Core>>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // During thread teardown the slot may already be gone; then there is nothing to restore.
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
    }
}

/// Make `core` current for a `block_on`.
///
/// # Panics
///
/// If this thread is already inside a `block_on`.
pub(crate) fn enter(core: &Rc<Core>) -> EnterGuard {
    let nested = CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_some() {
            return true;
        }
        *c = Some(core.clone());
        false
    });
    if nested {
        panic!("{NESTED_BLOCK_ON}");
    }
    EnterGuard { previous: None }
}

/// Make `core` current while it shuts down, whatever was current before.
pub(crate) fn enter_for_shutdown(core: &Rc<Core>) -> EnterGuard {
    let previous = CURRENT
        .try_with(|c| c.borrow_mut().replace(core.clone()))
        .ok()
        .flatten();
    EnterGuard { previous }
}

/// Run `f` on the current core, if any.
pub(crate) fn with_core<R>(f: impl FnOnce(&Rc<Core>) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| c.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// True if this thread is currently driving the scheduler that owns `shared`.
pub(crate) fn is_current(shared: &Shared) -> bool {
    with_core(|core| core.owns(shared)).unwrap_or(false)
}

/// The local path of a wake: push onto the current core's queue if `shared` is that core's.
/// Gives the runnable back otherwise.
pub(crate) fn try_schedule_local(
    shared: &Shared,
    runnable: TaskRunnable,
) -> Result<(), TaskRunnable> {
    let mut runnable = Some(runnable);
    let _ = CURRENT.try_with(|c| {
        if let Some(core) = c.borrow().as_ref() {
            if core.owns(shared) {
                if let Some(r) = runnable.take() {
                    core.push_local(r);
                }
            }
        }
    });
    match runnable {
        None => Ok(()),
        Some(r) => Err(r),
    }
}

/// Record a pending task's waker in the current core's set of live tasks.
pub(crate) fn register_active(waker: &Waker) -> Option<Registration> {
    with_core(|core| core.register_active(waker)).flatten()
}

/// Forget a registration made by [`register_active`].
pub(crate) fn deregister_active(registration: Registration) {
    // The waker is dropped after the borrow ends: dropping it may free a task, which must be
    // able to touch the context itself.
    let waker = with_core(|core| core.deregister_active(registration)).flatten();
    drop(waker);
}
