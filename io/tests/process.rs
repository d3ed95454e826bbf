//! Child processes on a bare reactor: the exit watchers (pidfd and the
//! SIGCHLD fallback, every test runs with both), the cancel safety of
//! `wait`, orphans of a dropped runtime, the pipes' close and hand-over
//! semantics. Orphans reaped by their own reactor are in
//! `process_orphans.rs`, alone in their binary.
//!
//! Real children (`cat`, `sh`, `true`): a wait is bounded by the child's
//! exit, which each test causes itself (by closing its input or killing
//! it); `block_on` aborts a test still pending after 20 s.

mod process_util;
mod util;

use std::future::{poll_fn, Future};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use ember_io::process::{Child, Command, Stdio};
use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use process_util::{command, pidfds_work, until_reaped, yield_now, Reaper, REAPERS};
use util::{assert_error_kind, assert_same_bytes, block_on, child, join_independent, pattern, run};

#[test]
fn cat_round_trips_1_mib_through_its_pipes() {
    for reaper in REAPERS {
        run(async move {
            let data = pattern(1 << 20, 9);
            let mut cat = command("cat", reaper)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let mut stdin = cat.stdin.take().expect("piped");
            let mut stdout = cat.stdout.take().expect("piped");
            let mut echoed = Vec::new();
            join_independent(vec![
                child(async {
                    stdin.write_all(&data).await?;
                    stdin.close().await
                }),
                child(async {
                    stdout.read_to_end(&mut echoed).await?;
                    Ok(())
                }),
            ])
            .await?;
            assert_same_bytes(&echoed, &data);
            assert!(cat.wait().await?.success(), "{reaper:?}");
            Ok(())
        });
    }
}

#[test]
fn the_default_watcher_is_a_pidfd_where_the_kernel_has_them() {
    run(async {
        let mut auto = Command::new("true").spawn()?;
        let mut forced = command("true", Reaper::Sigchld).spawn()?;
        let uses_pidfd = ember_io::process::__private::uses_pidfd;
        assert_eq!(uses_pidfd(&auto), pidfds_work());
        assert!(!uses_pidfd(&forced));
        auto.wait().await?;
        forced.wait().await?;
        Ok(())
    });
}

#[test]
fn wait_reports_exit_codes_and_signals() {
    for reaper in REAPERS {
        run(async move {
            let status = command("sh", reaper)
                .args(["-c", "exit 3"])
                .status()
                .await?;
            assert_eq!(status.code(), Some(3), "{reaper:?}");
            assert!(command("true", reaper).status().await?.success());
            let status = command("sh", reaper)
                .args(["-c", "kill -KILL $$"])
                .status()
                .await?;
            assert_eq!(status.signal(), Some(libc::SIGKILL), "{reaper:?}");
            Ok(())
        });
    }
}

#[test]
fn wait_is_cancel_safe_and_repeatable() {
    for reaper in REAPERS {
        run(async move {
            let mut cat = command("cat", reaper).stdin(Stdio::piped()).spawn()?;
            let stdin = cat.stdin.take().expect("piped");
            {
                // `cat` waits for its input: the first poll cannot finish.
                let mut wait = pin!(cat.wait());
                let first = poll_fn(|cx| Poll::Ready(wait.as_mut().poll(cx))).await;
                assert!(first.is_pending(), "{reaper:?}: {first:?}");
            }
            assert_eq!(cat.try_wait()?, None);
            drop(stdin);
            let status = cat.wait().await?;
            assert!(status.success(), "{reaper:?}");
            // Collected once, reported forever.
            assert_eq!(cat.wait().await?, status);
            assert_eq!(cat.try_wait()?, Some(status));
            assert_eq!(cat.id(), None);
            // Nothing to kill any more.
            cat.start_kill()?;
            Ok(())
        });
    }
}

#[test]
fn kill_ends_a_child_that_would_never_exit() {
    for reaper in REAPERS {
        run(async move {
            let mut cat = command("cat", reaper).stdin(Stdio::piped()).spawn()?;
            // Keep its input open: only the kill can end it.
            let _stdin = cat.stdin.take();
            cat.kill().await?;
            let status = cat.wait().await?;
            assert_eq!(status.signal(), Some(libc::SIGKILL), "{reaper:?}");
            Ok(())
        });
    }
}

#[test]
fn output_reads_both_pipes_at_once() {
    // 1 MiB to stderr *before* 1 MiB to stdout: reading stdout to its end
    // first would leave the child blocked on a full stderr pipe forever.
    let script =
        "head -c 1048576 /dev/zero | tr '\\0' e >&2; head -c 1048576 /dev/zero | tr '\\0' o";
    for reaper in REAPERS {
        run(async move {
            let output = command("sh", reaper).args(["-c", script]).output().await?;
            assert!(output.status.success(), "{reaper:?}: {:?}", output.status);
            assert_eq!(output.stdout.len(), 1 << 20);
            assert_eq!(output.stderr.len(), 1 << 20);
            assert!(output.stdout.iter().all(|&b| b == b'o'));
            assert!(output.stderr.iter().all(|&b| b == b'e'));
            Ok(())
        });
    }
}

#[test]
fn output_gives_an_empty_stdin_and_leaves_spawn_inheriting() {
    run(async {
        let mut cat = Command::new("cat");
        // `cat` reads /dev/null: done at once, nothing echoed.
        let output = cat.output().await?;
        assert!(output.status.success());
        assert!(output.stdout.is_empty());
        // `output` did not pipe stdout for `spawn`: nothing to take.
        cat.stdin(Stdio::null());
        let mut child = cat.spawn()?;
        assert!(child.stdout.is_none() && child.stderr.is_none());
        assert!(child.wait().await?.success());
        Ok(())
    });
}

#[test]
fn an_orphan_whose_runtime_is_gone_is_reaped_by_the_next_process_operation() {
    for reaper in REAPERS {
        // Spawned in one runtime, dropped after that runtime is gone.
        let (cat, pid): (Child, u32) = block_on(async {
            let cat = command("cat", reaper).stdin(Stdio::piped()).spawn()?;
            let pid = cat.id().expect("running");
            io::Result::Ok((cat, pid))
        })
        .expect("spawn cat");
        // Closing its stdin (a field) makes it exit; nothing watches it.
        drop(cat);
        // Another runtime's process operations sweep the orphan list.
        run(async move {
            until_reaped(pid, || async {
                let status = Command::new("true").status().await;
                assert!(status.expect("run true").success());
            })
            .await;
            Ok(())
        });
    }
}

#[test]
fn stdin_refuses_writes_after_close_and_to_an_exited_child() {
    for reaper in REAPERS {
        run(async move {
            let mut child = command("true", reaper).stdin(Stdio::piped()).spawn()?;
            let mut stdin = child.stdin.take().expect("piped");
            // Not `wait`, which would close stdin: poll until it exits.
            while child.try_wait()?.is_none() {
                yield_now().await;
            }
            // A child another test is spawning right now holds a copy of
            // the read end between its fork and its exec: until then the
            // write may still succeed.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match stdin.write(b"x").await {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => break,
                    Ok(_) if Instant::now() < deadline => yield_now().await,
                    other => panic!("{reaper:?}: expected BrokenPipe, got {other:?}"),
                }
            }
            stdin.close().await?;
            stdin.close().await?;
            assert_error_kind(stdin.write(b"x").await, io::ErrorKind::BrokenPipe);
            Ok(())
        });
    }
}

#[test]
fn a_pipe_handed_to_another_child_is_blocking_again() {
    run(async {
        let mut first = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut input = first.stdin.take().expect("piped");
        let middle = Stdio::try_from(first.stdout.take().expect("piped"))?;
        // `wc` reads the pipe at once, before `cat` has anything for it: a
        // non-blocking pipe would make that read fail with EAGAIN.
        let counted = Command::new("wc").arg("-c").stdin(middle).output();
        input.write_all(b"hello").await?;
        input.close().await?;
        let output = counted.await?;
        assert!(output.status.success(), "{output:?}");
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "5");
        assert!(first.wait().await?.success());
        Ok(())
    });
}

#[test]
fn spawn_errors_are_std_s() {
    run(async {
        let missing = Command::new("ember-no-such-program").spawn();
        assert_error_kind(missing, io::ErrorKind::NotFound);

        let path = std::env::temp_dir().join(format!("ember-not-exec-{}", std::process::id()));
        std::fs::write(&path, "#!/bin/sh\n")?;
        let denied = Command::new(&path).spawn();
        std::fs::remove_file(&path)?;
        assert_error_kind(denied, io::ErrorKind::PermissionDenied);
        Ok(())
    });
}

#[test]
fn spawn_outside_a_runtime_panics() {
    let panic = std::panic::catch_unwind(|| Command::new("true").spawn())
        .expect_err("no runtime, no child");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("no ember runtime"), "{message}");
}

#[test]
fn the_process_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Command>();
    assert_send_sync::<Child>();
    assert_send_sync::<ember_io::process::ChildStdin>();
    assert_send_sync::<ember_io::process::ChildStdout>();
    assert_send_sync::<ember_io::process::ChildStderr>();
}
