//! [`Command`]: std's process builder, spawning children whose pipes and
//! exit the reactor watches.

use std::ffi::OsStr;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use ember_reactor::Handle;

use super::child::Child;

/// A process builder, as `std::process::Command`, whose children are
/// [`Child`]ren of the reactor: their pipes are asynchronous and their exit
/// is awaited without a thread.
///
/// Configure it with the same methods as std's, then [`spawn`] a child, or
/// run one to completion with [`status`] or [`output`]. A `Command` can be
/// reused to spawn any number of children.
///
/// By default, [`spawn`] and [`status`] let the child inherit the standard
/// streams of this process; [`output`] captures its stdout and stderr and
/// gives it an empty stdin (`/dev/null`), as std does.
///
/// [`spawn`]: Command::spawn
/// [`status`]: Command::status
/// [`output`]: Command::output
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::process::Command;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let status = Command::new("sh").args(["-c", "exit 3"]).status().await?;
///     assert_eq!(status.code(), Some(3));
///     Ok(())
/// })
/// # }
/// ```
pub struct Command {
    std: std::process::Command,
    /// Which of stdin, stdout and stderr the caller configured. std has no
    /// getter for them, and [`output`](Command::output) must know which
    /// defaults to apply.
    stdio_set: [bool; 3],
    kill_on_drop: bool,
    /// Watch exit through `SIGCHLD` even where pidfds work (tests).
    sigchld: bool,
}

impl Command {
    /// A builder for running `program`, with no arguments, this process's
    /// environment and working directory, and inherited standard streams.
    ///
    /// A `program` without a `/` is looked up in the `PATH`, as std does.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::Command;
    ///
    /// let command = Command::new("ls");
    /// assert_eq!(command.as_std().get_program(), "ls");
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            stdio_set: [false; 3],
            kill_on_drop: false,
            sigchld: false,
        }
    }

    /// Adds one argument.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::Command;
    ///
    /// let mut command = Command::new("ls");
    /// command.arg("-l").arg("/");
    /// assert_eq!(command.as_std().get_args().count(), 2);
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::Command;
    ///
    /// let mut command = Command::new("ls");
    /// command.args(["-l", "-a", "/"]);
    /// assert_eq!(command.as_std().get_args().count(), 3);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets the environment variable `key` to `value` for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::Command;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let output = Command::new("sh")
    ///         .args(["-c", "echo $GREETING"])
    ///         .env("GREETING", "hello")
    ///         .output()
    ///         .await?;
    ///     assert_eq!(output.stdout, b"hello\n");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::Command;
    ///
    /// let mut command = Command::new("env");
    /// command.envs([("A", "1"), ("B", "2")]);
    /// assert_eq!(command.as_std().get_envs().count(), 2);
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes the environment variable `key` from the child's environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::Command;
    ///
    /// let mut command = Command::new("env");
    /// command.env_remove("HOME");
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Clears the child's environment: it gets only the variables set with
    /// [`env`](Command::env) and [`envs`](Command::envs) afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::Command;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     // No PATH either, so name the program by its path.
    ///     let output = Command::new("/usr/bin/env").env_clear().env("ONLY", "me").output().await?;
    ///     assert_eq!(output.stdout, b"ONLY=me\n");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// A relative program path is resolved in a platform-specific way (see
    /// `std::process::Command::current_dir`); use an absolute path to be
    /// sure.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::Command;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let output = Command::new("pwd").current_dir("/").output().await?;
    ///     assert_eq!(output.stdout, b"/\n");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Configures the child's standard input: [`Stdio::piped`] gives the
    /// [`Child`] a [`ChildStdin`](super::ChildStdin) to write to;
    /// [`Stdio::inherit`] (the default of `spawn` and `status`),
    /// [`Stdio::null`] (the default of `output`), or a file or pipe
    /// converted with `Stdio::from`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::{Command, Stdio};
    ///
    /// let mut command = Command::new("cat");
    /// command.stdin(Stdio::piped());
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdio_set[0] = true;
        self
    }

    /// Configures the child's standard output: [`Stdio::piped`] gives the
    /// [`Child`] a [`ChildStdout`](super::ChildStdout) to read from. The
    /// default is to inherit this process's, except for
    /// [`output`](Command::output), which captures it.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::{Command, Stdio};
    ///
    /// let mut command = Command::new("ls");
    /// command.stdout(Stdio::null());
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdio_set[1] = true;
        self
    }

    /// Configures the child's standard error, as
    /// [`stdout`](Command::stdout) does its output.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::{Command, Stdio};
    ///
    /// let mut command = Command::new("ls");
    /// command.stderr(Stdio::piped());
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stdio_set[2] = true;
        self
    }

    /// Whether a [`Child`] dropped before it exited is killed (`SIGKILL`).
    /// Off by default, as in std and tokio: the child keeps running.
    ///
    /// Either way a dropped child is reaped in the background once it
    /// exits (see the [module docs](super#orphans)).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::{Command, Stdio};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     // `cat` waits for input that never comes: dropping it kills it.
    ///     let child = Command::new("cat").stdin(Stdio::piped()).kill_on_drop(true).spawn()?;
    ///     drop(child);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Puts the child in the process group `pgroup`; `0` makes it the
    /// leader of a new group whose id is its pid (`setpgid`).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::Command;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     // The shell prints its own process group: its pid, as leader.
    ///     let mut child = Command::new("sh")
    ///         .args(["-c", "ps -o pgid= -p $$"])
    ///         .process_group(0)
    ///         .stdout(std::process::Stdio::piped())
    ///         .spawn()?;
    ///     let pid = child.id().expect("not reaped yet");
    ///     let output = child.wait_with_output().await?;
    ///     assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), pid.to_string());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// Runs the child as the user `id` (`setuid`); see
    /// `std::os::unix::process::CommandExt::uid`. Changing to another user
    /// needs the privilege to; spawning then fails with the OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::Command;
    ///
    /// let mut command = Command::new("id");
    /// command.uid(1000);
    /// ```
    pub fn uid(&mut self, id: u32) -> &mut Command {
        self.std.uid(id);
        self
    }

    /// Runs the child with the group `id` (`setgid`); see
    /// `std::os::unix::process::CommandExt::gid`.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::Command;
    ///
    /// let mut command = Command::new("id");
    /// command.gid(1000);
    /// ```
    pub fn gid(&mut self, id: u32) -> &mut Command {
        self.std.gid(id);
        self
    }

    /// The std builder inside, to read back what was configured.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember_io::process::Command;
    ///
    /// let mut command = Command::new("ls");
    /// command.current_dir("/tmp");
    /// assert_eq!(command.as_std().get_current_dir(), Some(std::path::Path::new("/tmp")));
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// Spawns the child and returns it. Its piped streams are in the
    /// [`Child`]'s `stdin`, `stdout` and `stderr` fields, registered with
    /// the current reactor, which also watches the child's exit.
    ///
    /// The spawn itself (`posix_spawn` or `fork`/`exec`) runs on the calling
    /// thread, as in tokio.
    ///
    /// # Errors
    ///
    /// The errors of `std::process::Command::spawn`, with the same
    /// [`io::ErrorKind`]s: [`NotFound`](io::ErrorKind::NotFound) for a missing
    /// program, [`PermissionDenied`](io::ErrorKind::PermissionDenied) for one
    /// that may not be executed, the OS error otherwise. Also the OS error if
    /// a pipe or the exit watcher cannot be registered; the child is then
    /// killed and reaped in the background.
    ///
    /// # Panics
    ///
    /// When called outside an ember runtime (no child is spawned then).
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
    ///     assert!(child.wait().await?.success());
    ///
    ///     let missing = Command::new("/no/such/program").spawn();
    ///     assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    ///     Ok(())
    /// })
    /// # }
    /// ```
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        // Before the spawn: a child is never started without a reactor to
        // watch it.
        drop(Handle::current());
        self.spawn_in_runtime()
    }

    fn spawn_in_runtime(&mut self) -> io::Result<Child> {
        super::orphan::reap_if_any();
        let child = self.std.spawn()?;
        Child::new(child, self.kill_on_drop, self.sigchld)
    }

    /// Spawns the child with `defaults` (stdin, stdout, stderr) for the
    /// streams the caller left unset, then restores them to unset (which
    /// means inherit for `spawn`).
    #[track_caller]
    fn spawn_with_defaults(&mut self, defaults: [fn() -> Stdio; 3]) -> io::Result<Child> {
        drop(Handle::current());
        let unset = self.stdio_set.map(|set| !set);
        self.set_unset(unset, defaults);
        let child = self.spawn_in_runtime();
        self.set_unset(unset, [Stdio::inherit; 3]);
        child
    }

    fn set_unset(&mut self, unset: [bool; 3], to: [fn() -> Stdio; 3]) {
        if unset[0] {
            self.std.stdin(to[0]());
        }
        if unset[1] {
            self.std.stdout(to[1]());
        }
        if unset[2] {
            self.std.stderr(to[2]());
        }
    }

    /// Spawns the child and waits for it to exit, returning its status.
    ///
    /// The streams left unconfigured are inherited. The child is spawned
    /// when this is called; the returned future only waits, and does not
    /// borrow the `Command`. Any pipes configured are closed before the
    /// wait (so a child blocked on one cannot deadlock it).
    ///
    /// # Errors
    ///
    /// The errors of [`spawn`](Command::spawn) (returned by the future), or
    /// an error if the reactor shuts down before the child exits.
    ///
    /// # Panics
    ///
    /// When called outside an ember runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the [`Child`]: it is killed if
    /// [`kill_on_drop`](Command::kill_on_drop) was set, and reaped in the
    /// background either way.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::Command;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     assert!(Command::new("true").status().await?.success());
    ///     assert_eq!(Command::new("false").status().await?.code(), Some(1));
    ///     Ok(())
    /// })
    /// # }
    /// ```
    #[track_caller]
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + Send + 'static {
        let child = self.spawn();
        async move {
            let mut child = child?;
            // Close what we hold: a child blocked writing to a pipe nobody
            // reads, or reading one nobody closes, would never exit.
            drop(child.stdin.take());
            drop(child.stdout.take());
            drop(child.stderr.take());
            child.wait().await
        }
    }

    /// Spawns the child, collects everything it writes to stdout and
    /// stderr, and waits for it to exit.
    ///
    /// Unless configured otherwise, stdout and stderr are captured and stdin
    /// is empty (`/dev/null`), as in std; this does not change what
    /// [`spawn`](Command::spawn) does later. The two pipes are read
    /// concurrently, so a child that fills one while the other is being
    /// read cannot deadlock. The child is spawned when this is called; the
    /// returned future does not borrow the `Command`.
    ///
    /// # Errors
    ///
    /// The errors of [`spawn`](Command::spawn) (returned by the future), a
    /// read error of either pipe, or an error if the reactor shuts down
    /// before the child exits.
    ///
    /// # Panics
    ///
    /// When called outside an ember runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the [`Child`] and what was read so far: the
    /// child is killed if [`kill_on_drop`](Command::kill_on_drop) was set,
    /// and reaped in the background either way.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::process::Command;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let output = Command::new("sh").args(["-c", "echo out; echo err >&2; exit 2"]).output().await?;
    ///     assert_eq!(output.status.code(), Some(2));
    ///     assert_eq!(output.stdout, b"out\n");
    ///     assert_eq!(output.stderr, b"err\n");
    ///     Ok(())
    /// })
    /// # }
    /// ```
    #[track_caller]
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> + Send + 'static {
        let child = self.spawn_with_defaults([Stdio::null, Stdio::piped, Stdio::piped]);
        async move { child?.wait_with_output().await }
    }

    /// See [`super::__private::use_sigchld`].
    pub(crate) fn force_sigchld(&mut self) {
        self.sigchld = true;
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish_non_exhaustive()
    }
}
