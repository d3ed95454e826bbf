//! `ember::io::{stdin, stdout, stderr}` in a child process (this test
//! binary run again with `EMBER_STDIO_CHILD` set), whose standard streams
//! the parent controls: a pipe on stdin is read on the reactor without
//! touching fd 0's flags, a file or /dev/null on the blocking pool, and
//! concurrent `write_all`s never interleave with each other or with
//! `println!`.

mod util;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use util::{random_bytes, watchdog};

const CHILD: &str = "EMBER_STDIO_CHILD";
const BEGIN: &[u8] = b"<<<BEGIN\n";
const END: &[u8] = b">>>END\n";

/// Whether fd 0's open file description has `O_NONBLOCK`, from
/// /proc/self/fdinfo (flags in octal).
fn fd0_nonblocking() -> bool {
    let info = std::fs::read_to_string("/proc/self/fdinfo/0").unwrap_or_default();
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .unwrap_or(0);
    flags & libc::O_NONBLOCK as u32 != 0
}

/// The child's side; a no-op when this binary runs as the test suite.
#[test]
fn child() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let result = match mode.as_str() {
        "echo" => echo(),
        "interleave" => interleave(),
        other => panic!("unknown child mode {other}"),
    };
    if let Err(e) = result {
        eprintln!("child failed: {e}");
        std::process::exit(1);
    }
    // Before the test harness prints its verdict on stdout.
    std::process::exit(0);
}

/// Copies stdin to stdout between markers; reports on stderr how stdin was
/// read and whether fd 0 was left non-blocking.
fn echo() -> std::io::Result<()> {
    ember::block_on(async {
        let mut input = ember::io::stdin();
        let mut data = Vec::new();
        input.read_to_end(&mut data).await?;
        let mut out = ember::io::stdout();
        out.write_all(BEGIN).await?;
        for chunk in data.chunks(50_000) {
            out.write_all(chunk).await?;
        }
        out.write_all(END).await?;
        out.flush().await?;
        let mut err = ember::io::stderr();
        let report = format!("{input:?} fd0_nonblocking={}\n", fd0_nonblocking());
        err.write_all(report.as_bytes()).await?;
        err.flush().await
    })
}

/// Lines of 100 kB of one letter each: 8 tasks on a multi-thread runtime
/// with a handle each, and a std thread with `println!`, all at once.
fn interleave() -> std::io::Result<()> {
    let rt = ember::Builder::new_multi_thread()
        .worker_threads(2)
        .build()?;
    rt.block_on(async {
        let mut out = ember::io::stdout();
        out.write_all(BEGIN).await?;
        out.flush().await?;
        let printer = std::thread::spawn(|| {
            for _ in 0..20 {
                println!("{}", "z".repeat(99_999));
            }
        });
        let tasks: Vec<_> = (b'a'..b'a' + 8)
            .map(|letter| {
                ember::spawn(async move {
                    let mut out = ember::io::stdout();
                    let mut line = vec![letter; 100_000];
                    line[99_999] = b'\n';
                    for _ in 0..20 {
                        out.write_all(&line).await?;
                    }
                    out.flush().await
                })
            })
            .collect();
        for task in tasks {
            task.await.map_err(std::io::Error::other)??;
        }
        printer
            .join()
            .map_err(|_| std::io::Error::other("printer panicked"))?;
        out.write_all(END).await?;
        out.flush().await
    })
}

/// Runs the child in `mode` with `stdin`, feeding it `input` if piped.
fn run_child(mode: &str, stdin: Stdio, input: Option<Vec<u8>>) -> Output {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    let feeder = input.map(|input| {
        let mut pipe = child.stdin.take().expect("piped stdin");
        std::thread::spawn(move || pipe.write_all(&input))
    });
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
    let start = stdout
        .windows(BEGIN.len())
        .position(|w| w == BEGIN)
        .expect("begin marker")
        + BEGIN.len();
    let end = stdout
        .windows(END.len())
        .rposition(|w| w == END)
        .expect("end marker");
    &stdout[start..end]
}

#[test]
fn a_pipe_on_stdin_is_read_on_the_reactor_without_touching_fd_0() {
    let _guard = watchdog(Duration::from_secs(60));
    let input = random_bytes(1, 1_000_000);
    let output = run_child("echo", Stdio::piped(), Some(input.clone()));
    assert!(
        between_markers(&output.stdout) == input,
        "stdin was not echoed intact"
    );
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(report.contains("reactor"), "{report}");
    assert!(report.contains("fd0_nonblocking=false"), "{report}");
}

#[test]
fn a_file_on_stdin_is_read_on_the_blocking_pool() {
    let _guard = watchdog(Duration::from_secs(60));
    let path = std::env::temp_dir().join(format!("ember-stdio-{}", std::process::id()));
    let input = random_bytes(2, 3_000_000);
    std::fs::write(&path, &input).expect("write the input file");
    let file = std::fs::File::open(&path).expect("open the input file");
    let output = run_child("echo", Stdio::from(file), None);
    let _ = std::fs::remove_file(&path);
    assert!(
        between_markers(&output.stdout) == input,
        "stdin was not echoed intact"
    );
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(report.contains("blocking pool"), "{report}");
}

#[test]
fn dev_null_on_stdin_reads_nothing() {
    let _guard = watchdog(Duration::from_secs(60));
    let output = run_child("echo", Stdio::null(), None);
    assert!(between_markers(&output.stdout).is_empty());
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(report.contains("blocking pool"), "{report}");
}

#[test]
fn concurrent_write_alls_and_println_never_interleave() {
    let _guard = watchdog(Duration::from_secs(60));
    let output = run_child("interleave", Stdio::null(), None);
    let mut counts = std::collections::BTreeMap::new();
    for line in between_markers(&output.stdout).split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        assert_eq!(line.len(), 99_999, "a line was cut or joined");
        assert!(
            line.iter().all(|&b| b == line[0]),
            "two writers' bytes interleaved in one line"
        );
        *counts.entry(line[0]).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 9, "{counts:?}");
    assert!(counts.values().all(|&n| n == 20), "{counts:?}");
}
