//! Files and directories: `tokio::fs` names over [`std::fs`], with every
//! blocking call on the runtime's blocking pool.
//!
//! Files have no readiness API, so the work runs on the pool, batched:
//! [`File`] reads ahead and writes behind in chunks of up to 2 MiB (one
//! pool round trip per chunk, not per call), [`read_dir`] lists 32 entries
//! per round trip, and each free function is one round trip. A background
//! write's error is returned by the file's next operation, by `flush` or by
//! `close`: call one of them before relying on the data being written.
//! Every type implements the futures-io traits ([`crate::io::AsyncRead`],
//! [`crate::io::AsyncWrite`], [`crate::io::AsyncSeek`]), and [`ReadDir`] is
//! also a `Stream` of entries.
//!
//! ```
//! use ember::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # let dir = std::env::temp_dir().join(format!("ember-fs-doc-{}", std::process::id()));
//! ember::block_on(async {
//!     ember::fs::create_dir_all(&dir).await?;
//!     let mut file = ember::fs::File::create(dir.join("notes.txt")).await?;
//!     file.write_all(b"remember the milk").await?;
//!     file.close().await?; // flushes, and reports any write error
//!
//!     let mut text = String::new();
//!     ember::fs::File::open(dir.join("notes.txt")).await?.read_to_string(&mut text).await?;
//!     assert_eq!(text, "remember the milk");
//!     ember::fs::remove_dir_all(&dir).await
//! })?;
//! # std::io::Result::Ok(())
//! ```

pub use ember_io::fs::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read, read_dir, read_link,
    read_to_string, remove_dir, remove_dir_all, remove_file, rename, set_permissions, symlink,
    symlink_metadata, try_exists, write, DirEntry, File, OpenOptions, ReadDir,
};
