//! [`Handle`]: the `Send + Sync` way to reach a scheduler from anywhere, and [`EnterGuard`].
//!
//! This is the one module that knows every flavor: a handle is the flavor's shared half, and
//! the schedulers' `handle()` methods are defined here, so neither scheduler module depends on
//! this one. The executor context stores the current runtime's shared half type-erased;
//! [`Handle::try_current`] rebuilds the handle by downcasting it to each flavor's.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::blocking::BlockingHandle;
use crate::context::{self, SharedAny};
use crate::current_thread::{self, CurrentThread};
use crate::multi_thread::{self, MultiThread};
use crate::task::JoinHandle;

/// Spawns tasks onto a scheduler from any thread. `Clone + Send + Sync`.
///
/// # Examples
///
/// ```
/// let answer = ember_executor::block_on(async {
///     let handle = ember_executor::Handle::current();
///     let from_thread = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
///         .join()
///         .unwrap();
///     from_thread.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    flavor: Flavor,
}

/// Which flavor of scheduler a handle reaches.
#[derive(Clone)]
enum Flavor {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

impl CurrentThread {
    /// A `Send + Sync` handle that spawns onto this scheduler from any thread.
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
    /// let handle = sched.handle();
    /// let task = std::thread::spawn(move || handle.spawn(async { 1 })).join().unwrap();
    /// assert_eq!(sched.block_on(task, &mut P).unwrap(), 1);
    /// ```
    pub fn handle(&self) -> Handle {
        Handle {
            flavor: Flavor::CurrentThread(self.shared().clone()),
        }
    }
}

impl MultiThread {
    /// A `Send + Sync` handle that spawns onto this scheduler from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ember_executor::{MultiThread, Unpark};
    /// # use std::sync::Arc;
    /// # struct U; impl Unpark for U { fn unpark(&self) {} }
    /// let (sched, workers) = MultiThread::new(vec![Arc::new(U)]);
    /// let handle = sched.handle();
    /// # drop((handle, workers));
    /// ```
    pub fn handle(&self) -> Handle {
        Handle {
            flavor: Flavor::MultiThread(self.shared().clone()),
        }
    }
}

impl Handle {
    /// Spawns a `Send` task onto the scheduler, from any thread; unparks the scheduler's thread
    /// when called from elsewhere. On the scheduler's own thread (current-thread) or on one of
    /// its workers (multi-thread) the task goes to that thread's queue (no lock); from
    /// elsewhere to the injection queue, and one parked worker is woken. If the scheduler was
    /// already shut down, the task is cancelled at once (its `JoinHandle` gives a cancelled
    /// [`JoinError`](crate::task::JoinError)).
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let task = ember_executor::Handle::current().spawn(async { "done" });
    ///     assert_eq!(task.await.unwrap(), "done");
    /// });
    /// ```
    pub fn spawn<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.flavor {
            Flavor::CurrentThread(shared) => shared.spawn(f),
            Flavor::MultiThread(shared) => shared.spawn(f),
        }
    }

    /// Gives the runtime a blocking pool for [`Handle::spawn_blocking`]; the runtime's builder
    /// calls it once, when it creates both.
    ///
    /// # Errors
    ///
    /// If the runtime already has a blocking pool: `pool` is handed back.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_executor::blocking::{BlockingConfig, BlockingPool};
    /// use ember_executor::{CurrentThread, Park, Unpark};
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # struct P; impl Park for P { fn park(&mut self, t: Option<Duration>) { if t.is_none() { std::thread::park() } } }
    /// # struct U(std::thread::Thread); impl Unpark for U { fn unpark(&self) { self.0.unpark() } }
    ///
    /// let sched = CurrentThread::new(Arc::new(U(std::thread::current())));
    /// let pool = BlockingPool::new(BlockingConfig::default());
    /// assert!(sched.handle().set_blocking_pool(pool.handle()).is_ok());
    /// assert!(sched.handle().set_blocking_pool(pool.handle()).is_err());
    /// ```
    pub fn set_blocking_pool(&self, pool: BlockingHandle) -> Result<(), BlockingHandle> {
        self.blocking().set(pool)
    }

    fn blocking(&self) -> &std::sync::OnceLock<BlockingHandle> {
        match &self.flavor {
            Flavor::CurrentThread(shared) => shared.blocking(),
            Flavor::MultiThread(shared) => shared.blocking(),
        }
    }

    /// Runs the blocking closure `f` on the runtime's blocking pool and returns a
    /// [`JoinHandle`] for its result. The closure runs with this handle entered
    /// ([`Handle::enter`]), so it may spawn tasks and use [`Handle::current`].
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_executor::blocking::{BlockingConfig, BlockingPool};
    /// use ember_executor::{CurrentThread, Handle, Park, Unpark};
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # struct P; impl Park for P { fn park(&mut self, t: Option<Duration>) { if t.is_none() { std::thread::park() } } }
    /// # struct U(std::thread::Thread); impl Unpark for U { fn unpark(&self) { self.0.unpark() } }
    ///
    /// let sched = CurrentThread::new(Arc::new(U(std::thread::current())));
    /// let pool = BlockingPool::new(BlockingConfig::default());
    /// sched.handle().set_blocking_pool(pool.handle()).unwrap();
    /// let sum = sched.block_on(
    ///     async {
    ///         Handle::current()
    ///             .spawn_blocking(|| {
    ///                 // A task spawned from the pool thread runs on the scheduler.
    ///                 Handle::current().spawn(async { (1..=10).sum::<u32>() })
    ///             })
    ///             .await
    ///             .unwrap()
    ///             .await
    ///             .unwrap()
    ///     },
    ///     &mut P,
    /// );
    /// assert_eq!(sum, 55);
    /// ```
    ///
    /// # Panics
    ///
    /// If the runtime has no blocking pool ([`Handle::set_blocking_pool`] was never called), or
    /// as [`BlockingHandle::spawn_blocking`] does.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let Some(pool) = self.blocking().get() else {
            panic!(
                "this ember runtime has no blocking pool: give it one with \
                 Handle::set_blocking_pool (ember::Runtime always has one)"
            );
        };
        let handle = self.clone();
        pool.spawn_blocking(move || {
            let _enter = handle.enter();
            f()
        })
    }

    /// Makes this handle the thread's current one until the guard is dropped, without running
    /// the scheduler: [`Handle::current`] and [`Handle::spawn`] then work from plain code (a
    /// current-thread scheduler runs the tasks at its next `block_on`), while
    /// [`spawn_local`](crate::spawn_local), which needs the scheduler running on this thread,
    /// still panics. Guards nest; each restores what was current before it, so drop them in
    /// reverse order.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ember_executor::{CurrentThread, Handle, Park, Unpark};
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # struct P; impl Park for P { fn park(&mut self, t: Option<Duration>) { if t.is_none() { std::thread::park() } } }
    /// # struct U(std::thread::Thread); impl Unpark for U { fn unpark(&self) { self.0.unpark() } }
    /// let sched = CurrentThread::new(Arc::new(U(std::thread::current())));
    /// let handle = sched.handle();
    /// let task = {
    ///     let _guard = handle.enter();
    ///     Handle::current().spawn(async { "spawned outside block_on" })
    /// };
    /// assert!(Handle::try_current().is_none());
    /// assert_eq!(sched.block_on(task, &mut P).unwrap(), "spawned outside block_on");
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        let shared: SharedAny = match &self.flavor {
            Flavor::CurrentThread(shared) => shared.clone(),
            Flavor::MultiThread(shared) => shared.clone(),
        };
        EnterGuard {
            previous: Some(context::enter_handle(shared)),
            _handle: PhantomData,
        }
    }

    /// The handle of the runtime this thread runs or has entered.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let handle = ember_executor::Handle::current();
    ///     handle.spawn(async {}).await.unwrap();
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a runtime, with the message `there is no ember runtime on this thread: start one
    /// with ember::block_on, Runtime::block_on or #[ember::main], or enter one with
    /// Runtime::enter or Handle::enter`. [`Handle::try_current`] returns `None` instead.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!("{}", context::NO_RUNTIME),
        }
    }

    /// The handle of the runtime this thread runs or has entered, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(ember_executor::Handle::try_current().is_none());
    /// ember_executor::block_on(async {
    ///     assert!(ember_executor::Handle::try_current().is_some());
    /// });
    /// ```
    pub fn try_current() -> Option<Handle> {
        let shared = context::current_handle()?;
        let shared = match shared.downcast::<current_thread::Shared>() {
            Ok(shared) => {
                return Some(Handle {
                    flavor: Flavor::CurrentThread(shared),
                })
            }
            Err(shared) => shared,
        };
        // The context only ever holds one of the two flavors' shared halves.
        shared
            .downcast::<multi_thread::Shared>()
            .ok()
            .map(|shared| Handle {
                flavor: Flavor::MultiThread(shared),
            })
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match self.flavor {
            Flavor::CurrentThread(_) => "current_thread",
            Flavor::MultiThread(_) => "multi_thread",
        };
        f.debug_struct("Handle")
            .field("flavor", &flavor)
            .finish_non_exhaustive()
    }
}

/// Keeps a [`Handle`] entered on this thread; see [`Handle::enter`]. Dropping it restores
/// the runtime that was current before.
///
/// Not `Send`: it must be dropped on the thread that entered.
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<ember_executor::EnterGuard<'static>>();
/// ```
#[must_use = "the handle is entered only while the guard lives"]
pub struct EnterGuard<'a> {
    /// What was current before; `Some` until dropped.
    previous: Option<Option<SharedAny>>,
    /// Borrows the handle, and makes the guard `!Send`.
    _handle: PhantomData<(&'a Handle, *const ())>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            context::leave_handle(previous);
        }
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
