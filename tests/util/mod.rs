//! Helpers shared by the integration tests: a watchdog that bounds each test
//! in time, seeded random bytes, and the example echo server.

#![allow(dead_code, unreachable_pub)]

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Aborts the whole test process if the guard is still alive after `limit`:
/// a hung test fails loudly instead of stalling CI. Dropping the guard
/// (test finished, or panicked) disarms it.
#[must_use]
pub struct Watchdog {
    _disarm: mpsc::Sender<()>,
}

#[track_caller]
pub fn watchdog(limit: Duration) -> Watchdog {
    let (tx, rx) = mpsc::channel::<()>();
    let location = std::panic::Location::caller().to_string();
    thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
            eprintln!("test at {location} exceeded its {limit:?} bound; aborting");
            std::process::abort();
        }
    });
    Watchdog { _disarm: tx }
}

/// `len` pseudo-random bytes from a seeded xorshift: reproducible, and
/// unlike a repeating pattern, a misordered chunk cannot compare equal.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A seeded xorshift for random test inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Counts its own drops, to prove every task is dropped exactly once.
pub struct DropCounter(pub std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The runtime flavours every suite runs against.
#[derive(Clone, Copy, Debug)]
pub enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Flavor {
    /// A builder of this flavour (two workers for multi-thread, the
    /// machine's core count here, so stealing and parking really happen).
    pub fn builder(self) -> ember::Builder {
        match self {
            Flavor::CurrentThread => ember::Builder::new_current_thread(),
            Flavor::MultiThread => {
                let mut builder = ember::Builder::new_multi_thread();
                builder.worker_threads(2);
                builder
            }
        }
    }
}

/// Instantiates the tests inside once per runtime flavour, in modules
/// `current_thread` and `multi_thread`. Inside, `builder()` and `runtime()`
/// give a builder and a runtime of the module's flavour, and `block_on(fut)`
/// runs `fut` on a fresh one.
#[macro_export]
macro_rules! per_flavor {
    (@module $module:ident, $flavor:ident, $($item:item)*) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(dead_code)]
            fn builder() -> ember::Builder {
                $crate::util::Flavor::$flavor.builder()
            }
            #[allow(dead_code)]
            fn runtime() -> ember::Runtime {
                builder().build().expect("build the test runtime")
            }
            #[allow(dead_code)]
            fn block_on<F: std::future::Future>(future: F) -> F::Output {
                runtime().block_on(future)
            }
            $($item)*
        }
    };
    // After the internal rule: a rule that starts parsing items cannot
    // back out of it.
    ($($item:item)*) => {
        $crate::per_flavor!(@module current_thread, CurrentThread, $($item)*);
        $crate::per_flavor!(@module multi_thread, MultiThread, $($item)*);
    };
}

/// A connected pair of TCP streams on 127.0.0.1: (client, server side).
pub async fn tcp_pair() -> (ember::net::TcpStream, ember::net::TcpStream) {
    let listener = ember::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("listener address");
    let client = ember::net::TcpStream::connect(addr)
        .await
        .expect("connect to the listener");
    let (server_side, _) = listener.accept().await.expect("accept");
    (client, server_side)
}
