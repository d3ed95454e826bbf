//! Behaviour of the current-thread scheduler through the public API.

mod util;

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use ember_executor::__private::NO_RUNTIME;
use ember_executor::task::{self, yield_now, AbortHandle, JoinError, JoinHandle};
use ember_executor::{block_on, spawn_local, CurrentThread, Handle, Park, Unpark};
use util::{bounded, gate, oneshot, DropGuard};

fn assert_send<T: Send>() {}
fn assert_sync<T: Sync>() {}

#[test]
fn auto_traits() {
    assert_send::<Handle>();
    assert_sync::<Handle>();
    assert_send::<JoinHandle<u32>>();
    assert_sync::<JoinHandle<u32>>();
    assert_send::<AbortHandle>();
    assert_sync::<AbortHandle>();
    assert_send::<JoinError>();
    assert_sync::<JoinError>();
}

/// A park hook for `CurrentThread` tests: std thread parking, counting the non-blocking calls.
struct CountingPark {
    zero: usize,
    blocking: usize,
}

impl Park for CountingPark {
    fn park(&mut self, timeout: Option<Duration>) {
        match timeout {
            Some(d) if d.is_zero() => self.zero += 1,
            Some(d) => std::thread::park_timeout(d),
            None => {
                self.blocking += 1;
                std::thread::park();
            }
        }
    }
}

struct ThreadUnpark(std::thread::Thread);

impl Unpark for ThreadUnpark {
    fn unpark(&self) {
        self.0.unpark();
    }
}

fn scheduler() -> CurrentThread {
    CurrentThread::new(Arc::new(ThreadUnpark(std::thread::current())))
}

#[test]
fn panic_in_task_becomes_join_error() {
    bounded(|| {
        block_on(async {
            let n = std::hint::black_box(7);
            let bad = spawn_local(async move { panic!("boom {n}") });
            let good = spawn_local(async { 5 });
            let err = bad.await.unwrap_err();
            assert!(err.is_panic());
            assert!(!err.is_cancelled());
            assert_eq!(err.to_string(), "task panicked with message \"boom 7\"");
            let payload = err.into_panic();
            assert_eq!(
                payload.downcast_ref::<String>().map(String::as_str),
                Some("boom 7")
            );
            // The runtime and other tasks go on.
            assert_eq!(good.await.unwrap(), 5);
        })
    });
}

#[test]
fn panic_in_destructor_after_completion_is_reported() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop boom");
        }
    }
    bounded(|| {
        block_on(async {
            let task = spawn_local(async {
                let _guard = PanicOnDrop;
                1
            });
            assert!(task.await.unwrap_err().is_panic());
        })
    });
}

#[test]
fn abort_pending_task_drops_its_future() {
    bounded(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        block_on(async move {
            let guard = DropGuard(d.clone());
            let task = spawn_local(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            // Let it run to its first Pending.
            yield_now().await;
            assert_eq!(d.load(Ordering::SeqCst), 0);
            assert!(!task.is_finished());
            task.abort();
            let err = task.await.unwrap_err();
            assert!(err.is_cancelled());
            assert_eq!(err.to_string(), "task was cancelled");
            assert_eq!(d.load(Ordering::SeqCst), 1);
        });
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn abort_before_first_poll_never_polls() {
    bounded(|| {
        block_on(async {
            let polled = Rc::new(Cell::new(false));
            let p = polled.clone();
            let task = spawn_local(async move { p.set(true) });
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(!polled.get());
        })
    });
}

#[test]
fn abort_handle_from_another_thread() {
    bounded(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        block_on(async move {
            let (g, key) = gate();
            let guard = DropGuard(d);
            let task = ember_executor::Handle::current().spawn(async move {
                let _guard = guard;
                g.await;
            });
            let abort = task.abort_handle();
            assert!(!abort.is_finished());
            // Wait until the task is parked on the gate, then abort it from elsewhere.
            while !key.has_waiter() {
                yield_now().await;
            }
            let a2 = abort.clone();
            std::thread::spawn(move || a2.abort()).join().unwrap();
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(abort.is_finished());
        });
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn abort_after_completion_keeps_output() {
    bounded(|| {
        block_on(async {
            let task = spawn_local(async { 9 });
            let abort = task.abort_handle();
            while !task.is_finished() {
                yield_now().await;
            }
            assert!(abort.is_finished());
            task.abort();
            abort.abort();
            assert_eq!(task.await.unwrap(), 9);
            // An abort handle created after the task finished knows it.
        })
    });
}

#[test]
fn abort_handle_created_after_finish_reports_finished() {
    bounded(|| {
        block_on(async {
            let task = spawn_local(async { 1 });
            while !task.is_finished() {
                yield_now().await;
            }
            assert!(task.abort_handle().is_finished());
        })
    });
}

#[test]
fn detached_task_keeps_running() {
    bounded(|| {
        block_on(async {
            let done = Rc::new(Cell::new(false));
            let d = done.clone();
            drop(spawn_local(async move {
                for _ in 0..10 {
                    yield_now().await;
                }
                d.set(true);
            }));
            while !done.get() {
                yield_now().await;
            }
        })
    });
}

#[test]
fn spawn_local_with_rc() {
    bounded(|| {
        let out = block_on(async {
            let shared = Rc::new(RefCell::new(Vec::new()));
            let handles: Vec<_> = (0..10)
                .map(|i| {
                    let s = shared.clone();
                    spawn_local(async move { s.borrow_mut().push(i) })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
            let v = shared.borrow().clone();
            v
        });
        assert_eq!(out, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn many_tasks_complete() {
    // Miri runs this some thousand times slower; the shape matters there.
    const N: usize = if cfg!(miri) { 500 } else { 100_000 };
    bounded(|| {
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        block_on(async move {
            let handle = Handle::current();
            let tasks: Vec<_> = (0..N)
                .map(|i| {
                    let c = c.clone();
                    handle.spawn(async move {
                        c.fetch_add(1, Ordering::Relaxed);
                        i
                    })
                })
                .collect();
            for (i, t) in tasks.into_iter().enumerate() {
                assert_eq!(t.await.unwrap(), i);
            }
        });
        assert_eq!(count.load(Ordering::Relaxed), N);
    });
}

#[test]
fn wake_from_another_thread() {
    bounded(|| {
        block_on(async {
            // A task woken from another thread.
            let (g, key) = gate();
            let task = spawn_local(async move {
                g.await;
                7
            });
            let (g2, key2) = gate();
            let k = key.clone();
            let opener = std::thread::spawn(move || {
                // Open the task's gate once it waits, then the main future's gate.
                while !k.has_waiter() {
                    std::thread::yield_now();
                }
                k.open();
                while !key2.has_waiter() {
                    std::thread::yield_now();
                }
                key2.open();
            });
            assert_eq!(task.await.unwrap(), 7);
            // The main (block_on) future woken from another thread.
            g2.await;
            opener.join().unwrap();
        })
    });
}

#[test]
fn local_task_woken_from_another_thread_runs_on_its_thread() {
    bounded(|| {
        let me = std::thread::current().id();
        block_on(async move {
            let (g, key) = gate();
            let task = spawn_local(async move {
                let rc = Rc::new(());
                g.await;
                drop(rc);
                std::thread::current().id()
            });
            let waker_thread = std::thread::spawn(move || {
                while !key.has_waiter() {
                    std::thread::yield_now();
                }
                key.open();
            });
            assert_eq!(task.await.unwrap(), me);
            waker_thread.join().unwrap();
        })
    });
}

#[test]
fn handle_spawn_from_another_thread() {
    bounded(|| {
        block_on(async {
            let handle = Handle::current();
            let (tx, rx) = oneshot();
            let spawner = std::thread::spawn(move || {
                let task = handle.spawn(async { std::thread::current().name().map(str::to_owned) });
                tx.send(task);
            });
            let task = rx.await;
            // Ran on the scheduler's thread (the `bounded` worker), not the spawner.
            assert_eq!(task.await.unwrap(), None);
            spawner.join().unwrap();
        })
    });
}

#[test]
fn shutdown_drops_every_pending_task_exactly_once() {
    // Tasks of each kind; fewer under Miri, where each costs far more.
    const PER_KIND: usize = if cfg!(miri) { 5 } else { 50 };
    bounded(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let held_wakers: Arc<Mutex<Vec<Waker>>> = Arc::default();
        let mut handles = Vec::new();
        let sched = scheduler();
        let mut expected = 0;
        {
            // Pending forever, wakers dropped.
            for _ in 0..PER_KIND {
                let g = DropGuard(drops.clone());
                handles.push(sched.spawn(async move {
                    let _g = g;
                    std::future::pending::<()>().await
                }));
                expected += 1;
            }
            // Pending with their wakers held elsewhere.
            for _ in 0..PER_KIND {
                let g = DropGuard(drops.clone());
                let (gate, key) = gate();
                let held = held_wakers.clone();
                handles.push(sched.spawn(async move {
                    let _g = g;
                    let fut = gate;
                    let k = key.clone();
                    futures_poll_once(fut, move |w| held.lock().unwrap().push(w)).await;
                    drop(k);
                    std::future::pending::<()>().await
                }));
                expected += 1;
            }
            // Local tasks, pending.
            for _ in 0..PER_KIND {
                let g = DropGuard(drops.clone());
                handles.push(sched.spawn_local(async move {
                    let _g = (g, Rc::new(()));
                    std::future::pending::<()>().await
                }));
                expected += 1;
            }
        }
        // Run until every task is parked, then leave a few never-polled ones queued.
        sched.block_on(
            async {
                for _ in 0..3 {
                    yield_now().await;
                }
            },
            &mut CountingPark {
                zero: 0,
                blocking: 0,
            },
        );
        for _ in 0..PER_KIND {
            let g = DropGuard(drops.clone());
            handles.push(sched.spawn(async move {
                let _g = g;
            }));
            expected += 1;
        }
        // Remote spawns still queued in the injection queue.
        let handle = sched.handle();
        let d = drops.clone();
        let remote: Vec<_> = std::thread::spawn(move || {
            (0..PER_KIND)
                .map(|_| {
                    let g = DropGuard(d.clone());
                    handle.spawn(async move {
                        let _g = g;
                    })
                })
                .collect()
        })
        .join()
        .unwrap();
        expected += PER_KIND;
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        assert_eq!(held_wakers.lock().unwrap().len(), PER_KIND);
        drop(sched);
        assert_eq!(drops.load(Ordering::SeqCst), expected);
        // Later wakes from another thread are harmless and drop nothing twice.
        let wakers = std::mem::take(&mut *held_wakers.lock().unwrap());
        std::thread::spawn(move || wakers.into_iter().for_each(Waker::wake))
            .join()
            .unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), expected);
        // Every handle reports cancellation.
        for h in handles.into_iter().chain(remote) {
            let err = block_on(h).unwrap_err();
            assert!(err.is_cancelled());
        }
    });
}

/// Polls `fut` once, handing the waker it was polled with to `f`, then completes.
async fn futures_poll_once<F: std::future::Future + Unpin>(mut fut: F, f: impl FnOnce(Waker)) {
    let mut f = Some(f);
    std::future::poll_fn(|cx| {
        let _ = std::pin::Pin::new(&mut fut).poll(cx);
        if let Some(f) = f.take() {
            f(cx.waker().clone());
        }
        std::task::Poll::Ready(())
    })
    .await
}

#[test]
fn shutdown_survives_destructors_that_wake_and_spawn() {
    struct WakeOnDrop {
        waker: Arc<Mutex<Option<Waker>>>,
        drops: Arc<AtomicUsize>,
    }
    impl Drop for WakeOnDrop {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
            if let Some(w) = self.waker.lock().unwrap().take() {
                w.wake();
            }
            // Spawning while the runtime shuts down must not deadlock either.
            if let Some(h) = Handle::try_current() {
                drop(h.spawn(async {}));
            }
        }
    }
    bounded(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let sched = scheduler();
        // A chain: dropping task i wakes task i+1.
        let mut slots = Vec::new();
        for _ in 0..20 {
            slots.push(Arc::new(Mutex::new(None::<Waker>)));
        }
        for i in 0..20 {
            let next = slots.get(i + 1).cloned().unwrap_or_default();
            let mine = slots[i].clone();
            let guard = WakeOnDrop {
                waker: next,
                drops: drops.clone(),
            };
            drop(sched.spawn(async move {
                let _guard = guard;
                std::future::poll_fn(|cx| {
                    *mine.lock().unwrap() = Some(cx.waker().clone());
                    std::task::Poll::<()>::Pending
                })
                .await
            }));
        }
        sched.block_on(
            yield_now(),
            &mut CountingPark {
                zero: 0,
                blocking: 0,
            },
        );
        drop(sched);
        assert_eq!(drops.load(Ordering::SeqCst), 20);
    });
}

#[test]
fn spawn_after_shutdown_is_cancelled() {
    bounded(|| {
        let sched = scheduler();
        let handle = sched.handle();
        drop(sched);
        let drops = Arc::new(AtomicUsize::new(0));
        let g = DropGuard(drops.clone());
        let task = handle.spawn(async move {
            let _g = g;
        });
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(block_on(task).unwrap_err().is_cancelled());
    });
}

#[test]
fn nested_block_on_panics() {
    bounded(|| {
        let result = block_on(async { catch_unwind(AssertUnwindSafe(|| block_on(async { 1 }))) });
        let payload = result.unwrap_err();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            message.starts_with("Cannot block_on inside a running ember runtime"),
            "{message}"
        );
        // Inside a task too: it becomes the task's JoinError.
        let err = block_on(async { spawn_local(async { block_on(async {}) }).await.unwrap_err() });
        assert!(err.is_panic());
        // The context was restored: block_on works again on this thread.
        assert_eq!(block_on(async { 2 }), 2);
    });
}

#[test]
fn panicking_block_on_restores_context() {
    bounded(|| {
        let r = catch_unwind(|| block_on(async { panic!("main future") }));
        assert!(r.is_err());
        assert!(Handle::try_current().is_none());
        assert_eq!(block_on(async { 3 }), 3);
    });
}

/// The panic message of `f`, which must panic.
#[track_caller]
fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    let payload = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => payload,
    };
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn outside_a_runtime() {
    assert!(Handle::try_current().is_none());
    assert!(task::try_id().is_none());
    // One message, word for word, wherever the executor needs a runtime and finds none.
    assert_eq!(panic_message(Handle::current), NO_RUNTIME);
    assert_eq!(panic_message(|| spawn_local(async {})), NO_RUNTIME);
    assert_eq!(panic_message(task::id), NO_RUNTIME);
    assert!(NO_RUNTIME.contains("Handle::enter"), "{NO_RUNTIME}");
}

#[test]
fn yield_now_interleaves_tasks() {
    bounded(|| {
        let log = block_on(async {
            let log = Rc::new(RefCell::new(Vec::new()));
            let tasks: Vec<_> = ["a", "b"]
                .into_iter()
                .map(|name| {
                    let log = log.clone();
                    spawn_local(async move {
                        for i in 0..3 {
                            log.borrow_mut().push(format!("{name}{i}"));
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            let v = log.borrow().clone();
            v
        });
        assert_eq!(log, ["a0", "b0", "a1", "b1", "a2", "b2"]);
    });
}

#[test]
fn busy_tasks_still_let_the_park_hook_poll() {
    bounded(|| {
        let sched = scheduler();
        let mut park = CountingPark {
            zero: 0,
            blocking: 0,
        };
        let spinner = sched.spawn(async {
            for _ in 0..1000 {
                yield_now().await;
            }
        });
        sched.block_on(spinner, &mut park).unwrap();
        // 1000 polls with the task always runnable: a non-blocking park every 61 polls.
        assert!(park.zero >= 1000 / 61, "{}", park.zero);
        assert_eq!(park.blocking, 0);
    });
}

/// A park hook playing a reactor: each blocking park delivers "an event" by waking every
/// waker registered with it.
struct EventPark {
    wakers: Rc<RefCell<Vec<Waker>>>,
    zero: usize,
    blocking: usize,
}

impl Park for EventPark {
    fn park(&mut self, timeout: Option<Duration>) {
        if timeout.is_some_and(|d| d.is_zero()) {
            self.zero += 1;
            return;
        }
        self.blocking += 1;
        let wakers = std::mem::take(&mut *self.wakers.borrow_mut());
        wakers.into_iter().for_each(Waker::wake);
    }
}

#[test]
fn a_blocking_park_restarts_the_count_to_the_next_non_blocking_one() {
    bounded(|| {
        let sched = scheduler();
        let wakers = Rc::new(RefCell::new(Vec::<Waker>::new()));
        let mut park = EventPark {
            wakers: wakers.clone(),
            zero: 0,
            blocking: 0,
        };
        // 300 short bursts (one poll each), every one ended by a blocking park: the hook
        // checks for events at every burst anyway, so no extra non-blocking park is due.
        let task = sched.spawn_local(async move {
            for _ in 0..300 {
                let mut registered = false;
                std::future::poll_fn(|cx| {
                    if registered {
                        return std::task::Poll::Ready(());
                    }
                    registered = true;
                    wakers.borrow_mut().push(cx.waker().clone());
                    std::task::Poll::Pending
                })
                .await;
            }
        });
        sched.block_on(task, &mut park).unwrap();
        assert!(park.blocking >= 300, "{}", park.blocking);
        assert_eq!(park.zero, 0);
    });
}

#[test]
fn busy_main_future_still_lets_the_park_hook_poll() {
    bounded(|| {
        let sched = scheduler();
        let mut park = CountingPark {
            zero: 0,
            blocking: 0,
        };
        sched.block_on(
            async {
                for _ in 0..1000 {
                    yield_now().await;
                }
            },
            &mut park,
        );
        assert!(park.zero >= 1000 / 61, "{}", park.zero);
        assert_eq!(park.blocking, 0);
    });
}

#[test]
fn scheduler_is_reusable_across_block_on_calls() {
    bounded(|| {
        let sched = scheduler();
        let mut park = CountingPark {
            zero: 0,
            blocking: 0,
        };
        let (tx, rx) = mpsc::channel();
        let t = sched.spawn(async move { tx.send(1).unwrap() });
        sched.block_on(async {}, &mut park);
        sched.block_on(t, &mut park).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        let handle = sched.handle();
        let t = handle.spawn(async { 2 });
        assert_eq!(sched.block_on(t, &mut park).unwrap(), 2);
    });
}

#[test]
fn join_error_into_io_error() {
    let err = block_on(async { spawn_local(async { panic!("x") }).await.unwrap_err() });
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::Other);
    assert!(io.to_string().contains("panicked"));
    let cancelled = block_on(async {
        let t = spawn_local(std::future::pending::<()>());
        t.abort();
        t.await.unwrap_err()
    });
    let r = catch_unwind(AssertUnwindSafe(|| cancelled.into_panic()));
    assert!(r.is_err());
}

fn park() -> CountingPark {
    CountingPark {
        zero: 0,
        blocking: 0,
    }
}

#[test]
fn task_ids_are_unique_and_known_inside_the_task() {
    bounded(|| {
        let sched = scheduler();
        let (ids, inside) = sched.block_on(
            async {
                // The block_on future is not a task.
                assert!(task::try_id().is_none());
                let message = panic_message(task::id);
                assert!(
                    message.starts_with("task::id called outside a task"),
                    "{message}"
                );
                let handles: Vec<_> = (0..10)
                    .map(|i| {
                        if i % 2 == 0 {
                            Handle::current().spawn(async { task::id() })
                        } else {
                            spawn_local(async { task::try_id().unwrap() })
                        }
                    })
                    .collect();
                let ids: Vec<_> = handles.iter().map(JoinHandle::id).collect();
                let abort_ids: Vec<_> = handles.iter().map(|h| h.abort_handle().id()).collect();
                assert_eq!(ids, abort_ids);
                let mut inside = Vec::new();
                for handle in handles {
                    inside.push(handle.await.unwrap());
                }
                // Not a task any more once the tasks are done.
                assert!(task::try_id().is_none());
                (ids, inside)
            },
            &mut park(),
        );
        assert_eq!(ids, inside);
        // In spawn order, each one new.
        let raw: Vec<u64> = ids
            .iter()
            .map(|id| id.to_string().parse().unwrap())
            .collect();
        assert!(raw.windows(2).all(|w| w[0] < w[1]), "{raw:?}");
        assert_eq!(format!("{:?}", ids[0]), format!("Id({})", ids[0]));
        assert!(task::try_id().is_none());
    });
}

#[test]
fn tasks_are_recorded_at_spawn_and_forgotten_when_done() {
    bounded(|| {
        let sched = scheduler();
        let live = |sched: &CurrentThread| {
            let debug = format!("{sched:?}");
            let field = debug.split("live_tasks: ").nth(1).expect(&debug).to_owned();
            field
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        };
        // Recorded before they ever run: on this thread, and from another thread.
        let local = sched.spawn(async {});
        let (gate, key) = gate();
        let pending = sched.spawn_local(gate);
        let handle = sched.handle();
        let remote = std::thread::spawn(move || handle.spawn(async { 1 }))
            .join()
            .unwrap();
        assert_eq!(live(&sched), 3);
        sched.block_on(
            async {
                local.await.unwrap();
                assert_eq!(remote.await.unwrap(), 1);
            },
            &mut park(),
        );
        // Finished tasks removed themselves; the pending one is still there.
        assert_eq!(live(&sched), 1);
        key.open();
        sched.block_on(pending, &mut park()).unwrap();
        assert_eq!(live(&sched), 0);
        // A task dropped unfinished by shutdown is gone too (and leaks nothing: the count of
        // live tasks is what shutdown drains).
        drop(sched.spawn(std::future::pending::<()>()));
        assert_eq!(live(&sched), 1);
        drop(sched);
    });
}

#[test]
fn entered_handle_spawns_but_does_not_run() {
    bounded(|| {
        let sched = scheduler();
        let other = scheduler();
        let (handle, other_handle) = (sched.handle(), other.handle());
        let ran = Arc::new(AtomicUsize::new(0));
        let task = {
            let _outer = handle.enter();
            assert!(Handle::try_current().is_some());
            // Nesting: the inner guard makes the other runtime current, and restores ours.
            {
                let _inner = other_handle.enter();
                let current = Handle::current();
                drop(current.spawn(async {}));
                let message = panic_message(|| spawn_local(async {}));
                assert!(message.contains("only entered the runtime"), "{message}");
            }
            let r = ran.clone();
            Handle::current().spawn(async move {
                r.fetch_add(1, Ordering::SeqCst);
            })
        };
        assert!(Handle::try_current().is_none());
        // Entering spawns without running: nothing ran yet.
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        // block_on inside an entered context is not a nested block_on.
        let _guard = handle.enter();
        sched.block_on(task, &mut park()).unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert!(Handle::try_current().is_some());
        drop(_guard);
        assert!(Handle::try_current().is_none());
        // The task spawned through `other` never ran: it is cancelled with its scheduler.
        drop(other);
    });
}

#[test]
fn spawn_blocking_through_the_handle() {
    use ember_executor::blocking::{BlockingConfig, BlockingPool};
    bounded(|| {
        let sched = scheduler();
        let message = panic_message(|| sched.handle().spawn_blocking(|| ()));
        assert!(message.contains("no blocking pool"), "{message}");
        let pool = BlockingPool::new(BlockingConfig::default());
        sched.handle().set_blocking_pool(pool.handle()).unwrap();
        assert!(sched.handle().set_blocking_pool(pool.handle()).is_err());
        let (seen, expected) = sched.block_on(
            async {
                let task = Handle::current().spawn_blocking(|| {
                    // The runtime is entered on the pool thread, and the closure is a task.
                    let id = task::id();
                    let spawned = Handle::current().spawn(async { 2 });
                    (id, spawned)
                });
                let expected = task.id();
                let (id, spawned) = task.await.unwrap();
                assert_eq!(spawned.await.unwrap(), 2);
                (id, expected)
            },
            &mut park(),
        );
        assert_eq!(seen, expected);
    });
}

#[test]
fn block_on_inside_a_task_has_no_current_task() {
    use ember_executor::blocking::{BlockingConfig, BlockingPool};
    bounded(|| {
        let pool = BlockingPool::new(BlockingConfig::default());
        let inner = block_on(pool.handle().spawn_blocking(|| {
            assert!(task::try_id().is_some());
            let inner = block_on(async { task::try_id() });
            (inner, task::try_id().is_some())
        }))
        .unwrap();
        assert_eq!(inner, (None, true));
    });
}

/// Destroyed after the executor's context (registered before it), so its destructor runs
/// when the context is gone: every executor entry point must cope, not panic (a panic in a
/// thread-local destructor aborts the process).
struct LateDrop(Option<(CurrentThread, Handle, Waker)>);

impl Drop for LateDrop {
    fn drop(&mut self) {
        assert!(Handle::try_current().is_none());
        assert!(task::try_id().is_none());
        if let Some((sched, handle, waker)) = self.0.take() {
            // The schedule function's local path asks the context, then takes the slow path.
            waker.wake();
            drop(handle.spawn(async {}));
            // Shutdown enters the context for its drain, or does without.
            drop(sched);
        }
    }
}

thread_local! {
    static LATE: RefCell<LateDrop> = const { RefCell::new(LateDrop(None)) };
}

#[test]
fn executor_survives_thread_teardown() {
    bounded(|| {
        std::thread::spawn(|| {
            // First touch: LATE's destructor is registered before the executor context's, so
            // it runs after it.
            LATE.with(|_| {});
            let sched = scheduler();
            let (gate, key) = gate();
            let pending = sched.spawn(gate);
            sched.block_on(
                async {
                    while !key.has_waiter() {
                        yield_now().await;
                    }
                },
                &mut park(),
            );
            let waker = key.take_waker().unwrap();
            let handle = sched.handle();
            LATE.with(|late| late.borrow_mut().0 = Some((sched, handle, waker)));
            drop(pending);
        })
        .join()
        .unwrap();
    });
}
