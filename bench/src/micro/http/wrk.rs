//! Running wrk (pinned to the load CPU with taskset) and reading its
//! report.

use std::io;
use std::process::{Command, Stdio};
use std::time::Duration;

/// What a wrk run reports.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Report {
    /// Completed requests.
    pub(super) requests: f64,
    /// Requests per second.
    pub(super) req_per_s: f64,
    /// Latency percentiles, in microseconds.
    pub(super) p50_us: f64,
    pub(super) p99_us: f64,
    /// Socket errors (connect, read, write, timeout) and non-2xx/3xx answers.
    pub(super) errors: f64,
}

/// Whether `wrk` and `taskset` can run here.
pub(super) fn available() -> bool {
    let runs = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    // wrk has no --version; `-v` prints its version (and exits non-zero).
    runs("wrk", "-v") && runs("taskset", "-V")
}

/// `wrk -t1 -c<conns> -d<secs> --latency` against 127.0.0.1:`port`, on
/// CPU `cpu`.
///
/// # Errors
/// Fails when wrk cannot run, fails, or prints a report this cannot read.
pub(super) fn run(port: u16, conns: usize, secs: Duration, cpu: usize) -> io::Result<Report> {
    let out = Command::new("taskset")
        .args(["-c", &cpu.to_string(), "wrk", "-t1"])
        .arg(format!("-c{conns}"))
        .arg(format!("-d{}s", secs.as_secs().max(1)))
        .args(["--timeout", "10s", "--latency"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .stdin(Stdio::null())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "wrk failed: {}{}",
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    parse(&text).ok_or_else(|| io::Error::other(format!("unreadable wrk report:\n{text}")))
}

/// A wrk duration (`512.34us`, `1.20ms`, `2.00s`, `1.00m`) in microseconds.
fn micros(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (value, unit) = text.split_at(split);
    let value: f64 = value.parse().ok()?;
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return None,
    };
    Some(value * scale)
}

/// The figures of a wrk report (see the test for its shape).
fn parse(text: &str) -> Option<Report> {
    let mut report = Report::default();
    let (mut have_requests, mut have_rate, mut have_p99) = (false, false, false);
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => report.p50_us = micros(value)?,
            ["99%", value] => {
                report.p99_us = micros(value)?;
                have_p99 = true;
            }
            [count, "requests", "in", ..] => {
                report.requests = count.parse().ok()?;
                have_requests = true;
            }
            ["Requests/sec:", rate] => {
                report.req_per_s = rate.parse().ok()?;
                have_rate = true;
            }
            ["Socket", "errors:", rest @ ..] => {
                // connect N, read N, write N, timeout N
                report.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<f64>().ok())
                    .sum::<f64>();
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => report.errors += n.parse::<f64>().ok()?,
            _ => {}
        }
    }
    (have_requests && have_rate && have_p99).then_some(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 3s test @ http://127.0.0.1:40001/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.34us  100.00us   5.00ms   90.00%
    Req/Sec    98.00k     2.00k  100.00k    80.00%
  Latency Distribution
     50%  500.00us
     75%  550.00us
     90%  600.00us
     99%    1.20ms
  294000 requests in 3.00s, 35.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:  98000.00
Transfer/sec:     11.67MB
";

    #[test]
    fn reads_a_wrk_report() {
        let report = parse(REPORT).expect("a valid report");
        assert_eq!(report.requests, 294000.0);
        assert_eq!(report.req_per_s, 98000.0);
        assert_eq!(report.p50_us, 500.0);
        assert_eq!(report.p99_us, 1200.0);
        assert_eq!(report.errors, 3.0);
    }

    #[test]
    fn rejects_a_report_without_latency_distribution() {
        let cut: String = REPORT
            .lines()
            .filter(|l| !l.contains('%') || l.contains("Stdev"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse(&cut).is_none());
        assert_eq!(micros("2.00s"), Some(2e6));
        assert_eq!(micros("12"), None);
    }
}
