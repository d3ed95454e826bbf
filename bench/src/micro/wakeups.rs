//! wakeups: (1) pairs of tasks ping-ponging a counter over two unbounded
//! `futures-channel` mpsc channels (the same channel for every runtime, so only the
//! wakeup path differs); figure: ns per message, each message waking one task.
//! (2) tasks each calling the runtime's `yield_now` in a loop; figure: ns per yield.

use std::future::Future;
use std::io;
use std::time::Instant;

use async_executor::LocalExecutor;
use futures_channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures_lite::StreamExt;

use super::{not_applicable, Metrics};
use crate::runtimes::{self, task_failed, Runtime};

/// Ping-pong pairs.
const PAIRS: usize = 1000;
/// Round trips per pair (full run / quick run).
const ROUNDS: usize = 500;
const QUICK_ROUNDS: usize = 100;
/// Yielding tasks and yields per task.
const YIELDERS: usize = 200;
const YIELDS: usize = 1000;

/// Run the workload on `rt`.
pub(crate) fn run(rt: Runtime, quick: bool) -> io::Result<Metrics> {
    let rounds = if quick { QUICK_ROUNDS } else { ROUNDS };
    match rt {
        Runtime::Ember => runtimes::ember()?.block_on(all(
            rounds,
            |tx, rx| ember::spawn(ping(tx, rx, rounds)),
            |tx, rx| ember::spawn(pong(tx, rx)),
            || ember::spawn(yielder(ember::task::yield_now)),
            |r| r.is_ok(),
        )),
        Runtime::TokioCt | Runtime::TokioMt => {
            let tokio_rt = if rt == Runtime::TokioCt {
                runtimes::tokio_ct()?
            } else {
                runtimes::tokio_mt()?
            };
            tokio_rt.block_on(all(
                rounds,
                |tx, rx| tokio::spawn(ping(tx, rx, rounds)),
                |tx, rx| tokio::spawn(pong(tx, rx)),
                || tokio::spawn(yielder(tokio::task::yield_now)),
                |r| r.is_ok(),
            ))
        }
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            async_io::block_on(ex.run(all(
                rounds,
                |tx, rx| ex.spawn(ping(tx, rx, rounds)),
                |tx, rx| ex.spawn(pong(tx, rx)),
                || ex.spawn(yielder(futures_lite::future::yield_now)),
                |()| true,
            )))
        }
        _ => Err(not_applicable(rt)),
    }
}

/// Both measurements. Each spawn closure builds and spawns one kind of task; `ok`
/// says whether a joined task completed.
async fn all<H: Future>(
    rounds: usize,
    spawn_ping: impl Fn(UnboundedSender<u64>, UnboundedReceiver<u64>) -> H,
    spawn_pong: impl Fn(UnboundedSender<u64>, UnboundedReceiver<u64>) -> H,
    spawn_yielder: impl Fn() -> H,
    ok: impl Fn(H::Output) -> bool,
) -> io::Result<Metrics> {
    let start = Instant::now();
    let mut handles = Vec::with_capacity(2 * PAIRS);
    for _ in 0..PAIRS {
        let (to_pong, from_ping) = unbounded();
        let (to_ping, from_pong) = unbounded();
        handles.push(spawn_pong(to_ping, from_ping));
        handles.push(spawn_ping(to_pong, from_pong));
    }
    join_all(handles, &ok).await?;
    let messages = (PAIRS * rounds * 2) as f64;
    let pingpong_ns = start.elapsed().as_nanos() as f64 / messages;

    let start = Instant::now();
    let handles: Vec<H> = (0..YIELDERS).map(|_| spawn_yielder()).collect();
    join_all(handles, &ok).await?;
    let yield_ns = start.elapsed().as_nanos() as f64 / (YIELDERS * YIELDS) as f64;
    Ok(vec![
        ("ns_per_message", pingpong_ns),
        ("ns_per_yield", yield_ns),
    ])
}

/// Await every handle; fail if any task did not complete.
async fn join_all<H: Future>(handles: Vec<H>, ok: &impl Fn(H::Output) -> bool) -> io::Result<()> {
    let mut failed = 0_usize;
    for handle in handles {
        if !ok(handle.await) {
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(task_failed("ping-pong or yielding"));
    }
    Ok(())
}

/// Send a counter to the partner and wait for it to come back, `rounds` times.
pub(super) async fn ping(tx: UnboundedSender<u64>, mut rx: UnboundedReceiver<u64>, rounds: usize) {
    for round in 0..rounds as u64 {
        if tx.unbounded_send(round).is_err() || rx.next().await.is_none() {
            return;
        }
    }
}

/// Send back whatever arrives until the partner hangs up.
pub(super) async fn pong(tx: UnboundedSender<u64>, mut rx: UnboundedReceiver<u64>) {
    while let Some(round) = rx.next().await {
        if tx.unbounded_send(round).is_err() {
            return;
        }
    }
}

/// Yield `YIELDS` times through the runtime's own `yield_now`.
async fn yielder<F: Future<Output = ()>>(yield_now: fn() -> F) {
    for _ in 0..YIELDS {
        yield_now().await;
    }
}
