//! unix: the echo50 workload over Unix-domain stream sockets. The server, in the
//! measured process, is each runtime's idiomatic echo (an accept loop, one task per
//! connection reading into a 16 KiB buffer and writing it back) on a Unix listener
//! bound to an abstract name. The peer (plain mio, on the load CPU) opens [`CONNS`]
//! connections and runs echo50's ping-pong on each: one [`SIZE`]-byte message in
//! flight, the next sent when its whole echo is back. At the end it closes them, which
//! ends the server's tasks.
//!
//! Figures: round trips per second and their latency (after the first tenth of the
//! run), and the server's CPU time per round trip (every trip, warm-up included).

use std::io::{self, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use std::time::{Duration, Instant};

use async_executor::LocalExecutor;
use async_io::Async;
use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _};
use mio::{Events, Interest, Poll, Token};

use super::net::{arg, get, Peer, QUICK_SECS, SECS};
use super::{not_applicable, percentile, Metrics};
use crate::proc;
use crate::runtimes::{self, task_failed, Runtime};
use crate::servers::BUF_SIZE;
use crate::workloads::{Metric, Target};

/// Connections (as echo50).
const CONNS: usize = 50;
/// Bytes per message (as echo50).
const SIZE: usize = 64;

/// The rows: echo50's, with its CPU target against tokio-ct (<= 1.00x).
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
        targets: &[Target {
            vs: Some(Runtime::TokioCt),
            bound: 1.0,
        }],
    },
];

/// Run the workload on `rt`.
pub(crate) fn run(rt: Runtime, quick: bool) -> io::Result<Metrics> {
    let name = format!("ember-bench-unix-{}", std::process::id());
    let listener =
        std::os::unix::net::UnixListener::bind_addr(&SocketAddr::from_abstract_name(&name)?)?;
    listener.set_nonblocking(true)?;
    let secs = if quick { QUICK_SECS } else { SECS };
    let peer = Peer::start(&[
        "unix".into(),
        name,
        CONNS.to_string(),
        SIZE.to_string(),
        secs.as_secs_f64().to_string(),
    ])?;
    let cpu = proc::cpu_time()?;
    match rt {
        Runtime::Ember => runtimes::ember()?.block_on(ember_server(listener))?,
        Runtime::TokioCt => runtimes::tokio_ct()?.block_on(tokio_server(listener))?,
        Runtime::TokioMt => runtimes::tokio_mt()?.block_on(tokio_server(listener))?,
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            async_io::block_on(ex.run(smol_server(&ex, listener)))?
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

/// ember: accept the peer's connections, one task each, until they all close.
async fn ember_server(listener: std::os::unix::net::UnixListener) -> io::Result<()> {
    let listener = ember::net::UnixListener::from_std(listener)?;
    let mut tasks = Vec::with_capacity(CONNS);
    for _ in 0..CONNS {
        let (mut stream, _) = listener.accept().await?;
        tasks.push(ember::spawn(async move {
            // futures-lite's extension traits: the same futures-io calls ember's re-exports make.
            let mut buf = vec![0_u8; BUF_SIZE];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return io::Result::Ok(());
                }
                stream.write_all(&buf[..n]).await?;
            }
        }));
    }
    for task in tasks {
        // A connection error just ends it (the peer closes with echoes in flight).
        let _ = task.await.map_err(|_| task_failed("echo"))?;
    }
    Ok(())
}

/// tokio: the same, with tokio's types.
async fn tokio_server(listener: std::os::unix::net::UnixListener) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::UnixListener::from_std(listener)?;
    let mut tasks = Vec::with_capacity(CONNS);
    for _ in 0..CONNS {
        let (mut stream, _) = listener.accept().await?;
        tasks.push(tokio::spawn(async move {
            let mut buf = vec![0_u8; BUF_SIZE];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return io::Result::Ok(());
                }
                stream.write_all(&buf[..n]).await?;
            }
        }));
    }
    for task in tasks {
        // A connection error just ends it (the peer closes with echoes in flight).
        let _ = task.await.map_err(|_| task_failed("echo"))?;
    }
    Ok(())
}

/// smol: async-io's `Async<UnixListener>`/`Async<UnixStream>` on the executor.
async fn smol_server(
    ex: &LocalExecutor<'_>,
    listener: std::os::unix::net::UnixListener,
) -> io::Result<()> {
    let listener = Async::new(listener)?;
    let mut tasks = Vec::with_capacity(CONNS);
    for _ in 0..CONNS {
        let (mut stream, _) = listener.accept().await?;
        tasks.push(ex.spawn(async move {
            let mut buf = vec![0_u8; BUF_SIZE];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return io::Result::Ok(());
                }
                stream.write_all(&buf[..n]).await?;
            }
        }));
    }
    for task in tasks {
        // A connection error just ends it (the peer closes with echoes in flight).
        let _ = task.await;
    }
    Ok(())
}

/// One client connection and where its message stands.
#[derive(Debug)]
struct Conn {
    stream: mio::net::UnixStream,
    written: usize,
    read: usize,
    sent_at: Instant,
}

/// What the load saw.
#[derive(Debug, Default)]
struct Tally {
    latencies: Vec<u64>,
    trips: u64,
    total_trips: u64,
}

/// `net-peer unix <abstract name> <conns> <size> <secs>`.
pub(crate) fn peer(args: &[String]) -> io::Result<()> {
    let name: String = arg(args, 0, "socket name")?;
    let conns: usize = arg(args, 1, "connection count")?;
    let size: usize = arg(args, 2, "size")?;
    let secs: f64 = arg(args, 3, "duration")?;
    let addr = SocketAddr::from_abstract_name(&name)?;
    let (mut tally, measured) = load(&addr, conns, size.max(1), Duration::from_secs_f64(secs))?;
    tally.latencies.sort_unstable();
    println!("secs {measured}");
    println!("trips {}", tally.trips);
    println!("total_trips {}", tally.total_trips);
    println!("p50_ns {}", percentile(&tally.latencies, 0.50));
    println!("p99_ns {}", percentile(&tally.latencies, 0.99));
    Ok(())
}

/// Ping-pong on `conns` connections for `duration`; the connections close on return.
fn load(
    addr: &SocketAddr,
    conns: usize,
    size: usize,
    duration: Duration,
) -> io::Result<(Tally, f64)> {
    let mut poll = Poll::new()?;
    let mut all = Vec::with_capacity(conns);
    for i in 0..conns {
        // A blocking connect waits for room in the listener's queue; then non-blocking.
        let std_stream = std::os::unix::net::UnixStream::connect_addr(addr)?;
        std_stream.set_nonblocking(true)?;
        let mut stream = mio::net::UnixStream::from_std(std_stream);
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        all.push(Conn {
            stream,
            written: 0,
            read: 0,
            sent_at: Instant::now(),
        });
    }
    let message = vec![0x5a_u8; size];
    let mut scratch = vec![0_u8; size];
    let mut tally = Tally {
        latencies: Vec::with_capacity(1 << 20),
        ..Tally::default()
    };
    let start = Instant::now();
    let measure_from = start + duration / 10;
    let end = start + duration;
    for conn in &mut all {
        conn.sent_at = Instant::now();
        drive(conn, &message, &mut scratch, measure_from, &mut tally)?;
    }
    let mut events = Events::with_capacity(1024);
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        match poll.poll(&mut events, Some(end - now)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in &events {
            let conn = &mut all[event.token().0];
            drive(conn, &message, &mut scratch, measure_from, &mut tally)?;
        }
    }
    let measured = end.saturating_duration_since(measure_from).as_secs_f64();
    Ok((tally, measured))
}

/// Move one connection as far as it goes without blocking: finish writing the
/// message, read its echo, start the next one when it is whole.
fn drive(
    conn: &mut Conn,
    message: &[u8],
    scratch: &mut [u8],
    measure_from: Instant,
    tally: &mut Tally,
) -> io::Result<()> {
    let size = message.len();
    loop {
        let mut wrote = false;
        while conn.written < size {
            match conn.stream.write(&message[conn.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    conn.written += n;
                    wrote = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // Nothing is unread, and the echo of the message just sent raises a new
        // edge when it arrives: skip the read that would almost always say
        // WouldBlock (as the TCP load generator does).
        if wrote && conn.read == 0 {
            return Ok(());
        }
        // Only the echo of what was sent can come back: read exactly the rest of it.
        match conn.stream.read(&mut scratch[..size - conn.read]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => conn.read += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if conn.read == size {
            let now = Instant::now();
            tally.total_trips += 1;
            if now >= measure_from {
                tally.trips += 1;
                let ns = now.duration_since(conn.sent_at).as_nanos();
                tally.latencies.push(u64::try_from(ns).unwrap_or(u64::MAX));
            }
            conn.written = 0;
            conn.read = 0;
            conn.sent_at = now;
        }
    }
}
