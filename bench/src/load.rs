//! The load generator: a plain mio client, independent of every runtime under test,
//! run as its own process pinned to the CPU the server does not use.
//!
//! In ping-pong mode each connection writes one message of `size` bytes, waits for
//! the whole echo, records the round trip's latency and starts the next. In stream
//! mode (one connection) the client keeps up to [`STREAM_WINDOW`] bytes in flight and
//! counts the bytes echoed back. The first tenth of the run is warm-up: its trips are
//! not timed, but they are counted in `total_trips`/`total_bytes`, which the parent
//! divides the server's CPU time by (the CPU clock runs for the whole load).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::latency::Histogram;
use crate::micro::percentile;

/// Bytes kept in flight by the streaming mode.
const STREAM_WINDOW: u64 = 2 * 1024 * 1024;

/// How the client drives its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One message in flight per connection; latencies recorded.
    PingPong,
    /// Up to [`STREAM_WINDOW`] bytes in flight; throughput only.
    Stream,
}

impl Mode {
    /// Parse the command-line spelling.
    pub(crate) fn parse(s: &str) -> Option<Mode> {
        match s {
            "pingpong" => Some(Mode::PingPong),
            "stream" => Some(Mode::Stream),
            _ => None,
        }
    }
}

/// What one load run asks for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spec {
    /// The server's port on 127.0.0.1.
    pub(crate) port: u16,
    /// Number of connections.
    pub(crate) conns: usize,
    /// Message (ping-pong) or chunk (stream) size in bytes.
    pub(crate) size: usize,
    /// Total run time, warm-up included.
    pub(crate) duration: Duration,
    /// Ping-pong or stream.
    pub(crate) mode: Mode,
}

/// One client connection and where it stands in the byte stream.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    written: u64,
    read: u64,
    /// When the message currently in flight started being written (ping-pong).
    sent_at: Instant,
}

/// Counters kept while the run goes.
#[derive(Debug, Default)]
struct Tally {
    /// Latencies (ns) of the trips completed in the measured window.
    latencies: Vec<u64>,
    trips: u64,
    bytes: u64,
    total_trips: u64,
    total_bytes: u64,
}

/// Run the load described by `spec` and print `key value` lines on stdout.
///
/// # Errors
/// Fails when a connection cannot be made or breaks during the run.
pub(crate) fn run(spec: Spec) -> io::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, spec.port));
    let mut poll = Poll::new()?;
    let mut conns = Vec::with_capacity(spec.conns);
    for i in 0..spec.conns {
        let std_stream = std::net::TcpStream::connect(addr)?;
        std_stream.set_nodelay(true)?;
        std_stream.set_nonblocking(true)?;
        let mut stream = TcpStream::from_std(std_stream);
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        conns.push(Conn {
            stream,
            written: 0,
            read: 0,
            sent_at: Instant::now(),
        });
    }

    let window = match spec.mode {
        Mode::PingPong => spec.size as u64,
        Mode::Stream => STREAM_WINDOW.max(spec.size as u64),
    };
    let out = vec![0x5a_u8; spec.size];
    let mut scratch = vec![0_u8; 64 * 1024];
    let start = Instant::now();
    let measure_from = start + spec.duration / 10;
    let end = start + spec.duration;
    let mut tally = Tally {
        latencies: Vec::with_capacity(1 << 20),
        ..Tally::default()
    };

    for conn in &mut conns {
        drive(
            conn,
            spec,
            window,
            &out,
            &mut scratch,
            measure_from,
            &mut tally,
        )?;
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
            let conn = &mut conns[event.token().0];
            drive(
                conn,
                spec,
                window,
                &out,
                &mut scratch,
                measure_from,
                &mut tally,
            )?;
        }
    }
    let measured = end.saturating_duration_since(measure_from).as_secs_f64();

    tally.latencies.sort_unstable();
    let pct = |p: f64| percentile(&tally.latencies, p);
    println!("secs {measured}");
    println!("trips {}", tally.trips);
    println!("bytes {}", tally.bytes);
    println!("total_trips {}", tally.total_trips);
    println!("total_bytes {}", tally.total_bytes);
    println!("p50_ns {}", pct(0.50));
    println!("p99_ns {}", pct(0.99));
    println!("p999_ns {}", pct(0.999));
    if spec.mode == Mode::PingPong {
        print!("{}", Histogram::of(&tally.latencies).to_lines());
    }
    Ok(())
}

/// Move one connection as far as it can go without blocking: write while the
/// window allows, read everything available, account completed messages. The client
/// makes as few syscalls as it can, so that it is not the bottleneck of the servers.
fn drive(
    conn: &mut Conn,
    spec: Spec,
    window: u64,
    out: &[u8],
    scratch: &mut [u8],
    measure_from: Instant,
    tally: &mut Tally,
) -> io::Result<()> {
    let size = spec.size as u64;
    loop {
        let mut progressed = false;
        // Write while the window has room; in ping-pong the window is one message.
        while conn.written - conn.read < window {
            let room = (window - (conn.written - conn.read)) as usize;
            let in_msg = (conn.written % size) as usize;
            let len = room.min(out.len() - in_msg);
            if in_msg == 0 && spec.mode == Mode::PingPong {
                conn.sent_at = Instant::now();
            }
            match conn.stream.write(&out[in_msg..in_msg + len]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    conn.written += n as u64;
                    progressed = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // In ping-pong the echo of a message just sent cannot be there yet, and nothing
        // else is unread (a trip completes only once all of its echo is read): skip the
        // read that would only say WouldBlock. The echo's arrival raises a new edge.
        if spec.mode == Mode::PingPong && progressed && conn.written - conn.read == window {
            return Ok(());
        }
        // Read everything that is there; edge-triggered readiness needs WouldBlock.
        loop {
            let want = (conn.written - conn.read) as usize;
            if want == 0 {
                break;
            }
            let cap = scratch.len().min(want);
            match conn.stream.read(&mut scratch[..cap]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => {
                    let before = conn.read / size;
                    conn.read += n as u64;
                    let done = conn.read / size - before;
                    progressed = true;
                    let now = Instant::now();
                    tally.total_trips += done;
                    tally.total_bytes += n as u64;
                    if now >= measure_from {
                        tally.trips += done;
                        tally.bytes += n as u64;
                        if spec.mode == Mode::PingPong && done > 0 {
                            let ns = now.duration_since(conn.sent_at).as_nanos();
                            tally.latencies.push(u64::try_from(ns).unwrap_or(u64::MAX));
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if !progressed {
            return Ok(());
        }
    }
}

/// Connection attempts the holder keeps in flight at once (below the listener's
/// backlog of 128, so no SYN is dropped and retried a second later).
const CONNECT_WINDOW: usize = 64;

/// Hold `n` idle connections to `port` until stdin closes (for the memory workload).
/// Connects without blocking, [`CONNECT_WINDOW`] at a time: one blocking connect after
/// another costs a scheduler wake-up each, which on a busy machine is a millisecond.
///
/// # Errors
/// Fails when a connection cannot be made.
pub(crate) fn hold(port: u16, n: usize) -> io::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut held: Vec<TcpStream> = Vec::with_capacity(n);
    let mut connected = vec![false; n];
    let mut done = 0;
    while done < n {
        while held.len() < n && held.len() - done < CONNECT_WINDOW {
            let mut stream = TcpStream::connect(addr)?;
            poll.registry()
                .register(&mut stream, Token(held.len()), Interest::WRITABLE)?;
            held.push(stream);
        }
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in &events {
            let i = event.token().0;
            if connected[i] {
                continue;
            }
            let stream = &mut held[i];
            if let Some(e) = stream.take_error()? {
                return Err(e);
            }
            match stream.peer_addr() {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotConnected => continue,
                Err(e) => return Err(e),
            }
            poll.registry().deregister(stream)?;
            // Close with a reset: 10k sockets per run would otherwise sit in TIME_WAIT and
            // exhaust the ephemeral ports over a few runs.
            socket2::SockRef::from(&*stream).set_linger(Some(Duration::ZERO))?;
            connected[i] = true;
            done += 1;
        }
    }
    println!("held {}", held.len());
    // Block until the parent closes our stdin (or says anything).
    let mut line = String::new();
    io::stdin().read_line(&mut line)?;
    drop(held);
    Ok(())
}
