//! The soak workload: a long run of ember's echo server under connection churn, to
//! show that nothing grows with time.
//!
//! ```text
//! cargo run --release -p ember-bench -- --soak SECONDS
//! ```
//!
//! The harness starts the bench's ember echo server (`server ember`: current-thread,
//! pinned to CPU 0) as a child process, and runs the [`churn`] client
//! on a thread pinned to CPU 1. At every interval (a minute, or a tenth of a short
//! run) it prints the server's resident set size (`VmRSS` of `/proc/PID/status`), its
//! open descriptors (entries of `/proc/PID/fd`), its CPU time per round trip over the
//! interval (utime + stime of `/proc/PID/stat`) and what the client did meanwhile.
//! Flat columns are the result: a leak of memory, descriptors or work per connection
//! shows as a column that keeps climbing. The run fails if any connection failed.
//! Not in CI (it is long by design); `--soak 5` is a quick check that it works.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::churn::{self, Counters};
use crate::proc;

/// `--soak SECONDS`
///
/// # Errors
/// A malformed command line, a server that does not start, a failed /proc read, or
/// connections that failed.
pub(crate) fn run(args: &[String]) -> io::Result<()> {
    let secs: u64 = crate::arg(args, 0, "soak seconds")?;
    if secs == 0 {
        return Err(crate::usage("--soak needs a positive number of seconds"));
    }
    // Pinned like the benchmark's servers: take turns with benchmark runs.
    let lock_path = std::env::temp_dir().join("ember-bench.lock");
    let _lock = proc::RunLock::acquire(&lock_path, || {
        eprintln!(
            "ember-bench: another run holds {}; waiting for it to finish",
            lock_path.display()
        );
    })?;
    let mut server = Server::start()?;
    let result = soak(&server, secs);
    let stopped = server.stop();
    result.and(stopped)
}

/// The run proper, with the server up.
fn soak(server: &Server, secs: u64) -> io::Result<()> {
    let interval = Duration::from_secs((secs / 10).clamp(1, 60));
    let spec = churn::Spec {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, server.port)),
        conns: churn::DEFAULT_CONNS,
        stall: Duration::from_secs(10),
        seed: churn::seed_from_clock(),
    };
    println!(
        "soak: ember echo server (current-thread, CPU {}), churn client ({} connections, \
         CPU {}, seed {}), {secs} s, a row every {} s",
        crate::servers::SERVER_CPU,
        spec.conns,
        crate::LOAD_CPU % proc::cpus(),
        spec.seed,
        interval.as_secs(),
    );
    println!(
        "{:>6} {:>9} {:>5} {:>10} {:>11} {:>8} {:>8} {:>8} {:>6}",
        "time", "rss_kib", "fds", "trips", "cpu/trip", "opened", "closed", "reset", "failed"
    );
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (counters, stop) = (Arc::clone(&counters), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("churn".into())
            .spawn(move || {
                crate::pin_load_cpu()?;
                churn::run(spec, &counters, &stop, None)
            })?
    };
    let start = Instant::now();
    let mut rows = vec![Row::take(server, &counters, start)?];
    println!("{}", rows[0].render(None));
    let mut next = start;
    let end = start + Duration::from_secs(secs);
    while next < end && !client.is_finished() {
        next = (next + interval).min(end);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let row = Row::take(server, &counters, start)?;
        println!("{}", row.render(rows.last()));
        rows.push(row);
        let _ = io::stdout().flush();
    }
    stop.store(true, Ordering::Relaxed);
    match client.join() {
        Ok(result) => result?,
        Err(_) => return Err(io::Error::other("the churn client panicked")),
    }
    print!("{}", summary(&rows));
    match Counters::get(&counters.failed) {
        0 => Ok(()),
        n => Err(io::Error::other(format!("{n} connections failed"))),
    }
}

/// The server child and its port.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Start `server ember` (current-thread, pinned to CPU 0) and read its port.
    fn start() -> io::Result<Server> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["server", "ember"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let Some(stdout) = child.stdout.take() else {
            return Err(io::Error::other("server child has no stdout"));
        };
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let port = line
            .strip_prefix("port ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| io::Error::other(format!("server said {line:?}, not its port")))?;
        Ok(Server { child, port })
    }

    /// Tell the server to exit (its control thread exits on end of input) and reap it.
    fn stop(&mut self) -> io::Result<()> {
        drop(self.child.stdin.take());
        self.child.wait()?;
        Ok(())
    }
}

/// One reading of the server and the client.
#[derive(Debug, Clone, Copy)]
struct Row {
    at: Duration,
    rss_kib: u64,
    fds: usize,
    cpu: Duration,
    trips: u64,
    opened: u64,
    closed: u64,
    reset: u64,
    failed: u64,
}

impl Row {
    fn take(server: &Server, counters: &Counters, start: Instant) -> io::Result<Row> {
        let pid = server.child.id();
        let get = |c: &AtomicU64| Counters::get(c);
        Ok(Row {
            at: start.elapsed(),
            rss_kib: rss_kib(pid)?,
            fds: std::fs::read_dir(format!("/proc/{pid}/fd"))?.count(),
            cpu: cpu_time(pid)?,
            trips: get(&counters.trips),
            opened: get(&counters.opened),
            closed: get(&counters.closed),
            reset: get(&counters.reset),
            failed: get(&counters.failed),
        })
    }

    /// The row, with the CPU per trip and the client's counts since `previous`.
    fn render(&self, previous: Option<&Row>) -> String {
        let zero = Row {
            at: Duration::ZERO,
            cpu: self.cpu,
            ..*self
        };
        let before = previous.unwrap_or(&zero);
        let trips = self.trips - before.trips;
        let cpu_per_trip = match (previous, trips) {
            (Some(_), 1..) => format!(
                "{:.2} us",
                self.cpu.saturating_sub(before.cpu).as_secs_f64() * 1e6 / trips as f64
            ),
            _ => "-".into(),
        };
        let secs = self.at.as_secs();
        format!(
            "{:>3}:{:02} {:>9} {:>5} {:>10} {:>11} {:>8} {:>8} {:>8} {:>6}",
            secs / 60,
            secs % 60,
            self.rss_kib,
            self.fds,
            trips,
            cpu_per_trip,
            self.opened - before.opened,
            self.closed - before.closed,
            self.reset - before.reset,
            self.failed - before.failed,
        )
    }
}

/// First interval against last: what "flat" is judged on.
fn summary(rows: &[Row]) -> String {
    let [start, first, ..] = rows else {
        return String::new();
    };
    let [.., last_start, last] = rows else {
        return String::new();
    };
    let cpu_per_trip = |a: &Row, b: &Row| {
        let trips = b.trips.saturating_sub(a.trips).max(1);
        b.cpu.saturating_sub(a.cpu).as_secs_f64() * 1e6 / trips as f64
    };
    format!(
        "first interval -> last: rss {} -> {} KiB, fds {} -> {}, cpu/trip {:.2} -> {:.2} us\n\
         total: {} trips, {} connections opened, {} closed cleanly, {} reset, {} failed\n",
        first.rss_kib,
        last.rss_kib,
        first.fds,
        last.fds,
        cpu_per_trip(start, first),
        cpu_per_trip(last_start, last),
        last.trips,
        last.opened,
        last.closed,
        last.reset,
        last.failed,
    )
}

/// `VmRSS` of `/proc/PID/status`, in KiB.
fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no VmRSS in /proc status"))
}

/// utime + stime of `/proc/PID/stat` (fields 14 and 15, counted after the command
/// name, which may itself hold spaces and parentheses).
fn cpu_time(pid: u32) -> io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc stat");
    let rest = stat.rsplit_once(')').ok_or_else(bad)?.1;
    // After ")": state is field 3, so utime (14) and stime (15) are the 12th and 13th.
    let mut fields = rest.split_whitespace().skip(11);
    let mut next =
        || -> io::Result<u64> { fields.next().and_then(|f| f.parse().ok()).ok_or_else(bad) };
    let ticks = next()? + next()?;
    // SAFETY: sysconf has no preconditions; _SC_CLK_TCK is always supported on Linux.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|&h| h > 0).unwrap_or(100);
    Ok(Duration::from_secs_f64(ticks as f64 / hz as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reads_as_a_server_would() -> io::Result<()> {
        let pid = std::process::id();
        assert!(rss_kib(pid)? > 0);
        // Burn CPU until the kernel has charged a tick (bounded, in case it never does).
        let begun = Instant::now();
        let mut x = 0_u64;
        while cpu_time(pid)? == Duration::ZERO {
            assert!(
                begun.elapsed() < Duration::from_secs(30),
                "no CPU time charged"
            );
            for _ in 0..1_000_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        assert!(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() >= 3);
        Ok(())
    }
}
