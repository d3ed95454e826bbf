//! Helpers shared by the integration tests: counting wakers and bounded
//! driver loops with `#[track_caller]` assertions.

#![allow(dead_code, unreachable_pub)]

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use ember_reactor::Driver;

/// A waker that counts how often it was woken.
pub struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Counter {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A counting waker and its counter.
pub fn counting_waker() -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

/// Most turns a test waits for something that is already on its way.
pub const MAX_TURNS: usize = 100;
/// Cap of one turn, so a lost event fails the test instead of hanging it.
pub const TURN_CAP: Duration = Duration::from_secs(5);

/// Turn `driver` until `done()` holds, at most [`MAX_TURNS`] bounded turns.
#[track_caller]
pub fn turn_until(driver: &mut Driver, what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..MAX_TURNS {
        if done() {
            return;
        }
        if let Err(e) = driver.turn(Some(TURN_CAP)) {
            panic!("turn failed while waiting for {what}: {e}");
        }
    }
    assert!(done(), "gave up waiting for {what}");
}

/// Poll `f` with `cx`, turning `driver` in between, until it is ready.
#[track_caller]
pub fn block_on_poll<T>(
    driver: &mut Driver,
    cx: &mut Context<'_>,
    what: &str,
    mut f: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> T {
    for _ in 0..MAX_TURNS {
        if let Poll::Ready(v) = f(cx) {
            return v;
        }
        if let Err(e) = driver.turn(Some(TURN_CAP)) {
            panic!("turn failed while waiting for {what}: {e}");
        }
    }
    panic!("gave up waiting for {what}");
}

/// Fill a non-blocking socket's send buffer until it would block.
pub fn fill(mut w: impl io::Write) -> io::Result<usize> {
    let chunk = [0u8; 16 * 1024];
    let mut total = 0;
    loop {
        match w.write(&chunk) {
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
            Err(e) => return Err(e),
        }
    }
}

/// Read everything currently available without blocking.
pub fn drain(mut r: impl io::Read) -> io::Result<usize> {
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0;
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
            Err(e) => return Err(e),
        }
    }
}
