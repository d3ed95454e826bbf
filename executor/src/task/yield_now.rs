//! [`yield_now`]: let the other runnable tasks go first.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Reschedules the current task behind the tasks that are already runnable.
///
/// The first poll wakes the task and returns `Pending`; the scheduler puts a task woken while
/// it runs at the back of its queue, so everything queued before runs first.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// ember_executor::block_on(async {
///     let (a, b) = (log.clone(), log.clone());
///     let t1 = ember_executor::spawn_local(async move {
///         a.borrow_mut().push(1);
///         ember_executor::task::yield_now().await;
///         a.borrow_mut().push(3);
///     });
///     let t2 = ember_executor::spawn_local(async move { b.borrow_mut().push(2) });
///     t1.await.unwrap();
///     t2.await.unwrap();
/// });
/// assert_eq!(*log.borrow(), [1, 2, 3]);
/// ```
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
