//! One worker's loop, its thread-local half ([`WorkerCore`]), and `block_in_place` on a worker.
//!
//! Ground rules: a `WorkerCore` lives in an `Rc` on its worker's thread (it is the thread's
//! [`context`](crate::context) while the loop runs); its cells are touched only there and
//! never borrowed across user code. Order of work: every 61 ticks the injection queue and the
//! pinned inbox first (fairness for remote work), then the LIFO slot (at most 3 in a row),
//! then pinned tasks and the ring alternately, then a batch from the injection queue, then
//! stealing (as one of at most half the workers searching), then parking.
//!
//! `block_in_place` on a worker lends the core, park included, to a stand-in thread (a
//! blocking pool thread, or a fresh one) that runs this same loop with it until the worker's
//! thread is done blocking and reclaims it; the worker's thread then carries on with the task
//! that blocked. While lent, the core's pinned tasks wait: they run on their home thread only.
//! See `handoff` for why the core may cross threads and `lend` for the hand-over itself.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU64;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use super::handoff::{LentCore, ParkSlot};
use super::lend::Lend;
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
    /// The park of whichever thread runs this worker's loop (see `handoff`).
    park: ParkSlot,
    /// True while a stand-in thread runs the loop (`block_in_place`): pinned tasks wait.
    lent: Cell<bool>,
}

/// Sets up a stand-in thread's context (a reactor, say) around the worker loop it runs for a
/// worker inside `block_in_place`.
pub(crate) type Enter = Box<dyn FnOnce(&mut dyn FnMut()) + Send>;

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

    /// The next runnable pinned task; none while the core is lent (pinned tasks run on their
    /// home thread only).
    fn pop_pinned(&self) -> Option<TaskRunnable> {
        if self.lent.get() {
            return None;
        }
        self.pinned.borrow_mut().pop_front()
    }

    /// Move pinned tasks woken from other threads into the private queue.
    fn pull_pinned_inbox(&self) -> bool {
        if self.lent.get() {
            return false;
        }
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
            || (!self.lent.get()
                && (!self.pinned.borrow().is_empty()
                    || !self.shared.remotes[self.index].pinned_inbox.is_empty()))
    }

    /// Spawns a `!Send` task pinned to this worker.
    pub(crate) fn spawn_local<F>(&self, f: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        assert!(
            !self.lent.get(),
            "spawn_local cannot be called here: this thread stands in for a worker whose own \
             thread is inside block_in_place, and a task pinned to that worker would have to \
             run on the other thread; use spawn, or spawn_local from the worker's own thread"
        );
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

    /// Lets other workers take this worker's queued `Send` tasks while its thread blocks: the
    /// LIFO slot (never stolen) goes to the ring, and a parked worker is woken to steal.
    fn make_stealable(&self) {
        if let Some(task) = self.lifo.take() {
            self.push_ring(task);
        }
        if self.queue.has_tasks() {
            self.shared.notify_parked();
        }
    }

    /// Leaving the loop: cancel every task pinned to this worker, here, and everything queued
    /// on it (or, if the worker leaves early because its park panicked, hand its `Send` tasks
    /// to the others).
    fn leave(&self) {
        // Nothing may lend the core from now on (a destructor calling `block_in_place`).
        self.park.clear();
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
    park: &mut (dyn Park + Send),
) {
    let core = Rc::new(WorkerCore {
        shared: shared.clone(),
        index,
        queue,
        lifo: Cell::new(None),
        pinned: RefCell::new(VecDeque::new()),
        pinned_owned: LocalOwned::new(),
        pinned_live: Rc::new(Cell::new(0)),
        park: ParkSlot::empty(),
        lent: Cell::new(false),
    });
    // Reports the exit even if `park` panics, after the context is restored.
    let _exit = ExitGuard(shared.clone());
    let running = Running::new(shared.id, core.clone());
    core.park.fill_during(park, || {
        context::run(running, shared.clone(), |cx| {
            let _leave = LeaveGuard(&core);
            Runner::new(&core, cx, None).run();
        });
    });
}

/// `block_in_place(f)` on a worker's thread, whose executor context no longer holds `core`
/// (the caller took it out): lend the core to a stand-in thread, run `f`, take the core back.
/// Runs `f` in place if the core cannot be lent (its park is in use further up this stack, or
/// the worker is leaving) or no thread can be started.
pub(crate) fn block_in_place<F, R>(core: Rc<WorkerCore>, f: F, enter: Enter) -> R
where
    F: FnOnce() -> R,
{
    /// Takes the core back when `f` returns or unwinds.
    struct Reclaim<'a> {
        lend: &'a Lend<LentCore>,
        shared: &'a Shared,
        index: usize,
    }

    impl Drop for Reclaim<'_> {
        fn drop(&mut self) {
            // Unparking the worker wakes the stand-in if it sleeps in the worker's park.
            let LentCore(core) = self
                .lend
                .reclaim(|| self.shared.remotes[self.index].unpark.unpark());
            drop(core);
        }
    }

    if !core.park.is_filled() {
        return f();
    }
    core.make_stealable();
    // From the offer on, this thread leaves the core alone until the reclaim (see `handoff`).
    let (shared, index) = (core.shared.clone(), core.index);
    let lend = Arc::new(Lend::offer(LentCore(core)));
    let reclaim = Reclaim {
        lend: &lend,
        shared: &shared,
        index,
    };
    if !spawn_stand_in(&shared, index, lend.clone(), enter) {
        // Withdraws the offer at once.
        drop(reclaim);
        return f();
    }
    let output = f();
    drop(reclaim);
    output
}

/// Starts a thread that runs the worker loop with the lent core: a blocking pool thread if the
/// runtime has a pool, else a thread of its own. False if none could be started.
fn spawn_stand_in(shared: &Shared, index: usize, lend: Arc<Lend<LentCore>>, enter: Enter) -> bool {
    let job = move || {
        let mut stand_in = Some(move || stand_in(&lend));
        enter(&mut || {
            if let Some(stand_in) = stand_in.take() {
                stand_in();
            }
        });
    };
    match shared.blocking.get() {
        // Detached: the lend reports back. If the pool is saturated the job waits in its
        // queue, and a reclaim that comes first withdraws the offer.
        Some(pool) => pool.try_spawn_blocking(job).is_ok(),
        None => std::thread::Builder::new()
            .name(format!("ember-worker-{index}-stand-in"))
            .spawn(job)
            .is_ok(),
    }
}

/// The body of a stand-in thread: take the lent core (unless the offer was withdrawn), run
/// the worker loop with it until it is recalled or the scheduler shuts down, give it back.
fn stand_in(lend: &Lend<LentCore>) {
    /// Gives the core back when the loop returns or unwinds, after every other `Rc` of it
    /// this thread made is gone.
    struct GiveBack<'a> {
        lend: &'a Lend<LentCore>,
        core: Option<Rc<WorkerCore>>,
        was_lent: bool,
    }

    impl Drop for GiveBack<'_> {
        fn drop(&mut self) {
            if let Some(core) = self.core.take() {
                core.lent.set(self.was_lent);
                self.lend.give_back(LentCore(core));
            }
        }
    }

    let Some(LentCore(core)) = lend.take() else {
        return;
    };
    // Already lent if the worker's thread was itself a stand-in; restored on the way back.
    let was_lent = core.lent.replace(true);
    let give_back = GiveBack {
        lend,
        core: Some(core),
        was_lent,
    };
    let Some(core) = give_back.core.as_ref() else {
        return;
    };
    let shared = core.shared.clone();
    // The context's clone is dropped when `context::run` returns (or unwinds), before
    // `give_back` hands the core over.
    let running = Running::new(shared.id, core.clone());
    context::run(running, shared, |cx| {
        Runner::new(core, cx, Some(lend)).run()
    });
}

/// Cancels the worker's own tasks when its loop ends (normally or by a panicking park).
struct LeaveGuard<'a>(&'a WorkerCore);

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
    /// On a stand-in thread: the lend to return the core through when it is recalled.
    lend: Option<&'a Lend<LentCore>>,
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

impl<'a> Runner<'a> {
    fn new(core: &'a WorkerCore, cx: &'a Context, lend: Option<&'a Lend<LentCore>>) -> Runner<'a> {
        Runner {
            core,
            cx,
            lend,
            searching: false,
            tick: 0,
            polls: 0,
            lifo_polls: 0,
            rng: 0x9E37_79B9 ^ (core.index as u32).wrapping_mul(0x85EB_CA6B) | 1,
            batch: Vec::new(),
        }
    }

    /// Runs the loop until shutdown (or, on a stand-in, until the core is recalled).
    fn run(&mut self) {
        while !self.should_stop() {
            let task = match self.next_task() {
                Some(task) => Some(task),
                None => self.steal_work(),
            };
            match task {
                Some(task) => self.run_task(task),
                None => self.park(),
            }
        }
        if self.lend.is_some() && self.searching {
            // The worker's thread takes the core back in the middle of running a task:
            // unparked and not searching. Hand it over in that state.
            self.searching = false;
            if self.core.shared.idle.transition_worker_from_searching() {
                self.core.shared.notify_parked();
            }
        }
    }

    fn should_stop(&self) -> bool {
        self.core.shared.is_shutdown() || self.lend.is_some_and(Lend::is_recalled)
    }

    /// Calls the worker's park (through the core: see `handoff`).
    fn call_park(&mut self, timeout: Option<Duration>) {
        let parked = self.core.park.park(timeout);
        // The loop only runs while the slot holds the park, and only this loop parks with it.
        debug_assert!(parked, "the worker loop runs without its park");
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
            self.call_park(Some(Duration::ZERO));
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
        loop {
            if self.should_stop() {
                // Leave as a worker that woke up would (a stand-in hands the core back in the
                // state the worker's thread left it: unparked).
                self.searching = !shared.idle.unpark_worker_by_id(self.core.index);
                return;
            }
            self.call_park(None);
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
