//! Integration tests of the reactor's public API on real fds and sockets.

mod util;

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::task::{Context, Poll};
use std::time::Duration;

use ember_reactor::__private::coop;
use ember_reactor::{Direction, Driver, Handle, Registration, SignalListener};
use mio::net::{TcpStream, UnixStream};
use mio::Interest;
use util::{block_on_poll, counting_waker, drain, fill, turn_until};

#[test]
fn auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Handle>();
    send_sync::<Registration>();
    send::<SignalListener>();
}

#[test]
fn reader_and_writer_wake_independently() -> io::Result<()> {
    let mut driver = Driver::new(ember_timer::Clock::real())?;
    let (mut a, mut b) = UnixStream::pair()?;
    let reg = driver
        .handle()
        .register(&mut a, Interest::READABLE | Interest::WRITABLE)?;
    let (reads, read_waker) = counting_waker();
    let (writes, write_waker) = counting_waker();
    let mut rcx = Context::from_waker(&read_waker);
    let mut wcx = Context::from_waker(&write_waker);

    // Nothing to read; the writer learns it can write. The reader stays asleep.
    assert!(reg.poll_ready(&mut rcx, Direction::Read).is_pending());
    assert!(reg.poll_ready(&mut wcx, Direction::Write).is_pending());
    turn_until(&mut driver, "writable", || writes.count() > 0);
    // Spurious wake-ups are allowed by the contract, and the fault-injection
    // mode (--cfg ember_fault) makes them on purpose: count only without it.
    let exact = !cfg!(ember_fault);
    if exact {
        assert_eq!(reads.count(), 0, "writability woke the reader");
    }

    // Fill the send buffer so the writer waits; then data arrives for the reader.
    let written = block_on_poll(&mut driver, &mut wcx, "fill", |cx| {
        reg.poll_io(cx, Direction::Write, || {
            fill(&a).and_then(|n| {
                // `fill` stops at WouldBlock; report it so poll_io clears readiness.
                if n == 0 {
                    Err(io::ErrorKind::WouldBlock.into())
                } else {
                    Ok(n)
                }
            })
        })
    })?;
    assert!(written > 0);
    let mut buf = [0u8; 1];
    assert!(reg
        .poll_io(&mut wcx, Direction::Write, || (&a).write(&[1]))
        .is_pending());
    let writes_before = writes.count();
    b.write_all(b"r")?;
    turn_until(&mut driver, "readable", || reads.count() > 0);
    if exact {
        assert_eq!(writes.count(), writes_before, "readability woke the writer");
    }
    let n = block_on_poll(&mut driver, &mut rcx, "read", |cx| {
        reg.poll_io(cx, Direction::Read, || (&a).read(&mut buf))
    })?;
    assert_eq!((n, buf[0]), (1, b'r'));

    // The peer drains: the writer wakes.
    assert!(reg
        .poll_io(&mut rcx, Direction::Read, || (&a).read(&mut buf))
        .is_pending());
    let reads_before = reads.count();
    assert_eq!(drain(&b)?, written);
    turn_until(&mut driver, "writable again", || {
        writes.count() > writes_before
    });
    if exact {
        assert_eq!(reads.count(), reads_before, "writability woke the reader");
    }

    reg.deregister(&mut a)?;
    Ok(())
}

fn tcp_pair() -> io::Result<(TcpStream, std::net::TcpStream)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let client = std::net::TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    client.set_nonblocking(true)?;
    Ok((TcpStream::from_std(client), server))
}

#[test]
fn read_closed_is_surfaced_after_peer_shutdown() -> io::Result<()> {
    let mut driver = Driver::new(ember_timer::Clock::real())?;
    let (mut client, server) = tcp_pair()?;
    let reg = driver.handle().register(&mut client, Interest::READABLE)?;
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);

    server.shutdown(Shutdown::Write)?;
    let event = block_on_poll(&mut driver, &mut cx, "read closed", |cx| {
        match reg.poll_ready(cx, Direction::Read) {
            Poll::Ready(Ok(ev)) if ev.readiness().is_read_closed() => Poll::Ready(ev),
            Poll::Ready(Ok(ev)) => {
                reg.clear_readiness(ev);
                Poll::Pending
            }
            Poll::Ready(Err(e)) => panic!("poll_ready failed: {e}"),
            Poll::Pending => Poll::Pending,
        }
    });
    let mut buf = [0u8; 8];
    assert_eq!((&client).read(&mut buf)?, 0, "expected end-of-file");

    // Closed is final: clearing does not make the reader wait forever.
    reg.clear_readiness(event);
    match reg.poll_ready(&mut cx, Direction::Read) {
        Poll::Ready(Ok(ev)) => assert!(ev.readiness().is_read_closed()),
        other => panic!("read-closed was lost: {other:?}"),
    }
    reg.deregister(&mut client)?;
    Ok(())
}

#[test]
fn writer_sees_an_error_after_the_peer_closed() -> io::Result<()> {
    let mut driver = Driver::new(ember_timer::Clock::real())?;
    let (mut client, server) = tcp_pair()?;
    let reg = driver.handle().register(&mut client, Interest::WRITABLE)?;
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    drop(server);
    // The first writes may still be accepted; the peer's reset then surfaces
    // as an error (or write-closed) readiness and a failing write, never as
    // an endless wait.
    let mut failed = None;
    for _ in 0..util::MAX_TURNS {
        match block_on_poll(&mut driver, &mut cx, "write result", |cx| {
            reg.poll_io(cx, Direction::Write, || (&client).write(b"data"))
        }) {
            Ok(_) => driver.turn(Some(Duration::ZERO))?,
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let err = failed.expect("writes to a closed peer kept succeeding");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        "{err:?}"
    );
    reg.deregister(&mut client)?;
    Ok(())
}

#[test]
fn unpark_before_turn_makes_it_return() -> io::Result<()> {
    let mut driver = Driver::new(ember_timer::Clock::real())?;
    let handle = driver.handle().clone();
    std::thread::spawn(move || handle.unpark())
        .join()
        .expect("unpark thread panicked");
    // Would block forever if the notification were lost.
    driver.turn(None)?;
    Ok(())
}

#[test]
fn timer_fires_through_turn_with_paused_clock() -> io::Result<()> {
    let mut driver = Driver::new(ember_timer::Clock::paused())?;
    let clock = driver.handle().timer().clock().clone();
    let start = clock.now();
    // Entering the reactor is all it takes: its timer is the current one.
    let _reactor = driver.handle().enter();
    let mut sleep = Box::pin(ember_timer::sleep(Duration::from_secs(30)));
    let (fired, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(sleep.as_mut().poll(&mut cx).is_pending());
    // Each turn would block: the clock jumps to the deadline instead.
    for _ in 0..util::MAX_TURNS {
        if fired.count() > 0 {
            break;
        }
        driver.turn(None)?;
    }
    assert_eq!(fired.count(), 1);
    assert!(sleep.as_mut().poll(&mut cx).is_ready());
    assert!(clock.now().saturating_duration_since(start) >= Duration::from_secs(30));
    Ok(())
}

use std::future::Future;

#[test]
fn exhausted_budget_returns_pending_and_wakes() -> io::Result<()> {
    let mut driver = Driver::new(ember_timer::Clock::real())?;
    let (mut a, _b) = UnixStream::pair()?;
    let reg = driver.handle().register(&mut a, Interest::WRITABLE)?;
    let (wakes, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    block_on_poll(&mut driver, &mut cx, "writable", |cx| {
        reg.poll_ready(cx, Direction::Write).map(|r| r.map(|_| ()))
    })?;
    let before = wakes.count();
    coop::budget(|| {
        for _ in 0..coop::BUDGET {
            assert!(reg.poll_ready(&mut cx, Direction::Write).is_ready());
        }
        assert!(reg.poll_ready(&mut cx, Direction::Write).is_pending());
    });
    assert_eq!(
        wakes.count(),
        before + 1,
        "the yielding task was not rescheduled"
    );
    // A fresh budget: ready again.
    coop::budget(|| assert!(reg.poll_ready(&mut cx, Direction::Write).is_ready()));
    reg.deregister(&mut a)?;
    Ok(())
}

#[test]
fn current_handle_follows_enter_guards() -> io::Result<()> {
    assert!(Handle::try_current().is_none());
    let one = Driver::new(ember_timer::Clock::real())?;
    let two = Driver::new(ember_timer::Clock::real())?;
    {
        let _g1 = one.handle().enter();
        {
            let _g2 = two.handle().enter();
            assert!(Handle::try_current().is_some());
        }
        assert!(Handle::try_current().is_some());
    }
    assert!(Handle::try_current().is_none());
    let panic = std::panic::catch_unwind(Handle::current).expect_err("must panic outside");
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert_eq!(msg, ember_reactor::__private::NO_RUNTIME);
    Ok(())
}

#[test]
fn entering_a_reactor_makes_its_timer_current_and_nests() -> io::Result<()> {
    assert!(ember_timer::Handle::try_current().is_none());
    let paused = Driver::new(ember_timer::Clock::paused())?;
    let real = Driver::new(ember_timer::Clock::real())?;
    let far = Duration::from_secs(3600);
    paused.handle().timer().clock().advance(far);
    let is_paused = || ember_timer::Handle::current().clock().is_paused();
    {
        let _outer = paused.handle().enter();
        assert!(is_paused());
        // Instant::now reads the entered reactor's clock: an hour ahead.
        assert!(ember_timer::Instant::now() >= paused.handle().timer().now());
        {
            let _inner = real.handle().enter();
            assert!(!is_paused());
            assert!(ember_timer::Instant::now() < paused.handle().timer().now());
        }
        assert!(is_paused(), "the outer reactor's timer is current again");
    }
    assert!(ember_timer::Handle::try_current().is_none());
    let panic = std::panic::catch_unwind(ember_timer::Handle::current).expect_err("no timer");
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some(ember_reactor::__private::NO_RUNTIME)
    );
    Ok(())
}

#[test]
fn the_reactor_and_the_timer_give_one_message() {
    assert_eq!(
        ember_reactor::__private::NO_RUNTIME,
        ember_timer::__private::NO_RUNTIME
    );
}
