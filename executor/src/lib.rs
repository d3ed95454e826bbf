//! ember's task executor: tasks, run queues and `block_on` with a park hook.
//!
//! This crate owns everything about *running* futures and nothing about *waiting* for the
//! outside world. A task is one [async-task](https://docs.rs/async-task) allocation holding
//! the future, its output slot and a little metadata: its process-unique [`task::Id`], the
//! abort request, and its owner (the scheduler that spawned it and where that scheduler
//! recorded it). Two schedulers run tasks:
//!
//! - [`CurrentThread`] runs them on the thread that calls [`CurrentThread::block_on`]. A wake
//!   on that thread (the common case: a task waking another, or the reactor dispatching
//!   events while parked) pushes the task onto a plain `VecDeque` behind a `RefCell`; no lock,
//!   no atomic. A wake or spawn from any other thread goes through a mutex-protected
//!   injection queue and then [`Unpark::unpark`]. `block_on` alternates between the future it
//!   was given (polled only when its waker fired) and batches of tasks.
//! - [`MultiThread`] runs them on [`Worker`]s, one per thread, that steal work from each
//!   other. Each worker has a bounded lock-free ring of 256 tasks plus a LIFO slot for the
//!   task it just woke or spawned; work from outside the workers goes through an injection
//!   queue, and exactly one parked worker is woken for it. Idle workers steal half of a busy
//!   worker's ring; at most half of them search at once. `spawn_local` on a worker pins the
//!   task to that worker. [`block_in_place`] on a worker lends the worker (queues and park) to
//!   a stand-in thread while the calling thread blocks.
//!
//! Both call `park(Some(ZERO))` after 61 task polls without a park so the park hook can
//! check for I/O and timers even under load, and `park(None)` with nothing to do. The
//! [`Park`]/[`Unpark`] pair is the only link to a reactor: the `ember` facade implements
//! them with its reactor, while the standalone [`block_on`] here uses `std::thread::park`.
//!
//! Tasks are isolated: a panic inside a task is caught and delivered through its
//! [`JoinHandle`] as a [`JoinError`](task::JoinError); an abort drops the task's future at its
//! next poll. Every scheduler records each task it spawns in a live-task set, at spawn, and
//! the task removes itself when its future is gone; shutting a scheduler down wakes and
//! cancels every task still alive exactly once, including pending tasks whose wakers are held
//! elsewhere.
//!
//! Each thread has one executor context (a single thread-local): the runtime
//! [`Handle::current`] finds, the scheduler the thread drives (for [`spawn_local`] and the
//! lock-free local wake), the task being polled ([`task::id`]). A scheduler's `block_on` or
//! worker loop enters it; [`Handle::enter`] enters a runtime without running it. Outside a
//! runtime, every function that needs one panics with the same message ("there is no ember
//! runtime on this thread: ...").
//!
//! Around the schedulers: [`JoinSet`] (a set of tasks joined in the order they finish),
//! task-local storage ([`task_local!`], [`task::LocalKey`]) and the [`blocking`] pool.
//!
//! ```
//! let sum = ember_executor::block_on(async {
//!     let tasks: Vec<_> = (0..10u64)
//!         .map(|i| ember_executor::spawn_local(async move { i * i }))
//!         .collect();
//!     let mut sum = 0;
//!     for task in tasks {
//!         sum += task.await.unwrap();
//!     }
//!     sum
//! });
//! assert_eq!(sum, 285);
//! ```
//!
//! Unsafe code is confined to `task/raw.rs` (two calls to `async_task::Builder::spawn_unchecked`,
//! so that each task's future can borrow its own metadata), to the multi-thread scheduler's
//! ring (`multi_thread/queue.rs`: moving tasks in and out of its slots), to its hand-off
//! (`multi_thread/handoff.rs`: a worker's `!Send` core and borrowed park lent to a stand-in
//! thread for a `block_in_place`) and to `context.rs` (casting the thread's erased scheduler
//! core back to the type recorded with it, which keeps an indirect call off every local wake),
//! each argued by a `SAFETY` comment. The ring, the injection queue, the idle-worker
//! bookkeeping, the hand-off and the live-task sets are model-checked with
//! [loom](https://docs.rs/loom) (`RUSTFLAGS="--cfg loom" cargo test --lib loom`).
//!
//! Module layering (no cycles): `context` (the thread-local) and `owned` (the live-task sets
//! and the shutdown drain) at the bottom, importing nothing of the crate but the loom shim;
//! then `task` (allocation, handles, ids, task-locals); `blocking`; the two schedulers, which
//! never import each other nor `handle`; and at the top `handle`, `block_in_place` and
//! `join_set`, the modules that know every flavor or spawn.

#![deny(unsafe_code)]

mod block_in_place;
pub mod blocking;
mod context;
mod current_thread;
mod handle;
pub mod join_set;
mod loom;
mod multi_thread;
mod owned;
mod park;
pub mod task;

use std::future::Future;
use std::sync::Arc;

pub use block_in_place::block_in_place;
pub use current_thread::CurrentThread;
pub use handle::{EnterGuard, Handle};
pub use multi_thread::{MultiThread, Worker};
pub use park::{Park, Unpark};
pub use task::JoinHandle;

/// A set of tasks joined in the order they finish, spawning with this crate's scheduler:
/// [`join_set::JoinSet`] with the [`DirectSpawner`](join_set::DirectSpawner). See there for
/// the methods.
///
/// # Examples
///
/// ```
/// ember_executor::block_on(async {
///     let mut set = ember_executor::JoinSet::new();
///     set.spawn(async { "one" });
///     assert_eq!(set.join_next().await.unwrap().unwrap(), "one");
/// });
/// ```
pub type JoinSet<T> = join_set::JoinSet<T, join_set::DirectSpawner>;

/// Internals the workspace's other crates share. Not public API: no semver guarantee, may
/// change in any release.
#[doc(hidden)]
pub mod __private {
    /// The message of every "not inside a runtime" panic, for the facade's tests.
    pub use crate::context::NO_RUNTIME;

    /// [`block_in_place`](crate::block_in_place), with `enter` run around the worker loop on
    /// the stand-in thread: the facade enters its runtime (reactor, timers) there, so that the
    /// tasks the stand-in polls find it.
    #[track_caller]
    pub fn block_in_place_entering<F, R>(
        f: F,
        enter: impl FnOnce(&mut dyn FnMut()) + Send + 'static,
    ) -> R
    where
        F: FnOnce() -> R,
    {
        crate::block_in_place::block_in_place_entering(f, Box::new(enter))
    }
}

/// Runs a future to completion on this thread, with a fresh [`CurrentThread`] scheduler and
/// a thread-parking [`Park`] (no reactor). Tasks still pending when it returns are cancelled.
///
/// # Examples
///
/// ```
/// assert_eq!(ember_executor::block_on(async { 1 + 1 }), 2);
/// ```
///
/// # Panics
///
/// If called inside another `block_on` on this thread, or if `f` panics.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let scheduler = CurrentThread::new(Arc::new(park::ThreadUnpark::current()));
    scheduler.block_on(f, &mut park::ThreadPark)
}

/// Spawns a `!Send` future onto the scheduler running on this thread: the current-thread
/// scheduler in `block_on`, or, on a [`MultiThread`] worker, that worker (the task is pinned
/// to it and never stolen).
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// let n = ember_executor::block_on(async {
///     let rc = Rc::new(21);
///     ember_executor::spawn_local(async move { *rc * 2 }).await.unwrap()
/// });
/// assert_eq!(n, 42);
/// ```
///
/// # Panics
///
/// Outside a runtime, with the executor's one "there is no ember runtime on this thread: ..."
/// message. On a thread that only entered a runtime ([`Handle::enter`]) without running it,
/// and on the thread running [`MultiThread::block_on`] (its tasks run on the workers, not
/// there).
#[track_caller]
pub fn spawn_local<F>(f: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // The core is cloned out of the context so that spawning runs with no borrow held.
    let driving = context::with_running(|running| {
        running.map(|r| {
            (
                r.has_core(),
                r.core_rc::<current_thread::Core>(),
                r.core_rc::<multi_thread::WorkerCore>(),
            )
        })
    })
    .flatten();
    match driving {
        Some((_, Some(core), _)) => core.spawn_local(f),
        Some((_, _, Some(core))) => core.spawn_local(f),
        Some((true, None, None)) => {
            unreachable!("a running core is a current-thread core or a worker's")
        }
        Some((false, ..)) => panic!(
            "spawn_local cannot be called on the thread running MultiThread::block_on: its \
             tasks run on the worker threads; call it from inside a task, or use spawn"
        ),
        None if context::in_runtime() => panic!(
            "spawn_local needs the runtime's scheduler running on this thread, and this thread \
             only entered the runtime (Handle::enter or Runtime::enter): call it from inside \
             block_on or a task, or use spawn"
        ),
        None => panic!("{}", context::NO_RUNTIME),
    }
}
