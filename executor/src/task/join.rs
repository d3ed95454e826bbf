//! [`JoinHandle`] and [`AbortHandle`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use async_task::Task;

use super::raw::{AbortShared, Meta};
use super::{Id, JoinError};

/// An owned permission to await a task's output.
///
/// Awaiting it gives `Ok(value)`, or a [`JoinError`] if the task panicked or was cancelled.
/// Dropping it detaches the task: the task keeps running and its output is dropped.
///
/// # Examples
///
/// ```
/// let n = ember_executor::block_on(async {
///     let handle = ember_executor::spawn_local(async { 1 + 2 });
///     handle.await.unwrap()
/// });
/// assert_eq!(n, 3);
/// ```
///
/// # Panics
///
/// Polling it again after it returned `Ready` panics.
pub struct JoinHandle<T> {
    /// `None` only inside `drop`.
    task: Option<Task<Result<T, JoinError>, Meta>>,
    /// Wakes the task so it notices an abort request.
    waker: Waker,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: Task<Result<T, JoinError>, Meta>, waker: Waker) -> JoinHandle<T> {
        JoinHandle {
            task: Some(task),
            waker,
        }
    }

    fn task(&self) -> &Task<Result<T, JoinError>, Meta> {
        self.task
            .as_ref()
            .expect("JoinHandle used after it was dropped")
    }

    /// Cancels the task: at its next poll the task drops its future instead of polling it, and
    /// awaiting this handle then gives a [`JoinError`] for which
    /// [`is_cancelled`](JoinError::is_cancelled) is true. Has no effect if the task already
    /// finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = ember_executor::block_on(async {
    ///     let handle = ember_executor::spawn_local(std::future::pending::<()>());
    ///     handle.abort();
    ///     handle.await.unwrap_err()
    /// });
    /// assert!(err.is_cancelled());
    /// ```
    pub fn abort(&self) {
        self.task().metadata().request_abort();
        self.waker.wake_by_ref();
    }

    /// A handle that can abort the task without owning the output.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let handle = ember_executor::spawn_local(std::future::pending::<()>());
    ///     let abort = handle.abort_handle();
    ///     assert_eq!(abort.id(), handle.id());
    ///     abort.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        let meta = self.task().metadata();
        AbortHandle {
            shared: meta.abort_shared(),
            waker: self.waker.clone(),
            id: meta.id(),
        }
    }

    /// The task's [`Id`], the same as [`task::id`](super::id) returns inside it.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let a = ember_executor::spawn_local(async {});
    ///     let b = ember_executor::spawn_local(async {});
    ///     assert_ne!(a.id(), b.id());
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.task().metadata().id()
    }

    /// True once the task has finished: completed, panicked or been cancelled.
    pub fn is_finished(&self) -> bool {
        self.task().is_finished()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = self
            .task
            .as_mut()
            .expect("JoinHandle used after it was dropped");
        Pin::new(task).poll(cx)
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.task.as_ref().map(|t| t.metadata().id()))
            .field("finished", &self.task.as_ref().map(|t| t.is_finished()))
            .finish()
    }
}

/// Aborts a task without owning its output. `Clone + Send + Sync`.
///
/// # Examples
///
/// ```
/// let err = ember_executor::block_on(async {
///     let handle = ember_executor::spawn_local(std::future::pending::<()>());
///     let abort = handle.abort_handle();
///     std::thread::spawn(move || abort.abort()).join().unwrap();
///     handle.await.unwrap_err()
/// });
/// assert!(err.is_cancelled());
/// ```
#[derive(Clone)]
pub struct AbortHandle {
    shared: Arc<AbortShared>,
    waker: Waker,
    id: Id,
}

impl AbortHandle {
    /// Cancels the task, like [`JoinHandle::abort`].
    pub fn abort(&self) {
        self.shared.aborted.store(true, Ordering::Release);
        self.waker.wake_by_ref();
    }

    /// True once the task's future is gone: it completed, panicked or was cancelled.
    pub fn is_finished(&self) -> bool {
        self.shared.finished.load(Ordering::Acquire)
    }

    /// The task's [`Id`], as [`JoinHandle::id`] gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let handle = ember_executor::spawn_local(async {});
    ///     assert_eq!(handle.abort_handle().id(), handle.id());
    /// });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id)
            .field("finished", &self.is_finished())
            .finish()
    }
}
