//! spawn + join: N empty tasks spawned from inside the runtime, then all awaited.
//! Figure: wall time per task (the process is single-CPU, so wall ~ CPU).

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use async_executor::LocalExecutor;

use super::{not_applicable, Metrics};
use crate::runtimes::{self, task_failed, Runtime};

/// Tasks per run.
const TASKS: usize = 200_000;

/// Run the workload on `rt`: one full-size warm-up round (so the allocator already holds
/// the memory), then the measured round.
pub(crate) fn run(rt: Runtime, _quick: bool) -> io::Result<Metrics> {
    let elapsed = match rt {
        Runtime::Ember => {
            runtimes::ember()?.block_on(rounds(|| ember::spawn(async {}), |r| r.is_ok()))?
        }
        Runtime::TokioCt => {
            runtimes::tokio_ct()?.block_on(rounds(|| tokio::spawn(async {}), |r| r.is_ok()))?
        }
        Runtime::TokioMt => {
            runtimes::tokio_mt()?.block_on(rounds(|| tokio::spawn(async {}), |r| r.is_ok()))?
        }
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            async_io::block_on(ex.run(rounds(|| ex.spawn(async {}), |()| true)))?
        }
        _ => return Err(not_applicable(rt)),
    };
    Ok(vec![(
        "ns_per_task",
        elapsed.as_nanos() as f64 / TASKS as f64,
    )])
}

/// A warm-up round then the measured one; returns the measured round's time.
async fn rounds<H: Future>(
    spawn: impl Fn() -> H,
    ok: impl Fn(H::Output) -> bool,
) -> io::Result<Duration> {
    spawn_join(TASKS, &spawn, &ok).await?;
    spawn_join(TASKS, &spawn, &ok).await
}

/// Spawn `n` tasks, await them all, return the time it took.
async fn spawn_join<H: Future>(
    n: usize,
    spawn: &impl Fn() -> H,
    ok: &impl Fn(H::Output) -> bool,
) -> io::Result<Duration> {
    let start = Instant::now();
    let handles: Vec<H> = (0..n).map(|_| spawn()).collect();
    let mut failed = 0_usize;
    for handle in handles {
        if !ok(handle.await) {
            failed += 1;
        }
    }
    let elapsed = start.elapsed();
    if failed > 0 {
        return Err(task_failed("spawned"));
    }
    Ok(elapsed)
}
