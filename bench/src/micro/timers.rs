//! timers: (1) N `timeout(1 s, ready)` created and awaited; (2) N sleeps of 1 s polled
//! once (which inserts the timer) and dropped (which cancels it): insert + cancel;
//! (3) N tasks each sleeping until a deadline 1-50 ms (seeded) after a common start
//! [`SETUP`] from now, reporting how late each one woke. The common start keeps the
//! cost of spawning and first-polling N tasks out of the lateness: only the firing is
//! measured. A task first polled after its deadline is counted in `fire_overrun`
//! (should be 0) and left out of the percentiles. (4) The same with only
//! [`PRECISE_SLEEPS`] tasks: 200k deadlines within 50 ms is ~4000 wake-ups per ms on one
//! CPU, more than any runtime can run, so (3) measures firing throughput; (4) measures
//! how precisely the timer fires when the executor can keep up.
//!
//! smol has no `timeout`; its idiom `fut.or(async { Timer::after(d).await; .. })` stands in.

use std::future::{ready, Future};
use std::hint::black_box;
use std::io;
use std::pin::pin;
use std::time::{Duration, Instant};

use async_executor::LocalExecutor;
use async_io::Timer;
use futures_lite::future::{poll_once, FutureExt};

use super::{not_applicable, percentile, Metrics, XorShift};
use crate::runtimes::{self, task_failed, Runtime};

/// Timeouts and insert+cancel operations per run.
const OPS: usize = 200_000;
/// Firing sleeps per run.
const SLEEPS: usize = 200_000;
const SEC: Duration = Duration::from_secs(1);
/// Time allowed for spawning and first-polling the firing tasks before the first deadline.
const SETUP: Duration = Duration::from_millis(800);
/// Firing sleeps in the precision measurement.
const PRECISE_SLEEPS: usize = 1_000;
/// Its setup time: ample for spawning 1k tasks.
const PRECISE_SETUP: Duration = Duration::from_millis(50);

/// Run the workload on `rt`.
pub(crate) fn run(rt: Runtime, _quick: bool) -> io::Result<Metrics> {
    match rt {
        Runtime::Ember => runtimes::ember()?.block_on(all(
            |i| ember::time::timeout(SEC, ready(i)),
            ember::time::sleep,
            |t| ember::spawn(fire_one(t, |t| ember::time::sleep_until(t.into()))),
            Result::ok,
        )),
        Runtime::TokioCt | Runtime::TokioMt => {
            let tokio_rt = if rt == Runtime::TokioCt {
                runtimes::tokio_ct()?
            } else {
                runtimes::tokio_mt()?
            };
            tokio_rt.block_on(all(
                |i| tokio::time::timeout(SEC, ready(i)),
                tokio::time::sleep,
                |t| tokio::spawn(fire_one(t, |t| tokio::time::sleep_until(t.into()))),
                Result::ok,
            ))
        }
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            async_io::block_on(ex.run(all(
                |i| {
                    // Create the timer eagerly, as tokio's `timeout` computes its deadline.
                    let timer = Timer::after(SEC);
                    ready(Some(i)).or(async move {
                        timer.await;
                        None
                    })
                },
                Timer::after,
                |t| ex.spawn(fire_one(t, Timer::at)),
                Some,
            )))
        }
        _ => Err(not_applicable(rt)),
    }
}

/// The three measurements, in order.
async fn all<T, S, H>(
    timeout_ready: impl Fn(u64) -> T,
    sleep: impl Fn(Duration) -> S,
    spawn_fire: impl Fn(Instant) -> H,
    late_ns: impl Fn(H::Output) -> Option<Option<u64>>,
) -> io::Result<Metrics>
where
    T: Future,
    S: Future,
    H: Future,
{
    let start = Instant::now();
    for i in 0..OPS as u64 {
        black_box(timeout_ready(i).await);
    }
    let timeout_ns = start.elapsed().as_nanos() as f64 / OPS as f64;

    let start = Instant::now();
    for _ in 0..OPS {
        let mut sleep = pin!(sleep(SEC));
        black_box(poll_once(sleep.as_mut()).await.is_some());
    }
    let insert_cancel_ns = start.elapsed().as_nanos() as f64 / OPS as f64;

    let busy = fire_all(SLEEPS, SETUP, &spawn_fire, &late_ns).await?;
    let precise = fire_all(PRECISE_SLEEPS, PRECISE_SETUP, &spawn_fire, &late_ns).await?;
    let ms = |ns: u64| ns as f64 / 1e6;
    Ok(vec![
        ("timeout_ready_ns", timeout_ns),
        ("insert_cancel_ns", insert_cancel_ns),
        ("late_p50_ms", ms(percentile(&busy.lateness, 0.50))),
        ("late_p99_ms", ms(percentile(&busy.lateness, 0.99))),
        ("late_max_ms", ms(percentile(&busy.lateness, 1.0))),
        ("fire_span_ms", busy.span_ms),
        ("fire_overrun", (busy.overrun + precise.overrun) as f64),
        ("1k_late_p50_ms", ms(percentile(&precise.lateness, 0.50))),
        ("1k_late_p99_ms", ms(percentile(&precise.lateness, 0.99))),
    ])
}

/// What one firing measurement saw.
struct Fired {
    /// Nanoseconds late, sorted.
    lateness: Vec<u64>,
    /// Tasks first polled after their deadline (left out of `lateness`).
    overrun: usize,
    /// From the common start until the last task resumed (ideally 51 ms).
    span_ms: f64,
}

/// Spawns `n` tasks sleeping until 1-50 ms (seeded) after a start `setup` from now,
/// and collects how late each woke.
async fn fire_all<H: Future>(
    n: usize,
    setup: Duration,
    spawn_fire: &impl Fn(Instant) -> H,
    late_ns: &impl Fn(H::Output) -> Option<Option<u64>>,
) -> io::Result<Fired> {
    let mut rng = XorShift::new(0x5eed);
    let base = Instant::now() + setup;
    let handles: Vec<H> = (0..n)
        .map(|_| spawn_fire(base + Duration::from_millis(1 + rng.next_u64() % 50)))
        .collect();
    let mut lateness = Vec::with_capacity(n);
    let mut overrun = 0_usize;
    for handle in handles {
        match late_ns(handle.await).ok_or_else(|| task_failed("sleeping"))? {
            Some(ns) => lateness.push(ns),
            None => overrun += 1,
        }
    }
    let span_ms = Instant::now().saturating_duration_since(base).as_secs_f64() * 1e3;
    lateness.sort_unstable();
    Ok(Fired {
        lateness,
        overrun,
        span_ms,
    })
}

/// Sleep until `deadline` and return how many nanoseconds after it the task resumed,
/// or None if the task was first polled after its deadline (setup overran [`SETUP`]).
async fn fire_one<S: Future>(deadline: Instant, sleep_until: impl Fn(Instant) -> S) -> Option<u64> {
    if Instant::now() >= deadline {
        return None;
    }
    sleep_until(deadline).await;
    let late = Instant::now().saturating_duration_since(deadline);
    Some(u64::try_from(late.as_nanos()).unwrap_or(u64::MAX))
}
