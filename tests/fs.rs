//! `ember::fs` on the runtime's real blocking pool, in every runtime
//! flavour: reads ahead and writes behind really are in flight while the
//! task goes on.

mod util;

use std::collections::BTreeSet;
use std::io::{ErrorKind, SeekFrom};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ember::fs::{self, File};
use ember::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use futures_util::TryStreamExt;
use util::{random_bytes, watchdog};

const MB: usize = 1_000_000;

/// A fresh directory under the system's temporary directory, removed on
/// drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("ember-fs-{}-{name}-{n}", std::process::id()));
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

/// Asserts two byte strings are equal, reporting the first difference.
#[track_caller]
fn assert_same(got: &[u8], expected: &[u8]) {
    if let Some(at) = got.iter().zip(expected).position(|(a, b)| a != b) {
        panic!("bytes differ at offset {at}");
    }
    assert_eq!(got.len(), expected.len(), "lengths differ");
}

#[track_caller]
fn assert_kind<T: std::fmt::Debug>(result: std::io::Result<T>, kind: ErrorKind) {
    match result {
        Err(e) => assert_eq!(e.kind(), kind, "unexpected error: {e}"),
        Ok(v) => panic!("expected {kind:?}, got Ok({v:?})"),
    }
}

per_flavor! {
    #[test]
    fn three_megabytes_in_64k_writes_and_reads_with_seeks() {
        let _guard = watchdog(Duration::from_secs(60));
        let tmp = TempDir::new("3mb");
        let path = tmp.join("big");
        let data = random_bytes(1, 3 * MB);
        block_on(async {
            let mut file = File::create(&path).await?;
            for chunk in data.chunks(64 * 1024) {
                file.write_all(chunk).await?;
            }
            file.close().await?;

            let mut file = File::open(&path).await?;
            let mut back = Vec::new();
            let mut buf = vec![0; 64 * 1024];
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                back.extend_from_slice(&buf[..n]);
            }
            assert_same(&back, &data);
            for &pos in &[2_500_000_u64, 7, 1_048_575, 2_999_000] {
                assert_eq!(file.seek(SeekFrom::Start(pos)).await?, pos);
                file.read_exact(&mut buf[..1000]).await?;
                assert_same(&buf[..1000], &data[pos as usize..pos as usize + 1000]);
            }
            std::io::Result::Ok(())
        })
        .expect("3 MB round trip");
    }

    #[test]
    fn reading_then_writing_then_seeking_keeps_the_position() {
        let _guard = watchdog(Duration::from_secs(60));
        let tmp = TempDir::new("mixed");
        let path = tmp.join("file");
        let data = random_bytes(2, 3 * MB);
        std::fs::write(&path, &data).expect("write the file");
        block_on(async {
            let mut file = File::options().read(true).write(true).open(&path).await?;
            // Far enough to start read-ahead in the background.
            let mut buf = vec![0; 300_000];
            file.read_exact(&mut buf).await?;
            file.read_exact(&mut buf).await?;
            assert_same(&buf, &data[300_000..600_000]);
            file.write_all(b"overwritten").await?;
            assert_eq!(file.seek(SeekFrom::Current(0)).await?, 600_011);
            file.read_exact(&mut buf[..5]).await?;
            assert_same(&buf[..5], &data[600_011..600_016]);
            file.sync_all().await?;
            std::io::Result::Ok(())
        })
        .expect("mixed operations");
        let mut expected = data;
        expected[600_000..600_011].copy_from_slice(b"overwritten");
        assert_same(&std::fs::read(&path).expect("read back"), &expected);
    }

    #[test]
    fn directories_rename_and_not_found() {
        let _guard = watchdog(Duration::from_secs(60));
        let tmp = TempDir::new("dirs");
        block_on(async {
            fs::create_dir_all(tmp.join("a/b/c")).await?;
            let names: BTreeSet<String> = (0..100).map(|i| format!("f{i}")).collect();
            for name in &names {
                fs::write(tmp.join("a/b/c").join(name), name).await?;
            }
            let mut listed = BTreeSet::new();
            let mut entries = fs::read_dir(tmp.join("a/b/c")).await?;
            while let Some(entry) = entries.next_entry().await? {
                assert!(entry.file_type().await?.is_file());
                listed.insert(entry.file_name().to_string_lossy().into_owned());
            }
            assert_eq!(listed, names);
            let streamed: Vec<_> = fs::read_dir(tmp.join("a/b/c")).await?.try_collect().await?;
            assert_eq!(streamed.len(), 100);

            fs::rename(tmp.join("a/b/c/f1"), tmp.join("a/moved")).await?;
            assert_eq!(fs::read_to_string(tmp.join("a/moved")).await?, "f1");
            assert_kind(File::open(tmp.join("a/b/c/f1")).await, ErrorKind::NotFound);
            assert_kind(fs::read(tmp.join("nope")).await, ErrorKind::NotFound);

            fs::remove_dir_all(tmp.join("a")).await?;
            assert!(!fs::try_exists(tmp.join("a")).await?);
            std::io::Result::Ok(())
        })
        .expect("directory operations");
    }

    #[test]
    fn two_thousand_small_files_read_concurrently() {
        let _guard = watchdog(Duration::from_secs(60));
        let tmp = TempDir::new("small");
        for i in 0..2000 {
            std::fs::write(tmp.join(&i.to_string()), random_bytes(i, 4096)).expect("write");
        }
        block_on(async {
            let tasks: Vec<_> = (0..2000_u64)
                .map(|i| {
                    let path = tmp.join(&i.to_string());
                    ember::spawn(async move { (i, fs::read(path).await) })
                })
                .collect();
            for task in tasks {
                let (i, bytes) = task.await.expect("task");
                assert_same(&bytes.expect("read"), &random_bytes(i, 4096));
            }
        });
    }

    #[test]
    fn a_failed_write_behind_is_reported() {
        let _guard = watchdog(Duration::from_secs(60));
        let tmp = TempDir::new("read-only");
        let path = tmp.join("file");
        std::fs::write(&path, b"original").expect("write the file");
        block_on(async {
            let mut file = File::open(&path).await.expect("open");
            let mut failed = false;
            for _ in 0..10 {
                if file.write_all(&[1; 100_000]).await.is_err() {
                    failed = true;
                    break;
                }
            }
            if !failed {
                let closed = file.close().await;
                assert_eq!(closed.expect_err("close hid the error").raw_os_error(), Some(libc::EBADF));
            }
        });
        assert_eq!(std::fs::read(&path).expect("read back"), b"original");
    }

    #[test]
    fn a_file_dropped_unflushed_is_written_by_the_time_the_runtime_is_gone() {
        let _guard = watchdog(Duration::from_secs(60));
        let tmp = TempDir::new("dropped");
        let path = tmp.join("file");
        let data = random_bytes(3, 3 * MB);
        block_on(async {
            let mut file = File::create(&path).await.expect("create");
            for chunk in data.chunks(100_000) {
                file.write_all(chunk).await.expect("write");
            }
            // No flush, no close.
        });
        assert_same(&std::fs::read(&path).expect("read back"), &data);
    }
}
