//! The loop each blocking pool thread runs: take work from the queue, idle for at most
//! `keep_alive` when there is none, and leave the pool's books straight however it exits.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use super::pool::Inner;
use crate::context;

/// The worker id of the calling thread if it belongs to `inner`'s pool (the executor context
/// records the pool's id and the worker's on each pool thread).
pub(super) fn current_worker_id(inner: &Inner) -> Option<usize> {
    context::blocking_worker().and_then(|(pool, id)| (pool == inner.id).then_some(id))
}

/// The body of worker thread `id`.
pub(super) fn run(inner: Arc<Inner>, id: usize) {
    context::set_blocking_worker(Some((inner.id, id)));
    // Takes the thread off the books when this function returns or unwinds (a panicking
    // hook), after the stop hook.
    let _leave = Leave { inner: &inner, id };
    if let Some(on_start) = &inner.config.on_thread_start {
        on_start();
    }
    serve(&inner);
    if let Some(on_stop) = &inner.config.on_thread_stop {
        on_stop();
    }
}

/// Run queued work until shutdown or until idle for `keep_alive`.
fn serve(inner: &Inner) {
    let mut shared = inner.lock();
    'work: loop {
        while let Some(runnable) = shared.queue.pop_front() {
            drop(shared);
            // While it runs, `task::id` inside the closure gives its task's id.
            let task = Some(runnable.metadata().id().as_raw());
            let previous = context::with_context(|cx| cx.set_task(task)).flatten();
            // The task catches panics of the closure and of its destructor; this catches the
            // rest (a detached task's output destructor) so the thread survives to serve on.
            let _ = catch_unwind(AssertUnwindSafe(|| runnable.run()));
            context::with_context(|cx| cx.set_task(previous));
            shared = inner.lock();
        }
        if shared.shutdown {
            return;
        }
        shared.num_idle += 1;
        let deadline = Instant::now().checked_add(inner.config.keep_alive);
        loop {
            shared = match deadline {
                None => inner
                    .work
                    .wait(shared)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let timeout = deadline.saturating_duration_since(Instant::now());
                    inner
                        .work
                        .wait_timeout(shared, timeout)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
            // A claim is honoured even at the deadline: its submitter counted on a thread.
            if shared.num_notify > 0 {
                shared.num_notify -= 1;
                continue 'work;
            }
            let timed_out = deadline.is_some_and(|deadline| Instant::now() >= deadline);
            if shared.shutdown || timed_out {
                // Unclaimed (no claim is pending), so this thread is still counted as idle.
                shared.num_idle -= 1;
                return;
            }
            // Spurious wakeup: keep waiting for the same deadline.
        }
    }
}

/// Takes the thread off the pool's books when it exits, normally or by a panicking hook.
struct Leave<'a> {
    inner: &'a Inner,
    id: usize,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut shared = self.inner.lock();
        let position = shared.workers.iter().position(|(id, _)| *id == self.id);
        let own = position.map(|position| shared.workers.swap_remove(position).1);
        let previous = match own {
            // Shutdown joins the threads that exited for it.
            Some(own) if shared.shutdown => {
                shared.exited.push(own);
                None
            }
            Some(own) => shared.last_idle_exit.replace(own),
            None => None,
        };
        self.inner.thread_exited(&mut shared);
        drop(shared);
        // The previous idle exiter is past its use of the pool; don't leave it unjoined.
        if let Some(previous) = previous {
            let _ = previous.join();
        }
    }
}
