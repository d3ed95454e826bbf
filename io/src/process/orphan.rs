//! The process-wide orphan list: children dropped before their exit status
//! was collected, reaped in the background without a thread (the guarantee
//! is stated in the [module docs](super#orphans)).
//!
//! # Ground rules
//!
//! * The list is one mutex, [`ORPHANS`]. Only [`reap`] sweeps it, under the
//!   mutex, on the thread that called it; [`adopt`] only pushes.
//! * [`reap`] never blocks on the mutex: it raises [`REQUESTED`] and tries
//!   the lock. Whoever holds the lock sweeps while `REQUESTED` is raised
//!   and checks it once more after letting go, so a request made during a
//!   sweep is served by that sweep's thread. This also makes a `reap` from
//!   inside a sweep (a waker woken inline) return at once instead of
//!   deadlocking.
//! * The sweep re-arms every orphan's exit watcher with one waker, whose
//!   `wake` is [`reap`]: the reactor that sees an orphan exit (its pidfd
//!   readable, or `SIGCHLD`) sweeps the list on its own thread, after it has
//!   released its locks (reactor wakers are always woken unlocked). The
//!   watchers are polled under a fresh coop budget: the budget of whatever
//!   task dropped the child must not refuse the poll, which would wake that
//!   waker inline, again and again.
//! * A watcher that fails (its reactor shut down, which wakes it one last
//!   time) is dropped; the orphan stays on the list and is reaped by the
//!   sweeps that process operations run ([`reap_if_any`]).

use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError};
use std::task::{Context, Poll, Wake, Waker};

use super::exit::ExitWatcher;

/// Children dropped unreaped, each with its exit watcher while that works.
static ORPHANS: Mutex<Vec<Orphan>> = Mutex::new(Vec::new());

/// How many entries `ORPHANS` holds (stored under its lock), so that
/// operations skip the sweep without locking when it is empty.
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// A sweep was asked for since the holder of `ORPHANS` last looked.
static REQUESTED: AtomicBool = AtomicBool::new(false);

struct Orphan {
    child: Child,
    /// `None` once it failed: the orphan is then only reaped by sweeps.
    watcher: Option<ExitWatcher>,
}

impl Orphan {
    /// Whether the child is gone: reaped now, or not ours to reap (`waitpid`
    /// failed, for example with `ECHILD`). Re-arms the watcher otherwise.
    fn poll_gone(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(watcher) = &mut self.watcher {
            match watcher.poll_exit(cx, &mut self.child) {
                Poll::Ready(Ok(_status)) => return true,
                Poll::Pending => return false,
                // The reactor shut down, or `waitpid` failed: the plain
                // check below tells which.
                Poll::Ready(Err(_)) => self.watcher = None,
            }
        }
        !matches!(self.child.try_wait(), Ok(None))
    }
}

/// Puts `child`, not yet reaped, on the orphan list with its `watcher`,
/// and sweeps the list (which arms the watcher).
pub(crate) fn adopt(child: Child, watcher: Option<ExitWatcher>) {
    {
        let mut orphans = lock(&ORPHANS);
        orphans.push(Orphan { child, watcher });
        COUNT.store(orphans.len(), Ordering::SeqCst);
    }
    reap();
}

/// Sweeps the list if it holds anything: run by every process operation,
/// so that orphans whose reactor is gone are reaped too.
pub(crate) fn reap_if_any() {
    if COUNT.load(Ordering::SeqCst) > 0 {
        reap();
    }
}

/// Reaps every orphan that has exited and re-arms the watchers of the
/// others; see the ground rules for who does the work.
pub(crate) fn reap() {
    REQUESTED.store(true, Ordering::SeqCst);
    while REQUESTED.load(Ordering::SeqCst) {
        let mut orphans = match ORPHANS.try_lock() {
            Ok(guard) => guard,
            // Nothing in a sweep leaves the list inconsistent.
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            // The holder sees the flag before it lets go.
            Err(TryLockError::WouldBlock) => return,
        };
        while REQUESTED.swap(false, Ordering::SeqCst) {
            sweep(&mut orphans);
        }
    }
}

fn sweep(orphans: &mut Vec<Orphan>) {
    let mut cx = Context::from_waker(reaper());
    ember_reactor::__private::coop::budget(|| {
        orphans.retain_mut(|orphan| !orphan.poll_gone(&mut cx));
    });
    COUNT.store(orphans.len(), Ordering::SeqCst);
}

/// The waker every orphan's watcher is armed with: waking it sweeps.
fn reaper() -> &'static Waker {
    struct Reaper;
    impl Wake for Reaper {
        fn wake(self: Arc<Self>) {
            reap();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            reap();
        }
    }
    static REAPER: OnceLock<Waker> = OnceLock::new();
    REAPER.get_or_init(|| Waker::from(Arc::new(Reaper)))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
