//! spawn_blocking and name lookups on the runtime's blocking pool.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use util::watchdog;

/// Current-thread, where the blocking pool's threads are the only ones the
/// runtime starts (runtime.rs checks the names of multi-thread workers).
#[test]
fn thread_names_and_hooks_apply_to_blocking_threads() {
    let _guard = watchdog(Duration::from_secs(30));
    let started = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&started);
    let rt = ember::Builder::new_current_thread()
        .thread_name("files")
        .on_thread_start(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let name = rt.block_on(async {
        ember::spawn_blocking(|| std::thread::current().name().map(String::from))
            .await
            .unwrap()
    });
    assert_eq!(name.as_deref(), Some("files-blocking-0"));
    assert_eq!(started.load(Ordering::SeqCst), 1);
}

per_flavor! {
    #[test]
    fn spawn_blocking_returns_its_result_and_keeps_the_runtime_responsive() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (release, wait) = mpsc::channel::<u32>();
            let blocked = ember::spawn_blocking(move || wait.recv().unwrap_or(0) * 2);
            // The runtime's thread is free while the closure blocks: a timer
            // still fires and another task still runs.
            ember::time::sleep(Duration::from_millis(1)).await;
            let other = ember::spawn(async { "ran" }).await.unwrap();
            assert_eq!(other, "ran");
            release.send(21).unwrap();
            assert_eq!(blocked.await.unwrap(), 42);
        });
    }

    #[test]
    fn a_blocking_closure_runs_inside_the_runtime_context() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let inner = ember::spawn_blocking(|| {
                // Spawning from the pool thread goes to the runtime.
                ember::spawn(async { 7 })
            })
            .await
            .unwrap();
            assert_eq!(inner.await.unwrap(), 7);
        });
    }

    #[test]
    fn a_panic_in_a_blocking_closure_is_a_join_error() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let err = ember::spawn_blocking(|| panic!("blocking boom"))
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert_eq!(ember::spawn_blocking(|| 1).await.unwrap(), 1);
        });
    }

    #[test]
    fn max_blocking_threads_bounds_the_pool() {
        let _guard = watchdog(Duration::from_secs(30));
        let rt = builder().max_blocking_threads(2).build().unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let tasks: Vec<_> = (0..16)
                .map(|_| {
                    let running = Arc::clone(&running);
                    let peak = Arc::clone(&peak);
                    ember::spawn_blocking(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn shutdown_timeout_does_not_wait_for_a_stuck_closure() {
        let _guard = watchdog(Duration::from_secs(30));
        let rt = runtime();
        let (release, wait) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        rt.block_on(async {
            drop(ember::spawn_blocking(move || {
                started_tx.send(()).unwrap();
                let _ = wait.recv();
            }));
        });
        started_rx.recv().unwrap();
        // Dropping the runtime would wait for the closure forever; this returns.
        rt.shutdown_timeout(Duration::from_millis(20));
        drop(release);
    }

    #[test]
    fn host_names_resolve_on_the_blocking_pool() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let addrs: Vec<_> = ember::net::lookup_host("localhost:4242")
                .await
                .unwrap()
                .collect();
            assert!(!addrs.is_empty());
            assert!(addrs
                .iter()
                .all(|a| a.port() == 4242 && a.ip().is_loopback()));
            // A literal needs no lookup at all.
            let literal: Vec<_> = ember::net::lookup_host(("127.0.0.1", 80))
                .await
                .unwrap()
                .collect();
            assert_eq!(literal, ["127.0.0.1:80".parse().unwrap()]);
            // An unresolvable name is an error, not a panic or a hang.
            assert!(ember::net::lookup_host("no-such-host.invalid:80")
                .await
                .is_err());
        });
    }
}
