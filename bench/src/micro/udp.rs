//! udp: request/response datagrams. The server, in the measured process, is each
//! runtime's idiomatic one-task UDP echo (`recv_from`, then `send_to` back) on one
//! socket. The peer (plain mio, on the load CPU) runs [`CLIENTS`] client sockets, each
//! with one [`SIZE`]-byte request in flight: send, wait for the echo, send the next.
//! A request unanswered for [`LOSS_TIMEOUT`] is sent again (and counted as lost). At
//! the end the peer sends empty datagrams, which stop the server.
//!
//! Figures: round trips per second and their latency (after the first tenth of the
//! run, as the TCP workloads), and the server's user + system CPU time per round trip
//! (over every trip of the run, warm-up included, as its CPU clock runs throughout).

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use async_executor::LocalExecutor;
use async_io::Async;
use mio::{Events, Interest, Poll, Token};

use super::net::{arg, get, Peer, QUICK_SECS, SECS};
use super::{not_applicable, percentile, Metrics};
use crate::proc;
use crate::runtimes::{self, task_failed, Runtime};
use crate::workloads::{Metric, Target};

/// Client sockets, each with one request in flight (as echo50's connections).
const CLIENTS: usize = 50;
/// Bytes per request (as echo50's messages).
const SIZE: usize = 64;
/// How long a request may go unanswered before it is sent again.
const LOSS_TIMEOUT: Duration = Duration::from_millis(200);

/// The rows: throughput, latency, and CPU per trip (target: <= tokio-ct, <= smol).
pub(crate) const METRICS: &[Metric] = &[
    Metric {
        key: "trips_per_s",
        unit: "trips/s",
        higher_is_better: true,
        targets: &[],
    },
    Metric {
        key: "p50_us",
        unit: "us",
        higher_is_better: false,
        targets: &[],
    },
    Metric {
        key: "p99_us",
        unit: "us",
        higher_is_better: false,
        targets: &[],
    },
    Metric {
        key: "cpu_ns_per_trip",
        unit: "ns",
        higher_is_better: false,
        targets: &[
            Target {
                vs: Some(Runtime::TokioCt),
                bound: 1.0,
            },
            Target {
                vs: Some(Runtime::Smol),
                bound: 1.0,
            },
        ],
    },
];

/// Run the workload on `rt`.
pub(crate) fn run(rt: Runtime, quick: bool) -> io::Result<Metrics> {
    let socket = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    socket.set_nonblocking(true)?;
    let secs = if quick { QUICK_SECS } else { SECS };
    let peer = Peer::start(&[
        "udp".into(),
        socket.local_addr()?.port().to_string(),
        CLIENTS.to_string(),
        SIZE.to_string(),
        secs.as_secs_f64().to_string(),
    ])?;
    let cpu = proc::cpu_time()?;
    match rt {
        Runtime::Ember => runtimes::ember()?.block_on(async {
            ember::spawn(ember_server(socket))
                .await
                .map_err(|_| task_failed("server"))?
        })?,
        Runtime::TokioCt | Runtime::TokioMt => {
            let tokio_rt = if rt == Runtime::TokioCt {
                runtimes::tokio_ct()?
            } else {
                runtimes::tokio_mt()?
            };
            tokio_rt.block_on(async {
                tokio::spawn(tokio_server(socket))
                    .await
                    .map_err(|_| task_failed("server"))?
            })?
        }
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            async_io::block_on(ex.run(ex.spawn(smol_server(socket))))?
        }
        Runtime::Mio => return Err(not_applicable(rt)),
    }
    let cpu = proc::cpu_time()?.saturating_sub(cpu);
    let load = peer.finish()?;
    let measured = get(&load, "secs")?;
    Ok(vec![
        ("trips_per_s", get(&load, "trips")? / measured),
        ("p50_us", get(&load, "p50_ns")? / 1e3),
        ("p99_us", get(&load, "p99_ns")? / 1e3),
        (
            "cpu_ns_per_trip",
            cpu.as_nanos() as f64 / get(&load, "total_trips")?.max(1.0),
        ),
    ])
}

/// ember: echo until an empty datagram says stop.
async fn ember_server(socket: std::net::UdpSocket) -> io::Result<()> {
    let socket = ember::net::UdpSocket::from_std(socket)?;
    let mut buf = vec![0_u8; 2048];
    loop {
        let (n, from) = socket.recv_from(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        socket.send_to(&buf[..n], from).await?;
    }
}

/// tokio: the same loop.
async fn tokio_server(socket: std::net::UdpSocket) -> io::Result<()> {
    let socket = tokio::net::UdpSocket::from_std(socket)?;
    let mut buf = vec![0_u8; 2048];
    loop {
        let (n, from) = socket.recv_from(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        socket.send_to(&buf[..n], from).await?;
    }
}

/// smol: the same loop over async-io's `Async<UdpSocket>`.
async fn smol_server(socket: std::net::UdpSocket) -> io::Result<()> {
    let socket = Async::new(socket)?;
    let mut buf = vec![0_u8; 2048];
    loop {
        let (n, from) = socket.recv_from(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        socket.send_to(&buf[..n], from).await?;
    }
}

/// One client socket and its request in flight.
#[derive(Debug)]
struct Client {
    socket: mio::net::UdpSocket,
    sent_at: Instant,
}

/// What the load saw.
#[derive(Debug, Default)]
struct Tally {
    latencies: Vec<u64>,
    trips: u64,
    total_trips: u64,
    lost: u64,
}

/// `net-peer udp <port> <clients> <size> <secs>`: the load, then the stop datagrams
/// (sent whatever happened, so the server never waits forever).
pub(crate) fn peer(args: &[String]) -> io::Result<()> {
    let port: u16 = arg(args, 0, "port")?;
    let clients: usize = arg(args, 1, "client count")?;
    let size: usize = arg(args, 2, "size")?;
    let secs: f64 = arg(args, 3, "duration")?;
    let server = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let result = load(server, clients, size.max(1), Duration::from_secs_f64(secs));
    let stopper = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    for _ in 0..3 {
        stopper.send_to(&[], server)?;
    }
    let (mut tally, measured) = result?;
    tally.latencies.sort_unstable();
    println!("secs {measured}");
    println!("trips {}", tally.trips);
    println!("total_trips {}", tally.total_trips);
    println!("lost {}", tally.lost);
    println!("p50_ns {}", percentile(&tally.latencies, 0.50));
    println!("p99_ns {}", percentile(&tally.latencies, 0.99));
    Ok(())
}

/// Run the clients for `duration`; returns the tally and the measured seconds.
fn load(
    server: SocketAddr,
    clients: usize,
    size: usize,
    duration: Duration,
) -> io::Result<(Tally, f64)> {
    let mut poll = Poll::new()?;
    let request = vec![0x5a_u8; size];
    let mut all = Vec::with_capacity(clients);
    for i in 0..clients {
        let mut socket = mio::net::UdpSocket::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        socket.connect(server)?;
        poll.registry()
            .register(&mut socket, Token(i), Interest::READABLE)?;
        all.push(Client {
            socket,
            sent_at: Instant::now(),
        });
    }
    let mut tally = Tally {
        latencies: Vec::with_capacity(1 << 20),
        ..Tally::default()
    };
    let start = Instant::now();
    let measure_from = start + duration / 10;
    let end = start + duration;
    for client in &mut all {
        send(client, &request, &mut tally)?;
    }
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0_u8; 65_536];
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        match poll.poll(&mut events, Some((end - now).min(LOSS_TIMEOUT / 4))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in &events {
            let client = &mut all[event.token().0];
            // Edge-triggered: take every datagram that is there.
            loop {
                match client.socket.recv(&mut buf) {
                    Ok(_) => {
                        let now = Instant::now();
                        tally.total_trips += 1;
                        if now >= measure_from {
                            tally.trips += 1;
                            let ns = now.duration_since(client.sent_at).as_nanos();
                            tally.latencies.push(u64::try_from(ns).unwrap_or(u64::MAX));
                        }
                        send(client, &request, &mut tally)?;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        // Requests (or their answers) lost on the way: ask again.
        let now = Instant::now();
        for client in &mut all {
            if now.duration_since(client.sent_at) > LOSS_TIMEOUT {
                tally.lost += 1;
                send(client, &request, &mut tally)?;
            }
        }
    }
    let measured = end.saturating_duration_since(measure_from).as_secs_f64();
    Ok((tally, measured))
}

/// Send the next request; a full send buffer counts as a loss, retried later.
fn send(client: &mut Client, request: &[u8], tally: &mut Tally) -> io::Result<()> {
    client.sent_at = Instant::now();
    match client.socket.send(request) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            tally.lost += 1;
            Ok(())
        }
        Err(e) => Err(e),
    }
}
