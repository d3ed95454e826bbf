//! The three multi-thread runtimes of the `mt_*` workloads behind one small interface,
//! so each workload is written once: ember's multi-thread runtime and tokio's, both with
//! [`MT_WORKERS`] workers, and async-executor's `Executor` run by [`MT_WORKERS`] threads
//! the way smol does it (each thread in `block_on(ex.run(..))`, the caller in a plain
//! `future::block_on` that runs no tasks). In all three the `block_on` thread only
//! waits for its future; the tasks run on the workers.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use async_executor::Executor;
use futures_channel::oneshot;

use crate::runtimes::{self, MT_WORKERS};

/// A runtime: blocks the calling thread on a future, hands out spawners.
pub(crate) trait Pool {
    /// How tasks are spawned onto this runtime, from any thread.
    type Spawner: Spawner;

    /// A spawner for this runtime.
    fn spawner(&self) -> Self::Spawner;

    /// Run `future` to completion on the calling thread (not a worker).
    fn block_on<F: Future>(&self, future: F) -> F::Output;
}

/// A runtime's handle: spawns from any thread (onto the spawning worker's own queue
/// when called from a worker, through the shared queue otherwise) and yields.
pub(crate) trait Spawner: Clone + Send + Sync + 'static {
    /// Spawn `future`; the returned future resolves to its output, or None if the
    /// task failed (panicked or was cancelled). Dropping it before completion may
    /// cancel the task (async-executor): use [`Spawner::detach`] for that.
    fn spawn<F>(&self, future: F) -> impl Future<Output = Option<F::Output>> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawn `future` and let it run on its own.
    fn detach<F: Future<Output = ()> + Send + 'static>(&self, future: F);

    /// The runtime's own `yield_now`.
    fn yield_now() -> impl Future<Output = ()> + Send;
}

/// ember's multi-thread runtime.
#[derive(Debug)]
pub(crate) struct EmberPool(ember::Runtime);

impl EmberPool {
    /// Build it with [`MT_WORKERS`] workers.
    pub(crate) fn new() -> io::Result<EmberPool> {
        runtimes::ember_mt().map(EmberPool)
    }
}

impl Pool for EmberPool {
    type Spawner = ember::runtime::Handle;

    fn spawner(&self) -> Self::Spawner {
        self.0.handle().clone()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

impl Spawner for ember::runtime::Handle {
    fn spawn<F>(&self, future: F) -> impl Future<Output = Option<F::Output>> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = ember::runtime::Handle::spawn(self, future);
        async move { task.await.ok() }
    }

    fn detach<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        // Dropping an ember JoinHandle detaches the task.
        drop(ember::runtime::Handle::spawn(self, future));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        ember::task::yield_now()
    }
}

/// tokio's multi-thread runtime.
#[derive(Debug)]
pub(crate) struct TokioPool(tokio::runtime::Runtime);

impl TokioPool {
    /// Build it with [`MT_WORKERS`] workers.
    pub(crate) fn new() -> io::Result<TokioPool> {
        runtimes::tokio_mt_workers().map(TokioPool)
    }
}

impl Pool for TokioPool {
    type Spawner = tokio::runtime::Handle;

    fn spawner(&self) -> Self::Spawner {
        self.0.handle().clone()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

impl Spawner for tokio::runtime::Handle {
    fn spawn<F>(&self, future: F) -> impl Future<Output = Option<F::Output>> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = tokio::runtime::Handle::spawn(self, future);
        async move { task.await.ok() }
    }

    fn detach<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        // Dropping a tokio JoinHandle detaches the task.
        drop(tokio::runtime::Handle::spawn(self, future));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

/// async-executor's `Executor`, run by [`MT_WORKERS`] threads until the pool is dropped.
#[derive(Debug)]
pub(crate) struct SmolPool {
    executor: Arc<Executor<'static>>,
    /// Dropping a sender ends its thread's `ex.run`.
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl SmolPool {
    /// Start the executor threads.
    pub(crate) fn new() -> io::Result<SmolPool> {
        let mut pool = SmolPool {
            executor: Arc::new(Executor::new()),
            stops: Vec::with_capacity(MT_WORKERS),
            threads: Vec::with_capacity(MT_WORKERS),
        };
        for i in 0..MT_WORKERS {
            let (stop, stopped) = oneshot::channel::<()>();
            let executor = pool.executor.clone();
            let thread = std::thread::Builder::new()
                .name(format!("smol-worker-{i}"))
                .spawn(move || {
                    futures_lite::future::block_on(executor.run(async {
                        // Err(Canceled) when the pool drops the sender: time to stop.
                        let _ = stopped.await;
                    }));
                })?;
            pool.stops.push(stop);
            pool.threads.push(thread);
        }
        Ok(pool)
    }
}

impl Drop for SmolPool {
    fn drop(&mut self) {
        self.stops.clear();
        for thread in self.threads.drain(..) {
            // A worker that panicked has nothing left to clean up.
            let _ = thread.join();
        }
    }
}

impl Pool for SmolPool {
    type Spawner = Arc<Executor<'static>>;

    fn spawner(&self) -> Self::Spawner {
        self.executor.clone()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        futures_lite::future::block_on(future)
    }
}

impl Spawner for Arc<Executor<'static>> {
    fn spawn<F>(&self, future: F) -> impl Future<Output = Option<F::Output>> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = Executor::spawn(self, future);
        // An async-executor task that panics re-raises the panic when awaited.
        async move { Some(task.await) }
    }

    fn detach<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        Executor::spawn(self, future).detach();
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }
}
