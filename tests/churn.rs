//! Connection churn through the example echo server, on both flavours: many
//! clients at once, each opening, talking, idling, closing and resetting
//! connections, every echoed byte checked. Run as it is, it is a stress test
//! of the reactor's bookkeeping (slots reused, generations, late events for
//! closed sockets); run under `--cfg ember_fault` (see `.ci/run`), where the
//! poller injects spurious readiness, late events and early returns, it is
//! the proof that none of that loses a byte, hangs, or surfaces as a
//! `WouldBlock` from an `async` read or write.

mod util;

#[allow(dead_code)]
#[path = "../examples/echo.rs"]
mod echo_example;

use std::future::Future;
use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use util::{random_bytes, watchdog, Rng};

/// Clients talking at once.
const CLIENTS: u64 = 8;
/// Connections each client opens, one after another.
const CONNECTIONS: usize = 12;

/// Starts the example's echo server on an ephemeral loopback port.
async fn start_echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("listener address");
    ember::spawn(echo_example::serve(listener));
    addr
}

/// Panics on an I/O error, naming it; a `WouldBlock` gets its own message,
/// because no `async` read or write may ever return one.
#[track_caller]
fn check<T>(result: std::io::Result<T>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            panic!("{what} returned WouldBlock to an async caller")
        }
        Err(e) => panic!("{what} failed: {e}"),
    }
}

/// One client: `CONNECTIONS` connections, each with a few round trips of
/// random sizes (some beyond a socket buffer), an idle spell now and then,
/// and an end chosen at random: a clean close, a reset, or a plain drop.
async fn client(addr: SocketAddr, seed: u64) -> usize {
    let mut rng = Rng::new(seed);
    let mut trips = 0;
    for _ in 0..CONNECTIONS {
        let mut stream = check(TcpStream::connect(addr).await, "connect");
        for _ in 0..1 + rng.below(6) {
            let max = if rng.below(6) == 0 { 256 << 10 } else { 2048 };
            let len = 1 + rng.below(max);
            let sent = random_bytes(rng.below(u64::MAX), len as usize);
            // Write and read at once, so a message larger than both socket
            // buffers cannot deadlock against the echo.
            let (mut reader, mut writer) = TcpStream::split(&mut stream);
            let mut echoed = vec![0; sent.len()];
            let (written, read) =
                futures_util::future::join(writer.write_all(&sent), reader.read_exact(&mut echoed))
                    .await;
            check(written, "write_all");
            check(read, "read_exact");
            assert!(echoed == sent, "the echo differs from what was sent");
            trips += 1;
            if rng.below(4) == 0 {
                ember::time::sleep(Duration::from_millis(rng.below(5))).await;
            }
        }
        match rng.below(3) {
            0 => {
                check(stream.shutdown(Shutdown::Write), "shutdown");
                let mut rest = Vec::new();
                check(stream.read_to_end(&mut rest).await, "read to end of file");
                assert!(rest.is_empty(), "bytes after every echo was read");
            }
            1 => check(stream.set_zero_linger(), "SO_LINGER 0"),
            _ => {}
        }
    }
    trips
}

/// Counts how often the future inside is polled.
struct CountPolls<F> {
    polls: Arc<AtomicUsize>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

per_flavor! {
    #[test]
    fn churning_clients_lose_no_byte_and_never_see_would_block() {
        let _guard = watchdog(Duration::from_secs(120));
        block_on(async {
            let addr = start_echo_server().await;
            let clients: Vec<_> = (0..CLIENTS)
                .map(|i| ember::spawn(client(addr, 0xc0ffee + i)))
                .collect();
            let mut trips = 0;
            for client in clients {
                trips += client.await.expect("a client panicked");
            }
            assert!(trips >= CLIENTS as usize * CONNECTIONS);
        });
    }

    #[test]
    fn an_idle_reader_waits_while_other_sockets_are_busy() {
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            const ROUNDS: usize = 2_000;
            let (mut idle_client, idle_server) = util::tcp_pair().await;
            let polls = Arc::new(AtomicUsize::new(0));
            let reader = ember::spawn(CountPolls {
                polls: Arc::clone(&polls),
                inner: Box::pin(async move {
                    let mut idle_server = idle_server;
                    let mut buf = [0; 8];
                    let n = check(idle_server.read(&mut buf).await, "the idle read");
                    buf[..n].to_vec()
                }),
            });
            // Thousands of turns of the reactor, each a chance for the
            // fault-injecting poller to mark the idle socket ready.
            let (mut a, mut b) = util::tcp_pair().await;
            for round in 0..ROUNDS {
                let byte = [round as u8];
                check(a.write_all(&byte).await, "ping");
                let mut got = [0];
                check(b.read_exact(&mut got).await, "pong");
                assert_eq!(got, byte);
            }
            // A spurious readiness may wake the reader (its read then finds
            // `WouldBlock` and waits again), but a reader that spins, or one
            // that is woken by every turn, is polled about once per round.
            let idle_polls = polls.load(Ordering::SeqCst);
            assert!(
                idle_polls < ROUNDS,
                "the idle reader was polled {idle_polls} times in {ROUNDS} rounds"
            );
            check(idle_client.write_all(b"late").await, "the late write");
            assert_eq!(reader.await.expect("the reader panicked"), b"late");
        });
    }
}
