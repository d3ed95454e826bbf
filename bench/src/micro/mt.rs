//! The multi-thread workloads, after tokio's own `rt_multi_threaded` benches, each on
//! ember's multi-thread runtime, tokio's (2 workers each) and async-executor run by 2
//! threads (see [`super::pool`]), in a process allowed on every CPU:
//!
//! - `mt_spawn_local`: a task spawns [`SPAWN_TASKS`] empty tasks and awaits them
//!   (spawns land on the spawning worker's queue); ns per task.
//! - `mt_spawn_remote`: the `block_on` thread spawns them through a handle (spawns go
//!   through the shared queue and wake workers) and awaits them; ns per task.
//! - `mt_yield`: [`YIELDERS`] tasks each calling the runtime's `yield_now` in a loop;
//!   ns per yield.
//! - `mt_ping_pong`: a task spawns [`PAIRS`] task pairs that ping-pong a counter over
//!   unbounded futures-channel mpsc channels (the same channel as `wakeups`); ns per message.
//! - `mt_chained_spawn`: a chain of [`CHAIN_DEPTH`] tasks, each spawning the next; ns
//!   per spawn.
//!
//! Each run does one warm-up round and then several measured ones, all inside one
//! `block_on`, and reports the median round (the machine has other work on it).

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use futures_channel::mpsc::unbounded;
use futures_channel::oneshot;

use super::pool::{EmberPool, Pool, SmolPool, Spawner, TokioPool};
use super::wakeups::{ping, pong};
use super::{not_applicable, Metrics};
use crate::runtimes::{task_failed, Runtime};
use crate::stats::median;

/// Tasks per round of the spawn workloads.
const SPAWN_TASKS: usize = 10_000;
/// Yielding tasks, and yields per task (full run / quick run).
const YIELDERS: usize = 200;
const YIELDS: usize = 1000;
const QUICK_YIELDS: usize = 250;
/// Ping-pong pairs, and round trips per pair per round (full run / quick run).
const PAIRS: usize = 1000;
const ROUNDS: usize = 20;
const QUICK_ROUNDS: usize = 10;
/// Tasks in one spawn chain.
const CHAIN_DEPTH: usize = 1000;

/// How many measured rounds (after the warm-up) each workload does.
#[derive(Clone, Copy, Debug)]
struct Rounds {
    spawn: usize,
    yields: usize,
    ping_pong: usize,
    chain: usize,
}

const FULL: Rounds = Rounds {
    spawn: 40,
    yields: 8,
    ping_pong: 10,
    chain: 100,
};

const QUICK: Rounds = Rounds {
    spawn: 16,
    yields: 5,
    ping_pong: 5,
    chain: 40,
};

/// Run multi-thread workload `name` on `rt`.
pub(crate) fn run(name: &str, rt: Runtime, quick: bool) -> io::Result<Metrics> {
    match rt {
        Runtime::Ember => on(&EmberPool::new()?, name, quick),
        Runtime::TokioMt => on(&TokioPool::new()?, name, quick),
        Runtime::Smol => on(&SmolPool::new()?, name, quick),
        _ => Err(not_applicable(rt)),
    }
}

/// Run workload `name` on `pool`.
fn on<P: Pool>(pool: &P, name: &str, quick: bool) -> io::Result<Metrics> {
    let rounds = if quick { QUICK } else { FULL };
    let spawner = pool.spawner();
    let figure = match name {
        "mt_spawn_local" => {
            let per_round = pool.block_on(inside(&spawner, {
                let s = spawner.clone();
                measure(rounds.spawn, move || spawn_join(s.clone(), SPAWN_TASKS))
            }))?;
            ("ns_per_task", per_op(per_round, SPAWN_TASKS))
        }
        "mt_spawn_remote" => {
            let s = spawner.clone();
            let per_round = pool.block_on(measure(rounds.spawn, move || {
                spawn_join(s.clone(), SPAWN_TASKS)
            }))?;
            ("ns_per_task", per_op(per_round, SPAWN_TASKS))
        }
        "mt_yield" => {
            let yields = if quick { QUICK_YIELDS } else { YIELDS };
            let s = spawner.clone();
            let per_round = pool.block_on(measure(rounds.yields, move || {
                yield_many(s.clone(), yields)
            }))?;
            ("ns_per_yield", per_op(per_round, YIELDERS * yields))
        }
        "mt_ping_pong" => {
            let trips = if quick { QUICK_ROUNDS } else { ROUNDS };
            let per_round = pool.block_on(inside(&spawner, {
                let s = spawner.clone();
                measure(rounds.ping_pong, move || ping_pong(s.clone(), trips))
            }))?;
            ("ns_per_message", per_op(per_round, PAIRS * trips * 2))
        }
        "mt_chained_spawn" => {
            let per_round = pool.block_on(inside(&spawner, {
                let s = spawner.clone();
                measure(rounds.chain, move || chain_once(s.clone()))
            }))?;
            ("ns_per_spawn", per_op(per_round, CHAIN_DEPTH))
        }
        _ => {
            return Err(io::Error::other(format!(
                "unknown multi-thread workload {name}"
            )))
        }
    };
    Ok(vec![figure])
}

/// Run `future` as a task on a worker (not on the `block_on` thread) and return its output.
async fn inside<S: Spawner, T: Send + 'static>(
    spawner: &S,
    future: impl Future<Output = io::Result<T>> + Send + 'static,
) -> io::Result<T> {
    spawner
        .spawn(future)
        .await
        .unwrap_or_else(|| Err(task_failed("driving")))
}

/// One warm-up round of `round`, then `n` measured ones; the median measured round.
async fn measure<F>(n: usize, round: impl Fn() -> F) -> io::Result<Duration>
where
    F: Future<Output = io::Result<()>>,
{
    round().await?;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        let start = Instant::now();
        round().await?;
        times.push(start.elapsed().as_secs_f64());
    }
    Ok(Duration::from_secs_f64(median(&times).unwrap_or(0.0)))
}

/// Nanoseconds per operation of a round of `ops` operations.
fn per_op(round: Duration, ops: usize) -> f64 {
    round.as_nanos() as f64 / ops.max(1) as f64
}

/// Spawn `n` empty tasks from wherever this runs, then await them all.
async fn spawn_join<S: Spawner>(spawner: S, n: usize) -> io::Result<()> {
    let tasks: Vec<_> = (0..n).map(|_| spawner.spawn(async {})).collect();
    join_all(tasks, "spawned").await
}

/// Spawn [`YIELDERS`] tasks that each yield `yields` times, then await them all.
async fn yield_many<S: Spawner>(spawner: S, yields: usize) -> io::Result<()> {
    let tasks: Vec<_> = (0..YIELDERS)
        .map(|_| {
            spawner.spawn(async move {
                for _ in 0..yields {
                    S::yield_now().await;
                }
            })
        })
        .collect();
    join_all(tasks, "yielding").await
}

/// Spawn [`PAIRS`] ping-pong pairs doing `trips` round trips each, then await them all.
async fn ping_pong<S: Spawner>(spawner: S, trips: usize) -> io::Result<()> {
    let mut pongs = Vec::with_capacity(PAIRS);
    let mut pings = Vec::with_capacity(PAIRS);
    for _ in 0..PAIRS {
        let (to_pong, from_ping) = unbounded();
        let (to_ping, from_pong) = unbounded();
        pongs.push(spawner.spawn(pong(to_ping, from_ping)));
        pings.push(spawner.spawn(ping(to_pong, from_pong, trips)));
    }
    join_all(pings, "ping").await?;
    join_all(pongs, "pong").await
}

/// Start a chain of [`CHAIN_DEPTH`] tasks and wait until its last task has run.
async fn chain_once<S: Spawner>(spawner: S) -> io::Result<()> {
    let (done, finished) = oneshot::channel();
    let next = spawner.clone();
    spawner.detach(async move { chain(next, CHAIN_DEPTH - 1, done) });
    finished.await.map_err(|_| task_failed("chained"))
}

/// One link: spawn the next task, or at the end of the chain say so.
fn chain<S: Spawner>(spawner: S, left: usize, done: oneshot::Sender<()>) {
    if left == 0 {
        // The waiter only goes away if the run failed already.
        let _ = done.send(());
        return;
    }
    let next = spawner.clone();
    spawner.detach(async move { chain(next, left - 1, done) });
}

/// Await every task; fail if any did not complete.
async fn join_all<F: Future<Output = Option<()>>>(tasks: Vec<F>, what: &str) -> io::Result<()> {
    let mut failed = 0_usize;
    for task in tasks {
        if task.await.is_none() {
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(task_failed(what));
    }
    Ok(())
}
