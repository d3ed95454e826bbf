//! Files and directories: [`std::fs`] for async code, with the blocking
//! calls on the runtime's blocking pool.
//!
//! This module owns everything ember does with the file system. Files have
//! no readiness API (a regular file is always "ready" to `epoll`, and a
//! read may still wait for the disk), so each operation runs on the
//! blocking pool while the task waits. What makes it fast is how few round
//! trips it takes:
//!
//! - The free functions ([`read`], [`write()`], [`copy`], [`metadata`], ...)
//!   are one trip each: the whole std call runs on the pool.
//! - [`File`] reads ahead and writes behind in chunks of up to 2 MiB, so a
//!   loop of 64 KiB reads or writes costs one trip per chunk, not per call
//!   (see [`File`] for how write errors are reported).
//! - [`read_dir`] lists 32 entries per trip, with their file types.
//!
//! Names and signatures follow `tokio::fs`; [`ReadDir`] is also a
//! [`Stream`](futures_core::Stream) of entries, as in `async-fs`.
//!
//! # Examples
//!
//! ```
//! # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
//! use ember_io::fs;
//! use futures_util::io::AsyncWriteExt;
//!
//! # fn main() -> std::io::Result<()> {
//! # let dir = std::env::temp_dir().join(format!("ember-doc-fs-{}", std::process::id()));
//! block_on(async {
//!     fs::create_dir_all(dir.join("logs")).await?;
//!     let mut file = fs::File::create(dir.join("logs/today.txt")).await?;
//!     file.write_all(b"started\n").await?;
//!     file.close().await?;
//!     assert_eq!(fs::read_to_string(dir.join("logs/today.txt")).await?, "started\n");
//!     fs::remove_dir_all(&dir).await
//! })
//! # }
//! ```

mod engine;
mod file;
mod open_options;
mod paths;
mod read_dir;

pub(crate) use engine::{Config, Engine, Target, MAX_CHUNK};
pub use file::File;
pub use open_options::OpenOptions;
pub use paths::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read, read_link,
    read_to_string, remove_dir, remove_dir_all, remove_file, rename, set_permissions, symlink,
    symlink_metadata, try_exists, write,
};
pub use read_dir::{read_dir, DirEntry, ReadDir};
