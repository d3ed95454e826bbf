//! Signal delivery through real `raise(2)` and real driver turns. Lives in
//! its own test binary (process) because it installs process-wide handlers.

mod util;

use std::io;
use std::task::{Context, Poll};

use ember_reactor::{Driver, SignalListener};
use util::{block_on_poll, counting_waker};

fn raise(signal: i32) {
    // SAFETY: `raise` has no memory-safety preconditions; every caller has a
    // listener (hence a handler) for `signal` installed, so it does not kill us.
    let rc = unsafe { libc::raise(signal) };
    assert_eq!(rc, 0, "raise failed");
}

fn recv(driver: &mut Driver, listener: &mut SignalListener) -> i32 {
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    block_on_poll(driver, &mut cx, "a signal", |cx| listener.poll_recv(cx))
}

fn assert_nothing_pending(listener: &mut SignalListener) {
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert_eq!(listener.poll_recv(&mut cx), Poll::Pending);
}

#[test]
fn every_listener_in_every_reactor_sees_the_signal() -> io::Result<()> {
    let mut first = Driver::new(ember_timer::Clock::real())?;
    let mut second = Driver::new(ember_timer::Clock::real())?;
    let mut a = first.handle().listen_signals(&[libc::SIGUSR1])?;
    let mut b = first
        .handle()
        .listen_signals(&[libc::SIGUSR1, libc::SIGUSR2])?;
    let mut c = second.handle().listen_signals(&[libc::SIGUSR1])?;
    let mut other = first.handle().listen_signals(&[libc::SIGUSR2])?;

    raise(libc::SIGUSR1);
    assert_eq!(recv(&mut first, &mut a), libc::SIGUSR1);
    assert_eq!(recv(&mut first, &mut b), libc::SIGUSR1);
    assert_eq!(recv(&mut second, &mut c), libc::SIGUSR1);
    assert_nothing_pending(&mut other);
    assert_nothing_pending(&mut a);

    // A second delivery after the first was consumed is seen again.
    raise(libc::SIGUSR1);
    assert_eq!(recv(&mut first, &mut a), libc::SIGUSR1);
    assert_eq!(recv(&mut second, &mut c), libc::SIGUSR1);

    // SIGUSR2 reaches only those who asked for it.
    raise(libc::SIGUSR2);
    assert_eq!(recv(&mut first, &mut other), libc::SIGUSR2);
    let mut seen = vec![recv(&mut first, &mut b), recv(&mut first, &mut b)];
    seen.sort_unstable();
    let mut want = vec![libc::SIGUSR1, libc::SIGUSR2];
    want.sort_unstable();
    assert_eq!(seen, want);
    assert_nothing_pending(&mut a);

    // Dropping a driver removes its handlers; the other keeps working.
    drop(c);
    drop(second);
    raise(libc::SIGUSR1);
    assert_eq!(recv(&mut first, &mut a), libc::SIGUSR1);
    Ok(())
}

#[test]
fn forbidden_and_invalid_signals_are_rejected() -> io::Result<()> {
    let driver = Driver::new(ember_timer::Clock::real())?;
    for signal in [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGBUS,
        0,
        -1,
        1000,
    ] {
        let err = driver
            .handle()
            .listen_signals(&[signal])
            .expect_err("must be rejected");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "signal {signal}");
    }
    Ok(())
}
