//! The runtime and its handle: cross-thread spawn, entering, auto traits.

mod util;

use ember::runtime::Handle;
use std::time::Duration;
use util::watchdog;

#[test]
fn handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<Handle>();
    assert_send_sync::<ember::task::AbortHandle>();
    assert_send::<ember::task::JoinHandle<u8>>();
    assert_send_sync::<ember::net::TcpStream>();
    assert_send_sync::<ember::net::TcpListener>();
    assert_send::<ember::signal::Signals>();
    assert_send::<ember::time::Sleep>();
}

per_flavor! {
    #[test]
    fn spawning_from_other_threads_wakes_a_sleeping_runtime() {
        let _guard = watchdog(Duration::from_secs(30));
        let rt = runtime();
        let handle = rt.handle().clone();
        let total = rt.block_on(async move {
            // The runtime has nothing to do and sleeps in the poller until the
            // other threads' spawns interrupt it.
            let threads: Vec<_> = (0..4)
                .map(|t| {
                    let handle = handle.clone();
                    std::thread::spawn(move || {
                        (0..250)
                            .map(|i| handle.spawn(async move { t * 1000 + i }))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut total = 0;
            for thread in threads {
                for task in thread.join().unwrap() {
                    total += task.await.unwrap();
                }
            }
            total
        });
        let expected: usize = (0..4)
            .map(|t| (0..250).map(|i| t * 1000 + i).sum::<usize>())
            .sum();
        assert_eq!(total, expected);
    }

    #[test]
    fn a_task_woken_from_another_thread_runs() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (tx, rx) = futures_channel_like::oneshot();
            std::thread::spawn(move || tx.send(99));
            assert_eq!(rx.await, 99);
        });
    }

    #[test]
    fn timers_set_from_a_thread_that_is_not_the_reactors_fire() {
        // On a multi-thread runtime the block_on thread never turns the
        // reactor: each sleep below is inserted while a worker may already
        // sleep in the poller with no deadline, and must cut that sleep short.
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            for _ in 0..50 {
                let start = ember::time::Instant::now();
                ember::time::sleep(Duration::from_millis(1)).await;
                assert!(start.elapsed() >= Duration::from_millis(1));
            }
        });
    }

    #[test]
    fn enter_makes_spawn_work_outside_block_on() {
        let rt = runtime();
        let task = {
            let _guard = rt.enter();
            assert!(Handle::try_current().is_some());
            ember::spawn(async { 11 })
        };
        assert!(Handle::try_current().is_none());
        assert_eq!(rt.block_on(task).unwrap(), 11);
    }

    #[test]
    fn runtimes_can_run_one_after_another_and_on_many_threads() {
        let _guard = watchdog(Duration::from_secs(30));
        let threads: Vec<_> = (0..4)
            .map(|i| {
                std::thread::spawn(move || {
                    for _ in 0..3 {
                        let out = block_on(async move {
                            ember::time::sleep(Duration::from_millis(1)).await;
                            ember::spawn(async move { i }).await.unwrap()
                        });
                        assert_eq!(out, i);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }
}

#[test]
fn start_paused_is_refused_on_a_multi_thread_runtime() {
    let err = ember::Builder::new_multi_thread()
        .start_paused(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn multi_thread_tasks_run_on_named_workers() {
    let _guard = watchdog(Duration::from_secs(30));
    let rt = ember::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pool")
        .build()
        .unwrap();
    let names = rt.block_on(async {
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                ember::spawn(async {
                    ember::task::yield_now().await;
                    std::thread::current().name().map(String::from)
                })
            })
            .collect();
        let mut names = std::collections::BTreeSet::new();
        for task in tasks {
            names.insert(task.await.unwrap().unwrap_or_default());
        }
        names
    });
    assert!(!names.is_empty() && names.len() <= 2, "{names:?}");
    assert!(
        names.iter().all(|n| n == "pool-0" || n == "pool-1"),
        "{names:?}"
    );
}

/// The name of the thread a task runs on and of the one a blocking closure
/// runs on, in a runtime built by `builder`.
fn thread_names(builder: &mut ember::Builder) -> (String, String) {
    let _guard = watchdog(Duration::from_secs(30));
    let rt = builder.build().unwrap();
    let name = || std::thread::current().name().unwrap_or_default().to_owned();
    rt.block_on(async move {
        let task = ember::spawn(async move {
            ember::task::yield_now().await;
            name()
        });
        let blocking = ember::spawn_blocking(name);
        (task.await.unwrap(), blocking.await.unwrap())
    })
}

#[test]
fn default_thread_names_tell_workers_from_blocking_threads() {
    let (task, blocking) = thread_names(&mut ember::Builder::new_current_thread());
    let here = std::thread::current().name().unwrap_or_default().to_owned();
    assert_eq!(
        task, here,
        "a current-thread runtime runs tasks in block_on"
    );
    assert!(blocking.starts_with("ember-blocking-"), "{blocking}");

    let (task, blocking) = thread_names(ember::Builder::new_multi_thread().worker_threads(2));
    assert!(task.starts_with("ember-worker-"), "{task}");
    assert!(blocking.starts_with("ember-blocking-"), "{blocking}");
}

#[test]
fn thread_name_prefixes_workers_and_blocking_threads() {
    let (task, blocking) = thread_names(ember::Builder::new_current_thread().thread_name("svc"));
    assert_ne!(task, "svc-0", "no workers on a current-thread runtime");
    assert_eq!(blocking, "svc-blocking-0");

    let (task, blocking) = thread_names(
        ember::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("svc"),
    );
    assert!(task == "svc-0" || task == "svc-1", "{task}");
    assert_eq!(blocking, "svc-blocking-0");
}

#[test]
fn thread_name_fn_names_every_thread() {
    for builder in [
        ember::Builder::new_current_thread(),
        ember::Builder::new_multi_thread(),
    ] {
        let mut builder = builder;
        builder.worker_threads(2).thread_name_fn(|| "named".into());
        let (task, blocking) = thread_names(&mut builder);
        assert_eq!(blocking, "named");
        if task != std::thread::current().name().unwrap_or_default() {
            assert_eq!(task, "named", "a worker");
        }
    }
}

#[ember::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_attribute_runs_multi_thread_tests() {
    let here = std::thread::current().id();
    let there = ember::spawn(async { std::thread::current().id() })
        .await
        .unwrap();
    assert_ne!(
        here, there,
        "tasks run on the workers, not on the test thread"
    );
}

#[ember::test]
async fn the_test_attribute_runs_async_tests() {
    let task = ember::spawn(async { 2 });
    assert_eq!(task.await.unwrap(), 2);
}

#[ember::test(start_paused = true)]
async fn the_test_attribute_can_pause_the_clock() {
    let start = ember::time::Instant::now();
    ember::time::sleep(Duration::from_secs(86_400)).await;
    assert!(start.elapsed() >= Duration::from_secs(86_400));
}

#[ember::test]
async fn the_test_attribute_supports_question_mark() -> std::io::Result<()> {
    let listener = ember::net::TcpListener::bind("127.0.0.1:0").await?;
    listener.local_addr()?;
    Ok(())
}

/// A minimal thread-safe oneshot, so this test needs no channel crate: the
/// point is the cross-thread wake, not the channel.
mod futures_channel_like {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    type Slot<T> = Arc<Mutex<(Option<T>, Option<Waker>)>>;

    pub(crate) struct Sender<T>(Slot<T>);
    pub(crate) struct Receiver<T>(Slot<T>);

    pub(crate) fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
        let slot = Arc::new(Mutex::new((None, None)));
        (Sender(Arc::clone(&slot)), Receiver(slot))
    }

    impl<T> Sender<T> {
        pub(crate) fn send(self, value: T) {
            let waker = {
                let mut slot = self.0.lock().unwrap();
                slot.0 = Some(value);
                slot.1.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    impl<T> Future for Receiver<T> {
        type Output = T;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
            let mut slot = self.0.lock().unwrap();
            match slot.0.take() {
                Some(value) => Poll::Ready(value),
                None => {
                    slot.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }
}
