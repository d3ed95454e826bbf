//! Unix-domain sockets' companions, with tokio's names
//! (`tokio::net::unix`): the halves of a split
//! [`UnixStream`], the [`SocketAddr`] of a Unix socket
//! (the standard library's), and the peer credentials [`UCred`].
//!
//! The socket types themselves are in [`net`](super):
//! [`UnixListener`](super::UnixListener), [`UnixStream`]
//! and [`UnixDatagram`](super::UnixDatagram).
//!
//! **Addresses.** A path names a socket in the file system. On Linux and
//! Android a path whose first byte is NUL (`"\0name"`) names a socket in the
//! *abstract namespace* instead: no file is created, and the name goes away
//! with the last socket bound to it (as in tokio and mio). A
//! [`SocketAddr`] tells the forms apart (`as_pathname`, `is_unnamed`, and
//! `std::os::linux::net::SocketAddrExt::as_abstract_name`).
//!
//! The halves are the crate's generic stream halves, named for Unix
//! streams: [`UnixStream::split`] gives a
//! [`ReadHalf`] and a [`WriteHalf`] that borrow the stream,
//! [`UnixStream::into_split`] an
//! [`OwnedReadHalf`] and an [`OwnedWriteHalf`] that own it. Reads and
//! writes wake independently.

pub(super) mod datagram;
pub(super) mod listener;
pub(super) mod stream;

use stream::UnixStream;

use std::error::Error;
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use crate::split;

/// The address of a Unix-domain socket: a path, an abstract name (Linux,
/// Android), or unnamed. The standard library's type.
pub use std::os::unix::net::SocketAddr;

/// A user id, as in [`UCred::uid`].
#[allow(non_camel_case_types)]
pub type uid_t = libc::uid_t;

/// A group id, as in [`UCred::gid`].
#[allow(non_camel_case_types)]
pub type gid_t = libc::gid_t;

/// A process id, as in [`UCred::pid`].
#[allow(non_camel_case_types)]
pub type pid_t = libc::pid_t;

/// The credentials of the process at the other end of a [`UnixStream`],
/// from [`UnixStream::peer_cred`]: what the kernel recorded when the
/// connection was made (or the pair created).
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::UnixStream;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let (a, _b) = UnixStream::pair()?;
///     let cred = a.peer_cred()?;
///     println!("peer: uid {} gid {} pid {:?}", cred.uid(), cred.gid(), cred.pid());
///     Ok(())
/// })
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UCred {
    pid: Option<pid_t>,
    uid: uid_t,
    gid: gid_t,
}

impl UCred {
    /// The peer's effective user id.
    ///
    /// # Examples
    ///
    /// See [`UCred`].
    pub fn uid(&self) -> uid_t {
        self.uid
    }

    /// The peer's effective group id.
    ///
    /// # Examples
    ///
    /// See [`UCred`].
    pub fn gid(&self) -> gid_t {
        self.gid
    }

    /// The peer's process id, where the OS reports it (Linux, Android; not
    /// the BSDs or Apple platforms).
    ///
    /// # Examples
    ///
    /// See [`UCred`].
    pub fn pid(&self) -> Option<pid_t> {
        self.pid
    }
}

impl From<ember_reactor::__private::PeerCred> for UCred {
    fn from(cred: ember_reactor::__private::PeerCred) -> UCred {
        UCred {
            pid: cred.pid,
            uid: cred.uid,
            gid: cred.gid,
        }
    }
}

/// The read half of a [`UnixStream`], borrowed from it by
/// [`UnixStream::split`]: `AsyncRead`, `readable`, `ready`, `try_read`,
/// `try_read_vectored`, `peer_addr` and `local_addr`.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::UnixStream;
/// use futures_util::io::{AsyncReadExt, AsyncWriteExt};
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     // Spelled out: `AsyncReadExt` has a `split` of its own.
///     let (mut read, mut write) = UnixStream::split(&mut a);
///     write.write_all(b"hi").await?;
///     let mut buf = [0; 2];
///     b.read_exact(&mut buf).await?;
///     b.write_all(&buf).await?;
///     read.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     Ok(())
/// })
/// # }
/// ```
pub type ReadHalf<'a> = split::ReadHalf<&'a UnixStream>;

/// The write half of a [`UnixStream`], borrowed from it by
/// [`UnixStream::split`]: `AsyncWrite` (one `writev` per vectored write;
/// `poll_close` shuts down the write side), `writable`, `ready`,
/// `try_write`, `try_write_vectored`, `is_write_vectored`, `peer_addr` and
/// `local_addr`.
///
/// # Examples
///
/// See [`ReadHalf`].
pub type WriteHalf<'a> = split::WriteHalf<&'a UnixStream>;

/// The read half of a [`UnixStream`], owned, from
/// [`UnixStream::into_split`]: the methods of [`ReadHalf`] and `reunite`.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::UnixStream;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let (a, _b) = UnixStream::pair()?;
///     let (read, write) = a.into_split();
///     let _a: UnixStream = read.reunite(write).expect("halves of one stream");
///     Ok(())
/// })
/// # }
/// ```
pub type OwnedReadHalf = split::ReadHalf<Arc<UnixStream>>;

/// The write half of a [`UnixStream`], owned, from
/// [`UnixStream::into_split`]: the methods of [`WriteHalf`], `reunite` and
/// `forget`.
///
/// Dropping it shuts down the write side of the stream (the peer reads end
/// of stream), unless it is given back with `reunite` or dropped with
/// `forget`, as in tokio.
///
/// # Examples
///
/// See [`OwnedReadHalf`].
pub type OwnedWriteHalf = split::WriteHalf<Arc<UnixStream>>;

/// The two halves given to `reunite` came from different streams; both are
/// handed back.
///
/// # Examples
///
/// ```
/// # include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/util/block_on.rs"));
/// use ember_io::net::unix::ReuniteError;
/// use ember_io::net::UnixStream;
///
/// # fn main() -> std::io::Result<()> {
/// block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let ((ra, wa), (rb, wb)) = (a.into_split(), b.into_split());
///     let ReuniteError(ra, wb) = ra.reunite(wb).expect_err("different streams");
///     ra.reunite(wa).expect("same stream");
///     rb.reunite(wb).expect("same stream");
///     Ok(())
/// })
/// # }
/// ```
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same UnixStream")
    }
}

impl Error for ReuniteError {}

split::socket_halves!(UnixStream, SocketAddr, ReuniteError);

/// The address `path` names: an abstract name for a path that starts with
/// a NUL byte (Linux, Android), else a path in the file system.
pub(crate) fn socket_addr(path: &Path) -> io::Result<SocketAddr> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::ffi::OsStrExt;

        if let Some(name) = path.as_os_str().as_bytes().strip_prefix(b"\0") {
            return SocketAddr::from_abstract_name(name);
        }
    }
    SocketAddr::from_pathname(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_abstract_names() -> io::Result<()> {
        let addr = socket_addr(Path::new("/tmp/ember.sock"))?;
        assert_eq!(addr.as_pathname(), Some(Path::new("/tmp/ember.sock")));
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let addr = socket_addr(Path::new("\0ember"))?;
            assert_eq!(addr.as_abstract_name(), Some(&b"ember"[..]));
            assert!(addr.as_pathname().is_none());
        }
        // A path too long for `sun_path` is an error, not a truncation.
        assert!(socket_addr(Path::new(&"x".repeat(200))).is_err());
        Ok(())
    }
}
