//! block_in_place: the runtime keeps running while tasks block their own
//! threads; where there is nothing to hand over it just runs the closure;
//! on a current-thread runtime it panics.

mod util;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::task::block_in_place;
use std::sync::mpsc;
use std::time::Duration;
use util::watchdog;

/// How long a blocked closure waits for progress elsewhere. Without the
/// hand-over nothing else can run, and the test fails after this.
const BOUND: Duration = Duration::from_secs(10);

fn multi_thread(workers: usize) -> ember::Runtime {
    ember::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("build a multi-thread runtime")
}

/// `rounds` round trips of one byte over a loopback TCP pair, with a timer
/// every few rounds: the reactor and the timer wheel must both be turning.
async fn ping_pong(rounds: usize) {
    let (mut client, mut server) = util::tcp_pair().await;
    let echo = ember::spawn(async move {
        let mut byte = [0u8; 1];
        for _ in 0..rounds {
            server.read_exact(&mut byte).await.unwrap();
            server.write_all(&byte).await.unwrap();
        }
    });
    let mut byte = [0u8; 1];
    for round in 0..rounds {
        client.write_all(&[round as u8]).await.unwrap();
        client.read_exact(&mut byte).await.unwrap();
        assert_eq!(byte[0], round as u8);
        if round % 10 == 0 {
            ember::time::sleep(Duration::from_millis(1)).await;
        }
    }
    echo.await.unwrap();
}

#[test]
fn other_tasks_progress_while_every_worker_blocks_in_place() {
    let _guard = watchdog(Duration::from_secs(40));
    let rt = multi_thread(2);
    rt.block_on(async {
        let (entered_tx, entered_rx) = mpsc::channel();
        let mut done_txs = Vec::new();
        let blockers: Vec<_> = (0..2)
            .map(|_| {
                let entered_tx = entered_tx.clone();
                let (done_tx, done_rx) = mpsc::channel::<()>();
                done_txs.push(done_tx);
                ember::spawn(async move {
                    block_in_place(move || {
                        entered_tx.send(()).unwrap();
                        // The blocking work.
                        std::thread::sleep(Duration::from_millis(500));
                        // Did the ping-pong finish while this closure was still running?
                        done_rx.recv_timeout(BOUND).is_ok()
                    })
                })
            })
            .collect();
        // Both workers' threads are now blocked (this thread runs no tasks:
        // here block_in_place just runs the closure).
        block_in_place(|| {
            for _ in 0..2 {
                entered_rx
                    .recv_timeout(BOUND)
                    .expect("a blocker never started");
            }
        });
        ember::spawn(ping_pong(100)).await.unwrap();
        for done_tx in done_txs {
            // A blocker that gave up already has dropped its receiver.
            let _ = done_tx.send(());
        }
        for blocker in blockers {
            assert!(
                blocker.await.unwrap(),
                "the ping-pong did not complete while the workers blocked in place"
            );
        }
    });
}

#[test]
fn a_single_worker_hands_its_reactor_over() {
    let _guard = watchdog(Duration::from_secs(30));
    let rt = multi_thread(1);
    let (in_f, after) = rt.block_on(async {
        ember::spawn(async {
            let (done_tx, done_rx) = mpsc::channel();
            // Created and first polled on the stand-in: it must find the
            // runtime's reactor and timers there.
            drop(ember::spawn(async move {
                ping_pong(50).await;
                done_tx.send(()).unwrap();
            }));
            let in_f = block_in_place(|| done_rx.recv_timeout(BOUND).is_ok());
            // Back on the worker, with its reactor: still works.
            ember::time::sleep(Duration::from_millis(1)).await;
            ping_pong(5).await;
            (in_f, true)
        })
        .await
        .unwrap()
    });
    assert!(in_f, "nothing ran while the only worker blocked in place");
    assert!(after);
}

#[test]
fn block_in_place_panics_on_a_current_thread_runtime() {
    let _guard = watchdog(Duration::from_secs(10));
    let rt = ember::Runtime::new().unwrap();
    let err = rt.block_on(async {
        ember::spawn(async { block_in_place(|| ()) })
            .await
            .unwrap_err()
    });
    let payload = err.into_panic();
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
fn without_a_worker_to_hand_over_it_just_runs() {
    let _guard = watchdog(Duration::from_secs(10));
    // Outside any runtime.
    assert_eq!(block_in_place(|| 1), 1);
    let rt = multi_thread(2);
    // In a multi-thread runtime's block_on (no tasks run there), where the
    // closure may even start another runtime.
    let n = rt.block_on(async { block_in_place(|| ember::block_on(async { 2 })) });
    assert_eq!(n, 2);
    // In a blocking pool closure.
    let n = rt.block_on(async {
        ember::spawn_blocking(|| block_in_place(|| 3))
            .await
            .unwrap()
    });
    assert_eq!(n, 3);
    // On a worker, a panic of the closure reaches the task, and the worker
    // goes on.
    let err = rt.block_on(async {
        ember::spawn(async { block_in_place(|| panic!("in place")) })
            .await
            .unwrap_err()
    });
    assert!(err.is_panic());
    assert_eq!(
        rt.block_on(async { ember::spawn(async { 4 }).await.unwrap() }),
        4
    );
}
