//! Timers that outlive the timer they were registered with (or, made by a
//! `Handle`, bound to): a deadline is only an instant, so once that driver is
//! dropped a `Sleep`, `Timeout` or `Interval` waits on the timer current
//! where it is next polled. Two paused drivers are driven by hand; nothing
//! sleeps.

mod util;

use std::future::pending;
use std::pin::pin;
use std::time::Duration;

use ember_timer::{interval, sleep, timeout, Clock, Driver, Handle, Instant};
use util::{advance, enter, paused, poll, Counter};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

/// Advances `driver`'s clock to just before `deadline`.
fn advance_to_just_before(driver: &mut Driver, deadline: Instant) -> usize {
    let now = driver.handle().clock().now();
    advance(driver, deadline - now - MS)
}

/// Advances `driver`'s clock to its next deadline, as a reactor would: a
/// deadline that is not a whole number of ticks after the driver's start
/// fires at the end of its tick, never before. Returns how many fired.
fn advance_to_next_deadline(driver: &mut Driver) -> usize {
    let next = driver.next_deadline().expect("a pending timer");
    let now = driver.handle().clock().now();
    advance(driver, next - now)
}

#[test]
fn a_sleep_moves_to_the_next_timer_when_its_own_is_dropped() {
    let w = Counter::new();
    let mut s = Box::pin({
        let a = paused();
        let _a = enter(a.handle());
        let mut s = Box::pin(sleep(SEC));
        assert!(poll(s.as_mut(), &w).is_pending());
        drop(a);
        s
    });
    assert_eq!(w.wakes(), 1, "dropping the timer wakes its waiters");
    assert!(!s.is_elapsed());

    let mut b = paused();
    let _b = enter(b.handle());
    assert!(poll(s.as_mut(), &w).is_pending());
    assert!(b.next_deadline().is_some(), "registered on the new timer");
    // On the new clock, neither early nor never.
    assert_eq!(advance_to_just_before(&mut b, s.deadline()), 0);
    assert!(poll(s.as_mut(), &w).is_pending());
    assert_eq!(advance_to_next_deadline(&mut b), 1);
    assert!(Instant::now() >= s.deadline());
    assert_eq!(w.wakes(), 2);
    assert!(s.is_elapsed());
    assert!(poll(s.as_mut(), &w).is_ready());
    drop(s);
    assert_eq!(b.next_deadline(), None);
}

#[test]
fn a_sleep_whose_deadline_passed_completes_at_once_on_the_next_timer() {
    let w = Counter::new();
    let a = paused();
    let mut s = {
        let _a = enter(a.handle());
        let mut s = Box::pin(sleep(SEC));
        assert!(poll(s.as_mut(), &w).is_pending());
        s
    };
    drop(a);
    let b = paused();
    let _b = enter(b.handle());
    b.handle().clock().advance(2 * SEC);
    assert!(s.is_elapsed());
    assert!(poll(s.as_mut(), &w).is_ready());
    assert_eq!(b.next_deadline(), None, "no entry was taken");
}

#[test]
fn a_sleep_fired_before_its_timer_was_dropped_stays_ready() {
    let w = Counter::new();
    let mut a = paused();
    let mut s = {
        let _a = enter(a.handle());
        let mut s = Box::pin(sleep(SEC));
        assert!(poll(s.as_mut(), &w).is_pending());
        s
    };
    assert_eq!(advance(&mut a, SEC), 1);
    drop(a);
    // No timer at all is needed: it has fired.
    assert!(poll(s.as_mut(), &w).is_ready());
}

#[test]
#[should_panic(expected = "there is no ember runtime on this thread")]
fn a_sleep_outliving_its_timer_with_no_timer_left_panics() {
    let w = Counter::new();
    let a = paused();
    let mut s = {
        let _a = enter(a.handle());
        let mut s = Box::pin(sleep(SEC));
        assert!(poll(s.as_mut(), &w).is_pending());
        s
    };
    drop(a);
    let _ = poll(s.as_mut(), &w);
}

#[test]
#[should_panic(expected = "there is no ember runtime on this thread")]
fn a_handle_entered_after_its_driver_is_dropped_is_no_timer() {
    let w = Counter::new();
    let a = paused();
    let handle: Handle = a.handle().clone();
    drop(a);
    let _a = enter(&handle);
    let _ = poll(pin!(sleep(SEC)), &w);
}

#[test]
fn a_bound_sleep_whose_timer_is_dropped_before_it_waits_moves_to_the_current_one() {
    let w = Counter::new();
    let a = paused();
    let mut s = Box::pin(a.handle().sleep(SEC));
    let deadline = s.deadline();
    drop(a);
    let mut b = paused();
    let _b = enter(b.handle());
    assert!(poll(s.as_mut(), &w).is_pending());
    assert!(
        b.next_deadline().is_some(),
        "registered on the current timer"
    );
    assert_eq!(advance_to_just_before(&mut b, deadline), 0);
    assert_eq!(advance_to_next_deadline(&mut b), 1);
    assert!(poll(s.as_mut(), &w).is_ready());
}

#[test]
fn a_bound_timeout_and_interval_move_to_the_current_timer() {
    let w = Counter::new();
    let a = paused();
    let start = a.handle().now();
    let mut t = Box::pin(a.handle().timeout(SEC, pending::<()>()));
    let mut every = a.handle().interval_at(start + 10 * SEC, SEC);
    drop(a);
    let mut b = paused();
    let _b = enter(b.handle());
    assert!(poll(t.as_mut(), &w).is_pending());
    assert!(every.poll_tick(&mut w.cx()).is_pending());
    assert_eq!(advance(&mut b, SEC), 1, "the timeout, on the current timer");
    assert!(matches!(
        poll(t.as_mut(), &w),
        std::task::Poll::Ready(Err(_))
    ));
    assert_eq!(advance_to_just_before(&mut b, start + 10 * SEC), 0);
    assert_eq!(advance_to_next_deadline(&mut b), 1);
    assert_eq!(
        every.poll_tick(&mut w.cx()),
        std::task::Poll::Ready(start + 10 * SEC)
    );
}

#[test]
#[should_panic(expected = "there is no ember runtime on this thread")]
fn a_bound_sleep_whose_timer_is_dropped_with_no_timer_left_panics() {
    let w = Counter::new();
    let a = paused();
    let mut s = Box::pin(a.handle().sleep(SEC));
    drop(a);
    let _ = poll(s.as_mut(), &w);
}

#[test]
fn a_sleep_reset_after_its_timer_is_dropped_waits_on_the_next() {
    let w = Counter::new();
    let a = paused();
    let mut s = {
        let _a = enter(a.handle());
        let mut s = Box::pin(sleep(SEC));
        assert!(poll(s.as_mut(), &w).is_pending());
        s
    };
    drop(a);
    let mut b = paused();
    let _b = enter(b.handle());
    let deadline = Instant::now() + 2 * SEC;
    s.as_mut().reset(deadline);
    assert!(poll(s.as_mut(), &w).is_pending());
    assert_eq!(advance_to_just_before(&mut b, deadline), 0);
    assert_eq!(advance_to_next_deadline(&mut b), 1);
    assert!(poll(s.as_mut(), &w).is_ready());
}

#[test]
fn a_timeout_moves_to_the_next_timer() {
    let w = Counter::new();
    let a = paused();
    let (mut t, deadline) = {
        let _a = enter(a.handle());
        let mut t = Box::pin(timeout(SEC, pending::<()>()));
        assert!(poll(t.as_mut(), &w).is_pending());
        (t, Instant::now() + SEC)
    };
    drop(a);
    let mut b = paused();
    let _b = enter(b.handle());
    assert!(poll(t.as_mut(), &w).is_pending());
    assert!(b.next_deadline().is_some());
    assert_eq!(advance_to_just_before(&mut b, deadline), 0);
    assert_eq!(advance_to_next_deadline(&mut b), 1);
    assert!(matches!(
        poll(t.as_mut(), &w),
        std::task::Poll::Ready(Err(_))
    ));
}

#[test]
fn an_interval_moves_to_the_next_timer_and_keeps_its_schedule() {
    let w = Counter::new();
    let a = paused();
    let (mut every, start) = {
        let _a = enter(a.handle());
        let start = Instant::now();
        let mut every = interval(10 * MS);
        assert_eq!(every.poll_tick(&mut w.cx()), std::task::Poll::Ready(start));
        assert!(every.poll_tick(&mut w.cx()).is_pending());
        (every, start)
    };
    drop(a);
    let mut b = paused();
    let _b = enter(b.handle());
    assert!(every.poll_tick(&mut w.cx()).is_pending());
    assert_eq!(advance_to_just_before(&mut b, start + 10 * MS), 0);
    assert_eq!(advance_to_next_deadline(&mut b), 1);
    assert_eq!(
        every.poll_tick(&mut w.cx()),
        std::task::Poll::Ready(start + 10 * MS)
    );
    // The next tick is on the new timer too.
    assert!(every.poll_tick(&mut w.cx()).is_pending());
    assert_eq!(advance_to_just_before(&mut b, start + 20 * MS), 0);
    assert_eq!(advance_to_next_deadline(&mut b), 1);
    assert_eq!(
        every.poll_tick(&mut w.cx()),
        std::task::Poll::Ready(start + 20 * MS)
    );
}

#[test]
fn a_sleep_goes_back_and_forth_between_real_and_paused_timers() {
    // Registered on a real clock, then on a paused one, then on a real one
    // again: each time the driver it waited on was dropped.
    let w = Counter::new();
    let mut s = Box::pin(sleep_on(
        Driver::new(Clock::real()),
        &w,
        Duration::from_secs(3600),
    ));
    let deadline = s.deadline();
    let mut b = paused();
    {
        let _b = enter(b.handle());
        assert!(poll(s.as_mut(), &w).is_pending());
        assert_eq!(advance_to_just_before(&mut b, deadline), 0);
    }
    drop(b);
    let c = Driver::new(Clock::real());
    let _c = enter(c.handle());
    assert!(poll(s.as_mut(), &w).is_pending());
    assert!(c.next_deadline().is_some());
}

/// A sleep of `d` polled once on `driver`, which is then dropped.
fn sleep_on(driver: Driver, w: &Counter, d: Duration) -> ember_timer::Sleep {
    let _guard = enter(driver.handle());
    let mut s = sleep(d);
    assert!(poll(pin!(&mut s), w).is_pending());
    s
}
