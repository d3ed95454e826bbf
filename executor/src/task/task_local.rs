//! Task-local storage: [`LocalKey`], declared with [`task_local!`](crate::task_local), and the
//! future that carries a value with it, [`TaskLocalFuture`].
//!
//! A task-local value belongs to a future, not to a thread: [`LocalKey::scope`] wraps a future
//! together with a value, and every time that future is polled the value is moved into a
//! thread-local slot for the duration of the poll and moved back out afterwards. Code running
//! inside the poll (the future itself, anything it calls) reads it with [`LocalKey::with`];
//! between polls the value travels with the future, so a task that moves from one worker
//! thread to another keeps it, and two tasks interleaved on one thread each see their own.
//! Nothing here involves a scheduler: it works on any runtime, or under a plain `block_on`.
//!
//! Ground rules: the thread-local slot holds a value only while a scope is entered on that
//! thread. Entering swaps the scope's value with whatever the slot held (so scopes nest:
//! an inner scope of the same key shadows the outer one and gives it back on exit), and
//! leaving swaps back, also when the scoped code panics. The slot is never borrowed across a
//! scope entry: [`LocalKey::with`] borrows it for the duration of its closure only, and
//! entering a scope inside that closure panics instead of aliasing the borrowed value.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

/// Declares task-local keys: statics of type [`LocalKey`], each a value per scoped future.
///
/// The syntax is that of `std::thread_local!` without an initialiser: a value exists only
/// inside a [`LocalKey::scope`] or [`LocalKey::sync_scope`].
///
/// # Examples
///
/// ```
/// ember_executor::task_local! {
///     /// The id of the request being served.
///     pub static REQUEST_ID: u64;
///     static USER: String;
/// }
///
/// let id = ember_executor::block_on(REQUEST_ID.scope(7, async {
///     ember_executor::task::yield_now().await;
///     REQUEST_ID.get()
/// }));
/// assert_eq!(id, 7);
/// assert!(USER.try_with(|user| user.len()).is_err());
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $ty:ty; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$ty> = {
            ::std::thread_local! {
                static SLOT: ::std::cell::RefCell<::std::option::Option<$ty>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__from_thread_local(SLOT)
        };
        $crate::task_local!($($rest)*);
    };
}

/// A key for task-local data, declared with [`task_local!`](crate::task_local).
///
/// The value is set by wrapping a future with [`scope`](LocalKey::scope) (or a closure with
/// [`sync_scope`](LocalKey::sync_scope)) and read inside with [`with`](LocalKey::with),
/// [`try_with`](LocalKey::try_with) or [`get`](LocalKey::get). It belongs to the future, not
/// to a thread: it is moved into a thread-local slot for each poll of the scoped future and
/// back out afterwards, so it is visible across `.await` points, follows a task from one
/// worker thread to another, and two tasks interleaved on one thread each see their own. A
/// task spawned from inside a scope does not inherit the value. Nothing here involves a
/// scheduler: it works on any runtime.
///
/// # Examples
///
/// ```
/// ember_executor::task_local! {
///     static DEPTH: u32;
/// }
///
/// ember_executor::block_on(async {
///     let a = ember_executor::spawn_local(DEPTH.scope(1, async { DEPTH.get() }));
///     let b = ember_executor::spawn_local(DEPTH.scope(2, async {
///         ember_executor::task::yield_now().await;
///         DEPTH.get()
///     }));
///     assert_eq!((a.await.unwrap(), b.await.unwrap()), (1, 2));
/// });
/// ```
pub struct LocalKey<T: 'static> {
    slot: std::thread::LocalKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    /// Used by [`task_local!`](crate::task_local); not public API.
    #[doc(hidden)]
    pub const fn __from_thread_local(
        slot: std::thread::LocalKey<RefCell<Option<T>>>,
    ) -> LocalKey<T> {
        LocalKey { slot }
    }

    /// Wraps `future` so that `value` is this key's value whenever it is polled.
    ///
    /// The value moves with the future: it is in the task-local slot only during the
    /// wrapped future's polls (and while it is dropped), so it is visible across `.await`
    /// points and on whichever thread the future runs.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::task_local! {
    ///     static NAME: &'static str;
    /// }
    ///
    /// let name = ember_executor::block_on(NAME.scope("outer", async {
    ///     let inner = NAME.scope("inner", async { NAME.get() }).await;
    ///     (inner, NAME.get())
    /// }));
    /// assert_eq!(name, ("inner", "outer"));
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with `value` as this key's value, and returns what `f` returns.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::task_local! {
    ///     static LIMIT: usize;
    /// }
    ///
    /// let doubled = LIMIT.sync_scope(21, || LIMIT.with(|limit| limit * 2));
    /// assert_eq!(doubled, 42);
    /// ```
    ///
    /// # Panics
    ///
    /// If called inside [`with`](LocalKey::with) of this same key (the value is borrowed
    /// there), or while the thread is being torn down. A panic of `f` propagates, after the
    /// previous value of the slot was put back.
    #[track_caller]
    pub fn sync_scope<F, R>(&'static self, value: T, f: F) -> R
    where
        F: FnOnce() -> R,
    {
        let mut value = Some(value);
        match self.enter(&mut value, f) {
            Ok(output) => output,
            Err(error) => error.panic(),
        }
    }

    /// Runs `f` with a reference to this key's value.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::task_local! {
    ///     static GREETING: String;
    /// }
    ///
    /// let len = GREETING.sync_scope("hello".to_owned(), || GREETING.with(|g| g.len()));
    /// assert_eq!(len, 5);
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a [`scope`](LocalKey::scope) or [`sync_scope`](LocalKey::sync_scope) of this
    /// key ("cannot access a task-local value outside its scope ..."); see
    /// [`try_with`](LocalKey::try_with).
    #[track_caller]
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(output) => output,
            Err(_) => panic!(
                "cannot access a task-local value outside its scope: wrap the future with \
                 LocalKey::scope (or the closure with LocalKey::sync_scope) first"
            ),
        }
    }

    /// Runs `f` with a reference to this key's value, or returns an [`AccessError`] outside
    /// a scope of this key (or while the thread is being torn down).
    ///
    /// # Errors
    ///
    /// [`AccessError`] if no scope of this key is entered on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::task_local! {
    ///     static TRACE: u32;
    /// }
    ///
    /// assert!(TRACE.try_with(|t| *t).is_err());
    /// assert_eq!(TRACE.sync_scope(3, || TRACE.try_with(|t| *t)), Ok(3));
    /// ```
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        self.slot
            .try_with(|slot| {
                // Borrowed only while `f` runs. A scope entered inside `f` panics instead of
                // swapping the value away under this borrow (see the ground rules).
                let slot = slot.try_borrow().ok()?;
                Some(f(slot.as_ref()?))
            })
            .ok()
            .flatten()
            .ok_or(AccessError { _private: () })
    }

    /// A copy of this key's value.
    ///
    /// # Examples
    ///
    /// ```
    /// ember_executor::task_local! {
    ///     static ID: u64;
    /// }
    ///
    /// assert_eq!(ID.sync_scope(9, || ID.get()), 9);
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a scope of this key, as [`with`](LocalKey::with).
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }

    /// Swaps `value` into the slot, runs `f`, and swaps it back out (also if `f` unwinds).
    fn enter<F, R>(&'static self, value: &mut Option<T>, f: F) -> Result<R, ScopeError>
    where
        F: FnOnce() -> R,
    {
        /// Swaps the value back out of the slot on drop.
        struct Leave<'a, T: 'static> {
            key: &'static LocalKey<T>,
            value: &'a mut Option<T>,
        }

        impl<T: 'static> Drop for Leave<'_, T> {
            fn drop(&mut self) {
                // Cannot fail: the slot existed at entry (a thread-local outlives everything
                // running on its thread but its own destructor), and `f` cannot keep it
                // borrowed past its return (`with`'s borrow ends with its closure).
                let _ = self.key.slot.try_with(|slot| {
                    if let Ok(mut slot) = slot.try_borrow_mut() {
                        std::mem::swap(self.value, &mut *slot);
                    }
                });
            }
        }

        self.slot
            .try_with(|slot| {
                let mut slot = slot.try_borrow_mut().map_err(|_| ScopeError::Borrowed)?;
                std::mem::swap(value, &mut *slot);
                Ok(())
            })
            .map_err(|_| ScopeError::Destroyed)??;
        let _leave = Leave { key: self, value };
        Ok(f())
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey").finish_non_exhaustive()
    }
}

/// Why a scope could not be entered.
#[derive(Debug, Clone, Copy)]
enum ScopeError {
    /// Inside `with` of the same key.
    Borrowed,
    /// The thread's thread-locals are being destroyed.
    Destroyed,
}

impl ScopeError {
    #[track_caller]
    fn panic(self) -> ! {
        match self {
            ScopeError::Borrowed => panic!(
                "cannot enter a task-local scope inside LocalKey::with of the same key: the \
                 value is borrowed there"
            ),
            ScopeError::Destroyed => panic!(
                "cannot enter a task-local scope while the thread's thread-locals are being \
                 destroyed"
            ),
        }
    }
}

/// The error of [`LocalKey::try_with`] outside a scope of the key.
///
/// # Examples
///
/// ```
/// ember_executor::task_local! {
///     static KEY: u8;
/// }
///
/// let err = KEY.try_with(|_| ()).unwrap_err();
/// assert_eq!(err.to_string(), "task-local value not set");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError {
    _private: (),
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessError")
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set")
    }
}

impl Error for AccessError {}

pin_project! {
    /// A future with a task-local value: what [`LocalKey::scope`] returns.
    ///
    /// Each poll of the inner future, and its drop, run with the value set.
    ///
    /// # Panics
    ///
    /// Polling it after it completed.
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        // Between polls: the value. During a poll: whatever the slot held before (swapped).
        value: Option<T>,
        // `None` once it completed (dropped in the scope, right away).
        #[pin]
        future: Option<F>,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let mut future = this.future;
            if future.is_some() {
                // Destructors may read the value too. If the scope cannot be entered (inside
                // `with` of the key, or at thread teardown), the future is dropped as a plain
                // field afterwards, without it.
                let _ = this.key.enter(this.value, || future.set(None));
            }
        }
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut future = this.future;
        let polled = this.key.enter(this.value, || {
            let poll = future.as_mut().as_pin_mut()?.poll(cx);
            if poll.is_ready() {
                // Dropped while the value is still set, as a drop before completion would be.
                future.set(None);
            }
            Some(poll)
        });
        match polled {
            Ok(Some(poll)) => poll,
            Ok(None) => panic!("a TaskLocalFuture was polled after it completed"),
            Err(error) => error.panic(),
        }
    }
}

impl<T: 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("completed", &self.future.is_none())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    crate::task_local! {
        static NUMBER: u32;
        static TEXT: String;
    }

    #[test]
    fn scopes_nest_and_restore() {
        assert!(NUMBER.try_with(|n| *n).is_err());
        NUMBER.sync_scope(1, || {
            assert_eq!(NUMBER.get(), 1);
            NUMBER.sync_scope(2, || assert_eq!(NUMBER.get(), 2));
            assert_eq!(NUMBER.get(), 1);
        });
        assert!(NUMBER.try_with(|n| *n).is_err());
    }

    #[test]
    fn a_panicking_scope_still_restores_the_slot() {
        let caught = std::panic::catch_unwind(|| NUMBER.sync_scope(5, || panic!("inside")));
        assert!(caught.is_err());
        assert!(NUMBER.try_with(|n| *n).is_err());
    }

    #[test]
    #[should_panic(expected = "inside LocalKey::with of the same key")]
    fn a_scope_inside_with_of_the_same_key_panics() {
        TEXT.sync_scope("a".to_owned(), || {
            TEXT.with(|_| TEXT.sync_scope("b".to_owned(), || ()));
        });
    }

    #[test]
    fn the_inner_future_is_dropped_inside_the_scope() {
        struct ReadOnDrop(Rc<Cell<Option<u32>>>);
        impl Drop for ReadOnDrop {
            fn drop(&mut self) {
                self.0.set(NUMBER.try_with(|n| *n).ok());
            }
        }
        let seen = Rc::new(Cell::new(None));
        let guard = ReadOnDrop(seen.clone());
        let future = NUMBER.scope(11, async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        drop(future);
        assert_eq!(seen.get(), Some(11));
    }
}
