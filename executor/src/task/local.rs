//! [`LocalOnly`]: the backstop that keeps a `spawn_local` future on the thread that spawned it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::ThreadId;

use pin_project_lite::pin_project;

use crate::context;

pin_project! {
    /// Pins a `!Send` future to the thread that spawned it: polling elsewhere panics before
    /// the inner future is touched, dropping elsewhere aborts the process. The scheduler never
    /// does either (local tasks are run and cancelled on their scheduler's thread); this is the
    /// backstop the `spawn_local` safety argument rests on. The thread id comes from the
    /// executor context's cache, so the check costs one thread-local read per poll.
    pub(crate) struct LocalOnly<F> {
        owner: ThreadId,
        #[pin]
        inner: F,
    }

    impl<F> PinnedDrop for LocalOnly<F> {
        fn drop(this: Pin<&mut Self>) {
            if context::thread_id() != this.owner {
                eprintln!("ember: a spawn_local task was dropped on a thread that did not spawn it");
                std::process::abort();
            }
        }
    }
}

impl<F> LocalOnly<F> {
    /// Pins `inner` to the calling thread.
    pub(crate) fn new(inner: F) -> LocalOnly<F> {
        LocalOnly {
            owner: context::thread_id(),
            inner,
        }
    }
}

impl<F: Future> Future for LocalOnly<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        assert!(
            context::thread_id() == *this.owner,
            "a spawn_local task was polled on a thread that did not spawn it"
        );
        this.inner.poll(cx)
    }
}
