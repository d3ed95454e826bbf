//! The catalog of workloads and their metrics (units, which direction is better,
//! the targets, single-threaded and pinned or multi-thread and unpinned), and how the parent runs one workload on one runtime: TCP
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

/// Which runtime flavours a workload compares, and where its processes may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// Single-threaded runtimes (and tokio-mt with its one worker), every server and
    /// micro process pinned to one CPU.
    Pinned,
    /// Multi-thread runtimes with [`crate::runtimes::MT_WORKERS`] workers, in an unpinned
    /// process: the `ember` column is ember's multi-thread runtime, `tokio-mt` tokio's
    /// with 2 workers, `smol` an async-executor `Executor` run by 2 threads.
    Multi,
}

/// A workload selectable on the command line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Workload {
    /// Its command-line name.
    pub(crate) name: &'static str,
    /// How it runs.
    pub(crate) kind: Kind,
    /// Single-threaded and pinned, or multi-thread and unpinned.
    pub(crate) flavour: Flavour,
    /// Its rows.
    pub(crate) metrics: &'static [Metric],
    /// The family it is grouped in for the noise summary: workloads whose figures
    /// vary alike (the TCP ones, the task micro-benchmarks, ...).
    pub(crate) family: &'static str,
}

impl Workload {
    /// Whether `rt` has an entry for this workload: raw mio only has the single-threaded
    /// TCP ones, tokio-ct none of the multi-thread ones, and only ember and tokio-mt have
    /// a multi-thread echo server.
    pub(crate) fn applies_to(&self, rt: Runtime) -> bool {
        let tcp = matches!(self.kind, Kind::Tcp { .. });
        match (self.flavour, rt) {
            (_, Runtime::Ember) => true,
            (Flavour::Pinned, Runtime::Mio) => tcp,
            (Flavour::Pinned, _) => true,
            (Flavour::Multi, Runtime::TokioMt) => true,
            (Flavour::Multi, Runtime::Smol) => !tcp,
            (Flavour::Multi, Runtime::TokioCt | Runtime::Mio) => false,
        }
    }

    /// The workload called `name`.
    pub(crate) fn find(name: &str) -> Option<&'static Workload> {
        WORKLOADS.iter().find(|w| w.name == name)
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

/// "<= tokio-mt and <= async-executor" for the multi-thread workloads.
const MT_1: &[Target] = &[vs(Runtime::TokioMt, 1.0), vs(Runtime::Smol, 1.0)];

/// A multi-thread micro workload with one lower-is-better row.
const fn mt_micro(name: &'static str, metrics: &'static [Metric]) -> Workload {
    Workload {
        name,
        family: "mt",
        flavour: Flavour::Multi,
        kind: Kind::Micro,
        metrics,
    }
}

/// A pinned micro workload with a peer process (`micro::net`).
const fn net_micro(
    name: &'static str,
    family: &'static str,
    metrics: &'static [Metric],
) -> Workload {
    Workload {
        name,
        family,
        flavour: Flavour::Pinned,
        kind: Kind::Micro,
        metrics,
    }
}

/// Every workload, in table order.
pub(crate) const WORKLOADS: &[Workload] = &[
    Workload {
        name: "echo50",
        family: "tcp",
        flavour: Flavour::Pinned,
        kind: Kind::Tcp {
            conns: 50,
            size: 64,
            mode: Mode::PingPong,
        },
        metrics: &[
            higher("trips_per_s", "trips/s", &[]),
            lower("p50_us", "us", &[]),
            lower("p99_us", "us", &[]),
            lower("p999_us", "us", &[]),
            lower(
                "cpu_ns_per_trip",
                "ns",
                &[vs(Runtime::Mio, 1.0), vs(Runtime::TokioCt, 0.95)],
            ),
        ],
    },
    Workload {
        name: "echo1",
        family: "tcp",
        flavour: Flavour::Pinned,
        kind: Kind::Tcp {
            conns: 1,
            size: 64,
            mode: Mode::PingPong,
        },
        metrics: &[
            higher("trips_per_s", "trips/s", &[]),
            lower("p50_us", "us", TOKIO_1),
            lower("p99_us", "us", &[]),
            lower("p999_us", "us", &[]),
            lower("cpu_ns_per_trip", "ns", &[]),
        ],
    },
    Workload {
        name: "stream",
        family: "tcp",
        flavour: Flavour::Pinned,
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
        name: "proxy",
        family: "io",
        flavour: Flavour::Pinned,
        kind: Kind::Micro,
        metrics: &[
            higher("mib_per_s", "MiB/s", &[]),
            lower("cpu_us_per_mib", "us", TOKIO_1),
        ],
    },
    crate::micro::http::HELLO,
    crate::micro::http::LARGE,
    crate::micro::http::MANY,
    Workload {
        name: "spawn",
        family: "tasks",
        flavour: Flavour::Pinned,
        kind: Kind::Micro,
        metrics: &[lower(
            "ns_per_task",
            "ns",
            &[vs(Runtime::TokioCt, 0.5), vs(Runtime::Smol, 1.0)],
        )],
    },
    Workload {
        name: "timers",
        family: "timers",
        flavour: Flavour::Pinned,
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
            lower("1k_late_p50_ms", "ms", &[]),
            lower(
                "1k_late_p99_ms",
                "ms",
                &[Target {
                    vs: None,
                    bound: 1.0,
                }],
            ),
        ],
    },
    Workload {
        name: "wakeups",
        family: "tasks",
        flavour: Flavour::Pinned,
        kind: Kind::Micro,
        metrics: &[
            lower("ns_per_message", "ns", TOKIO_1),
            lower("ns_per_yield", "ns", TOKIO_1),
        ],
    },
    Workload {
        name: "memory",
        family: "memory",
        flavour: Flavour::Pinned,
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
    Workload {
        name: "fs",
        family: "fs",
        flavour: Flavour::Pinned,
        kind: Kind::Micro,
        metrics: crate::micro::fs::METRICS,
    },
    net_micro("udp", "net", crate::micro::udp::METRICS),
    net_micro("unix", "net", crate::micro::unix::METRICS),
    net_micro("sendfile", "io", crate::micro::sendfile::METRICS),
    Workload {
        name: "echo50_mt",
        family: "tcp_mt",
        flavour: Flavour::Multi,
        kind: Kind::Tcp {
            conns: 50,
            size: 64,
            mode: Mode::PingPong,
        },
        metrics: &[
            higher("trips_per_s", "trips/s", &[]),
            lower("p50_us", "us", &[]),
            lower("p99_us", "us", &[]),
            lower("p999_us", "us", &[]),
            lower("cpu_ns_per_trip", "ns", &[vs(Runtime::TokioMt, 1.0)]),
        ],
    },
    mt_micro("mt_spawn_local", &[lower("ns_per_task", "ns", MT_1)]),
    mt_micro("mt_spawn_remote", &[lower("ns_per_task", "ns", MT_1)]),
    mt_micro("mt_yield", &[lower("ns_per_yield", "ns", MT_1)]),
    mt_micro("mt_ping_pong", &[lower("ns_per_message", "ns", MT_1)]),
    mt_micro("mt_chained_spawn", &[lower("ns_per_spawn", "ns", MT_1)]),
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
        Kind::Tcp { conns, size, mode } => {
            run_tcp(rt, workload.flavour, conns, size, mode, duration)
        }
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
            // A note from a child that succeeded ("skipped: wrk not found").
            io::stderr().write_all(&out.stderr)?;
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
    /// Start the echo server for `rt` (its multi-thread flavour for [`Flavour::Multi`])
    /// and read its port.
    fn start(rt: Runtime, flavour: Flavour) -> io::Result<(Server, u16)> {
        let mut command = Command::new(std::env::current_exe()?);
        command.args(["server", rt.name()]);
        if flavour == Flavour::Multi {
            command.arg("mt");
        }
        let mut child = command
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
    flavour: Flavour,
    conns: usize,
    size: usize,
    mode: Mode,
    duration: Duration,
) -> io::Result<Figures> {
    let (mut server, port) = Server::start(rt, flavour)?;
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
            Mode::PingPong => {
                let mut figures = vec![
                    ("trips_per_s".to_string(), get(&load, "trips")? / secs),
                    ("p50_us".to_string(), get(&load, "p50_ns")? / 1e3),
                    ("p99_us".to_string(), get(&load, "p99_ns")? / 1e3),
                    ("p999_us".to_string(), get(&load, "p999_ns")? / 1e3),
                    (
                        "cpu_ns_per_trip".to_string(),
                        cpu_ns / get(&load, "total_trips")?.max(1.0),
                    ),
                ];
                // The latency histogram, for --tail.
                figures.extend(load.into_iter().filter(|(k, _)| k.starts_with("hist_")));
                figures
            }
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
    fn raw_mio_only_runs_single_threaded_tcp_workloads() {
        for w in WORKLOADS {
            let tcp = matches!(w.kind, Kind::Tcp { .. });
            let pinned = w.flavour == Flavour::Pinned;
            assert_eq!(w.applies_to(Runtime::Mio), tcp && pinned, "{}", w.name);
            assert!(w.applies_to(Runtime::Ember));
            assert!(w.applies_to(Runtime::TokioMt));
        }
    }

    #[test]
    fn multi_thread_workloads_compare_multi_thread_runtimes() {
        let mt: Vec<&Workload> = WORKLOADS
            .iter()
            .filter(|w| w.flavour == Flavour::Multi)
            .collect();
        assert_eq!(mt.len(), 6);
        for w in mt {
            assert!(!w.applies_to(Runtime::TokioCt), "{}", w.name);
            let micro = matches!(w.kind, Kind::Micro);
            assert_eq!(w.applies_to(Runtime::Smol), micro, "{}", w.name);
            assert!(w.name.starts_with("mt_") || w.name.ends_with("_mt"));
        }
        assert!(Workload::find("mt_yield").is_some());
        assert!(Workload::find("yield").is_none());
    }
}
