//! An echo server: every byte a client sends comes straight back.
//!
//! ```text
//! cargo run --release --example echo                 # listens on 127.0.0.1:7000
//! cargo run --release --example echo -- [::1]:7001   # or any address
//! ```
//!
//! Try it with `nc 127.0.0.1 7000`. Ctrl-C or SIGTERM stops accepting, drops
//! the open connections with the runtime, and exits with status 0.
//!
//! The integration tests run this file's `serve` and `echo` as they are.

use ember::io::{AsyncReadExt, AsyncWriteExt};
use ember::net::{TcpListener, TcpStream};
use ember::signal::{Signals, SIGINT, SIGTERM};
use ember::time::{sleep, Duration};
use std::io;

#[ember::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    let listener = TcpListener::bind(addr.as_str()).await?;
    // Listen for the shutdown signals before announcing the address, so a
    // supervisor that signals right after reading it is always heard.
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    println!("echo: listening on {}", listener.local_addr()?);

    let server = ember::spawn(serve(listener));
    let signal = signals.recv().await;
    println!("echo: got signal {signal:?}, shutting down");
    server.abort();
    Ok(())
}

/// Accepts connections forever, echoing each one on its own task.
pub(crate) async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                ember::spawn(async move {
                    if let Err(e) = echo(stream).await {
                        eprintln!("echo: connection error: {e}");
                    }
                });
            }
            // Out of file descriptors (EMFILE/ENFILE) or buffers: the
            // connection waits in the backlog; back off instead of spinning
            // on an accept that will fail again at once.
            Err(e) => {
                eprintln!("echo: accept failed: {e}; retrying in 100 ms");
                sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Writes back everything read until the peer half-closes, then closes our
/// write side too.
pub(crate) async fn echo(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return stream.close().await;
        }
        stream.write_all(&buf[..n]).await?;
    }
}
