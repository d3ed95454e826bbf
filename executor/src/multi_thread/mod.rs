//! The multi-thread, work-stealing scheduler: [`MultiThread`] and its [`Worker`]s.
//!
//! Ground rules:
//! - Each worker owns a bounded local ring ([`queue`]) plus a LIFO slot for the task it just
//!   woke or spawned, and a private queue of the `spawn_local` tasks pinned to it. Only the
//!   worker's own thread touches those (no lock on the fast path). Other workers steal half of
//!   the ring at a time; the LIFO slot and pinned tasks are never stolen.
//! - Work from other threads (spawns through a [`Handle`], wakes of `Send` tasks) goes to the
//!   shared injection queue ([`inject`]), then [`Idle`](idle::Idle) picks at most one parked
//!   worker to unpark. Wakes of a pinned task from elsewhere go to that worker's inbox and
//!   unpark that worker.
//! - Shutdown: [`MultiThread::shutdown`] raises a flag and unparks every worker. Each worker
//!   leaving its loop cancels, on its own thread, its queued tasks and every task pinned to it.
//!   The last one out (worker or `shutdown`, whichever comes second) wakes every pending
//!   `Send` task recorded in the [`registry`] and cancels everything queued, then closes the
//!   injection queue so later wakes cancel their task on the spot. Every task is cancelled
//!   exactly once because each runnable exists once and whoever holds it cancels it.

mod idle;
mod inject;
mod lifecycle;
mod queue;
mod registry;
mod worker;

#[cfg(all(test, loom))]
mod loom_tests;

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::context::{self, Current};
use crate::park::{Park, Unpark};
use crate::task::raw::{self, Registration, TaskRunnable};
use crate::task::JoinHandle;
use crate::Handle;

use idle::Idle;
use inject::Inject;
use lifecycle::Lifecycle;
use queue::Steal;
use registry::Registry;

pub(crate) use worker::WorkerCore;

/// The multi-thread, work-stealing scheduler. `Send + Sync`.
///
/// [`MultiThread::new`] returns the scheduler and one [`Worker`] per unparker; the caller runs
/// each worker's loop ([`Worker::run`]) on a thread of its own with a [`Park`] whose wakeups
/// the matching [`Unpark`] delivers. Tasks spawned from a worker go to that worker's queue;
/// idle workers steal from busy ones.
///
/// # Examples
///
/// ```
/// use ember_executor::{MultiThread, Park, Unpark};
/// use std::sync::{Arc, Condvar, Mutex};
/// use std::time::Duration;
///
/// /// A park that sleeps on a condvar (a reactor would go here).
/// #[derive(Default)]
/// struct Parker { woken: Mutex<bool>, cv: Condvar }
/// struct P(Arc<Parker>);
/// impl Park for P {
///     fn park(&mut self, timeout: Option<Duration>) {
///         if timeout.is_some() { return; }
///         let mut woken = self.0.woken.lock().unwrap();
///         while !*woken { woken = self.0.cv.wait(woken).unwrap(); }
///         *woken = false;
///     }
/// }
/// impl Unpark for Parker {
///     fn unpark(&self) { *self.woken.lock().unwrap() = true; self.cv.notify_one(); }
/// }
///
/// let parkers: Vec<Arc<Parker>> = (0..2).map(|_| Arc::default()).collect();
/// let unparkers = parkers.iter().map(|p| p.clone() as Arc<dyn Unpark>).collect();
/// let (sched, workers) = MultiThread::new(unparkers);
/// let threads: Vec<_> = workers
///     .into_iter()
///     .zip(parkers)
///     .map(|(w, p)| std::thread::spawn(move || w.run(&mut P(p))))
///     .collect();
///
/// let main = Arc::new(Parker::default());
/// let sum = sched.block_on(
///     async {
///         let tasks: Vec<_> = (0..10u64).map(|i| ember_executor::Handle::current().spawn(async move { i })).collect();
///         let mut sum = 0;
///         for t in tasks { sum += t.await.unwrap(); }
///         sum
///     },
///     &mut P(main.clone()),
///     main,
/// );
/// assert_eq!(sum, 45);
/// sched.shutdown();
/// for t in threads { t.join().unwrap(); }
/// ```
pub struct MultiThread {
    shared: Arc<Shared>,
}

/// One worker of a [`MultiThread`] scheduler, to be run on a thread of its own. `Send`.
///
/// Dropping a worker that never ran is fine: it counts as having left.
pub struct Worker {
    /// `None` once `run` took it (then `run` reports the exit itself).
    core: Option<(Arc<Shared>, queue::Local<TaskRunnable>)>,
    index: usize,
}

/// The state every thread may touch.
pub(crate) struct Shared {
    remotes: Box<[Remote]>,
    inject: Inject<TaskRunnable>,
    idle: Idle,
    registry: Registry,
    /// The shutdown flag and the count of workers still running.
    lifecycle: Lifecycle,
}

/// What other threads can reach of one worker.
struct Remote {
    steal: Steal<TaskRunnable>,
    unpark: Arc<dyn Unpark>,
    /// Pinned (`spawn_local`) tasks of this worker woken from other threads.
    pinned_inbox: Inject<TaskRunnable>,
}

impl MultiThread {
    /// A scheduler with one worker per unparker, in order: `unparkers[i]` must wake the thread
    /// that runs worker `i` from its [`Park::park`].
    ///
    /// # Panics
    ///
    /// If `unparkers` is empty.
    pub fn new(unparkers: Vec<Arc<dyn Unpark>>) -> (MultiThread, Vec<Worker>) {
        assert!(
            !unparkers.is_empty(),
            "a MultiThread scheduler needs at least one worker"
        );
        let num_workers = unparkers.len();
        let mut locals = Vec::with_capacity(num_workers);
        let remotes = unparkers
            .into_iter()
            .map(|unpark| {
                let (local, steal) = queue::local();
                locals.push(local);
                Remote {
                    steal,
                    unpark,
                    pinned_inbox: Inject::new(),
                }
            })
            .collect();
        let shared = Arc::new(Shared {
            remotes,
            inject: Inject::new(),
            idle: Idle::new(num_workers),
            registry: Registry::new(num_workers),
            lifecycle: Lifecycle::new(num_workers),
        });
        let workers = locals
            .into_iter()
            .enumerate()
            .map(|(index, local)| Worker {
                core: Some((shared.clone(), local)),
                index,
            })
            .collect();
        (MultiThread { shared }, workers)
    }

    /// A `Send + Sync` handle that spawns onto this scheduler from any thread.
    pub fn handle(&self) -> Handle {
        Handle::multi_thread(self.shared.clone())
    }

    /// Spawns a `Send` task; it runs on one of the workers.
    pub fn spawn<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Shared::spawn(&self.shared, f)
    }

    /// Runs `f` to completion on the calling thread (which is not a worker); spawned tasks run
    /// on the workers meanwhile. When `f` is pending the thread blocks in `park.park(None)`,
    /// and `f`'s waker calls `unpark`. While it runs, this scheduler is the thread's current
    /// one ([`Handle::current`]).
    ///
    /// # Panics
    ///
    /// If this thread is already inside a `block_on` or runs a worker ("Cannot block_on inside
    /// a running ember runtime: ... use .await or spawn instead"). A panic of `f` propagates.
    pub fn block_on<F: Future>(
        &self,
        f: F,
        park: &mut dyn Park,
        unpark: Arc<dyn Unpark>,
    ) -> F::Output {
        let _enter = context::enter(Current::Remote(self.shared.clone()));
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            unpark,
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        let mut f = pin!(f);
        loop {
            if main.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(output) = f.as_mut().poll(&mut cx) {
                    return output;
                }
            }
            if !main.woken.load(Ordering::Acquire) {
                park.park(None);
            }
        }
    }

    /// Stops the workers (each [`Worker::run`] returns soon after), then cancels and drops
    /// every remaining task exactly once: right away if no worker is running any more,
    /// otherwise as the last worker leaves. Idempotent; safe before or after the worker
    /// threads were joined. Spawns after shutdown cancel their task at once.
    pub fn shutdown(&self) {
        self.shared.shutdown();
    }
}

impl Drop for MultiThread {
    fn drop(&mut self) {
        self.shared.shutdown();
    }
}

impl fmt::Debug for MultiThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiThread")
            .field("workers", &self.shared.remotes.len())
            .field("injected", &self.shared.inject.len())
            .field("shutdown", &self.shared.is_shutdown())
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// This worker's position, matching the order of the unparkers given to
    /// [`MultiThread::new`].
    pub fn index(&self) -> usize {
        self.index
    }

    /// Runs the worker loop on the calling thread until [`MultiThread::shutdown`].
    ///
    /// Every 61 task polls it calls `park(Some(Duration::ZERO))` so the park hook can check
    /// for I/O and timers while tasks stay runnable; with nothing to run or steal it calls
    /// `park(None)`, which must block until this worker's [`Unpark`] is called. Panics of
    /// tasks never reach it. On return, the tasks pinned to this worker (`spawn_local`) have
    /// been cancelled on this thread.
    ///
    /// # Panics
    ///
    /// If the calling thread is already inside a `block_on` or running a worker. A panic of
    /// `park` propagates (the worker is then gone).
    pub fn run(mut self, park: &mut dyn Park) {
        if let Some((shared, queue)) = self.core.take() {
            worker::run(shared, self.index, queue, park);
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some((shared, queue)) = self.core.take() {
            // Never ran: nothing was ever pushed onto its ring.
            drop(queue);
            shared.worker_exited();
        }
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn spawn<F>(this: &Arc<Shared>, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let shared = this.clone();
        let (runnable, handle) = raw::spawn(f, move |runnable| shared.schedule(runnable));
        this.schedule(runnable);
        handle
    }

    /// Queue a woken or newly spawned `Send` task: on this thread's worker if it is one of
    /// ours, else through the injection queue.
    fn schedule(&self, runnable: TaskRunnable) {
        if let Err(runnable) = context::try_schedule_worker(self, runnable) {
            self.inject(runnable);
        }
    }

    /// Queue from outside the workers and wake one parked worker.
    fn inject(&self, runnable: TaskRunnable) {
        match self.inject.push(runnable) {
            Ok(()) => self.notify_parked(),
            // Shut down: cancel here (never polls the user future).
            Err(runnable) => raw::cancel(runnable),
        }
    }

    /// Queue a woken `spawn_local` task on the worker it is pinned to.
    fn schedule_pinned(&self, index: usize, runnable: TaskRunnable) {
        let runnable = match context::try_schedule_pinned(self, index, runnable) {
            Ok(()) => return,
            Err(runnable) => runnable,
        };
        let remote = &self.remotes[index];
        match remote.pinned_inbox.push(runnable) {
            // Wake that very worker; if it is busy the unpark makes its next park return.
            Ok(()) => remote.unpark.unpark(),
            // The worker has left and cancelled every task pinned to it, so a live runnable
            // cannot reach here. It could only be cancelled on its own thread (which is gone),
            // and dropping it here would drop a `!Send` future on the wrong thread: leak it.
            Err(runnable) => std::mem::forget(runnable),
        }
    }

    /// Wake one parked worker if nobody is searching for work.
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].unpark.unpark();
        }
    }

    /// The last searcher's re-check before it sleeps: notify if any queue has work.
    fn notify_if_work_pending(&self) {
        let pending = self.remotes.iter().any(|r| !r.steal.is_empty()) || !self.inject.is_empty();
        if pending {
            self.notify_parked();
        }
    }

    fn is_shutdown(&self) -> bool {
        self.lifecycle.is_shutdown()
    }

    fn id(&self) -> usize {
        self as *const Shared as usize
    }

    pub(crate) fn deregister_active(&self, registration: Registration) -> Option<std::task::Waker> {
        if registration.scheduler != self.id() {
            return None;
        }
        self.registry.deregister(registration.key)
    }

    fn shutdown(self: &Arc<Self>) {
        let no_worker_left = self.lifecycle.shutdown();
        for remote in self.remotes.iter() {
            remote.unpark.unpark();
        }
        if no_worker_left {
            self.drain();
        }
    }

    /// A worker left `run` (or was dropped without running).
    fn worker_exited(self: &Arc<Self>) {
        if self.lifecycle.worker_exited() {
            self.drain();
        }
    }

    /// Cancel every remaining task, with no worker left running. Runs once, from `shutdown` or
    /// from the last worker to leave (see `lifecycle`).
    fn drain(self: &Arc<Self>) {
        // Wakes from here take the injection path; destructors may use `Handle::current`.
        let _enter = context::enter_for_shutdown(Current::Remote(self.clone()));
        loop {
            // Pending tasks: waking them queues their runnables (no-op if already queued).
            let wakers = self.registry.take_all();
            let mut progressed = !wakers.is_empty();
            for waker in wakers {
                waker.wake();
            }
            while let Some(runnable) = self.inject.pop() {
                raw::cancel(runnable);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        // From now on a wake or spawn cancels its task where it happens.
        for runnable in self.inject.close() {
            raw::cancel(runnable);
        }
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("idle", &self.idle)
            .field("inject", &self.inject)
            .finish_non_exhaustive()
    }
}

/// The waker of the `block_on` future.
struct MainWaker {
    woken: AtomicBool,
    unpark: Arc<dyn Unpark>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.unpark.unpark();
        }
    }
}
