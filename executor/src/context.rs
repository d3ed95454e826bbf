//! The thread-local scheduler context.
//!
//! While a thread runs a scheduler (inside [`CurrentThread::block_on`](crate::CurrentThread::block_on),
//! as a multi-thread [`Worker`](crate::Worker), or inside [`MultiThread::block_on`](crate::MultiThread::block_on)),
//! `CURRENT` says which. It answers cheaply: which [`Handle`](crate::Handle) is current, where
//! [`spawn_local`](crate::spawn_local) puts tasks, whether a wake happening on this thread can
//! take a lock-free local path, and where a pending task records itself for shutdown.
//!
//! Ground rules: the `RefCell` is mutably borrowed only to enter or leave a context, never
//! while user code (a task poll, a waker, a destructor) runs, so re-entrant wakes from
//! inside a poll or a drop always find it readable.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;

use crate::current_thread::{self, Core};
use crate::multi_thread::{self, WorkerCore};
use crate::task::raw::{Registration, TaskRunnable};

/// What this thread is doing for a scheduler.
pub(crate) enum Current {
    /// Driving a [`CurrentThread`](crate::CurrentThread) in `block_on` (or dropping it).
    Thread(Rc<Core>),
    /// Running a multi-thread worker loop.
    Worker(Rc<WorkerCore>),
    /// Inside [`MultiThread::block_on`](crate::MultiThread::block_on), or cancelling its tasks
    /// at shutdown: the handle is available, tasks do not run here.
    Remote(Arc<multi_thread::Shared>),
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

const NESTED_BLOCK_ON: &str = "Cannot block_on inside a running ember runtime: this thread is \
    already driving one (block_on was called from inside a task or another block_on); \
    use .await or spawn instead";

/// Restores the previous context on drop, including during unwinding.
pub(crate) struct EnterGuard {
    previous: Option<Current>,
}

impl std::fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // During thread teardown the slot may already be gone; then there is nothing to restore.
        // The replaced context is dropped after the borrow ends.
        let _replaced = CURRENT.try_with(|c| std::mem::replace(&mut *c.borrow_mut(), previous));
    }
}

/// Make `current` this thread's context for a `block_on` or a worker loop.
///
/// # Panics
///
/// If this thread is already inside a `block_on` or a worker loop.
pub(crate) fn enter(current: Current) -> EnterGuard {
    let nested = CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_some() {
            return true;
        }
        *c = Some(current);
        false
    });
    if nested {
        panic!("{NESTED_BLOCK_ON}");
    }
    EnterGuard { previous: None }
}

/// Make `current` this thread's context while a scheduler shuts down, whatever was current.
pub(crate) fn enter_for_shutdown(current: Current) -> EnterGuard {
    let previous = CURRENT
        .try_with(|c| c.borrow_mut().replace(current))
        .ok()
        .flatten();
    EnterGuard { previous }
}

/// Run `f` on the current context, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(&Current) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| c.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// True if this thread is currently driving the current-thread scheduler that owns `shared`.
pub(crate) fn is_current(shared: &current_thread::Shared) -> bool {
    with_current(|c| matches!(c, Current::Thread(core) if core.owns(shared))).unwrap_or(false)
}

/// The local path of a current-thread wake: push onto the current core's queue if `shared`
/// is that core's. Gives the runnable back otherwise.
pub(crate) fn try_schedule_local(
    shared: &current_thread::Shared,
    runnable: TaskRunnable,
) -> Result<(), TaskRunnable> {
    let mut runnable = Some(runnable);
    let _ = CURRENT.try_with(|c| {
        if let Some(Current::Thread(core)) = c.borrow().as_ref() {
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

/// The local path of a multi-thread wake or spawn: if this thread is one of `shared`'s
/// workers, queue the runnable there (no lock). Gives the runnable back otherwise.
pub(crate) fn try_schedule_worker(
    shared: &multi_thread::Shared,
    runnable: TaskRunnable,
) -> Result<(), TaskRunnable> {
    let mut runnable = Some(runnable);
    let _ = CURRENT.try_with(|c| {
        if let Some(Current::Worker(core)) = c.borrow().as_ref() {
            if core.owns(shared) {
                if let Some(r) = runnable.take() {
                    core.schedule(r);
                }
            }
        }
    });
    match runnable {
        None => Ok(()),
        Some(r) => Err(r),
    }
}

/// The local path of a wake of a `spawn_local` task pinned to worker `index` of `shared`.
pub(crate) fn try_schedule_pinned(
    shared: &multi_thread::Shared,
    index: usize,
    runnable: TaskRunnable,
) -> Result<(), TaskRunnable> {
    let mut runnable = Some(runnable);
    let _ = CURRENT.try_with(|c| {
        if let Some(Current::Worker(core)) = c.borrow().as_ref() {
            if core.owns(shared) && core.index() == index {
                if let Some(r) = runnable.take() {
                    core.push_pinned(r);
                }
            }
        }
    });
    match runnable {
        None => Ok(()),
        Some(r) => Err(r),
    }
}

/// Record a pending task's waker in the current scheduler's set of live tasks. `local` tasks
/// (from `spawn_local`) are recorded with the worker that owns them.
pub(crate) fn register_active(waker: &Waker, local: bool) -> Option<Registration> {
    with_current(|c| match c {
        Current::Thread(core) => core.register_active(waker),
        Current::Worker(core) => core.register_active(waker, local),
        Current::Remote(_) => None,
    })
    .flatten()
}

/// Forget a registration made by [`register_active`].
pub(crate) fn deregister_active(registration: Registration) {
    // The waker is dropped after the borrow ends: dropping it may free a task, which must be
    // able to touch the context itself.
    let waker = with_current(|c| match c {
        Current::Thread(core) => core.deregister_active(registration),
        Current::Worker(core) => core.deregister_active(registration),
        Current::Remote(shared) => shared.deregister_active(registration),
    })
    .flatten();
    drop(waker);
}
