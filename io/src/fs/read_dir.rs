//! [`read_dir`], [`ReadDir`] and [`DirEntry`]: directory listings read on
//! the blocking pool in batches of [`BATCH`] entries per round trip.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::{poll_fn, Future};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

use crate::blocking::{unblock, Unblock};

/// Entries read per round trip to the blocking pool (tokio's figure).
const BATCH: usize = 32;

/// Lists the entries of the directory at `path`, as [`std::fs::read_dir`].
///
/// The directory is opened and its first batch of entries read in one trip
/// to the blocking pool; the rest follow 32 at a time.
/// Use [`ReadDir::next_entry`] (tokio's way) or the [`Stream`] impl
/// (smol's).
///
/// # Errors
///
/// As [`std::fs::read_dir`]: [`io::ErrorKind::NotFound`],
/// [`io::ErrorKind::NotADirectory`], [`io::ErrorKind::PermissionDenied`],
/// ...
///
/// # Panics
///
/// Outside an ember runtime.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let mut entries = ember_io::fs::read_dir("src").await?;
///     let mut names = Vec::new();
///     while let Some(entry) = entries.next_entry().await? {
///         names.push(entry.file_name());
///     }
///     assert!(names.iter().any(|name| name == "lib.rs"));
///     Ok(())
/// })
/// # }
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let (dir, batch) = unblock(move || {
        let mut dir = std::fs::read_dir(path)?;
        let batch = next_batch(&mut dir);
        io::Result::Ok((dir, batch))
    })
    .await??;
    Ok(ReadDir::from_batch(dir, batch))
}

/// The entries of a directory, from [`read_dir`].
///
/// Entries come in no particular order and never include `.` and `..`. An
/// error reading one entry is returned in its place; the listing may go on
/// after it.
///
/// # Examples
///
/// As a [`Stream`]:
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use futures_util::TryStreamExt;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let entries: Vec<_> = ember_io::fs::read_dir("src").await?.try_collect().await?;
///     assert!(entries.iter().any(|entry| entry.file_name() == "lib.rs"));
///     Ok(())
/// })
/// # }
/// ```
pub struct ReadDir {
    /// Entries read and not yet handed out.
    batch: VecDeque<io::Result<DirEntry>>,
    state: State,
}

enum State {
    /// Not reading; `None` once the directory is exhausted.
    Idle(Option<std::fs::ReadDir>),
    /// Reading the next batch on the pool.
    Busy(Unblock<(std::fs::ReadDir, Batch)>),
}

/// One batch: the entries, and whether the directory ended within it.
struct Batch {
    entries: VecDeque<io::Result<DirEntry>>,
    end: bool,
}

/// Reads up to [`BATCH`] entries from `dir`, with their file types: free
/// where the file system reports them in the listing (`d_type`), one
/// `lstat` on the pool otherwise, and never one more trip to the pool.
fn next_batch(dir: &mut std::fs::ReadDir) -> Batch {
    let mut entries = VecDeque::with_capacity(BATCH);
    for entry in dir.by_ref() {
        entries.push_back(entry.map(|std| {
            let file_type = std.file_type().ok();
            DirEntry {
                std: Arc::new(std),
                file_type,
            }
        }));
        if entries.len() == BATCH {
            return Batch {
                entries,
                end: false,
            };
        }
    }
    Batch { entries, end: true }
}

impl ReadDir {
    fn from_batch(dir: std::fs::ReadDir, batch: Batch) -> ReadDir {
        ReadDir {
            batch: batch.entries,
            state: State::Idle((!batch.end).then_some(dir)),
        }
    }

    /// The next entry, or `None` at the end of the directory.
    ///
    /// # Errors
    ///
    /// The error reading this entry (the next call may go on with the
    /// following one), or an error if the runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a batch being read when the future is dropped is kept
    /// for the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let mut entries = ember_io::fs::read_dir("tests").await?;
    ///     let mut count = 0;
    ///     while let Some(_entry) = entries.next_entry().await? {
    ///         count += 1;
    ///     }
    ///     assert!(count > 0);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry: `Ready(Ok(None))` at the end of the
    /// directory. The `poll_` form of [`next_entry`](ReadDir::next_entry).
    ///
    /// # Errors
    ///
    /// As [`next_entry`](ReadDir::next_entry).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let mut entries = ember_io::fs::read_dir("src").await?;
    ///     let first = std::future::poll_fn(|cx| entries.poll_next_entry(cx)).await?;
    ///     assert!(first.is_some());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            if let Some(entry) = self.batch.pop_front() {
                return Poll::Ready(entry.map(Some));
            }
            match &mut self.state {
                State::Idle(None) => return Poll::Ready(Ok(None)),
                State::Idle(dir) => {
                    let Some(mut dir) = dir.take() else {
                        continue;
                    };
                    self.state = State::Busy(unblock(move || {
                        let batch = next_batch(&mut dir);
                        (dir, batch)
                    }));
                }
                State::Busy(busy) => {
                    let result = ready!(Pin::new(busy).poll(cx));
                    match result {
                        Ok((dir, batch)) => {
                            self.batch = batch.entries;
                            self.state = State::Idle((!batch.end).then_some(dir));
                        }
                        Err(e) => {
                            self.state = State::Idle(None);
                            return Poll::Ready(Err(e));
                        }
                    }
                }
            }
        }
    }
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx).map(Result::transpose)
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle(Some(_)) => "idle",
            State::Idle(None) => "done",
            State::Busy(_) => "reading",
        };
        f.debug_struct("ReadDir")
            .field("buffered", &self.batch.len())
            .field("state", &state)
            .finish()
    }
}

/// One entry of a directory listing, from [`ReadDir`].
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let mut entries = ember_io::fs::read_dir(".").await?;
///     while let Some(entry) = entries.next_entry().await? {
///         if entry.file_name() == "Cargo.toml" {
///             assert!(entry.file_type().await?.is_file());
///             assert!(entry.metadata().await?.len() > 0);
///             assert_eq!(entry.path(), std::path::Path::new("./Cargo.toml"));
///         }
///     }
///     Ok(())
/// })
/// # }
/// ```
#[derive(Clone)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Read with the batch, when that was free.
    file_type: Option<FileType>,
}

impl DirEntry {
    /// The full path: the listed directory's path joined with
    /// [`file_name`](DirEntry::file_name).
    ///
    /// # Examples
    ///
    /// See [`DirEntry`].
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name within its directory.
    ///
    /// # Examples
    ///
    /// See [`DirEntry`].
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number, as
    /// [`std::os::unix::fs::DirEntryExt::ino`].
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let entry = ember_io::fs::read_dir("src").await?.next_entry().await?;
    ///     assert!(entry.map_or(0, |e| e.ino()) > 0);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }

    /// The entry's metadata, not following a symbolic link (`lstat`), on
    /// the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`std::fs::DirEntry::metadata`] (for example, the entry was
    /// removed since it was listed).
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// See [`DirEntry`].
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = Arc::clone(&self.std);
        unblock(move || std.metadata()).await?
    }

    /// The entry's file type, not following a symbolic link. Usually known
    /// from the listing itself and returned at once; otherwise read on the
    /// blocking pool.
    ///
    /// # Errors
    ///
    /// As [`std::fs::DirEntry::file_type`].
    ///
    /// # Panics
    ///
    /// Outside an ember runtime, when the type was not known from the
    /// listing.
    ///
    /// # Examples
    ///
    /// See [`DirEntry`].
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = Arc::clone(&self.std);
        unblock(move || std.file_type()).await?
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}
