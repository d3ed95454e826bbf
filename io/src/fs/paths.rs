//! The free functions of [`ember_io::fs`](super) that act on paths: each is
//! its [`std::fs`] namesake run in one trip to the blocking pool.
//!
//! Every one of them panics outside an ember runtime, and returns the
//! error of its `std::fs` namesake (or an error if the runtime shut down
//! before the call ran).

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

use crate::blocking::unblock;

/// Runs `f` on the path, owned, on the blocking pool.
async fn with_path<T, F>(path: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(PathBuf) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = path.to_owned();
    unblock(move || f(path)).await?
}

/// Runs `f` on the two paths, owned, on the blocking pool.
async fn with_paths<T, F>(from: &Path, to: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(PathBuf, PathBuf) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let (from, to) = (from.to_owned(), to.to_owned());
    unblock(move || f(from, to)).await?
}

/// Reads the whole file at `path`, as [`std::fs::read`].
///
/// # Errors
///
/// As [`std::fs::read`]: [`io::ErrorKind::NotFound`], ...
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
/// let bytes = block_on(ember_io::fs::read("Cargo.toml"))?;
/// assert!(bytes.starts_with(b"[package]"));
/// # Ok(())
/// # }
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    with_path(path.as_ref(), std::fs::read).await
}

/// Reads the whole file at `path` as UTF-8, as [`std::fs::read_to_string`].
///
/// # Errors
///
/// As [`std::fs::read_to_string`]: [`io::ErrorKind::InvalidData`] if it is
/// not UTF-8, ...
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
/// let text = block_on(ember_io::fs::read_to_string("Cargo.toml"))?;
/// assert!(text.contains("name = \"ember-io\""));
/// # Ok(())
/// # }
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    with_path(path.as_ref(), std::fs::read_to_string).await
}

/// Writes `contents` as the whole file at `path`, creating or truncating it,
/// as [`std::fs::write`]. `contents` is copied once, to hand it to the
/// pool.
///
/// # Errors
///
/// As [`std::fs::write`].
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
/// # let path = std::env::temp_dir().join(format!("ember-doc-write-{}", std::process::id()));
/// block_on(ember_io::fs::write(&path, "hello"))?;
/// assert_eq!(std::fs::read(&path)?, b"hello");
/// # std::fs::remove_file(&path)
/// # }
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_owned();
    with_path(path.as_ref(), move |path| std::fs::write(path, contents)).await
}

/// Copies the contents and permissions of the file `from` to the file `to`,
/// replacing it, as [`std::fs::copy`]; returns the number of bytes copied.
///
/// # Errors
///
/// As [`std::fs::copy`].
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
/// # let to = std::env::temp_dir().join(format!("ember-doc-copy-{}", std::process::id()));
/// let copied = block_on(ember_io::fs::copy("Cargo.toml", &to))?;
/// assert_eq!(copied, std::fs::metadata("Cargo.toml")?.len());
/// # std::fs::remove_file(&to)
/// # }
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    with_paths(from.as_ref(), to.as_ref(), std::fs::copy).await
}

/// Renames `from` to `to`, replacing `to` if it exists (when that is
/// allowed), as [`std::fs::rename`].
///
/// # Errors
///
/// As [`std::fs::rename`]: [`io::ErrorKind::NotFound`] if `from` does not
/// exist, an error across file systems, ...
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
/// # let dir = std::env::temp_dir().join(format!("ember-doc-rename-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let (old, new) = (dir.join("draft"), dir.join("final"));
/// std::fs::write(&old, "text")?;
/// block_on(ember_io::fs::rename(&old, &new))?;
/// assert!(!old.exists() && new.exists());
/// # std::fs::remove_dir_all(&dir)
/// # }
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    with_paths(from.as_ref(), to.as_ref(), std::fs::rename).await
}

/// Removes the file (or symbolic link) at `path`, as
/// [`std::fs::remove_file`].
///
/// # Errors
///
/// As [`std::fs::remove_file`]: [`io::ErrorKind::NotFound`], an error for a
/// directory, ...
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
/// # let path = std::env::temp_dir().join(format!("ember-doc-remove-file-{}", std::process::id()));
/// std::fs::write(&path, "")?;
/// block_on(ember_io::fs::remove_file(&path))?;
/// assert!(!path.exists());
/// # Ok(())
/// # }
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    with_path(path.as_ref(), std::fs::remove_file).await
}

/// Removes the empty directory at `path`, as [`std::fs::remove_dir`].
///
/// # Errors
///
/// As [`std::fs::remove_dir`]: [`io::ErrorKind::DirectoryNotEmpty`],
/// [`io::ErrorKind::NotFound`], ...
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
/// # let dir = std::env::temp_dir().join(format!("ember-doc-remove-dir-{}", std::process::id()));
/// std::fs::create_dir(&dir)?;
/// block_on(ember_io::fs::remove_dir(&dir))?;
/// assert!(!dir.exists());
/// # Ok(())
/// # }
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    with_path(path.as_ref(), std::fs::remove_dir).await
}

/// Removes the directory at `path` and everything in it, as
/// [`std::fs::remove_dir_all`]. Symbolic links inside are removed, not
/// followed.
///
/// # Errors
///
/// As [`std::fs::remove_dir_all`].
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
/// # let dir = std::env::temp_dir().join(format!("ember-doc-remove-dir-all-{}", std::process::id()));
/// std::fs::create_dir_all(dir.join("a/b"))?;
/// std::fs::write(dir.join("a/b/file"), "x")?;
/// block_on(ember_io::fs::remove_dir_all(&dir))?;
/// assert!(!dir.exists());
/// # Ok(())
/// # }
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    with_path(path.as_ref(), std::fs::remove_dir_all).await
}

/// Creates the directory `path` (its parent must exist), as
/// [`std::fs::create_dir`].
///
/// # Errors
///
/// As [`std::fs::create_dir`]: [`io::ErrorKind::AlreadyExists`],
/// [`io::ErrorKind::NotFound`] for a missing parent, ...
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
/// # let dir = std::env::temp_dir().join(format!("ember-doc-create-dir-{}", std::process::id()));
/// block_on(ember_io::fs::create_dir(&dir))?;
/// assert!(dir.is_dir());
/// # std::fs::remove_dir(&dir)
/// # }
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    with_path(path.as_ref(), std::fs::create_dir).await
}

/// Creates the directory `path` and any missing parents, as
/// [`std::fs::create_dir_all`]. Succeeds if it already exists.
///
/// # Errors
///
/// As [`std::fs::create_dir_all`].
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
/// # let dir = std::env::temp_dir().join(format!("ember-doc-create-dir-all-{}", std::process::id()));
/// block_on(ember_io::fs::create_dir_all(dir.join("a/b/c")))?;
/// assert!(dir.join("a/b/c").is_dir());
/// # std::fs::remove_dir_all(&dir)
/// # }
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    with_path(path.as_ref(), std::fs::create_dir_all).await
}

/// The metadata of `path`, following symbolic links, as
/// [`std::fs::metadata`].
///
/// # Errors
///
/// As [`std::fs::metadata`]: [`io::ErrorKind::NotFound`], ...
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
/// let meta = block_on(ember_io::fs::metadata("src"))?;
/// assert!(meta.is_dir());
/// # Ok(())
/// # }
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    with_path(path.as_ref(), std::fs::metadata).await
}

/// The metadata of `path` itself, not following a final symbolic link, as
/// [`std::fs::symlink_metadata`].
///
/// # Errors
///
/// As [`std::fs::symlink_metadata`].
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
/// # let dir = std::env::temp_dir().join(format!("ember-doc-symlink-metadata-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let link = dir.join("link");
/// std::os::unix::fs::symlink("/", &link)?;
/// let meta = block_on(ember_io::fs::symlink_metadata(&link))?;
/// assert!(meta.file_type().is_symlink());
/// # std::fs::remove_dir_all(&dir)
/// # }
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    with_path(path.as_ref(), std::fs::symlink_metadata).await
}

/// The absolute path of `path` with every symbolic link, `.` and `..`
/// resolved, as [`std::fs::canonicalize`].
///
/// # Errors
///
/// As [`std::fs::canonicalize`]: [`io::ErrorKind::NotFound`], ...
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
/// let path = block_on(ember_io::fs::canonicalize("src/../Cargo.toml"))?;
/// assert!(path.is_absolute() && path.ends_with("Cargo.toml"));
/// # Ok(())
/// # }
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    with_path(path.as_ref(), std::fs::canonicalize).await
}

/// Creates `link` as a new hard link to the file `original`, as
/// [`std::fs::hard_link`].
///
/// # Errors
///
/// As [`std::fs::hard_link`]: [`io::ErrorKind::AlreadyExists`], an error
/// across file systems, ...
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
/// # let dir = std::env::temp_dir().join(format!("ember-doc-hard-link-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("a"), "shared")?;
/// block_on(ember_io::fs::hard_link(dir.join("a"), dir.join("b")))?;
/// assert_eq!(std::fs::read(dir.join("b"))?, b"shared");
/// # std::fs::remove_dir_all(&dir)
/// # }
/// ```
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    with_paths(original.as_ref(), link.as_ref(), std::fs::hard_link).await
}

/// Creates `link` as a symbolic link to `original` (which need not exist),
/// as [`std::os::unix::fs::symlink`].
///
/// # Errors
///
/// As [`std::os::unix::fs::symlink`]: [`io::ErrorKind::AlreadyExists`],
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
/// # let dir = std::env::temp_dir().join(format!("ember-doc-symlink-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// block_on(ember_io::fs::symlink("target.txt", dir.join("link")))?;
/// assert_eq!(std::fs::read_link(dir.join("link"))?, std::path::Path::new("target.txt"));
/// # std::fs::remove_dir_all(&dir)
/// # }
/// ```
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    with_paths(original.as_ref(), link.as_ref(), std::os::unix::fs::symlink).await
}

/// The target a symbolic link points to, as [`std::fs::read_link`].
///
/// # Errors
///
/// As [`std::fs::read_link`]: [`io::ErrorKind::InvalidInput`] if `path` is
/// not a symbolic link, ...
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
/// # let dir = std::env::temp_dir().join(format!("ember-doc-read-link-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// std::os::unix::fs::symlink("/etc", dir.join("link"))?;
/// let target = block_on(ember_io::fs::read_link(dir.join("link")))?;
/// assert_eq!(target, std::path::Path::new("/etc"));
/// # std::fs::remove_dir_all(&dir)
/// # }
/// ```
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    with_path(path.as_ref(), std::fs::read_link).await
}

/// Changes the permissions of `path`, as [`std::fs::set_permissions`].
///
/// # Errors
///
/// As [`std::fs::set_permissions`].
///
/// # Panics
///
/// Outside an ember runtime.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use std::os::unix::fs::PermissionsExt;
///
/// # fn main() -> std::io::Result<()> {
/// # let path = std::env::temp_dir().join(format!("ember-doc-set-permissions-{}", std::process::id()));
/// std::fs::write(&path, "")?;
/// block_on(ember_io::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)))?;
/// assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o640);
/// # std::fs::remove_file(&path)
/// # }
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    with_path(path.as_ref(), move |path| {
        std::fs::set_permissions(path, perm)
    })
    .await
}

/// Whether `path` exists (following symbolic links), as
/// [`Path::try_exists`]: `Ok(false)` only when it certainly does not, an
/// error when that cannot be told (for example, permission denied on a
/// parent).
///
/// # Errors
///
/// When existence cannot be determined.
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
/// assert!(block_on(ember_io::fs::try_exists("Cargo.toml"))?);
/// assert!(!block_on(ember_io::fs::try_exists("no/such/file"))?);
/// # Ok(())
/// # }
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    with_path(path.as_ref(), |path| path.try_exists()).await
}
