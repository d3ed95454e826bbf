//! In-process micro workloads (spawn, timers, wakeups, memory, and the multi-thread
//! `mt_*` ones). The parent runs each one in a fresh child process per runtime, so
//! allocations and RSS of one runtime never pollute another's figures. The child pins
//! itself to one CPU, except for the `mt_*` workloads: those allow themselves every
//! CPU (whatever mask they inherited) and fail if they cannot have two. A workload returns `(metric, value)`
//! pairs that the child prints as `metric value` lines.
//!
//! Each workload's body is written once, generic over the runtime's spawn/sleep/yield
//! functions, and each runtime supplies those as closures: what differs between the
//! columns is only the runtime.

pub(crate) mod fs;
pub(crate) mod http;
pub(crate) mod memory;
pub(crate) mod mt;
pub(crate) mod net;
pub(crate) mod pool;
pub(crate) mod proxy;
pub(crate) mod sendfile;
pub(crate) mod spawn;
pub(crate) mod timers;
pub(crate) mod udp;
pub(crate) mod unix;
pub(crate) mod wakeups;

use std::io;

use crate::runtimes::Runtime;
use crate::workloads::{Flavour, Workload};

/// Named figures produced by one run of a workload.
pub(crate) type Metrics = Vec<(&'static str, f64)>;

/// Run micro workload `name` on `rt` and print its figures.
///
/// # Errors
/// Fails for an unknown workload, a runtime that does not apply, or a failing run.
pub(crate) fn run(name: &str, rt: Runtime, quick: bool) -> io::Result<()> {
    let workload = Workload::find(name)
        .ok_or_else(|| io::Error::other(format!("unknown micro workload {name}")))?;
    match workload.flavour {
        Flavour::Pinned => crate::proc::pin_to_cpu(crate::servers::SERVER_CPU)?,
        Flavour::Multi => {
            let allowed = crate::proc::unpin()?;
            let wanted = crate::proc::online_cpus().min(crate::runtimes::MT_WORKERS);
            if allowed < wanted {
                return Err(io::Error::other(format!(
                    "{name} needs {wanted} CPUs but may only run on {allowed}"
                )));
            }
        }
    }
    let metrics = match name {
        "spawn" => spawn::run(rt, quick)?,
        "timers" => timers::run(rt, quick)?,
        "wakeups" => wakeups::run(rt, quick)?,
        "memory" => memory::run(rt, quick)?,
        "proxy" => proxy::run(rt, quick)?,
        "fs" => fs::run(rt, quick)?,
        "udp" => udp::run(rt, quick)?,
        "unix" => unix::run(rt, quick)?,
        "sendfile" => sendfile::run(rt, quick)?,
        "http" | "http_1mib" | "http_2k" => http::run(name, rt, quick)?,
        _ if workload.flavour == Flavour::Multi => mt::run(name, rt, quick)?,
        _ => return Err(io::Error::other(format!("unknown micro workload {name}"))),
    };
    for (metric, value) in metrics {
        println!("{metric} {value}");
    }
    Ok(())
}

/// The error for a runtime a micro workload has no entry for (raw mio, or ember
/// when built without it).
pub(crate) fn not_applicable(rt: Runtime) -> io::Error {
    io::Error::other(format!("{rt} has no entry for this workload"))
}

/// Nearest-rank percentile of a sorted slice (0 for an empty one).
pub(crate) fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// A seeded xorshift64 generator, so every runtime gets the same "random" durations.
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// A generator from a non-zero seed.
    pub(crate) fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    /// The next pseudo-random number.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}
