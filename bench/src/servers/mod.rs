//! The echo servers under test, one per runtime, each the idiomatic accept loop plus
//! one task per connection that reads into a buffer and writes it back.
//!
//! The server process pins itself to CPU 0 before building its runtime (so worker
//! threads inherit the mask); the multi-thread servers of `echo50_mt` (ember and tokio,
//! 2 workers each) instead allow themselves every CPU. Then it binds 127.0.0.1:0, prints `port N`, and then serves
//! while a control thread answers the parent on stdin: `cpu` prints `cpu_ns N` (user +
//! system time of the whole process), `stop` or end of input exits.

mod ember;
mod mio;
mod smol;
mod tokio;

use std::io::{self, BufRead};
use std::net::{Ipv4Addr, TcpListener};

use crate::proc;
use crate::runtimes::Runtime;

/// Size of each connection's read buffer, the same for every server.
pub(crate) const BUF_SIZE: usize = 16 * 1024;

/// The CPU every server (and micro-workload process) runs on.
pub(crate) const SERVER_CPU: usize = 0;

/// Run the echo server for `rt` until the parent says stop.
///
/// # Errors
/// Fails when the CPU cannot be pinned, the port cannot be bound, or the runtime fails.
pub(crate) fn run(rt: Runtime, multi: bool) -> io::Result<()> {
    if multi {
        proc::unpin()?;
    } else {
        proc::pin_to_cpu(SERVER_CPU)?;
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    println!("port {}", listener.local_addr()?.port());
    std::thread::Builder::new()
        .name("control".into())
        .spawn(control)?;
    match rt {
        Runtime::Ember if multi => ember::serve(listener, crate::runtimes::ember_mt()?),
        Runtime::Ember => ember::serve(listener, crate::runtimes::ember()?),
        Runtime::TokioMt if multi => {
            let rt = crate::runtimes::tokio_mt_workers()?;
            rt.block_on(tokio::serve(listener))
        }
        _ if multi => Err(io::Error::other(format!(
            "{rt} has no multi-thread echo server"
        ))),
        Runtime::TokioCt => {
            let rt = crate::runtimes::tokio_ct()?;
            rt.block_on(tokio::serve(listener))
        }
        Runtime::TokioMt => {
            let rt = crate::runtimes::tokio_mt()?;
            rt.block_on(tokio::serve(listener))
        }
        Runtime::Smol => smol::serve(listener),
        Runtime::Mio => mio::serve(listener),
    }
}

/// Answer the parent's commands on stdin; exit the process on `stop` or end of input.
fn control() {
    for line in io::stdin().lock().lines() {
        match line.as_deref().map(str::trim) {
            Ok("cpu") => match proc::cpu_time() {
                Ok(t) => println!("cpu_ns {}", t.as_nanos()),
                Err(e) => println!("error {e}"),
            },
            Ok("stop") | Err(_) => break,
            Ok(_) => {}
        }
    }
    std::process::exit(0);
}
