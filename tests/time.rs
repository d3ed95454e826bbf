//! Timers: ordering, bounds, far-future and past deadlines, intervals.
//! The paused clock where only order matters (current-thread runtimes only,
//! as in tokio), real time, on both flavours, where the bound is the point.

mod util;

use ember::time::{interval, sleep, sleep_until, timeout, Duration, Instant, MissedTickBehavior};
use std::sync::{Arc, Mutex};
use util::{watchdog, Rng};

fn paused_runtime() -> ember::Runtime {
    ember::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn ten_thousand_random_sleeps_fire_in_deadline_order_and_never_early() {
    const SLEEPS: usize = 10_000;
    let _guard = watchdog(Duration::from_secs(60));
    let rt = paused_runtime();
    rt.block_on(async {
        let start = Instant::now();
        let fired = Arc::new(Mutex::new(Vec::with_capacity(SLEEPS)));
        let mut rng = Rng::new(42);
        let tasks: Vec<_> = (0..SLEEPS)
            .map(|_| {
                let delay = Duration::from_millis(rng.below(10_000));
                let fired = Arc::clone(&fired);
                ember::spawn(async move {
                    sleep(delay).await;
                    let now = Instant::now();
                    assert!(
                        now >= start + delay,
                        "fired {:?} early",
                        start + delay - now
                    );
                    fired.lock().unwrap().push(delay);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let fired = fired.lock().unwrap();
        assert_eq!(fired.len(), SLEEPS);
        assert!(
            fired.windows(2).all(|w| w[0] <= w[1]),
            "sleeps completed out of deadline order"
        );
    });
}

#[test]
fn a_30_second_timeout_on_the_paused_clock_takes_no_real_time() {
    let _guard = watchdog(Duration::from_secs(10));
    let rt = paused_runtime();
    rt.block_on(async {
        let start = Instant::now();
        let result = timeout(Duration::from_secs(30), std::future::pending::<()>()).await;
        assert!(result.is_err());
        assert!(start.elapsed() >= Duration::from_secs(30));
    });
}

#[test]
fn far_future_deadlines_neither_panic_nor_fire() {
    let _guard = watchdog(Duration::from_secs(10));
    let rt = paused_runtime();
    rt.block_on(async {
        let start = Instant::now();
        // Duration::MAX saturates; ten years is beyond the wheel's range.
        let forever = timeout(Duration::from_secs(5), sleep(Duration::MAX)).await;
        assert!(forever.is_err(), "a Duration::MAX sleep completed");
        let ten_years = Duration::from_secs(10 * 365 * 24 * 3600);
        let far = timeout(Duration::from_secs(5), sleep(ten_years)).await;
        assert!(far.is_err(), "a ten-year sleep completed early");
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_secs(10) && elapsed < ten_years);
        // And it does fire at its deadline, not before.
        let before = Instant::now();
        sleep(ten_years).await;
        assert!(before.elapsed() >= ten_years);
    });
}

#[test]
fn reset_moves_a_sleep() {
    let _guard = watchdog(Duration::from_secs(10));
    let rt = paused_runtime();
    rt.block_on(async {
        let start = Instant::now();
        let mut slept = Box::pin(sleep(Duration::from_secs(1)));
        slept.as_mut().reset(start + Duration::from_secs(5));
        slept.as_mut().await;
        assert!(start.elapsed() >= Duration::from_secs(5));
    });
}

#[test]
fn interval_ticks_at_its_period_and_bursts_after_a_stall() {
    let _guard = watchdog(Duration::from_secs(10));
    let rt = paused_runtime();
    rt.block_on(async {
        let start = Instant::now();
        let mut ticks = interval(Duration::from_millis(100));
        assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Burst);
        for n in 0..5u32 {
            let at = ticks.tick().await;
            assert_eq!(at, start + Duration::from_millis(100) * n);
        }
        // Stall for 3.5 periods: Burst catches up with back-to-back ticks
        // at the missed instants.
        sleep(Duration::from_millis(350)).await;
        let stalled = Instant::now();
        for n in 5..8u32 {
            assert_eq!(ticks.tick().await, start + Duration::from_millis(100) * n);
            assert_eq!(Instant::now(), stalled, "burst ticks must not wait");
        }
    });
}

per_flavor! {
    #[test]
    fn a_50_ms_timeout_fires_between_50_and_250_ms_of_real_time() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let start = std::time::Instant::now();
            let never = std::future::pending::<()>();
            let result = timeout(Duration::from_millis(50), never).await;
            let took = start.elapsed();
            assert!(result.is_err());
            assert!(
                took >= Duration::from_millis(50),
                "fired early, after {took:?}"
            );
            // The bound: generous enough for a loaded 2-core machine.
            assert!(
                took < Duration::from_millis(250),
                "fired late, after {took:?}"
            );
        });
    }

    #[test]
    fn past_deadlines_fire_at_once() {
        let _guard = watchdog(Duration::from_secs(10));
        block_on(async {
            let past = Instant::now()
                .checked_sub(Duration::from_secs(1))
                .unwrap_or_else(Instant::now);
            sleep_until(past).await;
            sleep(Duration::ZERO).await;
            let result = timeout(Duration::ZERO, std::future::pending::<()>()).await;
            assert!(result.is_err());
            // A ready future wins over an already expired deadline.
            assert_eq!(timeout(Duration::ZERO, async { 5 }).await, Ok(5));
        });
    }
}
