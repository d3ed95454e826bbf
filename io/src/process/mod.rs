//! Child processes with asynchronous pipes: [`Command`] spawns, [`Child`]
//! waits and kills, [`ChildStdin`], [`ChildStdout`] and [`ChildStderr`] are
//! the pipes. This module owns the life of a child from `spawn` to its
//! reaping, including children dropped before anyone waited for them.
//!
//! The types mirror `std::process` and have tokio's names and behaviour.
//! [`Stdio`], [`ExitStatus`] and [`Output`] are std's own.
//!
//! # How a child is waited for
//!
//! Spawning is std's (`posix_spawn` or `fork`/`exec`), run inline on the
//! calling thread as tokio does: it is fast and its errors are std's, so a
//! missing program is [`io::ErrorKind::NotFound`](std::io::ErrorKind::NotFound)
//! and a file without execute permission
//! [`PermissionDenied`](std::io::ErrorKind::PermissionDenied). The pipes are
//! made non-blocking (they are private to this process) and registered with
//! the reactor as byte streams: each is a thin wrapper over [`Async`], which
//! holds the one stream I/O loop.
//!
//! Exit is watched without a thread per child (and without the blocking
//! pool):
//!
//! - **pidfd** (Linux >= 5.3): a process descriptor of the child, registered
//!   with the reactor, becomes readable when the child exits;
//! - **SIGCHLD** (older kernels, sandboxes that forbid `pidfd_open`, other
//!   Unix systems): each waiting child listens for `SIGCHLD` through the
//!   reactor's signal machinery and checks its own status on every delivery.
//!   Every delivery wakes every waiting child, so waiting on many children
//!   at once costs a `waitpid` per waiting child per exit.
//!
//! Either way the status is collected with a non-blocking `waitpid` of that
//! one child, so ember never reaps a process it did not spawn.
//!
//! # Orphans
//!
//! A [`Child`] dropped before its exit status was collected is an orphan: it
//! is killed first if [`Command::kill_on_drop`] was set, then put on a
//! process-wide orphan list together with its exit watcher, and reaped in
//! the background, without a thread. No zombie is left behind:
//!
//! - while the runtime that spawned it runs, it is reaped on that runtime's
//!   reactor thread during the turn that sees its exit (its pidfd becoming
//!   readable, or the next `SIGCHLD`);
//! - if that runtime is gone, it is reaped the next time any ember runtime
//!   in the process spawns a child, polls a [`Child::wait`] or
//!   [`Child::try_wait`], or drops a `Child`.
//!
//! A program that drops a running child, then drops its runtime and never
//! touches a process again keeps that zombie until it exits itself.
//!
//! # Ground rules
//!
//! * Only this module reaps, and only a child of its own, with the
//!   non-blocking `std::process::Child::try_wait`: std then remembers the
//!   status, and never signals a process it has reaped (its number may have
//!   been reused). [`Child`] remembers the status too, so `wait` after
//!   `wait` returns it again and `start_kill` after it is a no-op.
//! * A child's exit watcher (its pidfd registration or its `SIGCHLD`
//!   listener) exists from `spawn` on, before the first status check that
//!   may be followed by a wait, so no exit can go unnoticed between the
//!   check and the wait.
//! * The orphan list is one mutex. The sweep that reaps it runs under that
//!   mutex, on whichever thread asked for it; a request that finds the
//!   mutex taken leaves a flag that the running sweep honours before it
//!   lets go, so nothing blocks on it and no request is lost (see
//!   `orphan`).
//!
//! # Examples
//!
//! ```
//! # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
//! use ember_io::process::Command;
//!
//! # fn main() -> std::io::Result<()> {
//! block_on(async {
//!     let output = Command::new("echo").arg("hello").output().await?;
//!     assert!(output.status.success());
//!     assert_eq!(output.stdout, b"hello\n");
//!     Ok(())
//! })
//! # }
//! ```
//!
//! [`Async`]: crate::Async

mod child;
mod command;
mod exit;
mod orphan;
mod output;
mod pipe;

pub use child::Child;
pub use command::Command;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

/// What ember's own crates and tests reach in this module beyond its
/// public API.
///
/// Not part of the public API and not covered by semver: do not use it.
#[doc(hidden)]
pub mod __private {
    use super::{Child, Command};

    /// Makes the children of `command` wait for their exit through
    /// `SIGCHLD` even where pidfds work, so that tests cover the fallback.
    pub fn use_sigchld(command: &mut Command) -> &mut Command {
        command.force_sigchld();
        command
    }

    /// Whether `child`'s exit is watched through a pidfd (else `SIGCHLD`).
    pub fn uses_pidfd(child: &Child) -> bool {
        child.uses_pidfd()
    }
}
