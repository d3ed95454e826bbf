//! 64 children waited on at once, with both exit watchers and on both
//! runtime flavours, while the process's thread count stays small: no
//! thread (and no blocking-pool job) per waiting child.
//!
//! One test, alone in its binary, so that the threads counted are this
//! test's: its own, the watchdog's and its runtime's.

mod util;

use ember::process::{Command, Stdio};
use ember::time::Duration;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use util::{watchdog, Flavor};

const CHILDREN: usize = 64;

/// Well above what the test and a two-worker runtime use (about 6), well
/// below one thread per child.
const THREAD_LIMIT: usize = 16;

/// The process's thread count, from /proc/self/status.
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|count| count.trim().parse().ok())
        .expect("a Threads: line")
}

#[test]
fn sixty_four_children_are_waited_on_with_few_threads() {
    let _guard = watchdog(Duration::from_secs(120));
    for flavor in [Flavor::CurrentThread, Flavor::MultiThread] {
        for sigchld in [false, true] {
            let rt = flavor.builder().build().expect("runtime");
            let most = rt
                .block_on(wait_on_many(sigchld))
                .unwrap_or_else(|e| panic!("{flavor:?}, sigchld {sigchld}: {e}"));
            assert!(
                most < THREAD_LIMIT,
                "{flavor:?}, sigchld {sigchld}: {most} threads while {CHILDREN} children were waited on"
            );
        }
    }
}

/// Spawns `CHILDREN` `cat`s, each waited on by its own task, and counts the
/// threads while every task is waiting; then ends the children and checks
/// every wait. Returns the thread count seen.
async fn wait_on_many(sigchld: bool) -> io::Result<usize> {
    let waiting = Arc::new(AtomicUsize::new(0));
    let mut inputs = Vec::new();
    let mut waits = Vec::new();
    for _ in 0..CHILDREN {
        let mut command = Command::new("cat");
        if sigchld {
            ember::process::__private::use_sigchld(&mut command);
        }
        let mut child = command.stdin(Stdio::piped()).spawn()?;
        // Held here: each `cat` runs until its input is closed.
        inputs.push(child.stdin.take());
        let waiting = Arc::clone(&waiting);
        waits.push(ember::spawn(async move {
            waiting.fetch_add(1, Ordering::SeqCst);
            child.wait().await
        }));
    }
    // Every task has started its wait (and, one yield later, is parked in
    // it); none can finish while the inputs are open.
    while waiting.load(Ordering::SeqCst) < CHILDREN {
        ember::task::yield_now().await;
    }
    ember::task::yield_now().await;
    let during = threads();
    drop(inputs);
    for wait in waits {
        let status = wait.await.expect("wait task")?;
        assert!(status.success(), "{status}");
    }
    Ok(during)
}
