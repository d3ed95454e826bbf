//! Signals: one real SIGUSR1, from a real `kill` process, reaches every
//! stream that asked for it, in one runtime and in another.
//!
//! This file is its own test binary, so no other test shares its signal
//! dispositions. Its two instances (one per flavour) may run at once; each
//! only asserts that its own streams hear SIGUSR1, which holds whichever
//! instance sent it.

mod util;

use ember::signal::{Signals, SIGUSR1, SIGUSR2};
use std::process::Command;
use std::time::Duration;
use util::watchdog;

fn send_to_self(signal: &str) {
    let status = Command::new("kill")
        .args([signal, &std::process::id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

per_flavor! {
    #[test]
    fn one_sigusr1_reaches_two_streams_in_two_runtimes() {
        let _guard = watchdog(Duration::from_secs(30));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let other_runtime = std::thread::spawn(move || {
            block_on(async {
                let mut signals = Signals::new([SIGUSR1]).unwrap();
                ready_tx.send(()).unwrap();
                signals.recv().await
            })
        });
        block_on(async {
            let mut first = Signals::new([SIGUSR1, SIGUSR2]).unwrap();
            let mut second = Signals::new([SIGUSR1]).unwrap();
            // Every stream is registered before the signal is sent.
            ready_rx.recv().unwrap();
            send_to_self("-USR1");
            assert_eq!(first.recv().await, Some(SIGUSR1));
            assert_eq!(second.recv().await, Some(SIGUSR1));
        });
        assert_eq!(other_runtime.join().unwrap(), Some(SIGUSR1));
    }
}
