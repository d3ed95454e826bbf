//! Which timer is current on a thread. The timer keeps no thread-local of its
//! own: the crate above it (ember's reactor, whose driver context holds the
//! timer's handle) installs one process-wide provider that shows the current
//! handle to a visitor, and [`with_current`] asks it.
//!
//! # Ground rules
//!
//! - One provider per process, in a `OnceLock`: the first
//!   [`set_context`](crate::__private::set_context) wins, later ones are
//!   refused. Until one is installed, no thread has a current timer:
//!   [`Instant::now`](crate::Instant::now) reads the standard clock and only
//!   timers built from an explicit [`Handle`] can wait.
//! - A provider calls the visitor at most once, with a borrowed handle: a
//!   lookup costs no `Arc` clone (`Instant::now` and `sleep` are hot paths,
//!   and an `Arc` count written by every worker bounces its cache line
//!   between them). It finds its handle with `try_with`, so during thread
//!   teardown it simply does not call the visitor: no current timer, no
//!   panic.
//! - The visitor runs while the provider holds its thread-local borrowed, so
//!   what runs inside it must not run user code (a waker, a destructor) that
//!   could enter another context: it reads the clock or clones the handle,
//!   and everything else happens after it returns.

use std::sync::OnceLock;

use crate::driver::Handle;

/// The one message for "this needs a runtime and there is none". Every ember
/// crate that looks one up panics with exactly this text.
pub const NO_RUNTIME: &str = "there is no ember runtime on this thread: start one with \
    ember::block_on, Runtime::block_on or #[ember::main], or enter one with Runtime::enter or \
    Handle::enter";

/// Shows the calling thread's current timer handle, if it has one, to the
/// visitor. See [`__private::set_context`](crate::__private::set_context).
pub type ContextProvider = fn(&mut dyn FnMut(&Handle));

static PROVIDER: OnceLock<ContextProvider> = OnceLock::new();

/// Installs `provider` unless one is installed already; returns whether this
/// one is.
pub(crate) fn set(provider: ContextProvider) -> bool {
    PROVIDER.set(provider).is_ok()
}

/// Runs `f` on the current thread's timer handle, borrowed, or returns `None`
/// when there is none (or no provider, or the thread is being torn down).
///
/// `f` is `FnMut`, not `FnOnce`, so the visitor needs no `Option` around it:
/// this is on the path of every `Instant::now` and every timer registration.
#[inline]
pub(crate) fn with_current<R>(mut f: impl FnMut(&Handle) -> R) -> Option<R> {
    let provider = PROVIDER.get()?;
    let mut out = None;
    provider(&mut |handle| out = Some(f(handle)));
    out
}

/// Panics because a timer is needed and this thread has none.
#[track_caller]
pub(crate) fn no_runtime() -> ! {
    panic!("{NO_RUNTIME}")
}

/// A provider for the crate's own unit tests: a thread-local of the test
/// binary, entered with [`enter`].
#[cfg(test)]
pub(crate) mod test_provider {
    use std::cell::RefCell;

    use crate::driver::Handle;

    thread_local! {
        static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    }

    fn visit(f: &mut dyn FnMut(&Handle)) {
        let _ = CURRENT.try_with(|current| {
            if let Some(handle) = current.borrow().as_ref() {
                f(handle);
            }
        });
    }

    /// Makes `handle` current on this thread until the guard drops.
    pub(crate) fn enter(handle: &Handle) -> Guard {
        super::set(visit);
        Guard(CURRENT.with(|current| current.replace(Some(handle.clone()))))
    }

    pub(crate) struct Guard(Option<Handle>);

    impl Drop for Guard {
        fn drop(&mut self) {
            let previous = self.0.take();
            let _entered = CURRENT.try_with(|current| current.replace(previous));
        }
    }
}
