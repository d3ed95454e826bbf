//! Helpers shared by the integration tests.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Upper bound for any single test: a hang fails instead of blocking CI.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `body` on a fresh thread and fails if it does not finish within the test bound.
/// Panics inside `body` are re-raised here.
#[track_caller]
pub fn bounded<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let r = body();
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(TEST_TIMEOUT) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("test did not finish within {TEST_TIMEOUT:?}")
        }
    }
}

/// Counts drops.
#[derive(Debug)]
pub struct DropGuard(pub Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

/// A one-shot channel that works across threads and runtimes.
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
    }));
    (Sender(slot.clone()), Receiver(slot))
}

pub struct Sender<T>(Arc<Mutex<Slot<T>>>);
pub struct Receiver<T>(Arc<Mutex<Slot<T>>>);

impl<T> Sender<T> {
    pub fn send(self, value: T) {
        let waker = {
            let mut slot = self.0.lock().unwrap();
            slot.value = Some(value);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.0.lock().unwrap();
        match slot.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A future that is pending until `release` is called, and that reports (once) the waker it
/// was first polled with through `on_first_poll`.
pub struct Gate {
    state: Arc<Mutex<GateState>>,
}

#[derive(Default)]
struct GateState {
    open: bool,
    waker: Option<Waker>,
}

#[derive(Clone)]
pub struct GateKey {
    state: Arc<Mutex<GateState>>,
}

pub fn gate() -> (Gate, GateKey) {
    let state = Arc::new(Mutex::new(GateState::default()));
    (
        Gate {
            state: state.clone(),
        },
        GateKey { state },
    )
}

impl GateKey {
    /// Opens the gate and wakes its waiter (from any thread).
    pub fn open(&self) {
        let waker = {
            let mut s = self.state.lock().unwrap();
            s.open = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// True once the gate's future has been polled (its waker is stored).
    pub fn has_waiter(&self) -> bool {
        self.state.lock().unwrap().waker.is_some()
    }

    /// Takes the stored waker without opening.
    pub fn take_waker(&self) -> Option<Waker> {
        self.state.lock().unwrap().waker.take()
    }
}

impl Future for Gate {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.state.lock().unwrap();
        if s.open {
            Poll::Ready(())
        } else {
            s.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}
