//! Child processes through the facade, on both runtime flavours and with
//! both exit watchers (pidfd and the SIGCHLD fallback): pipes, exit codes,
//! `output`, `wait` under a timeout then `kill`, `kill_on_drop`, spawn
//! errors, and the example that streams a child's output line by line.
//!
//! Every wait is bounded by the child's exit, which each test causes (by
//! closing its input or killing it), and every test by a watchdog.

mod util;

#[allow(dead_code)]
#[path = "../examples/child_lines.rs"]
mod child_lines_example;

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::process::{Command, Stdio};
use ember::time::{timeout, Duration};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::time::Instant;
use util::{random_bytes, watchdog};

/// The two ways of watching a child's exit.
#[derive(Clone, Copy, Debug)]
enum Reaper {
    Pidfd,
    Sigchld,
}

const REAPERS: [Reaper; 2] = [Reaper::Pidfd, Reaper::Sigchld];

/// `Command::new(program)`, watched by `reaper`.
fn command(program: &str, reaper: Reaper) -> Command {
    let mut command = Command::new(program);
    if let Reaper::Sigchld = reaper {
        ember::process::__private::use_sigchld(&mut command);
    }
    command
}

/// Whether `pid` is still a child of this process (running or a zombie),
/// from /proc; a reused pid belongs to someone else's child.
fn is_our_child(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    let Some(close) = stat.rfind(')') else {
        return false;
    };
    let ppid = stat[close + 1..].split_whitespace().nth(1);
    ppid.and_then(|p| p.parse::<u32>().ok()) == Some(std::process::id())
}

per_flavor! {
    #[test]
    fn cat_round_trips_1_mib_through_piped_stdin_and_stdout() {
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            for reaper in REAPERS {
                let data = random_bytes(42, 1 << 20);
                let mut cat = command("cat", reaper)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()?;
                let mut stdin = cat.stdin.take().expect("piped");
                let mut stdout = cat.stdout.take().expect("piped");
                let to_write = data.clone();
                let writer = ember::spawn(async move {
                    stdin.write_all(&to_write).await?;
                    stdin.close().await
                });
                let mut echoed = Vec::with_capacity(data.len());
                stdout.read_to_end(&mut echoed).await?;
                writer.await.expect("writer task")?;
                assert!(echoed == data, "{reaper:?}: cat changed the data");
                assert!(cat.wait().await?.success());
            }
            io::Result::Ok(())
        })
        .expect("round trip");
    }

    #[test]
    fn status_reports_exit_codes_and_signals() {
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            for reaper in REAPERS {
                assert!(command("true", reaper).status().await?.success());
                let failed = command("sh", reaper).args(["-c", "exit 42"]).status().await?;
                assert_eq!(failed.code(), Some(42), "{reaper:?}");
                let killed = command("sh", reaper).args(["-c", "kill -TERM $$"]).status().await?;
                assert_eq!(killed.signal(), Some(libc::SIGTERM), "{reaper:?}");
                assert_eq!(killed.code(), None);
            }
            io::Result::Ok(())
        })
        .expect("statuses");
    }

    #[test]
    fn output_captures_both_streams_without_deadlock() {
        let _guard = watchdog(Duration::from_secs(60));
        // 1 MiB to stderr *before* anything to stdout: a reader that
        // drained stdout first would leave the child blocked on stderr.
        let script = "head -c 1048576 /dev/zero | tr '\\0' e >&2; echo out";
        block_on(async {
            for reaper in REAPERS {
                let output = command("sh", reaper).args(["-c", script]).output().await?;
                assert!(output.status.success(), "{reaper:?}: {:?}", output.status);
                assert_eq!(output.stdout, b"out\n");
                assert_eq!(output.stderr.len(), 1 << 20);
                assert!(output.stderr.iter().all(|&b| b == b'e'));
            }
            io::Result::Ok(())
        })
        .expect("output");
    }

    #[test]
    fn wait_under_a_timeout_then_kill() {
        let _guard = watchdog(Duration::from_secs(60));
        // The paused clock jumps to the deadline as soon as nothing else
        // can happen (a child blocked on its input produces no event). It
        // needs a current-thread runtime; the multi-thread one waits a
        // short real time instead, which changes no outcome: the child
        // cannot exit before it is killed.
        let (rt, limit) = match builder().start_paused(true).build() {
            Ok(rt) => (rt, Duration::from_secs(30)),
            Err(_) => (runtime(), Duration::from_millis(20)),
        };
        rt.block_on(async {
            for reaper in REAPERS {
                let mut cat = command("cat", reaper).stdin(Stdio::piped()).spawn()?;
                // Held open: `cat` never exits on its own.
                let _stdin = cat.stdin.take();
                let waited = timeout(limit, cat.wait()).await;
                assert!(waited.is_err(), "{reaper:?}: cat exited: {waited:?}");
                assert_eq!(cat.try_wait()?, None);
                // The timed-out wait was dropped; kill waits afresh.
                cat.kill().await?;
                let status = cat.wait().await?;
                assert_eq!(status.signal(), Some(libc::SIGKILL), "{reaper:?}");
            }
            io::Result::Ok(())
        })
        .expect("timeout then kill");
    }

    #[test]
    fn kill_on_drop_leaves_no_process_behind() {
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            for reaper in REAPERS {
                let cat = command("cat", reaper)
                    .stdin(Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()?;
                let pid = cat.id().expect("running");
                // Its stdin goes with it, but only the kill ends it at
                // once: check it is there first.
                assert!(is_our_child(pid));
                drop(cat);
                // Killed and reaped in the background: /proc is where it
                // shows. Bounded, not timed: the watchdog is the limit.
                let start = Instant::now();
                while is_our_child(pid) {
                    assert!(
                        start.elapsed() < Duration::from_secs(10),
                        "{reaper:?}: child {pid} still there"
                    );
                    ember::task::yield_now().await;
                }
            }
            io::Result::Ok(())
        })
        .expect("kill on drop");
    }

    #[test]
    fn a_missing_program_is_not_found() {
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let err = Command::new("ember-no-such-program")
                .spawn()
                .expect_err("no such program");
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
            let err = Command::new("/no/such/dir/program").status().await.expect_err("no such program");
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
        });
    }

    #[test]
    fn the_example_streams_a_childs_output_line_by_line() {
        let _guard = watchdog(Duration::from_secs(60));
        block_on(async {
            // `sh` prints a line, then waits for its input to end before
            // it goes on. The callback ends the input when it sees the
            // first line: an example that delivered lines only after the
            // child's exit would wait forever.
            let mut child = Command::new("sh")
                .args(["-c", "echo one; read _ignored; echo two >&2; printf 'three\\r\\nfour'"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()?;
            let mut stdin = child.stdin.take();
            let stdout = child.stdout.take().expect("piped");
            let mut lines = Vec::new();
            let count = child_lines_example::stream_lines(stdout, |number, line| {
                if number == 1 {
                    drop(stdin.take());
                }
                lines.push((number, line.to_owned()));
            })
            .await?;
            assert_eq!(count, 3);
            assert_eq!(
                lines,
                [(1, "one".to_owned()), (2, "three".to_owned()), (3, "four".to_owned())]
            );
            assert!(child.wait().await?.success());
            io::Result::Ok(())
        })
        .expect("example");
    }
}
