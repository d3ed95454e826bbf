//! Timers made by a `Handle` (`handle.sleep(d)`, `handle.timeout(d, f)`,
//! `handle.interval(p)`, ...): they wait on that handle's timer, whatever is
//! current where they are polled, and need no current timer at all. Paused
//! drivers are driven by hand; nothing sleeps.

mod util;

use std::future::{pending, ready};
use std::mem::size_of;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use ember_timer::{Handle, Instant, Interval, Sleep, Timeout};
use util::{advance, enter, paused, poll, Counter};

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);

#[test]
fn a_bound_sleep_needs_no_current_timer() {
    let mut driver = paused();
    let handle = driver.handle().clone();
    assert!(Handle::try_current().is_none());
    let w = Counter::new();
    let mut s = pin!(handle.sleep(SEC));
    assert!(poll(s.as_mut(), &w).is_pending());
    assert!(driver.next_deadline().is_some());
    assert_eq!(advance(&mut driver, 999 * MS), 0);
    assert!(!s.is_elapsed());
    assert_eq!(advance(&mut driver, MS), 1);
    assert_eq!(w.wakes(), 1);
    assert!(s.is_elapsed());
    assert!(poll(s.as_mut(), &w).is_ready());
}

#[test]
fn a_bound_sleep_waits_on_its_own_timer_not_the_current_one() {
    let mut own = paused();
    let current = paused();
    let _current = enter(current.handle());
    let w = Counter::new();
    let mut s = pin!(own.handle().sleep(SEC));
    // The current clock racing ahead completes nothing: not its clock.
    current.handle().clock().advance(10 * SEC);
    assert!(!s.is_elapsed());
    assert!(poll(s.as_mut(), &w).is_pending());
    assert!(own.next_deadline().is_some(), "registered on its own timer");
    assert_eq!(current.next_deadline(), None, "not on the current one");
    assert_eq!(advance(&mut own, SEC), 1);
    assert!(poll(s.as_mut(), &w).is_ready());
}

#[test]
fn a_bound_sleep_until_reads_its_own_clock() {
    let driver = paused();
    let handle = driver.handle();
    let w = Counter::new();
    let deadline = handle.now() + SEC;
    let mut s = pin!(handle.sleep_until(deadline));
    assert_eq!(s.deadline(), deadline);
    handle.clock().advance(SEC);
    // Due on its clock before its first poll: ready with no entry.
    assert!(s.is_elapsed());
    assert!(poll(s.as_mut(), &w).is_ready());
    assert_eq!(driver.next_deadline(), None);
}

#[test]
fn a_bound_sleep_reset_before_it_waits_stays_bound() {
    let mut own = paused();
    let current = paused();
    let _current = enter(current.handle());
    let w = Counter::new();
    let mut s = pin!(own.handle().sleep(SEC));
    let later = own.handle().now() + 2 * SEC;
    s.as_mut().reset(later);
    assert!(poll(s.as_mut(), &w).is_pending());
    assert_eq!(current.next_deadline(), None);
    assert_eq!(advance(&mut own, SEC), 0);
    assert_eq!(advance(&mut own, SEC), 1);
    assert!(poll(s.as_mut(), &w).is_ready());
}

#[test]
fn zero_bound_sleeps_and_timeouts_complete_on_first_poll() {
    let driver = paused();
    let handle = driver.handle();
    let w = Counter::new();
    assert!(poll(pin!(handle.sleep(Duration::ZERO)), &w).is_ready());
    assert!(matches!(
        poll(pin!(handle.timeout(Duration::ZERO, pending::<()>())), &w),
        Poll::Ready(Err(_))
    ));
    assert_eq!(driver.next_deadline(), None, "no entry was inserted");
}

#[test]
fn a_bound_timeout_starts_its_clock_at_the_first_pending_poll() {
    let mut driver = paused();
    let handle = driver.handle().clone();
    let w = Counter::new();
    assert_eq!(
        poll(pin!(handle.timeout(SEC, ready(3))), &w),
        Poll::Ready(Ok(3))
    );
    let mut t = pin!(handle.timeout(SEC, pending::<()>()));
    handle.clock().advance(5 * SEC); // before the first poll: not counted
    assert!(poll(t.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, 999 * MS), 0);
    assert!(poll(t.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, MS), 1);
    assert!(matches!(poll(t.as_mut(), &w), Poll::Ready(Err(_))));
    // timeout_at counts from the instant it is given.
    let mut at = pin!(handle.timeout_at(handle.now() + SEC, pending::<()>()));
    assert!(poll(at.as_mut(), &w).is_pending());
    assert_eq!(advance(&mut driver, SEC), 1);
    assert!(matches!(poll(at.as_mut(), &w), Poll::Ready(Err(_))));
}

#[test]
fn a_bound_timeout_ignores_the_current_timer() {
    let mut own = paused();
    let current = paused();
    let _current = enter(current.handle());
    let w = Counter::new();
    let mut t = pin!(own.handle().timeout(SEC, pending::<()>()));
    assert!(poll(t.as_mut(), &w).is_pending());
    assert!(own.next_deadline().is_some());
    assert_eq!(current.next_deadline(), None);
    assert_eq!(advance(&mut own, SEC), 1);
    assert!(matches!(poll(t.as_mut(), &w), Poll::Ready(Err(_))));
}

#[test]
fn a_bound_interval_ticks_on_its_own_clock() {
    let mut driver = paused();
    let handle = driver.handle().clone();
    let w = Counter::new();
    let start = handle.now();
    let mut every = handle.interval(10 * MS);
    assert_eq!(every.poll_tick(&mut w.cx()), Poll::Ready(start));
    assert!(every.poll_tick(&mut w.cx()).is_pending());
    assert_eq!(advance(&mut driver, 10 * MS), 1);
    assert_eq!(every.poll_tick(&mut w.cx()), Poll::Ready(start + 10 * MS));
    // reset() counts a period from its own clock's now.
    advance(&mut driver, 3 * MS);
    every.reset();
    assert!(every.poll_tick(&mut w.cx()).is_pending());
    assert_eq!(advance(&mut driver, 9 * MS), 0);
    assert_eq!(advance(&mut driver, MS), 1);
    assert_eq!(every.poll_tick(&mut w.cx()), Poll::Ready(start + 23 * MS));
    drop(every);

    let first = handle.now() + SEC;
    let mut later = handle.interval_at(first, SEC);
    assert!(later.poll_tick(&mut w.cx()).is_pending());
    assert_eq!(advance(&mut driver, SEC), 1);
    assert_eq!(later.poll_tick(&mut w.cx()), Poll::Ready(first));
}

#[test]
#[should_panic(expected = "`period` must be non-zero")]
fn a_bound_interval_refuses_a_zero_period() {
    let driver = paused();
    let _ = driver.handle().interval(Duration::ZERO);
}

#[test]
fn the_handle_reads_its_clock_and_instant_now_the_current_one() {
    let own = paused();
    let current = paused();
    own.handle().clock().advance(3600 * SEC);
    let _current = enter(current.handle());
    assert_eq!(own.handle().now(), own.handle().clock().now());
    assert_eq!(Instant::now(), current.handle().clock().now());
    assert!(own.handle().now() > Instant::now() + 1800 * SEC);
}

#[test]
fn binding_a_sleep_to_a_handle_costs_no_space() {
    // A deadline, the timer (handle and key, or handle alone while bound but
    // not registered) and two flags: a field for the bound handle would add
    // a word to every sleep, timeout and interval.
    let word = size_of::<usize>();
    assert!(
        size_of::<Sleep>() <= size_of::<std::time::Instant>() + 3 * word,
        "Sleep is {} bytes",
        size_of::<Sleep>()
    );
    assert!(size_of::<Timeout<std::future::Ready<()>>>() <= size_of::<Sleep>() + word);
    assert!(size_of::<Interval>() <= size_of::<Sleep>() + 3 * word);
}
