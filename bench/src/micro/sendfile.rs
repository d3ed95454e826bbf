//! sendfile: serving a 64 MiB file over loopback TCP. The server, in the measured
//! process, accepts one connection per repetition, sends the whole file and closes;
//! the peer (blocking std, on the load CPU) connects, reads to the end and discards.
//! The file lives on /dev/shm (tmpfs) when it exists, else in the target directory,
//! and is in the page cache: what is compared is the CPU it costs to move it.
//!
//! Two rows per runtime:
//!
//! - `cpu_us_per_mib` (and `mib_per_s`): each runtime's best way to serve a file.
//!   ember: `TcpStream::send_file` (`sendfile(2)`); tokio: `tokio::io::copy` from
//!   `tokio::fs::File`; smol: `futures_lite::io::copy` from `async_fs::File`.
//!   Target: ember <= 0.5x tokio's server CPU per MiB.
//! - `copy_cpu_us_per_mib`: the read-and-write copy through the runtime's own file
//!   type: ember's `ember::io::copy` from `ember::fs::File`, measured separately, so
//!   that ember's two rows say what `sendfile` buys over ember's own copy. tokio's
//!   and smol's entries are their first row's run again (the same code).
//!
//! Figures: the serving process's user + system CPU time (every thread, the blocking
//! pools included) per MiB sent, and MiB per second of wall time.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use async_executor::LocalExecutor;
use async_io::Async;

use super::net::{arg, get, Peer};
use super::{not_applicable, Metrics};
use crate::proc;
use crate::runtimes::{self, Runtime};
use crate::workloads::{Metric, Target};

/// The file's size.
const FILE_BYTES: u64 = 64 * MIB;
const MIB: u64 = 1024 * 1024;
/// Times the file is served per run (full run / quick run).
const REPS: u64 = 8;
const QUICK_REPS: u64 = 1;

/// The rows (see the module docs).
pub(crate) const METRICS: &[Metric] = &[
    Metric {
        key: "mib_per_s",
        unit: "MiB/s",
        higher_is_better: true,
        targets: &[],
    },
    Metric {
        key: "cpu_us_per_mib",
        unit: "us",
        higher_is_better: false,
        targets: &[
            Target {
                vs: Some(Runtime::TokioCt),
                bound: 0.5,
            },
            Target {
                vs: Some(Runtime::TokioMt),
                bound: 0.5,
            },
        ],
    },
    Metric {
        key: "copy_cpu_us_per_mib",
        unit: "us",
        higher_is_better: false,
        targets: &[],
    },
];

/// How a run serves the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    /// The runtime's best: `send_file` for ember.
    Best,
    /// ember's read-and-write copy through `ember::fs::File`.
    Copy,
}

/// What serving cost.
#[derive(Clone, Copy, Debug)]
struct Served {
    wall: Duration,
    cpu: Duration,
    bytes: u64,
}

/// Run the workload on `rt`.
pub(crate) fn run(rt: Runtime, quick: bool) -> io::Result<Metrics> {
    let reps = if quick { QUICK_REPS } else { REPS };
    let file = Scratch::new()?;
    let best = serve(rt, Way::Best, &file.0, reps)?;
    let copy = if rt == Runtime::Ember {
        serve(rt, Way::Copy, &file.0, reps)?
    } else {
        best
    };
    let mib = |s: Served| s.bytes as f64 / MIB as f64;
    Ok(vec![
        ("mib_per_s", mib(best) / best.wall.as_secs_f64()),
        ("cpu_us_per_mib", best.cpu.as_secs_f64() * 1e6 / mib(best)),
        (
            "copy_cpu_us_per_mib",
            copy.cpu.as_secs_f64() * 1e6 / mib(copy),
        ),
    ])
}

/// Serve `path` `reps` times to a fresh peer, `way`, on `rt`.
fn serve(rt: Runtime, way: Way, path: &Path, reps: u64) -> io::Result<Served> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let peer = Peer::start(&[
        "sendfile".into(),
        listener.local_addr()?.port().to_string(),
        reps.to_string(),
    ])?;
    let (wall, cpu) = match rt {
        Runtime::Ember => {
            runtimes::ember()?.block_on(measure(ember_serve(listener, path, reps, way)))?
        }
        Runtime::TokioCt => {
            runtimes::tokio_ct()?.block_on(measure(tokio_serve(listener, path, reps)))?
        }
        Runtime::TokioMt => {
            runtimes::tokio_mt()?.block_on(measure(tokio_serve(listener, path, reps)))?
        }
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            async_io::block_on(ex.run(measure(smol_serve(listener, path, reps))))?
        }
        Runtime::Mio => return Err(not_applicable(rt)),
    };
    let received = get(&peer.finish()?, "bytes")? as u64;
    if received != reps * FILE_BYTES {
        return Err(io::Error::other(format!(
            "the peer received {received} bytes, expected {}",
            reps * FILE_BYTES
        )));
    }
    Ok(Served {
        wall,
        cpu,
        bytes: received,
    })
}

/// Run `serving` and measure its wall and process CPU time.
async fn measure(
    serving: impl std::future::Future<Output = io::Result<()>>,
) -> io::Result<(Duration, Duration)> {
    let cpu = proc::cpu_time()?;
    let start = Instant::now();
    serving.await?;
    Ok((start.elapsed(), proc::cpu_time()?.saturating_sub(cpu)))
}

/// ember: `send_file`, or `ember::io::copy` from `ember::fs::File`.
async fn ember_serve(listener: TcpListener, path: &Path, reps: u64, way: Way) -> io::Result<()> {
    use ember::io::AsyncWriteExt;
    let listener = ember::net::TcpListener::from_std(listener)?;
    let file = std::fs::File::open(path)?;
    for _ in 0..reps {
        let (mut stream, _) = listener.accept().await?;
        let sent = match way {
            Way::Best => stream.send_file(&file, 0, FILE_BYTES).await?,
            Way::Copy => {
                let mut file = ember::fs::File::open(path).await?;
                ember::io::copy(&mut file, &mut stream).await?
            }
        };
        check(sent)?;
        stream.close().await?;
    }
    Ok(())
}

/// tokio: `tokio::io::copy` from `tokio::fs::File`.
async fn tokio_serve(listener: TcpListener, path: &Path, reps: u64) -> io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    for _ in 0..reps {
        let (mut stream, _) = listener.accept().await?;
        let mut file = tokio::fs::File::open(path).await?;
        check(tokio::io::copy(&mut file, &mut stream).await?)?;
        stream.shutdown().await?;
    }
    Ok(())
}

/// smol: `futures_lite::io::copy` from `async_fs::File`.
async fn smol_serve(listener: TcpListener, path: &Path, reps: u64) -> io::Result<()> {
    let listener = Async::new(listener)?;
    for _ in 0..reps {
        let (mut stream, _) = listener.accept().await?;
        let file = async_fs::File::open(path).await?;
        check(futures_lite::io::copy(file, &mut stream).await?)?;
        stream.get_ref().shutdown(Shutdown::Write)?;
    }
    Ok(())
}

fn check(sent: u64) -> io::Result<()> {
    if sent == FILE_BYTES {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "sent {sent} bytes of a {FILE_BYTES}-byte file"
        )))
    }
}

/// The 64 MiB file, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    /// On /dev/shm when it exists (tmpfs: no disk in the figures), else next to
    /// this binary.
    fn new() -> io::Result<Scratch> {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            let exe = std::env::current_exe()?;
            exe.parent()
                .map_or_else(std::env::temp_dir, Path::to_path_buf)
        };
        let path = base.join(format!("ember-bench-sendfile-{}", std::process::id()));
        let mut file = std::fs::File::create(&path)?;
        let scratch = Scratch(path);
        let chunk: Vec<u8> = (0..MIB).map(|i| (i % 251) as u8).collect();
        for _ in 0..FILE_BYTES / MIB {
            file.write_all(&chunk)?;
        }
        Ok(scratch)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `net-peer sendfile <port> <reps>`: connect `reps` times, each time reading to the
/// end and discarding; print the total.
pub(crate) fn peer(args: &[String]) -> io::Result<()> {
    let port: u16 = arg(args, 0, "port")?;
    let reps: u64 = arg(args, 1, "repetitions")?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut buf = vec![0_u8; 256 * 1024];
    let mut total = 0_u64;
    for _ in 0..reps {
        let mut stream = TcpStream::connect(addr)?;
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => total += n as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    println!("bytes {total}");
    Ok(())
}
