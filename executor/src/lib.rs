//! ember's task executor: tasks, run queues and `block_on` with a park hook.
//!
//! This crate owns everything about *running* futures and nothing about *waiting* for the
//! outside world. A task is one [async-task](https://docs.rs/async-task) allocation holding
//! the future, its output slot and a little metadata (the abort request). Two schedulers run
//! tasks:
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
//!   task to that worker.
//!
//! Both call `park(Some(ZERO))` after 61 task polls without a park so the park hook can
//! check for I/O and timers even under load, and `park(None)` with nothing to do. The
//! [`Park`]/[`Unpark`] pair is the only link to a reactor: the `ember` facade implements
//! them with its reactor, while the standalone [`block_on`] here uses `std::thread::park`.
//!
//! Tasks are isolated: a panic inside a task is caught and delivered through its
//! [`JoinHandle`] as a [`JoinError`](task::JoinError); an abort drops the task's future at its
//! next poll. Shutting a scheduler down cancels every task still alive exactly once,
//! including pending tasks whose wakers are held elsewhere.
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
//! so that each task's future can borrow its own metadata) and to the multi-thread scheduler's
//! ring (`multi_thread/queue.rs`: moving tasks in and out of its slots), each argued by a
//! `SAFETY` comment. The ring, the injection queue and the idle-worker bookkeeping are
//! model-checked with [loom](https://docs.rs/loom) (`RUSTFLAGS="--cfg loom" cargo test --lib loom`).

#![deny(unsafe_code)]

pub mod blocking;
mod context;
mod current_thread;
mod handle;
mod loom;
mod multi_thread;
mod park;
pub mod task;

use std::future::Future;
use std::sync::Arc;

pub use current_thread::CurrentThread;
pub use handle::Handle;
pub use multi_thread::{MultiThread, Worker};
pub use park::{Park, Unpark};
pub use task::JoinHandle;

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
/// Outside a `block_on` or a worker: "must be called from the context of an ember runtime: ...".
/// On the thread running [`MultiThread::block_on`] (its tasks run on the workers, not there).
#[track_caller]
pub fn spawn_local<F>(f: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let mut f = Some(f);
    let spawned = context::with_current(|current| match current {
        context::Current::Thread(core) => Some(core.spawn_local(f.take().expect("called once"))),
        context::Current::Worker(core) => Some(core.spawn_local(f.take().expect("called once"))),
        context::Current::Remote(_) => None,
    });
    match spawned {
        Some(Some(handle)) => handle,
        Some(None) => panic!(
            "spawn_local cannot be called on the thread running MultiThread::block_on: its \
             tasks run on the worker threads; call it from inside a task, or use spawn"
        ),
        None => panic!(
            "spawn_local must be called from the context of an ember runtime: start one with \
             ember::block_on, Runtime::block_on or #[ember::main]"
        ),
    }
}
