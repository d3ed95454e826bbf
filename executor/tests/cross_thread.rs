//! Cross-thread stress: lost wakeups would hang (and hit the test bound), races in the
//! abort-handle protocol would leave `is_finished` false.

mod util;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use ember_executor::{block_on, Handle};
use util::{bounded, gate, oneshot};

const ROUNDS: usize = if cfg!(debug_assertions) {
    2_000
} else {
    20_000
};

#[test]
fn ping_pong_with_another_thread() {
    bounded(|| {
        let (keys_tx, keys_rx) = mpsc::channel();
        let opener = std::thread::spawn(move || {
            for key in keys_rx.iter().take(ROUNDS) {
                let key: util::GateKey = key;
                key.open();
            }
        });
        block_on(async move {
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
    });
}

#[test]
fn many_threads_spawn_through_handles() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 500;
    bounded(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        block_on(async move {
            let handle = Handle::current();
            let mut receivers = Vec::new();
            let mut threads = Vec::new();
            for _ in 0..THREADS {
                let (tx, rx) = oneshot();
                receivers.push(rx);
                let handle = handle.clone();
                let r = r.clone();
                threads.push(std::thread::spawn(move || {
                    let tasks: Vec<_> = (0..PER_THREAD)
                        .map(|i| {
                            let r = r.clone();
                            handle.spawn(async move {
                                r.fetch_add(1, Ordering::Relaxed);
                                i
                            })
                        })
                        .collect();
                    tx.send(tasks);
                }));
            }
            for rx in receivers {
                for (i, task) in rx.await.into_iter().enumerate() {
                    assert_eq!(task.await.unwrap(), i);
                }
            }
            for t in threads {
                t.join().unwrap();
            }
        });
        assert_eq!(ran.load(Ordering::Relaxed), THREADS * PER_THREAD);
    });
}

#[test]
fn abort_handle_created_while_the_task_finishes() {
    bounded(|| {
        block_on(async {
            for _ in 0..200 {
                let task = Handle::current().spawn(async { 1 });
                let (tx, rx) = oneshot();
                let t = std::thread::spawn(move || {
                    let abort = task.abort_handle();
                    tx.send((task, abort));
                });
                let (task, abort) = rx.await;
                assert_eq!(task.await.unwrap(), 1);
                assert!(abort.is_finished());
                t.join().unwrap();
            }
        })
    });
}
