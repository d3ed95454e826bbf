//! Readiness on both runtime flavours: many tasks waiting on one socket,
//! waiters that are aborted, the `readable()` loops that must wait instead
//! of spinning, and the `try_*` methods.

mod util;

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ember::io::{Async, AsyncReadExt, AsyncWriteExt, Interest};
use ember::net::{TcpListener, TcpStream};
use util::watchdog;

const TASKS: usize = 4;
/// Messages exchanged by the loop tests.
const MESSAGES: usize = 100;

/// Yields until `count` reaches `n`: every task that bumped it has run up
/// to its first wait (exactly so on the current-thread flavour).
async fn until_all_started(count: &AtomicUsize, n: usize) {
    while count.load(Ordering::SeqCst) < n {
        ember::task::yield_now().await;
    }
}

/// Counts one more iteration of a reader loop and fails at once when there
/// are more than a few per message: a loop that spins shows hundreds.
#[track_caller]
fn count_iteration(iterations: &mut usize) {
    *iterations += 1;
    assert!(
        *iterations <= 3 * MESSAGES,
        "{iterations} loop iterations for at most {MESSAGES} messages: the loop spins"
    );
}

per_flavor! {
    #[test]
    fn four_tasks_accept_on_one_shared_listener() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let started = Arc::new(AtomicUsize::new(0));
            let acceptors: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (listener, started) = (Arc::clone(&listener), Arc::clone(&started));
                    ember::spawn(async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        let (stream, peer) = listener.accept().await?;
                        assert_eq!(stream.peer_addr()?, peer);
                        std::io::Result::Ok(peer)
                    })
                })
                .collect();
            until_all_started(&started, TASKS).await;
            let mut clients = Vec::new();
            for _ in 0..TASKS {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            let mut peers: Vec<_> = Vec::new();
            for acceptor in acceptors {
                peers.push(acceptor.await.unwrap().unwrap());
            }
            let mut expected: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
            peers.sort();
            expected.sort();
            assert_eq!(peers, expected, "each connection accepted exactly once");
        });
    }

    #[test]
    fn four_tasks_await_readable_on_one_stream() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (mut client, server) = util::tcp_pair().await;
            let server = Arc::new(server);
            let started = Arc::new(AtomicUsize::new(0));
            let waiters: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (server, started) = (Arc::clone(&server), Arc::clone(&started));
                    ember::spawn(async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        server.readable().await
                    })
                })
                .collect();
            until_all_started(&started, TASKS).await;
            client.write_all(b"x").await.unwrap();
            for waiter in waiters {
                waiter.await.unwrap().unwrap();
            }
        });
    }

    #[test]
    fn aborted_waiters_lose_no_wake_up_for_the_others() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (mut client, server) = util::tcp_pair().await;
            let server = Arc::new(server);
            let started = Arc::new(AtomicUsize::new(0));
            let mut waiters: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (server, started) = (Arc::clone(&server), Arc::clone(&started));
                    ember::spawn(async move {
                        started.fetch_add(1, Ordering::SeqCst);
                        server.readable().await
                    })
                })
                .collect();
            until_all_started(&started, TASKS).await;
            // The first waiter (the inline entry of the waiter list) and a
            // middle one leave while the others wait.
            let aborted = [waiters.remove(2), waiters.remove(0)];
            for task in &aborted {
                task.abort();
            }
            // `readable()` is a hint: a spurious event (which the fault-
            // injection mode provokes on purpose) may complete a waiter
            // before its abort lands. Either way it must leave the list.
            for task in aborted {
                match task.await {
                    Err(e) => assert!(e.is_cancelled(), "{e}"),
                    Ok(ready) => ready.unwrap(),
                }
            }
            client.write_all(b"x").await.unwrap();
            for waiter in waiters {
                waiter.await.unwrap().unwrap();
            }
        });
    }

    #[test]
    fn readable_try_read_loop_waits_instead_of_spinning() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (mut client, server) = util::tcp_pair().await;
            let reader = ember::spawn(async move {
                let mut iterations = 0;
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
                std::io::Result::Ok(())
            });
            for i in 0..MESSAGES {
                client.write_all(&[i as u8; 4]).await.unwrap();
                client.read_exact(&mut [0; 1]).await.unwrap();
            }
            reader.await.unwrap().unwrap();
        });
    }

    #[test]
    fn async_readable_loops_wait_instead_of_spinning() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            // Both loop styles, one after the other on one socket pair: the
            // tokio guard loop, then the async-io loop whose own read the
            // reactor never sees fail.
            let (a, b) = UnixStream::pair().unwrap();
            let (a, b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
            let reader = ember::spawn(async move {
                for guard_style in [true, false] {
                    let mut iterations = 0;
                    for i in 0..MESSAGES {
                        let (mut message, mut got) = ([0; 4], 0);
                        while got < 4 {
                            count_iteration(&mut iterations);
                            if guard_style {
                                let mut guard = b.readable().await?;
                                match guard.try_io(|b| b.get_ref().read(&mut message[got..])) {
                                    Ok(n) => got += n?,
                                    Err(_would_block) => continue,
                                }
                            } else {
                                let _ = b.readable().await?;
                                match b.get_ref().read(&mut message[got..]) {
                                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                                    n => got += n?,
                                }
                            }
                        }
                        assert_eq!(message, [i as u8; 4]);
                        b.write_with(|b| (&*b).write(&[1])).await?;
                    }
                }
                std::io::Result::Ok(())
            });
            for i in (0..MESSAGES).chain(0..MESSAGES) {
                a.write_with(|a| (&*a).write(&[i as u8; 4])).await.unwrap();
                a.read_with(|a| (&*a).read(&mut [0; 1])).await.unwrap();
            }
            reader.await.unwrap().unwrap();
        });
    }

    #[test]
    fn try_methods_never_wait_and_clear_on_would_block() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (mut client, server) = util::tcp_pair().await;
            let mut buf = [0; 16];
            assert_eq!(server.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
            client.write_all(b"hello").await.unwrap();
            let ready = server.ready(Interest::READABLE | Interest::WRITABLE).await.unwrap();
            assert!(ready.is_readable() || ready.is_writable());
            server.readable().await.unwrap();
            assert_eq!(server.try_peek(&mut buf).unwrap(), 5);
            assert_eq!(server.try_read(&mut buf).unwrap(), 5);
            assert_eq!(&buf[..5], b"hello");
            assert_eq!(server.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
            let mut ran = false;
            let outcome = server.try_io(Interest::READABLE, || {
                ran = true;
                Ok(())
            });
            assert_eq!(outcome.unwrap_err().kind(), ErrorKind::WouldBlock);
            assert!(!ran, "try_io ran without readiness");
            server.writable().await.unwrap();
            assert_eq!(server.try_write(b"bye").unwrap(), 3);
            let mut reply = [0; 3];
            client.read_exact(&mut reply).await.unwrap();
            assert_eq!(&reply, b"bye");
        });
    }
}
