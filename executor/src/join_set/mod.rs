//! [`JoinSet`]: a collection of spawned tasks, joined in the order they finish.
//!
//! The set owns the [`JoinHandle`]s of the tasks spawned through it. Each handle is polled
//! only after its task woke it (see `entries`), so [`JoinSet::join_next`] costs the same
//! with ten tasks in the set as with ten thousand. Dropping the set aborts every task still
//! in it.
//!
//! How the set spawns is a type parameter, [`Spawner`]: [`DirectSpawner`], the default, uses
//! this crate's [`Handle`] and [`spawn_local`](crate::spawn_local); a runtime built on this
//! crate plugs in its own (the `ember` facade's gives each task its cooperative I/O budget).
//! The parameter costs nothing at run time. [`crate::JoinSet`] names the set with the default
//! spawner.
//!
//! This module spawns, so it sits above [`handle`](crate::Handle) in the crate's layering,
//! beside it; the `task` module below knows nothing of it.

mod entries;

use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::{AbortHandle, JoinError, JoinHandle};
use crate::Handle;
use entries::Entries;

/// How a [`JoinSet`] turns futures and closures into tasks: a runtime's spawn functions.
///
/// Implement it to make a `JoinSet` spawn the way a runtime built on this crate does (say,
/// wrapping every future it spawns); [`DirectSpawner`] is this crate's own.
///
/// # Examples
///
/// ```
/// use ember_executor::join_set::{DirectSpawner, JoinSet, Spawner};
/// use ember_executor::{Handle, JoinHandle};
/// use std::future::Future;
///
/// /// Spawns like `DirectSpawner`, counting the futures it spawns.
/// struct Counting;
/// static SPAWNED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
///
/// impl Spawner for Counting {
///     type Handle = Handle;
///     fn spawn<F>(future: F) -> JoinHandle<F::Output>
///     where
///         F: Future + Send + 'static,
///         F::Output: Send + 'static,
///     {
///         SPAWNED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         DirectSpawner::spawn(future)
///     }
///     fn spawn_on<F>(future: F, handle: &Handle) -> JoinHandle<F::Output>
///     where
///         F: Future + Send + 'static,
///         F::Output: Send + 'static,
///     {
///         DirectSpawner::spawn_on(future, handle)
///     }
///     fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
///     where
///         F: Future + 'static,
///         F::Output: 'static,
///     {
///         DirectSpawner::spawn_local(future)
///     }
///     fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
///     where
///         F: FnOnce() -> R + Send + 'static,
///         R: Send + 'static,
///     {
///         DirectSpawner::spawn_blocking(f)
///     }
///     fn spawn_blocking_on<F, R>(f: F, handle: &Handle) -> JoinHandle<R>
///     where
///         F: FnOnce() -> R + Send + 'static,
///         R: Send + 'static,
///     {
///         DirectSpawner::spawn_blocking_on(f, handle)
///     }
/// }
///
/// ember_executor::block_on(async {
///     let mut set = JoinSet::<u32, Counting>::new();
///     set.spawn(async { 1 });
///     assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
/// });
/// assert_eq!(SPAWNED.load(std::sync::atomic::Ordering::Relaxed), 1);
/// ```
pub trait Spawner {
    /// The runtime handle [`JoinSet::spawn_on`] and [`JoinSet::spawn_blocking_on`] take.
    type Handle;

    /// Spawns a `Send` future onto the current runtime.
    fn spawn<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns a `Send` future onto `handle`'s runtime.
    fn spawn_on<F>(future: F, handle: &Self::Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns a `!Send` future onto the scheduler running on this thread.
    fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static;

    /// Runs a blocking closure on the current runtime's blocking pool.
    fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static;

    /// Runs a blocking closure on `handle`'s runtime's blocking pool.
    fn spawn_blocking_on<F, R>(f: F, handle: &Self::Handle) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static;
}

/// The default [`Spawner`]: this crate's [`Handle::current`], [`Handle::spawn`],
/// [`spawn_local`](crate::spawn_local) and [`Handle::spawn_blocking`].
///
/// # Examples
///
/// ```
/// use ember_executor::join_set::{DirectSpawner, Spawner};
///
/// let n = ember_executor::block_on(async { DirectSpawner::spawn(async { 2 }).await.unwrap() });
/// assert_eq!(n, 2);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectSpawner;

impl Spawner for DirectSpawner {
    type Handle = Handle;

    #[track_caller]
    fn spawn<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Handle::current().spawn(future)
    }

    fn spawn_on<F>(future: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.spawn(future)
    }

    #[track_caller]
    fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        crate::spawn_local(future)
    }

    #[track_caller]
    fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        Handle::current().spawn_blocking(f)
    }

    #[track_caller]
    fn spawn_blocking_on<F, R>(f: F, handle: &Handle) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        handle.spawn_blocking(f)
    }
}

/// A collection of tasks spawned through it, all with output `T`, awaited in the order they
/// finish.
///
/// [`spawn`](JoinSet::spawn) and its siblings start a task and keep its handle;
/// [`join_next`](JoinSet::join_next) waits for the next one to finish and hands back its
/// output (or the [`JoinError`] of a panic or a cancellation). A task that finished is
/// removed from the set as it is joined. Dropping the set aborts every task still in it: each
/// is cancelled at its next poll and its output, if it had one ready, is dropped.
///
/// `S` chooses how tasks are spawned ([`Spawner`]); with this crate alone, use
/// [`crate::JoinSet`], which is this type with [`DirectSpawner`] (and lets
/// `JoinSet::new()` infer everything).
///
/// # Examples
///
/// ```
/// use ember_executor::JoinSet;
///
/// let mut squares = ember_executor::block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..10u64 {
///         set.spawn(async move { i * i });
///     }
///     let mut squares = Vec::new();
///     while let Some(result) = set.join_next().await {
///         squares.push(result.unwrap());
///     }
///     squares
/// });
/// squares.sort_unstable();
/// assert_eq!(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
/// ```
pub struct JoinSet<T, S = DirectSpawner> {
    entries: Entries<JoinHandle<T>>,
    /// `fn() -> S`: the spawner is a type-level choice, it adds no auto-trait bound.
    _spawner: PhantomData<fn() -> S>,
}

impl<T, S: Spawner> JoinSet<T, S> {
    /// An empty set.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = ember_executor::JoinSet::<()>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T, S> {
        JoinSet {
            entries: Entries::new(),
            _spawner: PhantomData,
        }
    }

    /// How many tasks are in the set: spawned and not yet joined (finished tasks stay until
    /// joined).
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let mut set = ember_executor::JoinSet::new();
    ///     set.spawn(async {});
    ///     assert_eq!(set.len(), 1);
    ///     set.join_next().await;
    ///     assert_eq!(set.len(), 0);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if the set holds no task.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(ember_executor::JoinSet::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// Keeps `handle` in the set and returns an [`AbortHandle`] for its task.
    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        self.entries.insert(handle);
        abort
    }

    /// Spawns `future` onto the current runtime and keeps its handle in the set. The returned
    /// [`AbortHandle`] may be dropped; the task stays in the set.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let mut set = ember_executor::JoinSet::new();
    ///     let abort = set.spawn(std::future::pending::<()>());
    ///     abort.abort();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a runtime, as the spawner's `spawn` does.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(S::spawn(future))
    }

    /// Spawns `future` onto `handle`'s runtime and keeps its handle in the set.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let handle = ember_executor::Handle::current();
    ///     let mut set = ember_executor::JoinSet::new();
    ///     set.spawn_on(async { "on" }, &handle);
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "on");
    /// });
    /// ```
    pub fn spawn_on<F>(&mut self, future: F, handle: &S::Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(S::spawn_on(future, handle))
    }

    /// Spawns a `!Send` `future` onto the scheduler running on this thread (see
    /// [`spawn_local`](crate::spawn_local)) and keeps its handle in the set.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// ember_executor::block_on(async {
    ///     let mut set = ember_executor::JoinSet::new();
    ///     let shared = Rc::new(3);
    ///     set.spawn_local(async move { *shared });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 3);
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`spawn_local`](crate::spawn_local) panics: with no scheduler running on this
    /// thread.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.insert(S::spawn_local(future))
    }

    /// Runs the blocking closure `f` on the current runtime's blocking pool and keeps its
    /// handle in the set.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_executor::blocking::{BlockingConfig, BlockingPool};
    /// use ember_executor::{CurrentThread, JoinSet, Park, Unpark};
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # struct P; impl Park for P { fn park(&mut self, t: Option<Duration>) { if t.is_none() { std::thread::park() } } }
    /// # struct U(std::thread::Thread); impl Unpark for U { fn unpark(&self) { self.0.unpark() } }
    ///
    /// let sched = CurrentThread::new(Arc::new(U(std::thread::current())));
    /// let pool = BlockingPool::new(BlockingConfig::default());
    /// sched.handle().set_blocking_pool(pool.handle()).unwrap();
    /// let sum = sched.block_on(
    ///     async {
    ///         let mut set = JoinSet::new();
    ///         set.spawn_blocking(|| (1..=10).sum::<u32>());
    ///         set.join_next().await.unwrap().unwrap()
    ///     },
    ///     &mut P,
    /// );
    /// assert_eq!(sum, 55);
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a runtime, or if the runtime has no blocking pool (as the spawner's
    /// `spawn_blocking` does).
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.insert(S::spawn_blocking(f))
    }

    /// Runs the blocking closure `f` on `handle`'s runtime's blocking pool and keeps its handle
    /// in the set.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_executor::blocking::{BlockingConfig, BlockingPool};
    /// use ember_executor::{CurrentThread, JoinSet, Park, Unpark};
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # struct P; impl Park for P { fn park(&mut self, t: Option<Duration>) { if t.is_none() { std::thread::park() } } }
    /// # struct U(std::thread::Thread); impl Unpark for U { fn unpark(&self) { self.0.unpark() } }
    ///
    /// let sched = CurrentThread::new(Arc::new(U(std::thread::current())));
    /// let pool = BlockingPool::new(BlockingConfig::default());
    /// let handle = sched.handle();
    /// handle.set_blocking_pool(pool.handle()).unwrap();
    /// let mut set = JoinSet::new();
    /// set.spawn_blocking_on(|| "blocked", &handle);
    /// let out = sched.block_on(set.join_next(), &mut P);
    /// assert_eq!(out.unwrap().unwrap(), "blocked");
    /// ```
    ///
    /// # Panics
    ///
    /// If that runtime has no blocking pool (as the spawner's `spawn_blocking_on` does).
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &S::Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.insert(S::spawn_blocking_on(f, handle))
    }

    /// Waits for the next task to finish and returns its output, or `None` if the set is
    /// empty. The task is removed from the set.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes loses no output. A task's output
    /// leaves the set only in the poll that returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let mut set = ember_executor::JoinSet::new();
    ///     set.spawn(async { panic!("boom") });
    ///     let error = set.join_next().await.unwrap().unwrap_err();
    ///     assert!(error.is_panic());
    ///     assert!(set.join_next().await.is_none());
    /// });
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Returns the output of a task that has already finished, without waiting: `None` if no
    /// task in the set has finished (or the set is empty).
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let mut set = ember_executor::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert!(set.try_join_next().is_none()); // not run yet
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        match self
            .entries
            .poll_next(None, |handle, cx| Pin::new(handle).poll(cx))
        {
            Poll::Ready(output) => output,
            Poll::Pending => None,
        }
    }

    /// Polls for the next finished task: `Ready(Some(output))` and the task leaves the set,
    /// `Ready(None)` if the set is empty, or `Pending` (then `cx`'s waker is woken when a
    /// task finishes). What [`join_next`](JoinSet::join_next) does, for hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// ember_executor::block_on(async {
    ///     let mut set = ember_executor::JoinSet::new();
    ///     set.spawn(async { 5 });
    ///     let out = poll_fn(|cx| set.poll_join_next(cx)).await;
    ///     assert_eq!(out.unwrap().unwrap(), 5);
    /// });
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.entries
            .poll_next(Some(cx.waker()), |handle, cx| Pin::new(handle).poll(cx))
    }

    /// Asks every task in the set to cancel (as [`JoinHandle::abort`]). The tasks stay in the
    /// set: [`join_next`](JoinSet::join_next) then returns each one's output, or its
    /// cancelled [`JoinError`] if the abort came before it finished.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let mut set = ember_executor::JoinSet::new();
    ///     for _ in 0..3 {
    ///         set.spawn(std::future::pending::<()>());
    ///     }
    ///     set.abort_all();
    ///     while let Some(result) = set.join_next().await {
    ///         assert!(result.unwrap_err().is_cancelled());
    ///     }
    /// });
    /// ```
    pub fn abort_all(&mut self) {
        self.entries.for_each(|handle| handle.abort());
    }

    /// Aborts every task and waits until all have finished; the set is then empty. The same
    /// as [`abort_all`](JoinSet::abort_all) and then [`join_next`](JoinSet::join_next) until it
    /// returns `None`, dropping the outputs.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in the sense of `join_next`: dropping it midway leaves the tasks not yet
    /// joined in the set (aborted).
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::block_on(async {
    ///     let mut set = ember_executor::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Removes every task from the set without aborting it: each keeps running, detached, as
    /// if its [`JoinHandle`] had been dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// ember_executor::block_on(async {
    ///     let ran = Arc::new(AtomicBool::new(false));
    ///     let mut set = ember_executor::JoinSet::new();
    ///     let flag = ran.clone();
    ///     set.spawn(async move { flag.store(true, Ordering::SeqCst) });
    ///     set.detach_all();
    ///     drop(set);
    ///     while !ran.load(Ordering::SeqCst) {
    ///         ember_executor::task::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn detach_all(&mut self) {
        // Dropping a handle detaches its task.
        drop(self.entries.take_all());
    }

    /// Waits for every task and returns their outputs, in the order they finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut outputs = ember_executor::block_on(async {
    ///     let set: ember_executor::JoinSet<_> =
    ///         (1..=3).map(|i| async move { i * 10 }).collect();
    ///     set.join_all().await
    /// });
    /// outputs.sort_unstable();
    /// assert_eq!(outputs, [10, 20, 30]);
    /// ```
    ///
    /// # Panics
    ///
    /// If a task panicked, that panic is resumed here; if a task was cancelled, with a
    /// message saying so. Either way the tasks still in the set are aborted (the set is
    /// dropped). To handle errors otherwise, call [`join_next`](JoinSet::join_next) in a loop.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(output) => outputs.push(output),
                Err(error) => match error.try_into_panic() {
                    Ok(payload) => std::panic::resume_unwind(payload),
                    Err(_) => panic!("a task of the JoinSet was cancelled (JoinSet::join_all)"),
                },
            }
        }
        outputs
    }
}

impl<T, S> Drop for JoinSet<T, S> {
    fn drop(&mut self) {
        // The handles are dropped with `entries` right after: aborted, then detached.
        self.entries.for_each(|handle| handle.abort());
    }
}

impl<T, S: Spawner> Default for JoinSet<T, S> {
    fn default() -> JoinSet<T, S> {
        JoinSet::new()
    }
}

impl<T, S> fmt::Debug for JoinSet<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet")
            .field("len", &self.entries.len())
            .finish()
    }
}

/// Spawns every future of the iterator into a new set (with the spawner's `spawn`).
///
/// # Examples
///
/// ```
/// ember_executor::block_on(async {
///     let set: ember_executor::JoinSet<u32> = (0..4).map(|i| async move { i }).collect();
///     assert_eq!(set.len(), 4);
///     assert_eq!(set.join_all().await.len(), 4);
/// });
/// ```
impl<T, S, F> FromIterator<F> for JoinSet<T, S>
where
    S: Spawner,
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T, S> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

/// Spawns every future of the iterator into the set (with the spawner's `spawn`).
///
/// # Examples
///
/// ```
/// ember_executor::block_on(async {
///     let mut set = ember_executor::JoinSet::new();
///     set.spawn(async { 0 });
///     set.extend((1..3).map(|i| async move { i }));
///     assert_eq!(set.len(), 3);
/// });
/// ```
impl<T, S, F> Extend<F> for JoinSet<T, S>
where
    S: Spawner,
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}
