//! [`OpenOptions`]: how to open a [`File`], as [`std::fs::OpenOptions`],
//! with the open itself on the blocking pool.

use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::File;
use crate::blocking::unblock;

/// Options and flags to open a [`File`] with: the builder of
/// [`std::fs::OpenOptions`], whose `open` runs on the blocking pool.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::fs::OpenOptions;
/// use futures_util::io::AsyncWriteExt;
///
/// # fn main() -> std::io::Result<()> {
/// # let path = std::env::temp_dir().join(format!("ember-doc-open-options-{}", std::process::id()));
/// block_on(async {
///     let mut file = OpenOptions::new()
///         .write(true)
///         .create_new(true)
///         .mode(0o600)
///         .open(&path)
///         .await?;
///     file.write_all(b"secret").await?;
///     file.close().await
/// })?;
/// # std::fs::remove_file(&path)
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// All options off: set at least one of `read`, `write` or `append`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut options = ember_io::fs::OpenOptions::new();
    /// options.read(true);
    /// ```
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// # fn main() -> std::io::Result<()> {
    /// let file = block_on(ember_io::fs::OpenOptions::new().read(true).open("Cargo.toml"))?;
    /// # drop(file); Ok(())
    /// # }
    /// ```
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing (from the start, without truncating unless
    /// [`truncate`](OpenOptions::truncate) is set).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut options = ember_io::fs::OpenOptions::new();
    /// options.write(true).truncate(true);
    /// ```
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Open for appending: every write goes to the end of the file.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut options = ember_io::fs::OpenOptions::new();
    /// options.append(true).create(true);
    /// ```
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate the file to 0 bytes when opening it (needs `write`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut options = ember_io::fs::OpenOptions::new();
    /// options.write(true).truncate(true);
    /// ```
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs `write` or `append`).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut options = ember_io::fs::OpenOptions::new();
    /// options.write(true).create(true);
    /// ```
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing if it exists (atomically; `create` and
    /// `truncate` are then ignored).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut options = ember_io::fs::OpenOptions::new();
    /// options.write(true).create_new(true);
    /// ```
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits of a file created by this open (before the
    /// umask), as [`std::os::unix::fs::OpenOptionsExt::mode`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut options = ember_io::fs::OpenOptions::new();
    /// options.write(true).create(true).mode(0o600);
    /// ```
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.0.mode(mode);
        self
    }

    /// Extra `open(2)` flags, as
    /// [`std::os::unix::fs::OpenOptionsExt::custom_flags`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut options = ember_io::fs::OpenOptions::new();
    /// options.read(true).custom_flags(libc::O_NOFOLLOW);
    /// ```
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.0.custom_flags(flags);
        self
    }

    /// Opens `path` with these options, on the blocking pool.
    ///
    /// # Errors
    ///
    /// As [`std::fs::OpenOptions::open`]: [`io::ErrorKind::NotFound`],
    /// [`io::ErrorKind::AlreadyExists`] with `create_new`,
    /// [`io::ErrorKind::InvalidInput`] for an invalid combination, ...
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::fs::OpenOptions;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// let missing = block_on(OpenOptions::new().read(true).open("no/such/file"));
    /// assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let options = self.0.clone();
        let path = path.as_ref().to_owned();
        let std = unblock(move || options.open(path)).await??;
        Ok(File::from_std(std))
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}
