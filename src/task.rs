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
use crate::runtime::Handle;
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

pub use ember_executor::join_set::Spawner;
pub use ember_executor::task::{AccessError, LocalKey, TaskLocalFuture};

/// A set of tasks on ember's runtime, awaited in the order they finish.
///
/// This is the executor's [`JoinSet`](ember_executor::join_set::JoinSet)
/// with [`RuntimeSpawner`]: tasks spawned through it run on the current
/// runtime and get a cooperative I/O budget per poll, exactly like
/// [`spawn`]'s. Dropping the set aborts every task still in it.
///
/// # Examples
///
/// ```
/// use ember::task::JoinSet;
///
/// ember::block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..5u32 {
///         set.spawn(async move { i * 2 });
///     }
///     let mut sum = 0;
///     while let Some(result) = set.join_next().await {
///         sum += result.unwrap();
///     }
///     assert_eq!(sum, 20);
/// });
/// ```
pub type JoinSet<T> = ember_executor::join_set::JoinSet<T, RuntimeSpawner>;

/// How ember's [`JoinSet`] spawns: [`spawn`], [`Handle::spawn`],
/// [`spawn_local`], [`spawn_blocking`] and [`Handle::spawn_blocking`] of
/// this crate, so each task gets the same cooperative budget as theirs.
///
/// # Examples
///
/// ```
/// use ember::task::{RuntimeSpawner, Spawner};
///
/// ember::block_on(async {
///     let task = RuntimeSpawner::spawn(async { 1 });
///     assert_eq!(task.await.unwrap(), 1);
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RuntimeSpawner;

impl Spawner for RuntimeSpawner {
    type Handle = Handle;

    #[track_caller]
    fn spawn<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn(future)
    }

    fn spawn_on<F>(future: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.spawn(future)
    }

    #[track_caller]
    fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_local(future)
    }

    #[track_caller]
    fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        spawn_blocking(f)
    }

    fn spawn_blocking_on<F, R>(f: F, handle: &Handle) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        handle.spawn_blocking(f)
    }
}

/// Runs the blocking closure `f` on this thread while the runtime's other
/// tasks keep running.
///
/// On a multi-thread runtime's worker, the worker's queues and its turn at
/// the reactor move to a stand-in thread (from the blocking pool) for as
/// long as `f` runs, then come back; the task that called it then carries
/// on. Tasks pinned to the worker with [`spawn_local`] wait until then.
/// Elsewhere (the thread in [`crate::Runtime::block_on`] of a multi-thread
/// runtime, a [`spawn_blocking`] closure, outside any runtime) it just runs
/// `f`. While `f` runs this thread drives no scheduler, so `f` may itself
/// [`block_on`](crate::Runtime::block_on) a future.
///
/// Prefer [`spawn_blocking`] when the blocking code can move to another
/// thread; `block_in_place` is for code that borrows from the task or is
/// not `Send`.
///
/// # Examples
///
/// ```
/// let rt = ember::Builder::new_multi_thread().worker_threads(1).build()?;
/// let got = rt.block_on(async {
///     ember::spawn(async {
///         let (tx, rx) = std::sync::mpsc::channel();
///         // Runs on the stand-in while the only worker's thread blocks below.
///         ember::spawn(async move { tx.send("from the stand-in").unwrap() });
///         ember::task::block_in_place(|| rx.recv().unwrap())
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(got, "from the stand-in");
/// # std::io::Result::Ok(())
/// ```
///
/// # Panics
///
/// On a current-thread runtime ("block_in_place can only be used on a
/// multi-thread runtime: ..."), where every other task would stall. A panic
/// of `f` propagates, after the worker was taken back.
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    // The stand-in polls this runtime's tasks: it enters the runtime (reactor,
    // timers) as the worker's thread did.
    let handle = Handle::try_current();
    ember_executor::__private::block_in_place_entering(f, move |run: &mut dyn FnMut()| {
        let _enter = handle.as_ref().map(Handle::enter);
        run();
    })
}

#[doc(hidden)]
pub use ember_executor::task_local as __task_local;

/// Declares task-local keys ([`task::LocalKey`](crate::task::LocalKey)):
/// a value per future, set with `scope` and read with `with`/`get`, that
/// follows the future across `.await` points and threads.
///
/// # Examples
///
/// ```
/// ember::task_local! {
///     static REQUEST: u32;
/// }
///
/// ember::block_on(REQUEST.scope(7, async {
///     let inner = ember::spawn(REQUEST.scope(8, async { REQUEST.get() }));
///     ember::task::yield_now().await;
///     assert_eq!(REQUEST.get(), 7);
///     assert_eq!(inner.await.unwrap(), 8);
/// }));
/// ```
#[macro_export]
macro_rules! task_local {
    ($($tokens:tt)*) => {
        $crate::task::__task_local! { $($tokens)* }
    };
}
