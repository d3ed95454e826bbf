//! The runtime: a scheduler whose park hook turns the reactor.
//!
//! A [`Runtime`] owns two things. The executor's scheduler runs tasks. The
//! reactor's driver waits for I/O readiness, signals and timer deadlines.
//! When the scheduler has nothing runnable it parks, and parking means one
//! turn of the reactor, so the thread blocks in the kernel's poller until a
//! socket is ready, a timer is due, or another thread spawns or wakes a task
//! (which interrupts the poll through the reactor's [`Handle`]-side unpark).
//! Build one with [`Builder`], or use [`crate::block_on`] for the defaults.

mod builder;
mod handle;
mod park;

pub use builder::Builder;
pub use handle::{EnterGuard, Handle};

use crate::coop::Budgeted;
use ember_executor::blocking::{BlockingConfig, BlockingPool};
use ember_executor::CurrentThread;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// An ember runtime: a task scheduler joined to an I/O and timer reactor.
///
/// Only the current-thread flavour exists so far: tasks run on the thread
/// that calls [`Runtime::block_on`]. That is also why a `Runtime` is not
/// `Send`: it may hold `!Send` tasks from [`crate::spawn_local`].
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
    /// Dropped first (see `Drop`), while the reactor its tasks use is alive.
    scheduler: Option<CurrentThread>,
    /// Shut down after the tasks, before the reactor.
    blocking: BlockingPool,
    driver: RefCell<ember_reactor::Driver>,
    handle: Handle,
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

    pub(crate) fn from_parts(
        clock: ember_timer::Clock,
        blocking: BlockingConfig,
    ) -> io::Result<Runtime> {
        let driver = ember_reactor::Driver::new(clock)?;
        let reactor = driver.handle().clone();
        let scheduler = CurrentThread::new(Arc::new(park::ReactorUnpark::new(reactor.clone())));
        let blocking = BlockingPool::new(blocking);
        let handle = Handle::new(scheduler.handle(), reactor, blocking.handle());
        handle.install_blocking_offload();
        Ok(Runtime {
            scheduler: Some(scheduler),
            blocking,
            driver: RefCell::new(driver),
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

    /// Runs a future to completion on this thread, running the runtime's
    /// tasks and its reactor meanwhile.
    ///
    /// # Panics
    ///
    /// When called from inside a task or another `block_on` on this thread:
    /// blocking there would stall every task of that runtime. Use `.await`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Runtime::new()?;
    /// let out = rt.block_on(async {
    ///     ember::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     "slept"
    /// });
    /// assert_eq!(out, "slept");
    /// # std::io::Result::Ok(())
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let scheduler = self.scheduler();
        let _enter = self.handle.enter();
        // A nested block_on is caught by the scheduler with a clear panic
        // before the reactor is ever touched; the borrow below can only fail
        // in that same case, so it reports the same thing.
        let Ok(mut driver) = self.driver.try_borrow_mut() else {
            panic!("Cannot block_on inside a running ember runtime: use .await or spawn instead");
        };
        let mut park = park::ReactorPark::new(&mut driver);
        scheduler.block_on(Budgeted::new(future), &mut park)
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
    /// Tasks spawned this way run at the next [`Runtime::block_on`].
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
    /// timers, and may reasonably look the runtime up to do it.
    fn shutdown_tasks(&mut self) {
        let _enter = self.handle.enter();
        drop(self.scheduler.take());
    }

    fn scheduler(&self) -> &CurrentThread {
        // Only shutdown takes it.
        self.scheduler
            .as_ref()
            .expect("the scheduler lives until the runtime is dropped")
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown_tasks();
        // The blocking pool's own drop then waits for running closures,
        // before the reactor (declared after it) closes.
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("flavor", &"current_thread")
            .finish_non_exhaustive()
    }
}
