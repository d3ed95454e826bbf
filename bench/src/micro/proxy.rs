//! proxy: one TCP connection through a proxy task, `copy_bidirectional` in both
//! directions, to an echo server: throughput and the proxy's CPU per MiB.
//!
//! The measured process is only the proxy (pinned to the server CPU like every micro
//! process): it accepts one connection, connects upstream and runs the runtime's
//! bidirectional copy (ember's and tokio's `copy_bidirectional`; for smol, futures-lite's
//! `copy` each way, joined, with the write side shut down after each). The client and the
//! echo server live in a separate `proxy-peer` process, plain blocking std threads pinned
//! to the load CPU, so none of their work is in the proxy's `getrusage`. The client
//! pushes [`BYTES`] through and reads the echo back at the same time, then half-closes;
//! the half-close travels through the proxy to the echo server and back, which ends both
//! directions. Figures: MiB of client payload per second of the copy's wall time, and
//! the proxy process's user + system CPU time per MiB of payload (each payload MiB
//! crosses the proxy twice: there and back).

use std::future::Future;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::LocalExecutor;
use async_io::Async;

use super::{not_applicable, Metrics};
use crate::proc;
use crate::runtimes::{self, task_failed, Runtime};

/// Payload pushed through the proxy (full run / quick run).
const BYTES: u64 = 512 * MIB;
const QUICK_BYTES: u64 = 32 * MIB;
const MIB: u64 = 1024 * 1024;

/// The peer's socket buffers for reads and writes.
const PEER_CHUNK: usize = 64 * 1024;

/// Run the workload on `rt`.
pub(crate) fn run(rt: Runtime, quick: bool) -> io::Result<Metrics> {
    let bytes = if quick { QUICK_BYTES } else { BYTES };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let mut peer = Command::new(std::env::current_exe()?)
        .args([
            "proxy-peer",
            &listener.local_addr()?.port().to_string(),
            &bytes.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(
        peer.stdout
            .take()
            .ok_or_else(|| io::Error::other("the proxy peer has no stdout"))?,
    )
    .lines();
    let port = lines
        .next()
        .transpose()?
        .and_then(|line| line.strip_prefix("port ")?.trim().parse::<u16>().ok())
        .ok_or_else(|| io::Error::other("the proxy peer did not report its port"))?;
    let upstream = SocketAddr::from((Ipv4Addr::LOCALHOST, port));

    let measured = match rt {
        Runtime::Ember => runtimes::ember()?.block_on(measure(ember_proxy(listener, upstream)))?,
        Runtime::TokioCt => {
            runtimes::tokio_ct()?.block_on(measure(tokio_proxy(listener, upstream)))?
        }
        Runtime::TokioMt => {
            runtimes::tokio_mt()?.block_on(measure(tokio_proxy(listener, upstream)))?
        }
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            async_io::block_on(ex.run(measure(smol_proxy(&ex, listener, upstream))))?
        }
        _ => return Err(not_applicable(rt)),
    };
    let status = peer.wait()?;
    if !status.success() {
        return Err(io::Error::other(format!("the proxy peer failed: {status}")));
    }
    if measured.counts != (bytes, bytes) {
        return Err(io::Error::other(format!(
            "the proxy copied {:?}, expected {bytes} each way",
            measured.counts
        )));
    }
    let mib = bytes as f64 / MIB as f64;
    Ok(vec![
        ("mib_per_s", mib / measured.wall.as_secs_f64()),
        ("cpu_us_per_mib", measured.cpu.as_secs_f64() * 1e6 / mib),
    ])
}

/// What one proxied connection cost.
#[derive(Debug)]
struct Measured {
    /// Bytes copied (client to server, server to client).
    counts: (u64, u64),
    wall: Duration,
    cpu: Duration,
}

/// Run `proxy` (accept, connect, copy) and measure its wall and process CPU time.
async fn measure(proxy: impl Future<Output = io::Result<(u64, u64)>>) -> io::Result<Measured> {
    let cpu = proc::cpu_time()?;
    let start = Instant::now();
    let counts = proxy.await?;
    Ok(Measured {
        counts,
        wall: start.elapsed(),
        cpu: proc::cpu_time()?.saturating_sub(cpu),
    })
}

/// ember: one spawned task, `ember::io::copy_bidirectional`.
async fn ember_proxy(listener: TcpListener, upstream: SocketAddr) -> io::Result<(u64, u64)> {
    let listener = ember::net::TcpListener::from_std(listener)?;
    let task = ember::spawn(async move {
        let (mut inbound, _) = listener.accept().await?;
        let mut outbound = ember::net::TcpStream::connect(upstream).await?;
        inbound.set_nodelay(true)?;
        outbound.set_nodelay(true)?;
        ember::io::copy_bidirectional(&mut inbound, &mut outbound).await
    });
    task.await.map_err(|_| task_failed("proxy"))?
}

/// tokio: one spawned task, `tokio::io::copy_bidirectional`.
async fn tokio_proxy(listener: TcpListener, upstream: SocketAddr) -> io::Result<(u64, u64)> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let task = tokio::spawn(async move {
        let (mut inbound, _) = listener.accept().await?;
        let mut outbound = tokio::net::TcpStream::connect(upstream).await?;
        inbound.set_nodelay(true)?;
        outbound.set_nodelay(true)?;
        tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
    });
    task.await.map_err(|_| task_failed("proxy"))?
}

/// smol: one spawned task, futures-lite's `copy` each way over shared `Async`
/// streams, the write side shut down when a direction ends.
async fn smol_proxy(
    ex: &LocalExecutor<'_>,
    listener: TcpListener,
    upstream: SocketAddr,
) -> io::Result<(u64, u64)> {
    let listener = Async::new(listener)?;
    ex.spawn(async move {
        let (inbound, _) = listener.accept().await?;
        let outbound = Async::<TcpStream>::connect(upstream).await?;
        inbound.get_ref().set_nodelay(true)?;
        outbound.get_ref().set_nodelay(true)?;
        let (inbound, outbound) = (Arc::new(inbound), Arc::new(outbound));
        let one_way = |from: Arc<Async<TcpStream>>, to: Arc<Async<TcpStream>>| async move {
            let n = futures_lite::io::copy(&*from, &mut &*to).await?;
            to.get_ref().shutdown(Shutdown::Write)?;
            io::Result::Ok(n)
        };
        futures_lite::future::try_zip(
            one_way(inbound.clone(), outbound.clone()),
            one_way(outbound, inbound),
        )
        .await
    })
    .await
}

/// `proxy-peer <proxy port> <bytes>`: the client and the echo server, in their own
/// process on the load CPU. Prints `port N` (the echo server's) first, then runs one
/// client connection through the proxy and checks that `bytes` came back.
///
/// # Errors
/// Fails when a socket fails or the echo comes back short.
pub(crate) fn peer(args: &[String]) -> io::Result<()> {
    proc::pin_to_cpu(crate::LOAD_CPU % proc::cpus())?;
    let parse = |i: usize, what: &str| {
        args.get(i)
            .and_then(|a| a.parse::<u64>().ok())
            .ok_or_else(|| io::Error::other(format!("proxy-peer: missing or bad {what}")))
    };
    let proxy_port = u16::try_from(parse(0, "port")?).map_err(io::Error::other)?;
    let bytes = parse(1, "byte count")?;

    let echo = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    println!("port {}", echo.local_addr()?.port());
    io::stdout().flush()?;

    let client = TcpStream::connect((Ipv4Addr::LOCALHOST, proxy_port))?;
    client.set_nodelay(true)?;
    let (upstream, _) = echo.accept()?;
    let echoer = std::thread::spawn(move || echo_until_eof(upstream));
    let mut sender = client.try_clone()?;
    let pusher = std::thread::spawn(move || -> io::Result<()> {
        let chunk = vec![0x5a_u8; PEER_CHUNK];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(PEER_CHUNK as u64) as usize;
            sender.write_all(&chunk[..n])?;
            left -= n as u64;
        }
        sender.shutdown(Shutdown::Write)
    });
    let mut received = 0_u64;
    let mut buf = vec![0_u8; PEER_CHUNK];
    let mut reader = &client;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        received += n as u64;
    }
    pusher.join().map_err(|_| task_failed("proxy client"))??;
    echoer.join().map_err(|_| task_failed("echo"))??;
    if received != bytes {
        return Err(io::Error::other(format!(
            "proxy-peer: {received} bytes came back, expected {bytes}"
        )));
    }
    Ok(())
}

/// Echo until end of stream, then pass the half-close on.
fn echo_until_eof(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0_u8; PEER_CHUNK];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return stream.shutdown(Shutdown::Write);
        }
        stream.write_all(&buf[..n])?;
    }
}
