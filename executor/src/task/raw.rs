//! Task allocation and the future wrapper every task runs inside.
//!
//! A task is exactly one async-task allocation. Its metadata ([`Meta`]) carries the abort
//! request and, only once someone asks for an [`AbortHandle`](super::AbortHandle), a shared
//! flag block. The user's future is wrapped in [`TaskFuture`], which borrows that metadata
//! (async-task keeps the metadata alive for as long as the future exists) so that, on every
//! poll, it can:
//!
//! - honour an abort: drop the user future in place and complete with a cancelled `JoinError`;
//! - catch a panic of the user future (or of its destructor) and complete with a panic `JoinError`;
//! - on its first `Pending`, record its waker in the scheduler's set of live tasks, so that
//!   dropping the scheduler can cancel tasks whose wakers are held elsewhere; it removes
//!   itself again when it finishes.
//!
//! Ground rules: a `TaskFuture` is polled only by its own scheduler's run loop, on the
//! scheduler's thread, with that scheduler current in [`context`](crate::context). Runnables
//! are never simply dropped by the scheduler: a task being cancelled is *run* with its abort
//! bit set, so its `Task` handle always finds an output (`JoinHandle` never sees a closed,
//! output-less task).

#![allow(unsafe_code)]

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::thread::{self, ThreadId};

use async_task::{Builder, Runnable};
use pin_project_lite::pin_project;

use super::{JoinError, JoinHandle};
use crate::context;

/// The runnable of one of our tasks.
pub(crate) type TaskRunnable = Runnable<Meta>;

/// Abort was requested through a `JoinHandle` (or by the scheduler at shutdown).
const ABORTED: u8 = 1 << 0;
/// The task's future is gone: it completed, panicked or was cancelled.
const DONE: u8 = 1 << 1;
/// `Meta::abort` is initialised: `AbortHandle`s exist and must hear about `DONE`.
const HAS_ABORT_HANDLE: u8 = 1 << 2;
/// Set at creation for `spawn_local` tasks (never changes): the task is pinned to its thread,
/// so a multi-thread scheduler records it with the worker that owns it.
const LOCAL: u8 = 1 << 3;

/// Per-task data, stored inline in the async-task header.
#[derive(Debug)]
pub(crate) struct Meta {
    /// `ABORTED | DONE | HAS_ABORT_HANDLE | LOCAL`. `DONE` and `HAS_ABORT_HANDLE` are set with RMWs on
    /// this one word, so whichever of "finish" and "create an abort handle" comes second sees
    /// the other and sets `AbortShared::finished`.
    state: AtomicU8,
    /// Created by the first `abort_handle()`; lives as long as the task allocation.
    abort: OnceLock<Arc<AbortShared>>,
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
    fn new() -> Meta {
        Meta::with_state(0)
    }

    fn new_local() -> Meta {
        Meta::with_state(LOCAL)
    }

    fn with_state(state: u8) -> Meta {
        Meta {
            state: AtomicU8::new(state),
            abort: OnceLock::new(),
        }
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

    fn mark_done(&self) {
        let previous = self.state.fetch_or(DONE, Ordering::AcqRel);
        if previous & HAS_ABORT_HANDLE != 0 {
            if let Some(abort) = self.abort.get() {
                abort.finished.store(true, Ordering::Release);
            }
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

/// Cancel a task by running it with its abort bit set: it drops its future and completes with
/// a cancelled `JoinError`, so its `JoinHandle` gets an output. Used at shutdown.
pub(crate) fn cancel(runnable: TaskRunnable) {
    runnable.metadata().request_abort();
    runnable.run();
}

/// Where a pending task's waker sits in its scheduler's set of live tasks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Registration {
    /// Identity of the scheduler (address of its shared state).
    pub(crate) scheduler: usize,
    /// Slab key.
    pub(crate) key: usize,
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
        registration: Option<Registration>,
        #[pin]
        stage: Stage<F>,
    }

    impl<'a, F> PinnedDrop for TaskFuture<'a, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Dropped before finishing: async-task dropped the runnable (edge cases only, see
            // the module docs). Still keep the abort handles and the live-task set right.
            if let StageProj::Running { .. } = this.stage.project() {
                finish(this.meta, this.registration);
            }
        }
    }
}

fn finish(meta: &Meta, registration: &mut Option<Registration>) {
    meta.mark_done();
    if let Some(registration) = registration.take() {
        context::deregister_active(registration);
    }
}

impl<F: Future> Future for TaskFuture<'_, F> {
    type Output = Result<F::Output, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if this.meta.is_abort_requested() {
            let dropped = catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Finished)));
            finish(this.meta, this.registration);
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
            Ok(Poll::Pending) => {
                if this.registration.is_none() {
                    *this.registration = context::register_active(cx.waker(), this.meta.is_local());
                }
                return Poll::Pending;
            }
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(JoinError::panic(payload)),
        };
        // Drop the future here rather than in async-task so a panicking destructor is caught.
        let dropped = catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Finished)));
        finish(this.meta, this.registration);
        Poll::Ready(match (output, dropped) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(payload)) => Err(JoinError::panic(payload)),
            (Err(error), _) => Err(error),
        })
    }
}

pin_project! {
    /// Pins a `!Send` future to the thread that spawned it: polling elsewhere panics before
    /// the inner future is touched, dropping elsewhere aborts the process. The scheduler never
    /// does either (local tasks are run and cancelled on their scheduler's thread); this is the
    /// backstop the `spawn_local` safety argument rests on.
    pub(crate) struct LocalOnly<F> {
        owner: ThreadId,
        #[pin]
        inner: F,
    }

    impl<F> PinnedDrop for LocalOnly<F> {
        fn drop(this: Pin<&mut Self>) {
            if current_thread_id() != this.owner {
                eprintln!("ember: a spawn_local task was dropped on a thread that did not spawn it");
                std::process::abort();
            }
        }
    }
}

impl<F: Future> Future for LocalOnly<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        assert!(
            current_thread_id() == *this.owner,
            "a spawn_local task was polled on a thread that did not spawn it"
        );
        this.inner.poll(cx)
    }
}

/// The calling thread's id, cached (`thread::current()` is not free).
pub(crate) fn current_thread_id() -> ThreadId {
    thread_local! {
        static ID: ThreadId = thread::current().id();
    }
    ID.try_with(|id| *id)
        .unwrap_or_else(|_| thread::current().id())
}

/// Allocate a `Send` task. The caller schedules the returned runnable.
pub(crate) fn spawn<F, S>(future: F, schedule: S) -> (TaskRunnable, JoinHandle<F::Output>)
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
            .metadata(Meta::new())
            .spawn_unchecked(move |meta| TaskFuture::new(meta, future), schedule)
    };
    let waker = runnable.waker();
    (runnable, JoinHandle::new(task, waker))
}

/// Allocate a `!Send` task owned by the calling thread. The caller schedules the runnable.
pub(crate) fn spawn_local<F, S>(future: F, schedule: S) -> (TaskRunnable, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Fn(TaskRunnable) + Send + Sync + 'static,
{
    let owner = current_thread_id();
    // SAFETY: as in `spawn` for the metadata borrow and `schedule`. The future is not `Send`,
    // so its runnable must be used and dropped only on this (the spawning) thread:
    // - `LocalOnly` checks the thread before every poll of the inner future and panics before
    //   touching it elsewhere, and aborts the process if the future is dropped elsewhere, so no
    //   `!Send` state is ever accessed from another thread even if a runnable escaped.
    // - The output (`F::Output`, possibly `!Send`) is produced by a poll on this thread and is
    //   then either taken by the `JoinHandle`, which is `!Send` whenever the output is, or
    //   dropped by async-task in that same `run` call when the handle was detached.
    let (runnable, task) = unsafe {
        Builder::new().metadata(Meta::new_local()).spawn_unchecked(
            move |meta| LocalOnly {
                owner,
                inner: TaskFuture::new(meta, future),
            },
            schedule,
        )
    };
    let waker = runnable.waker();
    (runnable, JoinHandle::new(task, waker))
}

impl<'a, F> TaskFuture<'a, F> {
    fn new(meta: &'a Meta, future: F) -> TaskFuture<'a, F> {
        TaskFuture {
            meta,
            registration: None,
            stage: Stage::Running { future },
        }
    }
}
