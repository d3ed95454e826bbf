//! Gives every task poll a fresh cooperative budget.
//!
//! The budget itself lives in the reactor ([`ember_reactor::coop`]), where I/O
//! readiness spends it; the executor knows nothing of it. The facade joins
//! the two by wrapping each future it hands to the executor in [`Budgeted`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// A future whose every poll runs with a fresh I/O budget, so a task that
    /// always finds its sockets ready still yields to the others.
    pub(crate) struct Budgeted<F> {
        #[pin]
        inner: F,
    }
}

impl<F> Budgeted<F> {
    pub(crate) fn new(inner: F) -> Self {
        Budgeted { inner }
    }
}

impl<F: Future> Future for Budgeted<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let inner = self.project().inner;
        ember_reactor::__private::coop::budget(|| inner.poll(cx))
    }
}
