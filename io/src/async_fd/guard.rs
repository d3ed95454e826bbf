//! [`ReadyGuard`]: the readiness [`Async::readable`], [`Async::writable`]
//! and [`Async::ready`] return, which the caller's own operation clears when
//! it would block (tokio's `AsyncFdReadyGuard`).

use std::error::Error;
use std::fmt;
use std::io;

use ember_reactor::{Ready, ReadyEvent};

use super::Async;

/// Readiness of an [`Async<T>`] that a task waited for, returned by
/// [`Async::readable`], [`Async::writable`] and [`Async::ready`].
///
/// Run the operation with [`try_io`](ReadyGuard::try_io): if it fails with
/// `WouldBlock`, the guard clears the readiness so that the next wait sleeps
/// until a new event instead of returning at once. Dropping the guard keeps
/// the readiness (as [`retain_ready`](ReadyGuard::retain_ready) says
/// explicitly): other tasks may still find data.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::Async;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let (mut a, b) = UnixStream::pair()?;
///     let b = Async::new(b)?;
///     a.write_all(b"ping")?;
///     let mut buf = [0; 4];
///     loop {
///         let mut guard = b.readable().await?;
///         if let Ok(result) = guard.try_io(|b| b.get_ref().read(&mut buf)) {
///             assert_eq!(result?, 4);
///             break;
///         }
///     }
///     Ok(())
/// })
/// # }
/// ```
#[must_use = "the readiness is only useful if an operation runs under it; drop the guard to keep it"]
pub struct ReadyGuard<'a, T> {
    io: &'a Async<T>,
    /// The readiness seen; `None` once cleared.
    event: Option<ReadyEvent>,
}

impl<'a, T> ReadyGuard<'a, T> {
    pub(super) fn new(io: &'a Async<T>, event: ReadyEvent) -> ReadyGuard<'a, T> {
        ReadyGuard {
            io,
            event: Some(event),
        }
    }

    /// The readiness this guard holds: what the wait returned for, or empty
    /// after [`clear_ready`](ReadyGuard::clear_ready).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     let mut guard = a.writable().await?;
    ///     assert!(guard.ready().is_writable());
    ///     guard.clear_ready();
    ///     assert!(guard.ready().is_empty());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn ready(&self) -> Ready {
        self.event.map_or(Ready::EMPTY, |event| event.readiness())
    }

    /// Clears the readiness this guard holds, so that the next wait sleeps
    /// until a new event. Call it when an operation run without
    /// [`try_io`](ReadyGuard::try_io) reported `WouldBlock`. Readiness from
    /// an event that arrived after this one is kept, and closed states are
    /// never cleared.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::io::{ErrorKind, Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (mut a, b) = UnixStream::pair()?;
    ///     let b = Async::new(b)?;
    ///     a.write_all(b"x")?;
    ///     let mut buf = [0; 8];
    ///     loop {
    ///         let mut guard = b.readable().await?;
    ///         match b.get_ref().read(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => guard.clear_ready(),
    ///             result => break assert_eq!(result?, 1),
    ///         }
    ///     }
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.io.registration.clear_readiness(event);
        }
    }

    /// Keeps the readiness: what dropping the guard does anyway. It only
    /// states the intent, as tokio's method of the same name.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     a.writable().await?.retain_ready();
    ///     // Still writable: this returns at once.
    ///     a.writable().await?.retain_ready();
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn retain_ready(&mut self) {}

    /// Runs `op` under this readiness. If it fails with `WouldBlock`, the
    /// readiness is cleared and `Err(TryIoError)` is returned: wait again.
    /// Any other result, success or error, is returned in `Ok`.
    ///
    /// The shape is tokio's: the outer `Result` says whether the operation
    /// would block, so that `while let Ok(result) = guard.try_io(..)` and
    /// `match` read naturally, and an operation's real errors stay apart.
    ///
    /// # Errors
    ///
    /// `Err(TryIoError)` when `op` would block; `op`'s own errors come back
    /// inside `Ok`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     let (a, b) = (Async::new(a)?, Async::new(b)?);
    ///     let mut guard = a.writable().await?;
    ///     guard.try_io(|a| a.get_ref().write(b"hi")).expect("writable")?;
    ///
    ///     let mut buf = [0; 2];
    ///     loop {
    ///         let mut guard = b.readable().await?;
    ///         if let Ok(n) = guard.try_io(|b| b.get_ref().read(&mut buf)) {
    ///             assert_eq!(n?, 2);
    ///             break;
    ///         }
    ///     }
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn try_io<R>(
        &mut self,
        op: impl FnOnce(&'a Async<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match op(self.io) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// The [`Async`] this guard belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     let guard = a.writable().await?;
    ///     assert!(std::ptr::eq(guard.get_ref(), &a));
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn get_ref(&self) -> &'a Async<T> {
        self.io
    }

    /// The inner handle of the [`Async`] this guard belongs to.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::Async;
    /// use std::os::unix::net::UnixStream;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// block_on(async {
    ///     let (a, _b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     let guard = a.writable().await?;
    ///     assert!(guard.get_inner().peer_addr().is_ok());
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn get_inner(&self) -> &'a T {
        self.io.get_ref()
    }
}

impl<T: fmt::Debug> fmt::Debug for ReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyGuard")
            .field("io", self.io)
            .field("ready", &self.ready())
            .finish()
    }
}

/// The operation run by [`ReadyGuard::try_io`] would have blocked; the
/// guard's readiness has been cleared.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::Async;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let (mut a, b) = UnixStream::pair()?;
///     let b = Async::new(b)?;
///     a.write_all(b"x")?;
///     let mut guard = b.readable().await?;
///     let mut buf = [0; 8];
///     assert_eq!(guard.try_io(|b| b.get_ref().read(&mut buf)).expect("readable")?, 1);
///     // Drained: the next read would block, and the readiness goes.
///     let outcome = guard.try_io(|b| b.get_ref().read(&mut buf));
///     assert!(outcome.is_err());
///     assert!(guard.ready().is_empty());
///     Ok(())
/// })
/// # }
/// ```
#[derive(Debug)]
pub struct TryIoError(());

impl fmt::Display for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block; readiness was cleared")
    }
}

impl Error for TryIoError {}
