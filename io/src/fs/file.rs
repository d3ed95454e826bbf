//! [`File`]: an open file whose reads, writes and seeks run on the blocking
//! pool, batched into large chunks by the [engine](super::engine).

use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::poll_fn;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::engine::{Config, Engine, Target};
use super::OpenOptions;
use crate::blocking::Unblock;

/// An open file on the file system, with the futures-io [`AsyncRead`],
/// [`AsyncWrite`] and [`AsyncSeek`] traits.
///
/// Files have no readiness API, so every operation runs on the runtime's
/// blocking pool; `File` keeps the round trips few:
///
/// - **Read-ahead.** A read fetches a chunk of at least 64 KiB and serves
///   the next reads from it; while a regular file is read sequentially the
///   chunks double up to 2 MiB and the next one is read in the background
///   while the current one is consumed.
/// - **Write-behind.** [`poll_write`](AsyncWrite::poll_write) copies the
///   bytes into a buffer and returns at once; the buffer goes to the pool
///   as one write while the next one fills (up to 2 MiB each). If a
///   background write fails, the error is returned by the next operation on
///   the file, by [`poll_flush`](AsyncWrite::poll_flush) or by
///   [`poll_close`](AsyncWrite::poll_close); the bytes accepted after it are
///   dropped with it. A write error is never silent, but only reported if
///   you flush: call `flush` (or `close`) before you rely on the data being
///   written.
/// - `poll_close` is a flush, as in tokio: it writes the pending bytes to the
///   OS, not to the disk. Use [`sync_all`](File::sync_all) or
///   [`sync_data`](File::sync_data) for that.
/// - Dropping a `File` with bytes not yet written still writes them, on the
///   pool, after whatever is in flight (or on the dropping thread if the
///   pool is gone): data is not lost unless the process exits first, but an
///   error can then no longer be reported.
///
/// Memory: a file read or written sequentially holds two buffers of up to
/// 2 MiB each.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::fs::File;
/// use futures_util::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
///
/// # fn main() -> std::io::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("ember-doc-file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("hello.txt");
/// block_on(async {
///     let mut file = File::options().read(true).write(true).create(true).open(&path).await?;
///     file.write_all(b"hello, world").await?;
///     file.seek(SeekFrom::Start(7)).await?;
///     let mut word = String::new();
///     file.read_to_string(&mut word).await?;
///     assert_eq!(word, "world");
///     file.close().await // flushes; any write error shows up here
/// })?;
/// # std::fs::remove_dir_all(&dir)
/// # }
/// ```
pub struct File {
    /// The same file as the engine's target, for `as_fd` (which cannot
    /// borrow through the lock).
    std: Arc<std::fs::File>,
    engine: Mutex<Engine<std::fs::File>>,
}

impl Target for std::fs::File {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        Read::read(&mut &*self, buf)
    }

    fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        Write::write_all(&mut &*self, buf)
    }

    fn seek(&self, pos: SeekFrom) -> io::Result<u64> {
        Seek::seek(&mut &*self, pos)
    }

    fn is_regular(&self) -> bool {
        self.metadata().is_ok_and(|m| m.is_file())
    }
}

impl File {
    /// Opens a file for reading, as [`std::fs::File::open`].
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::open`]: [`io::ErrorKind::NotFound`] if it does
    /// not exist, [`io::ErrorKind::PermissionDenied`], ...
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    /// use futures_util::io::AsyncReadExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let mut file = File::open("Cargo.toml").await?;
    ///     let mut text = String::new();
    ///     file.read_to_string(&mut text).await?;
    ///     assert!(text.contains("ember-io"));
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file for writing, creating it or truncating it, as
    /// [`std::fs::File::create`].
    ///
    /// # Errors
    ///
    /// As [`std::fs::File::create`].
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    /// use futures_util::io::AsyncWriteExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let path = std::env::temp_dir().join(format!("ember-doc-create-{}", std::process::id()));
    /// block_on(async {
    ///     let mut file = File::create(&path).await?;
    ///     file.write_all(b"log line\n").await?;
    ///     file.close().await
    /// })?;
    /// assert_eq!(std::fs::read(&path)?, b"log line\n");
    /// # std::fs::remove_file(&path)
    /// # }
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates a new file for reading and writing, failing if it exists, as
    /// [`std::fs::File::create_new`].
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::AlreadyExists`] if the path exists, or as
    /// [`std::fs::File::create_new`].
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let path = std::env::temp_dir().join(format!("ember-doc-create-new-{}", std::process::id()));
    /// block_on(async {
    ///     File::create_new(&path).await?;
    ///     let again = File::create_new(&path).await;
    ///     assert_eq!(again.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)
    /// # }
    /// ```
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// Options to open a file with: shorthand for [`OpenOptions::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    /// use futures_util::io::AsyncWriteExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let path = std::env::temp_dir().join(format!("ember-doc-options-{}", std::process::id()));
    /// block_on(async {
    ///     let mut log = File::options().append(true).create(true).open(&path).await?;
    ///     log.write_all(b"one more line\n").await?;
    ///     log.close().await
    /// })?;
    /// # std::fs::remove_file(&path)
    /// # }
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps a standard file. No blocking call is made.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let std_file = std::fs::File::open("Cargo.toml")?;
    /// let file = File::from_std(std_file);
    /// let len = block_on(async { file.metadata().await })?.len();
    /// assert!(len > 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_std(std: std::fs::File) -> File {
        let std = Arc::new(std);
        File {
            engine: Mutex::new(Engine::new(Arc::clone(&std), Config::FILE)),
            std,
        }
    }

    /// Waits for pending writes (returning their error) and gives back the
    /// standard file, positioned where this one was: data read ahead is
    /// given back by seeking.
    ///
    /// # Errors
    ///
    /// The error of a background write, or of the seek back. The file is
    /// then dropped.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    /// use futures_util::io::AsyncReadExt;
    /// use std::io::Read;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let mut std_file = block_on(async {
    ///     let mut file = File::open("Cargo.toml").await?;
    ///     let mut first = [0; 9];
    ///     file.read_exact(&mut first).await?; // reads ahead much more
    ///     assert_eq!(&first, b"[package]");
    ///     file.into_std().await
    /// })?;
    /// let mut rest = String::new();
    /// std_file.read_to_string(&mut rest)?;
    /// assert!(rest.starts_with('\n'));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn into_std(self) -> io::Result<std::fs::File> {
        let back = poll_fn(|cx| {
            let mut engine = self.lock();
            ready!(engine.poll_settle(cx, true))?;
            Poll::Ready(io::Result::Ok(
                engine
                    .needs_seek_back()
                    .then(|| engine.run(true, |_| Ok(()))),
            ))
        })
        .await?;
        if let Some(back) = back {
            back.await??;
        }
        let File { std, engine } = self;
        // Settled: the engine's closures have all run and dropped their
        // clones of the file, so this is its last owner.
        drop(engine);
        Arc::try_unwrap(std)
            .map_err(|_| io::Error::other("the file is still shared with a blocking operation"))
    }

    /// Gives back the standard file if nothing is pending (no bytes waiting
    /// to be written, nothing read ahead, nothing in flight); otherwise
    /// returns `self` unchanged.
    ///
    /// # Errors
    ///
    /// `Err(self)` while anything is pending.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let file = File::from_std(std::fs::File::open("Cargo.toml")?);
    /// let std_file = file.try_into_std().expect("nothing is pending");
    /// # drop(std_file);
    /// # Ok(())
    /// # }
    /// ```
    #[allow(clippy::result_large_err)] // tokio's signature: the caller gets its file back.
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        if !self.engine_mut().is_quiet() {
            return Err(self);
        }
        let File { std, engine } = self;
        drop(engine);
        Arc::try_unwrap(std).map_err(File::from_arc)
    }

    fn from_arc(std: Arc<std::fs::File>) -> File {
        File {
            engine: Mutex::new(Engine::new(Arc::clone(&std), Config::FILE)),
            std,
        }
    }

    /// Writes what is pending, then syncs data and metadata to the device,
    /// as [`std::fs::File::sync_all`].
    ///
    /// # Errors
    ///
    /// The error of a pending background write, or of the sync.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropped before completion, the sync may still happen.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    /// use futures_util::io::AsyncWriteExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let path = std::env::temp_dir().join(format!("ember-doc-sync-{}", std::process::id()));
    /// block_on(async {
    ///     let mut file = File::create(&path).await?;
    ///     file.write_all(b"durable").await?;
    ///     file.sync_all().await // written and on the device
    /// })?;
    /// # std::fs::remove_file(&path)
    /// # }
    /// ```
    pub async fn sync_all(&self) -> io::Result<()> {
        self.settle_then(false, false, |f| f.sync_all()).await
    }

    /// Writes what is pending, then syncs the data (not necessarily the
    /// metadata) to the device, as [`std::fs::File::sync_data`].
    ///
    /// # Errors
    ///
    /// The error of a pending background write, or of the sync.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropped before completion, the sync may still happen.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    /// use futures_util::io::AsyncWriteExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let path = std::env::temp_dir().join(format!("ember-doc-sync-data-{}", std::process::id()));
    /// block_on(async {
    ///     let mut file = File::create(&path).await?;
    ///     file.write_all(b"durable").await?;
    ///     file.sync_data().await
    /// })?;
    /// # std::fs::remove_file(&path)
    /// # }
    /// ```
    pub async fn sync_data(&self) -> io::Result<()> {
        self.settle_then(false, false, |f| f.sync_data()).await
    }

    /// Writes what is pending, then truncates or extends the file to `size`
    /// bytes, as [`std::fs::File::set_len`]. The position is unchanged (and
    /// may end up past the end).
    ///
    /// # Errors
    ///
    /// The error of a pending background write, or of `set_len` (for
    /// example, the file is not open for writing).
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropped before completion, the size may still change.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    /// use futures_util::io::AsyncWriteExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let path = std::env::temp_dir().join(format!("ember-doc-set-len-{}", std::process::id()));
    /// block_on(async {
    ///     let mut file = File::create(&path).await?;
    ///     file.write_all(b"hello, world").await?;
    ///     file.set_len(5).await?;
    ///     assert_eq!(file.metadata().await?.len(), 5);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// assert_eq!(std::fs::read(&path)?, b"hello");
    /// # std::fs::remove_file(&path)
    /// # }
    /// ```
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        self.settle_then(true, true, move |f| f.set_len(size)).await
    }

    /// The file's metadata, after pending writes (so the length counts
    /// them), as [`std::fs::File::metadata`].
    ///
    /// # Errors
    ///
    /// The error of a pending background write, or of `fstat`.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let file = File::open("Cargo.toml").await?;
    ///     assert!(file.metadata().await?.is_file());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        self.settle_then(false, false, |f| f.metadata()).await
    }

    /// Changes the file's permissions, as [`std::fs::File::set_permissions`].
    ///
    /// # Errors
    ///
    /// The error of a pending background write, or of `fchmod`.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let path = std::env::temp_dir().join(format!("ember-doc-file-perm-{}", std::process::id()));
    /// block_on(async {
    ///     let file = File::create(&path).await?;
    ///     file.set_permissions(std::fs::Permissions::from_mode(0o600)).await?;
    ///     assert_eq!(file.metadata().await?.permissions().mode() & 0o777, 0o600);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # std::fs::remove_file(&path)
    /// # }
    /// ```
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        self.settle_then(false, false, move |f| f.set_permissions(perm))
            .await
    }

    /// A second handle to the same open file (sharing its position), as
    /// [`std::fs::File::try_clone`], after pending writes.
    ///
    /// # Errors
    ///
    /// The error of a pending background write, or of `dup`.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::File;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let file = File::open("Cargo.toml").await?;
    ///     let other = file.try_clone().await?;
    ///     assert_eq!(other.metadata().await?.len(), file.metadata().await?.len());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn try_clone(&self) -> io::Result<File> {
        // The clone shares the position: give back what was read ahead.
        let std = self.settle_then(true, true, |f| f.try_clone()).await?;
        Ok(File::from_std(std))
    }

    /// Settles the engine (see `Engine::poll_settle`), then runs `f` on the
    /// file behind everything submitted before.
    async fn settle_then<R, F>(&self, discard_reads: bool, positioned: bool, f: F) -> io::Result<R>
    where
        F: FnOnce(&std::fs::File) -> io::Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let mut f = Some(f);
        let job: Unblock<io::Result<R>> = poll_fn(|cx| {
            let mut engine = self.lock();
            ready!(engine.poll_settle(cx, discard_reads))?;
            match f.take() {
                Some(f) => Poll::Ready(Ok(engine.run(positioned, f))),
                None => Poll::Ready(Err(io::Error::other("polled after completion"))),
            }
        })
        .await?;
        job.await?
    }

    fn lock(&self) -> MutexGuard<'_, Engine<std::fs::File>> {
        // The engine never panics half-way through an update.
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn engine_mut(&mut self) -> &mut Engine<std::fs::File> {
        self.engine
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().engine_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().engine_mut().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().engine_mut().poll_flush(cx)
    }

    /// Flushes, as tokio's `shutdown` does: the bytes reach the OS, not
    /// necessarily the disk (see [`File::sync_all`]). The file stays open.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().engine_mut().poll_flush(cx)
    }
}

impl AsyncSeek for File {
    /// Seeks after writing what is pending and giving back what was read
    /// ahead.
    ///
    /// Not cancel safe: a seek dropped before it completes still happens,
    /// and the next seek waits for it. (Polling again with the same `pos`
    /// picks up the earlier seek's result instead of seeking twice.)
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.get_mut().engine_mut().poll_seek(cx, pos)
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std.as_raw_fd()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("std", &self.std)
            .field("engine", &*self.lock())
            .finish()
    }
}
