//! The owned half of the reactor: [`Driver`] polls the OS, dispatches
//! readiness and signals, and fires timers.
//!
//! # Ground rules
//!
//! The driver is owned by one thread (the runtime's), which alone calls
//! [`Driver::turn`]. A turn computes its timeout, marks the driver asleep (see
//! [`crate::unpark`]), polls, and then dispatches the whole event batch under
//! a single lock of the source slab, collecting wakers into a reused buffer
//! and waking them only after the lock is released. Then it drains the
//! signal pipe and fires due timers. Stale events (a token whose generation no
//! longer matches its slot) are dropped.
//!
//! A sleep ends at the next timer deadline to within microseconds, though
//! epoll's timeout is whole milliseconds: on Linux the [`Alarm`] arms a timer
//! fd registered under [`token::TIMER`] and the poll itself waits with no
//! timeout (or the caller's `max_wait`). The fd is armed only when the next
//! deadline is earlier than the one it is armed for (or nothing is armed), so
//! a turn whose deadline did not change makes no extra syscall; a later
//! deadline keeps the earlier expiry, which then costs one turn that finds
//! nothing due and re-arms. An expiry is reported once (edge-triggered, and
//! re-arming clears it), so a stale one costs one cheap turn, never a spin.
//! Elsewhere (kqueue) the poll timeout is precise to the nanosecond and is
//! simply the time until the deadline.
//!
//! Built with `--cfg ember_fault`, every driver also injects the faults a
//! poller may commit (spurious readiness, late events, early returns; see
//! `fault.rs`, which exists only in that build and in unit tests) at the one
//! place they would come from: between the poll and the dispatch of its
//! batch.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use crate::context;
#[cfg(any(ember_fault, test))]
use crate::fault::Faults;
use crate::handle::{Handle, Inner};
use crate::ready::Ready;
use crate::signal::SignalReceiver;
#[cfg(any(target_os = "linux", target_os = "android"))]
use crate::sys;
use crate::token;
use crate::unpark::Unparker;
use ember_timer::__private as timer_hooks;
use ember_timer::Instant;

/// Events fetched per poll.
const EVENTS_CAPACITY: usize = 1024;

/// The reactor: owns the OS poller, the event buffer and the timer driver.
///
/// Turn it with [`turn`](Driver::turn) from the thread that owns it; share
/// its [`Handle`] with everyone else.
///
/// Dropping the driver shuts the reactor down: registered sources are woken
/// and their `poll_ready` fails from then on, signal handlers are removed.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// let mut driver = ember_reactor::Driver::new(ember_timer::Clock::real())?;
/// driver.turn(Some(Duration::ZERO))?; // poll without blocking
/// # Ok(())
/// # }
/// ```
pub struct Driver {
    poll: mio::Poll,
    events: mio::Events,
    timer: ember_timer::Driver,
    clock: ember_timer::Clock,
    signals: SignalReceiver,
    /// Ends a blocking poll at the next timer deadline.
    alarm: Alarm,
    /// Wakers collected under locks, woken after; kept to reuse its allocation.
    wake: Vec<Waker>,
    handle: Handle,
    /// Injected faults: always on under `--cfg ember_fault`; off in unit
    /// tests unless a test switches them on.
    #[cfg(any(ember_fault, test))]
    faults: Option<Faults>,
}

impl Driver {
    /// Create a reactor whose timer reads `clock`.
    ///
    /// The first reactor created in a process also tells the timer crate to
    /// look for the current timer in the reactor's driver context, so that
    /// entering a reactor ([`Handle::enter`]) makes its timer current too.
    ///
    /// # Errors
    ///
    /// If the OS poller, its waker, the signal pipe or (on Linux) the timer
    /// fd cannot be created.
    pub fn new(clock: ember_timer::Clock) -> io::Result<Driver> {
        // Process-wide and set once: later calls are refused, harmlessly.
        timer_hooks::set_context(context::visit_timer);
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let unpark = Unparker::new(poll.registry())?;
        let (signals, signal_shared) = SignalReceiver::new(poll.registry())?;
        let alarm = Alarm::new(poll.registry())?;
        let timer = ember_timer::Driver::new(clock.clone());
        let inner = Arc::new(Inner::new(
            registry,
            unpark,
            timer.handle().clone(),
            Arc::new(signal_shared),
        ));
        // Weak: the timer's shared state must not keep the reactor alive
        // (the reactor holds the timer's handle).
        let reactor = Arc::downgrade(&inner);
        timer_hooks::set_wake_hook(
            &timer,
            Arc::new(move || {
                if let Some(inner) = reactor.upgrade() {
                    inner.unpark.unpark();
                }
            }),
        );
        Ok(Driver {
            poll,
            events: mio::Events::with_capacity(EVENTS_CAPACITY),
            timer,
            clock,
            signals,
            alarm,
            wake: Vec::new(),
            handle: Handle { inner },
            #[cfg(ember_fault)]
            faults: Some(Faults::from_env()?),
            #[cfg(all(test, not(ember_fault)))]
            faults: None,
        })
    }

    /// The shared handle of this reactor.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// One turn: poll for at most `min(max_wait, time until the next timer
    /// deadline)` (`None` = no cap; zero if [`Handle::unpark`] was called since
    /// the last turn), dispatch readiness per direction, dispatch signals, then
    /// fire due timers. A sleep that the next timer deadline ends, ends
    /// within microseconds after it (on Linux through a timer fd, elsewhere
    /// through the poller's nanosecond timeout).
    ///
    /// With a paused clock, a turn that would block (`max_wait` is not
    /// `Some(ZERO)`) while a timer is pending first polls without blocking; if
    /// that finds no event and nothing unparked the driver, the clock is
    /// advanced to the next deadline (capped by `max_wait`) instead of
    /// sleeping, so tests of long timeouts finish at once.
    ///
    /// # Errors
    ///
    /// The OS error of the poll, except `EINTR`, which ends the turn early
    /// with `Ok`.
    pub fn turn(&mut self, max_wait: Option<Duration>) -> io::Result<()> {
        // A turn that may block announces its sleep to the timer, so that a
        // timer inserted meanwhile from another thread with an earlier
        // deadline unparks it (see `Driver::new`).
        let next_deadline = if max_wait == Some(Duration::ZERO) {
            self.timer.next_deadline()
        } else {
            timer_hooks::begin_sleep(&self.timer)
        };
        let until_timer =
            next_deadline.map(|deadline| deadline.saturating_duration_since(self.clock.now()));
        let wait = match (max_wait, until_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        };
        let polled = match wait {
            Some(Duration::ZERO) => {
                // The caller re-checks its queues after every turn, so a
                // pending notification is served by this turn.
                self.unparker().take_notified();
                self.poll_and_dispatch(Some(Duration::ZERO))
            }
            Some(advance) if self.clock.is_paused() && until_timer.is_some() => {
                match self.poll_and_dispatch(Some(Duration::ZERO)) {
                    Ok(0) if !self.unparker().take_notified() => {
                        self.clock.advance(advance);
                        Ok(0)
                    }
                    other => other,
                }
            }
            _ => {
                let timeout = if self.unparker().begin_sleep() {
                    self.alarm
                        .poll_timeout(next_deadline, until_timer, max_wait)
                } else {
                    Some(Duration::ZERO)
                };
                let polled = self.poll_and_dispatch(timeout);
                self.unparker().end_sleep();
                polled
            }
        };
        timer_hooks::end_sleep(&self.timer);
        match polled {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        self.timer.process();
        Ok(())
    }

    fn unparker(&self) -> &Unparker {
        &self.handle.inner.unpark
    }

    /// Poll once and dispatch the batch. Returns how many events were for
    /// sources or signals (not counting the unpark waker).
    fn poll_and_dispatch(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        #[cfg(any(ember_fault, test))]
        let timeout = match &mut self.faults {
            Some(faults) => {
                if faults.cut_turn_short() {
                    // As `EINTR` would: the turn ends early, and its caller
                    // (the paused clock included) treats it as a turn that
                    // saw activity.
                    return Err(io::ErrorKind::Interrupted.into());
                }
                faults.poll_timeout(timeout)
            }
            None => timeout,
        };
        self.poll.poll(&mut self.events, timeout)?;
        let mut dispatched = 0;
        let mut signalled = false;
        let mut alarm_expired = false;
        let mut sources = None;
        for event in self.events.iter() {
            match event.token() {
                token::WAKER => {}
                // Not counted: the timers are processed after every turn.
                token::TIMER => alarm_expired = true,
                token::SIGNAL => {
                    signalled = true;
                    dispatched += 1;
                }
                token => {
                    dispatched += 1;
                    let ready = Ready::from_mio(event);
                    // Counted all the same: a held event is activity, which
                    // must keep a paused clock from jumping ahead of it.
                    #[cfg(any(ember_fault, test))]
                    if let Some(faults) = &mut self.faults {
                        if faults.hold(token, ready) {
                            continue;
                        }
                    }
                    let sources = sources.get_or_insert_with(|| self.handle.inner.lock_sources());
                    match sources.slab.get(token::slot(token)) {
                        // Same slot *and* generation: this event is for this source.
                        Some(io) if io.token() == token => {
                            io.set_readiness(ready, &mut self.wake);
                        }
                        // Stale: the source was dropped, maybe its slot reused.
                        _ => {}
                    }
                }
            }
        }
        #[cfg(any(ember_fault, test))]
        if let Some(faults) = &mut self.faults {
            let sources = sources.get_or_insert_with(|| self.handle.inner.lock_sources());
            dispatched += faults.inject(&sources.slab, &mut self.wake);
        }
        drop(sources);
        if alarm_expired {
            self.alarm.expired();
        }
        if signalled {
            self.signals
                .dispatch(&self.handle.inner.signals, &mut self.wake);
        }
        for waker in self.wake.drain(..) {
            waker.wake();
        }
        Ok(dispatched)
    }
}

/// Ends a blocking poll at the next timer deadline, precisely; see the
/// module's ground rules.
#[derive(Debug)]
struct Alarm {
    /// Armed for `armed`, or disarmed or expired when that is `None`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fd: sys::TimerFd,
    /// The deadline the fd is armed for, until its expiry is seen.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    armed: Option<Instant>,
    /// How often the fd was armed (a syscall), for tests.
    #[cfg(test)]
    arms: usize,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl Alarm {
    fn new(registry: &mio::Registry) -> io::Result<Alarm> {
        let mut fd = sys::TimerFd::new()?;
        registry.register(&mut fd, token::TIMER, mio::Interest::READABLE)?;
        Ok(Alarm {
            fd,
            armed: None,
            #[cfg(test)]
            arms: 0,
        })
    }

    /// The poll timeout for a sleep of at most `max_wait` (`None`: no cap)
    /// that the next timer `deadline`, `until` from now, must end; arms the
    /// fd for it when that deadline is what ends the sleep and the fd is not
    /// already armed for it or earlier.
    fn poll_timeout(
        &mut self,
        deadline: Option<Instant>,
        until: Option<Duration>,
        max_wait: Option<Duration>,
    ) -> Option<Duration> {
        let (Some(deadline), Some(until)) = (deadline, until) else {
            return max_wait;
        };
        if max_wait.is_some_and(|cap| cap <= until) {
            // The caller's cap ends the sleep first: arming can wait for the
            // turn that does sleep until the deadline.
            return max_wait;
        }
        if self.armed.is_some_and(|armed| armed <= deadline) {
            return max_wait;
        }
        #[cfg(test)]
        {
            self.arms += 1;
        }
        match self.fd.set_after(until) {
            Ok(()) => {
                self.armed = Some(deadline);
                max_wait
            }
            // Only a kernel out of memory fails this: fall back on the poll
            // timeout (rounded up to a millisecond), which is never early.
            Err(_) => {
                self.armed = None;
                Some(until)
            }
        }
    }

    /// The fd's expiry was reported: it is armed no more.
    fn expired(&mut self) {
        self.armed = None;
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
impl Alarm {
    fn new(_registry: &mio::Registry) -> io::Result<Alarm> {
        Ok(Alarm {
            #[cfg(test)]
            arms: 0,
        })
    }

    /// The poll timeout itself ends the sleep: kqueue's is precise to the
    /// nanosecond.
    fn poll_timeout(
        &mut self,
        _deadline: Option<Instant>,
        until: Option<Duration>,
        max_wait: Option<Duration>,
    ) -> Option<Duration> {
        match (max_wait, until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, None) => a,
            (None, b) => b,
        }
    }

    fn expired(&mut self) {}
}

impl Drop for Driver {
    fn drop(&mut self) {
        let mut wake = std::mem::take(&mut self.wake);
        self.handle.inner.shutdown_sources(&mut wake);
        // Before the pipe's read end (a field of `self`) closes.
        self.handle.inner.signals.shutdown();
        for waker in wake {
            waker.wake();
        }
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Direction;
    use std::future::Future;
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::task::{Context, Wake};
    use std::thread;

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn counting() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    /// A driver without injected faults even under `--cfg ember_fault`:
    /// these tests count turns and events exactly.
    fn exact_driver() -> io::Result<Driver> {
        let mut driver = Driver::new(ember_timer::Clock::real())?;
        driver.faults = None;
        Ok(driver)
    }

    #[test]
    fn stale_token_does_not_wake_the_slots_new_owner() -> io::Result<()> {
        let mut driver = exact_driver()?;
        let handle = driver.handle().clone();

        // Source A: registered, then deregistered and dropped; its slot is free.
        let (mut a, _a_peer) = mio::net::UnixStream::pair()?;
        let reg_a = handle.register(&mut a, mio::Interest::READABLE)?;
        let stale = reg_a.token();
        reg_a.deregister(&mut a)?;
        drop(reg_a);
        drop(a);

        // Source B reuses A's slot with a new generation.
        let (mut b, mut b_peer) = mio::net::UnixStream::pair()?;
        let reg_b = handle.register(&mut b, mio::Interest::READABLE)?;
        assert_eq!(token::slot(reg_b.token()), token::slot(stale));
        assert_ne!(reg_b.token(), stale);

        let (counter, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert!(reg_b.poll_ready(&mut cx, Direction::Read).is_pending());

        // A raw fd registered under A's stale token becomes readable.
        let (mut raw, mut raw_peer) = mio::net::UnixStream::pair()?;
        handle
            .inner
            .registry
            .register(&mut raw, stale, mio::Interest::READABLE)?;
        raw_peer.write_all(b"x")?;
        // Only the stale event is pending, so this turn returns with exactly it.
        driver.turn(None)?;
        assert_eq!(counter.0.load(Ordering::SeqCst), 0, "stale event woke B");
        assert!(
            reg_b.poll_ready(&mut cx, Direction::Read).is_pending(),
            "stale event marked B ready"
        );

        // Control: B's own event does wake it.
        b_peer.write_all(b"y")?;
        driver.turn(None)?;
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(reg_b.poll_ready(&mut cx, Direction::Read).is_ready());

        handle.inner.registry.deregister(&mut raw)?;
        reg_b.deregister(&mut b)?;
        Ok(())
    }

    #[test]
    fn unpark_interrupts_a_blocking_turn() -> io::Result<()> {
        let mut driver = exact_driver()?;
        let handle = driver.handle().clone();

        // Watchdog: if the unpark is lost, it wakes the driver through a pipe
        // and records that it had to, so the test fails instead of hanging.
        let (mut alarm, mut alarm_peer) = mio::net::UnixStream::pair()?;
        let alarm_reg = handle.register(&mut alarm, mio::Interest::READABLE)?;
        let fired = Arc::new(AtomicBool::new(false));
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let watchdog = {
            let fired = fired.clone();
            thread::spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) =
                    done_rx.recv_timeout(Duration::from_secs(30))
                {
                    fired.store(true, Ordering::SeqCst);
                    let _ = alarm_peer.write_all(b"!");
                }
            })
        };

        let unparker = {
            let handle = handle.clone();
            thread::spawn(move || {
                while !handle.inner.unpark.is_asleep() {
                    thread::yield_now();
                }
                handle.unpark();
            })
        };
        driver.turn(None)?;
        let _ = done_tx.send(());
        assert!(
            !fired.load(Ordering::SeqCst),
            "unpark did not interrupt the poll"
        );
        unparker.join().expect("unparker thread panicked");
        watchdog.join().expect("watchdog thread panicked");
        alarm_reg.deregister(&mut alarm)?;
        Ok(())
    }

    #[test]
    fn dropping_the_driver_wakes_waiters_and_fails_them() -> io::Result<()> {
        let driver = exact_driver()?;
        let handle = driver.handle().clone();
        let (mut a, _b) = mio::net::UnixStream::pair()?;
        let reg = handle.register(&mut a, mio::Interest::READABLE)?;
        let (counter, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert!(reg.poll_ready(&mut cx, Direction::Read).is_pending());
        drop(driver);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        match reg.poll_ready(&mut cx, Direction::Read) {
            std::task::Poll::Ready(Err(_)) => {}
            other => panic!("expected a shutdown error, got {other:?}"),
        }
        assert!(handle.register(&mut a, mio::Interest::READABLE).is_err());
        Ok(())
    }

    /// After `window` of real time, unless cancelled first, sets the flag
    /// and unparks `handle`: the end of a window in which a test counts
    /// turns, or a watchdog.
    struct StopAfter {
        stop: Arc<AtomicBool>,
        cancel: Option<mpsc::Sender<()>>,
        thread: Option<thread::JoinHandle<()>>,
    }

    impl StopAfter {
        fn new(handle: &Handle, window: Duration) -> StopAfter {
            let stop = Arc::new(AtomicBool::new(false));
            let (cancel, cancelled) = mpsc::channel::<()>();
            let thread = {
                let (stop, handle) = (stop.clone(), handle.clone());
                thread::spawn(move || {
                    if let Err(mpsc::RecvTimeoutError::Timeout) = cancelled.recv_timeout(window) {
                        stop.store(true, Ordering::SeqCst);
                        handle.unpark();
                    }
                })
            };
            StopAfter {
                stop,
                cancel: Some(cancel),
                thread: Some(thread),
            }
        }

        fn stopped(&self) -> bool {
            self.stop.load(Ordering::SeqCst)
        }
    }

    impl Drop for StopAfter {
        fn drop(&mut self) {
            drop(self.cancel.take());
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }

    #[test]
    fn an_unbounded_turn_ends_at_the_next_timer_deadline() -> io::Result<()> {
        let mut driver = exact_driver()?;
        let (counter, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let mut sleep = Box::pin(driver.handle().timer().sleep(Duration::from_millis(3)));
        let deadline = sleep.deadline();
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        // No cap on the turns: only the timer can end them (the watchdog
        // ends a lost wait after 30 s, and fails the test).
        let watchdog = StopAfter::new(driver.handle(), Duration::from_secs(30));
        let mut turns = 0;
        while counter.0.load(Ordering::SeqCst) == 0 && !watchdog.stopped() {
            driver.turn(None)?;
            turns += 1;
            assert!(turns < 1_000, "spinning");
        }
        assert!(!watchdog.stopped(), "the deadline did not end the turn");
        assert!(sleep.as_mut().poll(&mut cx).is_ready());
        assert!(driver.clock.now() >= deadline, "fired early");
        Ok(())
    }

    #[test]
    fn stale_and_far_future_deadlines_do_not_spin() -> io::Result<()> {
        let mut driver = exact_driver()?;
        let handle = driver.handle().clone();
        let _entered = handle.enter();
        let (_counter, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let year = Duration::from_secs(365 * 86_400);
        // One within the wheel's span, one beyond it, one never.
        let mut far: Vec<_> = [year, 100 * year, Duration::MAX]
            .into_iter()
            .map(|d| Box::pin(ember_timer::sleep(d)))
            .collect();
        for sleep in &mut far {
            assert!(sleep.as_mut().poll(&mut cx).is_pending());
        }
        // Arm for a near deadline, then cancel it: its expiry goes stale.
        let (mut a, mut b) = mio::net::UnixStream::pair()?;
        let reg = handle.register(&mut a, mio::Interest::READABLE)?;
        b.write_all(b"!")?; // ends the arming turn at once
        let mut near = Box::pin(ember_timer::sleep(Duration::from_millis(2)));
        assert!(near.as_mut().poll(&mut cx).is_pending());
        driver.turn(None)?;
        drop(near);

        let window = StopAfter::new(&handle, Duration::from_millis(100));
        let mut turns = 0;
        while !window.stopped() {
            driver.turn(None)?;
            turns += 1;
            assert!(turns < 10_000, "spinning");
        }
        // The stale expiry, the stop, and at most one spurious return.
        assert!(turns <= 3, "{turns} turns in 100 ms with only far timers");
        // Turns that would sleep until the same deadline re-arm nothing.
        for _ in 0..5 {
            b.write_all(b"!")?;
            driver.turn(None)?;
        }
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert!(
            driver.alarm.arms <= 2,
            "armed {} times: the near deadline and the far one",
            driver.alarm.arms
        );
        reg.deregister(&mut a)?;
        Ok(())
    }

    #[test]
    fn dropping_a_registration_frees_its_slot() -> io::Result<()> {
        let driver = exact_driver()?;
        let (mut a, _b) = mio::net::UnixStream::pair()?;
        let reg = driver.handle().register(&mut a, mio::Interest::READABLE)?;
        assert_eq!(driver.handle().inner.lock_sources().slab.len(), 1);
        reg.deregister(&mut a)?;
        drop(reg);
        assert_eq!(driver.handle().inner.lock_sources().slab.len(), 0);
        Ok(())
    }

    /// Reads one byte `expected` from `a`, turning `driver` while it is not
    /// there; the watchdog ends a turn that would hang, and fails the test.
    fn read_byte(
        driver: &mut Driver,
        reg: &crate::Registration,
        a: &mio::net::UnixStream,
        expected: u8,
        watchdog: &StopAfter,
    ) -> io::Result<()> {
        use std::io::Read;
        let (_counter, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0; 2];
        loop {
            match reg.poll_io(&mut cx, Direction::Read, || (&*a).read(&mut buf)) {
                std::task::Poll::Ready(n) => {
                    assert_eq!(n?, 1, "one byte was written");
                    assert_eq!(buf[0], expected, "a byte was lost or reordered");
                    // Drained: this read hits `WouldBlock` and clears the
                    // readiness, so the next byte needs an event of its own.
                    let drained = reg.poll_io(&mut cx, Direction::Read, || (&*a).read(&mut buf));
                    assert!(drained.is_pending(), "one byte was written, not two");
                    return Ok(());
                }
                std::task::Poll::Pending => {
                    driver.turn(None)?;
                    assert!(!watchdog.stopped(), "a turn blocked on a held event");
                }
            }
        }
    }

    #[test]
    fn under_faults_every_event_arrives_and_no_turn_blocks_on_a_held_one() -> io::Result<()> {
        let mut driver = exact_driver()?;
        driver.faults = Some(Faults::with_seed(0x5eed));
        let handle = driver.handle().clone();
        let (mut a, mut b) = mio::net::UnixStream::pair()?;
        let reg = handle.register(&mut a, mio::Interest::READABLE)?;
        let watchdog = StopAfter::new(&handle, Duration::from_secs(20));
        for round in 0..500_u32 {
            b.write_all(&[round as u8])?;
            // Each byte is one edge, and `turn(None)` has no timeout: a held
            // edge is the only thing that can end the turns that wait for it.
            read_byte(&mut driver, &reg, &a, round as u8, &watchdog)?;
        }
        let holds = driver.faults.as_ref().map_or(0, |f| f.holds);
        assert!(
            holds > 10,
            "the seed held {holds} events back: too few to prove much"
        );
        reg.deregister(&mut a)?;
        Ok(())
    }

    #[test]
    fn under_faults_a_paused_clock_does_not_jump_ahead_of_a_late_event() -> io::Result<()> {
        let mut driver = Driver::new(ember_timer::Clock::paused())?;
        driver.faults = Some(Faults::with_seed(0xc10c));
        let handle = driver.handle().clone();
        let (mut a, mut b) = mio::net::UnixStream::pair()?;
        let reg = handle.register(&mut a, mio::Interest::READABLE)?;
        let watchdog = StopAfter::new(&handle, Duration::from_secs(20));
        let (_counter, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        let start = driver.clock.now();
        for round in 0..500_u32 {
            // A pending timer makes every blocking turn advance the paused
            // clock instead of sleeping, unless the turn saw activity.
            let mut sleep = Box::pin(handle.timer().sleep(Duration::from_secs(1)));
            assert!(sleep.as_mut().poll(&mut cx).is_pending());
            b.write_all(&[round as u8])?;
            read_byte(&mut driver, &reg, &a, round as u8, &watchdog)?;
            assert_eq!(
                driver.clock.now(),
                start,
                "the clock advanced while an event was late (round {round})"
            );
        }
        let holds = driver.faults.as_ref().map_or(0, |f| f.holds);
        assert!(
            holds > 10,
            "the seed held {holds} events back: too few to prove much"
        );
        reg.deregister(&mut a)?;
        Ok(())
    }
}
