//! Cooperative scheduling budget: a task that keeps finding I/O ready yields.
//!
//! Each task poll runs inside [`budget`], which gives the thread a fresh
//! budget of [`BUDGET`] units. Every time a reactor resource reports
//! readiness ([`Registration::poll_ready`](crate::Registration::poll_ready))
//! it spends one unit through [`poll_proceed`]; once the budget is spent the
//! resource wakes the task and returns `Pending`, so the task goes to the
//! back of the run queue and the other tasks (and the reactor) get a turn. A
//! socket that is always readable therefore cannot starve its neighbours.
//!
//! Outside of `budget` (for example code driven by a foreign executor) the
//! thread is unconstrained and `poll_proceed` always succeeds.

use std::task::{Context, Poll};

use crate::context;

/// Units of work a task may do per poll before it is made to yield.
pub const BUDGET: u8 = 128;

/// Restores the enclosing budget when `budget` returns or unwinds.
struct ResetGuard(Option<u8>);

impl Drop for ResetGuard {
    fn drop(&mut self) {
        let previous = self.0;
        context::with(|c| c.budget.set(previous));
    }
}

/// Run `f` with a fresh budget of [`BUDGET`] units, restoring the previous
/// budget afterwards (also on panic).
///
/// The runtime wraps every task poll in this.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::task::{Context, Wake, Waker};
/// use ember_reactor::__private::coop;
///
/// struct Noop;
/// impl Wake for Noop {
///     fn wake(self: Arc<Self>) {}
/// }
/// let waker = Waker::from(Arc::new(Noop));
/// let mut cx = Context::from_waker(&waker);
/// let spent = coop::budget(|| {
///     let mut n = 0;
///     while coop::poll_proceed(&mut cx).is_ready() {
///         n += 1;
///     }
///     n
/// });
/// assert_eq!(spent, coop::BUDGET as usize);
/// ```
pub fn budget<R>(f: impl FnOnce() -> R) -> R {
    let previous = context::with(|c| c.budget.replace(Some(BUDGET))).flatten();
    let _reset = ResetGuard(previous);
    f()
}

/// Spend one unit of the current task's budget.
///
/// Returns `Ready(())` if budget remained (or if the thread is not inside
/// [`budget`]); otherwise wakes `cx` and returns `Pending`, asking the caller
/// to yield.
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    // One thread-local access on the hot path: read and spend in the same closure.
    let spent = context::with(|c| match c.budget.get() {
        Some(0) => true,
        Some(n) => {
            c.budget.set(Some(n - 1));
            false
        }
        None => false,
    })
    .unwrap_or(false);
    if spent {
        cx.waker().wake_by_ref();
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn unconstrained_outside_budget() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter);
        let mut cx = Context::from_waker(&waker);
        for _ in 0..1000 {
            assert!(poll_proceed(&mut cx).is_ready());
        }
    }

    #[test]
    fn exhaustion_wakes_and_returns_pending_then_restores() {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        budget(|| {
            for _ in 0..BUDGET {
                assert!(poll_proceed(&mut cx).is_ready());
            }
            assert!(poll_proceed(&mut cx).is_pending());
            assert_eq!(counter.0.load(Ordering::SeqCst), 1);
            // A nested budget is fresh, and the spent one comes back afterwards.
            budget(|| assert!(poll_proceed(&mut cx).is_ready()));
            assert!(poll_proceed(&mut cx).is_pending());
        });
        assert!(poll_proceed(&mut cx).is_ready());
    }
}
