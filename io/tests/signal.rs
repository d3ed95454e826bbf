//! Real signals, sent by a real `kill` process to this test process.
//!
//! The tests live in their own binary: installing handlers changes
//! process-wide state. They run in parallel threads of one process, so each
//! test uses signals no other test sends.

mod util;

use std::io;
use std::process::Command;
use std::sync::mpsc;

use ember_io::signal::{ctrl_c, Signals, SIGHUP, SIGUSR1, SIGUSR2};
use futures_util::StreamExt;
use util::{block_on, child, join_independent, run};

/// Sends `signal` (a `kill` name such as "USR1") to this process.
fn kill(signal: &str) -> io::Result<()> {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(std::process::id().to_string())
        .status()?;
    assert!(status.success(), "kill -{signal} failed: {status}");
    Ok(())
}

#[test]
fn sigusr1_reaches_every_stream_that_asked() {
    run(async {
        let mut first = Signals::new([SIGUSR1])?;
        let mut second = Signals::new([SIGHUP, SIGUSR1])?;
        kill("USR1")?;
        assert_eq!(first.recv().await, Some(SIGUSR1));
        // Through the `Stream` impl this time.
        assert_eq!(second.next().await, Some(SIGUSR1));

        kill("HUP")?;
        assert_eq!(second.recv().await, Some(SIGHUP));
        Ok(())
    });
}

#[test]
fn streams_in_two_runtimes_both_see_a_signal() {
    let (registered, on_registered) = mpsc::channel::<()>();
    let other = std::thread::spawn(move || {
        block_on(async {
            let mut signals = Signals::new([SIGUSR2])?;
            let _ = registered.send(());
            signals
                .recv()
                .await
                .ok_or_else(|| io::Error::other("stream ended"))
        })
    });
    run(async {
        let mut signals = Signals::new([SIGUSR2])?;
        // Wait (blocking, outside any poll) until the other runtime listens.
        on_registered
            .recv()
            .map_err(|_| io::Error::other("the other runtime failed to register"))?;
        kill("USR2")?;
        assert_eq!(signals.recv().await, Some(SIGUSR2));
        Ok(())
    });
    let got = other.join().expect("the other runtime panicked");
    assert_eq!(got.expect("the other runtime failed"), SIGUSR2);
}

#[test]
fn ctrl_c_completes_on_sigint() {
    run(async {
        join_independent(vec![
            // Polled first: installs the SIGINT handler before the kill.
            child(ctrl_c()),
            child(async { kill("INT") }),
        ])
        .await
    });
}

#[test]
fn forbidden_signals_are_errors() {
    run(async {
        let err = Signals::new([libc::SIGKILL]).expect_err("SIGKILL cannot be handled");
        eprintln!("SIGKILL: {err}");
        Ok(())
    });
}
