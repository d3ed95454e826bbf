//! Helpers of the process tests: both exit watchers, a yield that turns
//! the reactor, and /proc checks for zombies.

#![allow(dead_code)]

use std::future::{poll_fn, Future};
use std::task::Poll;
use std::time::{Duration, Instant};

use ember_io::process::Command;

/// The two ways of watching a child's exit; every test runs with both.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reaper {
    Pidfd,
    Sigchld,
}

pub(crate) const REAPERS: [Reaper; 2] = [Reaper::Pidfd, Reaper::Sigchld];

/// `Command::new(program)`, watched by `reaper`.
pub(crate) fn command(program: &str, reaper: Reaper) -> Command {
    let mut command = Command::new(program);
    if let Reaper::Sigchld = reaper {
        ember_io::process::__private::use_sigchld(&mut command);
    }
    command
}

/// Whether this kernel gives pidfds (Linux >= 5.3, not forbidden).
pub(crate) fn pidfds_work() -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        ember_reactor::__private::pidfd_open(std::process::id()).is_ok()
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        false
    }
}

/// Returns `Pending` once (after waking itself), so `block_on` turns the
/// reactor before the next poll.
pub(crate) async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

/// The state letter of `pid` in /proc (`'Z'` for a zombie) if it is still
/// a child of this process, running or unreaped; `None` once it is reaped
/// (a reused pid belongs to someone else's child).
pub(crate) fn child_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid: u32 = fields.next()?.parse().ok()?;
    (ppid == std::process::id()).then_some(state)
}

/// Runs `step` until `pid` is reaped, failing after 10 s: the reaping is
/// the background work under test, and /proc is the only place it shows.
pub(crate) async fn until_reaped<F: Future<Output = ()>>(pid: u32, mut step: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(state) = child_state(pid) {
        assert!(
            Instant::now() < deadline,
            "child {pid} was not reaped (state {state})"
        );
        step().await;
    }
}
