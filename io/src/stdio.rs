//! The process's standard streams as futures-io streams: [`stdin`],
//! [`stdout`] and [`stderr`].
//!
//! Ground rules: descriptors 0, 1 and 2 are shared with the parent process
//! (often the user's shell and terminal), and `O_NONBLOCK` is a flag of the
//! *open file description* they share, not of the descriptor: setting it on
//! fd 0 would make the shell's own reads fail with `EAGAIN`, and setting it
//! on fd 1 would make every `println!` of this process panic on a full
//! pipe. This module never changes the flags of 0, 1 or 2.
//!
//! - **Input.** When fd 0 is a pipe, FIFO or terminal (Linux), [`Stdin`]
//!   opens it afresh through `/proc/self/fd/0`, which makes a new, private
//!   open file description of the same pipe or terminal; only that one is
//!   made non-blocking and registered with the reactor. Reads then wait on
//!   the reactor, so no pool thread sits in a `read` that may never return,
//!   and dropping the runtime is not held up by a user who never types.
//!   Everything else (a regular file, `/dev/null`, a socket, another OS, no
//!   `/proc`) is read on the blocking pool, through `std::io::stdin()`.
//! - **Output.** [`Stdout`] and [`Stderr`] always write through
//!   `std::io::stdout()`/`stderr()` on the blocking pool, with write-behind:
//!   each `poll_write` is taken whole (never split) and handed to one locked
//!   std `write_all`, so one `write_all` of ours is as atomic with respect
//!   to `println!` and to other writers of this process as std's own, and
//!   ours share std's line buffer (and its order). A reactor write to a
//!   private description could be split by a full pipe and interleave with
//!   `println!` between the parts, and would bypass std's buffer, reordering
//!   output; the write-behind batching makes the pool cost about one round
//!   trip per batch instead.
//!
//! As with tokio, writes return before the bytes reach the OS: flush before
//! printing with `println!` from the same task if the order matters, and
//! before exiting. A read of stdin through ember and through
//! `std::io::stdin()` in the same process should not be mixed: each may
//! hold bytes the other never sees.

use std::fmt;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::fs::{Config, Engine, Target, MAX_CHUNK};
use crate::Async;

/// A handle to the process's standard input: [`AsyncRead`].
///
/// Created by [`stdin`]. See the [module docs](self) for how it reads
/// without touching the shared descriptor's flags.
///
/// On the blocking pool, reads are buffered (64 KiB at a time): bytes read
/// and not yet handed out are lost when the handle is dropped, so keep one
/// handle for the whole input.
///
/// # Examples
///
/// ```no_run
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use futures_util::io::{AsyncBufReadExt, BufReader};
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let mut lines = BufReader::new(ember_io::stdio::stdin()).lines();
///     use futures_util::StreamExt;
///     while let Some(line) = lines.next().await {
///         println!("read: {}", line?);
///     }
///     Ok(())
/// })
/// # }
/// ```
pub struct Stdin {
    /// Chosen on the first read (which needs the runtime).
    inner: Option<StdinInner>,
}

enum StdinInner {
    /// A private non-blocking description of the pipe or terminal.
    Reactor(Async<std::fs::File>),
    /// `std::io::stdin()` on the blocking pool.
    Pool(Engine<StdinTarget>),
}

/// The standard input of the process.
///
/// Cheap: nothing is opened or registered until the first read, which must
/// run inside an ember runtime.
///
/// # Examples
///
/// ```
/// let input = ember_io::stdio::stdin();
/// # drop(input);
/// ```
pub fn stdin() -> Stdin {
    Stdin { inner: None }
}

impl Stdin {
    fn inner(&mut self) -> &mut StdinInner {
        self.inner.get_or_insert_with(|| match reopen_stdin() {
            Some(io) => StdinInner::Reactor(io),
            None => StdinInner::Pool(Engine::new(Arc::new(StdinTarget), Config::FILE)),
        })
    }
}

/// A private, non-blocking, reactor-registered open of the pipe or terminal
/// on fd 0, or `None` where that is not possible (see the module docs).
fn reopen_stdin() -> Option<Async<std::fs::File>> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};

        const FD0: &str = "/proc/self/fd/0";
        // `metadata` follows the magic link to the object itself.
        let shared = std::fs::metadata(FD0).ok()?;
        let kind = shared.file_type();
        if !(kind.is_fifo() || kind.is_char_device()) {
            return None;
        }
        // A new open file description: O_NONBLOCK on it is ours alone.
        // O_NOCTTY: opening a terminal must not make it our controlling one.
        let private = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(FD0)
            .ok()?;
        let opened = private.metadata().ok()?;
        if (opened.dev(), opened.ino()) != (shared.dev(), shared.ino()) {
            return None; // fd 0 changed under us: stay on the safe side
        }
        // Fails for devices epoll refuses (such as /dev/null).
        Async::new(private).ok()
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        None
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().inner() {
            StdinInner::Reactor(io) => Pin::new(io).poll_read(cx, buf),
            StdinInner::Pool(engine) => engine.poll_read(cx, buf),
        }
    }
}

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match &self.inner {
            None => "undecided",
            Some(StdinInner::Reactor(_)) => "reactor",
            Some(StdinInner::Pool(_)) => "blocking pool",
        };
        f.debug_struct("Stdin").field("backend", &backend).finish()
    }
}

/// `std::io::stdin()`, read on the blocking pool.
struct StdinTarget;

impl Target for StdinTarget {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        io::stdin().lock().read(buf)
    }

    fn write_all(&self, _buf: &[u8]) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "standard input is not writable",
        ))
    }

    fn is_regular(&self) -> bool {
        std::fs::metadata("/proc/self/fd/0").is_ok_and(|m| m.is_file())
    }
}

/// Output streams: `std::io::stdout()` or `stderr()`, written on the
/// blocking pool.
#[derive(Clone, Copy)]
enum Out {
    Stdout,
    Stderr,
}

impl Target for Out {
    fn read(&self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "standard output is not readable",
        ))
    }

    fn write_all(&self, buf: &[u8]) -> io::Result<()> {
        // One locked `write_all`: no other writer of this process can get in
        // between its parts, as with std.
        match self {
            Out::Stdout => io::stdout().lock().write_all(buf),
            Out::Stderr => io::stderr().lock().write_all(buf),
        }
    }

    fn flush(&self) -> io::Result<()> {
        match self {
            Out::Stdout => io::stdout().lock().flush(),
            Out::Stderr => io::stderr().lock().flush(),
        }
    }

    fn is_regular(&self) -> bool {
        false
    }
}

/// The stdio engines' batching: whole writes (see the module docs).
fn out_engine(out: Out) -> Engine<Out> {
    Engine::new(
        Arc::new(out),
        Config {
            max_chunk: MAX_CHUNK,
            whole_writes: true,
            // std's stdout is line-buffered; its stderr is not buffered.
            flush_target: matches!(out, Out::Stdout),
        },
    )
}

macro_rules! output_stream {
    ($(#[$doc:meta])* $name:ident, $ctor:ident, $out:expr, $what:literal) => {
        $(#[$doc])*
        pub struct $name {
            engine: Engine<Out>,
        }

        #[doc = concat!("The standard ", $what, " of the process: a handle that writes through")]
        #[doc = concat!("`std::io::", stringify!($ctor), "()` on the blocking pool (see [`", stringify!($name), "`]).")]
        ///
        /// Cheap: nothing is written until the first `poll_write`, which must
        /// run inside an ember runtime.
        ///
        /// # Examples
        ///
        /// ```
        /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
        /// use futures_util::io::AsyncWriteExt;
        ///
        /// # fn main() -> std::io::Result<()> {
        /// block_on(async {
        #[doc = concat!("    let mut out = ember_io::stdio::", stringify!($ctor), "();")]
        ///     out.write_all(b"hello\n").await?;
        ///     out.flush().await
        /// })
        /// # }
        /// ```
        pub fn $ctor() -> $name {
            $name {
                engine: out_engine($out),
            }
        }

        impl AsyncWrite for $name {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().engine.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().engine.poll_flush(cx)
            }

            /// Flushes; the process's descriptor stays open.
            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().engine.poll_flush(cx)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("engine", &self.engine)
                    .finish()
            }
        }
    };
}

output_stream!(
    /// A handle to the process's standard output: [`AsyncWrite`].
    ///
    /// Created by [`stdout`]. Each `poll_write` is taken whole and written
    /// with one locked `write_all` of `std::io::stdout()` on the blocking
    /// pool, after the writes before it: so `write_all` of ours never
    /// interleaves with `println!` or another handle's writes, and shares
    /// std's line buffer. Writes return before the bytes are written
    /// (write-behind): [`poll_flush`](AsyncWrite::poll_flush) (`flush().await`)
    /// to wait for them and see their error, and before mixing with
    /// `println!` if the order matters. Bytes still pending when the handle
    /// is dropped are written in the background.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use futures_util::io::AsyncWriteExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let mut out = ember_io::stdio::stdout();
    ///     out.write_all(b"one line, written whole\n").await?;
    ///     out.flush().await
    /// })
    /// # }
    /// ```
    Stdout,
    stdout,
    Out::Stdout,
    "output"
);

output_stream!(
    /// A handle to the process's standard error: [`AsyncWrite`].
    ///
    /// Created by [`stderr`]. Works as [`Stdout`] does, through
    /// `std::io::stderr()` (which std does not buffer).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use futures_util::io::AsyncWriteExt;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let mut err = ember_io::stdio::stderr();
    ///     err.write_all(b"warning: something\n").await?;
    ///     err.flush().await
    /// })
    /// # }
    /// ```
    Stderr,
    stderr,
    Out::Stderr,
    "error"
);
