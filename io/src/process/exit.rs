//! [`ExitWatcher`]: how the reactor tells that one child may have exited,
//! through its pidfd or through `SIGCHLD`. It owns that notification, not
//! the child: every status check is the caller's non-blocking `try_wait`.

use std::fmt;
use std::io;
use std::process::ExitStatus;
use std::task::{ready, Context, Poll};

use ember_reactor::{Handle, SignalListener};

/// Watches one child for its exit.
pub(crate) enum ExitWatcher {
    /// The child's pidfd, registered with the reactor: readable once the
    /// child has exited.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Pidfd(crate::Async<std::os::fd::OwnedFd>),
    /// A listener for `SIGCHLD`, which the kernel sends this process when
    /// any of its children changes state.
    Signal(SignalListener),
}

impl ExitWatcher {
    /// A watcher for the child `pid` on the current reactor: its pidfd if
    /// the kernel gives one (and `sigchld` does not force the fallback),
    /// else a `SIGCHLD` listener.
    ///
    /// Called right after the spawn. A `SIGCHLD` sent before the listener
    /// existed is not lost: the first status check happens after this.
    pub(crate) fn new(pid: u32, sigchld: bool) -> io::Result<ExitWatcher> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if !sigchld {
            if let Some(watcher) = pidfd::watch(pid) {
                return Ok(watcher);
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = (pid, sigchld);
        let listener = Handle::current().listen_signals(&[libc::SIGCHLD])?;
        Ok(ExitWatcher::Signal(listener))
    }

    /// Whether this watcher is a pidfd.
    pub(crate) fn is_pidfd(&self) -> bool {
        match self {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            ExitWatcher::Pidfd(_) => true,
            ExitWatcher::Signal(_) => false,
        }
    }

    /// Polls `child` (the one this watcher was made for) for its exit:
    /// `Ready` with its status once it is reaped, else `Pending` with `cx`'s
    /// waker stored where the reactor wakes it on the next notification.
    /// One waker: the last poller wins.
    ///
    /// Never blocks. Cancel safe: nothing is consumed that a later poll
    /// needs (a pidfd stays readable; the signal deliveries taken here are
    /// followed by a status check in the same poll).
    ///
    /// Errors: the reactor has shut down, or `waitpid` failed (`ECHILD`:
    /// someone else reaped the child).
    pub(crate) fn poll_exit(
        &mut self,
        cx: &mut Context<'_>,
        child: &mut std::process::Child,
    ) -> Poll<io::Result<ExitStatus>> {
        match self {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            ExitWatcher::Pidfd(pidfd) => loop {
                // No system call while the pidfd is not marked readable.
                let registration = pidfd.registration();
                let event = ready!(registration.poll_ready(cx, ember_reactor::Direction::Read))?;
                if let Some(status) = child.try_wait()? {
                    return Poll::Ready(Ok(status));
                }
                // Readable but not exited (a spurious event): wait for the
                // next one. The tick check keeps an event that came since.
                registration.clear_readiness(event);
            },
            ExitWatcher::Signal(listener) => loop {
                if let Some(status) = child.try_wait()? {
                    return Poll::Ready(Ok(status));
                }
                // Every delivery noted since the check above is covered by
                // the next check; `Pending` leaves the waker stored.
                let mut delivered = false;
                while listener.poll_recv(cx).is_ready() {
                    delivered = true;
                }
                if !delivered {
                    return Poll::Pending;
                }
            },
        }
    }
}

impl fmt::Debug for ExitWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_pidfd() { "Pidfd" } else { "Sigchld" })
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod pidfd {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::ExitWatcher;
    use crate::Async;

    /// Set once `pidfd_open` reported `ENOSYS`: the kernel is older than
    /// 5.3 (or a filter hides the call), so later spawns skip the attempt.
    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);

    /// The pidfd watcher of `pid`, or `None` where pidfds do not work; any
    /// failure falls back to `SIGCHLD`, which is always correct.
    pub(super) fn watch(pid: u32) -> Option<ExitWatcher> {
        if UNSUPPORTED.load(Ordering::Relaxed) {
            return None;
        }
        let fd = match ember_reactor::__private::pidfd_open(pid) {
            Ok(fd) => fd,
            Err(e) => {
                if e.raw_os_error() == Some(libc::ENOSYS) {
                    UNSUPPORTED.store(true, Ordering::Relaxed);
                }
                return None;
            }
        };
        // A pidfd is never read, only polled: no `O_NONBLOCK` needed. Not a
        // byte stream either.
        Async::new_nonblocking(fd).ok().map(ExitWatcher::Pidfd)
    }
}
