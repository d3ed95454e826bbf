//! [`block_in_place`]: run blocking code on a task's own thread without stalling the runtime.
//!
//! What it does depends on what the calling thread drives (the executor context says):
//! - a multi-thread worker: the worker's core (its queues and its park) is lent to a stand-in
//!   thread that keeps running the worker loop, the closure runs here, and the core comes back
//!   before `block_in_place` returns (see `multi_thread::worker`);
//! - a multi-thread `block_on` (which runs no tasks), or nothing (outside any runtime, on a
//!   blocking pool thread, inside another `block_in_place`): the closure simply runs, with the
//!   thread out of any scheduler meanwhile, so it may call `block_on` itself;
//! - a current-thread scheduler: nobody could take over its tasks; it panics.
//!
//! This module knows both schedulers (to tell them apart), so it sits at the top of the
//! crate's layering, beside `handle`.

use crate::context;
use crate::current_thread;
use crate::multi_thread::{self, Enter, WorkerCore};

/// Runs the blocking closure `f` on this thread, and makes sure the runtime's other tasks
/// keep running meanwhile.
///
/// On a [`MultiThread`](crate::MultiThread) worker, the worker's run queue, pinned-task queue
/// and park move to a stand-in thread (a thread of the runtime's blocking pool if it has
/// one, a new thread otherwise) that runs the worker loop until `f` returns; then this thread
/// takes the worker back and the task that called `block_in_place` carries on. Tasks pinned
/// to the worker with [`spawn_local`](crate::spawn_local) wait until then: they can only run
/// on this thread. While `f` runs, this thread drives no scheduler: `spawn` from `f` goes
/// through the injection queue, and `f` may call a `block_on`.
///
/// On the thread running a multi-thread `block_on`, outside any runtime, on a blocking pool
/// thread or inside another `block_in_place`, it just runs `f`.
///
/// Prefer [`Handle::spawn_blocking`](crate::Handle::spawn_blocking) where the blocking code
/// can move to another thread: `block_in_place` is for code that cannot (it borrows from
/// the task, or is not `Send`).
///
/// # Examples
///
/// ```
/// use ember_executor::{Handle, MultiThread, Park, Unpark};
/// use std::sync::{Arc, Condvar, Mutex};
/// use std::time::Duration;
///
/// /// A park that sleeps on a condvar: any thread may park with it (see `Worker::run`).
/// #[derive(Default)]
/// struct Parker { woken: Mutex<bool>, cv: Condvar }
/// struct P(Arc<Parker>);
/// impl Park for P {
///     fn park(&mut self, timeout: Option<Duration>) {
///         if timeout.is_some() { return; }
///         let mut woken = self.0.woken.lock().unwrap();
///         while !*woken { woken = self.0.cv.wait(woken).unwrap(); }
///         *woken = false;
///     }
/// }
/// impl Unpark for Parker {
///     fn unpark(&self) { *self.woken.lock().unwrap() = true; self.cv.notify_one(); }
/// }
///
/// let parkers: Vec<Arc<Parker>> = (0..1).map(|_| Arc::default()).collect();
/// let unparkers = parkers.iter().map(|p| p.clone() as Arc<dyn Unpark>).collect();
/// let (sched, workers) = MultiThread::new(unparkers);
/// let threads: Vec<_> = workers
///     .into_iter()
///     .zip(parkers)
///     .map(|(w, p)| std::thread::spawn(move || w.run(&mut P(p))))
///     .collect();
///
/// let main = Arc::new(Parker::default());
/// let answer = sched.block_on(
///     async {
///         Handle::current()
///             .spawn(async {
///                 let (tx, rx) = std::sync::mpsc::channel();
///                 // Spawned while this task blocks: it runs on the stand-in thread.
///                 Handle::current().spawn(async move { tx.send(42).unwrap() });
///                 ember_executor::block_in_place(|| rx.recv().unwrap())
///             })
///             .await
///             .unwrap()
///     },
///     &mut P(main.clone()),
///     main,
/// );
/// assert_eq!(answer, 42);
/// sched.shutdown();
/// for t in threads { t.join().unwrap(); }
/// ```
///
/// # Panics
///
/// On a thread running a [`CurrentThread`](crate::CurrentThread) scheduler ("block_in_place
/// can only be used on a multi-thread runtime: ..."): its tasks would all stall. A panic of
/// `f` propagates, after the worker was taken back.
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    block_in_place_entering(f, Box::new(|run: &mut dyn FnMut()| run()))
}

/// [`block_in_place`], with `enter` run on the stand-in thread around the worker loop it runs
/// (the facade enters its reactor there). Behind `__private`.
#[track_caller]
pub(crate) fn block_in_place_entering<F, R>(f: F, enter: Enter) -> R
where
    F: FnOnce() -> R,
{
    enum Here {
        Worker,
        CurrentThread,
        /// Driving a scheduler that runs no tasks here, or nothing at all.
        NoTasks,
    }
    let here = context::with_running(|running| match running {
        Some(running) if running.core::<WorkerCore>().is_some() => Here::Worker,
        Some(running) if running.core::<current_thread::Core>().is_some() => Here::CurrentThread,
        _ => Here::NoTasks,
    })
    .unwrap_or(Here::NoTasks);
    match here {
        Here::CurrentThread => panic!(
            "block_in_place can only be used on a multi-thread runtime: this thread runs a \
             current-thread runtime, whose other tasks would all stall while it blocks; use \
             spawn_blocking, or build a multi-thread runtime"
        ),
        Here::NoTasks => {
            let _exit = context::exit_running();
            f()
        }
        Here::Worker => {
            let exit = context::exit_running();
            match exit
                .running()
                .and_then(|running| running.core_rc::<WorkerCore>())
            {
                Some(core) => multi_thread::block_in_place(core, f, enter),
                None => f(),
            }
        }
    }
}
