//! The injection queue: where work from outside the workers (and ring overflow) waits.
//!
//! Ground rules: a `Mutex<VecDeque>` plus an atomic length that lets workers skip the lock when
//! it is empty. The length is written only under the lock. Once [`close`](Inject::close)d (at
//! the end of shutdown) the queue refuses new values and hands them back, so the caller can
//! cancel them where they are.

use std::collections::VecDeque;
use std::fmt;
use std::sync::PoisonError;

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};

pub(crate) struct Inject<T> {
    inner: Mutex<Inner<T>>,
    /// `inner.queue.len()`, readable without the lock.
    len: AtomicUsize,
}

struct Inner<T> {
    queue: VecDeque<T>,
    closed: bool,
}

impl<T> Inject<T> {
    pub(crate) fn new() -> Inject<T> {
        Inject {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                closed: false,
            }),
            len: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// True if nothing is queued (a hint: a concurrent push may land right after).
    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::Acquire) == 0
    }

    /// How many values are queued (a hint).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Queues `value`, or gives it back if the queue is closed.
    pub(crate) fn push(&self, value: T) -> Result<(), T> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(value);
        }
        inner.queue.push_back(value);
        self.len.store(inner.queue.len(), Ordering::Release);
        Ok(())
    }

    /// Queues every value, or gives them all back if the queue is closed.
    pub(crate) fn push_batch(&self, values: Vec<T>) -> Result<(), Vec<T>> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(values);
        }
        inner.queue.extend(values);
        self.len.store(inner.queue.len(), Ordering::Release);
        Ok(())
    }

    /// Takes the oldest value.
    pub(crate) fn pop(&self) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut inner = self.lock();
        let value = inner.queue.pop_front();
        self.len.store(inner.queue.len(), Ordering::Release);
        value
    }

    /// Takes up to `max` of the oldest values: the first is returned, the others are given to
    /// `rest` in order (called under the lock: it must not touch this queue).
    pub(crate) fn pop_batch(&self, max: usize, mut rest: impl FnMut(T)) -> Option<T> {
        if self.is_empty() {
            return None;
        }
        let mut inner = self.lock();
        let first = inner.queue.pop_front();
        if first.is_some() {
            let more = max.saturating_sub(1).min(inner.queue.len());
            for value in inner.queue.drain(..more) {
                rest(value);
            }
        }
        self.len.store(inner.queue.len(), Ordering::Release);
        first
    }

    /// Refuses every later push and takes what is queued.
    pub(crate) fn close(&self) -> VecDeque<T> {
        let mut inner = self.lock();
        inner.closed = true;
        self.len.store(0, Ordering::Release);
        std::mem::take(&mut inner.queue)
    }
}

impl<T> fmt::Debug for Inject<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inject")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
