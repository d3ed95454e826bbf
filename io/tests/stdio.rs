//! `ember_io::stdio` on a bare reactor, in a child process (this test binary
//! run again with `EMBER_STDIO_CHILD` set) whose stdin the parent chooses:
//! a pipe is read through the reactor without touching fd 0's flags,
//! /dev/null through the blocking offload (inline here).

mod util;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use util::{assert_same_bytes, block_on, pattern};

const CHILD: &str = "EMBER_STDIO_CHILD";
const BEGIN: &[u8] = b"<<<BEGIN\n";
const END: &[u8] = b">>>END\n";

/// Whether fd 0's open file description has `O_NONBLOCK` (from
/// /proc/self/fdinfo, flags in octal).
fn fd0_nonblocking() -> bool {
    let info = std::fs::read_to_string("/proc/self/fdinfo/0").unwrap_or_default();
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .unwrap_or(0);
    flags & libc::O_NONBLOCK as u32 != 0
}

/// The child's side: copies stdin to stdout between markers and reports on
/// stderr. A no-op when this binary runs as the test suite.
#[test]
fn child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let result = block_on(async {
        let mut input = ember_io::stdio::stdin();
        let mut data = Vec::new();
        input.read_to_end(&mut data).await?;
        let mut out = ember_io::stdio::stdout();
        out.write_all(BEGIN).await?;
        out.write_all(&data).await?;
        out.write_all(END).await?;
        out.close().await?;
        let report = format!("{input:?} fd0_nonblocking={}\n", fd0_nonblocking());
        let mut err = ember_io::stdio::stderr();
        err.write_all(report.as_bytes()).await?;
        err.close().await
    });
    if let Err(e) = result {
        eprintln!("child failed: {e}");
        std::process::exit(1);
    }
    // Before the test harness prints its verdict on stdout.
    std::process::exit(0);
}

/// Runs the child with `stdin`, feeding it `input` if piped.
fn run_child(stdin: Stdio, input: Option<Vec<u8>>) -> Output {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    let feeder = input.map(|input| {
        let mut pipe = child.stdin.take().expect("piped stdin");
        std::thread::spawn(move || pipe.write_all(&input))
    });
    // The child's block_on aborts it after 20 s, so this wait is bounded.
    let output = child.wait_with_output().expect("wait for the child");
    if let Some(feeder) = feeder {
        feeder.join().expect("feeder").expect("feed the child");
    }
    assert!(
        output.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// What the child wrote between the markers.
#[track_caller]
fn between_markers(stdout: &[u8]) -> &[u8] {
    let find = |marker: &[u8]| stdout.windows(marker.len()).position(|w| w == marker);
    let start = find(BEGIN).expect("begin marker") + BEGIN.len();
    let end = stdout
        .windows(END.len())
        .rposition(|w| w == END)
        .expect("end marker");
    &stdout[start..end]
}

#[test]
fn a_pipe_on_stdin_is_read_through_a_private_description() {
    let input = pattern(500_000, 9);
    let output = run_child(Stdio::piped(), Some(input.clone()));
    assert_same_bytes(between_markers(&output.stdout), &input);
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(report.contains("reactor"), "{report}");
    assert!(report.contains("fd0_nonblocking=false"), "{report}");
}

#[test]
fn dev_null_on_stdin_falls_back_to_blocking_reads() {
    let output = run_child(Stdio::null(), None);
    assert!(between_markers(&output.stdout).is_empty());
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(report.contains("blocking pool"), "{report}");
}
