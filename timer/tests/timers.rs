//! Sleep, Timeout and Interval on a paused clock, driven by hand with
//! `Driver::process` and a waker that counts its wakes. Nothing sleeps.

mod util;

use std::future::{pending, ready, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use ember_timer::{
    interval, interval_at, sleep, sleep_until, timeout, timeout_at, Clock, Driver, Elapsed, Handle,
    Instant, Interval, MissedTickBehavior, Sleep, Timeout,
};
use util::{advance, enter, noop, paused, poll, Counter};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

#[test]
fn sleep_fires_at_its_deadline_and_not_before() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let mut s = pin!(sleep(SEC));
    assert!(poll(s.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, 999 * MS), 0);
    assert!(poll(s.as_mut(), &w).is_pending());
    assert_eq!(w.wakes(), 0);
    assert_eq!(advance(&mut driver, MS), 1);
    assert_eq!(w.wakes(), 1);
    assert!(s.is_elapsed());
    assert!(poll(s.as_mut(), &w).is_ready());
    assert!(poll(s.as_mut(), &w).is_ready(), "stays ready");
    assert_eq!(driver.next_deadline(), None);
}

#[test]
fn sub_millisecond_deadlines_fire_at_their_tick_and_never_early() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let us = Duration::from_micros;
    // 1.5 ms is 24 ticks of 62.5 µs exactly: it fires at 1.5 ms.
    let mut exact = pin!(sleep(us(1500)));
    // 1.53 ms rounds up to the 1.5625 ms tick, never down.
    let mut between = pin!(sleep(us(1530)));
    assert!(poll(exact.as_mut(), &w).is_pending());
    assert!(poll(between.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, MS), 0);
    assert_eq!(advance(&mut driver, us(499)), 0);
    assert!(poll(exact.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, us(1)), 1);
    assert!(poll(exact.as_mut(), &w).is_ready());
    assert_eq!(advance(&mut driver, us(30)), 0, "1.53 ms: not yet its tick");
    assert!(poll(between.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, us(32)), 0);
    assert_eq!(advance(&mut driver, Duration::from_nanos(500)), 1);
    assert!(poll(between.as_mut(), &w).is_ready());
}

#[test]
fn zero_and_past_deadlines_are_ready_on_first_poll() {
    let driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    assert!(poll(pin!(sleep(Duration::ZERO)), &w).is_ready());
    let past = Instant::now() - Duration::from_secs(3600);
    assert!(poll(pin!(sleep_until(past)), &w).is_ready());
    assert_eq!(driver.next_deadline(), None, "no entry was inserted");
}

#[test]
fn deadlines_due_since_the_last_process_are_ready_on_first_poll() {
    // The clock moved on but the driver has not processed since: the first
    // poll reads the clock, completes, and takes no entry.
    let driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let start = Instant::now();
    driver.handle().clock().advance(5 * MS);
    assert!(poll(pin!(sleep(Duration::ZERO)), &w).is_ready());
    assert!(poll(pin!(sleep_until(start + 3 * MS)), &w).is_ready());
    assert!(poll(pin!(sleep_until(start + 5 * MS)), &w).is_ready());
    let mut later = pin!(sleep_until(start + 6 * MS));
    assert!(poll(later.as_mut(), &w).is_pending());
    assert!(driver
        .next_deadline()
        .is_some_and(|next| next <= start + 6 * MS));
    assert_eq!(w.wakes(), 0);
}

#[test]
fn zero_sleeps_and_timeouts_on_a_real_clock_complete_on_first_poll() {
    // A real clock never sits on a tick boundary: a zero deadline is due at
    // once but its tick lies ahead, so comparing with the wheel alone waits.
    let driver = Driver::new(Clock::real());
    let _g = enter(driver.handle());
    let w = Counter::new();
    for _ in 0..100 {
        assert!(poll(pin!(sleep(Duration::ZERO)), &w).is_ready());
        assert_eq!(
            poll(pin!(timeout(Duration::ZERO, pending::<()>())), &w),
            Poll::Ready(Err(elapsed()))
        );
    }
    assert_eq!(driver.next_deadline(), None, "no entry was inserted");
    assert_eq!(Arc::strong_count(&w.count), 2, "no waker was stored");
}

#[test]
fn zero_timeout_polls_its_future_once() {
    let driver = Driver::new(Clock::real());
    let _g = enter(driver.handle());
    let w = Counter::new();
    let mut polls = 0;
    let counted = std::future::poll_fn(|_| {
        polls += 1;
        Poll::<()>::Pending
    });
    assert_eq!(
        poll(pin!(timeout(Duration::ZERO, counted)), &w),
        Poll::Ready(Err(elapsed()))
    );
    assert_eq!(polls, 1);
    assert_eq!(
        poll(pin!(timeout(Duration::ZERO, ready(9))), &w),
        Poll::Ready(Ok(9))
    );
    assert_eq!(driver.next_deadline(), None);
}

#[test]
fn thirty_second_timeout_on_a_paused_clock() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let mut t = pin!(timeout(Duration::from_secs(30), pending::<()>()));
    assert!(poll(t.as_mut(), &w).is_pending());
    let deadline = driver.next_deadline().unwrap();
    assert!(deadline <= Instant::now() + Duration::from_secs(30));
    assert_eq!(advance(&mut driver, Duration::from_secs(30)), 1);
    assert_eq!(poll(t.as_mut(), &w), Poll::Ready(Err(elapsed())));
}

fn elapsed() -> Elapsed {
    let mut t = pin!(timeout_at(Instant::now() - SEC, pending::<()>()));
    match t.as_mut().poll(&mut Context::from_waker(&noop())) {
        Poll::Ready(Err(e)) => e,
        _ => unreachable!(),
    }
}

#[test]
fn reactor_style_loop_reaches_exact_deadlines() {
    // Jump the clock to next_deadline() and process, as the reactor does with
    // a paused clock: deadlines in coarse slots converge on the exact tick.
    let mut driver = paused();
    let _g = enter(driver.handle());
    let start = Instant::now();
    let w = Counter::new();
    let delays = [
        3 * MS,
        70 * MS,
        5 * SEC,
        Duration::from_secs(3 * 3600),
        Duration::from_secs(3 * 365 * 86_400),
        // Beyond the wheel's span: re-placed once per turn of the top level.
        Duration::from_secs(20 * 365 * 86_400),
    ];
    let mut sleeps: Vec<Pin<Box<Sleep>>> = delays.iter().map(|d| Box::pin(sleep(*d))).collect();
    for s in &mut sleeps {
        assert!(poll(s.as_mut(), &w).is_pending());
    }
    let mut fired_at = Vec::new();
    let mut turns = 0;
    while let Some(deadline) = driver.next_deadline() {
        let now = driver.handle().clock().now();
        driver.handle().clock().advance(deadline - now);
        if driver.process() > 0 {
            fired_at.push(Instant::now() - start);
        }
        turns += 1;
        assert!(turns < 200);
    }
    assert_eq!(fired_at, delays);
    for s in &mut sleeps {
        assert!(poll(s.as_mut(), &w).is_ready());
    }
}

#[test]
fn duration_max_never_fires_and_never_panics() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let mut forever = pin!(sleep(Duration::MAX));
    let mut t = pin!(timeout(Duration::MAX, pending::<()>()));
    let mut at = pin!(sleep_until(Instant::now() + Duration::MAX));
    assert!(poll(forever.as_mut(), &w).is_pending());
    assert!(poll(t.as_mut(), &w).is_pending());
    assert!(poll(at.as_mut(), &w).is_pending());
    assert_eq!(driver.next_deadline(), None, "never is not a deadline");
    assert_eq!(
        advance(&mut driver, Duration::from_secs(200 * 365 * 86_400)),
        0
    );
    assert_eq!(advance(&mut driver, Duration::from_secs(u64::MAX / 4)), 0);
    assert!(poll(forever.as_mut(), &w).is_pending());
    assert!(poll(t.as_mut(), &w).is_pending());
    assert_eq!(w.wakes(), 0);
}

#[test]
fn years_away_fires_after_years_and_not_before() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let years = Duration::from_secs(20 * 365 * 86_400); // beyond the wheel's ~8.7-year span
    let mut s = pin!(sleep(years));
    assert!(poll(s.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, years - MS), 0);
    assert!(poll(s.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, MS), 1);
    assert!(poll(s.as_mut(), &w).is_ready());
}

#[test]
fn one_huge_advance_fires_far_timers() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let mut a = pin!(sleep(Duration::from_secs(40 * 365 * 86_400)));
    let mut b = pin!(sleep(Duration::from_secs(3)));
    assert!(poll(a.as_mut(), &w).is_pending());
    assert!(poll(b.as_mut(), &w).is_pending());
    assert_eq!(
        advance(&mut driver, Duration::from_secs(1000 * 365 * 86_400)),
        2
    );
    assert_eq!(w.wakes(), 2);
}

#[test]
fn dropping_a_sleep_removes_its_entry() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let mut s = Box::pin(sleep(SEC));
    assert!(poll(s.as_mut(), &w).is_pending());
    assert!(driver.next_deadline().is_some());
    drop(s);
    assert_eq!(driver.next_deadline(), None);
    assert_eq!(advance(&mut driver, 2 * SEC), 0);
    assert_eq!(w.wakes(), 0);
    assert_eq!(
        Arc::strong_count(&w.count),
        2,
        "the stored waker was dropped"
    );
}

#[test]
fn same_waker_is_not_cloned_again_and_a_new_one_replaces_it() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let a = Counter::new();
    let b = Counter::new();
    let mut s = pin!(sleep(SEC));
    assert!(poll(s.as_mut(), &a).is_pending());
    assert_eq!(Arc::strong_count(&a.count), 3);
    for _ in 0..5 {
        assert!(poll(s.as_mut(), &a).is_pending());
    }
    assert_eq!(
        Arc::strong_count(&a.count),
        3,
        "will_wake avoided the clone"
    );
    assert!(poll(s.as_mut(), &b).is_pending());
    assert_eq!(Arc::strong_count(&a.count), 2, "old waker released");
    assert_eq!(advance(&mut driver, SEC), 1);
    assert_eq!((a.wakes(), b.wakes()), (0, 1));
}

#[test]
fn reset_moves_the_deadline_both_ways() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let start = Instant::now();
    let mut s = pin!(sleep(10 * SEC));
    assert!(poll(s.as_mut(), &w).is_pending());
    s.as_mut().reset(start + 2 * SEC);
    assert_eq!(s.deadline(), start + 2 * SEC);
    assert_eq!(advance(&mut driver, SEC), 0);
    s.as_mut().reset(start + 3 * SEC);
    assert_eq!(advance(&mut driver, SEC), 0);
    assert!(poll(s.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, SEC), 1);
    assert!(poll(s.as_mut(), &w).is_ready());

    // Re-arm after completion.
    s.as_mut().reset(start + 5 * SEC);
    assert!(!s.is_elapsed());
    assert!(poll(s.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, 2 * SEC), 1);
    assert!(poll(s.as_mut(), &w).is_ready());
}

#[test]
fn reset_into_the_past_completes_at_once_and_wakes() {
    let driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let mut s = pin!(sleep(10 * SEC));
    assert!(poll(s.as_mut(), &w).is_pending());
    s.as_mut().reset(Instant::now() - SEC);
    assert_eq!(w.wakes(), 1);
    assert!(s.is_elapsed());
    assert!(poll(s.as_mut(), &w).is_ready());
    assert_eq!(driver.next_deadline(), None);
}

#[test]
fn reset_before_first_poll_is_lazy() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let mut s = pin!(sleep(SEC));
    s.as_mut().reset(Instant::now() + 2 * SEC);
    assert_eq!(driver.next_deadline(), None);
    assert!(poll(s.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, SEC), 0);
    assert_eq!(advance(&mut driver, SEC), 1);
}

#[test]
fn timeout_with_a_ready_future_never_touches_the_wheel() {
    let driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    for _ in 0..100 {
        let t = pin!(timeout(SEC, ready(5)));
        assert_eq!(poll(t, &w), Poll::Ready(Ok(5)));
    }
    assert_eq!(driver.next_deadline(), None);
}

#[test]
fn timeout_polls_the_inner_future_first() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    // Completes on its second poll.
    let mut polls = 0;
    let inner = std::future::poll_fn(move |_| {
        polls += 1;
        if polls == 2 {
            Poll::Ready("late but ready")
        } else {
            Poll::Pending
        }
    });
    let mut t = pin!(timeout(SEC, inner));
    assert!(poll(t.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, 5 * SEC), 1);
    assert_eq!(poll(t.as_mut(), &w), Poll::Ready(Ok("late but ready")));
    // timeout_at with a past deadline and a ready future is still Ok.
    assert_eq!(
        poll(pin!(timeout_at(Instant::now() - SEC, ready(1))), &w),
        Poll::Ready(Ok(1))
    );
}

#[test]
fn timeout_accessors_and_error() {
    let driver = paused();
    let _g = enter(driver.handle());
    let mut t = timeout(SEC, ready(3u8));
    assert!(t.get_ref().clone().into_inner() == 3);
    assert_eq!(t.get_mut().clone().into_inner(), 3);
    assert_eq!(t.into_inner().into_inner(), 3);

    let e = elapsed();
    assert_eq!(e.to_string(), "deadline has elapsed");
    assert_eq!(e.clone(), e);
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    let _: &dyn std::error::Error = &elapsed();
}

#[test]
fn instant_now_follows_the_current_clock() {
    let driver = paused();
    let t0 = {
        let _g = enter(driver.handle());
        let t0 = Instant::now();
        driver.handle().clock().advance(Duration::from_secs(7));
        assert_eq!(Instant::now() - t0, Duration::from_secs(7));
        assert_eq!(t0.elapsed(), Duration::from_secs(7));
        t0
    };
    // Outside the context: std's clock, which has not moved 7 s.
    assert!(Instant::now() - t0 < Duration::from_secs(7));
}

#[test]
#[should_panic(expected = "there is no ember runtime on this thread")]
fn waiting_outside_a_timer_panics_with_a_hint() {
    let w = Counter::new();
    let _ = poll(pin!(sleep(SEC)), &w);
}

#[test]
fn sleeps_work_across_threads() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let mut s = Box::pin(sleep(SEC));
    assert!(poll(s.as_mut(), &w).is_pending());
    let mut other = Box::pin(sleep(2 * SEC));
    assert!(poll(other.as_mut(), &w).is_pending());
    // Poll and drop from other threads: the entries live in the shared handle.
    let (s, w) = std::thread::spawn(move || {
        drop(other);
        (s, w)
    })
    .join()
    .unwrap();
    assert_eq!(advance(&mut driver, 3 * SEC), 1);
    let done = std::thread::spawn(move || {
        let mut s = s;
        poll(s.as_mut(), &w).is_ready()
    })
    .join()
    .unwrap();
    assert!(done);
}

/// Wakes by polling a fresh sleep on the same timer: deadlocks if the
/// driver still held the wheel's lock while waking.
struct ReentrantWaker {
    handle: Handle,
    woke: AtomicUsize,
}

impl Wake for ReentrantWaker {
    fn wake(self: Arc<Self>) {
        let _g = enter(&self.handle);
        let mut s = pin!(sleep(SEC));
        let _ = s.as_mut().poll(&mut Context::from_waker(&noop()));
        self.woke.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn wakers_run_after_the_wheel_lock_is_released() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let waker = Arc::new(ReentrantWaker {
        handle: driver.handle().clone(),
        woke: AtomicUsize::new(0),
    });
    let mut s = pin!(sleep(SEC));
    let _ = s
        .as_mut()
        .poll(&mut Context::from_waker(&Waker::from(waker.clone())));
    assert_eq!(advance(&mut driver, SEC), 1);
    assert_eq!(waker.woke.load(Ordering::SeqCst), 1);
}

#[test]
fn many_sleeps_fire_in_deadline_order() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let start = Instant::now();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut entries = Vec::new();
    for _ in 0..500 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let d = Duration::from_millis(seed % 20_000);
        let w = Counter::new();
        let mut s = Box::pin(sleep_until(start + d));
        let _ = poll(s.as_mut(), &w);
        entries.push((d, w, s));
    }
    let mut step = 0;
    while step < 21_000 {
        advance(&mut driver, Duration::from_millis(97));
        step += 97;
        let now = Instant::now() - start;
        for (d, w, _) in &entries {
            assert_eq!(
                w.wakes() == 1,
                *d <= now && !d.is_zero(),
                "deadline {d:?} at {now:?}"
            );
        }
    }
}

fn tick(i: &mut Interval, w: &Counter) -> Poll<Instant> {
    i.poll_tick(&mut w.cx())
}

#[test]
fn interval_first_tick_is_immediate_then_every_period() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let start = Instant::now();
    let mut i = interval(10 * MS);
    assert_eq!(i.period(), 10 * MS);
    assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Burst);
    assert_eq!(tick(&mut i, &w), Poll::Ready(start));
    assert!(tick(&mut i, &w).is_pending());
    for n in 1..=5u32 {
        assert_eq!(advance(&mut driver, 9 * MS), 0);
        assert!(tick(&mut i, &w).is_pending());
        assert_eq!(advance(&mut driver, MS), 1);
        assert_eq!(tick(&mut i, &w), Poll::Ready(start + n * 10 * MS));
        assert!(tick(&mut i, &w).is_pending());
    }
    assert_eq!(w.wakes(), 5);
}

/// Ticks of an interval (10 ms period, started at 0) after the owner was
/// busy until 35 ms, then at 40, 45 and 55 ms: offsets from the start.
fn missed_ticks(behavior: MissedTickBehavior) -> Vec<u64> {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let start = Instant::now();
    let mut i = interval_at(start, 10 * MS);
    i.set_missed_tick_behavior(behavior);
    assert_eq!(i.missed_tick_behavior(), behavior);
    let mut seen = Vec::new();
    let drain = |i: &mut Interval, seen: &mut Vec<u64>| {
        while let Poll::Ready(t) = tick(i, &w) {
            seen.push((t - start).as_millis() as u64);
        }
    };
    drain(&mut i, &mut seen);
    for ms in [35, 5, 5, 10] {
        advance(&mut driver, ms * MS);
        drain(&mut i, &mut seen);
    }
    seen
}

#[test]
fn interval_burst_catches_up_at_once() {
    assert_eq!(
        missed_ticks(MissedTickBehavior::Burst),
        [0, 10, 20, 30, 40, 50]
    );
}

#[test]
fn interval_delay_restarts_from_now() {
    // Tick 10 is seen at 35; the next is due at 45, then 55.
    assert_eq!(missed_ticks(MissedTickBehavior::Delay), [0, 10, 45, 55]);
}

#[test]
fn interval_skip_keeps_the_phase() {
    // Tick 10 is seen at 35; 20 and 30 are skipped; 40 and 50 follow.
    assert_eq!(missed_ticks(MissedTickBehavior::Skip), [0, 10, 40, 50]);
}

#[test]
fn interval_reset_and_late_start() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let start = Instant::now();
    let mut i = interval_at(start + SEC, SEC);
    assert!(tick(&mut i, &w).is_pending());
    assert_eq!(advance(&mut driver, SEC), 1);
    assert_eq!(tick(&mut i, &w), Poll::Ready(start + SEC));
    advance(&mut driver, 500 * MS);
    i.reset();
    assert_eq!(advance(&mut driver, 999 * MS), 0);
    assert!(tick(&mut i, &w).is_pending());
    assert_eq!(advance(&mut driver, MS), 1);
    assert_eq!(tick(&mut i, &w), Poll::Ready(start + 2500 * MS));
}

#[test]
fn interval_tick_future() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let start = Instant::now();
    let mut i = interval(SEC);
    assert_eq!(poll(pin!(i.tick()), &w), Poll::Ready(start));
    {
        let mut t = pin!(i.tick());
        assert!(poll(t.as_mut(), &w).is_pending());
        // Cancel safety: dropping the pending tick loses nothing.
    }
    advance(&mut driver, SEC);
    assert_eq!(poll(pin!(i.tick()), &w), Poll::Ready(start + SEC));
}

#[test]
#[should_panic(expected = "`period` must be non-zero")]
fn zero_period_panics() {
    let _ = interval(Duration::ZERO);
}

#[test]
fn auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    fn unpin<T: Unpin>() {}
    send_sync::<Sleep>();
    send_sync::<Timeout<std::future::Ready<()>>>();
    send_sync::<Interval>();
    send_sync::<Elapsed>();
    send_sync::<Instant>();
    unpin::<Sleep>();
    unpin::<Interval>();
}

#[test]
fn threads_insert_and_cancel_while_the_driver_fires() {
    let mut driver = paused();
    let handle = driver.handle().clone();
    let start = handle.clock().now();
    let workers: Vec<_> = (0..2u64)
        .map(|t| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                let _g = enter(&handle);
                let w = Counter::new();
                let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ (t + 1);
                let mut kept = Vec::new();
                for _ in 0..2_000 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let mut s = Box::pin(sleep_until(start + Duration::from_millis(seed % 300)));
                    let _ = poll(s.as_mut(), &w);
                    if seed % 3 == 0 {
                        kept.push(s);
                    }
                }
                (kept, w)
            })
        })
        .collect();
    for _ in 0..100 {
        advance(&mut driver, MS);
    }
    let results: Vec<_> = workers.into_iter().map(|h| h.join().unwrap()).collect();
    advance(&mut driver, SEC);
    assert_eq!(driver.next_deadline(), None);
    for (mut kept, w) in results {
        for s in &mut kept {
            assert!(poll(s.as_mut(), &w).is_ready());
        }
    }
}

#[test]
fn timeout_clock_starts_at_the_first_pending_poll() {
    let mut driver = paused();
    let _g = enter(driver.handle());
    let w = Counter::new();
    let mut t = pin!(timeout(SEC, pending::<()>()));
    driver.handle().clock().advance(5 * SEC); // before the first poll: not counted
    assert!(poll(t.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, 999 * MS), 0);
    assert!(poll(t.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, MS), 1);
    assert!(matches!(poll(t.as_mut(), &w), Poll::Ready(Err(_))));
    // timeout_at counts from the instant it is given.
    let mut at = pin!(timeout_at(Instant::now() + SEC, pending::<()>()));
    driver.handle().clock().advance(SEC);
    driver.process();
    assert!(matches!(poll(at.as_mut(), &w), Poll::Ready(Err(_))));
}
