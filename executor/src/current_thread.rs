//! The current-thread scheduler: every task runs on the thread that owns the [`CurrentThread`].
//!
//! Ground rules:
//! - [`Core`] (the local half) is `!Send`: its run queue and its set of live tasks are
//!   `RefCell`s touched only on the owning thread, never borrowed across user code.
//! - [`Shared`] (the `Send + Sync` half, behind every [`Handle`] and every task's schedule
//!   function) holds the injection queue. A wake or spawn on the owning thread while it runs
//!   `block_on` takes the local path (no lock, no atomics); from anywhere else it locks the
//!   injection queue, pushes, then calls [`Unpark::unpark`]. The run loop checks both queues
//!   before parking, and [`Park`] remembers an early unpark, so no wakeup is lost.
//! - Shutdown (drop) cancels every task on the owning thread: queued ones, and pending ones
//!   through the wakers recorded in the live-task set. Then it closes the injection queue, so
//!   later wakes or spawns from other threads cancel the task on the spot.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use slab::Slab;

use crate::context;
use crate::park::{Park, Unpark};
use crate::task::raw::{self, Registration, TaskRunnable};
use crate::task::JoinHandle;
use crate::Handle;

/// Task polls between two non-blocking parks, so I/O and timers are checked even while tasks
/// stay runnable. Also the batch size between two checks of the `block_on` future.
const EVENT_INTERVAL: u32 = 61;

/// The current-thread scheduler.
///
/// Tasks spawned on it (from any thread, through a [`Handle`]) run on the thread that calls
/// [`block_on`](CurrentThread::block_on). Dropping it cancels every task still alive.
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
    /// Wakers of tasks that returned `Pending` at least once and have not finished.
    active: RefCell<Slab<Waker>>,
    /// Set at the start of drop: registrations are void from then on.
    closing: Cell<bool>,
}

/// The half every thread may touch.
pub(crate) struct Shared {
    injected: Mutex<Injected>,
    /// True when `injected.queue` may be non-empty: lets the run loop skip the lock.
    has_injected: AtomicBool,
    unpark: Arc<dyn Unpark>,
}

struct Injected {
    queue: VecDeque<TaskRunnable>,
    /// Set once the scheduler is gone: runnables arriving later are cancelled where they are.
    closed: bool,
}

impl CurrentThread {
    /// A scheduler that calls `unpark` whenever another thread gives it work.
    pub fn new(unpark: Arc<dyn Unpark>) -> CurrentThread {
        let shared = Arc::new(Shared {
            injected: Mutex::new(Injected {
                queue: VecDeque::new(),
                closed: false,
            }),
            has_injected: AtomicBool::new(false),
            unpark,
        });
        CurrentThread {
            core: Rc::new(Core {
                shared,
                queue: RefCell::new(VecDeque::with_capacity(64)),
                active: RefCell::new(Slab::new()),
                closing: Cell::new(false),
            }),
        }
    }

    /// A `Send + Sync` handle that spawns onto this scheduler from any thread.
    pub fn handle(&self) -> Handle {
        Handle::new(self.core.shared.clone())
    }

    /// Spawns a `Send` task. It starts running at the next `block_on`.
    pub fn spawn<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, handle) = raw::spawn(f, self.core.shared.schedule_fn());
        self.core.push_local(runnable);
        handle
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
    /// scheduler is the thread's current one ([`Handle::current`], [`spawn_local`](crate::spawn_local)).
    ///
    /// # Panics
    ///
    /// If this thread is already inside a `block_on` ("Cannot block_on inside a running ember
    /// runtime: ... use .await or spawn instead"). A panic of `f` propagates (panics of tasks
    /// do not: they go to their `JoinHandle`).
    pub fn block_on<F: Future>(&self, f: F, park: &mut dyn Park) -> F::Output {
        let _enter = context::enter(context::Current::Thread(self.core.clone()));
        let main = Arc::new(MainWaker {
            woken: AtomicBool::new(true),
            shared: self.core.shared.clone(),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
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
            // Fairness for remote work: append it behind the local queue now, even though the
            // local queue is not empty.
            self.core.pull_injected();
            true
        };
        loop {
            if main.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(output) = f.as_mut().poll(&mut cx) {
                    return output;
                }
                tick(&mut polls, park);
            }
            // A batch of tasks, then back to the main future.
            while let Some(runnable) = self.core.next_task() {
                runnable.run();
                if tick(&mut polls, park) {
                    break;
                }
            }
            if main.woken.load(Ordering::Acquire) || self.core.has_work() {
                continue;
            }
            park.park(None);
            // The park hook just checked for events: the next non-blocking check is due
            // EVENT_INTERVAL polls from now, not sooner (a server that goes idle between
            // bursts would otherwise pay an extra, usually empty, poll of the OS per burst).
            polls = 0;
        }
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
            .field("queued", &self.core.queue.borrow().len())
            .field("pending", &self.core.active.borrow().len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core")
            .field("closing", &self.closing.get())
            .finish_non_exhaustive()
    }
}

impl Core {
    /// True if `shared` is this core's shared half.
    pub(crate) fn owns(&self, shared: &Shared) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.shared), shared)
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn push_local(&self, runnable: TaskRunnable) {
        self.queue.borrow_mut().push_back(runnable);
    }

    pub(crate) fn spawn_local<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (runnable, handle) = raw::spawn_local(f, self.shared.schedule_fn());
        self.push_local(runnable);
        handle
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

    pub(crate) fn register_active(&self, waker: &Waker) -> Option<Registration> {
        if self.closing.get() {
            return None;
        }
        let key = self.active.borrow_mut().insert(waker.clone());
        Some(Registration {
            scheduler: Arc::as_ptr(&self.shared) as usize,
            key,
        })
    }

    /// Returns the removed waker so the caller drops it outside any borrow.
    pub(crate) fn deregister_active(&self, registration: Registration) -> Option<Waker> {
        if self.closing.get() || registration.scheduler != Arc::as_ptr(&self.shared) as usize {
            return None;
        }
        self.active.borrow_mut().try_remove(registration.key)
    }

    /// Cancel every task, exactly once, on this thread; then close the injection queue.
    fn shutdown(self: &Rc<Self>) {
        // Wakes during shutdown (from destructors) take the local path into our queue.
        let _enter = context::enter_for_shutdown(context::Current::Thread(self.clone()));
        self.closing.set(true);
        loop {
            // Pending tasks: waking them puts their runnables in a queue (no-op if queued already).
            let active = std::mem::take(&mut *self.active.borrow_mut());
            let mut progressed = !active.is_empty();
            for (_, waker) in active {
                waker.wake();
            }
            while let Some(runnable) = self.next_task() {
                raw::cancel(runnable);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        let leftovers = {
            let mut injected = self.shared.lock();
            injected.closed = true;
            std::mem::take(&mut injected.queue)
        };
        for runnable in leftovers {
            raw::cancel(runnable);
        }
        // Destructors run just above may have woken or spawned more.
        while let Some(runnable) = self.pop_local() {
            raw::cancel(runnable);
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Injected> {
        self.injected.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The schedule function stored in each task.
    pub(crate) fn schedule_fn(self: &Arc<Self>) -> impl Fn(TaskRunnable) + Send + Sync + 'static {
        let shared = self.clone();
        move |runnable| shared.schedule(runnable)
    }

    /// Queue a woken or newly spawned task.
    pub(crate) fn schedule(&self, runnable: TaskRunnable) {
        let runnable = match context::try_schedule_local(self, runnable) {
            Ok(()) => return,
            Err(runnable) => runnable,
        };
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

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("has_injected", &self.has_injected.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The waker of the `block_on` future.
struct MainWaker {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) && !context::is_current(&self.shared) {
            self.shared.unpark.unpark();
        }
    }
}
