//! Tasks: spawning, joining, cancelling and yielding.
//!
//! A task is a future the runtime polls on its own. [`spawn`] takes `Send`
//! futures, [`spawn_local`] takes futures that must stay on this thread.
//! Both return a [`JoinHandle`]: await it for the output, drop it to detach
//! the task, or [`JoinHandle::abort`] it. A panic inside a task is caught and
//! comes back as a [`JoinError`]; it never takes the runtime down.

pub use ember_executor::task::{yield_now, AbortHandle, JoinError, JoinHandle};

use crate::coop::Budgeted;
use crate::runtime::spawn_blocking_on;
use std::future::Future;

/// Spawns a `Send` future onto the current runtime (the one whose scheduler
/// this thread runs or has entered).
///
/// # Panics
///
/// Outside a runtime, with "there is no ember runtime on this thread: start
/// one with `ember::block_on`, `Runtime::block_on` or `#[ember::main]`, or
/// enter one with `Runtime::enter` or `Handle::enter`" (see
/// [`crate::block_on`], [`crate::Runtime::block_on`],
/// [`crate::Runtime::enter`] and [`crate::runtime::Handle::enter`]).
///
/// # Examples
///
/// ```
/// ember::block_on(async {
///     let handle = ember::spawn(async { "done" });
///     assert_eq!(handle.await.unwrap(), "done");
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    ember_executor::Handle::current().spawn(Budgeted::new(future))
}

/// Runs a blocking closure on the current runtime's blocking pool and
/// returns a handle to await its result.
///
/// Use it for work that has no readiness API and would stall every task on
/// the runtime's thread: file I/O, CPU-heavy computation, blocking C
/// libraries. Threads are started on demand up to
/// [`crate::runtime::Builder::max_blocking_threads`] and exit after
/// [`crate::runtime::Builder::thread_keep_alive`] idle. Aborting the handle
/// cancels a closure that has not started; one that has started runs to
/// its end.
///
/// # Panics
///
/// Outside a runtime (see [`spawn`]).
///
/// # Examples
///
/// ```
/// ember::block_on(async {
///     let sum = ember::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap();
///     assert_eq!(sum, 5050);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    spawn_blocking_on(
        &ember_executor::Handle::current(),
        ember_reactor::Handle::try_current(),
        f,
    )
}

/// Spawns a future that is not `Send` onto the current thread's runtime.
///
/// The task runs on this thread only, so it may hold `Rc`s and `RefCell`s
/// across `.await`s.
///
/// # Panics
///
/// Outside a runtime, with the same message as [`spawn`]. On a thread that
/// only entered a runtime ([`crate::runtime::Handle::enter`]) without
/// running it, or that runs a multi-thread runtime's
/// [`block_on`](crate::Runtime::block_on) (its tasks run on the workers),
/// with a message that says so: call it from inside
/// [`crate::Runtime::block_on`] (or [`crate::block_on`], `#[ember::main]`)
/// or a task.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// ember::block_on(async {
///     let shared = Rc::new(5);
///     let local = Rc::clone(&shared);
///     let handle = ember::spawn_local(async move { *local + 1 });
///     assert_eq!(handle.await.unwrap(), 6);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    ember_executor::spawn_local(Budgeted::new(future))
}
