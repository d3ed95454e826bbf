//! `ember_io::fs` on a bare reactor: files, directories, read-ahead and
//! write-behind, and how errors surface.
//!
//! `block_on` installs no blocking offload, so most tests run every blocking
//! call inline; the ones named `..._on_threads` install an offload that runs
//! each job on a fresh thread (so operations really are in flight while the
//! task goes on), and the `..._dropped_...` ones one that drops the job, as a
//! pool that shut down does.

mod util;

use std::collections::BTreeSet;
use std::io::{self, ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ember_io::fs::{self, File, OpenOptions};
use futures_util::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use futures_util::TryStreamExt;
use util::{assert_error_kind, assert_same_bytes, pattern, run};

const MB: usize = 1_000_000;

/// A fresh directory under the system's temporary directory, removed on
/// drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("ember-io-fs-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the test directory");
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A blocking job, as the offload receives it.
type Job = Box<dyn FnOnce() + Send>;

/// The threads started by [`offload_to_threads`], to join.
type Threads = Arc<Mutex<Vec<std::thread::JoinHandle<()>>>>;

/// Runs each blocking job on a new thread, so it is in flight while the
/// task goes on. Must be called inside `block_on`, before any fs call.
fn offload_to_threads(threads: &Threads) {
    let spawned = Arc::clone(threads);
    let installed = ember_reactor::__private::set_blocking_offload(
        &ember_reactor::Handle::current(),
        Arc::new(move |work: Job| {
            let thread = std::thread::spawn(work);
            spawned.lock().expect("thread list").push(thread);
        }),
    );
    assert!(installed, "an offload was already installed");
}

/// Joins every thread [`offload_to_threads`] started.
fn join_all(threads: &Threads) {
    loop {
        let Some(thread) = threads.lock().expect("thread list").pop() else {
            return;
        };
        thread.join().expect("a blocking job panicked");
    }
}

/// The names in directory `dir`, read with std.
fn names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("list the directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn nested_directories_are_created_listed_and_removed() {
    let tmp = TempDir::new("nested");
    run(async {
        let deep = tmp.join("a/b/c");
        fs::create_dir_all(&deep).await?;
        fs::create_dir_all(&deep).await?; // already there: fine
        assert_error_kind(fs::create_dir(&deep).await, ErrorKind::AlreadyExists);
        assert_error_kind(fs::create_dir(tmp.join("x/y")).await, ErrorKind::NotFound);
        fs::create_dir(tmp.join("a/b/d")).await?;
        fs::write(deep.join("file"), b"leaf").await?;
        assert!(fs::metadata(tmp.join("a/b")).await?.is_dir());

        assert_error_kind(
            fs::remove_dir(tmp.join("a")).await,
            ErrorKind::DirectoryNotEmpty,
        );
        fs::remove_dir(tmp.join("a/b/d")).await?;
        fs::remove_dir_all(tmp.join("a")).await?;
        assert!(!fs::try_exists(tmp.join("a")).await?);
        assert_error_kind(fs::remove_dir_all(tmp.join("a")).await, ErrorKind::NotFound);
        Ok(())
    });
}

#[test]
fn three_megabytes_written_and_read_back_with_seeks() {
    let tmp = TempDir::new("3mb");
    let path = tmp.join("big");
    let data = pattern(3 * MB, 1);
    run(async {
        let mut file = File::create(&path).await?;
        // Odd-sized writes so chunks never line up with the buffers.
        for chunk in data.chunks(65_537) {
            file.write_all(chunk).await?;
        }
        file.close().await?;
        assert_eq!(fs::metadata(&path).await?.len(), data.len() as u64);

        let mut file = File::open(&path).await?;
        let mut back = Vec::new();
        file.read_to_end(&mut back).await?;
        assert_same_bytes(&back, &data);

        // Seeks from each end, and reads across chunk boundaries.
        for &(pos, len) in &[(0, 10), (2_097_150, 10), (1, 70_000), (2_999_990, 10)] {
            assert_eq!(file.seek(SeekFrom::Start(pos)).await?, pos);
            let mut buf = vec![0; len];
            file.read_exact(&mut buf).await?;
            assert_same_bytes(&buf, &data[pos as usize..pos as usize + len]);
        }
        assert_eq!(file.seek(SeekFrom::End(-5)).await?, (3 * MB - 5) as u64);
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).await?;
        assert_same_bytes(&tail, &data[3 * MB - 5..]);
        Ok(())
    });
    assert_same_bytes(&std::fs::read(&path).expect("read back"), &data);
}

#[test]
fn the_position_after_a_short_read_is_where_the_reader_stopped() {
    // The engine reads 64 KiB for a 100-byte read; everything positioned
    // afterwards must behave as if it had read 100 bytes.
    let tmp = TempDir::new("position");
    let path = tmp.join("file");
    let data = pattern(200_000, 2);
    std::fs::write(&path, &data).expect("write the file");
    run(async {
        let mut file = File::options().read(true).write(true).open(&path).await?;
        let mut head = [0; 100];
        file.read_exact(&mut head).await?;
        assert_eq!(file.seek(SeekFrom::Current(0)).await?, 100);
        file.read_exact(&mut head).await?;
        assert_eq!(file.seek(SeekFrom::Current(10)).await?, 210);
        file.read_exact(&mut head[..1]).await?;
        assert_eq!(head[0], data[210]);
        // A write lands right after what was read.
        file.write_all(b"XYZ").await?;
        file.flush().await?;
        file.read_exact(&mut head[..1]).await?;
        assert_eq!(head[0], data[214]);
        // set_len after a read keeps the reader's position.
        file.set_len(150_000).await?;
        assert_eq!(file.seek(SeekFrom::Current(0)).await?, 215);
        // into_std gives the std file back at the reader's position.
        let mut std_file = file.into_std().await?;
        assert_eq!(io::Seek::stream_position(&mut std_file)?, 215);
        Ok(())
    });
    let mut expected = data[..150_000].to_vec();
    expected[211..214].copy_from_slice(b"XYZ");
    assert_same_bytes(&std::fs::read(&path).expect("read back"), &expected);
}

#[test]
fn read_dir_lists_a_hundred_entries_both_ways() {
    let tmp = TempDir::new("read-dir");
    let expected: BTreeSet<String> = (0..100).map(|i| format!("entry-{i:03}")).collect();
    for name in &expected {
        std::fs::write(tmp.join(name), name).expect("create an entry");
    }
    run(async {
        let mut entries = fs::read_dir(&tmp.0).await?;
        let mut seen = BTreeSet::new();
        while let Some(entry) = entries.next_entry().await? {
            assert_eq!(entry.path(), tmp.join(&entry.file_name().to_string_lossy()));
            assert!(entry.file_type().await?.is_file());
            assert_eq!(entry.metadata().await?.len(), 9);
            assert!(seen.insert(entry.file_name().to_string_lossy().into_owned()));
        }
        assert_eq!(seen, expected);
        // Exhausted: stays exhausted.
        assert!(entries.next_entry().await?.is_none());

        let streamed: Vec<fs::DirEntry> = fs::read_dir(&tmp.0).await?.try_collect().await?;
        let streamed: BTreeSet<String> = streamed
            .iter()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(streamed, expected);
        assert_error_kind(
            fs::read_dir(tmp.join("missing")).await.map(drop),
            ErrorKind::NotFound,
        );
        Ok(())
    });
}

#[test]
fn rename_moves_and_replaces() {
    let tmp = TempDir::new("rename");
    run(async {
        fs::write(tmp.join("a"), b"first").await?;
        fs::write(tmp.join("b"), b"second").await?;
        fs::rename(tmp.join("a"), tmp.join("b")).await?;
        assert_eq!(fs::read(tmp.join("b")).await?, b"first");
        assert!(!fs::try_exists(tmp.join("a")).await?);
        assert_error_kind(
            fs::rename(tmp.join("a"), tmp.join("c")).await,
            ErrorKind::NotFound,
        );
        Ok(())
    });
    assert_eq!(names_in(&tmp.0), BTreeSet::from(["b".to_owned()]));
}

#[test]
fn a_missing_file_is_not_found_everywhere() {
    let tmp = TempDir::new("missing");
    let missing = tmp.join("missing");
    run(async {
        assert_error_kind(File::open(&missing).await, ErrorKind::NotFound);
        assert_error_kind(fs::read(&missing).await, ErrorKind::NotFound);
        assert_error_kind(fs::read_to_string(&missing).await, ErrorKind::NotFound);
        assert_error_kind(fs::metadata(&missing).await, ErrorKind::NotFound);
        assert_error_kind(fs::remove_file(&missing).await, ErrorKind::NotFound);
        assert_error_kind(
            fs::copy(&missing, tmp.join("to")).await,
            ErrorKind::NotFound,
        );
        assert_error_kind(fs::canonicalize(&missing).await, ErrorKind::NotFound);
        assert!(!fs::try_exists(&missing).await?);
        Ok(())
    });
}

#[test]
fn links_copies_and_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = TempDir::new("links");
    run(async {
        fs::write(tmp.join("orig"), b"contents").await?;
        assert_eq!(fs::copy(tmp.join("orig"), tmp.join("copy")).await?, 8);
        fs::hard_link(tmp.join("orig"), tmp.join("hard")).await?;
        fs::symlink("orig", tmp.join("soft")).await?;
        assert_eq!(fs::read_link(tmp.join("soft")).await?, Path::new("orig"));
        assert!(fs::symlink_metadata(tmp.join("soft")).await?.is_symlink());
        assert!(fs::metadata(tmp.join("soft")).await?.is_file());
        assert_eq!(
            fs::canonicalize(tmp.join("soft")).await?,
            std::fs::canonicalize(tmp.join("orig"))?
        );
        fs::set_permissions(tmp.join("copy"), std::fs::Permissions::from_mode(0o600)).await?;
        assert_eq!(
            fs::metadata(tmp.join("copy")).await?.permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_to_string(tmp.join("hard")).await?, "contents");
        fs::remove_file(tmp.join("soft")).await?;
        assert!(fs::try_exists(tmp.join("orig")).await?);
        Ok(())
    });
}

#[test]
fn a_write_to_a_read_only_file_is_an_error_not_silence() {
    let tmp = TempDir::new("read-only");
    let path = tmp.join("file");
    std::fs::write(&path, b"original").expect("write the file");
    run(async {
        let mut file = File::open(&path).await?;
        // Write-behind may accept the bytes; the failure must surface no
        // later than the flush, and a second flush has nothing left to lose.
        let written = file.write_all(b"lost").await;
        let flushed = file.flush().await;
        match (written, flushed) {
            (Err(e), _) | (Ok(()), Err(e)) => assert_eq!(e.raw_os_error(), Some(libc::EBADF)),
            (Ok(()), Ok(())) => panic!("a failed write was reported as success"),
        }
        file.flush().await?;
        Ok(())
    });
    assert_eq!(std::fs::read(&path).expect("read back"), b"original");
}

#[test]
fn a_full_device_fails_the_write_behind_on_threads() {
    let threads = Threads::default();
    // /dev/full: every write fails with ENOSPC, as on a full file system.
    if !Path::new("/dev/full").exists() {
        return;
    }
    run(async {
        offload_to_threads(&threads);
        let mut file = OpenOptions::new().write(true).open("/dev/full").await?;
        let mut error = None;
        for _ in 0..4 {
            if let Err(e) = file.write_all(&[7; 100_000]).await {
                error = Some(e);
                break;
            }
        }
        let error = match error {
            Some(e) => e,
            None => file.close().await.expect_err("close reported success"),
        };
        assert_eq!(error.raw_os_error(), Some(libc::ENOSPC));
        Ok(())
    });
    join_all(&threads);
}

#[test]
fn sequential_reads_and_writes_with_operations_in_flight_on_threads() {
    let threads = Threads::default();
    let tmp = TempDir::new("threads");
    let path = tmp.join("file");
    let data = pattern(5 * MB, 3);
    run(async {
        offload_to_threads(&threads);
        let mut file = File::create(&path).await?;
        for chunk in data.chunks(64 * 1024) {
            file.write_all(chunk).await?;
        }
        // metadata waits for the writes behind.
        assert_eq!(file.metadata().await?.len(), data.len() as u64);
        file.close().await?;

        let mut file = File::open(&path).await?;
        let mut back = Vec::with_capacity(data.len());
        let mut buf = vec![0; 64 * 1024];
        loop {
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            back.extend_from_slice(&buf[..n]);
        }
        assert_same_bytes(&back, &data);
        // A seek back while a read-ahead may be in flight.
        assert_eq!(file.seek(SeekFrom::Start(12_345)).await?, 12_345);
        file.read_exact(&mut buf[..10]).await?;
        assert_same_bytes(&buf[..10], &data[12_345..12_355]);
        Ok(())
    });
    join_all(&threads);
}

#[test]
fn a_dropped_file_still_writes_what_it_accepted() {
    let tmp = TempDir::new("drop");
    let path = tmp.join("file");
    let data = pattern(MB, 4);
    // Jobs wait here until the test runs them, after the runtime is gone.
    let deferred: Arc<Mutex<Vec<Job>>> = Arc::default();
    let queue = Arc::clone(&deferred);
    run(async {
        let mut file = File::create(&path).await?;
        ember_reactor::__private::set_blocking_offload(
            &ember_reactor::Handle::current(),
            Arc::new(move |work| queue.lock().expect("job queue").push(work)),
        );
        // The first write goes to the (stalled) pool; the rest wait in the
        // write-behind buffer, which nobody flushes.
        for chunk in data.chunks(100_000) {
            file.write_all(chunk).await?;
        }
        drop(file);
        Ok(())
    });
    let jobs = std::mem::take(&mut *deferred.lock().expect("job queue"));
    assert_eq!(jobs.len(), 1, "one drainer runs the file's writes in order");
    for job in jobs {
        job();
    }
    assert_same_bytes(&std::fs::read(&path).expect("read back"), &data);
}

#[test]
fn a_blocking_call_dropped_unrun_is_an_error_not_a_hang() {
    let tmp = TempDir::new("dropped");
    let path = tmp.join("file");
    std::fs::write(&path, b"data").expect("write the file");
    run(async {
        // A pool that shut down: every job is dropped without running.
        ember_reactor::__private::set_blocking_offload(
            &ember_reactor::Handle::current(),
            Arc::new(drop::<Job>),
        );
        let error = fs::read(&path).await.expect_err("a dropped read succeeded");
        assert!(error.to_string().contains("shutting down"), "{error}");
        Ok(())
    });
}

#[test]
fn a_write_dropped_unrun_still_runs() {
    // The lane runs writes itself when the pool drops them, so that data a
    // write accepted is not lost at shutdown.
    let tmp = TempDir::new("must-run");
    let path = tmp.join("file");
    run(async {
        let mut file = File::create(&path).await?;
        ember_reactor::__private::set_blocking_offload(
            &ember_reactor::Handle::current(),
            Arc::new(drop::<Job>),
        );
        file.write_all(b"kept").await?;
        file.flush().await?;
        // Reads are not kept: the pool is gone.
        let mut buf = [0; 4];
        assert!(file.read(&mut buf).await.is_err());
        Ok(())
    });
    assert_eq!(std::fs::read(&path).expect("read back"), b"kept");
}
