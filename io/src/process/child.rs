//! [`Child`]: a running (or exited) child process, its pipes, its wait and
//! its kill; and what happens when it is dropped unreaped.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::process::{ExitStatus, Output};
use std::task::{Context, Poll};

use super::exit::ExitWatcher;
use super::orphan;
use super::output::poll_read_to_end;
use super::pipe::{ChildStderr, ChildStdin, ChildStdout};

/// A child process spawned by [`Command::spawn`](super::Command::spawn).
///
/// Its piped standard streams are in the public fields, ready to be taken;
/// [`wait`](Child::wait) waits for it to exit without blocking a thread,
/// [`kill`](Child::kill) ends it.
///
/// Dropping a `Child` neither waits for the process nor (by default) kills
/// it: it keeps running, and is reaped in the background when it exits, so
/// no zombie is left (see the [module docs](super#orphans) for exactly
/// when). With [`Command::kill_on_drop`](super::Command::kill_on_drop) it is
/// killed first.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::process::{Command, Stdio};
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let mut child = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()?;
///     let mut stdin = child.stdin.take().expect("piped");
///     let mut stdout = child.stdout.take().expect("piped");
///     stdin.write_all(b"round trip").await?;
///     drop(stdin); // `cat` sees end-of-file
///     let mut echoed = Vec::new();
///     stdout.read_to_end(&mut echoed).await?;
///     assert_eq!(echoed, b"round trip");
///     assert!(child.wait().await?.success());
///     Ok(())
/// })
/// # }
/// ```
pub struct Child {
    /// The writer of the child's stdin, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The reader of the child's stdout, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The reader of the child's stderr, if it was piped.
    pub stderr: Option<ChildStderr>,
    /// `Some` until `Drop` hands it to the orphan list.
    inner: Option<Inner>,
    /// The exit status, once collected: the child is reaped and its pid may
    /// belong to another process.
    status: Option<ExitStatus>,
    kill_on_drop: bool,
}

/// The process itself and the watcher of its exit.
struct Inner {
    /// std's handle: it reaps (`try_wait`) and kills, and remembers the
    /// status so that it never signals a reaped pid.
    child: std::process::Child,
    watcher: ExitWatcher,
}

/// `inner` is `None` only inside `Drop`.
const DROPPED: &str = "ember_io::process::Child used after drop";

impl Child {
    /// Wraps a freshly spawned `child`: registers its pipes and its exit
    /// watcher with the current reactor. On failure the child is killed and
    /// handed to the orphan list, and the error returned.
    pub(crate) fn new(
        mut child: std::process::Child,
        kill_on_drop: bool,
        sigchld: bool,
    ) -> io::Result<Child> {
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let registered = (|| {
            let watcher = ExitWatcher::new(child.id(), sigchld)?;
            Ok::<_, io::Error>((
                watcher,
                stdin.map(ChildStdin::new).transpose()?,
                stdout.map(ChildStdout::new).transpose()?,
                stderr.map(ChildStderr::new).transpose()?,
            ))
        })();
        match registered {
            Ok((watcher, stdin, stdout, stderr)) => Ok(Child {
                stdin,
                stdout,
                stderr,
                inner: Some(Inner { child, watcher }),
                status: None,
                kill_on_drop,
            }),
            Err(e) => {
                // Nobody can talk to it or wait for it: end it. A failed
                // kill means it has exited already; it is reaped either way.
                let _ = child.kill();
                orphan::adopt(child, None);
                Err(e)
            }
        }
    }

    fn inner(&mut self) -> &mut Inner {
        self.inner.as_mut().expect(DROPPED)
    }

    /// The OS process id of the child, or `None` once its exit status was
    /// collected (its pid may then belong to another process).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::Command;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let mut child = Command::new("true").spawn()?;
    ///     assert!(child.id().is_some());
    ///     child.wait().await?;
    ///     assert_eq!(child.id(), None);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn id(&self) -> Option<u32> {
        match (&self.inner, self.status) {
            (Some(inner), None) => Some(inner.child.id()),
            _ => None,
        }
    }

    /// Waits for the child to exit and returns its exit status.
    ///
    /// The child's stdin, if still held, is closed first, so a child that
    /// reads its input to the end cannot deadlock the wait. Calling `wait`
    /// again (or [`try_wait`](Child::try_wait)) returns the same status.
    ///
    /// No thread waits: the reactor reports the exit (through the child's
    /// pidfd where the kernel has them, else through `SIGCHLD`).
    ///
    /// # Errors
    ///
    /// An error if the reactor the child was spawned on has shut down, or
    /// the OS error of `waitpid` (`ECHILD` if something else in the process
    /// reaped the child).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future loses nothing, and `wait` can be
    /// called again (for example after a `timeout`).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::Command;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let mut child = Command::new("sh").args(["-c", "exit 7"]).spawn()?;
    ///     let status = child.wait().await?;
    ///     assert_eq!(status.code(), Some(7));
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// The poll behind `wait`; one waker, the last poller wins (`wait`
    /// takes `&mut self`, so there is one).
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        orphan::reap_if_any();
        if let Some(status) = self.status {
            return Poll::Ready(Ok(status));
        }
        let inner = self.inner();
        let polled = inner.watcher.poll_exit(cx, &mut inner.child);
        if let Poll::Ready(Ok(status)) = polled {
            self.status = Some(status);
        }
        polled
    }

    /// Returns the exit status if the child has exited, `None` if it is
    /// still running; never blocks (one non-blocking `waitpid`).
    ///
    /// # Errors
    ///
    /// The OS error of `waitpid`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::{Command, Stdio};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    ///     // `cat` waits for its input to end.
    ///     assert_eq!(child.try_wait()?, None);
    ///     let status = child.wait().await?; // closes stdin first
    ///     assert_eq!(child.try_wait()?, Some(status));
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        orphan::reap_if_any();
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let status = self.inner().child.try_wait()?;
        self.status = status;
        Ok(status)
    }

    /// Sends the child `SIGKILL` and returns without waiting for it to
    /// exit; [`wait`](Child::wait) then collects its status. Does nothing if
    /// the exit status was already collected.
    ///
    /// # Errors
    ///
    /// The OS error of `kill(2)`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::{Command, Stdio};
    /// use std::os::unix::process::ExitStatusExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    ///     child.start_kill()?;
    ///     let status = child.wait().await?;
    ///     assert_eq!(status.signal(), Some(libc::SIGKILL));
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn start_kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        // std's `kill` never signals a child std has reaped, and only std
        // reaps (through this `Child`), so the pid is still this child's.
        self.inner().child.kill()
    }

    /// Kills the child (`SIGKILL`) and waits for it to exit; the same as
    /// [`start_kill`](Child::start_kill) then [`wait`](Child::wait).
    ///
    /// # Errors
    ///
    /// The errors of `start_kill` and `wait`.
    ///
    /// # Cancel safety
    ///
    /// The signal is sent at the first poll; dropping the future after that
    /// loses nothing: call [`wait`](Child::wait) to collect the status.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::{Command, Stdio};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    ///     child.kill().await?;
    ///     assert!(!child.wait().await?.success());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await?;
        Ok(())
    }

    /// Waits for the child to exit, collecting everything it writes to the
    /// piped stdout and stderr (both read concurrently, so a child that
    /// fills one pipe while the other is read cannot deadlock).
    ///
    /// The child's stdin, if still held, is closed first. A stream that was
    /// not piped, or was taken out of the `Child`, comes back empty.
    ///
    /// # Errors
    ///
    /// A read error of either pipe, or the errors of [`wait`](Child::wait).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the `Child` and what was read so far (see
    /// [`Child`] for what happens to the process).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::{Command, Stdio};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let child = Command::new("sh")
    ///         .args(["-c", "echo to-out; echo to-err >&2"])
    ///         .stdout(Stdio::piped())
    ///         .stderr(Stdio::piped())
    ///         .spawn()?;
    ///     let output = child.wait_with_output().await?;
    ///     assert!(output.status.success());
    ///     assert_eq!(output.stdout, b"to-out\n");
    ///     assert_eq!(output.stderr, b"to-err\n");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let mut stdout_pipe = self.stdout.take();
        let mut stderr_pipe = self.stderr.take();
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut status = None;
        poll_fn(|cx| {
            // Each pipe is closed as soon as it reached end-of-file.
            if poll_read_to_end(&mut stdout_pipe, &mut stdout, cx)?.is_ready() {
                stdout_pipe = None;
            }
            if poll_read_to_end(&mut stderr_pipe, &mut stderr, cx)?.is_ready() {
                stderr_pipe = None;
            }
            if status.is_none() {
                if let Poll::Ready(exited) = self.poll_wait(cx) {
                    status = Some(exited?);
                }
            }
            match status {
                Some(status) if stdout_pipe.is_none() && stderr_pipe.is_none() => {
                    Poll::Ready(Ok(status))
                }
                _ => Poll::Pending,
            }
        })
        .await
        .map(|status| Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Whether the exit is watched through a pidfd.
    pub(crate) fn uses_pidfd(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|inner| inner.watcher.is_pidfd())
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(Inner { mut child, watcher }) = self.inner.take() else {
            return;
        };
        if self.status.is_none() {
            if self.kill_on_drop {
                // Fails only if it has exited already: reaped below.
                let _ = child.kill();
            }
            // Still running (or killed and not gone yet): the orphan list
            // reaps it when its watcher reports the exit. Otherwise it was
            // reaped just now, or is not ours to reap (`ECHILD`).
            if let Ok(None) = child.try_wait() {
                orphan::adopt(child, Some(watcher));
                return;
            }
        }
        orphan::reap_if_any();
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &self.status)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}
