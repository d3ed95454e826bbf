//! The multi-thread scheduler with real worker threads parking on a condvar. Lost wakeups
//! would hang (and hit the test bound); lost or doubled tasks show in the counters.

mod util;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{self, JoinHandle as ThreadHandle};
use std::time::Duration;

use ember_executor::task::yield_now;
use ember_executor::{Handle, MultiThread, Park, Unpark, Worker};
use util::{bounded, gate, oneshot, DropGuard};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn auto_traits() {
    assert_send::<MultiThread>();
    assert_sync::<MultiThread>();
    assert_send::<Worker>();
    assert_send::<Handle>();
    assert_sync::<Handle>();
}

/// A park that sleeps on a condvar; remembers an unpark that comes early.
#[derive(Default)]
struct Parker {
    woken: Mutex<bool>,
    cv: Condvar,
    /// How many non-blocking parks happened (the "check the reactor" calls).
    zero_parks: AtomicUsize,
}

impl Unpark for Parker {
    fn unpark(&self) {
        *self.woken.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

struct CondPark(Arc<Parker>);

impl Park for CondPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let mut woken = self.0.woken.lock().unwrap();
        match timeout {
            Some(d) if d.is_zero() => {
                self.0.zero_parks.fetch_add(1, Ordering::Relaxed);
            }
            Some(d) => {
                if !*woken {
                    woken = self.0.cv.wait_timeout(woken, d).unwrap().0;
                }
                *woken = false;
            }
            None => {
                while !*woken {
                    woken = self.0.cv.wait(woken).unwrap();
                }
                *woken = false;
            }
        }
    }
}

/// A scheduler with `n` worker threads.
struct Pool {
    sched: Arc<MultiThread>,
    parkers: Vec<Arc<Parker>>,
    threads: Vec<ThreadHandle<()>>,
}

impl Pool {
    fn new(n: usize) -> Pool {
        let parkers: Vec<Arc<Parker>> = (0..n).map(|_| Arc::default()).collect();
        let unparkers = parkers
            .iter()
            .map(|p| p.clone() as Arc<dyn Unpark>)
            .collect();
        let (sched, workers) = MultiThread::new(unparkers);
        let threads = workers
            .into_iter()
            .zip(parkers.clone())
            .enumerate()
            .map(|(i, (worker, parker))| {
                assert_eq!(worker.index(), i);
                thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn(move || worker.run(&mut CondPark(parker)))
                    .unwrap()
            })
            .collect();
        Pool {
            sched: Arc::new(sched),
            parkers,
            threads,
        }
    }

    fn block_on<F: Future>(&self, f: F) -> F::Output {
        let main = Arc::new(Parker::default());
        self.sched.block_on(f, &mut CondPark(main.clone()), main)
    }

    /// Shuts down and joins every worker thread.
    fn shutdown(self) {
        self.sched.shutdown();
        for t in self.threads {
            t.join().unwrap();
        }
    }
}

const MANY: usize = 1_000_000;

#[test]
fn a_million_tasks_from_four_outside_threads() {
    bounded(|| {
        let pool = Pool::new(2);
        let done = Arc::new(AtomicUsize::new(0));
        let (all_done_tx, all_done_rx) = mpsc::channel();
        let all_done_tx = Arc::new(Mutex::new(Some(all_done_tx)));
        let spawners: Vec<_> = (0..4)
            .map(|_| {
                let handle = pool.sched.handle();
                let (done, all_done_tx) = (done.clone(), all_done_tx.clone());
                thread::spawn(move || {
                    for _ in 0..MANY / 4 {
                        let (done, all_done_tx) = (done.clone(), all_done_tx.clone());
                        drop(handle.spawn(async move {
                            if done.fetch_add(1, Ordering::Relaxed) + 1 == MANY {
                                if let Some(tx) = all_done_tx.lock().unwrap().take() {
                                    tx.send(()).unwrap();
                                }
                            }
                        }));
                    }
                })
            })
            .collect();
        for s in spawners {
            s.join().unwrap();
        }
        all_done_rx.recv().unwrap();
        assert_eq!(done.load(Ordering::Relaxed), MANY);
        pool.shutdown();
    });
}

#[test]
fn spawn_many_from_inside_and_join() {
    bounded(|| {
        let pool = Pool::new(2);
        let sum = pool.block_on(async {
            let outer = Handle::current().spawn(async {
                // Spawned on a worker: the local ring overflows into the injection queue.
                let tasks: Vec<_> = (0..10_000u64)
                    .map(|i| Handle::current().spawn(async move { i }))
                    .collect();
                let mut sum = 0;
                for t in tasks {
                    sum += t.await.unwrap();
                }
                sum
            });
            outer.await.unwrap()
        });
        assert_eq!(sum, (0..10_000u64).sum::<u64>());
        pool.shutdown();
    });
}

#[test]
fn chained_spawn() {
    fn chain(depth: usize, done: util::Sender<()>) {
        if depth == 0 {
            done.send(());
        } else {
            drop(Handle::current().spawn(async move { chain(depth - 1, done) }));
        }
    }
    bounded(|| {
        let pool = Pool::new(2);
        pool.block_on(async {
            let (tx, rx) = oneshot();
            drop(Handle::current().spawn(async move { chain(1000, tx) }));
            rx.await;
        });
        pool.shutdown();
    });
}

/// Wakes its waker from another thread during its own poll, so the wake races the end of the
/// poll; finishes after `rounds` such polls.
struct WakeDuringPoll {
    rounds: usize,
    waker_tx: mpsc::Sender<Waker>,
    ack_rx: Arc<Mutex<mpsc::Receiver<()>>>,
}

impl Future for WakeDuringPoll {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.rounds == 0 {
            return Poll::Ready(());
        }
        self.rounds -= 1;
        self.waker_tx.send(cx.waker().clone()).unwrap();
        // The other thread has woken us before we return Pending.
        self.ack_rx.lock().unwrap().recv().unwrap();
        Poll::Pending
    }
}

#[test]
fn wake_from_another_thread_while_being_polled() {
    const ROUNDS: usize = if cfg!(debug_assertions) {
        2_000
    } else {
        20_000
    };
    bounded(|| {
        let pool = Pool::new(2);
        let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
        let (ack_tx, ack_rx) = mpsc::channel();
        let waker_thread = thread::spawn(move || {
            for waker in waker_rx {
                waker.wake();
                let _ = ack_tx.send(());
            }
        });
        pool.block_on(async move {
            Handle::current()
                .spawn(WakeDuringPoll {
                    rounds: ROUNDS,
                    waker_tx,
                    ack_rx: Arc::new(Mutex::new(ack_rx)),
                })
                .await
                .unwrap();
        });
        waker_thread.join().unwrap();
        pool.shutdown();
    });
}

#[test]
fn ping_pong_across_workers_and_threads() {
    const ROUNDS: usize = if cfg!(debug_assertions) {
        2_000
    } else {
        20_000
    };
    bounded(|| {
        let pool = Pool::new(2);
        let (keys_tx, keys_rx) = mpsc::channel::<util::GateKey>();
        let opener = thread::spawn(move || {
            for key in keys_rx {
                key.open();
            }
        });
        pool.block_on(async move {
            let task = Handle::current().spawn(async move {
                for _ in 0..ROUNDS {
                    let (g, key) = gate();
                    keys_tx.send(key).unwrap();
                    g.await;
                }
            });
            task.await.unwrap();
        });
        opener.join().unwrap();
        pool.shutdown();
    });
}

#[test]
fn a_spinning_task_does_not_stop_the_others() {
    bounded(|| {
        let pool = Pool::new(2);
        let stop = Arc::new(AtomicBool::new(false));
        let spins = Arc::new(AtomicUsize::new(0));
        let spinner = {
            let (stop, spins) = (stop.clone(), spins.clone());
            pool.sched.spawn(async move {
                while !stop.load(Ordering::Acquire) {
                    spins.fetch_add(1, Ordering::Relaxed);
                    yield_now().await;
                }
            })
        };
        let ran = pool.block_on(async {
            let tasks: Vec<_> = (0..1000usize)
                .map(|i| Handle::current().spawn(async move { i }))
                .collect();
            let mut n = 0;
            for t in tasks {
                t.await.unwrap();
                n += 1;
            }
            n
        });
        assert_eq!(ran, 1000);
        stop.store(true, Ordering::Release);
        pool.block_on(spinner).unwrap();
        // The spinner's worker kept polling for events while it spun.
        let zero_parks: usize = pool
            .parkers
            .iter()
            .map(|p| p.zero_parks.load(Ordering::Relaxed))
            .sum();
        assert!(spins.load(Ordering::Relaxed) < 61 || zero_parks > 0);
        pool.shutdown();
    });
}

#[test]
fn panics_never_kill_a_worker() {
    bounded(|| {
        let pool = Pool::new(2);
        pool.block_on(async {
            let panicking: Vec<_> = (0..100)
                .map(|i| Handle::current().spawn(async move { panic!("task {i} panics") }))
                .collect();
            for t in panicking {
                assert!(t.await.unwrap_err().is_panic());
            }
            let fine: Vec<_> = (0..100usize)
                .map(|i| Handle::current().spawn(async move { i * 2 }))
                .collect();
            for (i, t) in fine.into_iter().enumerate() {
                assert_eq!(t.await.unwrap(), i * 2);
            }
        });
        pool.shutdown();
    });
}

#[test]
fn spawn_local_stays_on_its_worker() {
    bounded(|| {
        let pool = Pool::new(2);
        let (waker_tx, waker_rx) = mpsc::channel::<util::GateKey>();
        let opener = thread::spawn(move || {
            for key in waker_rx {
                key.open();
            }
        });
        let ok = pool.block_on(async move {
            Handle::current()
                .spawn(async move {
                    let home = thread::current().id();
                    let local = ember_executor::spawn_local(async move {
                        let rc = std::rc::Rc::new(());
                        for i in 0..200 {
                            assert_eq!(thread::current().id(), home, "moved off its worker");
                            if i % 2 == 0 {
                                yield_now().await;
                            } else {
                                // Woken from another thread: goes through the worker's inbox.
                                let (g, key) = gate();
                                waker_tx.send(key).unwrap();
                                g.await;
                            }
                        }
                        drop(rc);
                        thread::current().id() == home
                    });
                    local.await.unwrap()
                })
                .await
                .unwrap()
        });
        assert!(ok);
        opener.join().unwrap();
        pool.shutdown();
    });
}

#[test]
fn handle_current_on_workers_and_in_block_on() {
    bounded(|| {
        let pool = Pool::new(2);
        let name = pool.block_on(async {
            assert!(Handle::try_current().is_some());
            Handle::current()
                .spawn(async {
                    let inner = Handle::current()
                        .spawn(async { thread::current().name().map(String::from) });
                    inner.await.unwrap()
                })
                .await
                .unwrap()
        });
        assert!(name.unwrap().starts_with("worker-"));
        assert!(Handle::try_current().is_none());
        pool.shutdown();
    });
}

#[test]
fn nested_block_on_on_a_worker_panics() {
    bounded(|| {
        let pool = Pool::new(2);
        let err = pool.block_on(async {
            Handle::current()
                .spawn(async { ember_executor::block_on(async {}) })
                .await
                .unwrap_err()
        });
        let payload = err.into_panic();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap();
        assert!(
            message.starts_with("Cannot block_on inside a running ember runtime"),
            "{message}"
        );
        pool.shutdown();
    });
}

#[test]
fn spawn_local_on_the_block_on_thread_panics() {
    bounded(|| {
        let pool = Pool::new(1);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.block_on(async { drop(ember_executor::spawn_local(async {})) })
        }));
        assert!(result.is_err());
        pool.shutdown();
    });
}

#[test]
fn shutdown_drops_every_task_exactly_once() {
    bounded(|| {
        let pool = Pool::new(2);
        let drops = Arc::new(AtomicUsize::new(0));
        let mut expected = 0;
        let mut keys = Vec::new();
        let mut joins = Vec::new();
        // Pending `Send` tasks whose wakers are held by gates nobody opens.
        for _ in 0..50 {
            let (g, key) = gate();
            keys.push(key);
            let guard = DropGuard(drops.clone());
            joins.push(pool.sched.spawn(async move {
                let _guard = guard;
                g.await;
            }));
            expected += 1;
        }
        // Pending pinned tasks on the workers, and yielding tasks still runnable at shutdown.
        let (ready_tx, ready_rx) = mpsc::channel();
        for _ in 0..10 {
            let guard = DropGuard(drops.clone());
            let guard2 = DropGuard(drops.clone());
            let ready_tx = ready_tx.clone();
            drop(pool.sched.spawn(async move {
                let _guard = guard;
                let (g, key) = gate();
                drop(ember_executor::spawn_local(async move {
                    let _guard = guard2;
                    let _key = key;
                    g.await;
                }));
                ready_tx.send(()).unwrap();
                loop {
                    yield_now().await;
                }
            }));
            expected += 2;
        }
        for _ in 0..10 {
            ready_rx.recv().unwrap();
        }
        // Wait until every gated task has been polled once (registered as pending).
        while !keys.iter().all(|k| k.has_waiter()) {
            thread::yield_now();
        }
        pool.shutdown();
        assert_eq!(drops.load(Ordering::SeqCst), expected);
        for j in joins {
            assert!(j.is_finished());
        }
        // Late wakes of cancelled tasks are harmless.
        for k in keys {
            k.open();
        }
        assert_eq!(drops.load(Ordering::SeqCst), expected);
    });
}

#[test]
fn join_handles_report_cancelled_after_shutdown() {
    bounded(|| {
        let pool = Pool::new(2);
        let (g, key) = gate();
        let task = pool.sched.spawn(g);
        while !key.has_waiter() {
            thread::yield_now();
        }
        let sched = pool.sched.clone();
        pool.shutdown();
        let main = Arc::new(Parker::default());
        let err = sched
            .block_on(task, &mut CondPark(main.clone()), main)
            .unwrap_err();
        assert!(err.is_cancelled());
        // Spawning after shutdown cancels at once.
        let late = sched.spawn(async { 1 });
        let main = Arc::new(Parker::default());
        assert!(sched
            .block_on(late, &mut CondPark(main.clone()), main)
            .unwrap_err()
            .is_cancelled());
    });
}

#[test]
fn shutdown_before_the_workers_run_and_unrun_workers() {
    bounded(|| {
        let parkers: Vec<Arc<Parker>> = (0..3).map(|_| Arc::default()).collect();
        let unparkers = parkers
            .iter()
            .map(|p| p.clone() as Arc<dyn Unpark>)
            .collect();
        let (sched, mut workers) = MultiThread::new(unparkers);
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropGuard(drops.clone());
        let task = sched.spawn(async move {
            let _guard = guard;
        });
        sched.shutdown();
        // One worker never runs; the others start after shutdown and return at once.
        drop(workers.pop());
        let threads: Vec<_> = workers
            .into_iter()
            .zip(parkers)
            .map(|(w, p)| thread::spawn(move || w.run(&mut CondPark(p))))
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(task.is_finished());
        sched.shutdown();
        drop(sched);
    });
}

#[test]
fn shutdown_while_tasks_are_busy() {
    bounded(|| {
        let pool = Pool::new(2);
        let drops = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            let guard = DropGuard(drops.clone());
            drop(pool.sched.spawn(async move {
                let _guard = guard;
                loop {
                    yield_now().await;
                    // Keep spawning: spawns racing shutdown must be cancelled too.
                    let guard = DropGuard(Arc::new(AtomicUsize::new(0)));
                    drop(Handle::current().spawn(async move { drop(guard) }));
                }
            }));
        }
        let sched = pool.sched.clone();
        pool.shutdown();
        assert_eq!(drops.load(Ordering::SeqCst), 100);
        drop(sched);
    });
}

#[test]
fn handle_spawn_from_worker_prefers_the_local_queue() {
    bounded(|| {
        let pool = Pool::new(1);
        // With one worker every task runs on it; this checks the worker path end to end.
        let n = pool.block_on(async {
            Handle::current()
                .spawn(async {
                    let mut n = 0;
                    for i in 0..100 {
                        n += Handle::current().spawn(async move { i }).await.unwrap();
                    }
                    n
                })
                .await
                .unwrap()
        });
        assert_eq!(n, (0..100).sum::<i32>());
        pool.shutdown();
    });
}

#[test]
fn pinned_tasks_woken_from_outside_while_shutting_down() {
    bounded(|| {
        for _ in 0..20 {
            let pool = Pool::new(2);
            let drops = Arc::new(AtomicUsize::new(0));
            let (keys_tx, keys_rx) = mpsc::channel::<util::GateKey>();
            let (ready_tx, ready_rx) = mpsc::channel();
            for _ in 0..4 {
                let (drops, keys_tx, ready_tx) = (drops.clone(), keys_tx.clone(), ready_tx.clone());
                drop(pool.sched.spawn(async move {
                    for _ in 0..10 {
                        let guard = DropGuard(drops.clone());
                        let (g, key) = gate();
                        keys_tx.send(key).unwrap();
                        drop(ember_executor::spawn_local(async move {
                            let _guard = guard;
                            g.await;
                            std::future::pending::<()>().await;
                        }));
                    }
                    ready_tx.send(()).unwrap();
                }));
            }
            for _ in 0..4 {
                ready_rx.recv().unwrap();
            }
            drop(keys_tx);
            let keys: Vec<_> = keys_rx.iter().collect();
            while !keys.iter().all(|k| k.has_waiter()) {
                thread::yield_now();
            }
            let opener = thread::spawn(move || {
                for k in keys {
                    k.open();
                }
            });
            pool.shutdown();
            opener.join().unwrap();
            assert_eq!(drops.load(Ordering::SeqCst), 40);
        }
    });
}

#[test]
fn abort_pending_and_running_tasks() {
    bounded(|| {
        let pool = Pool::new(2);
        let drops = Arc::new(AtomicUsize::new(0));
        pool.block_on(async {
            // Pending on a gate: abort drops its future.
            let guard = DropGuard(drops.clone());
            let (g, key) = gate();
            let pending = Handle::current().spawn(async move {
                let _guard = guard;
                g.await;
            });
            while !key.has_waiter() {
                yield_now().await;
            }
            pending.abort();
            assert!(pending.await.unwrap_err().is_cancelled());
            // Busy yielding on a worker: aborted from another thread through an AbortHandle.
            let guard = DropGuard(drops.clone());
            let busy = Handle::current().spawn(async move {
                let _guard = guard;
                loop {
                    yield_now().await;
                }
            });
            let abort = busy.abort_handle();
            thread::spawn(move || abort.abort()).join().unwrap();
            assert!(busy.await.unwrap_err().is_cancelled());
        });
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        pool.shutdown();
    });
}

#[test]
fn detached_tasks_keep_running() {
    bounded(|| {
        let pool = Pool::new(2);
        let (tx, rx) = oneshot();
        drop(pool.sched.spawn(async move {
            for _ in 0..10 {
                yield_now().await;
            }
            tx.send(7);
        }));
        assert_eq!(pool.block_on(rx), 7);
        pool.shutdown();
    });
}

#[test]
fn single_worker_runs_everything() {
    bounded(|| {
        let pool = Pool::new(1);
        let n = pool.block_on(async {
            let tasks: Vec<_> = (0..1000u64)
                .map(|i| {
                    Handle::current().spawn(async move {
                        yield_now().await;
                        i
                    })
                })
                .collect();
            let mut n = 0;
            for t in tasks {
                n += t.await.unwrap();
            }
            n
        });
        assert_eq!(n, (0..1000u64).sum::<u64>());
        pool.shutdown();
    });
}

#[test]
fn task_ids_on_workers() {
    bounded(|| {
        let pool = Pool::new(2);
        let checked = pool.block_on(async {
            let handles: Vec<_> = (0..100)
                .map(|_| {
                    Handle::current().spawn(async {
                        // Spawned from a worker too, and a pinned one.
                        let inner = Handle::current().spawn(async { ember_executor::task::id() });
                        let pinned =
                            ember_executor::spawn_local(async { ember_executor::task::id() });
                        let (inner_id, pinned_id) = (inner.id(), pinned.id());
                        assert_eq!(inner.await.unwrap(), inner_id);
                        assert_eq!(pinned.await.unwrap(), pinned_id);
                        ember_executor::task::id()
                    })
                })
                .collect();
            let mut checked = 0;
            for handle in handles {
                let id = handle.id();
                assert_eq!(handle.await.unwrap(), id);
                checked += 1;
            }
            checked
        });
        assert_eq!(checked, 100);
        pool.shutdown();
    });
}

/// The number of `Send` tasks in the scheduler's live-task set, from its `Debug` output.
fn live_send_tasks(sched: &MultiThread) -> usize {
    let debug = format!("{sched:?}");
    let field = debug.split("live_send_tasks: ").nth(1).expect(&debug);
    field
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn finished_tasks_leave_the_live_task_set() {
    bounded(|| {
        let pool = Pool::new(2);
        let (gate, key) = gate();
        let pending = pool.sched.spawn(gate);
        pool.block_on(async {
            let outside: Vec<_> = (0..1000)
                .map(|i| pool.sched.spawn(async move { i }))
                .collect();
            let inside = Handle::current()
                .spawn(async {
                    let tasks: Vec<_> = (0..1000)
                        .map(|i| Handle::current().spawn(async move { i }))
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                })
                .await;
            inside.unwrap();
            for t in outside {
                t.await.unwrap();
            }
        });
        // Only the pending task is left, however its neighbours finished (on whichever worker).
        assert_eq!(live_send_tasks(&pool.sched), 1);
        key.open();
        pool.block_on(pending).unwrap();
        assert_eq!(live_send_tasks(&pool.sched), 0);
        pool.shutdown();
    });
}

#[test]
fn a_yielding_task_goes_behind_the_others() {
    bounded(|| {
        let pool = Pool::new(1);
        let log = Arc::new(Mutex::new(String::new()));
        let l = log.clone();
        pool.block_on(async move {
            Handle::current()
                .spawn(async move {
                    let tasks: Vec<_> = ['A', 'B']
                        .into_iter()
                        .map(|name| {
                            let log = l.clone();
                            Handle::current().spawn(async move {
                                for _ in 0..4 {
                                    log.lock().unwrap().push(name);
                                    yield_now().await;
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                })
                .await
                .unwrap()
        });
        // A task that wakes itself while polled (yield_now) is queued behind the other, not
        // put in the LIFO slot, so the two alternate.
        let log = log.lock().unwrap().clone();
        assert!(log == "ABABABAB" || log == "BABABABA", "{log}");
        pool.shutdown();
    });
}

#[test]
fn entered_multi_thread_handle() {
    bounded(|| {
        let pool = Pool::new(1);
        let handle = pool.sched.handle();
        let task = {
            let _guard = handle.enter();
            assert!(std::panic::catch_unwind(|| ember_executor::spawn_local(async {})).is_err());
            Handle::current().spawn(async { thread::current().name().map(String::from) })
        };
        assert!(Handle::try_current().is_none());
        let name = pool.block_on(task).unwrap();
        assert!(name.unwrap().starts_with("worker-"));
        pool.shutdown();
    });
}

// ---- block_in_place ----------------------------------------------------------------------

/// How long a test waits for something that must happen while a task blocks in place; with
/// the worker not handed over, it would never happen, and the test fails after this.
const BLOCK_BOUND: Duration = Duration::from_secs(10);

/// The message of a task's panic.
fn panic_message(err: ember_executor::task::JoinError) -> String {
    let payload = err.into_panic();
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn block_in_place_hands_the_only_worker_to_a_stand_in() {
    bounded(|| {
        let pool = Pool::new(1);
        let (home, stand_in, pinned_ran_during_block) = pool.block_on(async {
            Handle::current()
                .spawn(async {
                    let home = thread::current().id();
                    // Pinned to this worker: it must wait for the block to end.
                    let pinned_ran = Arc::new(AtomicBool::new(false));
                    let flag = pinned_ran.clone();
                    let pinned = ember_executor::spawn_local(async move {
                        flag.store(true, Ordering::SeqCst);
                    });
                    let (tx, rx) = mpsc::channel();
                    // In this worker's LIFO slot: runs only if the worker is handed over.
                    drop(Handle::current().spawn(async move {
                        for _ in 0..10 {
                            yield_now().await;
                        }
                        tx.send(thread::current().id()).unwrap();
                    }));
                    let (stand_in, pinned_ran_during_block) =
                        ember_executor::block_in_place(|| {
                            let stand_in = rx.recv_timeout(BLOCK_BOUND).expect(
                                "the other task made no progress while this one blocked in place",
                            );
                            (stand_in, pinned_ran.load(Ordering::SeqCst))
                        });
                    // Back on the worker: the pinned task runs now.
                    pinned.await.unwrap();
                    assert_eq!(thread::current().id(), home);
                    assert!(pinned_ran.load(Ordering::SeqCst));
                    (home, stand_in, pinned_ran_during_block)
                })
                .await
                .unwrap()
        });
        assert_ne!(home, stand_in, "the other task ran on the blocked thread");
        assert!(!pinned_ran_during_block, "a pinned task ran off its thread");
        pool.shutdown();
    });
}

#[test]
fn block_in_place_nests_through_stand_ins() {
    bounded(|| {
        let pool = Pool::new(1);
        let got = pool.block_on(async {
            Handle::current()
                .spawn(async {
                    let (outer_tx, outer_rx) = mpsc::channel();
                    // Runs on the first stand-in, where it blocks in place in turn.
                    drop(Handle::current().spawn(async move {
                        let (inner_tx, inner_rx) = mpsc::channel();
                        // Runs on the second stand-in.
                        drop(Handle::current().spawn(async move { inner_tx.send(1).unwrap() }));
                        let inner = ember_executor::block_in_place(|| {
                            inner_rx
                                .recv_timeout(BLOCK_BOUND)
                                .expect("no second stand-in")
                        });
                        outer_tx.send(inner + 1).unwrap();
                    }));
                    ember_executor::block_in_place(|| {
                        outer_rx
                            .recv_timeout(BLOCK_BOUND)
                            .expect("no first stand-in")
                    })
                })
                .await
                .unwrap()
        });
        assert_eq!(got, 2);
        pool.shutdown();
    });
}

#[test]
fn many_tasks_block_in_place_while_others_run() {
    bounded(|| {
        let pool = Pool::new(2);
        let total = pool.block_on(async {
            let done = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..200usize)
                .map(|i| {
                    let done = done.clone();
                    Handle::current().spawn(async move {
                        yield_now().await;
                        let n = if i % 2 == 0 {
                            // Short blocks: most reclaims find the stand-in not started or
                            // just started, exercising both ends of the hand-over.
                            ember_executor::block_in_place(|| i)
                        } else {
                            i
                        };
                        yield_now().await;
                        done.fetch_add(1, Ordering::SeqCst);
                        n
                    })
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await.unwrap();
            }
            assert_eq!(done.load(Ordering::SeqCst), 200);
            total
        });
        assert_eq!(total, (0..200).sum::<usize>());
        pool.shutdown();
    });
}

#[test]
fn spawn_local_on_a_stand_in_panics() {
    bounded(|| {
        let pool = Pool::new(1);
        let err = pool.block_on(async {
            Handle::current()
                .spawn(async {
                    let (tx, rx) = mpsc::channel();
                    let on_stand_in = Handle::current().spawn(async move {
                        let result = std::panic::catch_unwind(|| {
                            drop(ember_executor::spawn_local(async {}));
                        });
                        tx.send(()).unwrap();
                        if let Err(payload) = result {
                            std::panic::resume_unwind(payload);
                        }
                    });
                    ember_executor::block_in_place(|| {
                        rx.recv_timeout(BLOCK_BOUND).expect("no stand-in");
                    });
                    on_stand_in.await.unwrap_err()
                })
                .await
                .unwrap()
        });
        let message = panic_message(err);
        assert!(
            message.starts_with("spawn_local cannot be called here"),
            "{message}"
        );
        pool.shutdown();
    });
}

#[test]
fn block_in_place_on_block_on_thread_and_outside_just_runs() {
    bounded(|| {
        assert_eq!(ember_executor::block_in_place(|| 1), 1);
        let pool = Pool::new(1);
        // The block_on thread runs no tasks; inside, it is out of the runtime and may block_on.
        let n = pool.block_on(async {
            ember_executor::block_in_place(|| ember_executor::block_on(async { 2 }))
        });
        assert_eq!(n, 2);
        // Inside a blocking pool closure (no scheduler on that thread).
        let pool_threads = ember_executor::blocking::BlockingPool::new(Default::default());
        let blocking = pool_threads.handle();
        let n = ember_executor::block_on(
            blocking.spawn_blocking(|| ember_executor::block_in_place(|| 3)),
        )
        .unwrap();
        assert_eq!(n, 3);
        pool.shutdown();
    });
}

#[test]
fn block_in_place_on_current_thread_panics() {
    let result = std::panic::catch_unwind(|| {
        ember_executor::block_on(async { ember_executor::block_in_place(|| ()) })
    });
    let payload = result.unwrap_err();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(
        message.starts_with("block_in_place can only be used on a multi-thread runtime: "),
        "{message}"
    );
}

#[test]
fn shutdown_while_a_stand_in_runs_the_worker() {
    bounded(|| {
        let pool = Pool::new(1);
        let (blocker_drops, queued_drops) =
            (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (blocked_tx, blocked_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let guard = DropGuard(blocker_drops.clone());
        let queued = queued_drops.clone();
        let blocker = pool.sched.spawn(async move {
            let _guard = guard;
            // Pending tasks on the lent core, to be cancelled once the worker is back.
            for _ in 0..3 {
                let guard = DropGuard(queued.clone());
                drop(Handle::current().spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }));
            }
            ember_executor::block_in_place(|| {
                blocked_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            });
            std::future::pending::<()>().await;
        });
        blocked_rx.recv().unwrap();
        // The stand-in gives the core back at shutdown; the worker's thread leaves once its
        // block ends, and cancels what was queued.
        pool.sched.shutdown();
        release_tx.send(()).unwrap();
        for t in pool.threads {
            t.join().unwrap();
        }
        assert!(ember_executor::block_on(blocker)
            .unwrap_err()
            .is_cancelled());
        assert_eq!(blocker_drops.load(Ordering::SeqCst), 1);
        assert_eq!(queued_drops.load(Ordering::SeqCst), 3);
    });
}
