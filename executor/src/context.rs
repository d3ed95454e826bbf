//! The executor's one thread-local: what this thread is doing for which runtime.
//!
//! [`Context`] answers, cheaply and from anywhere in the crate: which runtime
//! [`Handle::current`](crate::Handle::current) finds (set by a scheduler running here or by
//! [`Handle::enter`](crate::Handle::enter)); which scheduler this thread drives, for the
//! lock-free local paths of a wake or a spawn and for [`spawn_local`](crate::spawn_local);
//! which task is being polled ([`task::id`](crate::task::id)); this thread's id (cached: the
//! `spawn_local` backstop checks it on every poll); and, on a blocking pool thread, which pool
//! and worker it is.
//!
//! This module sits at the bottom of the crate and imports none of it: the schedulers depend
//! on it, never the other way round. So it cannot name their types, and stores them erased:
//! the runtime's shared half as `Arc<dyn Any + Send + Sync>` and the scheduler's thread-local
//! half (a current-thread `Core`, a multi-thread `WorkerCore`) as `Rc<dyn Any>`, next to the
//! scheduler's id and the core's type id, recorded when it was erased. A local fast path
//! ([`with_core`]) compares ids (one integer) and the recorded type with the one it expects
//! (a constant), then casts: the one unsafe block here, argued at [`Running::core`];
//! [`Handle::try_current`](crate::Handle::try_current) downcasts the shared half to each
//! flavor's (not a hot path). Ids are the schedulers' process-unique `u64`s,
//! never addresses, so a freed scheduler can never be mistaken for a new one at its address.
//!
//! Ground rules:
//! - `running` and `handle` are mutably borrowed only to enter or leave (`block_in_place`
//!   leaves and re-enters from inside a task, between two pieces of task code), never while
//!   task code (a poll, a waker, a destructor) runs; a local path holds a shared borrow of `running`
//!   only around queue and slab operations and `Unpark::unpark` calls, which run no task code.
//!   So a wake, a spawn or a drop from inside a poll always finds the context readable.
//! - Every access goes through `try_with`: during thread teardown, once the context is gone,
//!   the thread simply has no runtime (no fast path, no current handle, no task id) instead of
//!   panicking in a destructor.
//! - Entering restores the previous state on drop (including during unwinding), so contexts
//!   nest: a runtime entered inside a task, a scheduler dropped inside another's task.

#![allow(unsafe_code)]

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::num::NonZeroU64;
use std::rc::Rc;
use std::sync::Arc;
use std::thread::{self, ThreadId};

/// The message of every "not inside a runtime" panic in the executor.
pub const NO_RUNTIME: &str = "there is no ember runtime on this thread: start one with \
    ember::block_on, Runtime::block_on or #[ember::main], or enter one with Runtime::enter \
    or Handle::enter";

const NESTED_BLOCK_ON: &str = "Cannot block_on inside a running ember runtime: this thread is \
    already driving one (block_on was called from inside a task or another block_on); \
    use .await or spawn instead";

const TEARDOWN: &str = "cannot run an ember scheduler on a thread that is being torn down \
    (its thread-locals are gone)";

/// A runtime's shared half, type-erased (see the module docs).
pub(crate) type SharedAny = Arc<dyn Any + Send + Sync>;

/// The per-thread state; see the module docs.
pub(crate) struct Context {
    /// The scheduler this thread drives, if any.
    running: RefCell<Option<Running>>,
    /// The runtime `Handle::current` finds.
    handle: RefCell<Option<SharedAny>>,
    /// The task being polled on this thread.
    task: Cell<Option<NonZeroU64>>,
    /// This thread's id, once asked for.
    thread_id: Cell<Option<ThreadId>>,
    /// On a blocking pool thread: the pool's id and this thread's worker id in it.
    blocking_worker: Cell<Option<(u64, usize)>>,
}

/// A scheduler this thread drives: a current-thread `block_on` (or its shutdown), a
/// multi-thread worker loop, or a multi-thread `block_on` (which runs no tasks: no core).
pub(crate) struct Running {
    /// The scheduler's id.
    id: u64,
    /// Its thread-local half, erased, for the local paths.
    core: Option<Rc<dyn Any>>,
    /// The concrete type behind `core`, recorded when it was erased (see [`Running::core`]).
    core_type: TypeId,
}

impl Running {
    /// Scheduler `id`, whose thread-local half is `core`.
    pub(crate) fn new<C: 'static>(id: u64, core: Rc<C>) -> Running {
        Running {
            id,
            core: Some(core),
            core_type: TypeId::of::<C>(),
        }
    }

    /// Scheduler `id`, running no tasks on this thread (a multi-thread `block_on`, its drain).
    pub(crate) fn without_core(id: u64) -> Running {
        Running {
            id,
            core: None,
            core_type: TypeId::of::<()>(),
        }
    }

    /// The core, if it is a `C`.
    ///
    /// Not `downcast_ref`: that asks the `dyn Any` vtable for the type id (an indirect call
    /// returning 16 bytes through memory) on every wake, which cost the local wake path about
    /// a third of its time (`micro wakeups`: 31 -> 42 ns per yield). The type was recorded
    /// when the core was erased, so a comparison with a constant does.
    #[inline]
    pub(crate) fn core<C: 'static>(&self) -> Option<&C> {
        if self.core_type != TypeId::of::<C>() {
            return None;
        }
        let core = self.core.as_ref()?;
        // SAFETY: `core` and `core_type` are private to this module and set together, only by
        // `Running::new::<C>` from an `Rc<C>` (or to `None` by `without_core`), so a `Some` core
        // whose recorded type is `C` points to a `C`: the data pointer of an erased `Rc<C>` is
        // the `C`. The reference borrows `self`, which keeps the `Rc` (and the `C`) alive.
        Some(unsafe { &*Rc::as_ptr(core).cast::<C>() })
    }

    /// True unless this thread runs no tasks for the scheduler (a multi-thread `block_on`).
    pub(crate) fn has_core(&self) -> bool {
        self.core.is_some()
    }

    /// The core, if it is a `C`, as an `Rc` of its own.
    pub(crate) fn core_rc<C: 'static>(&self) -> Option<Rc<C>> {
        if self.core_type != TypeId::of::<C>() {
            return None;
        }
        let core = Rc::into_raw(self.core.clone()?);
        // SAFETY: the pointee is a `C`, as in `core` above. `Rc::from_raw` accepts the data
        // pointer of an `Rc<dyn Trait>` whose value has `C`'s size and alignment (it is a
        // `C`), which is exactly how `Rc::downcast` rebuilds an `Rc<C>`; the clone's strong
        // count moves to the returned `Rc`.
        Some(unsafe { Rc::from_raw(core.cast::<C>()) })
    }
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            running: RefCell::new(None),
            handle: RefCell::new(None),
            task: Cell::new(None),
            thread_id: Cell::new(None),
            blocking_worker: Cell::new(None),
        }
    };
}

impl Context {
    /// The id of the task being polled on this thread.
    pub(crate) fn current_task(&self) -> Option<NonZeroU64> {
        self.task.get()
    }

    /// Mark task `id` as the one being polled; returns the previous one, which the caller
    /// restores with [`Context::set_task`] once the poll is over.
    pub(crate) fn set_task(&self, id: Option<NonZeroU64>) -> Option<NonZeroU64> {
        self.task.replace(id)
    }
}

/// Runs `body` with this thread's context, if it still exists.
#[inline]
fn with<R>(body: impl FnOnce(&Context) -> R) -> Option<R> {
    CONTEXT.try_with(body).ok()
}

/// Puts back what an entry replaced, on drop (also during unwinding).
#[must_use]
pub(crate) struct RunGuard {
    previous_running: Option<Running>,
    previous_handle: Option<SharedAny>,
    /// A scheduler entered from inside a task (a blocking closure's `block_on`, a scheduler
    /// dropped in a task) runs with no current task of its own.
    previous_task: Option<NonZeroU64>,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        let (running, handle) = (self.previous_running.take(), self.previous_handle.take());
        let task = self.previous_task;
        // The replaced values are dropped after the borrows end: dropping a core may run
        // destructors that look at the context.
        let _replaced = with(|cx| {
            cx.task.set(task);
            (cx.running.replace(running), cx.handle.replace(handle))
        });
    }
}

impl std::fmt::Debug for RunGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunGuard").finish_non_exhaustive()
    }
}

/// Runs `body` with this thread driving scheduler `running` (a `block_on` or a worker loop)
/// and `handle` current; restores the previous state afterwards, also if `body` unwinds.
///
/// # Panics
///
/// If this thread already drives a scheduler (a nested `block_on`), or if its thread-locals
/// are gone (thread teardown).
pub(crate) fn run<R>(running: Running, handle: SharedAny, body: impl FnOnce(&Context) -> R) -> R {
    let result = CONTEXT.try_with(|cx| {
        let mut slot = cx.running.borrow_mut();
        if slot.is_some() {
            return None;
        }
        *slot = Some(running);
        drop(slot);
        let _guard = RunGuard {
            previous_running: None,
            previous_handle: cx.handle.replace(Some(handle)),
            previous_task: cx.task.replace(None),
        };
        Some(body(cx))
    });
    match result {
        Ok(Some(output)) => output,
        Ok(None) => panic!("{NESTED_BLOCK_ON}"),
        Err(_) => panic!("{TEARDOWN}"),
    }
}

/// Make scheduler `running` this thread's while it shuts down, whatever was there: wakes and
/// spawns from the destructors it runs take its local paths. Never panics.
pub(crate) fn enter_for_shutdown(running: Running, handle: SharedAny) -> RunGuard {
    let previous = with(|cx| {
        (
            cx.running.replace(Some(running)),
            cx.handle.replace(Some(handle)),
            cx.task.replace(None),
        )
    });
    let (previous_running, previous_handle, previous_task) = previous.unwrap_or((None, None, None));
    RunGuard {
        previous_running,
        previous_handle,
        previous_task,
    }
}

/// Takes the scheduler this thread drives out of the context until the guard is dropped
/// (`block_in_place`: the thread stops driving it while it blocks, so a wake or a spawn here
/// takes the remote path, and a `block_on` may run). The current runtime and task stay.
pub(crate) fn exit_running() -> ExitRunning {
    ExitRunning {
        previous: with(|cx| cx.running.replace(None)).flatten(),
    }
}

/// Puts back what [`exit_running`] took, on drop (also during unwinding).
#[must_use]
pub(crate) struct ExitRunning {
    previous: Option<Running>,
}

impl ExitRunning {
    /// What the thread drove before.
    pub(crate) fn running(&self) -> Option<&Running> {
        self.previous.as_ref()
    }
}

impl Drop for ExitRunning {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // Whatever is there now (nothing, unless an entry leaked) is dropped after the borrow.
        let _replaced = with(|cx| cx.running.replace(previous));
    }
}

impl std::fmt::Debug for ExitRunning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExitRunning").finish_non_exhaustive()
    }
}

/// Make `handle` current without driving anything (`Handle::enter`). Returns the previous
/// one, for [`leave_handle`]. A no-op during thread teardown.
pub(crate) fn enter_handle(handle: SharedAny) -> Option<SharedAny> {
    with(|cx| cx.handle.replace(Some(handle))).flatten()
}

/// Undo an [`enter_handle`].
pub(crate) fn leave_handle(previous: Option<SharedAny>) {
    let _replaced = with(|cx| cx.handle.replace(previous));
}

/// The current runtime's shared half, if any.
pub(crate) fn current_handle() -> Option<SharedAny> {
    with(|cx| cx.handle.borrow().clone()).flatten()
}

/// True if this thread is in a runtime at all: driving a scheduler or having entered one.
pub(crate) fn in_runtime() -> bool {
    with(|cx| cx.running.borrow().is_some() || cx.handle.borrow().is_some()).unwrap_or(false)
}

/// True if this thread drives scheduler `id` right now.
pub(crate) fn is_running(id: u64) -> bool {
    with(|cx| cx.running.borrow().as_ref().is_some_and(|r| r.id == id)).unwrap_or(false)
}

/// The local fast path: if this thread drives scheduler `id` and its core is a `C`, run `f`
/// on that core. `f` must not run task code (see the ground rules).
#[inline]
pub(crate) fn with_core<C: 'static, R>(id: u64, f: impl FnOnce(&C, &Context) -> R) -> Option<R> {
    with(|cx| {
        let running = cx.running.borrow();
        let running = running.as_ref().filter(|r| r.id == id)?;
        Some(f(running.core::<C>()?, cx))
    })
    .flatten()
}

/// The core of scheduler `id` if this thread drives it and it is a `C`: the local path of a
/// spawn, which then runs with no borrow of the context held.
#[inline]
pub(crate) fn core<C: 'static>(id: u64) -> Option<Rc<C>> {
    with(|cx| {
        let running = cx.running.borrow();
        running.as_ref().filter(|r| r.id == id)?.core_rc::<C>()
    })
    .flatten()
}

/// What this thread drives (`None`: nothing), for `spawn_local`. `f` must not run task code:
/// it may take the core out with [`Running::core_rc`].
pub(crate) fn with_running<R>(f: impl FnOnce(Option<&Running>) -> R) -> Option<R> {
    with(|cx| f(cx.running.borrow().as_ref()))
}

/// Runs `f` with this thread's context (a task poll loop sets the current task through it).
/// `None` during thread teardown.
pub(crate) fn with_context<R>(f: impl FnOnce(&Context) -> R) -> Option<R> {
    with(f)
}

/// The id of the task being polled on this thread, if any.
pub(crate) fn current_task() -> Option<NonZeroU64> {
    with(Context::current_task).flatten()
}

/// The calling thread's id, cached (`thread::current()` is not free).
pub(crate) fn thread_id() -> ThreadId {
    with(|cx| match cx.thread_id.get() {
        Some(id) => id,
        None => {
            let id = thread::current().id();
            cx.thread_id.set(Some(id));
            id
        }
    })
    .unwrap_or_else(|| thread::current().id())
}

/// Record that this thread is worker `worker` of blocking pool `pool` (or nothing).
pub(crate) fn set_blocking_worker(worker: Option<(u64, usize)>) {
    let _ = with(|cx| cx.blocking_worker.set(worker));
}

/// The blocking pool and worker id of this thread, if it is a pool thread.
pub(crate) fn blocking_worker() -> Option<(u64, usize)> {
    with(|cx| cx.blocking_worker.get()).flatten()
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn an_erased_core_comes_back_only_as_its_own_type() {
        let running = Running::new(7, Rc::new(5u32));
        assert_eq!(running.core::<u32>(), Some(&5));
        assert!(running.core::<u64>().is_none());
        let core = running.core_rc::<u32>().unwrap();
        assert_eq!((*core, Rc::strong_count(&core)), (5, 2));
        drop(running);
        assert_eq!(Rc::strong_count(&core), 1);
        let none = Running::without_core(8);
        assert!(none.core::<()>().is_none() && !none.has_core());
    }
}
