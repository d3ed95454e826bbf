//! The runtime: a scheduler whose park hook turns the reactor.
//!
//! A [`Runtime`] owns two things. The executor's scheduler runs tasks. The
//! reactor's driver waits for I/O readiness, signals and timer deadlines.
//! When the scheduler has nothing runnable it parks, and parking means one
//! turn of the reactor, so the thread blocks in the kernel's poller until a
//! socket is ready, a timer is due, or another thread spawns or wakes a task
//! (which interrupts the poll through the reactor's [`Handle`]-side unpark).
//! On a multi-thread runtime the workers share the reactor: one idle worker
//! at a time turns it, the others sleep until there is work. Each runtime
//! also owns a blocking pool for [`crate::spawn_blocking`] and name lookups.
//! Build one with [`Builder`], or use [`crate::block_on`] for the defaults.
//!
//! A thread is inside a runtime when it has entered both halves: the
//! executor's context (scheduler, blocking pool, current task) and the
//! reactor's driver context (sockets, signals, timers, coop budget). One
//! guard, [`EnterGuard`], enters both; the facade keeps no thread-local of
//! its own (see [`Handle`]).

mod builder;
mod handle;
mod park;
mod shared_park;

pub use builder::Builder;
pub(crate) use handle::spawn_blocking_on;
pub use handle::{EnterGuard, Handle};

use crate::coop::Budgeted;
use builder::ThreadName;
use ember_executor::blocking::{BlockingConfig, BlockingPool};
use ember_executor::{CurrentThread, MultiThread, Unpark};
use shared_park::{BlockOnPark, BlockOnParker, SharedDriver};
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle as ThreadHandle;
use std::time::Duration;

/// An ember runtime: a task scheduler joined to an I/O and timer reactor.
///
/// Two flavours, as in tokio ([`Builder`]):
/// - current-thread ([`Builder::new_current_thread`], [`Runtime::new`]):
///   tasks run on the thread that calls [`Runtime::block_on`], which also
///   turns the reactor when it has nothing to run.
/// - multi-thread ([`Builder::new_multi_thread`]): a pool of worker threads
///   steals work from each other; one idle worker at a time waits in the
///   reactor, the others sleep.
///
/// A `Runtime` is not `Send`: the current-thread flavour may hold `!Send`
/// tasks from [`crate::spawn_local`] that must stay on its thread. Share a
/// [`Handle`] instead (`Clone + Send + Sync`).
///
/// Dropping a runtime cancels and drops every task it still holds, waits
/// for the [`crate::spawn_blocking`] closures already running (queued ones
/// are cancelled; see [`Runtime::shutdown_timeout`] to bound the wait), then
/// closes the reactor.
///
/// # Examples
///
/// ```
/// use ember::Runtime;
///
/// let rt = Runtime::new()?;
/// let sum = rt.block_on(async {
///     let a = ember::spawn(async { 1 });
///     let b = ember::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(sum, 3);
/// # std::io::Result::Ok(())
/// ```
pub struct Runtime {
    /// Declared (so dropped) before `scheduler`: running closures are waited
    /// for while the reactor they may use is alive. Tasks go first, in `Drop`.
    blocking: BlockingPool,
    scheduler: Scheduler,
    handle: Handle,
}

/// The running scheduler of each flavor, with the reactor it turns.
enum Scheduler {
    CurrentThread {
        /// Taken (dropped) first at shutdown, while the reactor is alive.
        scheduler: Option<CurrentThread>,
        driver: RefCell<ember_reactor::Driver>,
    },
    MultiThread {
        scheduler: MultiThread,
        workers: Vec<ThreadHandle<()>>,
        /// Held so the reactor outlives the workers and the blocking pool.
        _shared: Arc<SharedDriver>,
    },
}

impl Runtime {
    /// Creates a current-thread runtime with the default settings.
    ///
    /// # Errors
    ///
    /// When the OS refuses the poller or its wakeup descriptor (for example,
    /// the process is out of file descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Runtime::new()?;
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new_current_thread().build()
    }

    pub(crate) fn current_thread(
        clock: ember_timer::Clock,
        blocking: BlockingConfig,
    ) -> io::Result<Runtime> {
        let driver = ember_reactor::Driver::new(clock)?;
        let reactor = driver.handle().clone();
        let scheduler = CurrentThread::new(Arc::new(park::ReactorUnpark::new(reactor.clone())));
        let blocking = BlockingPool::new(blocking);
        let handle = Handle::new(scheduler.handle(), reactor, &blocking);
        Ok(Runtime {
            blocking,
            scheduler: Scheduler::CurrentThread {
                scheduler: Some(scheduler),
                driver: RefCell::new(driver),
            },
            handle,
        })
    }

    /// A multi-thread runtime of `workers` workers named by `worker_name`.
    pub(crate) fn multi_thread(
        workers: usize,
        worker_name: ThreadName,
        blocking: BlockingConfig,
    ) -> io::Result<Runtime> {
        let driver = ember_reactor::Driver::new(ember_timer::Clock::real())?;
        let reactor = driver.handle().clone();
        let (shared, parks, unparks) = SharedDriver::new(driver, workers.max(1));
        let (scheduler, runners) = MultiThread::new(unparks);
        let on_start = blocking.on_thread_start.clone();
        let on_stop = blocking.on_thread_stop.clone();
        let blocking = BlockingPool::new(blocking);
        let handle = Handle::new(scheduler.handle(), reactor, &blocking);

        let mut threads = Vec::with_capacity(runners.len());
        for (runner, mut park) in runners.into_iter().zip(parks) {
            let handle = handle.clone();
            let (on_start, on_stop) = (on_start.clone(), on_stop.clone());
            let spawned = std::thread::Builder::new()
                .name(worker_name())
                .spawn(move || {
                    if let Some(f) = &on_start {
                        f();
                    }
                    {
                        let _enter = handle.enter();
                        runner.run(&mut park);
                    }
                    if let Some(f) = &on_stop {
                        f();
                    }
                });
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(e) => {
                    // The workers already started leave at shutdown; the
                    // ones never started are dropped unrun with `runners`.
                    scheduler.shutdown();
                    for thread in threads {
                        let _ = thread.join();
                    }
                    return Err(e);
                }
            }
        }
        Ok(Runtime {
            blocking,
            scheduler: Scheduler::MultiThread {
                scheduler,
                workers: threads,
                _shared: shared,
            },
            handle,
        })
    }

    /// A handle to this runtime: `Clone + Send + Sync`, it spawns tasks onto
    /// the runtime from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Runtime::new()?;
    /// let handle = rt.handle().clone();
    /// let task = std::thread::spawn(move || handle.spawn(async { 7 }))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), 7);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs a future to completion on this thread.
    ///
    /// On a current-thread runtime, the runtime's tasks and its reactor run
    /// on this thread meanwhile. On a multi-thread runtime they run on the
    /// workers, and this thread only waits for `future`.
    ///
    /// # Panics
    ///
    /// When called from inside a task or another `block_on` on this thread:
    /// blocking there would stall every task of that runtime. Use `.await`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_multi_thread().worker_threads(2).build()?;
    /// let out = rt.block_on(async {
    ///     ember::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     ember::spawn(async { "slept" }).await.unwrap()
    /// });
    /// assert_eq!(out, "slept");
    /// # std::io::Result::Ok(())
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = self.handle.enter();
        let future = Budgeted::new(future);
        match &self.scheduler {
            Scheduler::CurrentThread { scheduler, driver } => {
                let scheduler = scheduler
                    .as_ref()
                    .expect("the scheduler lives until the runtime is dropped");
                // A nested block_on of this same runtime is the only way the
                // driver can already be borrowed; report it as the scheduler
                // reports any other nesting.
                let Ok(mut driver) = driver.try_borrow_mut() else {
                    panic!(
                        "Cannot block_on inside a running ember runtime: use .await or spawn instead"
                    );
                };
                let mut park = park::ReactorPark::new(&mut driver);
                scheduler.block_on(future, &mut park)
            }
            Scheduler::MultiThread { scheduler, .. } => {
                let parker = Arc::new(BlockOnParker::default());
                let unpark: Arc<dyn Unpark> = parker.clone();
                scheduler.block_on(future, &mut BlockOnPark(parker), unpark)
            }
        }
    }

    /// Spawns a `Send` future onto this runtime. Shorthand for
    /// `self.handle().spawn(future)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Runtime::new()?;
    /// let task = rt.spawn(async { 5 });
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn spawn<F>(&self, future: F) -> crate::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Enters this runtime's context without running it, so that
    /// [`crate::spawn`], timers and sockets can be created from plain code.
    /// On a current-thread runtime, tasks spawned this way run at the next
    /// [`Runtime::block_on`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Runtime::new()?;
    /// let task = {
    ///     let _guard = rt.enter();
    ///     ember::spawn(async { "spawned outside block_on" })
    /// };
    /// assert_eq!(rt.block_on(task).unwrap(), "spawned outside block_on");
    /// # std::io::Result::Ok(())
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts the runtime down, waiting at most `timeout` for
    /// [`crate::spawn_blocking`] closures that are still running; those that
    /// do not finish in time are left to finish on their own threads.
    /// Dropping a runtime is the same with no bound on the wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = ember::Runtime::new()?;
    /// let (release, wait) = std::sync::mpsc::channel::<()>();
    /// rt.block_on(async {
    ///     // A closure that would otherwise block the runtime's drop.
    ///     drop(ember::spawn_blocking(move || wait.recv()));
    /// });
    /// rt.shutdown_timeout(Duration::from_millis(10));
    /// drop(release);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown_tasks();
        self.blocking.shutdown_timeout(timeout);
    }

    /// Cancels and drops every task, inside the runtime's context and while
    /// the reactor is alive: their destructors deregister sockets and cancel
    /// timers, and may reasonably look the runtime up to do it. On a
    /// multi-thread runtime, the workers are stopped and joined first.
    fn shutdown_tasks(&mut self) {
        let _enter = self.handle.enter();
        match &mut self.scheduler {
            Scheduler::CurrentThread { scheduler, .. } => drop(scheduler.take()),
            Scheduler::MultiThread {
                scheduler, workers, ..
            } => {
                scheduler.shutdown();
                for worker in workers.drain(..) {
                    // A worker thread only ends by returning from `run`;
                    // a panic there (a failed poller) has been reported.
                    let _ = worker.join();
                }
            }
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown_tasks();
        // The blocking pool's own drop then waits for running closures,
        // before the reactor (in `scheduler`, declared after it) closes.
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match self.scheduler {
            Scheduler::CurrentThread { .. } => "current_thread",
            Scheduler::MultiThread { .. } => "multi_thread",
        };
        f.debug_struct("Runtime")
            .field("flavor", &flavor)
            .finish_non_exhaustive()
    }
}
