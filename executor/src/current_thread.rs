//! The current-thread scheduler: every task runs on the thread that owns the [`CurrentThread`].
//!
//! Ground rules:
//! - [`Core`] (the local half) is `!Send`: its run queue and its live-task set for tasks
//!   spawned on this thread are touched only on the owning thread, never borrowed across user
//!   code. While the thread runs `block_on` (or shuts the scheduler down), the executor context
//!   holds the core, so that a wake or a spawn there takes the local path: no lock, no atomic.
//! - [`Shared`] (the `Send + Sync` half, behind every [`Handle`](crate::Handle) and every
//!   task's owner reference) holds the injection queue and the live-task set for tasks spawned
//!   from other threads. A wake or spawn from anywhere else locks them, pushes, then calls
//!   [`Unpark::unpark`]. The run loop checks both queues before parking, and [`Park`] remembers
//!   an early unpark, so no wakeup is lost.
//! - Every task is recorded at spawn, in the core's set or the shared one, and the key it gets
//!   says which; it releases itself when its future is gone (see [`Owner`]).
//! - Shutdown (drop) runs the one [`drain`](crate::owned::drain) on the owning thread: every
//!   recorded task is woken and every queued one cancelled until nothing moves; then the
//!   injection queue closes, so later wakes or spawns from other threads cancel the task on
//!   the spot.
//!
//! This module does not know [`Handle`](crate::Handle): `handle.rs` builds one from
//! [`Shared`] (and defines [`CurrentThread::handle`]), so the dependency points one way.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::blocking::BlockingHandle;
use crate::context::{self, Running};
use crate::owned::{self, Key, LocalOwned, OwnedTasks};
use crate::park::{Park, Unpark, EVENT_INTERVAL};
use crate::task::raw::{self, Owner, TaskRunnable};
use crate::task::{self, JoinHandle};

/// The current-thread scheduler.
///
/// Tasks spawned on it (from any thread, through a [`Handle`](crate::Handle)) run on the
/// thread that calls [`block_on`](CurrentThread::block_on). Dropping it cancels every task
/// still alive.
///
/// It is `!Send`: it lives and dies on its thread.
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<ember_executor::CurrentThread>();
/// ```
///
/// # Examples
///
/// ```
/// use ember_executor::{CurrentThread, Park, Unpark};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// struct NoReactor;
/// impl Park for NoReactor {
///     fn park(&mut self, timeout: Option<Duration>) {
///         if timeout.is_none() { std::thread::park() }
///     }
/// }
/// struct Wake(std::thread::Thread);
/// impl Unpark for Wake {
///     fn unpark(&self) { self.0.unpark() }
/// }
///
/// let sched = CurrentThread::new(Arc::new(Wake(std::thread::current())));
/// let task = sched.spawn(async { 40 + 2 });
/// assert_eq!(sched.block_on(task, &mut NoReactor).unwrap(), 42);
/// ```
pub struct CurrentThread {
    core: Rc<Core>,
}

/// The owning thread's half.
pub(crate) struct Core {
    shared: Arc<Shared>,
    /// Runnable tasks woken or spawned on this thread.
    queue: RefCell<VecDeque<TaskRunnable>>,
    /// Tasks spawned on this thread that have not finished.
    owned: LocalOwned,
}

/// The half every thread may touch.
pub(crate) struct Shared {
    /// Process-unique: the executor context and each task's metadata name the scheduler by it.
    id: u64,
    injected: Mutex<Injected>,
    /// True when `injected.queue` may be non-empty: lets the run loop skip the lock.
    has_injected: AtomicBool,
    unpark: Arc<dyn Unpark>,
    /// Tasks spawned from other threads that have not finished.
    owned: OwnedTasks,
    /// The blocking pool `Handle::spawn_blocking` uses, once the runtime set one.
    blocking: OnceLock<BlockingHandle>,
}

struct Injected {
    queue: VecDeque<TaskRunnable>,
    /// Set once the scheduler is gone: runnables arriving later are cancelled where they are.
    closed: bool,
}

impl CurrentThread {
    /// A scheduler that calls `unpark` whenever another thread gives it work.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_executor::{CurrentThread, Unpark};
    /// use std::sync::Arc;
    ///
    /// struct Wake(std::thread::Thread);
    /// impl Unpark for Wake {
    ///     fn unpark(&self) { self.0.unpark() }
    /// }
    /// let sched = CurrentThread::new(Arc::new(Wake(std::thread::current())));
    /// # drop(sched);
    /// ```
    pub fn new(unpark: Arc<dyn Unpark>) -> CurrentThread {
        let shared = Arc::new(Shared {
            id: owned::next_id(),
            injected: Mutex::new(Injected {
                queue: VecDeque::new(),
                closed: false,
            }),
            has_injected: AtomicBool::new(false),
            unpark,
            owned: OwnedTasks::new(1),
            blocking: OnceLock::new(),
        });
        CurrentThread {
            core: Rc::new(Core {
                shared,
                queue: RefCell::new(VecDeque::with_capacity(64)),
                owned: LocalOwned::new(),
            }),
        }
    }

    /// The shared half, for `Handle`.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.core.shared
    }

    /// Spawns a `Send` task. It starts running at the next `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ember_executor::{CurrentThread, Park, Unpark};
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # struct P; impl Park for P { fn park(&mut self, t: Option<Duration>) { if t.is_none() { std::thread::park() } } }
    /// # struct U(std::thread::Thread); impl Unpark for U { fn unpark(&self) { self.0.unpark() } }
    /// let sched = CurrentThread::new(Arc::new(U(std::thread::current())));
    /// let task = sched.spawn(async { 6 * 7 });
    /// assert_eq!(sched.block_on(task, &mut P).unwrap(), 42);
    /// ```
    pub fn spawn<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.core.spawn(f)
    }

    /// Spawns a `!Send` task; it will only ever run on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ember_executor::{CurrentThread, Park, Unpark};
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # struct P; impl Park for P { fn park(&mut self, t: Option<Duration>) { if t.is_none() { std::thread::park() } } }
    /// # struct U(std::thread::Thread); impl Unpark for U { fn unpark(&self) { self.0.unpark() } }
    /// let sched = CurrentThread::new(Arc::new(U(std::thread::current())));
    /// let shared = std::rc::Rc::new(5);
    /// let task = sched.spawn_local(async move { *shared * 2 });
    /// assert_eq!(sched.block_on(task, &mut P).unwrap(), 10);
    /// ```
    pub fn spawn_local<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn_local(f)
    }

    /// Runs `f` to completion on this thread, running spawned tasks meanwhile.
    ///
    /// The `block_on` future is polled whenever its waker fired; between its polls, runnable
    /// tasks run in batches. After 61 polls (task polls and polls of `f` alike) without a
    /// park, `park(Some(Duration::ZERO))` is called so the park hook (a reactor) can check
    /// for events even while tasks stay runnable. When nothing is runnable and `f` was not
    /// woken, `park(None)` blocks until something unparks the thread. While it runs, this
    /// scheduler is the thread's current one ([`Handle::current`](crate::Handle::current),
    /// [`spawn_local`](crate::spawn_local)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use ember_executor::{CurrentThread, Park, Unpark};
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # struct P; impl Park for P { fn park(&mut self, t: Option<Duration>) { if t.is_none() { std::thread::park() } } }
    /// # struct U(std::thread::Thread); impl Unpark for U { fn unpark(&self) { self.0.unpark() } }
    /// let sched = CurrentThread::new(Arc::new(U(std::thread::current())));
    /// let n = sched.block_on(async { ember_executor::spawn_local(async { 1 }).await.unwrap() }, &mut P);
    /// assert_eq!(n, 1);
    /// ```
    ///
    /// # Panics
    ///
    /// If this thread is already inside a `block_on` ("Cannot block_on inside a running ember
    /// runtime: ... use .await or spawn instead"). A panic of `f` propagates (panics of tasks
    /// do not: they go to their `JoinHandle`).
    pub fn block_on<F: Future>(&self, f: F, park: &mut dyn Park) -> F::Output {
        let core = &self.core;
        let running = Running::new(core.shared.id, core.clone());
        context::run(running, core.shared.clone(), |cx| {
            let woken = Arc::new(AtomicBool::new(true));
            let waker = {
                let woken = woken.clone();
                let shared = core.shared.clone();
                waker_fn::waker_fn(move || {
                    // From this thread while it runs `block_on`, the loop sees the flag; from
                    // anywhere else it may be parked.
                    if !woken.swap(true, Ordering::AcqRel) && !context::is_running(shared.id) {
                        shared.unpark.unpark();
                    }
                })
            };
            let mut main_cx = Context::from_waker(&waker);
            let mut f = pin!(f);
            // Polls since the park hook last ran; the main future's polls count too, so a main
            // future that keeps waking itself cannot starve the park hook either.
            let mut polls: u32 = 0;
            let tick = |polls: &mut u32, park: &mut dyn Park| {
                *polls += 1;
                if *polls < EVENT_INTERVAL {
                    return false;
                }
                *polls = 0;
                park.park(Some(Duration::ZERO));
                // Fairness for remote work: append it behind the local queue now, even though
                // the local queue is not empty.
                core.pull_injected();
                true
            };
            loop {
                if woken.swap(false, Ordering::AcqRel) {
                    if let Poll::Ready(output) = f.as_mut().poll(&mut main_cx) {
                        return output;
                    }
                    tick(&mut polls, park);
                }
                // A batch of tasks, then back to the main future.
                while let Some(runnable) = core.next_task() {
                    task::run_current(cx, runnable);
                    if tick(&mut polls, park) {
                        break;
                    }
                }
                if woken.load(Ordering::Acquire) || core.has_work() {
                    continue;
                }
                park.park(None);
                // The park hook just checked for events: the next non-blocking check is due
                // EVENT_INTERVAL polls from now, not sooner (a server that goes idle between
                // bursts would otherwise pay an extra, usually empty, poll of the OS per burst).
                polls = 0;
            }
        })
    }
}

impl Drop for CurrentThread {
    fn drop(&mut self) {
        self.core.shutdown();
    }
}

impl fmt::Debug for CurrentThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentThread")
            .field("id", &self.core.shared.id)
            .field("queued", &self.core.queue.borrow().len())
            .field("live_tasks", &self.core.live_tasks())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core")
            .field("id", &self.shared.id)
            .finish_non_exhaustive()
    }
}

/// The schedule function of every task of a current-thread scheduler. A wake on the thread
/// that runs the task's scheduler pushes onto the core's queue (no lock); any other goes to
/// the owner's injection queue.
fn schedule(runnable: TaskRunnable) {
    let mut runnable = Some(runnable);
    let id = runnable.as_ref().map_or(0, |r| r.metadata().owner_id());
    context::with_core(id, |core: &Core, _| {
        if let Some(runnable) = runnable.take() {
            core.push_local(runnable);
        }
    });
    if let Some(runnable) = runnable {
        raw::schedule_by_owner(runnable);
    }
}

impl Core {
    fn owner(&self) -> Arc<dyn Owner> {
        self.shared.clone()
    }

    /// Record a task spawned on this thread in the local set, then queue it.
    fn record_and_push(&self, runnable: TaskRunnable) {
        if let Ok(key) = self.owned.insert(runnable.waker()) {
            runnable.metadata().set_key(Key::Local(key).encode());
        }
        // Refused: shutting down; the drain cancels it from the queue.
        self.push_local(runnable);
    }

    fn spawn<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, handle) = raw::spawn(f, Some(self.owner()), schedule);
        self.record_and_push(runnable);
        handle
    }

    pub(crate) fn spawn_local<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (runnable, handle) = raw::spawn_local(f, self.owner(), schedule);
        self.record_and_push(runnable);
        handle
    }

    fn push_local(&self, runnable: TaskRunnable) {
        self.queue.borrow_mut().push_back(runnable);
    }

    fn pop_local(&self) -> Option<TaskRunnable> {
        self.queue.borrow_mut().pop_front()
    }

    fn next_task(&self) -> Option<TaskRunnable> {
        if let Some(runnable) = self.pop_local() {
            return Some(runnable);
        }
        self.pull_injected();
        self.pop_local()
    }

    /// Move the injection queue behind the local queue.
    fn pull_injected(&self) {
        if !self.shared.has_injected.load(Ordering::Acquire) {
            return;
        }
        let mut injected = self.shared.lock();
        self.shared.has_injected.store(false, Ordering::Relaxed);
        let mut local = self.queue.borrow_mut();
        if local.is_empty() {
            std::mem::swap(&mut *local, &mut injected.queue);
        } else {
            local.append(&mut injected.queue);
        }
    }

    fn has_work(&self) -> bool {
        !self.queue.borrow().is_empty() || self.shared.has_injected.load(Ordering::Acquire)
    }

    fn live_tasks(&self) -> usize {
        self.owned.len() + self.shared.owned.len()
    }

    /// Cancel every task, exactly once, on this thread; then close the injection queue.
    fn shutdown(self: &Rc<Self>) {
        // Wakes and spawns during shutdown (from destructors) take the local path into our queue.
        let running = Running::new(self.shared.id, self.clone());
        let _enter = context::enter_for_shutdown(running, self.shared.clone());
        owned::drain(
            || {
                let mut recorded = self.owned.close_and_take();
                recorded.extend(self.shared.owned.close_and_take());
                recorded
            },
            || self.next_task(),
            raw::cancel,
            || {
                // From now on a wake or spawn from another thread cancels its task on the spot;
                // what was injected before is cancelled here, from our queue.
                let leftovers = {
                    let mut injected = self.shared.lock();
                    injected.closed = true;
                    self.shared.has_injected.store(false, Ordering::Relaxed);
                    std::mem::take(&mut injected.queue)
                };
                let found = !leftovers.is_empty();
                self.queue.borrow_mut().extend(leftovers);
                found
            },
        );
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Injected> {
        self.injected.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The blocking pool set for this runtime, if any.
    pub(crate) fn blocking(&self) -> &OnceLock<BlockingHandle> {
        &self.blocking
    }

    /// Spawns a `Send` task from any thread: on this scheduler's own thread while it runs, the
    /// local path; elsewhere, the shared set and the injection queue.
    pub(crate) fn spawn<F>(self: &Arc<Self>, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if let Some(core) = context::core::<Core>(self.id) {
            return core.spawn(f);
        }
        let (runnable, handle) = raw::spawn(f, Some(self.clone()), schedule);
        if let Ok(key) = self.owned.insert(0, runnable.waker()) {
            runnable.metadata().set_key(Key::Shared(key).encode());
        }
        // Refused: shut down; the injection queue is closed too and cancels it.
        self.inject(runnable);
        handle
    }

    /// Queue a runnable from another thread (or from this one outside `block_on`).
    fn inject(&self, runnable: TaskRunnable) {
        let mut injected = self.lock();
        if injected.closed {
            drop(injected);
            // The scheduler is gone: cancel here (never polls the user future).
            raw::cancel(runnable);
            return;
        }
        injected.queue.push_back(runnable);
        self.has_injected.store(true, Ordering::Release);
        drop(injected);
        self.unpark.unpark();
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
            // A task spawned on our thread finishes there, with the core in the context; if
            // not (only possible once the set is closed), there is nothing to remove.
            Key::Local(key) => {
                context::with_core(self.id, |core: &Core, _| core.owned.remove(key)).flatten()
            }
            Key::Shared(key) => self.owned.remove(key),
        };
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("id", &self.id)
            .field("has_injected", &self.has_injected.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
