//! Every libc call the reactor makes, in one place.
//!
//! The rest of the crate never calls libc directly: it goes through the small
//! functions here, each of which wraps exactly one system call and argues, in a
//! `// SAFETY:` comment, why the call is sound. Two of them
//! (`write_signal_byte` and the errno accessors it uses) run inside a signal
//! handler and therefore only do async-signal-safe work: no allocation, no
//! locks, no panics. On Linux, `TimerFd` owns the timer fd that ends the
//! reactor's sleeps at a timer deadline more precisely than epoll's
//! millisecond timeout.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

/// Put `fd` into non-blocking mode (`O_NONBLOCK`), keeping its other status flags.
///
/// Sources handed to the reactor must be non-blocking: readiness is
/// edge-triggered and I/O is retried until it reports `WouldBlock`.
///
/// # Errors
///
/// Returns the OS error if `fcntl(F_GETFL)` or `fcntl(F_SETFL)` fails.
///
/// # Examples
///
/// ```
/// use std::os::fd::AsFd;
/// # fn main() -> std::io::Result<()> {
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// ember_reactor::__private::set_nonblocking(a.as_fd())?;
/// # Ok(())
/// # }
/// ```
pub fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: `raw` comes from a `BorrowedFd`, so it is an open descriptor for the
    // whole call; F_GETFL takes no pointer argument and only reads kernel state.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags == -1 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK != 0 {
        return Ok(());
    }
    // SAFETY: as above, `raw` is open for the duration of the borrow; F_SETFL takes
    // an integer flag argument and no memory is passed to the kernel.
    let rc = unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Put `fd` back into blocking mode (clear `O_NONBLOCK`), keeping its other
/// status flags: for a descriptor the reactor no longer watches that is
/// handed on to code expecting blocking I/O, such as a pipe that becomes a
/// child process's standard input.
///
/// # Errors
///
/// Returns the OS error if `fcntl(F_GETFL)` or `fcntl(F_SETFL)` fails.
///
/// # Examples
///
/// ```
/// use std::os::fd::AsFd;
/// # fn main() -> std::io::Result<()> {
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// ember_reactor::__private::set_nonblocking(a.as_fd())?;
/// ember_reactor::__private::set_blocking(a.as_fd())?;
/// # Ok(())
/// # }
/// ```
pub fn set_blocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: `raw` comes from a `BorrowedFd`, so it is an open descriptor for the
    // whole call; F_GETFL takes no pointer argument and only reads kernel state.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFL) };
    if flags == -1 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK == 0 {
        return Ok(());
    }
    // SAFETY: as above, `raw` is open for the duration of the borrow; F_SETFL takes
    // an integer flag argument and no memory is passed to the kernel.
    let rc = unsafe { libc::fcntl(raw, libc::F_SETFL, flags & !libc::O_NONBLOCK) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Write one byte to `fd`, from a signal handler, leaving `errno` as it was.
///
/// Errors are ignored on purpose: a full pipe (`EAGAIN`) means the reactor
/// already has unread bytes and will wake anyway; a repeated delivery of the
/// same signal is then coalesced, which the signal module documents.
pub(crate) fn write_signal_byte(fd: RawFd, byte: u8) {
    let saved = errno();
    // SAFETY: `write` is async-signal-safe. `fd` is the write end of the
    // reactor's self-pipe, which the action owning this call keeps open (it holds
    // an `Arc` of the pipe), and `&byte` is a valid one-byte buffer that lives for
    // the whole call.
    unsafe {
        libc::write(fd, (&byte as *const u8).cast(), 1);
    }
    set_errno(saved);
}

/// A one-shot timer on `CLOCK_MONOTONIC`, as a file descriptor (non-blocking,
/// close-on-exec) that a poller reports readable once the timer expires.
///
/// epoll's own timeout is whole milliseconds (mio rounds it up), so the
/// reactor registers one of these and arms it for the next timer deadline to
/// wake within microseconds of it. Arming it again replaces the old expiry
/// and clears a pending one (the fd stops being readable), so it is never
/// read: with edge-triggered polling each expiry is reported once.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[derive(Debug)]
pub(crate) struct TimerFd {
    fd: std::os::fd::OwnedFd,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl TimerFd {
    /// A new, disarmed timer fd.
    ///
    /// # Errors
    ///
    /// The OS error of `timerfd_create` (for example `EMFILE`).
    pub(crate) fn new() -> io::Result<TimerFd> {
        use std::os::fd::FromRawFd;
        // SAFETY: `timerfd_create` takes two integer arguments and no memory.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw == -1 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a descriptor the kernel has just opened for this
        // call and that nothing else knows of, so the `OwnedFd` is its only
        // owner and closes it exactly once.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        Ok(TimerFd { fd })
    }

    /// Arms the timer to expire once, `after` from now (at least 1 ns: a
    /// zero expiry would disarm it), replacing any earlier setting.
    ///
    /// # Errors
    ///
    /// The OS error of `timerfd_settime`.
    pub(crate) fn set_after(&self, after: std::time::Duration) -> io::Result<()> {
        let after = after.max(std::time::Duration::from_nanos(1));
        // SAFETY: `itimerspec` is four integers (plus, on some targets,
        // integer padding), for which all zeroes is a valid value: a
        // disarmed, non-repeating timer.
        let mut spec: libc::itimerspec = unsafe { std::mem::zeroed() };
        spec.it_value.tv_sec = libc::time_t::try_from(after.as_secs()).unwrap_or(libc::time_t::MAX);
        // Below one billion: fits every target's `tv_nsec` type.
        spec.it_value.tv_nsec = after.subsec_nanos() as _;
        // SAFETY: `self.fd` is open while `self` is borrowed; `&spec` points
        // to an initialised `itimerspec` that outlives the call and that the
        // kernel only reads; `old_value` may be null (timerfd_settime(2)), so
        // the kernel writes nothing. Flags 0: `it_value` is relative.
        let rc =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
        if rc == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
impl mio::event::Source for TimerFd {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.fd.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.fd.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.fd.as_raw_fd()).deregister(registry)
    }
}

#[cfg(any(target_os = "linux", target_os = "android", target_os = "emscripten"))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: `__errno_location` has no preconditions; it returns the address of
    // the calling thread's errno, valid for the thread's lifetime.
    unsafe { libc::__errno_location() }
}

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "freebsd",
    target_os = "dragonfly"
))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: `__error` has no preconditions; it returns the address of the
    // calling thread's errno, valid for the thread's lifetime.
    unsafe { libc::__error() }
}

#[cfg(any(target_os = "openbsd", target_os = "netbsd"))]
fn errno_location() -> *mut libc::c_int {
    // SAFETY: `__errno` has no preconditions; it returns the address of the
    // calling thread's errno, valid for the thread's lifetime.
    unsafe { libc::__errno() }
}

/// The calling thread's `errno` (async-signal-safe).
fn errno() -> libc::c_int {
    // SAFETY: `errno_location` returns a valid, aligned pointer to this thread's
    // errno, and only this thread accesses it.
    unsafe { *errno_location() }
}

/// Set the calling thread's `errno` (async-signal-safe).
fn set_errno(value: libc::c_int) {
    // SAFETY: as in `errno`: the pointer is valid, aligned and thread-local.
    unsafe { *errno_location() = value }
}

/// Probe `fd` for `interest` right now, without blocking and without touching
/// the reactor: one `poll(2)` with a zero timeout.
///
/// The reactor's readiness is edge-triggered and cached until an operation
/// reports `WouldBlock`; an owner that ran its own system call outside the
/// reactor's I/O loop (`ember_io::Async::get_ref`) uses this to confirm that
/// cached readiness before handing it out again.
///
/// The result maps `POLLIN`/`POLLPRI` to readable, `POLLOUT` to writable,
/// `POLLRDHUP` (where the OS has it) to read-closed, `POLLHUP` to both
/// closed states and `POLLERR` to error; an empty result means "would block".
///
/// # Errors
///
/// Returns the OS error of `poll(2)` (it is retried on `EINTR`), or `EBADF`
/// if the kernel reports the descriptor invalid (`POLLNVAL`).
///
/// # Examples
///
/// ```
/// use std::io::Write;
/// use std::os::fd::AsFd;
/// use ember_reactor::Interest;
/// # fn main() -> std::io::Result<()> {
/// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
/// let probe = ember_reactor::__private::poll_now;
/// assert!(!probe(a.as_fd(), Interest::READABLE)?.is_readable());
/// b.write_all(b"x")?;
/// assert!(probe(a.as_fd(), Interest::READABLE)?.is_readable());
/// # Ok(())
/// # }
/// ```
pub fn poll_now(
    fd: BorrowedFd<'_>,
    interest: crate::ready::Interest,
) -> io::Result<crate::ready::Ready> {
    use crate::ready::Ready;

    #[cfg(any(target_os = "linux", target_os = "android"))]
    const READ_EVENTS: libc::c_short = libc::POLLIN | libc::POLLPRI | libc::POLLRDHUP;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const READ_EVENTS: libc::c_short = libc::POLLIN | libc::POLLPRI;

    let mut events = 0;
    if interest.is_readable() {
        events |= READ_EVENTS;
    }
    if interest.is_writable() {
        events |= libc::POLLOUT;
    }
    let mut pollfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    loop {
        // SAFETY: `pollfd` is one initialised `pollfd` on this stack frame,
        // live and exclusively borrowed for the whole call, and `nfds` is 1, so
        // the kernel reads that one entry and writes only its `revents`. The
        // descriptor is open for the borrow `fd`; a zero timeout never blocks.
        let rc = unsafe { libc::poll(&mut pollfd, 1, 0) };
        if rc != -1 {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    let revents = pollfd.revents;
    if revents & libc::POLLNVAL != 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    let mut ready = Ready::EMPTY;
    if revents & (libc::POLLIN | libc::POLLPRI) != 0 {
        ready = ready | Ready::READABLE;
    }
    if revents & libc::POLLOUT != 0 {
        ready = ready | Ready::WRITABLE;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if revents & libc::POLLRDHUP != 0 {
        ready = ready | Ready::READ_CLOSED;
    }
    if revents & libc::POLLHUP != 0 {
        ready = ready | Ready::READ_CLOSED | Ready::WRITE_CLOSED;
    }
    if revents & libc::POLLERR != 0 {
        ready = ready | Ready::ERROR;
    }
    Ok(ready)
}

/// Open a process file descriptor (pidfd) for the process `pid`: a
/// descriptor that the poller reports readable once that process has
/// exited, so a parent can wait for a child's exit through the reactor
/// instead of through `SIGCHLD` (Linux >= 5.3).
///
/// The descriptor is close-on-exec (the kernel always sets `O_CLOEXEC` on
/// a pidfd), so it never leaks into a later child. It refers to the process,
/// not to its number: it stays valid, and never starts to mean another
/// process, even after `pid` is reaped and the number reused. Reading it
/// is not supported; only polling it.
///
/// The caller must make sure `pid` names the intended process when this
/// is called: for a child of this process that is true until it is reaped.
///
/// # Errors
///
/// `ENOSYS` on kernels older than 5.3 (or where a seccomp filter hides the
/// call), `EPERM` where such a filter forbids it, `ESRCH` if there is no
/// process `pid`, `EINVAL` if `pid` does not fit a `pid_t`, `EMFILE` or
/// `ENFILE` when out of descriptors.
///
/// # Examples
///
/// ```
/// use ember_reactor::Interest;
/// # fn main() -> std::io::Result<()> {
/// let mut child = std::process::Command::new("true").spawn()?;
/// match ember_reactor::__private::pidfd_open(child.id()) {
///     Ok(pidfd) => {
///         use std::os::fd::AsFd;
///         // Readable once the child has exited (a zombie still counts).
///         while !ember_reactor::__private::poll_now(pidfd.as_fd(), Interest::READABLE)?
///             .is_readable()
///         {
///             std::thread::yield_now();
///         }
///     }
///     // An old kernel, or a sandbox that forbids the call.
///     Err(e) => assert!(matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM))),
/// }
/// assert!(child.wait()?.success());
/// # Ok(())
/// # }
/// ```
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn pidfd_open(pid: u32) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;

    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let flags: libc::c_uint = 0;
    // SAFETY: `pidfd_open(pid_t pid, unsigned int flags)` takes two integers
    // and no pointers, so no memory is shared with the kernel; the variadic
    // `syscall` receives them with exactly those C types. A kernel without
    // the call returns `ENOSYS` instead of doing anything.
    let rc = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, flags) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(rc).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: on success the kernel returned a new descriptor of this
    // process's table that nothing else refers to yet, so taking sole
    // ownership of it (closing it on drop) is sound.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// The most `sendfile(2)` moves in one call on Linux (`MAX_RW_COUNT`): a larger
/// count is clamped to it by the kernel anyway; clamping here keeps the
/// `ssize_t` result positive on every target.
#[cfg(any(target_os = "linux", target_os = "android"))]
const SENDFILE_MAX: usize = 0x7fff_f000;

/// Send up to `count` bytes of `file`, starting at byte `offset`, to the
/// connected stream socket `socket`, without copying them through user
/// space: one `sendfile(2)`. The file's own offset is neither used nor moved,
/// so several sends may share one file.
///
/// Returns the bytes queued on the socket: fewer than `count` when the send
/// buffer filled up or the file ended, and `0` when `offset` is at or past
/// the end of the file. A non-blocking socket with a full send buffer gives
/// [`io::ErrorKind::WouldBlock`]; `EINTR` is retried.
///
/// # Errors
///
/// The OS error: `WouldBlock` as above; `EINVAL` or `ENOSYS` when this pair of
/// descriptors does not support `sendfile` (the caller falls back to reading
/// and writing); `EOVERFLOW` when `offset` does not fit the kernel's `off_t`;
/// `EPIPE`, `ECONNRESET`, ... from the socket.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::fd::AsFd;
/// # fn main() -> std::io::Result<()> {
/// let path = std::env::temp_dir().join(format!("ember-sendfile-doc-{}", std::process::id()));
/// std::fs::write(&path, b"hello, sendfile")?;
/// let file = std::fs::File::open(&path)?;
/// let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
/// let sent = ember_reactor::__private::sendfile(a.as_fd(), file.as_fd(), 7, 64)?;
/// assert_eq!(sent, 8); // the file ended
/// let mut buf = [0; 8];
/// b.read_exact(&mut buf)?;
/// assert_eq!(&buf, b"sendfile");
/// # std::fs::remove_file(&path)?;
/// # Ok(())
/// # }
/// ```
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn sendfile(
    socket: BorrowedFd<'_>,
    file: BorrowedFd<'_>,
    offset: u64,
    count: usize,
) -> io::Result<usize> {
    let mut off =
        libc::off_t::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))?;
    let count = count.min(SENDFILE_MAX);
    loop {
        // SAFETY: both descriptors are open for the whole call (each comes from
        // a `BorrowedFd` that outlives it). `off` is a live `off_t` on this
        // stack frame, exclusively borrowed; the kernel reads it and writes
        // the advanced offset back into it, and touches no other user memory:
        // the bytes go from the file's pages to the socket inside the kernel.
        // `count` is only a length, clamped so the result fits in `ssize_t`.
        let n = unsafe { libc::sendfile(socket.as_raw_fd(), file.as_raw_fd(), &mut off, count) };
        if n >= 0 {
            // Non-negative and at most `count`: the cast is exact.
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The credentials of the process at the other end of a connected Unix-domain
/// socket, as the kernel recorded them when the connection was made (or the
/// pair created).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCred {
    /// The peer's process id, where the OS reports it (Linux, Android).
    pub pid: Option<libc::pid_t>,
    /// The peer's effective user id.
    pub uid: libc::uid_t,
    /// The peer's effective group id.
    pub gid: libc::gid_t,
}

/// The credentials of the peer of the connected Unix-domain socket `socket`:
/// `SO_PEERCRED` on Linux and Android, `getpeereid(3)` (no pid) on the BSDs
/// and Apple platforms.
///
/// # Errors
///
/// The OS error (for example `ENOTCONN`, or `ENOTSOCK` for anything but a
/// socket); [`io::ErrorKind::Unsupported`] on other platforms.
///
/// # Examples
///
/// ```
/// use std::os::fd::AsFd;
/// # fn main() -> std::io::Result<()> {
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// let cred = ember_reactor::__private::peer_cred(a.as_fd())?;
/// # #[cfg(target_os = "linux")]
/// assert_eq!(cred.pid, Some(std::process::id() as i32));
/// # let _ = cred;
/// # Ok(())
/// # }
/// ```
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn peer_cred(socket: BorrowedFd<'_>) -> io::Result<PeerCred> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let size = std::mem::size_of::<libc::ucred>();
    // `ucred` is three 32-bit fields: its size always fits `socklen_t`.
    let mut len = size as libc::socklen_t;
    // SAFETY: the descriptor is open for the borrow. `cred` is a live,
    // exclusively borrowed `ucred` on this stack frame and `len` says exactly
    // its size, so the kernel writes at most that many bytes into it (and the
    // length it wrote into `len`, which is also ours). Any bit pattern is a
    // valid `ucred` (three integers), so a partial write leaves no invalid value.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    if len as usize != size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "SO_PEERCRED returned a truncated ucred",
        ));
    }
    Ok(PeerCred {
        pid: Some(cred.pid),
        uid: cred.uid,
        gid: cred.gid,
    })
}

/// See the Linux version.
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "openbsd",
    target_os = "netbsd"
))]
pub fn peer_cred(socket: BorrowedFd<'_>) -> io::Result<PeerCred> {
    let mut uid: libc::uid_t = 0;
    let mut gid: libc::gid_t = 0;
    // SAFETY: the descriptor is open for the borrow; `uid` and `gid` are live,
    // exclusively borrowed integers on this stack frame, which the call fills in.
    let rc = unsafe { libc::getpeereid(socket.as_raw_fd(), &mut uid, &mut gid) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(PeerCred {
        pid: None,
        uid,
        gid,
    })
}

/// See the Linux version.
#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "macos",
    target_os = "ios",
    target_os = "tvos",
    target_os = "watchos",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "openbsd",
    target_os = "netbsd"
)))]
pub fn peer_cred(_socket: BorrowedFd<'_>) -> io::Result<PeerCred> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "peer credentials are not available on this platform",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn set_nonblocking_makes_reads_would_block() -> io::Result<()> {
        use std::io::Read;
        let (mut a, _b) = std::os::unix::net::UnixStream::pair()?;
        set_nonblocking(a.as_fd())?;
        // Idempotent.
        set_nonblocking(a.as_fd())?;
        let mut buf = [0u8; 4];
        let err = a.read(&mut buf).expect_err("no data was written");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        Ok(())
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn sendfile_reports_end_of_file_and_would_block() -> io::Result<()> {
        use std::io::Read;
        let path = std::env::temp_dir().join(format!("ember-sendfile-{}", std::process::id()));
        std::fs::write(&path, vec![7u8; 1 << 20])?;
        let file = std::fs::File::open(&path)?;
        std::fs::remove_file(&path)?;
        let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
        set_nonblocking(a.as_fd())?;
        // Past the end: nothing to send.
        assert_eq!(sendfile(a.as_fd(), file.as_fd(), 1 << 20, 10)?, 0);
        // Fill the socket until the kernel says it would block.
        let mut offset = 0u64;
        let err = loop {
            match sendfile(a.as_fd(), file.as_fd(), offset % (1 << 20), 1 << 20) {
                Ok(n) => offset += n as u64,
                Err(e) => break e,
            }
            assert!(offset < 1 << 30, "the socket never filled up");
        };
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
        let mut buf = [0u8; 16];
        b.read_exact(&mut buf)?;
        assert_eq!(buf, [7u8; 16]);
        Ok(())
    }

    #[test]
    fn peer_cred_of_a_pair_is_this_process() -> io::Result<()> {
        let (a, _b) = std::os::unix::net::UnixStream::pair()?;
        let cred = peer_cred(a.as_fd())?;
        // SAFETY: getuid and getgid cannot fail and have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        assert_eq!((cred.uid, cred.gid), (uid, gid));
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(cred.pid, Some(std::process::id() as libc::pid_t));
        Ok(())
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn timer_fd_becomes_readable_once_armed_and_expired() -> io::Result<()> {
        use std::time::Duration;
        let mut poll = mio::Poll::new()?;
        let mut events = mio::Events::with_capacity(4);
        let mut timer = TimerFd::new()?;
        let token = mio::Token(7);
        poll.registry()
            .register(&mut timer, token, mio::Interest::READABLE)?;
        // Disarmed: nothing to report.
        poll.poll(&mut events, Some(Duration::ZERO))?;
        assert!(events.is_empty());
        // A zero delay still arms it (for 1 ns) rather than disarming it.
        timer.set_after(Duration::ZERO)?;
        poll.poll(&mut events, Some(Duration::from_secs(10)))?;
        assert_eq!(
            events.iter().map(|e| e.token()).collect::<Vec<_>>(),
            [token]
        );
        // Edge-triggered and never read: reported once, not again.
        poll.poll(&mut events, Some(Duration::ZERO))?;
        assert!(events.is_empty());
        // Re-arming far ahead clears the expiry.
        timer.set_after(Duration::from_nanos(1))?;
        timer.set_after(Duration::from_secs(3600))?;
        poll.poll(&mut events, Some(Duration::ZERO))?;
        assert!(events.is_empty());
        Ok(())
    }

    #[test]
    fn set_blocking_undoes_set_nonblocking() -> io::Result<()> {
        let (a, _b) = std::os::unix::net::UnixStream::pair()?;
        set_nonblocking(a.as_fd())?;
        set_blocking(a.as_fd())?;
        // Idempotent.
        set_blocking(a.as_fd())?;
        // SAFETY: `a` is open for the whole call; F_GETFL only reads kernel state.
        let flags = unsafe { libc::fcntl(a.as_raw_fd(), libc::F_GETFL) };
        assert_ne!(flags, -1);
        assert_eq!(flags & libc::O_NONBLOCK, 0);
        Ok(())
    }

    #[test]
    fn errno_is_restored_after_signal_byte_write() {
        set_errno(libc::EINTR);
        // An invalid fd makes write fail with EBADF internally.
        write_signal_byte(-1, 7);
        assert_eq!(errno(), libc::EINTR);
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn pidfd_becomes_readable_when_the_child_exits() -> io::Result<()> {
        use std::process::{Command, Stdio};

        let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
        let pidfd = match pidfd_open(child.id()) {
            Ok(fd) => fd,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
                drop(child.stdin.take());
                child.wait()?;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let interest = crate::ready::Interest::READABLE;
        // `cat` waits for its input: it cannot have exited yet.
        assert!(!poll_now(pidfd.as_fd(), interest)?.is_readable());
        drop(child.stdin.take());
        // Bounded by the exit of `cat`, which just lost its input.
        while !poll_now(pidfd.as_fd(), interest)?.is_readable() {
            std::thread::yield_now();
        }
        assert!(child.wait()?.success());
        Ok(())
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn pidfd_open_rejects_a_pid_out_of_range() {
        let err = pidfd_open(u32::MAX).expect_err("not a pid_t");
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
    }
}
