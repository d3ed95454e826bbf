//! Task allocation and the future wrapper every task runs inside.
//!
//! A task is exactly one async-task allocation. Its metadata ([`Meta`]) carries the task's
//! [`Id`], the abort request, only once someone asks for an [`AbortHandle`](super::AbortHandle)
//! a shared flag block, and its owner: the scheduler that spawned it ([`Owner`], identified by
//! its id) and the key under which that scheduler recorded it, at spawn, in its live-task set.
//! The user's future is wrapped in [`TaskFuture`], which borrows that metadata (async-task keeps
//! the metadata alive for as long as the future exists) so that, on every poll, it can:
//!
//! - honour an abort: drop the user future in place and complete with a cancelled `JoinError`;
//! - catch a panic of the user future (or of its destructor) and complete with a panic `JoinError`;
//! - once the future is gone (finished, cancelled, or dropped unfinished), tell its owner to
//!   forget it ([`Owner::release`]), so the live-task set holds exactly the live tasks.
//!
//! The task never asks the thread it runs on who owns it: everything it needs was recorded at
//! spawn. The schedule function a scheduler passes to [`spawn`] may use the owner id for a
//! local fast path and fall back on [`schedule_by_owner`].
//!
//! Ground rules: a `TaskFuture` is polled only by its own scheduler's run loop (or, to cancel
//! it, by whoever holds its runnable once that scheduler shut down). Runnables are never simply
//! dropped by the scheduler: a task being cancelled is *run* with its abort bit set, so its
//! `Task` handle always finds an output (`JoinHandle` never sees a closed, output-less task).

#![allow(unsafe_code)]

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use async_task::{Builder, Runnable};
use pin_project_lite::pin_project;

use super::id::Id;
use super::local::LocalOnly;
use super::{JoinError, JoinHandle};

/// The runnable of one of our tasks.
pub(crate) type TaskRunnable = Runnable<Meta>;

/// Abort was requested through a `JoinHandle` (or by the scheduler at shutdown).
const ABORTED: usize = 1 << 0;
/// The task's future is gone: it completed, panicked or was cancelled.
const DONE: usize = 1 << 1;
/// `Meta::abort` is initialised: `AbortHandle`s exist and must hear about `DONE`.
const HAS_ABORT_HANDLE: usize = 1 << 2;
/// Set at creation for `spawn_local` tasks (never changes): the task is pinned to its thread.
const LOCAL: usize = 1 << 3;
/// The bits above the flags hold the task's key in its owner's live-task sets, plus one (0:
/// not recorded).
const KEY_SHIFT: u32 = 8;

/// The scheduler that owns a task, as the task sees it: recorded at spawn, in the metadata.
pub(crate) trait Owner: Send + Sync + 'static {
    /// The owner's process-unique id: what a schedule function's local fast path compares
    /// with the scheduler this thread drives.
    fn id(&self) -> u64;

    /// Queues a runnable that the schedule function's local fast path did not take (a wake
    /// from another thread, typically). If the scheduler is gone, cancels it there.
    fn schedule(&self, runnable: TaskRunnable);

    /// Forgets entry `key` (an [`owned::Key`](crate::owned::Key), encoded) of the live-task
    /// sets: the task's future is gone. Called at most once per task, from the thread that
    /// finished or dropped the future.
    fn release(&self, key: usize);
}

/// Per-task data, stored inline in the async-task header. Kept small: it is part of every
/// task's allocation, and 48 bytes keep a small task within glibc's fast bins (120 bytes); one
/// more word and a burst of spawns and joins doubles its page faults (the owner's id is one
/// call away, not a copy here, for that reason).
pub(crate) struct Meta {
    id: Id,
    /// `ABORTED | DONE | HAS_ABORT_HANDLE | LOCAL`, and above `KEY_SHIFT` the task's key in
    /// its owner's live-task sets. `DONE` and `HAS_ABORT_HANDLE` are set with RMWs on this one
    /// word, so whichever of "finish" and "create an abort handle" comes second sees the other
    /// and sets `AbortShared::finished`. The key is written once, by the owner right after
    /// spawning and before anyone else can reach the task, and read back by the `DONE` RMW.
    state: AtomicUsize,
    /// Created by the first `abort_handle()`; lives as long as the task allocation.
    abort: OnceLock<Arc<AbortShared>>,
    /// `None` for tasks no scheduler records (the blocking pool's).
    owner: Option<Arc<dyn Owner>>,
}

/// State shared with `AbortHandle`s (which cannot reach the task's metadata themselves).
#[derive(Debug, Default)]
pub(crate) struct AbortShared {
    /// Set by `AbortHandle::abort`; read by the task at the top of each poll.
    pub(crate) aborted: AtomicBool,
    /// Set once the task's future is gone.
    pub(crate) finished: AtomicBool,
}

impl Meta {
    fn new(owner: Option<Arc<dyn Owner>>, state: usize) -> Meta {
        Meta {
            id: Id::next(),
            state: AtomicUsize::new(state),
            abort: OnceLock::new(),
            owner,
        }
    }

    /// The task's id.
    pub(crate) fn id(&self) -> Id {
        self.id
    }

    /// The owning scheduler's id (0, which no scheduler has, for an unowned task).
    #[inline]
    pub(crate) fn owner_id(&self) -> u64 {
        self.owner.as_ref().map_or(0, |o| o.id())
    }

    /// Records where the owner keeps the task (an encoded `owned::Key`). Called by the owner
    /// right after spawning, before the runnable is first scheduled (which publishes it to
    /// whoever runs or drops the task) and before the `JoinHandle` is handed out: nothing else
    /// touches the word yet, so a plain store does.
    pub(crate) fn set_key(&self, key: usize) {
        let state = self.state.load(Ordering::Relaxed);
        let key = (key + 1) << KEY_SHIFT;
        self.state.store(state | key, Ordering::Relaxed);
    }

    /// True for `spawn_local` tasks.
    pub(crate) fn is_local(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCAL != 0
    }

    /// Ask the task to cancel itself at its next poll (the caller then wakes it).
    pub(crate) fn request_abort(&self) {
        self.state.fetch_or(ABORTED, Ordering::Release);
    }

    fn is_abort_requested(&self) -> bool {
        let state = self.state.load(Ordering::Acquire);
        if state & (ABORTED | HAS_ABORT_HANDLE) == 0 {
            return false;
        }
        state & ABORTED != 0
            || self
                .abort
                .get()
                .is_some_and(|a| a.aborted.load(Ordering::Acquire))
    }

    /// The future is gone: tell the abort handles and the owner. Runs once per task.
    fn finish(&self) {
        let previous = self.state.fetch_or(DONE, Ordering::AcqRel);
        if previous & HAS_ABORT_HANDLE != 0 {
            if let Some(abort) = self.abort.get() {
                abort.finished.store(true, Ordering::Release);
            }
        }
        let key = previous >> KEY_SHIFT;
        if let (Some(owner), Some(key)) = (&self.owner, key.checked_sub(1)) {
            owner.release(key);
        }
    }

    /// The shared block behind `AbortHandle`s, created on first use.
    pub(crate) fn abort_shared(&self) -> Arc<AbortShared> {
        let shared = self
            .abort
            .get_or_init(|| Arc::new(AbortShared::default()))
            .clone();
        let previous = self.state.fetch_or(HAS_ABORT_HANDLE, Ordering::AcqRel);
        if previous & DONE != 0 {
            shared.finished.store(true, Ordering::Release);
        }
        shared
    }
}

impl std::fmt::Debug for Meta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meta")
            .field("id", &self.id)
            .field("owner_id", &self.owner_id())
            .finish_non_exhaustive()
    }
}

/// Cancel a task by running it with its abort bit set: it drops its future and completes with
/// a cancelled `JoinError`, so its `JoinHandle` gets an output. Used at shutdown.
pub(crate) fn cancel(runnable: TaskRunnable) {
    runnable.metadata().request_abort();
    runnable.run();
}

/// The slow path of a schedule function: hand the runnable to its owner.
pub(crate) fn schedule_by_owner(runnable: TaskRunnable) {
    // Cloned: once the runnable is queued it may run and free the task (and its metadata)
    // while `schedule` still uses the owner.
    match runnable.metadata().owner.clone() {
        Some(owner) => owner.schedule(runnable),
        // Only owned tasks use this path; an unowned one has nowhere to go.
        None => cancel(runnable),
    }
}

pin_project! {
    #[project = StageProj]
    enum Stage<F> {
        Running { #[pin] future: F },
        Finished,
    }
}

pin_project! {
    /// The future inside every task; see the module docs.
    pub(crate) struct TaskFuture<'a, F> {
        meta: &'a Meta,
        #[pin]
        stage: Stage<F>,
    }

    impl<'a, F> PinnedDrop for TaskFuture<'a, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Dropped before finishing: async-task dropped the runnable (edge cases only, see
            // the module docs). Still keep the abort handles and the live-task set right.
            if let StageProj::Running { .. } = this.stage.project() {
                this.meta.finish();
            }
        }
    }
}

impl<F: Future> Future for TaskFuture<'_, F> {
    type Output = Result<F::Output, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if this.meta.is_abort_requested() {
            let dropped = catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Finished)));
            this.meta.finish();
            return Poll::Ready(Err(match dropped {
                Ok(()) => JoinError::cancelled(),
                Err(payload) => JoinError::panic(payload),
            }));
        }
        let future = match this.stage.as_mut().project() {
            StageProj::Running { future } => future,
            // async-task never polls a future again after it returned Ready.
            StageProj::Finished => return Poll::Pending,
        };
        let output = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(JoinError::panic(payload)),
        };
        // Drop the future here rather than in async-task so a panicking destructor is caught.
        let dropped = catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Finished)));
        this.meta.finish();
        Poll::Ready(match (output, dropped) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(payload)) => Err(JoinError::panic(payload)),
            (Err(error), _) => Err(error),
        })
    }
}

/// Allocate a `Send` task owned by `owner` (if any). The caller records it in the owner's
/// live-task set ([`Meta::set_key`]), then schedules the returned runnable.
pub(crate) fn spawn<F, S>(
    future: F,
    owner: Option<Arc<dyn Owner>>,
    schedule: S,
) -> (TaskRunnable, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Fn(TaskRunnable) + Send + Sync + 'static,
{
    // SAFETY: `spawn_unchecked` lists four conditions; `spawn` (the safe one) would hold for
    // everything but the `'static` bound, which we relax for one reason only:
    // - The future may borrow the task's metadata: `TaskFuture<'a, F>` holds `&'a Meta`,
    //   handed to us by async-task itself, which keeps the metadata alive as long as the future
    //   (the future lives inside the same allocation and is dropped first). async-task's docs
    //   allow exactly this ("borrowed non-metadata variables must outlive its Runnable"); every
    //   other captured value is `'static` (`F: 'static`).
    // - The future is `Send` (`F: Send`, `&Meta` is `Send` because `Meta: Sync`), so the
    //   runnable may be used and dropped on any thread.
    // - `schedule` is `Send + Sync + 'static`, so wakers may be used and dropped anywhere.
    let (runnable, task) = unsafe {
        Builder::new()
            .metadata(Meta::new(owner, 0))
            .spawn_unchecked(move |meta| TaskFuture::new(meta, future), schedule)
    };
    let waker = runnable.waker();
    (runnable, JoinHandle::new(task, waker))
}

/// Allocate a `!Send` task owned by `owner` and pinned to the calling thread. The caller
/// records it, then schedules the runnable.
pub(crate) fn spawn_local<F, S>(
    future: F,
    owner: Arc<dyn Owner>,
    schedule: S,
) -> (TaskRunnable, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Fn(TaskRunnable) + Send + Sync + 'static,
{
    let future = LocalOnly::new(future);
    // SAFETY: as in `spawn` for the metadata borrow and `schedule`. The future is not `Send`,
    // so its runnable must be used and dropped only on this (the spawning) thread:
    // - `LocalOnly` checks the thread before every poll of the inner future and panics before
    //   touching it elsewhere, and aborts the process if the future is dropped elsewhere, so no
    //   `!Send` state is ever accessed from another thread even if a runnable escaped.
    // - The output (`F::Output`, possibly `!Send`) is produced by a poll on this thread and is
    //   then either taken by the `JoinHandle`, which is `!Send` whenever the output is, or
    //   dropped by async-task in that same `run` call when the handle was detached.
    // - `TaskFuture` itself (the abort check, `Meta::finish`) only touches `Meta`, which is
    //   `Sync`, and the owner, which is `Send + Sync`.
    let (runnable, task) = unsafe {
        Builder::new()
            .metadata(Meta::new(Some(owner), LOCAL))
            .spawn_unchecked(move |meta| TaskFuture::new(meta, future), schedule)
    };
    let waker = runnable.waker();
    (runnable, JoinHandle::new(task, waker))
}

impl<'a, F> TaskFuture<'a, F> {
    fn new(meta: &'a Meta, future: F) -> TaskFuture<'a, F> {
        TaskFuture {
            meta,
            stage: Stage::Running { future },
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    /// The metadata is in every task allocation; see `Meta`'s docs before growing it.
    #[test]
    fn meta_stays_small() {
        assert!(std::mem::size_of::<super::Meta>() <= 48);
    }
}
