//! The shared, thread-safe handle to a runtime.
//!
//! # Ground rules
//!
//! The facade keeps no thread-local of its own. A runtime is current on a
//! thread when both of its halves are: the executor's context holds its
//! scheduler's handle (which carries the blocking pool), the reactor's
//! driver context its reactor's (which carries the timer, the signal pipe
//! and the coop budget). [`Handle::enter`], and
//! [`Runtime::block_on`](super::Runtime::block_on) through it, enters both
//! and returns one guard, which leaves both in reverse order. Lookups use
//! each context's `try_with`, so during thread teardown there is simply no
//! runtime, never a panic from a destroyed thread-local.

use crate::coop::Budgeted;
use crate::task::JoinHandle;
use ember_executor::blocking::{BlockingHandle, BlockingPool};
use std::fmt;
use std::future::Future;
use std::sync::Arc;

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
    /// Outside a runtime (see [`Handle::try_current`]), with the one message
    /// every ember crate gives: "there is no ember runtime on this thread:
    /// start one with `ember::block_on`, `Runtime::block_on` or
    /// `#[ember::main]`, or enter one with `Runtime::enter` or
    /// `Handle::enter`".
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
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!("{}", ember_reactor::__private::NO_RUNTIME),
        }
    }

    /// The handle of the runtime this thread is running or has entered, if
    /// any: its scheduler from the executor's context and its reactor from
    /// the reactor's, both or none. `None` during thread teardown too.
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
        let scheduler = ember_executor::Handle::try_current()?;
        let reactor = ember_reactor::Handle::try_current()?;
        Some(Handle::from_parts(scheduler, reactor))
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
        spawn_blocking_on(&self.scheduler, Some(self.reactor.clone()), f)
    }

    /// Makes this runtime the current one on this thread until the guard is
    /// dropped: [`crate::spawn`], timers and sockets then use it. One guard
    /// enters both halves of the runtime (see the module's ground rules);
    /// dropping it restores what was current before, so guards nest. Drop
    /// them in reverse order.
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
        let scheduler = self.scheduler.enter();
        EnterGuard {
            _reactor: self.reactor.enter(),
            _scheduler: scheduler,
        }
    }
}

/// Runs `f` on `scheduler`'s blocking pool; the executor enters its handle
/// there, and this enters `reactor`, so that the closure is inside the whole
/// runtime.
#[track_caller]
pub(crate) fn spawn_blocking_on<F, R>(
    scheduler: &ember_executor::Handle,
    reactor: Option<ember_reactor::Handle>,
    f: F,
) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    scheduler.spawn_blocking(move || {
        let _reactor = reactor.as_ref().map(ember_reactor::Handle::enter);
        f()
    })
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Keeps a runtime entered on this thread; see [`Handle::enter`].
///
/// Not `Send`: it must be dropped on the thread that entered.
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<ember::runtime::EnterGuard<'static>>();
/// ```
#[must_use = "the runtime is entered only while the guard lives"]
pub struct EnterGuard<'a> {
    // Fields drop in declaration order: the reactor's guard, entered last,
    // leaves first.
    _reactor: ember_reactor::EnterGuard,
    _scheduler: ember_executor::EnterGuard<'a>,
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
