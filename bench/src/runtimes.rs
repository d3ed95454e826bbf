//! The runtimes under test, their names on the command line and in the table, and
//! how each one is built. Every runtime is configured here once, so the servers and
//! the micro workloads measure the same thing.

use std::fmt;
use std::io;

/// One column of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Runtime {
    /// ember's current-thread runtime (multi-thread, 2 workers, in the `mt` workloads).
    Ember,
    /// tokio's current-thread runtime.
    TokioCt,
    /// tokio's multi-thread runtime (the process is pinned to one CPU, so one worker;
    /// 2 workers, unpinned, in the `mt` workloads).
    TokioMt,
    /// smol's pieces: async-executor's `LocalExecutor` driven by `async_io::block_on`
    /// (in the `mt` workloads: an `Executor` run by 2 threads).
    Smol,
    /// A hand-written single-threaded mio loop, no executor: the limit (TCP workloads only).
    Mio,
}

impl Runtime {
    /// Every column, in table order.
    pub(crate) const ALL: [Runtime; 5] = [
        Runtime::Ember,
        Runtime::TokioCt,
        Runtime::TokioMt,
        Runtime::Smol,
        Runtime::Mio,
    ];

    /// The name used on the command line, in the table and in the JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Runtime::Ember => "ember",
            Runtime::TokioCt => "tokio-ct",
            Runtime::TokioMt => "tokio-mt",
            Runtime::Smol => "smol",
            Runtime::Mio => "raw-mio",
        }
    }

    /// Parse a name produced by [`Runtime::name`].
    pub(crate) fn parse(name: &str) -> Option<Runtime> {
        Runtime::ALL.into_iter().find(|rt| rt.name() == name)
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// tokio's current-thread runtime with I/O and time enabled.
pub(crate) fn tokio_ct() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// tokio's multi-thread runtime with its default worker count, which is the number
/// of CPUs in this process's affinity mask (one: every benchmark process is pinned).
pub(crate) fn tokio_mt() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// ember's current-thread runtime.
pub(crate) fn ember() -> io::Result<ember::Runtime> {
    ember::Builder::new_current_thread().build()
}

/// Worker threads of every multi-thread runtime in the `mt_*` and `echo50_mt`
/// workloads (which run unpinned, so the workers really run in parallel).
pub(crate) const MT_WORKERS: usize = 2;

/// ember's multi-thread runtime with [`MT_WORKERS`] workers.
pub(crate) fn ember_mt() -> io::Result<ember::Runtime> {
    ember::Builder::new_multi_thread()
        .worker_threads(MT_WORKERS)
        .build()
}

/// tokio's multi-thread runtime with [`MT_WORKERS`] workers, whatever the affinity mask.
pub(crate) fn tokio_mt_workers() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(MT_WORKERS)
        .enable_all()
        .build()
}

/// An error for a task that did not complete (panicked or was cancelled).
pub(crate) fn task_failed(what: &str) -> io::Error {
    io::Error::other(format!("a {what} task failed"))
}
