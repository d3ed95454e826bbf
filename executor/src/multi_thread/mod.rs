//! The multi-thread, work-stealing scheduler: [`MultiThread`] and its [`Worker`]s.
//!
//! Ground rules:
//! - Each worker owns a bounded local ring ([`queue`]) plus a LIFO slot for the task it just
//!   woke or spawned, and a private queue of the `spawn_local` tasks pinned to it. Only the
//!   worker's own thread touches those (no lock on the fast path). Other workers steal half of
//!   the ring at a time; the LIFO slot and pinned tasks are never stolen.
//! - Work from other threads (spawns through a [`Handle`](crate::Handle), wakes of `Send`
//!   tasks) goes to the shared injection queue ([`inject`]), then [`Idle`](idle::Idle) picks at
//!   most one parked worker to unpark. Wakes of a pinned task from elsewhere go to that worker's inbox and
//!   unpark that worker.
//! - Every task is recorded at spawn: a `Send` task in the shared live-task set (a few
//!   mutex-protected shards per worker, picked by task id, so that the worker that spawns and
//!   the one that finishes, often different, rarely meet on a lock), a pinned task in its
//!   worker's own lock-free set. It releases itself when its future is gone (see
//!   [`Owner`]).
//! - A wake on one of this scheduler's workers takes the local path through the executor
//!   context (no lock): the LIFO slot, or behind the ring if the task woke itself (it is
//!   yielding: the context knows the id of the task being polled).
//! - Shutdown: [`MultiThread::shutdown`] raises a flag and unparks every worker. Each worker
//!   leaving its loop runs the one [`drain`](crate::owned::drain) over its own tasks: it
//!   cancels, on its own thread, its queued tasks and every task pinned to it. The last one out
//!   (worker or `shutdown`, whichever comes second) drains the rest: it wakes every `Send` task
//!   recorded in the shared set and cancels everything queued, then closes the injection queue
//!   so later wakes cancel their task on the spot. Every task is cancelled exactly once because
//!   each runnable exists once and whoever holds it cancels it.
//!
//! This module does not know [`Handle`](crate::Handle): `handle.rs` builds one from
//! [`Shared`] (and defines [`MultiThread::handle`]).

mod handoff;
mod idle;
mod inject;
mod lend;
mod lifecycle;
mod queue;
mod worker;

#[cfg(all(test, loom))]
mod loom_tests;

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use crate::blocking::BlockingHandle;
use crate::context::{self, Running};
use crate::owned::{self, Key, OwnedTasks};
use crate::park::{Park, Unpark};
use crate::task::raw::{self, Owner, TaskRunnable};
use crate::task::JoinHandle;

use idle::Idle;
use inject::Inject;
use lifecycle::Lifecycle;
use queue::Steal;

/// Shards of the live-task set per worker (the total is rounded up to a power of two).
const OWNED_SHARDS_PER_WORKER: usize = 4;

pub(crate) use worker::{block_in_place, Enter, WorkerCore};

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
    /// Process-unique: the executor context and each task's metadata name the scheduler by it.
    id: u64,
    remotes: Box<[Remote]>,
    inject: Inject<TaskRunnable>,
    idle: Idle,
    /// `Send` tasks that have not finished, sharded by task id.
    owned: OwnedTasks,
    /// The shutdown flag and the count of workers still running.
    lifecycle: Lifecycle,
    /// The blocking pool `Handle::spawn_blocking` uses, once the runtime set one.
    blocking: OnceLock<BlockingHandle>,
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
            id: owned::next_id(),
            remotes,
            inject: Inject::new(),
            idle: Idle::new(num_workers),
            // Several shards per worker: a task spawned on one worker is often finished on
            // another, and spreading tasks by id keeps the two from queueing on one lock.
            owned: OwnedTasks::new(num_workers * OWNED_SHARDS_PER_WORKER),
            lifecycle: Lifecycle::new(num_workers),
            blocking: OnceLock::new(),
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

    /// The shared half, for `Handle`.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Spawns a `Send` task; it runs on one of the workers.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_executor::{MultiThread, Park, Unpark, Worker};
    /// use std::sync::{mpsc, Arc};
    /// use std::time::Duration;
    ///
    /// /// `std::thread::park` remembers an early unpark, as `Park` asks.
    /// struct P;
    /// impl Park for P {
    ///     fn park(&mut self, t: Option<Duration>) { if t.is_none() { std::thread::park() } }
    /// }
    /// struct U(std::thread::Thread);
    /// impl Unpark for U {
    ///     fn unpark(&self) { self.0.unpark() }
    /// }
    ///
    /// let (tx, rx) = mpsc::channel::<Worker>();
    /// let thread = std::thread::spawn(move || rx.recv().unwrap().run(&mut P));
    /// let (sched, mut workers) = MultiThread::new(vec![Arc::new(U(thread.thread().clone()))]);
    /// tx.send(workers.remove(0)).unwrap();
    ///
    /// let task = sched.spawn(async { 5 });
    /// let main = Arc::new(U(std::thread::current()));
    /// assert_eq!(sched.block_on(task, &mut P, main).unwrap(), 5);
    /// sched.shutdown();
    /// thread.join().unwrap();
    /// ```
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
    /// one ([`Handle::current`](crate::Handle::current)).
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
        // This thread runs no tasks (`core: None`), but it is busy: a nested `block_on` panics.
        let running = Running::without_core(self.shared.id);
        context::run(running, self.shared.clone(), |_| {
            let woken = Arc::new(AtomicBool::new(true));
            let waker = {
                let woken = woken.clone();
                waker_fn::waker_fn(move || {
                    if !woken.swap(true, Ordering::AcqRel) {
                        unpark.unpark();
                    }
                })
            };
            let mut cx = Context::from_waker(&waker);
            let mut f = pin!(f);
            loop {
                if woken.swap(false, Ordering::AcqRel) {
                    if let Poll::Ready(output) = f.as_mut().poll(&mut cx) {
                        return output;
                    }
                }
                if !woken.load(Ordering::Acquire) {
                    park.park(None);
                }
            }
        })
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
            .field("id", &self.shared.id)
            .field("workers", &self.shared.remotes.len())
            .field("live_send_tasks", &self.shared.owned.len())
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
    /// `park` must be `Send` and must not care which thread calls it: while a task of this
    /// worker is inside [`block_in_place`](crate::block_in_place), a stand-in thread runs the
    /// worker loop with this very park, and this worker's [`Unpark`] must wake *it*. A park
    /// that sleeps on the calling thread (`std::thread::park`, unparked through a fixed
    /// `Thread`) does not qualify; a condvar, an eventfd or a reactor does.
    ///
    /// # Panics
    ///
    /// If the calling thread is already inside a `block_on` or running a worker. A panic of
    /// `park` propagates (the worker is then gone).
    pub fn run(mut self, park: &mut (dyn Park + Send)) {
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

/// The schedule function of every `Send` task of a multi-thread scheduler: on one of its
/// workers, the local path (no lock); anywhere else, the owner's injection queue.
fn schedule(runnable: TaskRunnable) {
    let mut runnable = Some(runnable);
    let id = runnable.as_ref().map_or(0, |r| r.metadata().owner_id());
    context::with_core(id, |core: &WorkerCore, cx| {
        if let Some(runnable) = runnable.take() {
            core.schedule(runnable, cx.current_task());
        }
    });
    if let Some(runnable) = runnable {
        raw::schedule_by_owner(runnable);
    }
}

impl Shared {
    /// Spawns a `Send` task from any thread: onto this thread's worker if it is one of ours,
    /// else through the injection queue.
    pub(crate) fn spawn<F>(self: &Arc<Self>, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if let Some(core) = context::core::<WorkerCore>(self.id) {
            return core.spawn(f);
        }
        let (runnable, handle) = raw::spawn(f, Some(self.owner()), schedule);
        self.record(&runnable);
        self.inject(runnable);
        handle
    }

    fn owner(self: &Arc<Self>) -> Arc<dyn Owner> {
        self.clone()
    }

    /// Record a new `Send` task in the live-task set, in the shard its id picks.
    fn record(&self, runnable: &TaskRunnable) {
        let shard = runnable.metadata().id().as_raw().get() as usize;
        // Refused once the final drain closed the set; the task is then cancelled where it is
        // queued (the injection queue is closed too).
        if let Ok(key) = self.owned.insert(shard, runnable.waker()) {
            runnable.metadata().set_key(Key::Shared(key).encode());
        }
    }

    /// The blocking pool set for this runtime, if any.
    pub(crate) fn blocking(&self) -> &OnceLock<BlockingHandle> {
        &self.blocking
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
        let mut runnable = Some(runnable);
        context::with_core(self.id, |core: &WorkerCore, _| {
            if core.index() == index {
                if let Some(runnable) = runnable.take() {
                    core.push_pinned(runnable);
                }
            }
        });
        let Some(runnable) = runnable else { return };
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
        let running = Running::without_core(self.id);
        let _enter = context::enter_for_shutdown(running, self.clone());
        owned::drain(
            || self.owned.close_and_take(),
            || self.inject.pop(),
            raw::cancel,
            || {
                // From now on a wake or spawn cancels its task where it happens.
                let late = self.inject.close();
                let found = !late.is_empty();
                late.into_iter().for_each(raw::cancel);
                found
            },
        );
    }
}

impl Owner for Shared {
    fn id(&self) -> u64 {
        self.id
    }

    fn schedule(&self, runnable: TaskRunnable) {
        self.inject(runnable);
    }

    fn release(&self, key: usize) {
        // The waker is dropped after the context borrow (and the lock) ended.
        let _waker = match Key::decode(key) {
            // A pinned task finishes on its worker's thread, with that worker in the context;
            // if not (only possible once its set is closed), there is nothing to remove.
            Key::Local(key) => {
                context::with_core(self.id, |core: &WorkerCore, _| core.release_pinned(key))
                    .flatten()
            }
            Key::Shared(key) => self.owned.remove(key),
        };
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
