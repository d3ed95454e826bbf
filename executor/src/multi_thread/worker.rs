//! One worker's loop and its thread-local half ([`WorkerCore`]).
//!
//! Ground rules: a `WorkerCore` lives in an `Rc` on its worker's thread (it is the thread's
//! [`context`](crate::context) while the loop runs); its cells are touched only there and
//! never borrowed across user code. Order of work: every 61 ticks the injection queue and the
//! pinned inbox first (fairness for remote work), then the LIFO slot (at most 3 in a row),
//! then pinned tasks and the ring alternately, then a batch from the injection queue, then
//! stealing (as one of at most half the workers searching), then parking.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU64;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use super::queue::{self, Local};
use super::Shared;
use crate::context::{self, Context, Running};
use crate::owned::{self, Key, LocalOwned};
use crate::park::{Park, EVENT_INTERVAL};
use crate::task::raw::{self, TaskRunnable};
use crate::task::{self, JoinHandle};

/// LIFO-slot polls in a row before the slot's task must go to the back of the ring: a pair of
/// tasks waking each other cannot starve the rest of the queue.
const MAX_LIFO_POLLS: u32 = 3;

/// The worker's thread-local half.
pub(crate) struct WorkerCore {
    shared: Arc<Shared>,
    index: usize,
    queue: Local<TaskRunnable>,
    /// The task most recently woken or spawned on this worker: run next (cache-hot).
    lifo: Cell<Option<TaskRunnable>>,
    /// Runnable `spawn_local` tasks pinned to this worker.
    pinned: RefCell<VecDeque<TaskRunnable>>,
    /// Pinned tasks that have not finished (recorded at spawn), so leaving can cancel them on
    /// this thread.
    pinned_owned: LocalOwned,
    /// Pinned tasks whose future still exists. Leaving waits for it to reach zero, so a
    /// pinned runnable that another thread is about to put in the inbox is not missed.
    pinned_live: Rc<Cell<usize>>,
}

/// Counts a pinned task out when its future is dropped (completed or cancelled).
struct PinnedLive(Rc<Cell<usize>>);

impl Drop for PinnedLive {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl WorkerCore {
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// A `Send` task woken or spawned on this worker's thread, while task `current` (if any)
    /// is being polled here.
    pub(super) fn schedule(&self, runnable: TaskRunnable, current: Option<NonZeroU64>) {
        if Some(runnable.metadata().id().as_raw()) == current {
            // The task woke itself: it is yielding, so it goes behind everything runnable.
            self.push_ring(runnable);
            self.shared.notify_parked();
        } else if let Some(previous) = self.lifo.replace(Some(runnable)) {
            self.push_ring(previous);
            self.shared.notify_parked();
        }
    }

    /// Spawns a `Send` task onto this worker: into the LIFO slot (a new task is never the one
    /// being polled, which would be yielding).
    pub(super) fn spawn<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, handle) = raw::spawn(f, Some(self.shared.owner()), super::schedule);
        self.shared.record(&runnable);
        self.schedule(runnable, None);
        handle
    }

    fn push_ring(&self, runnable: TaskRunnable) {
        if let Err(rejected) = self.queue.push_back(runnable, &self.shared.inject) {
            // Only after the final drain closed the injection queue.
            for runnable in rejected {
                raw::cancel(runnable);
            }
        }
    }

    /// A pinned task woken or spawned on this worker's thread.
    pub(super) fn push_pinned(&self, runnable: TaskRunnable) {
        self.pinned.borrow_mut().push_back(runnable);
    }

    fn pop_pinned(&self) -> Option<TaskRunnable> {
        self.pinned.borrow_mut().pop_front()
    }

    /// Move pinned tasks woken from other threads into the private queue.
    fn pull_pinned_inbox(&self) -> bool {
        let inbox = &self.shared.remotes[self.index].pinned_inbox;
        if inbox.is_empty() {
            return false;
        }
        let mut pulled = false;
        while let Some(runnable) = inbox.pop() {
            self.push_pinned(runnable);
            pulled = true;
        }
        pulled
    }

    fn has_local_work(&self) -> bool {
        let lifo = self.lifo.take();
        let has_lifo = lifo.is_some();
        self.lifo.set(lifo);
        has_lifo
            || self.queue.has_tasks()
            || !self.pinned.borrow().is_empty()
            || !self.shared.remotes[self.index].pinned_inbox.is_empty()
    }

    /// Spawns a `!Send` task pinned to this worker.
    pub(crate) fn spawn_local<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let shared = self.shared.clone();
        let index = self.index;
        self.pinned_live.set(self.pinned_live.get() + 1);
        let live = PinnedLive(self.pinned_live.clone());
        let f = async move {
            let _live = live;
            f.await
        };
        let (runnable, handle) = raw::spawn_local(f, self.shared.owner(), move |runnable| {
            shared.schedule_pinned(index, runnable)
        });
        // Refused while leaving: the runnable is queued below, where leaving cancels it.
        if let Ok(key) = self.pinned_owned.insert(runnable.waker()) {
            runnable.metadata().set_key(Key::Local(key).encode());
        }
        self.push_pinned(runnable);
        handle
    }

    /// Forget a finished pinned task; returns its waker for the caller to drop after the
    /// context borrow.
    pub(super) fn release_pinned(&self, key: usize) -> Option<Waker> {
        self.pinned_owned.remove(key)
    }

    /// Leaving the loop: cancel every task pinned to this worker, here, and everything queued
    /// on it (or, if the worker leaves early because its park panicked, hand its `Send` tasks
    /// to the others).
    fn leave(&self) {
        let inbox = &self.shared.remotes[self.index].pinned_inbox;
        owned::drain(
            // Queues each pinned task on `pinned` (this is its thread), unless queued already.
            || self.pinned_owned.close_and_take(),
            || {
                self.lifo
                    .take()
                    .or_else(|| self.pop_pinned())
                    .or_else(|| self.queue.pop())
                    .or_else(|| inbox.pop())
            },
            |runnable| {
                if runnable.metadata().is_local() || self.shared.is_shutdown() {
                    raw::cancel(runnable);
                } else {
                    self.shared.inject(runnable);
                }
            },
            || {
                if self.pinned_live.get() > 0 {
                    // A pinned task is alive yet neither queued nor recorded: another thread
                    // woke it and is about to put its runnable in the inbox. Wait for it.
                    std::thread::yield_now();
                    return true;
                }
                // Close the inbox; whatever raced in is cancelled on its own thread here.
                let late = inbox.close();
                let found = !late.is_empty();
                late.into_iter().for_each(raw::cancel);
                found
            },
        );
    }
}

impl fmt::Debug for WorkerCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerCore")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// Runs worker `index` on this thread until shutdown.
pub(super) fn run(
    shared: Arc<Shared>,
    index: usize,
    queue: Local<TaskRunnable>,
    park: &mut dyn Park,
) {
    let core = Rc::new(WorkerCore {
        shared: shared.clone(),
        index,
        queue,
        lifo: Cell::new(None),
        pinned: RefCell::new(VecDeque::new()),
        pinned_owned: LocalOwned::new(),
        pinned_live: Rc::new(Cell::new(0)),
    });
    // Reports the exit even if `park` panics, after the context is restored.
    let _exit = ExitGuard(shared.clone());
    let running = Running::new(shared.id, core.clone());
    context::run(running, shared.clone(), |cx| {
        let _leave = LeaveGuard(&core);
        let mut runner = Runner {
            core: &core,
            cx,
            park,
            searching: false,
            tick: 0,
            polls: 0,
            lifo_polls: 0,
            rng: 0x9E37_79B9 ^ (index as u32).wrapping_mul(0x85EB_CA6B) | 1,
            batch: Vec::new(),
        };
        runner.run();
    });
}

/// Cancels the worker's own tasks when its loop ends (normally or by a panicking park).
struct LeaveGuard<'a>(&'a Rc<WorkerCore>);

impl Drop for LeaveGuard<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// Counts the worker out, once its context is gone.
struct ExitGuard(Arc<Shared>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.worker_exited();
    }
}

/// The loop's own state.
struct Runner<'a> {
    core: &'a WorkerCore,
    /// This thread's executor context, held for the whole loop: the current task id is set
    /// through it with plain stores.
    cx: &'a Context,
    park: &'a mut dyn Park,
    /// Counted as searching in `Idle`.
    searching: bool,
    tick: u32,
    /// Task polls since the last non-blocking park.
    polls: u32,
    lifo_polls: u32,
    /// xorshift32 state: where to start looking for a victim.
    rng: u32,
    /// Reused buffer for batches taken from the injection queue.
    batch: Vec<TaskRunnable>,
}

impl Runner<'_> {
    fn run(&mut self) {
        while !self.core.shared.is_shutdown() {
            let task = match self.next_task() {
                Some(task) => Some(task),
                None => self.steal_work(),
            };
            match task {
                Some(task) => self.run_task(task),
                None => self.park(),
            }
        }
    }

    fn run_task(&mut self, task: TaskRunnable) {
        if self.searching {
            self.searching = false;
            // The last searcher found work: wake another to look for more.
            if self.core.shared.idle.transition_worker_from_searching() {
                self.core.shared.notify_parked();
            }
        }
        task::run_current(self.cx, task);
        self.polls += 1;
        if self.polls >= EVENT_INTERVAL {
            self.polls = 0;
            self.park.park(Some(Duration::ZERO));
        }
    }

    fn next_task(&mut self) -> Option<TaskRunnable> {
        let core = self.core;
        self.tick = self.tick.wrapping_add(1);
        if self.tick % EVENT_INTERVAL == 0 {
            core.pull_pinned_inbox();
            if let Some(task) = core.shared.inject.pop() {
                return Some(task);
            }
        }
        if let Some(task) = core.lifo.take() {
            if self.lifo_polls < MAX_LIFO_POLLS {
                self.lifo_polls += 1;
                return Some(task);
            }
            core.push_ring(task);
        }
        self.lifo_polls = 0;
        if self.tick & 1 == 0 {
            if let Some(task) = core.pop_pinned() {
                return Some(task);
            }
        }
        if let Some(task) = core.queue.pop() {
            return Some(task);
        }
        if let Some(task) = core.pop_pinned() {
            return Some(task);
        }
        if core.pull_pinned_inbox() {
            if let Some(task) = core.pop_pinned() {
                return Some(task);
            }
        }
        self.pop_injected()
    }

    /// Takes a fair share of the injection queue: one to run, the rest onto the ring.
    fn pop_injected(&mut self) -> Option<TaskRunnable> {
        let shared = &self.core.shared;
        let len = shared.inject.len();
        if len == 0 {
            return None;
        }
        let max = (len / shared.remotes.len() + 1).min(queue::CAPACITY / 2);
        let batch = &mut self.batch;
        let first = shared.inject.pop_batch(max, |task| batch.push(task));
        // Pushed after the injection lock is released: an overflowing push takes that lock.
        for task in self.batch.drain(..) {
            self.core.push_ring(task);
        }
        first
    }

    fn steal_work(&mut self) -> Option<TaskRunnable> {
        let shared = &self.core.shared;
        if !self.searching {
            if !shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.searching = true;
        }
        let n = shared.remotes.len();
        let start = self.next_random() as usize % n;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.core.index {
                continue;
            }
            if let Some(task) = shared.remotes[victim].steal.steal_into(&self.core.queue) {
                return Some(task);
            }
        }
        self.pop_injected()
    }

    fn next_random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// Nothing to run anywhere we looked: sleep until notified (or until work arrives on this
    /// thread through the park hook, e.g. the reactor waking a task).
    fn park(&mut self) {
        let shared = &self.core.shared;
        if self.core.has_local_work() {
            return;
        }
        let last_searcher = shared
            .idle
            .transition_worker_to_parked(self.core.index, self.searching);
        self.searching = false;
        if last_searcher {
            shared.notify_if_work_pending();
        }
        while !shared.is_shutdown() {
            self.park.park(None);
            // The park hook just polled for events: the next non-blocking park can wait.
            self.polls = 0;
            if self.core.has_local_work() {
                // Woken for work of its own: unparked, and searching only if a notifier
                // already took it out of the sleepers (it was counted as searching then).
                self.searching = !shared.idle.unpark_worker_by_id(self.core.index);
                return;
            }
            if !shared.idle.is_parked(self.core.index) {
                // Notified: it is a searcher now.
                self.searching = true;
                return;
            }
        }
    }
}
