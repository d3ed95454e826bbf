//! The shared half of the reactor: [`Handle`] and its source registry.
//!
//! # Ground rules
//!
//! * `Handle` is an `Arc` around [`Inner`]; it is `Send + Sync` and is cloned
//!   into every [`Registration`] and by the runtime.
//! * `Inner::sources` (the slab of [`ScheduledIo`]) is behind one mutex. It
//!   is locked by `register` (insert), by a `Registration`'s `Drop` (remove),
//!   and by the driver for the whole dispatch of one event batch (lookup).
//!   Nobody wakes a waker or makes a syscall while holding it: registration
//!   with the OS happens after the slot is reserved and the lock released.
//! * The mio `Registry` is thread-safe; any thread may register or
//!   deregister sources.
//! * The current handle of a thread lives in its driver context
//!   ([`crate::context`]), set by [`Handle::enter`]; the current timer is
//!   that handle's timer.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use slab::Slab;

use crate::context::{self, NO_RUNTIME};
use crate::registration::Registration;
use crate::scheduled_io::{shutdown_error, ScheduledIo};
use crate::signal::{SignalListener, SignalShared};
use crate::token;
use crate::unpark::Unparker;

/// A cloneable, thread-safe handle to a reactor [`Driver`](crate::Driver):
/// registers sources, listens for signals, and unparks the driver.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use ember_reactor::{Driver, Handle};
///
/// let driver = Driver::new(ember_timer::Clock::real())?;
/// let handle: Handle = driver.handle().clone();
/// let _guard = handle.enter();
/// assert!(Handle::try_current().is_some());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<Inner>,
}

/// The state behind a [`Handle`].
pub(crate) struct Inner {
    /// Registers sources with the OS poller the driver owns.
    pub(crate) registry: mio::Registry,
    /// Every registered source; see the ground rules.
    sources: Mutex<Sources>,
    /// Sleep state and the `mio::Waker`.
    pub(crate) unpark: Unparker,
    /// Handle of the timer the driver turns.
    timer: ember_timer::Handle,
    /// Signal listeners and the per-signal actions of this reactor.
    pub(crate) signals: Arc<SignalShared>,
    /// Where blocking work (name resolution) goes; see [`Handle::offload_blocking`].
    offload: OnceLock<BlockingOffload>,
}

/// Runs a blocking closure away from the reactor's thread, for example on a
/// runtime's blocking pool. See [`crate::__private::set_blocking_offload`].
pub type BlockingOffload = Arc<dyn Fn(Box<dyn FnOnce() + Send>) + Send + Sync>;

/// The slab of sources plus what is needed to name them.
pub(crate) struct Sources {
    pub(crate) slab: Slab<Arc<ScheduledIo>>,
    /// Generation given to the most recent registration.
    generation: usize,
    /// Set when the driver is dropped; no new registrations after that.
    shutdown: bool,
}

impl Inner {
    pub(crate) fn new(
        registry: mio::Registry,
        unpark: Unparker,
        timer: ember_timer::Handle,
        signals: Arc<SignalShared>,
    ) -> Inner {
        Inner {
            registry,
            sources: Mutex::new(Sources {
                slab: Slab::new(),
                generation: 0,
                shutdown: false,
            }),
            unpark,
            timer,
            signals,
            offload: OnceLock::new(),
        }
    }

    pub(crate) fn lock_sources(&self) -> MutexGuard<'_, Sources> {
        // The slab is only mutated by insert/remove, which cannot be left
        // half-done by a panic, so a poisoned lock is still consistent.
        self.sources.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Driver drop: refuse new registrations, mark every source dead and
    /// return their wakers (woken by the caller after the lock is released).
    pub(crate) fn shutdown_sources(&self, wake: &mut Vec<std::task::Waker>) {
        let mut sources = self.lock_sources();
        sources.shutdown = true;
        for (_, io) in sources.slab.iter() {
            io.shutdown(wake);
        }
    }

    /// Free the slot of `io` (called from `Registration::drop`).
    pub(crate) fn release(&self, io: &Arc<ScheduledIo>) {
        let mut sources = self.lock_sources();
        let slot = token::slot(io.token());
        if sources
            .slab
            .get(slot)
            .is_some_and(|current| Arc::ptr_eq(current, io))
        {
            sources.slab.remove(slot);
        }
    }
}

impl Handle {
    /// The reactor entered on this thread.
    ///
    /// # Panics
    ///
    /// If no reactor is entered on this thread (see [`Handle::enter`]), with
    /// "there is no ember runtime on this thread: start one with
    /// `ember::block_on`, `Runtime::block_on` or `#[ember::main]`, or enter
    /// one with `Runtime::enter` or `Handle::enter`".
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!("{NO_RUNTIME}"),
        }
    }

    /// The reactor entered on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        context::current()
    }

    /// Make this the thread's current reactor (and so its timer, signal
    /// source and blocking offload) until the guard is dropped, which
    /// restores the previous one: one guard enters the whole driver
    /// context. Guards nest; drop them in reverse order.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use ember_reactor::{Driver, Handle};
    ///
    /// let driver = Driver::new(ember_timer::Clock::paused())?;
    /// {
    ///     let _guard = driver.handle().enter();
    ///     assert!(Handle::try_current().is_some());
    ///     // The reactor's timer is the current one: sleeps wait on it.
    ///     assert!(ember_timer::Handle::current().clock().is_paused());
    /// }
    /// assert!(Handle::try_current().is_none());
    /// assert!(ember_timer::Handle::try_current().is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn enter(&self) -> EnterGuard {
        EnterGuard {
            previous: context::replace(Some(self.clone())),
            _not_send: PhantomData,
        }
    }

    /// The handle of the timer this reactor drives.
    pub fn timer(&self) -> &ember_timer::Handle {
        &self.inner.timer
    }

    /// Installs where [`offload_blocking`](Handle::offload_blocking) sends
    /// work; only the first call takes effect. See
    /// [`crate::__private::set_blocking_offload`].
    pub(crate) fn set_blocking_offload(&self, offload: BlockingOffload) -> bool {
        self.inner.offload.set(offload).is_ok()
    }

    /// Runs `work`, which may block, where the runtime keeps blocking work
    /// (its blocking pool). Without an installed offload it runs `work` on
    /// the calling thread, blocking it.
    ///
    /// A pool that shuts down may drop `work` without running it: callers
    /// that wait for a result must treat a dropped closure as an error.
    pub(crate) fn offload_blocking(&self, work: Box<dyn FnOnce() + Send>) {
        match self.inner.offload.get() {
            Some(offload) => offload(work),
            None => work(),
        }
    }

    /// Wake the driver's `turn` if it is blocked in poll, from any thread;
    /// otherwise make its next turn return without blocking.
    ///
    /// The OS waker is written only when the driver is actually asleep, so
    /// this is one atomic operation when the driver is busy.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let mut driver = ember_reactor::Driver::new(ember_timer::Clock::real())?;
    /// driver.handle().unpark();
    /// driver.turn(None)?; // returns at once: the notification is pending
    /// # Ok(())
    /// # }
    /// ```
    pub fn unpark(&self) {
        self.inner.unpark.unpark();
    }

    /// Register `source` with the reactor for `interest`.
    ///
    /// The source should be non-blocking (see [`crate::sys::set_nonblocking`]);
    /// readiness is edge-triggered. Call [`Registration::deregister`] before
    /// closing the source.
    ///
    /// # Errors
    ///
    /// If the reactor has shut down, if it holds too many sources, or if the
    /// OS refuses the registration.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// use mio::net::UnixStream;
    /// use mio::Interest;
    ///
    /// let driver = ember_reactor::Driver::new(ember_timer::Clock::real())?;
    /// let (mut a, _b) = UnixStream::pair()?;
    /// let registration = driver
    ///     .handle()
    ///     .register(&mut a, Interest::READABLE | Interest::WRITABLE)?;
    /// registration.deregister(&mut a)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn register(
        &self,
        source: &mut impl mio::event::Source,
        interest: mio::Interest,
    ) -> io::Result<Registration> {
        let io = {
            let mut sources = self.inner.lock_sources();
            if sources.shutdown {
                return Err(shutdown_error());
            }
            if sources.slab.len() >= token::MAX_SLOTS {
                return Err(io::Error::other(
                    "too many sources registered with the ember reactor",
                ));
            }
            let generation = token::next_generation(sources.generation);
            sources.generation = generation;
            let entry = sources.slab.vacant_entry();
            let io = Arc::new(ScheduledIo::new(token::encode(entry.key(), generation)));
            entry.insert(io.clone());
            io
        };
        // Built before the syscall so that a failure frees the slot in Drop.
        let registration = Registration::new(self.clone(), io);
        self.inner
            .registry
            .register(source, registration.token(), interest)?;
        Ok(registration)
    }

    /// Start receiving the given signals.
    ///
    /// Every listener, in this and any other reactor, sees every signal it
    /// asked for; see [`SignalListener`] for the delivery guarantees.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a signal that cannot be handled (`SIGKILL`,
    /// `SIGSTOP`, `SIGSEGV`, `SIGILL`, `SIGFPE`, `SIGBUS`) or is out of range;
    /// an error if the reactor has shut down or installing the handler fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let driver = ember_reactor::Driver::new(ember_timer::Clock::real())?;
    /// let _listener = driver.handle().listen_signals(&[libc::SIGUSR2])?;
    /// let err = driver.handle().listen_signals(&[libc::SIGKILL]).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// # Ok(())
    /// # }
    /// ```
    pub fn listen_signals(&self, signals: &[i32]) -> io::Result<SignalListener> {
        SignalListener::new(self.inner.signals.clone(), signals)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("sources", &self.inner.lock_sources().slab.len())
            .finish_non_exhaustive()
    }
}

/// Restores the previously entered reactor when dropped. Returned by
/// [`Handle::enter`]; not `Send`, because it restores a thread-local:
///
/// ```compile_fail
/// fn assert_send<T: Send>() {}
/// assert_send::<ember_reactor::EnterGuard>();
/// ```
#[must_use = "the reactor is only entered while the guard is alive"]
pub struct EnterGuard {
    previous: Option<Handle>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // The handle replaced here is dropped after the context is released.
        let _entered = context::replace(self.previous.take());
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
