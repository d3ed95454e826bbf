//! Running blocking closures on the runtime's blocking pool and awaiting
//! their results: [`unblock`] for one-off calls, [`Lane`] for a series of
//! calls that must run one at a time and in order (the operations on one
//! file).
//!
//! Ground rules: the pool is reached through the reactor's blocking offload
//! (`ember_reactor::__private::offload_blocking`), which the runtime points
//! at its blocking pool; without one (a bare reactor, as in this crate's
//! tests) the closure runs inline on the calling thread. A pool that shuts
//! down may drop a closure without running it: the waiting side then gets an
//! [`io::Error`], never a hang. Closures never run under one of this
//! module's locks, and the result slot's lock is only held to move a value or
//! a waker in or out.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::mem;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ember_reactor::Handle;

/// Runs `f` on the blocking pool of the current runtime; the returned future
/// resolves to its result.
///
/// The closure is queued on this thread's [shared lane](Lane::shared) (a
/// few pool jobs that take one closure after another), and runs to
/// completion even if the future is dropped.
///
/// # Panics
///
/// Outside an ember runtime.
#[track_caller]
pub(crate) fn unblock<T, F>(f: F) -> Unblock<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let handle = Handle::current();
    // During thread-local destruction (a call from another thread-local's
    // destructor) a lane of its own does the same job.
    let lane = SHARED
        .try_with(Lane::clone)
        .unwrap_or_else(|_| Lane::shared());
    lane.submit(false, f, Some(handle))
}

thread_local! {
    /// The lane one-off calls from this thread go through (see
    /// [`Lane::shared`]).
    static SHARED: Lane = Lane::shared();
}

/// The result of a closure sent to the blocking pool: a future of
/// `io::Result<T>`, an error if the pool dropped the closure unrun.
///
/// Any number of tasks may poll it (each is woken when the result arrives);
/// the first poll after completion takes the result.
pub(crate) struct Unblock<T> {
    slot: Arc<Slot<T>>,
}

/// What a [`Unblock`] and its [`Sender`] share.
struct Slot<T> {
    state: Mutex<State<T>>,
}

enum State<T> {
    /// Not done; the wakers of the tasks that polled.
    Waiting(Vec<Waker>),
    /// The closure's result, not yet taken.
    Done(T),
    /// The closure was dropped without running.
    Abandoned,
    /// The result was taken.
    Taken,
}

/// The closure's side: delivers the result, or marks the slot abandoned if
/// dropped first.
struct Sender<T> {
    slot: Arc<Slot<T>>,
}

fn channel<T>() -> (Sender<T>, Unblock<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State::Waiting(Vec::new())),
    });
    (
        Sender {
            slot: Arc::clone(&slot),
        },
        Unblock { slot },
    )
}

impl<T> Slot<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while the state is half updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn finish(&self, outcome: State<T>) {
        let wakers = {
            let mut state = self.lock();
            match &mut *state {
                State::Waiting(wakers) => {
                    let wakers = mem::take(wakers);
                    *state = outcome;
                    wakers
                }
                // Already finished (a sent result is never replaced by
                // `Abandoned` from the sender's drop).
                _ => return,
            }
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

impl<T> Sender<T> {
    fn send(self, value: T) {
        self.slot.finish(State::Done(value));
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.slot.finish(State::Abandoned);
    }
}

/// The error for a closure the pool dropped without running.
pub(crate) fn shut_down() -> io::Error {
    io::Error::other("the blocking operation was dropped: the runtime is shutting down")
}

impl<T> Future for Unblock<T> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let mut state = self.slot.lock();
        match mem::replace(&mut *state, State::Taken) {
            State::Done(value) => Poll::Ready(Ok(value)),
            State::Waiting(mut wakers) => {
                if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                *state = State::Waiting(wakers);
                Poll::Pending
            }
            State::Abandoned => {
                *state = State::Abandoned;
                Poll::Ready(Err(shut_down()))
            }
            State::Taken => Poll::Ready(Err(io::Error::other(
                "a blocking operation's result was polled after it was taken",
            ))),
        }
    }
}

impl<T> fmt::Debug for Unblock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*self.slot.lock() {
            State::Waiting(_) => "waiting",
            State::Done(_) => "done",
            State::Abandoned => "abandoned",
            State::Taken => "taken",
        };
        f.debug_tuple("Unblock").field(&state).finish()
    }
}

/// A queue of closures for the blocking pool, taken by at most `width`
/// pool jobs (drainers) at a time, each running closures until the queue is
/// empty: a closure submitted while a drainer runs costs no trip to the pool
/// and no thread.
///
/// Two kinds:
/// - [`Lane::serial`] (width 1): the calls on one file, which must run one
///   at a time and in order, even when a write is queued behind another by a
///   `File` being dropped.
/// - [`Lane::shared`]: the one-off calls ([`unblock`]) of one thread. Left
///   to itself, a burst of 2,000 small reads would make the pool start
///   hundreds of threads; this lane runs them on [`SHARED_WIDTH`] drainers.
///   Calls can block for long (opening a FIFO, a slow disk), so when the lane
///   has made no progress for [`STALL`] a new closure gets an extra drainer
///   rather than wait behind the stuck ones.
///
/// Closures marked `must_run` (writes) still run if the pool shuts down
/// before reaching them: on the thread that drops the drainer, so that data
/// accepted by a write is not silently lost.
#[derive(Clone)]
pub(crate) struct Lane {
    shared: Arc<LaneShared>,
}

/// Drainers of a shared lane before the stall rule kicks in.
pub(crate) const SHARED_WIDTH: usize = 4;

/// How long a shared lane may go without starting a closure, while one
/// waits, before a new closure gets an extra drainer.
pub(crate) const STALL: Duration = Duration::from_millis(2);

struct LaneShared {
    state: Mutex<LaneState>,
    /// Drainers allowed without the stall rule.
    width: usize,
}

struct LaneState {
    /// Closures not started yet, oldest first.
    jobs: VecDeque<Job>,
    /// Drainers queued on the pool or running: they will take `jobs`.
    drainers: usize,
    /// When a drainer last started a closure (or the lane went idle).
    progress: Instant,
}

struct Job {
    run: Box<dyn FnOnce() + Send>,
    must_run: bool,
}

impl Lane {
    /// A lane that runs its closures one at a time, in order.
    pub(crate) fn serial() -> Lane {
        Lane::with_width(1)
    }

    /// A lane for independent closures (see the type's docs).
    pub(crate) fn shared() -> Lane {
        Lane::with_width(SHARED_WIDTH)
    }

    fn with_width(width: usize) -> Lane {
        Lane {
            shared: Arc::new(LaneShared {
                state: Mutex::new(LaneState {
                    jobs: VecDeque::new(),
                    drainers: 0,
                    progress: Instant::now(),
                }),
                width,
            }),
        }
    }

    /// Queues `f` behind the lane's earlier closures; the future resolves to
    /// its result.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    #[track_caller]
    pub(crate) fn run<T, F>(&self, must_run: bool, f: F) -> Unblock<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit(must_run, f, Some(Handle::current()))
    }

    fn submit<T, F>(&self, must_run: bool, f: F, handle: Option<Handle>) -> Unblock<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (sender, result) = channel();
        self.push(
            Job {
                run: Box::new(move || sender.send(f())),
                must_run,
            },
            handle,
        );
        result
    }

    /// Queues `f` with nobody waiting for it (a `File`'s last write, from
    /// its `Drop`). It must run: outside a runtime, or if the pool is gone,
    /// it runs on this thread.
    pub(crate) fn run_detached(&self, f: impl FnOnce() + Send + 'static) {
        self.push(
            Job {
                run: Box::new(f),
                must_run: true,
            },
            Handle::try_current(),
        );
    }

    fn lock(&self) -> MutexGuard<'_, LaneState> {
        self.shared.lock()
    }

    fn push(&self, job: Job, handle: Option<Handle>) {
        let start = {
            let mut state = self.lock();
            state.jobs.push_back(job);
            let start = state.drainers < self.shared.width
                || (self.shared.width > 1 && state.progress.elapsed() >= STALL);
            if start {
                state.drainers += 1;
                // The new drainer counts as progress: one extra per stall.
                state.progress = Instant::now();
            }
            start
        };
        if start {
            let drainer = Drainer {
                shared: Arc::clone(&self.shared),
                finished: false,
            };
            match handle {
                Some(handle) => ember_reactor::__private::offload_blocking(
                    &handle,
                    Box::new(move || drainer.drain()),
                ),
                None => drainer.drain(),
            }
        }
    }
}

impl LaneShared {
    fn lock(&self) -> MutexGuard<'_, LaneState> {
        // Nothing panics while the state is half updated.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next job, or `None` after counting this drainer out (in the same
    /// critical section, so a job pushed later starts a new drainer).
    fn next_job(&self) -> Option<Job> {
        let mut state = self.lock();
        let job = state.jobs.pop_front();
        if job.is_none() {
            state.drainers -= 1;
        }
        // Only shared lanes read it, but it is one clock read per closure.
        state.progress = Instant::now();
        job
    }
}

impl fmt::Debug for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Lane")
            .field("width", &self.shared.width)
            .field("queued", &state.jobs.len())
            .field("drainers", &state.drainers)
            .finish()
    }
}

/// The pool job that runs a lane's closures until the queue is empty.
struct Drainer {
    shared: Arc<LaneShared>,
    /// Set once the queue was found empty; a drainer dropped before that was
    /// dropped unrun by a pool that shut down (or unwound from a panicking
    /// closure).
    finished: bool,
}

impl Drainer {
    fn drain(mut self) {
        while let Some(job) = self.shared.next_job() {
            (job.run)();
        }
        self.finished = true;
    }
}

impl Drop for Drainer {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // The pool is going away: run the writes here, and drop the rest
        // (their futures report the shutdown).
        while let Some(job) = self.shared.next_job() {
            if job.must_run {
                (job.run)();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct CountWake(AtomicUsize);

    impl Wake for CountWake {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll<T>(fut: &mut Unblock<T>, waker: &Waker) -> Poll<io::Result<T>> {
        Pin::new(fut).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_dropped_closure_is_an_error_not_a_hang() {
        let (sender, mut result) = channel::<u32>();
        let count = Arc::new(CountWake(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        assert!(poll(&mut result, &waker).is_pending());
        drop(sender);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        match poll(&mut result, &waker) {
            Poll::Ready(Err(e)) => assert!(e.to_string().contains("shutting down")),
            other => panic!("expected the shutdown error, got {other:?}"),
        }
    }

    #[test]
    fn every_task_that_polled_is_woken() {
        let (sender, mut result) = channel::<u32>();
        let first = Arc::new(CountWake(AtomicUsize::new(0)));
        let second = Arc::new(CountWake(AtomicUsize::new(0)));
        assert!(poll(&mut result, &Waker::from(Arc::clone(&first))).is_pending());
        assert!(poll(&mut result, &Waker::from(Arc::clone(&second))).is_pending());
        sender.send(7);
        assert_eq!(first.0.load(Ordering::SeqCst), 1);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        let waker = Waker::from(first);
        assert!(matches!(poll(&mut result, &waker), Poll::Ready(Ok(7))));
    }

    #[test]
    fn a_drainer_dropped_unrun_runs_the_writes_and_drops_the_rest() {
        let lane = Lane::serial();
        let ran = Arc::new(AtomicUsize::new(0));
        let (sender, mut read) = channel::<()>();
        {
            let mut state = lane.lock();
            state.drainers = 1;
            state.jobs.push_back(Job {
                run: Box::new(move || sender.send(())),
                must_run: false,
            });
            let ran = Arc::clone(&ran);
            state.jobs.push_back(Job {
                run: Box::new(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                }),
                must_run: true,
            });
        }
        // What a pool that shut down does with the queued drainer.
        drop(Drainer {
            shared: Arc::clone(&lane.shared),
            finished: false,
        });
        assert_eq!(ran.load(Ordering::SeqCst), 1, "the write did not run");
        let waker = Waker::from(Arc::new(CountWake(AtomicUsize::new(0))));
        assert!(matches!(poll(&mut read, &waker), Poll::Ready(Err(_))));
        assert_eq!(lane.lock().drainers, 0, "a later job could never start");
    }

    #[test]
    fn without_a_runtime_a_detached_job_runs_inline_and_in_order() {
        let lane = Lane::serial();
        let order = Arc::new(Mutex::new(Vec::new()));
        for i in 0..3 {
            let order = Arc::clone(&order);
            lane.run_detached(move || order.lock().unwrap().push(i));
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
    }

    #[test]
    fn a_shared_lane_runs_a_burst_on_few_drainers_and_adds_one_on_a_stall() {
        let driver = ember_reactor::Driver::new(ember_timer::Clock::real()).expect("reactor");
        let handle = driver.handle().clone();
        type Work = Box<dyn FnOnce() + Send>;
        let offloaded: Arc<Mutex<Vec<Work>>> = Arc::default();
        let queue = Arc::clone(&offloaded);
        ember_reactor::__private::set_blocking_offload(
            &handle,
            Arc::new(move |work| queue.lock().unwrap().push(work)),
        );
        let lane = Lane::shared();
        let mut results: Vec<_> = (0..100)
            .map(|i| lane.submit(false, move || i, Some(handle.clone())))
            .collect();
        assert_eq!(offloaded.lock().unwrap().len(), SHARED_WIDTH);

        // Nothing started for longer than the stall limit: one more drainer.
        lane.lock().progress -= STALL * 2;
        results.push(lane.submit(false, || 100, Some(handle.clone())));
        assert_eq!(offloaded.lock().unwrap().len(), SHARED_WIDTH + 1);

        let drainers = std::mem::take(&mut *offloaded.lock().unwrap());
        for drainer in drainers {
            drainer();
        }
        let waker = Waker::from(Arc::new(CountWake(AtomicUsize::new(0))));
        for (i, result) in results.iter_mut().enumerate() {
            assert!(matches!(poll(result, &waker), Poll::Ready(Ok(n)) if n == i));
        }
        assert_eq!(lane.lock().drainers, 0);
    }
}
