//! The pipes to a child's standard streams: [`ChildStdin`] (write and
//! close), [`ChildStdout`] and [`ChildStderr`] (read). Each is a thin
//! wrapper over an [`Async`] byte stream, which holds the I/O loop.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::{self, Stdio};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::Async;

/// The write end of a pipe to a child's standard input:
/// [`AsyncWrite`](futures_io::AsyncWrite).
///
/// Closing it ([`poll_close`](AsyncWrite::poll_close), `close().await`, or
/// dropping it) closes the pipe, so the child reads end-of-file; writes
/// after a close fail with [`io::ErrorKind::BrokenPipe`]. Writing to a child
/// that has exited (or closed its input) fails with `BrokenPipe` too.
///
/// Created by [`Command::spawn`](super::Command::spawn) with
/// [`Stdio::piped`] for stdin, as the `stdin` field of the
/// [`Child`](super::Child).
///
/// It can also become another child's input, as a blocking pipe again:
/// `Stdio::try_from(stdin)`.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::process::{Command, Stdio};
/// use futures_util::io::AsyncWriteExt;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let mut child = Command::new("wc").arg("-c")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()?;
///     let mut stdin = child.stdin.take().expect("piped");
///     stdin.write_all(b"four").await?;
///     stdin.close().await?; // `wc` sees end-of-file
///     let output = child.wait_with_output().await?;
///     assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "4");
///     Ok(())
/// })
/// # }
/// ```
pub struct ChildStdin {
    /// `None` once closed.
    inner: Option<Async<process::ChildStdin>>,
}

/// The read end of a pipe from a child's standard output:
/// [`AsyncRead`](futures_io::AsyncRead).
///
/// Reads return end-of-file (`Ok(0)`) once the child, and every process it
/// passed its output on to, has closed it (normally: has exited).
///
/// Created by [`Command::spawn`](super::Command::spawn) with
/// [`Stdio::piped`] for stdout, as the `stdout` field of the
/// [`Child`](super::Child). It can also become another child's input, as a
/// blocking pipe again: `Stdio::try_from(stdout)`.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::process::{Command, Stdio};
/// use futures_util::io::AsyncReadExt;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
///     let mut text = String::new();
///     child.stdout.take().expect("piped").read_to_string(&mut text).await?;
///     assert_eq!(text, "hi\n");
///     assert!(child.wait().await?.success());
///     Ok(())
/// })
/// # }
/// ```
///
/// A pipeline, `echo hi | tr a-z A-Z`:
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::process::{Command, Stdio};
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let mut echo = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
///     let stdout = echo.stdout.take().expect("piped");
///     let tr = Command::new("tr").args(["a-z", "A-Z"]).stdin(Stdio::try_from(stdout)?).output();
///     assert_eq!(tr.await?.stdout, b"HI\n");
///     assert!(echo.wait().await?.success());
///     Ok(())
/// })
/// # }
/// ```
pub struct ChildStdout {
    inner: Async<process::ChildStdout>,
}

/// The read end of a pipe from a child's standard error:
/// [`AsyncRead`](futures_io::AsyncRead), as [`ChildStdout`].
///
/// Created by [`Command::spawn`](super::Command::spawn) with
/// [`Stdio::piped`] for stderr, as the `stderr` field of the
/// [`Child`](super::Child).
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::process::{Command, Stdio};
/// use futures_util::io::AsyncReadExt;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let mut child = Command::new("sh").args(["-c", "echo oops >&2"])
///         .stderr(Stdio::piped())
///         .spawn()?;
///     let mut text = String::new();
///     child.stderr.take().expect("piped").read_to_string(&mut text).await?;
///     assert_eq!(text, "oops\n");
///     assert!(child.wait().await?.success());
///     Ok(())
/// })
/// # }
/// ```
pub struct ChildStderr {
    inner: Async<process::ChildStderr>,
}

impl ChildStdin {
    pub(crate) fn new(stdin: process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            inner: Some(Async::new_stream(stdin)?),
        })
    }

    fn open(&mut self) -> io::Result<Pin<&mut Async<process::ChildStdin>>> {
        match &mut self.inner {
            Some(inner) => Ok(Pin::new(inner)),
            None => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the child's stdin was closed",
            )),
        }
    }
}

impl ChildStdout {
    pub(crate) fn new(stdout: process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout {
            inner: Async::new_stream(stdout)?,
        })
    }
}

impl ChildStderr {
    pub(crate) fn new(stderr: process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr {
            inner: Async::new_stream(stderr)?,
        })
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.open() {
            Ok(inner) => inner.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.open() {
            Ok(inner) => inner.poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered: a pipe write is in the kernel once it returns.
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe (the child reads end-of-file). Closing twice is not
    /// an error.
    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Dropping the `Async` deregisters the descriptor, then closes it.
        self.inner = None;
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read_vectored(cx, bufs)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read_vectored(cx, bufs)
    }
}

/// Deregisters `pipe` and puts it back in blocking mode, as a child
/// expects its standard streams to be.
fn into_blocking<T: AsFd + Into<OwnedFd>>(pipe: Async<T>) -> io::Result<Stdio> {
    let fd: OwnedFd = pipe.into_inner()?.into();
    ember_reactor::__private::set_blocking(fd.as_fd())?;
    Ok(Stdio::from(fd))
}

/// Hands the pipe to another child as one of its standard streams (back in
/// blocking mode, deregistered from the reactor).
///
/// # Errors
///
/// `BrokenPipe` if the pipe was closed; the OS error if it cannot be
/// deregistered or made blocking again.
impl TryFrom<ChildStdin> for Stdio {
    type Error = io::Error;

    fn try_from(mut stdin: ChildStdin) -> io::Result<Stdio> {
        match stdin.inner.take() {
            Some(inner) => into_blocking(inner),
            None => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the child's stdin was closed",
            )),
        }
    }
}

/// Hands the pipe to another child as one of its standard streams (back in
/// blocking mode, deregistered from the reactor).
///
/// # Errors
///
/// The OS error if the pipe cannot be deregistered or made blocking again.
impl TryFrom<ChildStdout> for Stdio {
    type Error = io::Error;

    fn try_from(stdout: ChildStdout) -> io::Result<Stdio> {
        into_blocking(stdout.inner)
    }
}

/// Hands the pipe to another child as one of its standard streams (back in
/// blocking mode, deregistered from the reactor).
///
/// # Errors
///
/// The OS error if the pipe cannot be deregistered or made blocking again.
impl TryFrom<ChildStderr> for Stdio {
    type Error = io::Error;

    fn try_from(stderr: ChildStderr) -> io::Result<Stdio> {
        into_blocking(stderr.inner)
    }
}

impl AsFd for ChildStdout {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for ChildStdout {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for ChildStderr {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for ChildStderr {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = self.inner.as_ref().map(|inner| inner.as_raw_fd());
        f.debug_struct("ChildStdin").field("fd", &fd).finish()
    }
}

impl fmt::Debug for ChildStdout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdout")
            .field("fd", &self.inner.as_raw_fd())
            .finish()
    }
}

impl fmt::Debug for ChildStderr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStderr")
            .field("fd", &self.inner.as_raw_fd())
            .finish()
    }
}
