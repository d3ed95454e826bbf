//! Helpers shared by the integration tests: a reactor-driven `block_on`, a
//! join that polls each child only when its own waker fired, a seeded
//! xorshift for test data, and `#[track_caller]` assertions.

#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

include!("block_on.rs");

/// Runs `body` on a fresh reactor (see `block_on`) and fails the test on an
/// error.
#[track_caller]
pub(crate) fn run<F: Future<Output = io::Result<()>>>(body: F) {
    if let Err(e) = block_on(body) {
        panic!("test failed with an I/O error: {e} ({:?})", e.kind());
    }
}

/// A boxed child future for [`join_independent`].
pub(crate) type Child<'a> = Pin<Box<dyn Future<Output = io::Result<()>> + 'a>>;

/// Boxes a child future for [`join_independent`].
pub(crate) fn child<'a>(future: impl Future<Output = io::Result<()>> + 'a) -> Child<'a> {
    Box::pin(future)
}

/// Runs all `children` concurrently in one task and returns the first error.
///
/// Unlike a plain join, a child is polled again only after *its own* waker
/// was woken. A reactor that lost or swapped a waker (for example one slot
/// shared by the reader and the writer of a socket) leaves a child unpolled
/// forever, and the test hangs into the watchdog instead of passing by luck.
pub(crate) async fn join_independent(children: Vec<Child<'_>>) -> io::Result<()> {
    let parent = Arc::new(Mutex::new(None::<Waker>));
    let mut slots: Vec<(Option<Child<'_>>, Arc<ChildWaker>)> = children
        .into_iter()
        .map(|future| {
            let waker = Arc::new(ChildWaker {
                woken: AtomicBool::new(true),
                parent: Arc::clone(&parent),
            });
            (Some(future), waker)
        })
        .collect();
    std::future::poll_fn(move |cx| {
        *parent.lock().expect("parent waker lock") = Some(cx.waker().clone());
        for (slot, flag) in &mut slots {
            let Some(future) = slot else { continue };
            if !flag.woken.swap(false, Ordering::AcqRel) {
                continue;
            }
            let waker = Waker::from(Arc::clone(flag));
            if let Poll::Ready(result) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
                *slot = None;
                result?;
            }
        }
        if slots.iter().all(|(slot, _)| slot.is_none()) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await
}

struct ChildWaker {
    woken: AtomicBool,
    parent: Arc<Mutex<Option<Waker>>>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        if let Some(parent) = &*self.parent.lock().expect("parent waker lock") {
            parent.wake_by_ref();
        }
    }
}

/// Deterministic test data: xorshift64* from a fixed seed.
pub(crate) fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

/// Asserts two byte strings are equal, reporting the first difference
/// instead of dumping megabytes.
#[track_caller]
pub(crate) fn assert_same_bytes(got: &[u8], expected: &[u8]) {
    if let Some(at) = got.iter().zip(expected).position(|(a, b)| a != b) {
        panic!(
            "bytes differ at offset {at}: got {:#04x}, expected {:#04x}",
            got[at], expected[at]
        );
    }
    assert_eq!(got.len(), expected.len(), "lengths differ");
}

/// Asserts `result` is an error of `kind`.
#[track_caller]
pub(crate) fn assert_error_kind<T: std::fmt::Debug>(result: io::Result<T>, kind: io::ErrorKind) {
    match result {
        Err(e) => assert_eq!(e.kind(), kind, "unexpected error: {e}"),
        Ok(value) => panic!("expected a {kind:?} error, got Ok({value:?})"),
    }
}
