//! [`UnixListener`]: a Unix-domain socket listening for connections.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{ready, Context, Poll};

use super::stream::UnixStream;
use super::{socket_addr, SocketAddr};
use crate::async_fd::Async;
use crate::net::accept::Acceptor;

/// A Unix-domain socket server, listening for connections.
///
/// Binding creates the socket file (for a path in the file system); it is
/// not removed when the listener is dropped, as with std and tokio: remove
/// it yourself, or bind an abstract name (`"\0name"`, Linux and Android),
/// which leaves nothing behind.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::{UnixListener, UnixStream};
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// # fn main() -> std::io::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("ember-unix-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("echo.sock");
/// block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _addr) = listener.accept().await?;
///     client.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok::<_, std::io::Error>(())
/// })?;
/// # std::fs::remove_dir_all(&dir)
/// # }
/// ```
pub struct UnixListener {
    io: Async<mio::net::UnixListener>,
    /// The spare descriptor and burst state for running out of descriptors.
    acceptor: Acceptor,
}

impl UnixListener {
    /// Creates a listener bound to `path` (synchronous, as in tokio). A
    /// path whose first byte is NUL binds an abstract name on Linux and
    /// Android.
    ///
    /// # Errors
    ///
    /// The OS error, for example [`io::ErrorKind::AddrInUse`] when the
    /// socket file already exists, or [`io::ErrorKind::InvalidInput`] for a
    /// path too long for a socket address (about 100 bytes).
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// An abstract name:
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{UnixListener, UnixStream};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(target_os = "linux")]
    /// block_on(async {
    ///     let name = format!("\0ember-doc-{}", std::process::id());
    ///     let listener = UnixListener::bind(&name)?;
    ///     let _client = UnixStream::connect(&name).await?;
    ///     let (_server, _) = listener.accept().await?;
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let addr = socket_addr(path.as_ref())?;
        let listener = mio::net::UnixListener::bind_addr(&addr)?;
        UnixListener::from_nonblocking(listener)
    }

    /// Wraps a standard-library listener (already bound and listening),
    /// putting it in non-blocking mode and registering it with the current
    /// reactor.
    ///
    /// # Errors
    ///
    /// The OS error if the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    ///
    /// Outside an ember runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixListener;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let dir = std::env::temp_dir().join(format!("ember-unix-std-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let std_listener = std::os::unix::net::UnixListener::bind(dir.join("s"))?;
    /// block_on(async {
    ///     let listener = UnixListener::from_std(std_listener)?;
    ///     let std_listener = listener.into_std()?;
    ///     assert!(std_listener.local_addr()?.as_pathname().is_some());
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)
    /// # }
    /// ```
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_nonblocking(mio::net::UnixListener::from_std(listener))
    }

    fn from_nonblocking(listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Async::new_nonblocking(listener)?,
            acceptor: Acceptor::new(),
        })
    }

    /// Deregisters the listener and returns the standard-library listener,
    /// still in non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error if deregistration fails.
    ///
    /// # Examples
    ///
    /// See [`from_std`](UnixListener::from_std).
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        self.io.into_inner().map(Into::into)
    }

    /// Waits for a new connection and returns it with the peer's address
    /// (usually unnamed: clients rarely bind). The new stream is registered
    /// with the current reactor. Any number of tasks may accept on one
    /// listener at once.
    ///
    /// Running out of file descriptors is handled as by
    /// [`TcpListener::accept`](crate::net::TcpListener::accept): the
    /// listener's spare descriptor sheds the waiting connections, the error
    /// is returned once per burst, and the listener backs off instead of
    /// retrying hot.
    ///
    /// # Errors
    ///
    /// The OS error from `accept`, for example `EMFILE` as above.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a connection is only taken from the queue when the
    /// future completes.
    ///
    /// # Examples
    ///
    /// See [`UnixListener`].
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let listener = self.io.get_ref();
        let (stream, addr) = self
            .acceptor
            .accept(self.io.registration(), || accept(listener))
            .await?;
        Ok((UnixStream::from_nonblocking(stream.into())?, addr))
    }

    /// Polls for a new connection; see [`accept`](UnixListener::accept).
    /// When `Pending` is returned, `cx`'s waker is stored in the listener's
    /// single read slot: only the task that polled last is woken.
    ///
    /// # Errors
    ///
    /// As [`accept`](UnixListener::accept).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::{UnixListener, UnixStream};
    /// use std::future::poll_fn;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let dir = std::env::temp_dir().join(format!("ember-unix-poll-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("s");
    /// block_on(async {
    ///     let listener = UnixListener::bind(&path)?;
    ///     let _client = UnixStream::connect(&path).await?;
    ///     let (_server, _) = poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)
    /// # }
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let listener = self.io.get_ref();
        let (stream, addr) = ready!(self
            .acceptor
            .poll_accept(self.io.registration(), cx, || accept(listener)))?;
        Poll::Ready(UnixStream::from_nonblocking(stream.into()).map(|stream| (stream, addr)))
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixListener;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let dir = std::env::temp_dir().join(format!("ember-unix-addr-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("s");
    /// block_on(async {
    ///     let listener = UnixListener::bind(&path)?;
    ///     assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # std::fs::remove_dir_all(&dir)
    /// # }
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), clearing it.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt` (the pending error is the `Ok` value).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
    /// use ember_io::net::UnixListener;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # #[cfg(target_os = "linux")]
    /// block_on(async {
    ///     let listener = UnixListener::bind(format!("\0ember-err-{}", std::process::id()))?;
    ///     assert!(listener.take_error()?.is_none());
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// One non-blocking `accept4` (non-blocking, close-on-exec), skipping
/// connections aborted while queued and interrupted calls.
fn accept(listener: &mio::net::UnixListener) -> io::Result<(mio::net::UnixStream, SocketAddr)> {
    loop {
        match listener.accept() {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                ) => {}
            result => return result,
        }
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("UnixListener")
            .field(self.io.get_ref())
            .finish()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// As [`UnixListener::from_std`].
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}
