//! Fairness: a task whose socket is always ready cannot starve a timer.

mod util;

use ember::time::{sleep, Duration};
use futures_util::io::AsyncWriteExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use util::watchdog;

per_flavor! {
    #[test]
    fn an_always_ready_socket_does_not_starve_a_timer() {
        // Without the I/O budget and the scheduler's periodic reactor check,
        // the spinning task below never yields and this test hangs until the
        // watchdog aborts it.
        let _guard = watchdog(Duration::from_secs(30));
        block_on(async {
            let (mut writer, reader) = util::tcp_pair().await;
            writer.write_all(b"always ready").await.unwrap();

            let fired = Arc::new(AtomicBool::new(false));
            let spins = Arc::new(AtomicU64::new(0));
            let spinner = {
                let fired = Arc::clone(&fired);
                let spins = Arc::clone(&spins);
                ember::spawn(async move {
                    // peek never consumes, so the socket stays readable forever.
                    let mut buf = [0u8; 4];
                    while !fired.load(Ordering::SeqCst) {
                        reader.peek(&mut buf).await.unwrap();
                        spins.fetch_add(1, Ordering::Relaxed);
                    }
                })
            };
            let timer = {
                let fired = Arc::clone(&fired);
                ember::spawn(async move {
                    sleep(Duration::from_millis(10)).await;
                    fired.store(true, Ordering::SeqCst);
                })
            };
            timer.await.unwrap();
            spinner.await.unwrap();
            assert!(spins.load(Ordering::Relaxed) > 0, "the spinner never ran");
        });
    }
}
