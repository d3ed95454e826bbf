//! [`BlockingPool`], [`BlockingHandle`] and the state they share with the worker threads.
//!
//! Ground rules: all bookkeeping (the queue, the thread counts, the join handles) lives in
//! [`Shared`] behind one mutex. No user code ever runs under that lock except the
//! `thread_name` callback (it names the thread being spawned, as in tokio): closures, task
//! destructors and the start/stop hooks all run after the lock is released, so they may
//! submit more work. Nothing panics while the state is half updated, so a poisoned lock
//! (from a panicking `thread_name`) is simply taken over.

use std::collections::VecDeque;
use std::fmt;
use std::mem;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use super::worker;
use super::BlockingConfig;
use crate::task::raw::{self, TaskRunnable};
use crate::task::JoinHandle;

/// Owns a blocking thread pool; dropping it shuts the pool down.
///
/// See the [module docs](super) for how the pool works. `Send + Sync`.
///
/// # Examples
///
/// ```
/// use ember_executor::blocking::{BlockingConfig, BlockingPool};
///
/// let pool = BlockingPool::new(BlockingConfig::default());
/// let task = pool.handle().spawn_blocking(|| 6 * 7);
/// assert_eq!(ember_executor::block_on(task).unwrap(), 42);
/// drop(pool); // waits for running closures
/// ```
pub struct BlockingPool {
    handle: BlockingHandle,
}

/// Submits closures to a [`BlockingPool`]. Cheap to clone, `Send + Sync`.
///
/// It stays usable after the pool is gone: closures spawned then are cancelled.
///
/// # Examples
///
/// ```
/// use ember_executor::blocking::{BlockingConfig, BlockingPool};
///
/// let pool = BlockingPool::new(BlockingConfig::default());
/// let handle = pool.handle();
/// let sum = std::thread::spawn(move || {
///     ember_executor::block_on(handle.spawn_blocking(|| (1..=10).sum::<u32>()))
/// })
/// .join()
/// .unwrap()
/// .unwrap();
/// assert_eq!(sum, 55);
/// ```
#[derive(Clone)]
pub struct BlockingHandle {
    inner: Arc<Inner>,
}

/// What the pool, its handles and its threads share.
pub(super) struct Inner {
    /// Process-unique: how a pool thread recognises its own pool (see `worker`).
    pub(super) id: u64,
    shared: Mutex<Shared>,
    /// Idle workers wait here for a claim (`Shared::num_notify`), shutdown or their timeout.
    pub(super) work: Condvar,
    /// `shutdown` waits here for `Shared::num_threads` to drop.
    exited: Condvar,
    pub(super) config: BlockingConfig,
}

/// The pool's bookkeeping; see the field docs for the invariants.
pub(super) struct Shared {
    /// Runnables waiting for a thread, oldest first. Empty and never refilled once `shutdown`.
    pub(super) queue: VecDeque<TaskRunnable>,
    /// Threads started and not yet finished with the pool (decremented after their stop hook).
    pub(super) num_threads: usize,
    /// Idle threads not yet claimed by a submitter. A submitter that finds one decrements
    /// this and increments `num_notify` in the same critical section, so two submitters never
    /// count on the same idle thread.
    pub(super) num_idle: usize,
    /// Claims made on idle threads and not yet taken up by one of them.
    pub(super) num_notify: usize,
    /// No more work is accepted; workers exit once they finish what they are running.
    pub(super) shutdown: bool,
    /// A `shutdown` call has finished waiting: threads still running then are detached, and
    /// dropping the pool does not wait for them again.
    waited: bool,
    /// Join handles of running threads, keyed by worker id.
    pub(super) workers: Vec<(usize, thread::JoinHandle<()>)>,
    /// Threads that exited because of shutdown, to be joined by `shutdown`.
    pub(super) exited: Vec<thread::JoinHandle<()>>,
    /// The latest thread that exited on its idle timeout; each such thread joins the previous
    /// one, and `shutdown` joins the last, so every thread is joined by someone.
    pub(super) last_idle_exit: Option<thread::JoinHandle<()>>,
    next_worker_id: usize,
}

impl BlockingPool {
    /// Creates a pool. No thread starts until work arrives.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_executor::blocking::{BlockingConfig, BlockingPool};
    ///
    /// let pool = BlockingPool::new(BlockingConfig { max_threads: 2, ..Default::default() });
    /// # drop(pool);
    /// ```
    ///
    /// # Panics
    ///
    /// If `config.max_threads` is zero.
    #[track_caller]
    pub fn new(config: BlockingConfig) -> BlockingPool {
        assert!(
            config.max_threads > 0,
            "BlockingConfig::max_threads must be at least 1"
        );
        let inner = Arc::new(Inner {
            id: crate::owned::next_id(),
            shared: Mutex::new(Shared {
                queue: VecDeque::new(),
                num_threads: 0,
                num_idle: 0,
                num_notify: 0,
                shutdown: false,
                waited: false,
                workers: Vec::new(),
                exited: Vec::new(),
                last_idle_exit: None,
                next_worker_id: 0,
            }),
            work: Condvar::new(),
            exited: Condvar::new(),
            config,
        });
        BlockingPool {
            handle: BlockingHandle { inner },
        }
    }

    /// A handle that submits work to this pool.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ember_executor::blocking::{BlockingConfig, BlockingPool};
    /// let pool = BlockingPool::new(BlockingConfig::default());
    /// let handle = pool.handle();
    /// let task = handle.spawn_blocking(|| "done");
    /// assert_eq!(ember_executor::block_on(task).unwrap(), "done");
    /// ```
    pub fn handle(&self) -> BlockingHandle {
        self.handle.clone()
    }

    /// Shuts the pool down: stops accepting work (later spawns report cancelled), cancels
    /// closures still queued (their `JoinHandle`s report cancelled), and waits up to `timeout`
    /// for the closures already running to return.
    ///
    /// Returns `true` if every thread exited in time. Threads still running are detached:
    /// each exits when its closure returns, and dropping the pool does not wait for them.
    /// Called from one of the pool's own threads, it waits for all the others.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ember_executor::blocking::{BlockingConfig, BlockingPool};
    ///
    /// let pool = BlockingPool::new(BlockingConfig::default());
    /// let task = pool.handle().spawn_blocking(|| 1);
    /// assert_eq!(ember_executor::block_on(task).unwrap(), 1);
    /// assert!(pool.shutdown_timeout(Duration::from_secs(10)));
    ///
    /// let late = pool.handle().spawn_blocking(|| 2);
    /// assert!(ember_executor::block_on(late).unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown_timeout(&self, timeout: Duration) -> bool {
        self.handle.inner.shutdown(Some(timeout))
    }

    /// Threads currently started (running a closure or idle).
    #[doc(hidden)]
    pub fn thread_count(&self) -> usize {
        self.handle.inner.lock().num_threads
    }

    /// Idle threads not yet claimed by new work.
    #[doc(hidden)]
    pub fn idle_thread_count(&self) -> usize {
        self.handle.inner.lock().num_idle
    }
}

impl Drop for BlockingPool {
    /// Shuts the pool down as [`shutdown_timeout`](Self::shutdown_timeout) does, but waits as
    /// long as the running closures take, unless an earlier `shutdown_timeout` already waited.
    fn drop(&mut self) {
        let inner = &self.handle.inner;
        if !inner.lock().waited {
            inner.shutdown(None);
        }
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPool")
            .field("inner", &self.handle.inner)
            .finish()
    }
}

impl BlockingHandle {
    /// Runs `f` on a pool thread and returns a [`JoinHandle`] for its result.
    ///
    /// A panic in `f` is caught and reported through the `JoinHandle`
    /// ([`JoinError::is_panic`](crate::task::JoinError::is_panic)); the thread goes on serving
    /// the pool. Aborting the `JoinHandle` cancels `f` if it has not started yet; once started it
    /// runs to completion. After the pool shut down, `f` is dropped unrun and the handle
    /// reports cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// # use ember_executor::blocking::{BlockingConfig, BlockingPool};
    /// let pool = BlockingPool::new(BlockingConfig::default());
    /// let handle = pool.handle();
    /// let err = ember_executor::block_on(async move {
    ///     let ok = handle.spawn_blocking(|| std::thread::current().name().map(str::to_owned));
    ///     assert!(ok.await.unwrap().unwrap().starts_with("ember-blocking-"));
    ///     handle.spawn_blocking(|| panic!("boom")).await.unwrap_err()
    /// });
    /// assert!(err.is_panic());
    /// ```
    ///
    /// # Panics
    ///
    /// If a new thread is needed, the pool has none, and the OS refuses to start one
    /// (the closure is then dropped unrun).
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        match self.try_spawn_blocking(f) {
            Ok(handle) => handle,
            Err(error) => panic!("ember: the OS can't start a blocking pool thread: {error}"),
        }
    }

    /// [`spawn_blocking`](Self::spawn_blocking), reporting instead of panicking when a thread
    /// is needed, the pool has none and the OS refuses to start one (`f` is then dropped
    /// unrun).
    pub(crate) fn try_spawn_blocking<F, R>(&self, f: F) -> std::io::Result<JoinHandle<R>>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let pool = Arc::downgrade(&self.inner);
        let (runnable, handle) = raw::spawn(async move { f() }, None, move |r| schedule(&pool, r));
        self.inner.submit(runnable)?;
        Ok(handle)
    }
}

/// The tasks' schedule function. A blocking task is queued once by `spawn_blocking` and never
/// returns `Pending`, so this only runs if a waker fires while it is queued or running, which
/// async-task turns into a no-op; it is here to be correct regardless.
fn schedule(pool: &Weak<Inner>, runnable: TaskRunnable) {
    match pool.upgrade() {
        // A failure to start a thread cancelled the runnable; nobody to tell here.
        Some(inner) => drop(inner.submit(runnable)),
        None => raw::cancel(runnable),
    }
}

impl fmt::Debug for BlockingHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingHandle")
            .field("inner", &self.inner)
            .finish()
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = self.lock();
        f.debug_struct("Pool")
            .field("threads", &shared.num_threads)
            .field("idle", &shared.num_idle)
            .field("queued", &shared.queue.len())
            .field("shutdown", &shared.shutdown)
            .field("config", &self.config)
            .finish()
    }
}

impl Inner {
    pub(super) fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue `runnable` and make sure a thread will run it: wake an idle thread, or start a
    /// new one if there is room; otherwise a busy thread takes it when it finishes.
    ///
    /// # Errors
    ///
    /// If a thread is needed, the pool has none and the OS refuses to start one: everything
    /// queued (`runnable` included) is cancelled, since no thread would ever take it.
    fn submit(self: &Arc<Self>, runnable: TaskRunnable) -> std::io::Result<()> {
        let mut shared = self.lock();
        if shared.shutdown {
            drop(shared);
            raw::cancel(runnable);
            return Ok(());
        }
        shared.queue.push_back(runnable);
        if shared.num_idle > 0 {
            shared.num_idle -= 1;
            shared.num_notify += 1;
            self.work.notify_one();
            return Ok(());
        }
        if shared.num_threads >= self.config.max_threads {
            return Ok(());
        }
        if let Err(error) = self.spawn_thread(&mut shared) {
            // Busy threads take the queue when they finish; with none, nobody ever would.
            if shared.num_threads == 0 {
                let orphans = mem::take(&mut shared.queue);
                drop(shared);
                orphans.into_iter().for_each(raw::cancel);
                return Err(error);
            }
        }
        Ok(())
    }

    /// Start one worker thread (with the lock held, so it is counted before anyone looks).
    fn spawn_thread(self: &Arc<Self>, shared: &mut Shared) -> std::io::Result<()> {
        let id = shared.next_worker_id;
        let name = (self.config.thread_name)();
        let inner = self.clone();
        let thread = thread::Builder::new()
            .name(name)
            .spawn(move || worker::run(inner, id))?;
        shared.next_worker_id += 1;
        shared.num_threads += 1;
        shared.workers.push((id, thread));
        Ok(())
    }

    /// Called by a worker, under the lock, as it leaves the pool.
    pub(super) fn thread_exited(&self, shared: &mut Shared) {
        shared.num_threads -= 1;
        self.exited.notify_all();
    }

    /// See [`BlockingPool::shutdown_timeout`]; `None` waits indefinitely.
    fn shutdown(&self, timeout: Option<Duration>) -> bool {
        // A deadline too far away to represent is no deadline.
        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        let queued = {
            let mut shared = self.lock();
            shared.shutdown = true;
            self.work.notify_all();
            mem::take(&mut shared.queue)
        };
        // Outside the lock: dropping a closure runs user code.
        queued.into_iter().for_each(raw::cancel);

        let own_id = worker::current_worker_id(self);
        let others_running = |shared: &Shared| shared.num_threads > usize::from(own_id.is_some());
        let mut shared = self.lock();
        while others_running(&shared) {
            shared = match deadline {
                None => self
                    .exited
                    .wait(shared)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    self.exited
                        .wait_timeout(shared, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
        let all_exited = !others_running(&shared);
        shared.waited = true;
        let mut finished = mem::take(&mut shared.exited);
        finished.extend(shared.last_idle_exit.take());
        drop(shared);
        // These threads are past their last use of the pool; joining only waits for their
        // thread-local destructors. A thread that panicked (in a hook) already reported it.
        for thread in finished {
            let _ = thread.join();
        }
        all_exited
    }
}
