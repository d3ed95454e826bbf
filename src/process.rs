//! Child processes with asynchronous pipes, as `std::process` with tokio's
//! names: [`Command`] spawns a [`Child`], whose [`ChildStdin`],
//! [`ChildStdout`] and [`ChildStderr`] implement the futures-io traits and
//! whose exit is awaited without a thread.
//!
//! The reactor watches each child's exit through a pidfd (Linux >= 5.3) or
//! `SIGCHLD`. A [`Child`] dropped unreaped is reaped in the background, so
//! no zombie is left behind (killed first with
//! [`Command::kill_on_drop`]). [`Stdio`], [`ExitStatus`] and [`Output`] are
//! std's. The details, including exactly when an orphan is reaped, are in
//! [`ember_io::process`].
//!
//! ```
//! use ember::io::{AsyncReadExt, AsyncWriteExt};
//! use ember::process::{Command, Stdio};
//!
//! ember::block_on(async {
//!     let mut child = Command::new("tr")
//!         .args(["a-z", "A-Z"])
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()?;
//!     let mut stdin = child.stdin.take().expect("piped");
//!     let writer = ember::spawn(async move {
//!         stdin.write_all(b"shout").await?;
//!         stdin.close().await // `tr` sees end-of-file
//!     });
//!     let mut loud = String::new();
//!     child.stdout.take().expect("piped").read_to_string(&mut loud).await?;
//!     writer.await??;
//!     assert_eq!(loud, "SHOUT");
//!     assert!(child.wait().await?.success());
//!     std::io::Result::Ok(())
//! })?;
//! # std::io::Result::Ok(())
//! ```

pub use ember_io::process::{
    Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Output, Stdio,
};

#[doc(hidden)]
pub use ember_io::process::__private;
