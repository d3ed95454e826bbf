//! What the socket workloads beyond TCP echo share (`udp`, `unix`, `sendfile`): each
//! runs its server in the micro process (pinned to the server CPU like every micro
//! process, so its `getrusage` is the server's CPU alone) and its client in a *peer*
//! process, this binary re-executed as `net-peer <workload> ...`, plain mio or blocking
//! std, pinned to the load CPU. The peer prints `key value` lines and exits; the micro
//! process reads them after it has stopped its server.

use std::io::{self, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::proc;

/// Length of each load run (full run / quick run), as the TCP workloads' default.
pub(crate) const SECS: Duration = Duration::from_millis(1500);
pub(crate) const QUICK_SECS: Duration = Duration::from_millis(200);

/// A running peer process.
#[derive(Debug)]
pub(crate) struct Peer {
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    /// Start `net-peer <args...>`.
    pub(crate) fn start(args: &[String]) -> io::Result<Peer> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("net-peer")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("the peer has no stdout"))?;
        Ok(Peer {
            child,
            stdout: BufReader::new(stdout),
        })
    }

    /// Wait for the peer to exit and return its figures.
    pub(crate) fn finish(mut self) -> io::Result<Vec<(String, f64)>> {
        let mut text = String::new();
        self.stdout.read_to_string(&mut text)?;
        let status = self.child.wait()?;
        if !status.success() {
            return Err(io::Error::other(format!("the peer failed: {status}")));
        }
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let mut parts = line.split_whitespace();
                match (parts.next(), parts.next().and_then(|v| v.parse().ok())) {
                    (Some(key), Some(value)) => Ok((key.to_string(), value)),
                    _ => Err(io::Error::other(format!("bad peer line: {line}"))),
                }
            })
            .collect()
    }
}

/// The value of `key` among a peer's figures.
pub(crate) fn get(figures: &[(String, f64)], key: &str) -> io::Result<f64> {
    figures
        .iter()
        .find(|(k, _)| k == key)
        .map(|&(_, v)| v)
        .ok_or_else(|| io::Error::other(format!("the peer did not report {key}")))
}

/// Parse argument `i` of a peer's command line.
pub(crate) fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> io::Result<T> {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| io::Error::other(format!("net-peer: missing or bad {what}")))
}

/// `net-peer <workload> ...`: pin to the load CPU and run the workload's client.
///
/// # Errors
/// Fails for an unknown workload or a failing client.
pub(crate) fn peer(args: &[String]) -> io::Result<()> {
    proc::pin_to_cpu(crate::LOAD_CPU % proc::cpus())?;
    let rest = args.get(1..).unwrap_or(&[]);
    match args.first().map(String::as_str) {
        Some("udp") => super::udp::peer(rest),
        Some("unix") => super::unix::peer(rest),
        Some("sendfile") => super::sendfile::peer(rest),
        _ => Err(io::Error::other("net-peer: unknown workload")),
    }
}
