//! Helpers shared by the timer's integration tests: a waker that counts its
//! wakes, a paused-clock driver advanced by hand, and a current timer for
//! the free functions (`sleep`, `Instant::now`, ...): the timer keeps no
//! thread-local, so the tests provide one, as a runtime does.

#![allow(dead_code, unreachable_pub)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use ember_timer::{Clock, Driver, Handle};

thread_local! {
    /// This test thread's current timer.
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// The test binary's context provider: shows the thread's [`CURRENT`].
fn provide(visit: &mut dyn FnMut(&Handle)) {
    let _ = CURRENT.try_with(|current| {
        if let Some(handle) = current.borrow().as_ref() {
            visit(handle);
        }
    });
}

/// Makes `handle` this thread's current timer until the guard drops, which
/// restores the previous one. Installs the provider on first use (once per
/// test binary: later calls are refused, and it is the same function).
pub fn enter(handle: &Handle) -> Entered {
    ember_timer::__private::set_context(provide);
    Entered(CURRENT.with(|current| current.replace(Some(handle.clone()))))
}

/// Restores the previous current timer when dropped; see [`enter`].
#[must_use]
pub struct Entered(Option<Handle>);

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _entered = CURRENT.try_with(|current| current.replace(previous));
    }
}

/// Counts how often it is woken.
#[derive(Default)]
pub struct CountWaker(pub AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker and the count of its wakes.
pub struct Counter {
    pub count: Arc<CountWaker>,
    pub waker: Waker,
}

impl Counter {
    pub fn new() -> Counter {
        let count = Arc::new(CountWaker::default());
        let waker = Waker::from(count.clone());
        Counter { count, waker }
    }

    pub fn wakes(&self) -> usize {
        self.count.0.load(Ordering::SeqCst)
    }

    pub fn cx(&self) -> Context<'_> {
        Context::from_waker(&self.waker)
    }
}

/// A driver on a paused clock.
pub fn paused() -> Driver {
    Driver::new(Clock::paused())
}

/// Advances the driver's clock by `d` and fires what is due: how many fired.
pub fn advance(driver: &mut Driver, d: Duration) -> usize {
    driver.handle().clock().advance(d);
    driver.process()
}

/// Polls `f` once with `counter`'s waker.
pub fn poll<F: Future + ?Sized>(f: Pin<&mut F>, counter: &Counter) -> Poll<F::Output> {
    f.poll(&mut counter.cx())
}

/// A waker that does nothing (`Waker::noop` needs Rust 1.85; MSRV is 1.80).
pub fn noop() -> Waker {
    Waker::from(Arc::new(CountWaker::default()))
}
