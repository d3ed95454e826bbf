//! The churn client of the soak workload (and of CI's valgrind run of the echo
//! example): a plain mio loop, independent of every runtime under test, that keeps a
//! population of connections to an echo server living and dying in every way a
//! connection can.
//!
//! Each connection, once connected, picks its next act at random: a burst of
//! ping-pong round trips (mostly small messages, now and then one of up to 64 KiB),
//! an idle spell, a clean close (shut down our write side, read the server's
//! end-of-file), or a reset (`SO_LINGER` 0, then close). A connection that closed or
//! reset is replaced by a new one at once, so the population stays constant. Every
//! echoed byte is checked against what was sent; a wrong or missing byte, an
//! unexpected end-of-file or error, or a connection that makes no progress for the
//! stall limit counts as a failure (reported on stderr, the connection replaced).
//!
//! ```text
//! ember-bench churn <addr> <secs> [conns]
//! ```
//! runs it alone, prints its counters and fails if any connection failed or no round
//! trip completed.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::micro::XorShift;

/// Connections kept open by default.
pub(crate) const DEFAULT_CONNS: usize = 64;
/// Largest message of a round trip.
const MAX_MESSAGE: usize = 64 * 1024;
/// Failures described on stderr; later ones are only counted.
const REPORTED_FAILURES: u64 = 10;

/// What the client has done so far; read by the soak harness while it runs.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Round trips completed, every byte checked.
    pub(crate) trips: AtomicU64,
    /// Connections established.
    pub(crate) opened: AtomicU64,
    /// Connections closed cleanly (our end-of-file echoed by the server's).
    pub(crate) closed: AtomicU64,
    /// Connections reset on purpose (`SO_LINGER` 0).
    pub(crate) reset: AtomicU64,
    /// Connections that failed (see the module docs).
    pub(crate) failed: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// One counter's value now.
    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// What one churn run asks for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spec {
    /// The echo server.
    pub(crate) addr: SocketAddr,
    /// Connections kept open at once.
    pub(crate) conns: usize,
    /// A connection with no progress for this long has failed.
    pub(crate) stall: Duration,
    /// Seeds the choices of every connection.
    pub(crate) seed: u64,
}

/// `churn <addr> <secs> [conns]`: run alone for `secs`, print the counters, fail if any
/// connection failed.
///
/// # Errors
/// A malformed command line, a poller failure, or failed connections.
pub(crate) fn main(args: &[String]) -> io::Result<()> {
    let addr: SocketAddr = crate::arg(args, 0, "address")?;
    let secs: f64 = crate::arg(args, 1, "seconds")?;
    let conns = match args.get(2) {
        Some(_) => crate::arg(args, 2, "connection count")?,
        None => DEFAULT_CONNS,
    };
    let spec = Spec {
        addr,
        conns,
        // Generous: under valgrind the server is some fifty times slower.
        stall: Duration::from_secs(30),
        seed: seed_from_clock(),
    };
    let counters = Counters::default();
    let stop = AtomicBool::new(false);
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    run(spec, &counters, &stop, Some(deadline))?;
    let get = |c: &AtomicU64| Counters::get(c);
    println!(
        "churn: {} trips, {} connections opened, {} closed cleanly, {} reset, {} failed (seed {})",
        get(&counters.trips),
        get(&counters.opened),
        get(&counters.closed),
        get(&counters.reset),
        get(&counters.failed),
        spec.seed
    );
    match (get(&counters.failed), get(&counters.trips)) {
        (0, 0) => Err(io::Error::other("no round trip completed")),
        (0, _) => Ok(()),
        (n, _) => Err(io::Error::other(format!("{n} connections failed"))),
    }
}

/// A seed that differs from run to run (printed, so a run can be told apart).
pub(crate) fn seed_from_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// Where one connection stands.
#[derive(Debug)]
enum State {
    /// The non-blocking connect is under way.
    Connecting { since: Instant },
    /// One round trip in flight: `len` bytes from `offset` of the pattern, `written`
    /// of them sent and `read` of them echoed back; `left` trips follow in this burst.
    Trip {
        left: u32,
        offset: usize,
        len: usize,
        written: usize,
        read: usize,
        since: Instant,
    },
    /// Doing nothing until `until`.
    Idle { until: Instant },
    /// Our write side is shut; waiting for the server's end-of-file.
    Closing { since: Instant },
}

/// One client connection.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    state: State,
}

/// What [`drive`] left a connection as.
enum Outcome {
    /// Still alive; wait for its next event or deadline.
    Alive,
    /// Closed or reset on purpose: replace it.
    Done,
}

/// The client's shared scratch: random source, send pattern, receive buffer.
struct Tools {
    rng: XorShift,
    pattern: Vec<u8>,
    scratch: Vec<u8>,
}

impl Tools {
    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n.max(1)
    }
}

/// Keep `spec.conns` connections churning until `stop` is set or `deadline` passes.
///
/// # Errors
/// Fails only when the poller does; connection failures are counted instead.
pub(crate) fn run(
    spec: Spec,
    counters: &Counters,
    stop: &AtomicBool,
    deadline: Option<Instant>,
) -> io::Result<()> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let mut tools = Tools {
        rng: XorShift::new(spec.seed),
        // Not periodic in any power of two, so a byte echoed out of place shows.
        pattern: (0..MAX_MESSAGE + 256)
            .map(|i| (i * 7 + i / 251) as u8)
            .collect(),
        scratch: vec![0; MAX_MESSAGE],
    };
    let mut conns: Vec<Option<Conn>> = (0..spec.conns).map(|_| None).collect();
    for slot in 0..spec.conns {
        conns[slot] = open(&poll, spec.addr, slot, counters);
    }
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            break;
        }
        // Wake for the next idle spell's end, and at least every 100 ms to check stop
        // and stalls.
        let mut wake = now + Duration::from_millis(100);
        for conn in conns.iter().flatten() {
            if let State::Idle { until } = conn.state {
                wake = wake.min(until);
            }
        }
        if let Some(d) = deadline {
            wake = wake.min(d);
        }
        match poll.poll(&mut events, Some(wake.saturating_duration_since(now))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        for event in &events {
            let slot = event.token().0;
            step(&poll, spec, &mut conns, slot, now, &mut tools, counters);
        }
        for slot in 0..conns.len() {
            let due = match &conns[slot] {
                Some(Conn {
                    state: State::Idle { until },
                    ..
                }) => *until <= now,
                Some(conn) => stalled(&conn.state, now, spec.stall),
                // A connect that failed at once: try again.
                None => true,
            };
            if due {
                step(&poll, spec, &mut conns, slot, now, &mut tools, counters);
            }
        }
    }
    Ok(())
}

/// Drive the connection in `slot` (reopening it if it is gone), replacing it when it
/// finished or failed.
fn step(
    poll: &Poll,
    spec: Spec,
    conns: &mut [Option<Conn>],
    slot: usize,
    now: Instant,
    tools: &mut Tools,
    counters: &Counters,
) {
    let Some(conn) = conns[slot].as_mut() else {
        conns[slot] = open(poll, spec.addr, slot, counters);
        return;
    };
    let result = if stalled(&conn.state, now, spec.stall) {
        Err(format!(
            "no progress for {:?} in {:?}",
            spec.stall, conn.state
        ))
    } else {
        drive(conn, now, tools, counters)
    };
    match result {
        Ok(Outcome::Alive) => return,
        Ok(Outcome::Done) => {}
        Err(why) => {
            let n = counters.failed.fetch_add(1, Ordering::Relaxed) + 1;
            if n <= REPORTED_FAILURES {
                eprintln!("churn: connection failed: {why}");
            }
        }
    }
    // Closing the descriptor removes it from the poller.
    conns[slot] = None;
    conns[slot] = open(poll, spec.addr, slot, counters);
}

/// Whether `state` has waited longer than `stall` for the server.
fn stalled(state: &State, now: Instant, stall: Duration) -> bool {
    match *state {
        State::Connecting { since } | State::Trip { since, .. } | State::Closing { since } => {
            now.saturating_duration_since(since) > stall
        }
        State::Idle { .. } => false,
    }
}

/// Start a connection in `slot`; `None` (retried on the next pass) if even starting
/// it failed, which counts as a failure.
fn open(poll: &Poll, addr: SocketAddr, slot: usize, counters: &Counters) -> Option<Conn> {
    let started = TcpStream::connect(addr).and_then(|mut stream| {
        poll.registry().register(
            &mut stream,
            Token(slot),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(stream)
    });
    match started {
        Ok(stream) => Some(Conn {
            stream,
            state: State::Connecting {
                since: Instant::now(),
            },
        }),
        Err(e) => {
            let n = counters.failed.fetch_add(1, Ordering::Relaxed) + 1;
            if n <= REPORTED_FAILURES {
                eprintln!("churn: connect failed: {e}");
            }
            None
        }
    }
}

/// Move `conn` as far as it goes without blocking. `Err` describes a failure.
fn drive(
    conn: &mut Conn,
    now: Instant,
    tools: &mut Tools,
    counters: &Counters,
) -> Result<Outcome, String> {
    loop {
        match &mut conn.state {
            State::Connecting { .. } => {
                if let Some(e) = conn.stream.take_error().map_err(|e| e.to_string())? {
                    return Err(format!("connect: {e}"));
                }
                match conn.stream.peer_addr() {
                    Ok(_) => {}
                    // Not yet (or a spurious event): wait for the next one.
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(Outcome::Alive),
                    Err(e) => return Err(format!("connect: {e}")),
                }
                conn.stream
                    .set_nodelay(true)
                    .map_err(|e| format!("nodelay: {e}"))?;
                Counters::add(&counters.opened, 1);
                match next_act(conn, now, tools, counters)? {
                    Some(outcome) => return Ok(outcome),
                    None => continue,
                }
            }
            State::Trip {
                left,
                offset,
                len,
                written,
                read,
                since,
            } => {
                let mut progressed = false;
                while *written < *len {
                    let out = &tools.pattern[*offset + *written..*offset + *len];
                    match conn.stream.write(out) {
                        Ok(0) => return Err("write returned 0".into()),
                        Ok(n) => {
                            *written += n;
                            progressed = true;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(format!("write: {e}")),
                    }
                }
                while *read < *written {
                    let want = (*written - *read).min(tools.scratch.len());
                    match conn.stream.read(&mut tools.scratch[..want]) {
                        Ok(0) => {
                            return Err(format!("end of file after {read} of {len} echoed bytes"))
                        }
                        Ok(n) => {
                            let sent = &tools.pattern[*offset + *read..*offset + *read + n];
                            if tools.scratch[..n] != *sent {
                                return Err(format!("wrong bytes echoed at {read} of {len}"));
                            }
                            *read += n;
                            progressed = true;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(format!("read: {e}")),
                    }
                }
                if *read == *len {
                    Counters::add(&counters.trips, 1);
                    if *left > 0 {
                        let left = *left - 1;
                        conn.state = trip(left, now, tools);
                    } else if let Some(outcome) = next_act(conn, now, tools, counters)? {
                        return Ok(outcome);
                    }
                    continue;
                }
                if progressed {
                    *since = now;
                    continue;
                }
                return Ok(Outcome::Alive);
            }
            State::Idle { until } => {
                if *until > now {
                    return Ok(Outcome::Alive);
                }
                if let Some(outcome) = next_act(conn, now, tools, counters)? {
                    return Ok(outcome);
                }
            }
            State::Closing { .. } => {
                return match conn.stream.read(&mut tools.scratch[..1]) {
                    Ok(0) => {
                        Counters::add(&counters.closed, 1);
                        Ok(Outcome::Done)
                    }
                    Ok(_) => Err("bytes after every echo was read".into()),
                    Err(e)
                        if e.kind() == io::ErrorKind::WouldBlock
                            || e.kind() == io::ErrorKind::Interrupted =>
                    {
                        Ok(Outcome::Alive)
                    }
                    Err(e) => Err(format!("read while closing: {e}")),
                };
            }
        }
    }
}

/// A new round trip of a random size (mostly small, now and then large).
fn trip(left: u32, now: Instant, tools: &mut Tools) -> State {
    let max = if tools.below(8) == 0 {
        MAX_MESSAGE
    } else {
        512
    };
    State::Trip {
        left,
        offset: tools.below(256) as usize,
        len: 1 + tools.below(max as u64) as usize,
        written: 0,
        read: 0,
        since: now,
    }
}

/// Pick the connection's next act: `Some` when that ends it (a reset), `None` when
/// its new state should be driven.
fn next_act(
    conn: &mut Conn,
    now: Instant,
    tools: &mut Tools,
    counters: &Counters,
) -> Result<Option<Outcome>, String> {
    match tools.below(100) {
        0..=59 => {
            let left = tools.below(32) as u32;
            conn.state = trip(left, now, tools);
        }
        60..=79 => {
            let idle = Duration::from_millis(tools.below(200));
            conn.state = State::Idle { until: now + idle };
        }
        80..=89 => {
            conn.stream
                .shutdown(std::net::Shutdown::Write)
                .map_err(|e| format!("shutdown: {e}"))?;
            conn.state = State::Closing { since: now };
        }
        _ => {
            // Closing with SO_LINGER 0 sends a reset instead of a FIN.
            socket2::SockRef::from(&conn.stream)
                .set_linger(Some(Duration::ZERO))
                .map_err(|e| format!("linger: {e}"))?;
            Counters::add(&counters.reset, 1);
            return Ok(Some(Outcome::Done));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A blocking echo server on 127.0.0.1, one thread per connection, until the
    /// listener is dropped with the test process.
    fn echo_server() -> io::Result<SocketAddr> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut buf = [0; 16 * 1024];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Ok(addr)
    }

    /// Churns against `addr` until `done` holds for the counters (checked every
    /// 10 ms), or fails the test after 30 s.
    fn churn_until(spec: Spec, done: impl Fn(&Counters) -> bool) -> io::Result<Arc<Counters>> {
        let counters = Arc::new(Counters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let client = {
            let (counters, stop) = (Arc::clone(&counters), Arc::clone(&stop));
            std::thread::spawn(move || run(spec, &counters, &stop, None))
        };
        let begun = Instant::now();
        while !done(&counters) && begun.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
        client.join().expect("the churn client panicked")?;
        assert!(done(&counters), "gave up after 30 s: {counters:?}");
        Ok(counters)
    }

    #[test]
    fn churns_every_way_against_a_faithful_echo_and_fails_nothing() -> io::Result<()> {
        let spec = Spec {
            addr: echo_server()?,
            conns: 8,
            stall: Duration::from_secs(20),
            seed: 42,
        };
        let get = |c: &AtomicU64| Counters::get(c);
        let counters = churn_until(spec, |c| {
            get(&c.trips) >= 1_000 && get(&c.closed) >= 10 && get(&c.reset) >= 10
        })?;
        assert_eq!(get(&counters.failed), 0);
        Ok(())
    }

    #[test]
    fn a_server_that_loses_a_byte_is_caught() -> io::Result<()> {
        // Echoes everything but the first byte of each read.
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut buf = [0; 16 * 1024];
                    while let Ok(n) = stream.read(&mut buf) {
                        if n == 0 || stream.write_all(&buf[1..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let spec = Spec {
            addr,
            conns: 4,
            stall: Duration::from_millis(300),
            seed: 7,
        };
        churn_until(spec, |c| Counters::get(&c.failed) > 0)?;
        Ok(())
    }
}
