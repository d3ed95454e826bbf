//! ember's task executor: tasks, run queues and `block_on` with a park hook.
//!
//! This crate owns everything about *running* futures and nothing about *waiting* for the
//! outside world. A task is one [async-task](https://docs.rs/async-task) allocation holding
//! the future, its output slot and a little metadata (the abort request). The scheduler,
//! [`CurrentThread`], runs tasks on the thread that calls [`CurrentThread::block_on`]:
//!
//! - A wake on that thread (the common case: a task waking another, or the reactor
//!   dispatching events while parked) pushes the task onto a plain `VecDeque` behind a
//!   `RefCell`; no lock, no atomic. A wake or spawn from any other thread goes through a
//!   mutex-protected injection queue and then [`Unpark::unpark`].
//! - `block_on` alternates between the future it was given (polled only when its waker
//!   fired) and batches of tasks. Every 61 task polls it calls `park(Some(ZERO))` so the park
//!   hook can check for I/O and timers even under load; with nothing to do it calls
//!   `park(None)`. The [`Park`]/[`Unpark`] pair is the only link to a reactor: the `ember`
//!   facade implements them with its reactor, while the standalone [`block_on`] here uses
//!   `std::thread::park`.
//! - Tasks are isolated: a panic inside a task is caught and delivered through its
//!   [`JoinHandle`] as a [`JoinError`](task::JoinError); an abort drops the task's future at
//!   its next poll. Dropping the scheduler cancels every task still alive exactly once,
//!   including pending tasks whose wakers are held elsewhere.
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
//! so that each task's future can borrow its own metadata), each argued by a `SAFETY` comment.

#![deny(unsafe_code)]

pub mod blocking;
mod context;
mod current_thread;
mod handle;
mod park;
pub mod task;

use std::future::Future;
use std::sync::Arc;

pub use current_thread::CurrentThread;
pub use handle::Handle;
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

/// Spawns a `!Send` future onto the scheduler running on this thread.
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
/// Outside a `block_on`: "must be called from the context of an ember runtime: ...".
#[track_caller]
pub fn spawn_local<F>(f: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let mut f = Some(f);
    match context::with_core(|core| core.spawn_local(f.take().expect("called once"))) {
        Some(handle) => handle,
        None => panic!(
            "spawn_local must be called from the context of an ember runtime: start one with \
             ember::block_on, Runtime::block_on or #[ember::main]"
        ),
    }
}
