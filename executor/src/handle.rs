//! [`Handle`]: the `Send + Sync` way to reach a scheduler from anywhere.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::context::{self, Current};
use crate::task::raw;
use crate::task::JoinHandle;
use crate::{current_thread, multi_thread};

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
    scheduler: Scheduler,
}

/// Which kind of scheduler a handle reaches.
#[derive(Clone)]
enum Scheduler {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

const NO_RUNTIME: &str = "must be called from the context of an ember runtime: start one with \
    ember::block_on, Runtime::block_on or #[ember::main]";

impl Handle {
    pub(crate) fn new(shared: Arc<current_thread::Shared>) -> Handle {
        Handle {
            scheduler: Scheduler::CurrentThread(shared),
        }
    }

    pub(crate) fn multi_thread(shared: Arc<multi_thread::Shared>) -> Handle {
        Handle {
            scheduler: Scheduler::MultiThread(shared),
        }
    }

    /// Spawns a `Send` task onto the scheduler, from any thread; unparks the scheduler's thread
    /// when called from elsewhere. On a multi-thread worker of the same scheduler the task goes
    /// to that worker's own queue (no lock); from elsewhere to the injection queue, and one
    /// parked worker is woken. If the scheduler was already shut down, the task is cancelled
    /// at once (its `JoinHandle` gives a cancelled [`JoinError`](crate::task::JoinError)).
    pub fn spawn<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.scheduler {
            Scheduler::CurrentThread(shared) => {
                let (runnable, handle) = raw::spawn(f, shared.schedule_fn());
                shared.schedule(runnable);
                handle
            }
            Scheduler::MultiThread(shared) => multi_thread::Shared::spawn(shared, f),
        }
    }

    /// The handle of the scheduler running on this thread.
    ///
    /// # Panics
    ///
    /// Outside a runtime, with the message `must be called from the context of an ember runtime:
    /// start one with ember::block_on, Runtime::block_on or #[ember::main]`.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!("{NO_RUNTIME}"),
        }
    }

    /// The handle of the scheduler running on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        context::with_current(|current| match current {
            Current::Thread(core) => Handle::new(core.shared().clone()),
            Current::Worker(core) => Handle::multi_thread(core.shared().clone()),
            Current::Remote(shared) => Handle::multi_thread(shared.clone()),
        })
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match self.scheduler {
            Scheduler::CurrentThread(_) => "current_thread",
            Scheduler::MultiThread(_) => "multi_thread",
        };
        f.debug_struct("Handle")
            .field("flavor", &flavor)
            .finish_non_exhaustive()
    }
}
