//! The catalog of workloads and their metrics (units, which direction is better,
//! the targets), and how the parent runs one workload on one runtime: TCP
//! workloads as a server process plus a load process, micro workloads as one child
//! process. Children are this same binary, re-executed with a hidden subcommand.

use std::io::{self, BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::load::Mode;
use crate::runtimes::Runtime;

/// A target from the issue: ember's figure divided by `vs`'s must be at most (lower
/// is better) or at least (higher is better) `bound`; with `vs: None`, ember's own
/// figure is compared to `bound`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target {
    /// The reference, or None for an absolute bound.
    pub(crate) vs: Option<Runtime>,
    /// The ratio (or absolute value) ember must reach.
    pub(crate) bound: f64,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Metric {
    /// Key printed by the child (and used in the JSON).
    pub(crate) key: &'static str,
    /// Unit shown in the table.
    pub(crate) unit: &'static str,
    /// Whether a bigger figure is better (throughput) or worse (time, bytes).
    pub(crate) higher_is_better: bool,
    /// The targets for this metric.
    pub(crate) targets: &'static [Target],
}

/// How a workload runs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// Echo server process + mio load process.
    Tcp {
        /// Connections.
        conns: usize,
        /// Message or chunk size.
        size: usize,
        /// Ping-pong or streaming.
        mode: Mode,
    },
    /// One child process running `micro <name> <runtime>`.
    Micro,
}

/// A workload selectable on the command line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Workload {
    /// Its command-line name.
    pub(crate) name: &'static str,
    /// How it runs.
    pub(crate) kind: Kind,
    /// Its rows.
    pub(crate) metrics: &'static [Metric],
    /// At most this many runs, whatever `--runs` says (the slow, steady ones).
    pub(crate) max_runs: usize,
}

impl Workload {
    /// Whether `rt` has an entry for this workload (raw mio only has the TCP ones).
    pub(crate) fn applies_to(&self, rt: Runtime) -> bool {
        rt != Runtime::Mio || matches!(self.kind, Kind::Tcp { .. })
    }
}

const fn lower(key: &'static str, unit: &'static str, targets: &'static [Target]) -> Metric {
    Metric {
        key,
        unit,
        higher_is_better: false,
        targets,
    }
}

const fn higher(key: &'static str, unit: &'static str, targets: &'static [Target]) -> Metric {
    Metric {
        key,
        unit,
        higher_is_better: true,
        targets,
    }
}

const fn vs(rt: Runtime, bound: f64) -> Target {
    Target {
        vs: Some(rt),
        bound,
    }
}

/// "<= tokio" / ">= tokio": against both tokio flavours.
const TOKIO_1: &[Target] = &[vs(Runtime::TokioCt, 1.0), vs(Runtime::TokioMt, 1.0)];

/// Every workload, in table order.
pub(crate) const WORKLOADS: &[Workload] = &[
    Workload {
        name: "echo50",
        max_runs: usize::MAX,
        kind: Kind::Tcp {
            conns: 50,
            size: 64,
            mode: Mode::PingPong,
        },
        metrics: &[
            higher("trips_per_s", "trips/s", &[]),
            lower("p50_us", "us", &[]),
            lower("p99_us", "us", &[]),
            lower(
                "cpu_ns_per_trip",
                "ns",
                &[vs(Runtime::Mio, 1.0), vs(Runtime::TokioCt, 0.95)],
            ),
        ],
    },
    Workload {
        name: "echo1",
        max_runs: usize::MAX,
        kind: Kind::Tcp {
            conns: 1,
            size: 64,
            mode: Mode::PingPong,
        },
        metrics: &[
            higher("trips_per_s", "trips/s", &[]),
            lower("p50_us", "us", TOKIO_1),
            lower("p99_us", "us", &[]),
            lower("cpu_ns_per_trip", "ns", &[]),
        ],
    },
    Workload {
        name: "stream",
        max_runs: usize::MAX,
        kind: Kind::Tcp {
            conns: 1,
            size: 16 * 1024,
            mode: Mode::Stream,
        },
        metrics: &[
            higher("mib_per_s", "MiB/s", TOKIO_1),
            lower("cpu_us_per_mib", "us", &[]),
        ],
    },
    Workload {
        name: "spawn",
        max_runs: usize::MAX,
        kind: Kind::Micro,
        metrics: &[lower(
            "ns_per_task",
            "ns",
            &[vs(Runtime::TokioCt, 0.5), vs(Runtime::Smol, 1.0)],
        )],
    },
    Workload {
        name: "timers",
        max_runs: usize::MAX,
        kind: Kind::Micro,
        metrics: &[
            lower("timeout_ready_ns", "ns", &[vs(Runtime::TokioCt, 0.5)]),
            lower("insert_cancel_ns", "ns", &[vs(Runtime::TokioCt, 0.5)]),
            lower("late_p50_ms", "ms", &[]),
            lower(
                "late_p99_ms",
                "ms",
                &[Target {
                    vs: None,
                    bound: 1.0,
                }],
            ),
            lower("late_max_ms", "ms", &[]),
            lower("fire_span_ms", "ms", &[]),
            lower("fire_overrun", "tasks", &[]),
        ],
    },
    Workload {
        name: "wakeups",
        max_runs: usize::MAX,
        kind: Kind::Micro,
        metrics: &[
            lower("ns_per_message", "ns", TOKIO_1),
            lower("ns_per_yield", "ns", TOKIO_1),
        ],
    },
    Workload {
        name: "memory",
        // RSS growth barely varies between runs, and 10k connections take seconds to set up.
        max_runs: 3,
        kind: Kind::Micro,
        metrics: &[
            lower(
                "bytes_per_conn",
                "B",
                &[vs(Runtime::TokioCt, 0.6), vs(Runtime::TokioMt, 0.6)],
            ),
            lower(
                "bytes_per_task",
                "B",
                &[vs(Runtime::TokioCt, 0.6), vs(Runtime::TokioMt, 0.6)],
            ),
        ],
    },
];

/// The figures of one run: (metric key, value).
pub(crate) type Figures = Vec<(String, f64)>;

/// Run `workload` once on `rt`, each side in its own child process.
///
/// # Errors
/// Fails when a child cannot be started or reports garbage or an error.
pub(crate) fn run_once(
    workload: &Workload,
    rt: Runtime,
    duration: Duration,
    quick: bool,
) -> io::Result<Figures> {
    match workload.kind {
        Kind::Tcp { conns, size, mode } => run_tcp(rt, conns, size, mode, duration),
        Kind::Micro => {
            let out = Command::new(std::env::current_exe()?)
                .args([
                    "micro",
                    workload.name,
                    rt.name(),
                    if quick { "quick" } else { "full" },
                ])
                .stdin(Stdio::null())
                .output()?;
            if !out.status.success() {
                return Err(io::Error::other(format!(
                    "micro {} on {rt} failed: {}",
                    workload.name,
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
            parse_figures(&String::from_utf8_lossy(&out.stdout))
        }
    }
}

/// Parse `key value` lines.
fn parse_figures(text: &str) -> io::Result<Figures> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut parts = line.split_whitespace();
            match (
                parts.next(),
                parts.next().and_then(|v| v.parse::<f64>().ok()),
            ) {
                (Some(key), Some(value)) => Ok((key.to_string(), value)),
                _ => Err(io::Error::other(format!("bad child output line: {line}"))),
            }
        })
        .collect()
}

/// The value of `key` in `figures`.
fn get(figures: &Figures, key: &str) -> io::Result<f64> {
    figures
        .iter()
        .find(|(k, _)| k == key)
        .map(|&(_, v)| v)
        .ok_or_else(|| io::Error::other(format!("child did not report {key}")))
}

/// A running server child and the pipes to talk to it.
#[derive(Debug)]
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Start the echo server for `rt` and read its port.
    fn start(rt: Runtime) -> io::Result<(Server, u16)> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["server", rt.name()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(io::Error::other("server child has no pipes"));
        };
        let mut server = Server {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        let port = server.expect("port")?;
        let port = u16::try_from(port as u64).map_err(io::Error::other)?;
        Ok((server, port))
    }

    /// Read one `key value` line and check its key.
    fn expect(&mut self, key: &str) -> io::Result<f64> {
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        let figures = parse_figures(&line)?;
        get(&figures, key)
    }

    /// The server's CPU time so far (user + system), in nanoseconds.
    fn cpu_ns(&mut self) -> io::Result<f64> {
        self.stdin.write_all(b"cpu\n")?;
        self.stdin.flush()?;
        self.expect("cpu_ns")
    }

    /// Tell the server to exit and reap it.
    fn stop(mut self) -> io::Result<()> {
        // The server may already be gone; reaping it is what matters.
        let _ = self.stdin.write_all(b"stop\n");
        drop(self.stdin);
        self.child.wait()?;
        Ok(())
    }
}

/// One TCP run: server, CPU reading, load, CPU reading, stop.
fn run_tcp(
    rt: Runtime,
    conns: usize,
    size: usize,
    mode: Mode,
    duration: Duration,
) -> io::Result<Figures> {
    let (mut server, port) = Server::start(rt)?;
    let result = (|| {
        let cpu_before = server.cpu_ns()?;
        let mode_name = match mode {
            Mode::PingPong => "pingpong",
            Mode::Stream => "stream",
        };
        let out = Command::new(std::env::current_exe()?)
            .args([
                "load",
                &port.to_string(),
                &conns.to_string(),
                &size.to_string(),
                &duration.as_secs_f64().to_string(),
                mode_name,
            ])
            .stdin(Stdio::null())
            .output()?;
        let cpu_after = server.cpu_ns()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "load against {rt} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let load = parse_figures(&String::from_utf8_lossy(&out.stdout))?;
        let secs = get(&load, "secs")?;
        let cpu_ns = cpu_after - cpu_before;
        let figures = match mode {
            Mode::PingPong => vec![
                ("trips_per_s".to_string(), get(&load, "trips")? / secs),
                ("p50_us".to_string(), get(&load, "p50_ns")? / 1e3),
                ("p99_us".to_string(), get(&load, "p99_ns")? / 1e3),
                (
                    "cpu_ns_per_trip".to_string(),
                    cpu_ns / get(&load, "total_trips")?.max(1.0),
                ),
            ],
            Mode::Stream => {
                let mib = |b: f64| b / (1024.0 * 1024.0);
                vec![
                    ("mib_per_s".to_string(), mib(get(&load, "bytes")?) / secs),
                    (
                        "cpu_us_per_mib".to_string(),
                        cpu_ns / 1e3 / mib(get(&load, "total_bytes")?).max(1e-9),
                    ),
                ]
            }
        };
        Ok(figures)
    })();
    server.stop()?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_parse_and_garbage_is_rejected() {
        let figures = parse_figures("trips 10\n\np50_ns 2.5\n").expect("valid lines");
        assert_eq!(get(&figures, "p50_ns").ok(), Some(2.5));
        assert!(get(&figures, "p99_ns").is_err());
        assert!(parse_figures("trips ten\n").is_err());
    }

    #[test]
    fn raw_mio_only_runs_tcp_workloads() {
        for w in WORKLOADS {
            let tcp = matches!(w.kind, Kind::Tcp { .. });
            assert_eq!(w.applies_to(Runtime::Mio), tcp, "{}", w.name);
            assert!(w.applies_to(Runtime::Ember));
        }
    }
}
