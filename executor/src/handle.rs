//! [`Handle`]: the `Send + Sync` way to reach a scheduler from anywhere.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::context;
use crate::current_thread::Shared;
use crate::task::raw;
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
    shared: Arc<Shared>,
}

const NO_RUNTIME: &str = "must be called from the context of an ember runtime: start one with \
    ember::block_on, Runtime::block_on or #[ember::main]";

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// Spawns a `Send` task onto the scheduler, from any thread; unparks the scheduler's thread
    /// when called from elsewhere. If the scheduler was already dropped, the task is cancelled
    /// at once (its `JoinHandle` gives a cancelled [`JoinError`](crate::task::JoinError)).
    pub fn spawn<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, handle) = raw::spawn(f, self.shared.schedule_fn());
        self.shared.schedule(runnable);
        handle
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
        context::with_core(|core| Handle::new(core.shared().clone()))
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}
