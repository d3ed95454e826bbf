//! memory: resident-set growth (1) per idle connection whose task waits in `read`, and
//! (2) per idle spawned task. RSS is read from /proc/self/statm before and after, once
//! every task has been polled at least once (a shared counter says so), and divided by
//! the count. The client side of the connections lives in a separate `hold` process
//! (pinned to the other CPU), so its sockets are neither in this RSS nor in this fd table.

use std::future::{pending, Future};
use std::io::{self, BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_executor::LocalExecutor;
use async_io::{Async, Timer};
use socket2::{Domain, Protocol, Socket, Type};

use super::{not_applicable, Metrics};
use crate::proc::rss_bytes;
use crate::runtimes::{self, Runtime};

/// Idle connections (full run / quick run). The fd limit here is 20000 per process.
const CONNS: usize = 10_000;
const QUICK_CONNS: usize = 2_000;
/// Idle tasks (full run / quick run).
const TASKS: usize = 100_000;
const QUICK_TASKS: usize = 20_000;
/// The listener's accept-queue length asked for (the kernel caps it at
/// `net.core.somaxconn`, 4096 by default).
const BACKLOG: i32 = 4096;
/// How long to wait between checks of the "everyone has been polled" counter.
const SETTLE: Duration = Duration::from_millis(5);
/// The read buffer of an idle connection's task (small, so the runtime's own cost shows).
const IDLE_BUF: usize = 64;

/// Run the workload on `rt`.
pub(crate) fn run(rt: Runtime, quick: bool) -> io::Result<Metrics> {
    let conns = if quick { QUICK_CONNS } else { CONNS };
    let tasks = if quick { QUICK_TASKS } else { TASKS };
    let conn_bytes = match rt {
        Runtime::Ember => runtimes::ember()?.block_on(ember_conns(conns))?,
        Runtime::TokioCt => runtimes::tokio_ct()?.block_on(tokio_conns(conns))?,
        Runtime::TokioMt => runtimes::tokio_mt()?.block_on(tokio_conns(conns))?,
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            async_io::block_on(ex.run(smol_conns(&ex, conns)))?
        }
        _ => return Err(not_applicable(rt)),
    };
    // A fresh runtime for the task figure, so the connection run's memory is not reused.
    let task_bytes = match rt {
        Runtime::Ember => runtimes::ember()?.block_on(idle_tasks(
            tasks,
            |c| drop(ember::spawn(idle(c))),
            ember::time::sleep,
        ))?,
        Runtime::TokioCt => runtimes::tokio_ct()?.block_on(idle_tasks(
            tasks,
            |c| drop(tokio::spawn(idle(c))),
            tokio::time::sleep,
        ))?,
        Runtime::TokioMt => runtimes::tokio_mt()?.block_on(idle_tasks(
            tasks,
            |c| drop(tokio::spawn(idle(c))),
            tokio::time::sleep,
        ))?,
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            async_io::block_on(ex.run(idle_tasks(
                tasks,
                |c| ex.spawn(idle(c)).detach(),
                Timer::after,
            )))?
        }
        _ => return Err(not_applicable(rt)),
    };
    Ok(vec![
        ("bytes_per_conn", conn_bytes),
        ("bytes_per_task", task_bytes),
    ])
}

/// A task that says it has run, then never completes.
async fn idle(started: Arc<AtomicUsize>) {
    started.fetch_add(1, Ordering::Relaxed);
    pending::<()>().await;
}

/// RSS growth per task for `n` idle spawned tasks.
async fn idle_tasks<S: Future>(
    n: usize,
    spawn: impl Fn(Arc<AtomicUsize>),
    sleep: impl Fn(Duration) -> S,
) -> io::Result<f64> {
    let started = Arc::new(AtomicUsize::new(0));
    let before = rss_bytes()?;
    for _ in 0..n {
        spawn(started.clone());
    }
    while started.load(Ordering::Relaxed) < n {
        sleep(SETTLE).await;
    }
    let after = rss_bytes()?;
    Ok(after.saturating_sub(before) as f64 / n as f64)
}

/// Start the `hold` process that opens `n` connections to `port`.
fn spawn_holder(port: u16, n: usize) -> io::Result<Child> {
    Command::new(std::env::current_exe()?)
        .args(["hold", &port.to_string(), &n.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
}

/// Wait for the holder to report that it holds all its connections.
fn wait_held(holder: &mut Child) -> io::Result<()> {
    let stdout = holder
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("holder has no stdout"))?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    if line.starts_with("held") {
        Ok(())
    } else {
        Err(io::Error::other("the holder process failed to connect"))
    }
}

/// Close the holder's stdin so it exits, and reap it.
fn stop_holder(mut holder: Child) -> io::Result<()> {
    drop(holder.stdin.take());
    holder.wait()?;
    Ok(())
}

/// A bound std listener and the RSS before any connection exists.
///
/// Its accept queue holds [`BACKLOG`] connections, not std's 128: the holder counts a
/// connection as made when its handshake completes, which is before the server accepts
/// it, so with 128 the queue overflowed whenever the server fell a little behind, the
/// kernel dropped the handshake's last ACK, and each such connection waited for the
/// server's SYN-ACK to be resent a second later (seconds per run, nothing measured).
/// The queue is kernel memory, not the server's RSS, so the figure does not change.
fn listen() -> io::Result<(TcpListener, u16, u64)> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
    socket.listen(BACKLOG)?;
    let listener = TcpListener::from(socket);
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    Ok((listener, port, rss_bytes()?))
}

/// RSS growth per connection with tokio: one task per connection parked in `read`.
async fn tokio_conns(n: usize) -> io::Result<f64> {
    use tokio::io::AsyncReadExt as _;
    let (listener, port, before) = listen()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let started = Arc::new(AtomicUsize::new(0));
    let mut holder = spawn_holder(port, n)?;
    for _ in 0..n {
        let (mut stream, _) = listener.accept().await?;
        let started = started.clone();
        tokio::spawn(async move {
            let mut buf = [0_u8; IDLE_BUF];
            started.fetch_add(1, Ordering::Relaxed);
            let _ = stream.read(&mut buf).await;
        });
    }
    while started.load(Ordering::Relaxed) < n {
        tokio::time::sleep(SETTLE).await;
    }
    let after = rss_bytes()?;
    wait_held(&mut holder)?;
    stop_holder(holder)?;
    Ok(after.saturating_sub(before) as f64 / n as f64)
}

/// RSS growth per connection with smol: one task per connection parked in `read`.
async fn smol_conns(ex: &LocalExecutor<'_>, n: usize) -> io::Result<f64> {
    use futures_lite::AsyncReadExt as _;
    let (listener, port, before) = listen()?;
    let listener = Async::new(listener)?;
    let started = Arc::new(AtomicUsize::new(0));
    let mut holder = spawn_holder(port, n)?;
    for _ in 0..n {
        let (mut stream, _) = listener.accept().await?;
        let started = started.clone();
        ex.spawn(async move {
            let mut buf = [0_u8; IDLE_BUF];
            started.fetch_add(1, Ordering::Relaxed);
            let _ = stream.read(&mut buf).await;
        })
        .detach();
    }
    while started.load(Ordering::Relaxed) < n {
        Timer::after(SETTLE).await;
    }
    let after = rss_bytes()?;
    wait_held(&mut holder)?;
    stop_holder(holder)?;
    Ok(after.saturating_sub(before) as f64 / n as f64)
}

/// RSS growth per connection with ember: one task per connection parked in `read`.
async fn ember_conns(n: usize) -> io::Result<f64> {
    use ember::io::AsyncReadExt as _;
    let (listener, port, before) = listen()?;
    let listener = ember::net::TcpListener::from_std(listener)?;
    let started = Arc::new(AtomicUsize::new(0));
    let mut holder = spawn_holder(port, n)?;
    for _ in 0..n {
        let (mut stream, _) = listener.accept().await?;
        let started = started.clone();
        drop(ember::spawn(async move {
            let mut buf = [0_u8; IDLE_BUF];
            started.fetch_add(1, Ordering::Relaxed);
            let _ = stream.read(&mut buf).await;
        }));
    }
    while started.load(Ordering::Relaxed) < n {
        ember::time::sleep(SETTLE).await;
    }
    let after = rss_bytes()?;
    wait_held(&mut holder)?;
    stop_holder(holder)?;
    Ok(after.saturating_sub(before) as f64 / n as f64)
}
