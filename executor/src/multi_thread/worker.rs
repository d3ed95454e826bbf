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
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use slab::Slab;

use super::queue::{self, Local};
use super::Shared;
use crate::context::{self, Current};
use crate::park::Park;
use crate::task::raw::{self, Meta, Registration, TaskRunnable};
use crate::task::JoinHandle;

/// Task polls between two non-blocking parks, and ticks between two looks at the injection
/// queue even while local work remains.
const EVENT_INTERVAL: u32 = 61;

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
    /// Wakers of pending pinned tasks, so leaving can cancel them on this thread.
    pinned_tasks: RefCell<Slab<Waker>>,
    /// Address of the `Meta` of the task being polled (0 if none): a task waking itself is
    /// yielding and goes behind the others, not into the LIFO slot.
    running: Cell<usize>,
    /// Set while leaving: pinned registrations are refused.
    closing: Cell<bool>,
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

fn meta_id(runnable: &TaskRunnable) -> usize {
    runnable.metadata() as *const Meta as usize
}

impl WorkerCore {
    pub(crate) fn owns(&self, shared: &Shared) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.shared), shared)
    }

    pub(crate) fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn id(&self) -> usize {
        self as *const WorkerCore as usize
    }

    /// A `Send` task woken or spawned on this worker's thread.
    pub(crate) fn schedule(&self, runnable: TaskRunnable) {
        if meta_id(&runnable) == self.running.get() {
            // Yielding: behind everything already runnable.
            self.push_ring(runnable);
            self.shared.notify_parked();
        } else if let Some(previous) = self.lifo.replace(Some(runnable)) {
            self.push_ring(previous);
            self.shared.notify_parked();
        }
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
    pub(crate) fn push_pinned(&self, runnable: TaskRunnable) {
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
        let (runnable, handle) =
            raw::spawn_local(f, move |runnable| shared.schedule_pinned(index, runnable));
        self.push_pinned(runnable);
        handle
    }

    pub(crate) fn register_active(&self, waker: &Waker, local: bool) -> Option<Registration> {
        if local {
            if self.closing.get() {
                return None;
            }
            let key = self.pinned_tasks.borrow_mut().insert(waker.clone());
            return Some(Registration {
                scheduler: self.id(),
                key,
            });
        }
        let key = self.shared.registry.register(self.index, waker)?;
        Some(Registration {
            scheduler: self.shared.id(),
            key,
        })
    }

    /// Returns the removed waker so the caller drops it outside any borrow.
    pub(crate) fn deregister_active(&self, registration: Registration) -> Option<Waker> {
        if registration.scheduler == self.id() {
            if self.closing.get() {
                return None;
            }
            return self.pinned_tasks.borrow_mut().try_remove(registration.key);
        }
        self.shared.deregister_active(registration)
    }

    /// Leaving the loop: cancel every task pinned to this worker, here, and everything queued
    /// on it (or, if the worker leaves early because its park panicked, hand its `Send` tasks
    /// to the others).
    fn leave(&self) {
        self.closing.set(true);
        let inbox = &self.shared.remotes[self.index].pinned_inbox;
        loop {
            let wakers: Vec<Waker> = std::mem::take(&mut *self.pinned_tasks.borrow_mut())
                .into_iter()
                .map(|(_, waker)| waker)
                .collect();
            let mut progressed = !wakers.is_empty();
            for waker in wakers {
                // Queues the task on `pinned` (this is its thread), unless already queued.
                waker.wake();
            }
            loop {
                let next = self
                    .lifo
                    .take()
                    .or_else(|| self.pop_pinned())
                    .or_else(|| self.queue.pop())
                    .or_else(|| inbox.pop());
                let Some(runnable) = next else { break };
                progressed = true;
                if runnable.metadata().is_local() || self.shared.is_shutdown() {
                    raw::cancel(runnable);
                } else {
                    self.shared.inject(runnable);
                }
            }
            if !progressed {
                if self.pinned_live.get() > 0 {
                    // A pinned task is alive yet neither queued nor registered: another thread
                    // woke it and is about to put its runnable in the inbox. Wait for it.
                    std::thread::yield_now();
                    continue;
                }
                // Close the inbox; whatever raced in is cancelled on its own thread here.
                let late = inbox.close();
                if late.is_empty() {
                    break;
                }
                for runnable in late {
                    raw::cancel(runnable);
                }
            }
        }
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
        pinned_tasks: RefCell::new(Slab::new()),
        running: Cell::new(0),
        closing: Cell::new(false),
        pinned_live: Rc::new(Cell::new(0)),
    });
    // Reports the exit even if `park` panics, after the context is restored.
    let _exit = ExitGuard(shared.clone());
    let enter = context::enter(Current::Worker(core.clone()));
    let _leave = LeaveGuard(&core);
    let mut runner = Runner {
        core: &core,
        park,
        searching: false,
        tick: 0,
        polls: 0,
        lifo_polls: 0,
        rng: 0x9E37_79B9 ^ (index as u32).wrapping_mul(0x85EB_CA6B) | 1,
        batch: Vec::new(),
    };
    runner.run();
    drop(runner);
    drop(_leave);
    drop(enter);
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
        self.core.running.set(meta_id(&task));
        // Never unwinds: `TaskFuture` catches the task's panics (and async-task aborts on a
        // panicking waker).
        task.run();
        self.core.running.set(0);
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
