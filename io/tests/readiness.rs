//! Readiness over real sockets: many tasks waiting on one source, waiters
//! that leave, the `readable()` loops that must wait instead of spinning,
//! and the `try_*` methods. Every "task" is a child of `join_independent`,
//! polled only when its own waker fires, so a lost wake-up hangs into the
//! watchdog instead of passing by luck.

mod util;

use std::future::{poll_fn, Future};
use std::io::{self, ErrorKind, IoSlice, IoSliceMut, Read, Write};
use std::os::unix::net::UnixStream;
use std::pin::{pin, Pin};
use std::task::Poll;

use ember_io::net::{TcpListener, TcpStream};
use ember_io::{Async, Interest};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use util::{assert_error_kind, child, join_independent, run};

const WAITERS: usize = 4;
/// Messages exchanged by the loop tests.
const MESSAGES: usize = 64;

/// Polls `future` once from inside a task: `Some(output)` if it completed.
async fn poll_once<F: Future>(future: Pin<&mut F>) -> Option<F::Output> {
    let mut future = Some(future);
    poll_fn(|cx| {
        let future = future.take().expect("polled once");
        Poll::Ready(match future.poll(cx) {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        })
    })
    .await
}

/// A connected pair: (client, server side).
async fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, _) = listener.accept().await?;
    Ok((client, server))
}

#[test]
fn many_tasks_accept_on_one_listener() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut clients = Vec::new();
        let mut children = Vec::new();
        // Polled first: all of them wait in `accept` before anyone connects.
        for _ in 0..WAITERS {
            children.push(child(async {
                let (stream, peer) = listener.accept().await?;
                assert_eq!(stream.peer_addr()?, peer);
                Ok(())
            }));
        }
        children.push(child(async {
            for _ in 0..WAITERS {
                clients.push(TcpStream::connect(addr).await?);
            }
            Ok(())
        }));
        join_independent(children).await
    });
}

#[test]
fn many_tasks_await_readable_on_one_tcp_stream() {
    run(async {
        let (mut client, server) = tcp_pair().await?;
        let mut children = Vec::new();
        for _ in 0..WAITERS {
            children.push(child(async {
                server.readable().await?;
                let ready = server.ready(Interest::READABLE).await?;
                assert!(ready.is_readable());
                Ok(())
            }));
        }
        children.push(child(async { client.write_all(b"x").await }));
        join_independent(children).await
    });
}

#[test]
fn many_tasks_await_readable_on_one_async() {
    run(async {
        let (mut a, b) = UnixStream::pair()?;
        let b = Async::new(b)?;
        let mut children = Vec::new();
        for _ in 0..WAITERS {
            children.push(child(async {
                let guard = b.readable().await?;
                assert!(guard.ready().is_readable());
                Ok(())
            }));
        }
        children.push(child(async {
            a.write_all(b"x")?;
            Ok(())
        }));
        join_independent(children).await
    });
}

#[test]
fn waiters_that_leave_lose_no_wake_up_for_the_others() {
    run(async {
        let (mut client, server) = tcp_pair().await?;
        // Which two of the four waiters leave in each round: the first one
        // (the inline entry of the waiter list) or not, neighbours or not.
        let leavers = [[0, 2], [1, 3], [1, 2], [0, 3]];
        for (round, leave) in leavers.into_iter().enumerate() {
            let round = round as u8;
            let mut waiters: Vec<_> = (0..WAITERS).map(|_| Box::pin(server.readable())).collect();
            for waiter in &mut waiters {
                assert!(poll_once(waiter.as_mut()).await.is_none(), "no data yet");
            }
            let (mut children, mut leaving) = (Vec::new(), Vec::new());
            for (i, waiter) in waiters.into_iter().enumerate() {
                if leave.contains(&i) {
                    leaving.push(waiter);
                } else {
                    children.push(child(waiter));
                }
            }
            // Polled last: the others wait (and are not polled again unless
            // woken) while these two leave; then the data comes.
            children.push(child(async {
                drop(leaving);
                client.write_all(&[round]).await
            }));
            join_independent(children).await?;
            // Drain, so the next round starts with nothing to read.
            let mut byte = [0; 1];
            assert_eq!(server.try_read(&mut byte)?, 1);
            assert_eq!(byte[0], round);
            assert_error_kind(server.try_read(&mut byte), ErrorKind::WouldBlock);
        }
        Ok(())
    });
}

/// The writer of the loop tests: sends `MESSAGES` messages of 4 bytes, each
/// only after the reader acknowledged the previous one with a byte. The
/// reader waits for every message, so a reader that spins instead of
/// waiting shows up in its iteration count.
async fn send_messages(a: &Async<UnixStream>) -> io::Result<()> {
    for i in 0..MESSAGES {
        let message = [i as u8; 4];
        assert_eq!(a.write_with(|s| (&*s).write(&message)).await?, 4);
        let mut ack = [0; 1];
        assert_eq!(a.read_with(|s| (&*s).read(&mut ack)).await?, 1);
    }
    Ok(())
}

/// Acknowledges message `i` after checking it.
async fn ack(b: &Async<UnixStream>, i: usize, message: [u8; 4]) -> io::Result<()> {
    assert_eq!(message, [i as u8; 4], "message {i}");
    b.write_with(|s| (&*s).write(&[1])).await?;
    Ok(())
}

/// Counts one more iteration of a reader loop and fails as soon as there
/// are more than a few per message. A loop that spins instead of waiting
/// shows hundreds per message, and fails here at once (it would otherwise
/// eat the coop budget of the one task all children share, starve the
/// writer, and hang into the watchdog).
#[track_caller]
fn count_iteration(iterations: &mut usize) {
    *iterations += 1;
    assert!(
        *iterations <= 3 * MESSAGES,
        "{iterations} loop iterations for at most {MESSAGES} messages: the loop spins"
    );
}

#[test]
fn guard_try_io_loop_waits_instead_of_spinning() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        let (a, b) = (Async::new(a)?, Async::new(b)?);
        let mut iterations = 0;
        join_independent(vec![
            child(async {
                for i in 0..MESSAGES {
                    let (mut message, mut got) = ([0; 4], 0);
                    while got < 4 {
                        count_iteration(&mut iterations);
                        let mut guard = b.readable().await?;
                        match guard.try_io(|b| b.get_ref().read(&mut message[got..])) {
                            Ok(n) => got += n?,
                            Err(_would_block) => continue,
                        }
                    }
                    ack(&b, i, message).await?;
                }
                Ok(())
            }),
            child(send_messages(&a)),
        ])
        .await?;
        Ok(())
    });
}

#[test]
fn plain_readable_loop_waits_instead_of_spinning() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        let (a, b) = (Async::new(a)?, Async::new(b)?);
        let mut iterations = 0;
        join_independent(vec![
            child(async {
                for i in 0..MESSAGES {
                    let (mut message, mut got) = ([0; 4], 0);
                    while got < 4 {
                        count_iteration(&mut iterations);
                        // async-io's loop: wait, then a system call of our own
                        // that the reactor never sees.
                        let _ = b.readable().await?;
                        match b.get_ref().read(&mut message[got..]) {
                            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                            n => got += n?,
                        }
                    }
                    ack(&b, i, message).await?;
                }
                Ok(())
            }),
            child(send_messages(&a)),
        ])
        .await?;
        Ok(())
    });
}

#[test]
fn poll_readable_loop_waits_instead_of_spinning() {
    run(async {
        let (a, b) = UnixStream::pair()?;
        let (a, b) = (Async::new(a)?, Async::new(b)?);
        let mut iterations = 0;
        join_independent(vec![
            child(async {
                for i in 0..MESSAGES {
                    let (mut message, mut got) = ([0; 4], 0);
                    while got < 4 {
                        count_iteration(&mut iterations);
                        poll_fn(|cx| b.poll_readable(cx)).await?;
                        match b.get_ref().read(&mut message[got..]) {
                            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                            n => got += n?,
                        }
                    }
                    ack(&b, i, message).await?;
                }
                Ok(())
            }),
            child(send_messages(&a)),
        ])
        .await?;
        Ok(())
    });
}

#[test]
fn tcp_readable_try_read_loop_waits_instead_of_spinning() {
    run(async {
        let (mut client, server) = tcp_pair().await?;
        let mut iterations = 0;
        join_independent(vec![
            child(async {
                for i in 0..MESSAGES {
                    let (mut message, mut got) = ([0; 4], 0);
                    while got < 4 {
                        count_iteration(&mut iterations);
                        server.readable().await?;
                        match server.try_read(&mut message[got..]) {
                            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                            n => got += n?,
                        }
                    }
                    assert_eq!(message, [i as u8; 4]);
                    loop {
                        server.writable().await?;
                        match server.try_write(&[1]) {
                            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                            n => break assert_eq!(n?, 1),
                        }
                    }
                }
                Ok(())
            }),
            child(async {
                for i in 0..MESSAGES {
                    client.write_all(&[i as u8; 4]).await?;
                    client.read_exact(&mut [0; 1]).await?;
                }
                Ok(())
            }),
        ])
        .await?;
        Ok(())
    });
}

#[test]
fn a_stale_readiness_is_confirmed_and_then_waited_out() {
    run(async {
        let (mut a, b) = UnixStream::pair()?;
        let b = Async::new(b)?;
        a.write_all(b"xy")?;
        let _ = b.readable().await?;
        // Drain behind the reactor's back.
        assert_eq!(b.get_ref().read(&mut [0; 8])?, 2);
        assert_error_kind(b.get_ref().read(&mut [0; 8]), ErrorKind::WouldBlock);
        // The readiness is still cached, but not handed out again: the probe
        // sees nothing to read, so both forms wait.
        assert!(poll_once(pin!(b.readable())).await.is_none());
        assert!(poll_once(pin!(poll_fn(|cx| b.poll_readable(cx))))
            .await
            .is_none());
        // Readiness that is really there is handed out again.
        a.write_all(b"z")?;
        let _ = b.readable().await?;
        let _ = b.readable().await?;
        Ok(())
    });
}

#[test]
fn guard_try_io_clears_only_on_would_block() {
    run(async {
        let (mut a, b) = UnixStream::pair()?;
        let b = Async::new(b)?;
        a.write_all(b"abc")?;
        let mut guard = b.readable().await?;
        let mut buf = [0; 1];
        // A successful operation keeps the readiness.
        assert_eq!(
            guard
                .try_io(|b| b.get_ref().read(&mut buf))
                .expect("ready")?,
            1
        );
        assert!(guard.ready().is_readable());
        // An error other than WouldBlock comes back inside `Ok`.
        let failed = guard.try_io(|_| -> io::Result<()> { Err(io::Error::other("mine")) });
        assert_eq!(
            failed
                .expect("not WouldBlock")
                .expect_err("mine")
                .to_string(),
            "mine"
        );
        assert!(guard.ready().is_readable());
        // WouldBlock clears it.
        let mut rest = [0; 8];
        assert_eq!(
            guard
                .try_io(|b| b.get_ref().read(&mut rest))
                .expect("ready")?,
            2
        );
        assert!(guard.try_io(|b| b.get_ref().read(&mut rest)).is_err());
        assert!(guard.ready().is_empty());
        assert!(poll_once(pin!(b.readable())).await.is_none());
        Ok(())
    });
}

#[test]
fn try_read_and_try_peek() {
    run(async {
        let (mut client, server) = tcp_pair().await?;
        let mut buf = [0; 16];
        // Nothing marked ready: WouldBlock at once.
        assert_error_kind(server.try_read(&mut buf), ErrorKind::WouldBlock);
        assert_error_kind(server.try_peek(&mut buf), ErrorKind::WouldBlock);
        // Empty buffers complete at once.
        assert_eq!(server.try_read(&mut [])?, 0);
        assert_eq!(server.try_read_vectored(&mut [])?, 0);

        client.write_all(b"hello").await?;
        server.readable().await?;
        assert_eq!(server.try_peek(&mut buf)?, 5);
        assert_eq!(&buf[..5], b"hello");
        // Peeking twice: the data stays, and so does the readiness.
        assert_eq!(server.try_peek(&mut buf)?, 5);
        let (mut head, mut tail) = ([0; 2], [0; 8]);
        let n = server
            .try_read_vectored(&mut [IoSliceMut::new(&mut head), IoSliceMut::new(&mut tail)])?;
        assert_eq!(n, 5);
        assert_eq!((&head, &tail[..3]), (b"he", &b"llo"[..]));
        // The short read cleared the readiness (the receive queue is empty):
        // the next try runs no system call at all, and nothing wakes.
        let mut ran = false;
        let outcome = server.try_io(Interest::READABLE, || {
            ran = true;
            Ok(())
        });
        assert_error_kind(outcome, ErrorKind::WouldBlock);
        assert!(!ran, "a short read left the readiness set");
        assert_error_kind(server.try_read(&mut buf), ErrorKind::WouldBlock);
        assert!(poll_once(pin!(server.readable())).await.is_none());

        // End of stream reads as Ok(0), again and again.
        client.shutdown(std::net::Shutdown::Write)?;
        server.readable().await?;
        assert_eq!(server.try_read(&mut buf)?, 0);
        assert_eq!(server.try_read(&mut buf)?, 0);
        Ok(())
    });
}

#[test]
fn try_write_fills_the_socket_then_writable_waits() {
    run(async {
        let (client, mut server) = tcp_pair().await?;
        socket2::SockRef::from(&client).set_send_buffer_size(16 * 1024)?;
        assert_eq!(client.try_write(&[])?, 0);
        let chunk = vec![7; 64 * 1024];
        let mut sent = 0;
        loop {
            client.writable().await?;
            match client.try_write(&chunk) {
                Ok(n) if n == chunk.len() => sent += n,
                // A short write: the send buffer is full.
                Ok(n) => break sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        // Either way the readiness was cleared: writable() waits until the
        // peer reads, and try_write does not even try.
        assert!(poll_once(pin!(client.writable())).await.is_none());
        assert_error_kind(client.try_write(&chunk), ErrorKind::WouldBlock);
        let mut received = vec![0; sent];
        join_independent(vec![
            child(async {
                client.writable().await?;
                Ok(())
            }),
            child(async { server.read_exact(&mut received).await }),
        ])
        .await?;
        assert!(received.iter().all(|&b| b == 7));
        Ok(())
    });
}

#[test]
fn try_io_runs_only_when_ready_and_clears_on_would_block() {
    run(async {
        let (mut client, server) = tcp_pair().await?;
        let mut ran = false;
        let outcome = server.try_io(Interest::READABLE, || {
            ran = true;
            Ok(())
        });
        assert_error_kind(outcome, ErrorKind::WouldBlock);
        assert!(!ran, "try_io ran the operation without readiness");

        client.write_all(b"x").await?;
        server.readable().await?;
        // The caller's own operation reports WouldBlock: readiness goes.
        let outcome = server.try_io(Interest::READABLE, || -> io::Result<()> {
            Err(ErrorKind::WouldBlock.into())
        });
        assert_error_kind(outcome, ErrorKind::WouldBlock);
        assert!(poll_once(pin!(server.readable())).await.is_none());
        // The byte is still there; the next event (more data) brings it back.
        client.write_all(b"y").await?;
        server.readable().await?;
        let mut buf = [0; 4];
        let n = server.try_io(Interest::READABLE, || {
            (&*socket2::SockRef::from(&server)).read(&mut buf)
        })?;
        assert_eq!(&buf[..n], b"xy");
        Ok(())
    });
}

#[test]
fn vectored_writes_are_one_writev() {
    run(async {
        let (mut client, mut server) = tcp_pair().await?;
        assert!(client.is_write_vectored());
        let parts = [
            IoSlice::new(b"one "),
            IoSlice::new(b"two "),
            IoSlice::new(b"three"),
        ];
        // A fresh socket takes 13 bytes at once: every slice went in one
        // call (the trait's default would write only the first).
        assert_eq!(client.write_vectored(&parts).await?, 13);
        client.writable().await?;
        assert_eq!(client.try_write_vectored(&parts)?, 13);
        {
            let (_read, mut write) = TcpStream::split(&mut client);
            assert!(write.is_write_vectored());
            assert_eq!(write.write_vectored(&parts).await?, 13);
        }
        let (_read, mut write) = client.into_split();
        assert!(write.is_write_vectored());
        assert_eq!(write.write_vectored(&parts).await?, 13);
        assert_eq!(write.try_write_vectored(&parts)?, 13);
        write.close().await?;
        let mut all = String::new();
        server.read_to_string(&mut all).await?;
        assert_eq!(all, "one two three".repeat(5));
        Ok(())
    });
}
