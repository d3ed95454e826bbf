//! Unix signals delivered through the reactor: one self-pipe per reactor,
//! one signal-hook action per (reactor, signal), any number of listeners.
//!
//! # How it works
//!
//! Each reactor owns a non-blocking pipe whose read end is registered with
//! its poller under [`token::SIGNAL`](crate::token::SIGNAL). When a listener
//! asks for a signal that this reactor does not handle yet, an action is
//! installed with `signal-hook-registry` that writes the signal number, as
//! one byte, to the pipe's write end (`write(2)` is async-signal-safe; errno
//! is saved and restored). signal-hook-registry runs *every* action
//! registered for a signal, so several reactors in one process each get
//! their byte. When the driver sees the pipe readable it drains it, counts
//! the deliveries per signal, adds them to the pending count of every
//! listener that asked for that signal, and wakes those listeners.
//!
//! # Delivery guarantees
//!
//! Every listener sees every delivery the driver observed for its signals,
//! in the order of its pending counts (not necessarily arrival order across
//! different signals). Repeated deliveries of one signal can be coalesced
//! before that: the kernel merges pending standard signals, and if the pipe is
//! full the byte is dropped (the reactor is then already due to wake). A
//! listener is never told about a signal it did not ask for.
//!
//! # Ground rules
//!
//! * [`SignalShared::state`] (one mutex per reactor) guards the listeners,
//!   the installed actions and the pipe's write end. Listeners lock it to
//!   register, poll and drop; the driver locks it to dispatch and at
//!   shutdown. Wakers are woken after it is released.
//! * An action keeps the pipe's write end alive (it holds an `Arc` of it).
//!   All actions are unregistered, under the lock, before the driver's read
//!   end closes (Driver drop), so a handler never writes to a pipe without a
//!   reader (which would raise `SIGPIPE`). `signal_hook_registry::unregister`
//!   waits for handlers running on other threads to finish.

use std::fmt;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use mio::unix::pipe;
use signal_hook_registry::SigId;
use slab::Slab;

use crate::sys;

/// Signals whose handling would be unsound or impossible.
const FORBIDDEN: [i32; 6] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGBUS,
];

/// Signal numbers are sent as one byte; every supported OS numbers its
/// signals (including real-time ones) below this.
const MAX_SIGNAL: i32 = 128;

/// Per-reactor signal state, shared by the driver and its listeners.
pub(crate) struct SignalShared {
    state: Mutex<SignalState>,
}

struct SignalState {
    /// Set when the driver is dropped; no new listeners after that.
    shutdown: bool,
    /// Write end of the self-pipe; `None` after shutdown.
    sender: Option<Arc<pipe::Sender>>,
    /// The action installed for each signal this reactor handles.
    actions: Vec<(i32, SigId)>,
    listeners: Slab<ListenerState>,
}

struct ListenerState {
    /// (signal, deliveries not yet returned by `poll_recv`).
    pending: Vec<(i32, u32)>,
    /// Where the round-robin scan of `pending` starts, for fairness.
    next: usize,
    waker: Option<Waker>,
}

/// The driver's half: the self-pipe's read end.
pub(crate) struct SignalReceiver {
    receiver: pipe::Receiver,
}

impl SignalShared {
    fn lock(&self) -> MutexGuard<'_, SignalState> {
        // Every mutation below completes or is undone before it can panic, so
        // a poisoned lock still guards consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Driver drop: unregister every action, then release the write end.
    pub(crate) fn shutdown(&self) {
        let mut state = self.lock();
        state.shutdown = true;
        for (_, id) in state.actions.drain(..) {
            signal_hook_registry::unregister(id);
        }
        state.sender = None;
    }
}

impl SignalReceiver {
    /// Create the self-pipe and register its read end with `registry`.
    pub(crate) fn new(registry: &mio::Registry) -> io::Result<(SignalReceiver, SignalShared)> {
        let (sender, mut receiver) = pipe::new()?;
        registry.register(&mut receiver, crate::token::SIGNAL, mio::Interest::READABLE)?;
        let shared = SignalShared {
            state: Mutex::new(SignalState {
                shutdown: false,
                sender: Some(Arc::new(sender)),
                actions: Vec::new(),
                listeners: Slab::new(),
            }),
        };
        Ok((SignalReceiver { receiver }, shared))
    }

    /// Driver only: drain the pipe and credit the deliveries to listeners.
    /// Wakers go to `wake`, to be woken by the caller.
    pub(crate) fn dispatch(&mut self, shared: &SignalShared, wake: &mut Vec<Waker>) {
        let mut counts = [0u32; MAX_SIGNAL as usize];
        let mut any = false;
        let mut buf = [0u8; 64];
        loop {
            match self.receiver.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    for &byte in &buf[..n] {
                        if let Some(count) = counts.get_mut(usize::from(byte)) {
                            *count = count.saturating_add(1);
                            any = true;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // WouldBlock: drained. Any other error cannot be acted upon here.
                Err(_) => break,
            }
        }
        if !any {
            return;
        }
        let mut state = shared.lock();
        for (_, listener) in state.listeners.iter_mut() {
            let mut credited = false;
            for (signal, pending) in &mut listener.pending {
                let delivered = counts[*signal as usize];
                if delivered > 0 {
                    *pending = pending.saturating_add(delivered);
                    credited = true;
                }
            }
            if credited {
                wake.extend(listener.waker.take());
            }
        }
    }
}

fn check_signal(signal: i32) -> io::Result<()> {
    if FORBIDDEN.contains(&signal) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal {signal} cannot be handled (it is one of SIGKILL, SIGSTOP, SIGSEGV, SIGILL, SIGFPE, SIGBUS)"),
        ));
    }
    if !(1..MAX_SIGNAL).contains(&signal) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{signal} is not a valid signal number"),
        ));
    }
    Ok(())
}

/// Install this reactor's action for `signal`: write its number to the pipe.
fn install_action(sender: &Arc<pipe::Sender>, signal: i32) -> io::Result<SigId> {
    let sender = Arc::clone(sender);
    let fd = sender.as_raw_fd();
    // `check_signal` bounds signals to 1..128, so this is lossless.
    let byte = signal as u8;
    let action = move || {
        // Holding `sender` keeps `fd` open for as long as the action exists.
        let _keep_open = &sender;
        sys::write_signal_byte(fd, byte);
    };
    // SAFETY: `register` requires the action to be async-signal-safe. It only
    // calls `write_signal_byte`, which does one `write(2)` on a descriptor kept
    // open by the captured `Arc` and saves/restores errno: no allocation, no
    // locks, no panics. `signal` is not one of signal-hook's FORBIDDEN signals
    // (checked by `check_signal`), so `register` does not panic either.
    unsafe { signal_hook_registry::register(signal, action) }
}

/// A stream of the signals one listener asked for.
///
/// Created by [`Handle::listen_signals`](crate::Handle::listen_signals);
/// `Send`.
///
/// Every listener, in this and in any other reactor, receives every delivery
/// the reactor observed of the signals it asked for, and only those. Repeated
/// deliveries of one signal may be coalesced before the reactor observes
/// them: the kernel merges a standard signal that is already pending, and if
/// the reactor's self-pipe is full the extra byte is dropped (the reactor is
/// then already due to wake). Across different signals, `poll_recv` returns
/// them round-robin, not in arrival order.
///
/// Dropping the listener withdraws its interest; the
/// reactor's handler for a signal stays installed until the reactor shuts
/// down, and, as in other runtimes, a signal once listened for keeps no
/// default effect for the rest of the process (for example `SIGINT` no
/// longer terminates it). If the
/// reactor shuts down, `poll_recv` stays `Pending`.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # struct Noop;
/// # impl std::task::Wake for Noop { fn wake(self: std::sync::Arc<Self>) {} }
/// # let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
/// # let mut cx = std::task::Context::from_waker(&waker);
/// let mut driver = ember_reactor::Driver::new(ember_timer::Clock::real())?;
/// let mut listener = driver.handle().listen_signals(&[libc::SIGUSR2])?;
/// // SAFETY: raising a signal we installed a handler for is harmless.
/// assert_eq!(unsafe { libc::raise(libc::SIGUSR2) }, 0);
/// let signal = loop {
///     match listener.poll_recv(&mut cx) {
///         std::task::Poll::Ready(signal) => break signal,
///         std::task::Poll::Pending => driver.turn(None)?,
///     }
/// };
/// assert_eq!(signal, libc::SIGUSR2);
/// # Ok(())
/// # }
/// ```
pub struct SignalListener {
    shared: Arc<SignalShared>,
    key: usize,
    /// The distinct signals this listener asked for (to drop its interest).
    signals: Vec<i32>,
}

impl SignalListener {
    pub(crate) fn new(shared: Arc<SignalShared>, signals: &[i32]) -> io::Result<SignalListener> {
        let mut wanted: Vec<i32> = Vec::with_capacity(signals.len());
        for &signal in signals {
            check_signal(signal)?;
            if !wanted.contains(&signal) {
                wanted.push(signal);
            }
        }
        let key = {
            let mut state = shared.lock();
            let sender = match (&state.sender, state.shutdown) {
                (Some(sender), false) => Arc::clone(sender),
                _ => return Err(crate::scheduled_io::shutdown_error()),
            };
            let mut installed = Vec::new();
            for &signal in &wanted {
                if state.actions.iter().any(|(s, _)| *s == signal) {
                    continue;
                }
                match install_action(&sender, signal) {
                    Ok(id) => {
                        state.actions.push((signal, id));
                        installed.push(signal);
                    }
                    Err(e) => {
                        // Undo this call's installs: nobody listens to them.
                        state.actions.retain(|(s, id)| {
                            let keep = !installed.contains(s);
                            if !keep {
                                signal_hook_registry::unregister(*id);
                            }
                            keep
                        });
                        return Err(e);
                    }
                }
            }
            state.listeners.insert(ListenerState {
                pending: wanted.iter().map(|&s| (s, 0)).collect(),
                next: 0,
                waker: None,
            })
        };
        Ok(SignalListener {
            shared,
            key,
            signals: wanted,
        })
    }

    /// Receive the next pending signal, or store `cx`'s waker and return
    /// `Pending`.
    ///
    /// # Cancel safety
    ///
    /// A signal is only taken off the pending count when it is returned.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<i32> {
        let mut state = self.shared.lock();
        let Some(listener) = state.listeners.get_mut(self.key) else {
            return Poll::Pending;
        };
        let len = listener.pending.len();
        for i in 0..len {
            let index = (listener.next + i) % len;
            let (signal, count) = &mut listener.pending[index];
            if *count > 0 {
                *count -= 1;
                listener.next = (index + 1) % len;
                return Poll::Ready(*signal);
            }
        }
        match &listener.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => listener.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The distinct signals this listener receives.
    pub fn signals(&self) -> &[i32] {
        &self.signals
    }
}

impl Drop for SignalListener {
    fn drop(&mut self) {
        // The reactor's actions stay installed until it shuts down: installing
        // one is slow (signal-hook copies its table and spins out readers), and
        // code like `loop { select(ctrl_c(), ..) }` creates listeners
        // repeatedly. Undelivered bytes for nobody are simply discarded.
        self.shared.lock().listeners.try_remove(self.key);
    }
}

impl fmt::Debug for SignalListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalListener")
            .field("signals", &self.signals)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SignalShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("SignalShared")
            .field("actions", &state.actions.len())
            .field("listeners", &state.listeners.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SignalReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalReceiver").finish_non_exhaustive()
    }
}
