//! ember-bench: runs the same workloads on ember, tokio (current-thread and
//! multi-thread), smol (async-executor + async-io) and a raw single-threaded mio loop,
//! in one run, and prints a table of ratios (ember / each reference).
//!
//! ```text
//! cargo run --release -p ember-bench -- [WORKLOAD...] [--quick] [--runs N] [--secs S] [--tail]
//! ```
//!
//! Workloads: echo50, echo1, stream (TCP, server + load generator in separate
//! processes pinned to different CPUs), spawn, timers, wakeups, memory (in-process,
//! a fresh child process per runtime and run, pinned to one CPU), http, http_1mib,
//! http_2k (one hyper service per runtime under wrk; see `micro::http`), and the multi-thread
//! ones, unpinned with 2 workers: echo50_mt (ember and tokio servers) and mt_spawn_local,
//! mt_spawn_remote, mt_yield, mt_ping_pong, mt_chained_spawn (ember, tokio and
//! async-executor). Each figure is the median of several runs (5; 1 with `--quick`),
//! printed with the runs' spread and, for each ratio, its range over the runs paired by
//! round; a noise line per workload family follows the table. `--secs` sets the length
//! of each TCP run, `--tail` adds the pooled round-trip latency distributions.
//! The table goes to stdout and, as JSON, to `<target dir>/ember-bench.json`.
//!
//! The binary re-executes itself for its children; the hidden subcommands are
//! `server <runtime> [mt]`, `load <port> <conns> <size> <secs> <pingpong|stream>`,
//! `micro <workload> <runtime> <quick|full>` and `hold <port> <n>`.

mod churn;
mod json;
mod latency;
mod load;
mod micro;
mod noise;
mod proc;
mod runtimes;
mod servers;
mod soak;
mod stats;
mod table;
mod workloads;

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use json::RunInfo;
use latency::Histogram;
use runtimes::Runtime;
use table::Row;
use workloads::{Workload, WORKLOADS};

/// The CPU the load generator (and the memory workload's client) runs on.
const LOAD_CPU: usize = 1;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("server") => server(&args[1..]),
        Some("load") => load(&args[1..]),
        Some("micro") => micro(&args[1..]),
        Some("hold") => hold(&args[1..]),
        Some("proxy-peer") => micro::proxy::peer(&args[1..]),
        Some("net-peer") => micro::net::peer(&args[1..]),
        Some("--soak") => soak::run(&args[1..]),
        Some("churn") => churn::main(&args[1..]),
        _ => bench(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ember-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// An error for a malformed command line.
fn usage(msg: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{msg}\nusage: ember-bench [WORKLOAD...] [--quick] [--runs N] [--secs S] [--tail]\nworkloads: {}",
            WORKLOADS
                .iter()
                .map(|w| w.name)
                .collect::<Vec<_>>()
                .join(" ")
        ),
    )
}

/// Parse argument `i` of a hidden subcommand.
fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> io::Result<T> {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| usage(&format!("missing or bad {what}")))
}

/// Parse a runtime name argument.
fn runtime_arg(args: &[String], i: usize) -> io::Result<Runtime> {
    args.get(i)
        .and_then(|a| Runtime::parse(a))
        .ok_or_else(|| usage("missing or unknown runtime"))
}

/// `server <runtime> [mt]`
fn server(args: &[String]) -> io::Result<()> {
    let multi = args.get(1).is_some_and(|a| a == "mt");
    servers::run(runtime_arg(args, 0)?, multi)
}

/// `load <port> <conns> <size> <secs> <mode>`
fn load(args: &[String]) -> io::Result<()> {
    pin_load_cpu()?;
    let spec = load::Spec {
        port: arg(args, 0, "port")?,
        conns: arg(args, 1, "connection count")?,
        size: arg::<usize>(args, 2, "size")?.max(1),
        duration: Duration::from_secs_f64(arg(args, 3, "duration")?),
        mode: args
            .get(4)
            .and_then(|m| load::Mode::parse(m))
            .ok_or_else(|| usage("missing or bad mode"))?,
    };
    load::run(spec)
}

/// `micro <workload> <runtime> <quick|full>`
fn micro(args: &[String]) -> io::Result<()> {
    let name: String = arg(args, 0, "workload")?;
    let quick = args.get(2).is_some_and(|q| q == "quick");
    micro::run(&name, runtime_arg(args, 1)?, quick)
}

/// `hold <port> <n>`
fn hold(args: &[String]) -> io::Result<()> {
    pin_load_cpu()?;
    load::hold(arg(args, 0, "port")?, arg(args, 1, "count")?)
}

/// Pin to the load CPU, or to CPU 0 on a single-CPU machine.
fn pin_load_cpu() -> io::Result<()> {
    proc::pin_to_cpu(LOAD_CPU % proc::cpus())
}

/// What the user asked for.
#[derive(Debug)]
struct Options {
    workloads: Vec<&'static Workload>,
    quick: bool,
    runs: usize,
    /// Length of each TCP run, if given (`--secs`).
    tcp_secs: Option<f64>,
    /// Print the pooled round-trip latency distributions (`--tail`).
    tail: bool,
}

/// Parse the user's command line.
fn parse_options(args: &[String]) -> io::Result<Options> {
    let mut options = Options {
        workloads: Vec::new(),
        quick: false,
        runs: 0,
        tcp_secs: None,
        tail: false,
    };
    let mut args = args.iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => options.quick = true,
            "--tail" => options.tail = true,
            "--runs" => {
                options.runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| usage("--runs needs a positive number"))?;
            }
            "--secs" => {
                options.tcp_secs = Some(
                    args.next()
                        .and_then(|s| s.parse::<f64>().ok())
                        .filter(|&s| s.is_finite() && s > 0.0)
                        .ok_or_else(|| usage("--secs needs a positive number of seconds"))?,
                );
            }
            "-h" | "--help" => return Err(usage("help")),
            name => {
                let w = Workload::find(name)
                    .ok_or_else(|| usage(&format!("unknown workload {name}")))?;
                options.workloads.push(w);
            }
        }
    }
    if options.workloads.is_empty() {
        options.workloads = WORKLOADS.iter().collect();
    }
    if options.runs == 0 {
        options.runs = if options.quick { 1 } else { 5 };
    }
    Ok(options)
}

/// The benchmark proper: every selected workload on every runtime, `runs` times,
/// runtimes interleaved within each round so slow drifts of the machine hit them all alike.
fn bench(args: &[String]) -> io::Result<()> {
    let options = parse_options(args)?;
    // Two benchmark runs at once pin their servers to the same CPU and measure each
    // other (seen while diagnosing issue 7: another worktree's servers held CPU 0 for
    // most of this one's slow trips). Runs from any worktree take turns.
    let lock_path = std::env::temp_dir().join("ember-bench.lock");
    let _lock = proc::RunLock::acquire(&lock_path, || {
        eprintln!(
            "ember-bench: another run holds {}; waiting for it to finish",
            lock_path.display()
        );
    })?;
    let tcp_duration = match options.tcp_secs {
        Some(secs) => Duration::from_secs_f64(secs),
        None if options.quick => Duration::from_millis(200),
        None => Duration::from_millis(1500),
    };
    let started = Instant::now();
    let progress = Progress {
        terminal: io::stderr().is_terminal(),
    };
    let mut rows = Vec::new();
    let mut tails = Vec::new();
    let mut background = Vec::new();
    for workload in &options.workloads {
        let before = proc::CpuSample::now()?;
        let first_row = rows.len();
        rows.extend(workload.metrics.iter().map(|m| Row::new(workload.name, *m)));
        let runtimes: Vec<Runtime> = Runtime::ALL
            .into_iter()
            .filter(|&rt| workload.applies_to(rt))
            .collect();
        let mut histograms: Vec<(Runtime, Histogram)> = runtimes
            .iter()
            .map(|&rt| (rt, Histogram::default()))
            .collect();
        let runs = options.runs;
        for run in 0..runs {
            for (i, rt) in round_order(&runtimes, run).into_iter().enumerate() {
                progress.show(workload.name, run + 1, runs, rt, i == 0);
                let figures = workloads::run_once(workload, rt, tcp_duration, options.quick)?;
                for row in &mut rows[first_row..] {
                    if let Some(&(_, v)) = figures.iter().find(|(k, _)| k == row.metric.key) {
                        row.samples[table::index(rt)].push(v);
                    }
                }
                if let Some((_, h)) = histograms.iter_mut().find(|(r, _)| *r == rt) {
                    h.add_figures(&figures);
                }
            }
        }
        let after = proc::CpuSample::now()?;
        background.push(noise::Background {
            workload: workload.name,
            share: before.others_share(&after),
            secs: after.secs_since(&before),
        });
        if options.tail && histograms.iter().any(|(_, h)| h.total() > 0) {
            tails.push(latency::render(workload.name, runs, &histograms));
        }
    }
    progress.clear();
    let info = RunInfo {
        quick: options.quick,
        runs: options.runs,
        tcp_secs: tcp_duration.as_secs_f64(),
        cpus: proc::cpus(),
        wall_secs: started.elapsed().as_secs_f64(),
    };
    let noise = noise::by_family(&rows, &background);
    print!("{}", table::render(&rows));
    print!("{}", noise::render(&noise));
    for tail in &tails {
        print!("{tail}");
    }
    println!("{}", legend(&info));
    let path = target_dir()?.join("ember-bench.json");
    std::fs::write(&path, json::to_json(&rows, &noise, &info))?;
    println!("JSON: {}", path.display());
    Ok(())
}

/// The order of round `run`: `runtimes` rotated by `run`, so that no runtime always runs
/// first (right after another workload) or always follows the same one. Every round
/// still runs each runtime once, so sample `i` of every runtime comes from round `i`.
fn round_order(runtimes: &[Runtime], run: usize) -> Vec<Runtime> {
    let mut order = runtimes.to_vec();
    let n = order.len();
    if n > 0 {
        order.rotate_left(run % n);
    }
    order
}

/// Progress on stderr: one rewritten line on a terminal, a line per workload run otherwise
/// (so CI logs stay readable).
#[derive(Debug)]
struct Progress {
    terminal: bool,
}

impl Progress {
    /// Say what runs now.
    fn show(&self, workload: &str, run: usize, runs: usize, rt: Runtime, first_of_round: bool) {
        if self.terminal {
            eprint!("\r{workload:<16} run {run}/{runs} {:<9}", rt.name());
        } else if first_of_round {
            eprintln!("{workload} run {run}/{runs}");
        }
    }

    /// Erase the progress line before the table is printed.
    fn clear(&self) {
        if self.terminal {
            eprint!("\r{:<48}\r", "");
        }
    }
}

/// What the columns mean, printed under the table.
fn legend(info: &RunInfo) -> String {
    format!(
        "\nMedian of {runs} run(s); TCP runs {secs} s each; {cpus} CPUs; total {wall:.1} s.\n\
         Each metric takes two lines: the medians, the ratios of the medians and a target; below\n\
         them the unit, each runtime's lowest and highest run as -x/+y% of its median, the range of\n\
         ember/ref over the runs paired by round (* = unpaired: min/max to max/min), a 2nd target.\n\
         ember and tokio-ct: current-thread runtimes. tokio-mt: multi-thread runtime; every server\n\
         and micro process is pinned to CPU 0, so it runs 1 worker + the block_on thread.\n\
         smol: async-executor LocalExecutor + async_io::block_on. raw-mio: one mio loop, no\n\
         executor (TCP only). Load generator: plain mio, its own process, pinned to CPU 1.\n\
         echo50_mt and mt_* rows are UNPINNED, multi-thread, {workers} workers: ember = ember's\n\
         multi-thread runtime, tokio-mt = tokio's, smol = async-executor Executor run by {workers}\n\
         threads (caller in future::block_on); each process allows itself every CPU (fails if\n\
         it gets fewer than {workers}). echo50_mt's servers share the CPUs with the load generator\n\
         (still pinned to CPU 1). mt_* figures: median of several rounds within the run.\n\
         wakeups and mt_ping_pong use futures-channel mpsc (unbounded) for every runtime; yield\n\
         uses each runtime's own yield_now. cpu_* = server utime+stime (getrusage) / trips (or MiB).\n\
         Ratios are ember / reference. A target is ok or MISS by the median; ~ marks a verdict that\n\
         some run's figure would flip (within noise). The issue's \"<= tokio\" targets\n\
         are checked against both tokio flavours; \"firing within 1 tick\" as late_p99 <= 1 ms.",
        runs = info.runs,
        secs = info.tcp_secs,
        cpus = info.cpus,
        wall = info.wall_secs,
        workers = runtimes::MT_WORKERS,
    )
}

/// Cargo's target directory: $CARGO_TARGET_DIR, else the parent of the profile
/// directory this binary lives in (target/release/ember-bench -> target).
fn target_dir() -> io::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let exe = std::env::current_exe()?;
    exe.parent()
        .and_then(|profile| profile.parent())
        .map(PathBuf::from)
        .ok_or_else(|| io::Error::other("cannot find the target directory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_rotate_the_runtimes_and_run_each_once() {
        let all = [Runtime::Ember, Runtime::TokioMt, Runtime::Smol];
        assert_eq!(round_order(&all, 0), all);
        assert_eq!(
            round_order(&all, 1),
            [Runtime::TokioMt, Runtime::Smol, Runtime::Ember]
        );
        assert_eq!(round_order(&all, 3), all);
        assert!(round_order(&[], 2).is_empty());
    }

    #[test]
    fn options_parse_and_reject_nonsense() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = parse_options(&args(&["echo1", "--runs", "7", "--secs", "0.5", "--tail"]))
            .expect("valid options");
        assert_eq!((o.runs, o.tcp_secs, o.tail), (7, Some(0.5), true));
        assert_eq!(o.workloads.len(), 1);
        assert_eq!(parse_options(&args(&["--quick"])).expect("valid").runs, 1);
        assert!(parse_options(&args(&["--secs", "0"])).is_err());
        assert!(parse_options(&args(&["--runs", "x"])).is_err());
        assert!(parse_options(&args(&["nope"])).is_err());
    }
}
