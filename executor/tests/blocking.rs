//! The blocking pool on real threads: results, panics, the thread cap, shutdown with running
//! and queued work, naming and hooks, idle threads timing out. Every test runs under the
//! `bounded` watchdog; blocked closures are released through channels, never by sleeping.

mod util;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ember_executor::block_on;
use ember_executor::blocking::{BlockingConfig, BlockingHandle, BlockingPool};
use util::{bounded, DropGuard};

/// Generous bound for conditions that depend on time passing (keep-alive).
const PATIENCE: Duration = Duration::from_secs(30);

fn pool_with(max_threads: usize) -> BlockingPool {
    BlockingPool::new(BlockingConfig {
        max_threads,
        ..BlockingConfig::default()
    })
}

/// Polls `condition` until it holds; fails after `PATIENCE`.
#[track_caller]
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(5));
    }
}

/// Spawns a closure that reports it started, then blocks until released.
fn spawn_blocked(handle: &BlockingHandle) -> (ember_executor::JoinHandle<u32>, mpsc::Sender<()>) {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let task = handle.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        // Err (sender dropped) releases too.
        let _ = release_rx.recv();
        7
    });
    started_rx.recv().unwrap();
    (task, release_tx)
}

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<BlockingPool>();
    assert_send_sync::<BlockingHandle>();
    assert_send_sync::<BlockingConfig>();
}

#[test]
fn results_come_back_through_join_handles() {
    bounded(|| {
        let pool = pool_with(4);
        let handle = pool.handle();
        let results = block_on(async move {
            let tasks: Vec<_> = (0..20u64)
                .map(|i| handle.spawn_blocking(move || i * i))
                .collect();
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.unwrap());
            }
            results
        });
        assert_eq!(results, (0..20u64).map(|i| i * i).collect::<Vec<_>>());
        assert!(pool.thread_count() <= 4);
    });
}

#[test]
fn thread_cap_is_respected_and_all_tasks_complete() {
    const TASKS: usize = 64;
    bounded(|| {
        let pool = pool_with(4);
        let handle = pool.handle();
        // The first four tasks only finish together, which needs all four threads; the rest
        // queue behind them.
        let barrier = Arc::new(Barrier::new(4));
        let running = Arc::new(AtomicUsize::new(0));
        let most_running = Arc::new(AtomicUsize::new(0));
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let (barrier, running, most_running, threads) = (
                    barrier.clone(),
                    running.clone(),
                    most_running.clone(),
                    threads.clone(),
                );
                handle.spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most_running.fetch_max(now, Ordering::SeqCst);
                    threads.lock().unwrap().insert(thread::current().id());
                    if i < 4 {
                        barrier.wait();
                    }
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        assert!(pool.thread_count() <= 4);
        let results = block_on(async move {
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.unwrap());
            }
            results
        });
        assert_eq!(results, (0..TASKS).collect::<Vec<_>>());
        assert_eq!(most_running.load(Ordering::SeqCst), 4);
        assert_eq!(threads.lock().unwrap().len(), 4);
        assert_eq!(pool.thread_count(), 4);
    });
}

#[test]
fn idle_thread_is_reused() {
    bounded(|| {
        let pool = pool_with(8);
        let handle = pool.handle();
        let mut names = HashSet::new();
        for _ in 0..5 {
            wait_until("the previous thread is idle", || {
                pool.thread_count() == 0 || pool.idle_thread_count() == 1
            });
            let name = block_on(handle.spawn_blocking(|| thread::current().id())).unwrap();
            names.insert(name);
            assert_eq!(pool.thread_count(), 1);
        }
        assert_eq!(names.len(), 1);
    });
}

#[test]
fn panic_is_reported_and_pool_survives() {
    bounded(|| {
        let pool = pool_with(1);
        let handle = pool.handle();
        let err = block_on(handle.spawn_blocking(|| -> u32 { panic!("boom") })).unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.into_panic().downcast_ref::<&str>(), Some(&"boom"));
        // The same (only) thread keeps serving.
        assert_eq!(block_on(handle.spawn_blocking(|| 5)).unwrap(), 5);
        assert_eq!(pool.thread_count(), 1);
    });
}

#[test]
fn shutdown_timeout_waits_for_running_closures() {
    bounded(|| {
        let pool = pool_with(2);
        let handle = pool.handle();
        let (task, release) = spawn_blocked(&handle);
        assert!(!pool.shutdown_timeout(Duration::from_millis(20)));
        // Work submitted after shutdown is cancelled, never run.
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let late = handle.spawn_blocking(move || r.store(true, Ordering::SeqCst));
        assert!(block_on(late).unwrap_err().is_cancelled());
        release.send(()).unwrap();
        assert!(pool.shutdown_timeout(PATIENCE));
        assert_eq!(pool.thread_count(), 0);
        assert_eq!(block_on(task).unwrap(), 7);
        assert!(!ran.load(Ordering::SeqCst));
    });
}

#[test]
fn queued_tasks_are_cancelled_at_shutdown() {
    bounded(|| {
        let pool = pool_with(1);
        let handle = pool.handle();
        let (running, release) = spawn_blocked(&handle);
        let ran = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let queued: Vec<_> = (0..3)
            .map(|_| {
                let (ran, guard) = (ran.clone(), DropGuard(dropped.clone()));
                handle.spawn_blocking(move || {
                    let _guard = guard;
                    ran.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        assert!(!pool.shutdown_timeout(Duration::ZERO));
        // Cancelled at once, while the running closure is still blocked.
        for task in queued {
            assert!(task.is_finished());
            assert!(block_on(task).unwrap_err().is_cancelled());
        }
        assert_eq!(dropped.load(Ordering::SeqCst), 3);
        release.send(()).unwrap();
        assert_eq!(block_on(running).unwrap(), 7);
        assert!(pool.shutdown_timeout(PATIENCE));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn abort_cancels_a_queued_closure() {
    bounded(|| {
        let pool = pool_with(1);
        let handle = pool.handle();
        let (running, release) = spawn_blocked(&handle);
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let queued = handle.spawn_blocking(move || r.store(true, Ordering::SeqCst));
        queued.abort();
        release.send(()).unwrap();
        assert_eq!(block_on(running).unwrap(), 7);
        assert!(block_on(queued).unwrap_err().is_cancelled());
        assert!(!ran.load(Ordering::SeqCst));
    });
}

#[test]
fn drop_waits_for_running_closures() {
    bounded(|| {
        let pool = pool_with(2);
        let handle = pool.handle();
        let finished = Arc::new(AtomicBool::new(false));
        let f = finished.clone();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        let task = handle.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            let _ = release_rx.recv();
            f.store(true, Ordering::SeqCst);
        });
        started_rx.recv().unwrap();
        let releaser = thread::spawn(move || release_tx.send(()).unwrap());
        drop(pool);
        assert!(finished.load(Ordering::SeqCst));
        releaser.join().unwrap();
        block_on(task).unwrap();
        // The handle outlives the pool; its work is cancelled.
        assert!(block_on(handle.spawn_blocking(|| ()))
            .unwrap_err()
            .is_cancelled());
    });
}

#[test]
fn dropping_the_pool_on_its_own_thread_does_not_deadlock() {
    bounded(|| {
        let pool = pool_with(2);
        let handle = pool.handle();
        let task = handle.spawn_blocking(move || {
            drop(pool);
            3
        });
        assert_eq!(block_on(task).unwrap(), 3);
    });
}

#[test]
fn closures_can_spawn_more_blocking_work() {
    bounded(|| {
        let pool = pool_with(2);
        let handle = pool.handle();
        let inner = handle.clone();
        let task =
            handle.spawn_blocking(move || block_on(inner.spawn_blocking(|| 20)).unwrap() + 1);
        assert_eq!(block_on(task).unwrap(), 21);
    });
}

#[test]
fn threads_are_named_and_hooks_run_on_them() {
    bounded(|| {
        let counter = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(Mutex::new(Vec::new()));
        let (s, t) = (started.clone(), stopped.clone());
        let current_name = || thread::current().name().map(str::to_owned);
        let pool = BlockingPool::new(BlockingConfig {
            max_threads: 3,
            thread_name: Arc::new(move || {
                format!("test-pool-{}", counter.fetch_add(1, Ordering::SeqCst))
            }),
            on_thread_start: Some(Arc::new(move || s.lock().unwrap().push(current_name()))),
            on_thread_stop: Some(Arc::new(move || t.lock().unwrap().push(current_name()))),
            ..BlockingConfig::default()
        });
        let handle = pool.handle();
        // Three closures that only finish together: three threads.
        let barrier = Arc::new(Barrier::new(3));
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let barrier = barrier.clone();
                handle.spawn_blocking(move || {
                    barrier.wait();
                    current_name()
                })
            })
            .collect();
        let mut names: Vec<_> = tasks
            .into_iter()
            .map(|task| block_on(task).unwrap().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["test-pool-0", "test-pool-1", "test-pool-2"]);
        drop(pool);
        for hook_names in [started, stopped] {
            let mut hook_names: Vec<_> = hook_names
                .lock()
                .unwrap()
                .iter()
                .flatten()
                .cloned()
                .collect();
            hook_names.sort();
            assert_eq!(hook_names, names);
        }
    });
}

#[test]
fn default_thread_names() {
    bounded(|| {
        let pool = BlockingPool::new(BlockingConfig::default());
        let name = block_on(
            pool.handle()
                .spawn_blocking(|| thread::current().name().map(str::to_owned)),
        )
        .unwrap();
        assert_eq!(name.as_deref(), Some("ember-blocking-0"));
    });
}

#[test]
fn idle_threads_exit_after_keep_alive() {
    bounded(|| {
        let stops = Arc::new(AtomicUsize::new(0));
        let s = stops.clone();
        let pool = BlockingPool::new(BlockingConfig {
            max_threads: 4,
            keep_alive: Duration::from_millis(50),
            on_thread_stop: Some(Arc::new(move || {
                s.fetch_add(1, Ordering::SeqCst);
            })),
            ..BlockingConfig::default()
        });
        let handle = pool.handle();
        let barrier = Arc::new(Barrier::new(2));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let barrier = barrier.clone();
                handle.spawn_blocking(move || {
                    barrier.wait();
                })
            })
            .collect();
        for task in tasks {
            block_on(task).unwrap();
        }
        assert_eq!(pool.thread_count(), 2);
        wait_until("idle threads exit", || pool.thread_count() == 0);
        assert_eq!(stops.load(Ordering::SeqCst), 2);
        // The pool starts threads again on demand.
        assert_eq!(block_on(handle.spawn_blocking(|| 1)).unwrap(), 1);
        assert_eq!(pool.thread_count(), 1);
    });
}
