//! Accepting while the process is out of file descriptors: the error is
//! returned to the caller (no panic, no busy loop), and accepting works again
//! once a descriptor is freed.
//!
//! The test re-runs itself in a child process with a small `ulimit -n`, so
//! running out of descriptors cannot disturb other tests.

mod util;

use std::fs::File;
use std::io;
use std::process::Command;

use ember_io::net::TcpListener;
use util::run;

const CHILD_ENV: &str = "EMBER_IO_EMFILE_CHILD";
const TEST_NAME: &str = "accept_reports_emfile_and_recovers";

#[test]
fn accept_reports_emfile_and_recovers() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child_body();
    }
    let exe = std::env::current_exe().expect("path of the test binary");
    let output = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 64 && exec "$0" "$@""#)
        .arg(exe)
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("run the test binary under ulimit");
    assert!(
        output.status.success(),
        "the child failed: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

fn child_body() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        // A blocking std client: on loopback the connection is queued on the
        // listener at once.
        let _client = std::net::TcpStream::connect(listener.local_addr()?)?;

        // Use up every descriptor the limit allows.
        let mut hoard = Vec::new();
        let exhausted = loop {
            match File::open("/dev/null") {
                Ok(file) => hoard.push(file),
                Err(e) => break e,
            }
            assert!(hoard.len() < 1_000, "the descriptor limit is not in force");
        };
        assert_eq!(exhausted.raw_os_error(), Some(libc::EMFILE), "{exhausted}");

        // The pending connection cannot be accepted: the error comes back,
        // twice in a row (the caller decides what to do; nothing spins).
        for _ in 0..2 {
            match listener.accept().await {
                Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}"),
                Ok(_) => panic!("accepted a connection with no descriptor left"),
            }
        }

        // Free a descriptor: the same connection is accepted.
        drop(hoard.pop());
        let (stream, peer) = listener.accept().await?;
        assert_eq!(stream.peer_addr()?, peer);
        drop(hoard);
        Ok::<(), io::Error>(())
    });
}
