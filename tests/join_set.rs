//! JoinSet: collect, join in completion order, abort, shutdown, detach, drop.

mod util;

use ember::task::JoinSet;
use futures_util::io::AsyncWriteExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use util::{watchdog, DropCounter};

/// A future that stays pending until its gate is opened, from any thread.
struct Gated(Arc<Mutex<(bool, Option<Waker>)>>);

#[derive(Clone)]
struct Gate(Arc<Mutex<(bool, Option<Waker>)>>);

fn gate() -> (Gated, Gate) {
    let state = Arc::new(Mutex::new((false, None)));
    (Gated(Arc::clone(&state)), Gate(state))
}

impl Gate {
    fn open(&self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for Gated {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.0.lock().unwrap();
        if state.0 {
            Poll::Ready(())
        } else {
            state.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Yields until `done()` holds (bounded by the test's watchdog).
async fn until(done: impl Fn() -> bool) {
    while !done() {
        ember::task::yield_now().await;
    }
}

per_flavor! {
    #[test]
    fn collect_and_join_every_output() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let set: JoinSet<u64> = (0..1000u64)
                .map(|i| async move {
                    if i % 3 == 0 {
                        ember::task::yield_now().await;
                    }
                    i
                })
                .collect();
            assert_eq!(set.len(), 1000);
            let mut outputs = set.join_all().await;
            outputs.sort_unstable();
            assert_eq!(outputs, (0..1000).collect::<Vec<_>>());

            let mut set = JoinSet::new();
            set.extend((0..10u64).map(|i| async move { i }));
            set.spawn(async { 10 });
            let mut sum = 0;
            while let Some(output) = set.join_next().await {
                sum += output.unwrap();
            }
            assert_eq!(sum, 55);
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
        });
    }

    #[test]
    fn join_next_follows_completion_order() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let mut set = JoinSet::new();
            let mut gates = Vec::new();
            for i in 0..5 {
                let (gated, gate) = gate();
                gates.push(gate);
                set.spawn(async move {
                    gated.await;
                    i
                });
            }
            // Opened from another thread, in reverse order, one at a time.
            for (i, gate) in gates.into_iter().enumerate().rev() {
                std::thread::spawn(move || gate.open()).join().unwrap();
                assert_eq!(set.join_next().await.unwrap().unwrap(), i);
            }
            assert!(set.join_next().await.is_none());
        });
    }

    #[test]
    fn try_join_next_only_returns_finished_tasks() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let mut set = JoinSet::new();
            let (gated, gate) = gate();
            set.spawn(async move {
                gated.await;
                "late"
            });
            set.spawn(async { "early" });
            let early = loop {
                if let Some(output) = set.try_join_next() {
                    break output.unwrap();
                }
                ember::task::yield_now().await;
            };
            assert_eq!(early, "early");
            assert!(set.try_join_next().is_none());
            assert_eq!(set.len(), 1);
            gate.open();
            assert_eq!(set.join_next().await.unwrap().unwrap(), "late");
        });
    }

    #[test]
    fn abort_one_and_abort_all() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let drops = Arc::new(AtomicUsize::new(0));
            let mut set = JoinSet::new();
            let mut aborts = Vec::new();
            for _ in 0..4 {
                let guard = DropCounter(Arc::clone(&drops));
                aborts.push(set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }));
            }
            aborts[0].abort();
            assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            assert_eq!(set.len(), 3);

            set.abort_all();
            let mut cancelled = 0;
            while let Some(result) = set.join_next().await {
                assert!(result.unwrap_err().is_cancelled());
                cancelled += 1;
            }
            assert_eq!(cancelled, 3);
            assert_eq!(drops.load(Ordering::SeqCst), 4);
            assert!(aborts.iter().all(|abort| abort.is_finished()));
        });
    }

    #[test]
    fn a_panic_comes_back_as_a_join_error() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { panic!("boom") });
            set.spawn(async { 1 });
            let mut panics = 0;
            let mut values = 0;
            while let Some(result) = set.join_next().await {
                match result {
                    Ok(v) => values += v,
                    Err(e) => {
                        assert!(e.is_panic());
                        panics += 1;
                    }
                }
            }
            assert_eq!((panics, values), (1, 1));
        });
    }

    #[test]
    fn shutdown_cancels_and_waits_for_every_task() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let drops = Arc::new(AtomicUsize::new(0));
            let mut set = JoinSet::new();
            for _ in 0..50 {
                let guard = DropCounter(Arc::clone(&drops));
                set.spawn(async move {
                    let _guard = guard;
                    ember::time::sleep(Duration::from_secs(3600)).await;
                });
            }
            set.shutdown().await;
            assert!(set.is_empty());
            assert_eq!(drops.load(Ordering::SeqCst), 50);
        });
    }

    #[test]
    fn dropping_the_set_aborts_its_tasks() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let drops = Arc::new(AtomicUsize::new(0));
            let started = Arc::new(AtomicUsize::new(0));
            let mut set = JoinSet::new();
            for _ in 0..20 {
                let guard = DropCounter(Arc::clone(&drops));
                let started = Arc::clone(&started);
                set.spawn(async move {
                    let _guard = guard;
                    started.fetch_add(1, Ordering::SeqCst);
                    std::future::pending::<()>().await;
                });
            }
            // Half of them never polled before the drop, half waiting: both cancel.
            until(|| started.load(Ordering::SeqCst) >= 10).await;
            drop(set);
            until(|| drops.load(Ordering::SeqCst) == 20).await;
            assert_eq!(Arc::strong_count(&drops), 1, "a task kept its future");
        });
    }

    #[test]
    fn detach_all_lets_the_tasks_run_on() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let finished = Arc::new(AtomicUsize::new(0));
            let (gated, gate) = gate();
            let gated = Arc::new(Mutex::new(Some(gated)));
            let mut set = JoinSet::new();
            for i in 0..3 {
                let finished = Arc::clone(&finished);
                let gated = Arc::clone(&gated);
                set.spawn(async move {
                    if i == 0 {
                        let gated = gated.lock().unwrap().take().unwrap();
                        gated.await;
                    }
                    finished.fetch_add(1, Ordering::SeqCst);
                });
            }
            set.detach_all();
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
            drop(set);
            gate.open();
            until(|| finished.load(Ordering::SeqCst) == 3).await;
        });
    }

    #[test]
    fn spawn_local_and_spawn_blocking_join_too() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            // From inside a task, so that on a multi-thread runtime a worker runs it.
            let total = ember::spawn(async {
                let mut set = JoinSet::new();
                let local = std::rc::Rc::new(5);
                set.spawn_local(async move { *local });
                set.spawn_blocking(|| 6);
                set.spawn_on(async { 7 }, &ember::runtime::Handle::current());
                set.spawn_blocking_on(|| 8, &ember::runtime::Handle::current());
                let mut total = 0;
                while let Some(result) = set.join_next().await {
                    total += result.unwrap();
                }
                total
            });
            assert_eq!(total.await.unwrap(), 26);
        });
    }

    #[test]
    fn join_set_tasks_get_the_cooperative_budget() {
        // As `fairness.rs`, with the spinner spawned through a JoinSet: a task
        // spawned without the facade's budget never yields while its socket
        // stays ready, and the timer never fires (the watchdog then aborts).
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (mut writer, reader) = util::tcp_pair().await;
            writer.write_all(b"always ready").await.unwrap();
            let fired = Arc::new(AtomicBool::new(false));
            let spins = Arc::new(AtomicU64::new(0));
            let mut set = JoinSet::new();
            {
                let fired = Arc::clone(&fired);
                let spins = Arc::clone(&spins);
                set.spawn(async move {
                    let mut buf = [0u8; 4];
                    while !fired.load(Ordering::SeqCst) {
                        reader.peek(&mut buf).await.unwrap();
                        spins.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            {
                let fired = Arc::clone(&fired);
                set.spawn(async move {
                    ember::time::sleep(Duration::from_millis(10)).await;
                    fired.store(true, Ordering::SeqCst);
                });
            }
            set.join_all().await;
            assert!(spins.load(Ordering::Relaxed) > 0, "the spinner never ran");
        });
    }
}

#[test]
fn join_all_resumes_a_task_s_panic() {
    let _guard = watchdog(Duration::from_secs(10));
    let caught = std::panic::catch_unwind(|| {
        ember::block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { panic!("task failed") });
            set.join_all().await
        })
    });
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"task failed"));
}

#[test]
fn auto_traits() {
    fn assert_send<T: Send>() {}
    fn assert_sync<T: Sync>() {}
    assert_send::<JoinSet<u32>>();
    assert_sync::<JoinSet<u32>>();
    assert_send::<ember::task::AbortHandle>();
}
