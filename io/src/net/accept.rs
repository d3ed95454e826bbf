//! Accepting connections, for [`TcpListener`](super::TcpListener) and
//! [`UnixListener`](super::UnixListener): the wait-and-accept loop, and what a
//! listener does when the process (or the system) runs out of descriptors.
//!
//! # Ground rules
//!
//! * `accept(2)` failing with `EMFILE`/`ENFILE` leaves the connection in the
//!   queue and the listener readable, so retrying at once fails the same way:
//!   a `loop { accept }` that logs errors would spin at 100% CPU until a
//!   descriptor frees up. ember does not retry hot:
//!   1. **Shed.** Each listener keeps one *spare* descriptor (`/dev/null`,
//!      close-on-exec) reserved from the moment it is created. On
//!      `EMFILE`/`ENFILE` it closes the spare, accepts and at once closes
//!      every connection waiting in the queue (each client sees a clean
//!      close instead of hanging in the backlog), and reserves the spare
//!      again. The queue is then empty and the readiness is cleared, so the
//!      next wake-up is a new connection. (libuv's trick.)
//!   2. **Report once per burst.** A *burst* starts with the first
//!      exhaustion error after a connection was accepted (or after the
//!      listener was created) and ends with the next accepted connection.
//!      Only the error that starts a burst is returned to a caller.
//!   3. **Back off.** During a burst an accept waits for the next readiness
//!      event *or* [`RETRY`], whichever comes first, then tries again
//!      (shedding again if still out of descriptors). Without a spare (it
//!      could not be reserved, or another thread took the descriptor it
//!      freed) the queue cannot be shed: the readiness is cleared all the
//!      same, and the timer alone paces the retries.
//!
//!   `ENOBUFS`/`ENOMEM` (the kernel is out of memory for the new socket)
//!   are handled as 2 and 3, without shedding: closing a descriptor frees
//!   no kernel memory worth having.
//! * The spare is per listener, not per runtime or per process: listeners
//!   move between the worker threads of a multi-thread runtime, and with
//!   one spare for several listeners they would race for the descriptor it
//!   frees. One descriptor per listener is negligible next to the
//!   connections it serves, and the reservation closes with its listener.
//! * The common path costs one relaxed atomic load per accepted connection;
//!   the spare's lock is taken only to shed, and after a burst.

use std::fs::File;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use ember_reactor::{Direction, Interest, ReadyEvent, Registration};
use ember_timer::Sleep;

/// How long an accept in a burst waits for a readiness event before it
/// tries again anyway.
pub(crate) const RETRY: Duration = Duration::from_millis(100);

/// Connections shed in one go before the loop yields to the readiness wait
/// (and so to the coop budget): a flood cannot hold the thread.
const SHED_LIMIT: usize = 1024;

/// A listener's defence against descriptor exhaustion (see the module docs).
pub(crate) struct Acceptor {
    /// Set by the error that starts a burst, cleared by the next accepted
    /// connection.
    burst: AtomicBool,
    /// Set when the spare could not be reserved again because descriptors
    /// ran out; the next accepted connection tries again.
    spare_missing: AtomicBool,
    slow: Mutex<Slow>,
}

/// What only the exhaustion path touches.
struct Slow {
    /// The reserved descriptor; `None` while lent out, or when it could not
    /// be reserved.
    spare: Option<File>,
    /// `poll_accept`'s back-off timer during a burst (one slot, like the
    /// waker slot of `poll_accept` itself).
    retry: Option<Sleep>,
}

/// What one attempt came to.
enum Step<T> {
    /// Return this to the caller.
    Done(io::Result<T>),
    /// Wait (for readiness, or also for the retry timer in a burst) and try
    /// again.
    Again,
}

/// How shedding the queue went.
enum Shed {
    /// The queue is empty (`WouldBlock`).
    Drained,
    /// [`SHED_LIMIT`] connections were closed and more are waiting.
    Partial,
    /// Nothing could be shed: no spare, or the descriptor it freed was taken.
    Stuck,
}

impl Acceptor {
    /// A new acceptor with its spare reserved (if the process has a
    /// descriptor to spare and a `/dev/null` or a `/` to open).
    pub(crate) fn new() -> Acceptor {
        let (spare, missing) = match reserve() {
            Ok(file) => (Some(file), false),
            Err(e) => (None, is_descriptor_exhaustion(&e)),
        };
        Acceptor {
            burst: AtomicBool::new(false),
            spare_missing: AtomicBool::new(missing),
            slow: Mutex::new(Slow { spare, retry: None }),
        }
    }

    /// Waits for and accepts one connection with `accept_one` (a
    /// non-blocking `accept`), as one of any number of waiting tasks.
    pub(crate) async fn accept<T>(
        &self,
        registration: &Registration,
        mut accept_one: impl FnMut() -> io::Result<T>,
    ) -> io::Result<T> {
        loop {
            let event = if self.burst.load(Ordering::Relaxed) {
                wait_or_retry(registration).await?
            } else {
                Some(registration.ready(Interest::READABLE).await?)
            };
            if let Step::Done(result) = self.attempt(registration, event, &mut accept_one) {
                return result;
            }
        }
    }

    /// The `poll_*` form of [`accept`](Acceptor::accept): one waker slot for
    /// the readiness and one for the retry timer.
    pub(crate) fn poll_accept<T>(
        &self,
        registration: &Registration,
        cx: &mut Context<'_>,
        mut accept_one: impl FnMut() -> io::Result<T>,
    ) -> Poll<io::Result<T>> {
        loop {
            let event = match registration.poll_ready(cx, Direction::Read) {
                Poll::Ready(Ok(event)) => Some(event),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending if self.burst.load(Ordering::Relaxed) => {
                    let mut slow = self.lock();
                    let retry = slow.retry.get_or_insert_with(|| ember_timer::sleep(RETRY));
                    if std::pin::Pin::new(retry).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    slow.retry = None;
                    None
                }
                Poll::Pending => return Poll::Pending,
            };
            if let Step::Done(result) = self.attempt(registration, event, &mut accept_one) {
                return Poll::Ready(result);
            }
        }
    }

    /// One `accept` under `event` (`None`: woken by the retry timer).
    fn attempt<T>(
        &self,
        registration: &Registration,
        event: Option<ReadyEvent>,
        accept_one: &mut impl FnMut() -> io::Result<T>,
    ) -> Step<T> {
        let clear = |event: Option<ReadyEvent>| {
            if let Some(event) = event {
                registration.clear_readiness(event);
            }
        };
        match accept_one() {
            Ok(conn) => {
                self.accepted();
                Step::Done(Ok(conn))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                clear(event);
                Step::Again
            }
            Err(e) if is_exhaustion(&e) => {
                let shed = if is_descriptor_exhaustion(&e) {
                    self.shed(accept_one)
                } else {
                    Shed::Stuck
                };
                match shed {
                    // Empty queue: the next connection raises a new event.
                    // Stuck: the event would only repeat this error; the
                    // retry timer paces the next attempts instead.
                    Shed::Drained | Shed::Stuck => clear(event),
                    Shed::Partial => {}
                }
                if self.burst.swap(true, Ordering::Relaxed) {
                    Step::Again
                } else {
                    Step::Done(Err(e))
                }
            }
            Err(e) => Step::Done(Err(e)),
        }
    }

    /// Ends a burst, and reserves the spare again if descriptors ran out
    /// when it was last tried.
    fn accepted(&self) {
        if !self.burst.load(Ordering::Relaxed) && !self.spare_missing.load(Ordering::Relaxed) {
            return;
        }
        let mut slow = self.lock();
        self.burst.store(false, Ordering::Relaxed);
        slow.retry = None;
        if slow.spare.is_none() && self.spare_missing.load(Ordering::Relaxed) {
            self.restore(&mut slow);
        }
    }

    /// Frees the spare's descriptor, accepts and closes the waiting
    /// connections with it, and reserves the spare again.
    fn shed<T>(&self, accept_one: &mut impl FnMut() -> io::Result<T>) -> Shed {
        let mut slow = self.lock();
        let Some(spare) = slow.spare.take() else {
            // Perhaps descriptors were freed since the last try.
            self.restore(&mut slow);
            return Shed::Stuck;
        };
        drop(spare);
        let mut shed = Shed::Partial;
        for _ in 0..SHED_LIMIT {
            match accept_one() {
                // Closed at once: the client reads end of stream.
                Ok(conn) => drop(conn),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    shed = Shed::Drained;
                    break;
                }
                // Another thread took the descriptor, or something else
                // failed: nothing more to shed now.
                Err(_) => {
                    shed = Shed::Stuck;
                    break;
                }
            }
        }
        self.restore(&mut slow);
        shed
    }

    /// Tries to reserve the spare into `slow`.
    fn restore(&self, slow: &mut Slow) {
        match reserve() {
            Ok(file) => {
                slow.spare = Some(file);
                self.spare_missing.store(false, Ordering::Relaxed);
            }
            Err(e) => self
                .spare_missing
                .store(is_descriptor_exhaustion(&e), Ordering::Relaxed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slow> {
        // The state stays consistent whatever panicked while holding it.
        self.slow.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the listener holds its spare descriptor now (for tests).
    #[cfg(test)]
    fn has_spare(&self) -> bool {
        self.lock().spare.is_some()
    }
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor")
            .field("burst", &self.burst.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Waits for readiness or the retry timer; `None` when the timer won.
async fn wait_or_retry(registration: &Registration) -> io::Result<Option<ReadyEvent>> {
    let mut ready = pin!(registration.ready(Interest::READABLE));
    let mut retry = ember_timer::sleep(RETRY);
    poll_fn(|cx| {
        if let Poll::Ready(event) = ready.as_mut().poll(cx) {
            return Poll::Ready(event.map(Some));
        }
        std::pin::Pin::new(&mut retry).poll(cx).map(|()| Ok(None))
    })
    .await
}

/// Opens the spare: `/dev/null`, or `/` where there is no `/dev/null` (a
/// chroot). std opens files close-on-exec.
fn reserve() -> io::Result<File> {
    File::open("/dev/null").or_else(|e| {
        if is_descriptor_exhaustion(&e) {
            Err(e)
        } else {
            File::open("/")
        }
    })
}

/// `EMFILE` (the process's limit) or `ENFILE` (the system's).
fn is_descriptor_exhaustion(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// An error that says "out of a resource; retrying at once fails the same
/// way": descriptors, or kernel memory for the new socket.
fn is_exhaustion(e: &io::Error) -> bool {
    is_descriptor_exhaustion(e) || matches!(e.raw_os_error(), Some(libc::ENOBUFS | libc::ENOMEM))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_acceptor_holds_its_spare() {
        let acceptor = Acceptor::new();
        assert!(acceptor.has_spare());
        assert!(!acceptor.burst.load(Ordering::Relaxed));
    }

    #[test]
    fn exhaustion_errors_are_recognised() {
        let os = io::Error::from_raw_os_error;
        assert!(is_descriptor_exhaustion(&os(libc::EMFILE)));
        assert!(is_descriptor_exhaustion(&os(libc::ENFILE)));
        assert!(!is_descriptor_exhaustion(&os(libc::ENOBUFS)));
        assert!(is_exhaustion(&os(libc::ENOBUFS)));
        assert!(is_exhaustion(&os(libc::ENOMEM)));
        assert!(!is_exhaustion(&os(libc::ECONNABORTED)));
        assert!(!is_exhaustion(&io::ErrorKind::WouldBlock.into()));
    }
}
