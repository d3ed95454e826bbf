//! [`Id`]: a task's process-unique identity, and [`id`]/[`try_id`] for the task being polled.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

use super::raw::TaskRunnable;
use crate::context::{self, Context};

/// Identifies a task, unique among all the tasks of the process, for its whole life.
///
/// Ids are handed out in spawn order from one process-wide counter, starting at 1, and are
/// never reused. Get one from [`JoinHandle::id`](super::JoinHandle::id),
/// [`AbortHandle::id`](super::AbortHandle::id), or, inside the task, from [`id`].
///
/// # Examples
///
/// ```
/// ember_executor::block_on(async {
///     let handle = ember_executor::spawn_local(async { ember_executor::task::id() });
///     let id = handle.id();
///     assert_eq!(handle.await.unwrap(), id);
///     println!("task {id} finished"); // `Display` prints the number
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Id(NonZeroU64);

impl Id {
    /// The next id from the process-wide counter.
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        // Relaxed: only uniqueness matters, and each value is handed out once.
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        // 2^64 spawns would take centuries; wrapping to 0 is not a case to handle.
        Id(NonZeroU64::new(id).unwrap_or(NonZeroU64::MAX))
    }

    pub(crate) fn as_raw(self) -> NonZeroU64 {
        self.0
    }

    pub(crate) fn from_raw(raw: NonZeroU64) -> Id {
        Id(raw)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The id of the task being polled on this thread.
///
/// # Examples
///
/// ```
/// ember_executor::block_on(async {
///     let task = ember_executor::spawn_local(async { ember_executor::task::id() });
///     assert_eq!(task.id(), task.await.unwrap());
/// });
/// ```
///
/// # Panics
///
/// Outside a task: with the executor's "there is no ember runtime on this thread: ..." message
/// where no runtime is running or entered, and with "task::id called outside a task" inside
/// one (the future given to `block_on` is not a task). [`try_id`] returns `None` instead.
#[track_caller]
pub fn id() -> Id {
    match try_id() {
        Some(id) => id,
        None if context::in_runtime() => panic!(
            "task::id called outside a task: the future given to block_on is not a task \
             (spawn one, or use task::try_id)"
        ),
        None => panic!("{}", context::NO_RUNTIME),
    }
}

/// The id of the task being polled on this thread, or `None` outside a task.
///
/// # Examples
///
/// ```
/// assert!(ember_executor::task::try_id().is_none());
/// ember_executor::block_on(async {
///     // The block_on future itself is not a task.
///     assert!(ember_executor::task::try_id().is_none());
///     let inner = ember_executor::spawn_local(async { ember_executor::task::try_id() });
///     assert!(inner.await.unwrap().is_some());
/// });
/// ```
pub fn try_id() -> Option<Id> {
    context::current_task().map(Id::from_raw)
}

/// Polls `runnable`'s task with its id as this thread's current task (what [`id`] reads).
/// A scheduler's run loop calls this with the context it holds for the whole loop, so the
/// bookkeeping is two plain stores, not thread-local lookups.
#[inline]
pub(crate) fn run_current(cx: &Context, runnable: TaskRunnable) {
    let previous = cx.set_task(Some(runnable.metadata().id().as_raw()));
    // Never unwinds: `TaskFuture` catches the task's panics (and async-task aborts on a
    // panicking waker), so the previous id is always restored.
    runnable.run();
    cx.set_task(previous);
}
