//! Tasks: panics, abort, detach, spawn_local, many tasks, shutdown.

mod util;

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use util::{watchdog, DropCounter};

per_flavor! {
    #[test]
    fn a_panic_becomes_a_join_error_and_the_runtime_goes_on() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let bystander = ember::spawn(async {
                ember::task::yield_now().await;
                "still here"
            });
            let err = ember::spawn(async { panic!("boom") }).await.unwrap_err();
            assert!(err.is_panic() && !err.is_cancelled());
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
            assert_eq!(bystander.await.unwrap(), "still here");
            assert_eq!(ember::spawn(async { 1 }).await.unwrap(), 1);
        });
    }

    #[test]
    fn abort_cancels_and_drops_the_future() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let drops = Arc::new(AtomicUsize::new(0));
            let guard = DropCounter(Arc::clone(&drops));
            let task = ember::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            ember::task::yield_now().await;
            task.abort();
            let err = task.await.unwrap_err();
            assert!(err.is_cancelled() && !err.is_panic());
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn an_abort_handle_cancels_from_elsewhere() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let task = ember::spawn(std::future::pending::<()>());
            let abort = task.abort_handle();
            std::thread::spawn(move || abort.abort()).join().unwrap();
            assert!(task.await.unwrap_err().is_cancelled());
        });
    }

    #[test]
    fn a_detached_task_keeps_running() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let done = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&done);
            drop(ember::spawn(async move {
                for _ in 0..3 {
                    ember::task::yield_now().await;
                }
                flag.store(true, Ordering::SeqCst);
            }));
            while !done.load(Ordering::SeqCst) {
                ember::task::yield_now().await;
            }
        });
    }

    #[test]
    fn spawn_local_runs_futures_holding_rc() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            // From inside a task, so that on a multi-thread runtime it is a
            // worker's local queue the tasks are pinned to.
            let outer = ember::spawn(async {
                let pinned_to = std::thread::current().id();
                let top = ember::spawn_local(async move {
                    let counter = Rc::new(std::cell::Cell::new(0));
                    let tasks: Vec<_> = (0..10)
                        .map(|_| {
                            let counter = Rc::clone(&counter);
                            ember::spawn_local(async move {
                                ember::task::yield_now().await;
                                assert_eq!(std::thread::current().id(), pinned_to);
                                counter.set(counter.get() + 1);
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                    counter.get()
                });
                top.await.unwrap()
            });
            assert_eq!(outer.await.unwrap(), 10);
        });
    }

    #[test]
    fn a_hundred_thousand_tasks_all_complete() {
        const TASKS: usize = 100_000;
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            let completed = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..TASKS)
                .map(|i| {
                    let completed = Arc::clone(&completed);
                    ember::spawn(async move {
                        if i % 2 == 0 {
                            ember::task::yield_now().await;
                        }
                        completed.fetch_add(1, Ordering::Relaxed);
                        i
                    })
                })
                .collect();
            let mut sum = 0usize;
            for task in tasks {
                sum += task.await.unwrap();
            }
            assert_eq!(completed.load(Ordering::Relaxed), TASKS);
            assert_eq!(sum, TASKS * (TASKS - 1) / 2);
        });
    }

    #[test]
    fn dropping_the_runtime_drops_every_task_exactly_once() {
        let _guard = watchdog(Duration::from_secs(10));
        let drops = Arc::new(AtomicUsize::new(0));
        let rt = runtime();
        let pending = rt.block_on(async {
            let listener = ember::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut spawned = 0;
            for kind in 0..4 {
                for _ in 0..25 {
                    let guard = DropCounter(Arc::clone(&drops));
                    match kind {
                        // Waiting forever on nothing.
                        0 => drop(ember::spawn(async move {
                            let _guard = guard;
                            std::future::pending::<()>().await
                        })),
                        // Waiting on a timer far away.
                        1 => drop(ember::spawn(async move {
                            let _guard = guard;
                            ember::time::sleep(Duration::from_secs(3600)).await
                        })),
                        // Waiting on a socket read that never comes: its waker
                        // sits in the reactor.
                        2 => {
                            let stream = ember::net::TcpStream::connect(addr).await.unwrap();
                            drop(ember::spawn(async move {
                                let _guard = guard;
                                let mut stream = stream;
                                let mut buf = [0u8; 1];
                                let _ = ember::io::AsyncReadExt::read(&mut stream, &mut buf).await;
                            }))
                        }
                        // A !Send task, pinned to the thread of the task that
                        // spawned it.
                        _ => drop(ember::spawn(async move {
                            drop(ember::spawn_local(async move {
                                let _rc = Rc::new(guard);
                                std::future::pending::<()>().await
                            }))
                        })),
                    }
                    spawned += 1;
                }
            }
            // Let every task reach its await point.
            ember::task::yield_now().await;
            // The listener keeps the clients' connections alive until the end.
            ember::spawn(async move {
                let _listener = listener;
                std::future::pending::<()>().await
            });
            spawned
        });
        assert_eq!(drops.load(Ordering::SeqCst), 0, "a task was dropped early");
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), pending);
        assert_eq!(Arc::strong_count(&drops), 1, "a task leaked its future");
    }

    #[test]
    fn block_on_inside_a_task_panics_with_a_clear_message() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let err = ember::spawn(async { block_on(async {}) })
                .await
                .unwrap_err();
            let payload = err.into_panic();
            let msg = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or_default();
            assert!(msg.contains("inside a running ember runtime"), "{msg}");
        });
    }
}

#[test]
fn spawn_outside_a_runtime_says_how_to_start_one() {
    let err = std::panic::catch_unwind(|| drop(ember::spawn(async {}))).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(msg.contains("ember::block_on"), "{msg}");
}

/// Current-thread only: with several workers the interleaving is up to the
/// scheduler.
#[test]
fn yield_now_lets_other_tasks_run() {
    let _guard = watchdog(Duration::from_secs(10));
    ember::block_on(async {
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let tasks: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|name| {
                let log = Arc::clone(&log);
                ember::spawn(async move {
                    for _ in 0..3 {
                        log.lock().unwrap().push(name);
                        ember::task::yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*log.lock().unwrap(), ["a", "b", "a", "b", "a", "b"]);
    });
}
