//! The shared, thread-safe handle to a runtime, and this thread's current one.
//!
//! Ground rules: a [`Handle`] may be cloned and used from any thread to spawn
//! tasks. The thread-local "current" handle is set only by
//! [`Runtime::block_on`](super::Runtime::block_on) and [`Handle::enter`], and
//! restored by their guards in reverse order; it is what [`crate::spawn`]
//! uses.

use crate::coop::Budgeted;
use crate::task::JoinHandle;
use ember_executor::blocking::{BlockingHandle, BlockingPool};
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// A shared handle to a [`Runtime`](super::Runtime): `Clone + Send + Sync`.
///
/// Use it to spawn tasks onto the runtime from other threads, or to enter
/// its context.
///
/// # Examples
///
/// ```
/// use ember::runtime::Handle;
///
/// ember::block_on(async {
///     let handle = Handle::current();
///     let task = std::thread::spawn(move || handle.spawn(async { 1 }))
///         .join()
///         .unwrap();
///     assert_eq!(task.await.unwrap(), 1);
/// });
/// ```
#[derive(Clone)]
pub struct Handle {
    /// Carries the runtime's blocking pool too.
    scheduler: ember_executor::Handle,
    reactor: ember_reactor::Handle,
}

impl Handle {
    /// The handle of a runtime being built: gives the scheduler its
    /// blocking pool, and sends the reactor's blocking work there.
    pub(super) fn new(
        scheduler: ember_executor::Handle,
        reactor: ember_reactor::Handle,
        blocking: &BlockingPool,
    ) -> Self {
        // A fresh scheduler has no pool yet, so this cannot be refused.
        let _ = scheduler.set_blocking_pool(blocking.handle());
        let handle = Handle::from_parts(scheduler, reactor);
        handle.install_blocking_offload(blocking.handle());
        handle
    }

    /// A runtime's handle from its scheduler's (which carries the blocking
    /// pool) and its reactor's.
    pub(crate) fn from_parts(
        scheduler: ember_executor::Handle,
        reactor: ember_reactor::Handle,
    ) -> Self {
        Handle { scheduler, reactor }
    }

    /// Sends the reactor's blocking work (name lookups) to the blocking
    /// pool. The closure holds the pool's handle only: holding the
    /// scheduler's would make a cycle through the reactor's unparker.
    fn install_blocking_offload(&self, blocking: BlockingHandle) {
        ember_reactor::__private::set_blocking_offload(
            &self.reactor,
            Arc::new(move |work: Box<dyn FnOnce() + Send>| {
                // Detached: the work reports back through its own channel.
                drop(blocking.spawn_blocking(work));
            }),
        );
    }

    /// The handle of the runtime this thread is running or has entered.
    ///
    /// # Panics
    ///
    /// Outside a runtime; see [`Handle::try_current`].
    ///
    /// # Examples
    ///
    /// ```
    /// ember::block_on(async {
    ///     let handle = ember::runtime::Handle::current();
    ///     handle.spawn(async {}).await.unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        Handle::with_current(Handle::clone)
    }

    /// The handle of the runtime this thread is running or has entered, if
    /// any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(ember::runtime::Handle::try_current().is_none());
    /// ember::block_on(async {
    ///     assert!(ember::runtime::Handle::try_current().is_some());
    /// });
    /// ```
    pub fn try_current() -> Option<Handle> {
        CURRENT.with(|current| current.borrow().clone())
    }

    /// Runs `f` on the current handle without cloning it.
    #[track_caller]
    pub(crate) fn with_current<R>(f: impl FnOnce(&Handle) -> R) -> R {
        CURRENT.with(|current| match &*current.borrow() {
            Some(handle) => f(handle),
            None => panic!("{}", ember_executor::__private::NO_RUNTIME),
        })
    }

    /// Spawns a `Send` future onto the runtime, from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Runtime::new()?;
    /// let task = rt.handle().spawn(async { "hi" });
    /// assert_eq!(rt.block_on(task).unwrap(), "hi");
    /// # std::io::Result::Ok(())
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.scheduler.spawn(Budgeted::new(future))
    }

    /// Runs a blocking closure on the runtime's blocking pool, from any
    /// thread; the runtime's context is entered there, so the closure may
    /// spawn tasks and use [`Handle::current`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Runtime::new()?;
    /// let task = rt.handle().spawn_blocking(|| std::fs::metadata("."));
    /// assert!(rt.block_on(task).unwrap()?.is_dir());
    /// # std::io::Result::Ok(())
    /// ```
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let handle = self.clone();
        self.scheduler.spawn_blocking(move || {
            let _enter = handle.enter();
            f()
        })
    }

    /// Makes this runtime the current one on this thread until the guard is
    /// dropped: [`crate::spawn`], timers and sockets then use it.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Runtime::new()?;
    /// let handle = rt.handle().clone();
    /// let task = {
    ///     let _guard = handle.enter();
    ///     ember::spawn(async { 3 })
    /// };
    /// assert_eq!(rt.block_on(task).unwrap(), 3);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        let previous = CURRENT.with(|current| current.borrow_mut().replace(self.clone()));
        EnterGuard {
            _timer: self.reactor.timer().enter(),
            _reactor: self.reactor.enter(),
            _scheduler: self.scheduler.enter(),
            previous,
            _handle: PhantomData,
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Keeps a runtime entered on this thread; see [`Handle::enter`].
///
/// Not `Send`: it must be dropped on the thread that entered.
#[must_use = "the runtime is entered only while the guard lives"]
pub struct EnterGuard<'a> {
    _scheduler: ember_executor::EnterGuard<'a>,
    _reactor: ember_reactor::EnterGuard,
    _timer: ember_timer::EnterGuard,
    previous: Option<Handle>,
    _handle: PhantomData<&'a Handle>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|current| *current.borrow_mut() = previous);
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
