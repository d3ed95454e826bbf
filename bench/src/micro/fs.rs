//! fs: files on the blocking pool. Three timed phases, each through the column's own async
//! file API (`ember::fs`, `tokio::fs`, smol's `async-fs`) and then as plain blocking std in
//! one `spawn_blocking` of the same runtime (smol: `blocking::unblock`), in the same
//! process. Like every pinned workload the process (and so every pool thread) runs on one
//! CPU: what is compared is the work each runtime does, not how it spreads over cores.
//!
//! - `write`: a fresh 256 MiB file written in 64 KiB `write_all`s, then flushed/closed;
//! - `read`: that file read back in 64 KiB `read`s (warm cache);
//! - `small`: 2,000 files of 4 KiB each read whole by 2,000 concurrent tasks (std: one
//!   closure reading them in turn).
//!
//! `--quick`: 16 MiB and 200 files. The files live on /dev/shm (tmpfs) when it exists, else
//! in the target directory; page-cache-warm runs are what every column is compared on.
//! Figures: wall milliseconds per phase, and each phase's ratio to the same runtime's std
//! baseline (`*_vs_std`).

use std::future::Future;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_executor::LocalExecutor;
use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _};

use super::{not_applicable, Metrics};
use crate::runtimes::{self, task_failed, Runtime};
use crate::workloads::{Metric, Target};

/// The rows: wall time per phase (target: <= 0.7x either tokio), and its ratio to plain std
/// in a `spawn_blocking` of the same runtime (target: <= 1.3).
pub(crate) const METRICS: &[Metric] = &[
    ms_row("write_ms"),
    ms_row("read_ms"),
    ms_row("small_ms"),
    std_row("write_vs_std"),
    std_row("read_vs_std"),
    std_row("small_vs_std"),
];

const fn ms_row(key: &'static str) -> Metric {
    const VS_TOKIO: &[Target] = &[
        Target {
            vs: Some(Runtime::TokioCt),
            bound: 0.7,
        },
        Target {
            vs: Some(Runtime::TokioMt),
            bound: 0.7,
        },
    ];
    Metric {
        key,
        unit: "ms",
        higher_is_better: false,
        targets: VS_TOKIO,
    }
}

const fn std_row(key: &'static str) -> Metric {
    Metric {
        key,
        unit: "x",
        higher_is_better: false,
        targets: &[Target {
            vs: None,
            bound: 1.3,
        }],
    }
}

/// Application-level read and write size.
const CHUNK: usize = 64 * 1024;

/// Sizes of one run.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    /// Bytes of the sequential file.
    big: usize,
    /// Number of small files.
    files: usize,
    /// Bytes per small file.
    small: usize,
}

/// Wall times of the three phases.
#[derive(Clone, Copy, Debug)]
struct Times {
    write: Duration,
    read: Duration,
    small: Duration,
}

/// Run the workload on `rt`.
pub(crate) fn run(rt: Runtime, quick: bool) -> io::Result<Metrics> {
    let sizes = if quick {
        Sizes {
            big: 16 << 20,
            files: 200,
            small: 4096,
        }
    } else {
        Sizes {
            big: 256 << 20,
            files: 2000,
            small: 4096,
        }
    };
    let dir = Scratch::new()?;
    let paths = Arc::new(dir.small_files(sizes)?);
    let big = dir.0.join("big");
    let (api, std) = match rt {
        Runtime::Ember => runtimes::ember()?.block_on(async {
            let api = ember_phases(&big, &paths, sizes).await?;
            let std = std_phases(&big, &paths, sizes, |f| async move {
                ember::spawn_blocking(f)
                    .await
                    .map_err(|_| task_failed("blocking"))?
            })
            .await?;
            io::Result::Ok((api, std))
        })?,
        Runtime::TokioCt | Runtime::TokioMt => {
            let runtime = if rt == Runtime::TokioCt {
                runtimes::tokio_ct()?
            } else {
                runtimes::tokio_mt()?
            };
            runtime.block_on(async {
                let api = tokio_phases(&big, &paths, sizes).await?;
                let std = std_phases(&big, &paths, sizes, |f| async move {
                    tokio::task::spawn_blocking(f)
                        .await
                        .map_err(|_| task_failed("blocking"))?
                })
                .await?;
                io::Result::Ok((api, std))
            })?
        }
        Runtime::Smol => {
            let ex = LocalExecutor::new();
            async_io::block_on(ex.run(async {
                let api = smol_phases(&ex, &big, &paths, sizes).await?;
                let std = std_phases(&big, &paths, sizes, blocking::unblock).await?;
                io::Result::Ok((api, std))
            }))?
        }
        Runtime::Mio => return Err(not_applicable(rt)),
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    Ok(vec![
        ("write_ms", ms(api.write)),
        ("read_ms", ms(api.read)),
        ("small_ms", ms(api.small)),
        ("write_vs_std", ratio(api.write, std.write)),
        ("read_vs_std", ratio(api.read, std.read)),
        ("small_vs_std", ratio(api.small, std.small)),
    ])
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    /// /dev/shm when it exists (tmpfs: no disk in the figures), else the target directory.
    fn new() -> io::Result<Scratch> {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            // This binary's directory: target/<profile>.
            let exe = std::env::current_exe()?;
            exe.parent()
                .map_or_else(std::env::temp_dir, Path::to_path_buf)
        };
        let dir = base.join(format!("ember-bench-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }

    /// Writes the small files (untimed) and returns their paths.
    fn small_files(&self, sizes: Sizes) -> io::Result<Vec<PathBuf>> {
        let dir = self.0.join("small");
        std::fs::create_dir_all(&dir)?;
        (0..sizes.files)
            .map(|i| {
                let path = dir.join(format!("{i:05}"));
                std::fs::write(&path, payload(sizes.small, i as u64))?;
                Ok(path)
            })
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Nothing to report to: a leftover directory in /dev/shm is harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Bytes that are not all alike (no file system shortcut for zero pages).
fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut x = super::XorShift::new(seed + 1);
    (0..len).map(|_| x.next_u64() as u8).collect()
}

/// Fails unless `got` bytes were read of a file of `want`.
fn check_len(got: usize, want: usize) -> io::Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(io::Error::other(format!("read {got} bytes of {want}")))
    }
}

/// Removes `path` if it is there: untimed, so no phase pays for freeing the last file.
fn fresh(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// ember's phases, through `ember::fs`.
async fn ember_phases(big: &Path, paths: &Arc<Vec<PathBuf>>, sizes: Sizes) -> io::Result<Times> {
    let chunk = payload(CHUNK, 7);
    fresh(big)?;
    let start = Instant::now();
    let mut file = ember::fs::File::create(big).await?;
    for _ in 0..sizes.big / CHUNK {
        file.write_all(&chunk).await?;
    }
    file.close().await?;
    drop(file);
    let write = start.elapsed();

    let start = Instant::now();
    let mut file = ember::fs::File::open(big).await?;
    let got = read_loop(&mut file).await?;
    let read = start.elapsed();
    check_len(got, sizes.big)?;

    let start = Instant::now();
    let tasks: Vec<_> = (0..paths.len())
        .map(|i| {
            let paths = Arc::clone(paths);
            ember::spawn(async move { ember::fs::read(&paths[i]).await.map(|b| b.len()) })
        })
        .collect();
    for task in tasks {
        let len = task.await.map_err(|_| task_failed("read"))??;
        check_len(len, sizes.small)?;
    }
    let small = start.elapsed();
    Ok(Times { write, read, small })
}

/// tokio's phases, through `tokio::fs` (flushed, as its docs require before drop).
async fn tokio_phases(big: &Path, paths: &Arc<Vec<PathBuf>>, sizes: Sizes) -> io::Result<Times> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let chunk = payload(CHUNK, 7);
    fresh(big)?;
    let start = Instant::now();
    let mut file = tokio::fs::File::create(big).await?;
    for _ in 0..sizes.big / CHUNK {
        file.write_all(&chunk).await?;
    }
    file.shutdown().await?;
    drop(file);
    let write = start.elapsed();

    let start = Instant::now();
    let mut file = tokio::fs::File::open(big).await?;
    let mut buf = vec![0; CHUNK];
    let mut got = 0;
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let read = start.elapsed();
    check_len(got, sizes.big)?;

    let start = Instant::now();
    let tasks: Vec<_> = (0..paths.len())
        .map(|i| {
            let paths = Arc::clone(paths);
            tokio::spawn(async move { tokio::fs::read(&paths[i]).await.map(|b| b.len()) })
        })
        .collect();
    for task in tasks {
        let len = task.await.map_err(|_| task_failed("read"))??;
        check_len(len, sizes.small)?;
    }
    let small = start.elapsed();
    Ok(Times { write, read, small })
}

/// smol's phases, through `async-fs`, with tasks on the column's `LocalExecutor`.
async fn smol_phases(
    ex: &LocalExecutor<'_>,
    big: &Path,
    paths: &Arc<Vec<PathBuf>>,
    sizes: Sizes,
) -> io::Result<Times> {
    let chunk = payload(CHUNK, 7);
    fresh(big)?;
    let start = Instant::now();
    let mut file = async_fs::File::create(big).await?;
    for _ in 0..sizes.big / CHUNK {
        file.write_all(&chunk).await?;
    }
    file.close().await?;
    drop(file);
    let write = start.elapsed();

    let start = Instant::now();
    let mut file = async_fs::File::open(big).await?;
    let got = read_loop(&mut file).await?;
    let read = start.elapsed();
    check_len(got, sizes.big)?;

    let start = Instant::now();
    let tasks: Vec<_> = (0..paths.len())
        .map(|i| {
            let paths = Arc::clone(paths);
            ex.spawn(async move { async_fs::read(&paths[i]).await.map(|b| b.len()) })
        })
        .collect();
    for task in tasks {
        check_len(task.await?, sizes.small)?;
    }
    let small = start.elapsed();
    Ok(Times { write, read, small })
}

/// Reads a futures-io reader to the end in [`CHUNK`] reads; returns the byte count.
async fn read_loop(file: &mut (impl futures_lite::AsyncRead + Unpin)) -> io::Result<usize> {
    let mut buf = vec![0; CHUNK];
    let mut got = 0;
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(got);
        }
        got += n;
    }
}

/// The same three phases as plain blocking std, each in one closure handed to `unblock`
/// (the runtime's `spawn_blocking`).
async fn std_phases<U, F>(
    big: &Path,
    paths: &Arc<Vec<PathBuf>>,
    sizes: Sizes,
    unblock: U,
) -> io::Result<Times>
where
    U: Fn(Box<dyn FnOnce() -> io::Result<Duration> + Send>) -> F,
    F: Future<Output = io::Result<Duration>>,
{
    let chunk = payload(CHUNK, 7);
    let path = big.to_owned();
    fresh(big)?;
    let write = unblock(Box::new(move || {
        let start = Instant::now();
        let mut file = std::fs::File::create(&path)?;
        for _ in 0..sizes.big / CHUNK {
            file.write_all(&chunk)?;
        }
        file.flush()?;
        drop(file);
        Ok(start.elapsed())
    }));
    let write = timed(write).await?;

    let path = big.to_owned();
    let read = unblock(Box::new(move || {
        let start = Instant::now();
        let mut file = std::fs::File::open(&path)?;
        let mut buf = vec![0; CHUNK];
        let mut got = 0;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            got += n;
        }
        let elapsed = start.elapsed();
        check_len(got, sizes.big)?;
        Ok(elapsed)
    }));
    let read = timed(read).await?;

    let paths = Arc::clone(paths);
    let small = unblock(Box::new(move || {
        let start = Instant::now();
        for path in paths.iter() {
            check_len(std::fs::read(path)?.len(), sizes.small)?;
        }
        Ok(start.elapsed())
    }));
    let small = timed(small).await?;
    Ok(Times { write, read, small })
}

/// The wall time of `work` as the task sees it (including the trip to the pool and back),
/// checked against what the closure measured inside.
async fn timed(work: impl Future<Output = io::Result<Duration>>) -> io::Result<Duration> {
    let start = Instant::now();
    let inside = work.await?;
    let outside = start.elapsed();
    Ok(outside.max(inside))
}
