//! The `http` workloads: one hyper service (HTTP/1.1 keep-alive) served by
//! each runtime, loaded by wrk, a real load generator.
//!
//! The child process (`micro http* <runtime>`) pins itself to CPU 0 (as
//! every pinned micro workload), binds 127.0.0.1:0 with a 4096-connection
//! backlog, runs the server for the runtime on a thread (which inherits the
//! pinning) and runs `wrk -t1 -c<conns> -d3s --latency` pinned to CPU 1
//! (`taskset`). The server's CPU time is the process's user and system
//! time (getrusage) across the wrk run, divided by the requests wrk
//! completed. Three variants: `http` (`Hello, world!`, 50 connections),
//! `http_1mib` (a 1 MiB body, libevent's large-payload benchmark) and
//! `http_2k` (`Hello, world!`, 2,000 connections).
//!
//! Without wrk (or taskset) the child says "skipped: wrk not found" on
//! stderr and reports nothing; the table shows `-`.

mod servers;
mod wrk;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;

use crate::runtimes::Runtime;
use crate::workloads::{Flavour, Kind, Metric, Target, Workload};

use super::Metrics;

/// The CPU wrk runs on (the server has CPU 0).
const WRK_CPU: usize = 1;

const fn lower(key: &'static str, unit: &'static str, targets: &'static [Target]) -> Metric {
    Metric {
        key,
        unit,
        higher_is_better: false,
        targets,
    }
}

const fn vs(rt: Runtime, bound: f64) -> Target {
    Target {
        vs: Some(rt),
        bound,
    }
}

/// The targets: user CPU per request <= 0.85x tokio-ct's, total
/// <= 0.97x both tokio flavours', p99 <= tokio's.
const USER: &[Target] = &[vs(Runtime::TokioCt, 0.85)];
const TOTAL: &[Target] = &[vs(Runtime::TokioCt, 0.97), vs(Runtime::TokioMt, 0.97)];
const P99: &[Target] = &[vs(Runtime::TokioCt, 1.0), vs(Runtime::TokioMt, 1.0)];

const fn workload(name: &'static str, metrics: &'static [Metric]) -> Workload {
    Workload {
        name,
        family: "http",
        flavour: Flavour::Pinned,
        kind: Kind::Micro,
        metrics,
    }
}

/// `Hello, world!` to 50 keep-alive connections.
pub(crate) const HELLO: Workload = workload(
    "http",
    &[
        Metric {
            key: "req_per_s",
            unit: "req/s",
            higher_is_better: true,
            targets: &[],
        },
        lower("p99_us", "us", P99),
        lower("cpu_ns_per_req", "ns", TOTAL),
        lower("user_ns_per_req", "ns", USER),
        lower("sys_ns_per_req", "ns", &[]),
    ],
);

/// A 1 MiB body to 50 keep-alive connections.
pub(crate) const LARGE: Workload = workload(
    "http_1mib",
    &[
        Metric {
            key: "req_per_s",
            unit: "req/s",
            higher_is_better: true,
            targets: &[],
        },
        lower("p99_us", "us", P99),
        lower("cpu_ns_per_req", "ns", TOTAL),
        lower("user_ns_per_req", "ns", &[]),
        lower("sys_ns_per_req", "ns", &[]),
    ],
);

/// `Hello, world!` to 2,000 keep-alive connections.
pub(crate) const MANY: Workload = workload("http_2k", HELLO.metrics);

/// Connections and body of workload `name`.
fn spec(name: &str) -> Option<(usize, Bytes)> {
    let hello = Bytes::from_static(b"Hello, world!");
    match name {
        "http" => Some((50, hello)),
        "http_1mib" => Some((50, Bytes::from(vec![b'x'; 1 << 20]))),
        "http_2k" => Some((2000, hello)),
        _ => None,
    }
}

/// Run workload `name` on `rt` and return its figures (none without wrk).
///
/// # Errors
/// Fails for an unknown workload or runtime, or when the server or wrk fail.
pub(crate) fn run(name: &str, rt: Runtime, quick: bool) -> io::Result<Metrics> {
    let (conns, body) =
        spec(name).ok_or_else(|| io::Error::other(format!("unknown workload {name}")))?;
    if rt == Runtime::Mio {
        return Err(super::not_applicable(rt));
    }
    if !wrk::available() {
        eprintln!("skipped: wrk not found (apt-get install wrk); {name} reports nothing");
        return Ok(Vec::new());
    }
    raise_fd_limit(conns + 256)?;
    let listener = listen()?;
    let port = listener.local_addr()?.port();
    std::thread::Builder::new()
        .name("server".into())
        .spawn(move || {
            if let Err(e) = servers::serve(rt, listener, body) {
                eprintln!("{rt} http server: {e}");
                std::process::exit(1);
            }
        })?;

    let secs = Duration::from_secs(if quick { 1 } else { 3 });
    let before = Usage::now()?;
    let report = wrk::run(port, conns, secs, WRK_CPU % crate::proc::cpus())?;
    let after = Usage::now()?;
    if report.errors > 0.0 {
        return Err(io::Error::other(format!(
            "wrk saw {} socket errors or non-2xx answers from {rt}",
            report.errors
        )));
    }
    let per_request = |ns: f64| ns / report.requests.max(1.0);
    let (user, sys) = (after.user_ns - before.user_ns, after.sys_ns - before.sys_ns);
    Ok(vec![
        ("req_per_s", report.req_per_s),
        ("p99_us", report.p99_us),
        ("cpu_ns_per_req", per_request(user + sys)),
        ("user_ns_per_req", per_request(user)),
        ("sys_ns_per_req", per_request(sys)),
        // Not a row of the table: for per-request counts from a profiler.
        ("requests", report.requests),
    ])
}

/// 127.0.0.1:0, non-blocking, with a backlog for 2,000 connections at once
/// (std's 128 would make wrk's connects wait for SYN retransmits).
fn listen() -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
    socket.listen(4096)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Raise the soft limit on open files to `needed` (within the hard limit)
/// for the server's connections and wrk's, which inherits it.
fn raise_fd_limit(needed: usize) -> io::Result<()> {
    // SAFETY: rlimit is plain old data; all-zero is a valid value that
    // getrlimit overwrites.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: RLIMIT_NOFILE is a valid resource and `limit` is writable.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let needed = needed as libc::rlim_t;
    if limit.rlim_cur >= needed {
        return Ok(());
    }
    if limit.rlim_max < needed {
        return Err(io::Error::other(format!(
            "the open-file limit is {}, {needed} are needed",
            limit.rlim_max
        )));
    }
    limit.rlim_cur = needed;
    // SAFETY: `limit` is a valid rlimit within the hard limit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// This process's user and system CPU time, in nanoseconds.
#[derive(Clone, Copy, Debug)]
struct Usage {
    user_ns: f64,
    sys_ns: f64,
}

impl Usage {
    fn now() -> io::Result<Usage> {
        // SAFETY: rusage is plain old data; all-zero is a valid value that
        // getrusage overwrites.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: RUSAGE_SELF is a valid `who` and `usage` is writable.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let ns = |t: libc::timeval| t.tv_sec as f64 * 1e9 + t.tv_usec as f64 * 1e3;
        Ok(Usage {
            user_ns: ns(usage.ru_utime),
            sys_ns: ns(usage.ru_stime),
        })
    }
}
