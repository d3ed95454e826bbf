//! Each worker's local run queue: a bounded ring with one owner that pushes and pops, and any
//! number of stealers that take half of it at a time.
//!
//! Ground rules:
//! - Only the owning worker (holder of [`Local`], which is `Send` but `!Sync`) writes `tail`
//!   and writes into slots. It pushes at `tail` and pops at `head.real`.
//! - `head` packs two indices: `real`, the next slot to pop, and `steal`, the first slot a
//!   stealer is still copying out. `steal == real` means no steal is in progress. A stealer
//!   claims `[real, real + n)` by one CAS that moves `real` (leaving `steal` behind), copies
//!   the slots into its own ring, then releases them by a CAS that sets `steal = real`. The
//!   owner never writes a slot at or after `steal + CAPACITY`, so claimed slots are never
//!   overwritten while being copied. Only one steal runs at a time per queue.
//! - Indices are `u32` and wrap; slot `i` lives at `buffer[i & MASK]`.
//! - When the ring is full, the owner moves half of it plus the new item to the injection
//!   queue in one batch (one CAS claims the half, as a stealer would).

#![allow(unsafe_code)]

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;

use super::inject::Inject;
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use crate::loom::sync::Arc;

/// Slots per ring (a power of two). Tiny under loom so models stay small.
pub(crate) const CAPACITY: usize = if cfg!(loom) { 4 } else { 256 };
const MASK: usize = CAPACITY - 1;
const HALF: u32 = (CAPACITY / 2) as u32;

struct Inner<T> {
    /// `(steal, real)`, see the module docs.
    head: AtomicU64,
    /// The next slot the owner pushes into. Written only by the owner.
    tail: AtomicU32,
    /// Slots `[head.real, tail)` are initialised and owned by the queue; `[steal, real)` are
    /// being copied by a stealer.
    buffer: Box<[UnsafeCell<MaybeUninit<T>>]>,
}

// SAFETY: the slots are only accessed under the head/tail protocol of the module docs: each
// initialised value is moved out by exactly one thread (the owner popping or one stealer that
// claimed it by CAS), so sharing `Inner` only ever moves `T`s between threads (`T: Send`).
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above; no `&T` is ever handed out, values are only moved.
unsafe impl<T: Send> Sync for Inner<T> {}

/// The owner's half. `!Sync`: exactly one thread pushes and pops.
pub(crate) struct Local<T> {
    inner: Arc<Inner<T>>,
    _not_sync: PhantomData<Cell<()>>,
}

/// A stealer's half, `Send + Sync`, cloned into the shared state of the scheduler.
pub(crate) struct Steal<T>(Arc<Inner<T>>);

/// A new queue: the owner's half and a stealer.
pub(crate) fn local<T>() -> (Local<T>, Steal<T>) {
    let buffer = (0..CAPACITY)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect();
    let inner = Arc::new(Inner {
        head: AtomicU64::new(0),
        tail: AtomicU32::new(0),
        buffer,
    });
    (
        Local {
            inner: inner.clone(),
            _not_sync: PhantomData,
        },
        Steal(inner),
    )
}

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

impl<T> Inner<T> {
    /// Moves the value out of slot `index`.
    ///
    /// # Safety
    ///
    /// - The slot holds an initialised value (it is in `[real, tail)` of some earlier state).
    /// - The caller has claimed it exclusively (by a successful CAS on `head`, or as the owner
    ///   after moving `real` past it) and reads it once.
    unsafe fn take(&self, index: u32) -> T {
        self.buffer[index as usize & MASK].with(|slot| {
            // SAFETY: the caller's contract: initialised, exclusively claimed, read once.
            unsafe { (*slot).assume_init_read() }
        })
    }

    /// Writes `value` into slot `index`.
    ///
    /// # Safety
    ///
    /// - The caller is this queue's owner (the only writer of slots).
    /// - The slot is free: outside `[steal, tail)`, so nobody reads it concurrently.
    unsafe fn put(&self, index: u32, value: T) {
        self.buffer[index as usize & MASK].with_mut(|slot| {
            // SAFETY: the caller's contract: the slot is free and only the owner writes slots.
            unsafe { (*slot).write(value) };
        })
    }
}

impl<T> Local<T> {
    /// True if there is anything to pop.
    pub(crate) fn has_tasks(&self) -> bool {
        let (_, real) = unpack(self.inner.head.load(Ordering::Acquire));
        self.inner.tail.load(Ordering::Relaxed) != real
    }

    /// Pushes at the back. When the ring is full, half of it and `value` go to `inject`
    /// instead; if `inject` is closed those values are handed back.
    pub(crate) fn push_back(&self, mut value: T, inject: &Inject<T>) -> Result<(), Vec<T>> {
        let tail = loop {
            let head = self.inner.head.load(Ordering::Acquire);
            let (steal, real) = unpack(head);
            // Only this thread writes `tail`.
            let tail = self.inner.tail.load(Ordering::Relaxed);
            if tail.wrapping_sub(steal) < CAPACITY as u32 {
                break tail;
            }
            if steal != real {
                // Full, but a stealer is emptying part of it right now: let the injection
                // queue take this one rather than wait.
                return inject.push(value).map_err(|v| vec![v]);
            }
            match self.push_overflow(value, real, inject) {
                Ok(result) => return result,
                // A stealer got in first: there may be room now.
                Err(v) => value = v,
            }
        };
        // SAFETY: we are the owner, and `tail - steal < CAPACITY` means slot `tail` is outside
        // `[steal, tail)`: no stealer is copying it and it holds no live value.
        unsafe { self.inner.put(tail, value) };
        // Release: a stealer that sees the new tail sees the slot's contents.
        self.inner
            .tail
            .store(tail.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Moves `[real, real + HALF)` and `value` to `inject`. Gives `value` back if a stealer
    /// changed `head` first.
    fn push_overflow(
        &self,
        value: T,
        real: u32,
        inject: &Inject<T>,
    ) -> Result<Result<(), Vec<T>>, T> {
        let prev = pack(real, real);
        let next_real = real.wrapping_add(HALF);
        let next = pack(next_real, next_real);
        if self
            .inner
            .head
            .compare_exchange(prev, next, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return Err(value);
        }
        let mut batch = Vec::with_capacity(HALF as usize + 1);
        for i in 0..HALF {
            // SAFETY: the CAS moved `real` past these slots with no steal in progress, so they
            // hold values (the ring was full) that now belong to us alone; each is read once.
            batch.push(unsafe { self.inner.take(real.wrapping_add(i)) });
        }
        batch.push(value);
        Ok(inject.push_batch(batch))
    }

    /// Pops from the front (the oldest value).
    pub(crate) fn pop(&self) -> Option<T> {
        let mut head = self.inner.head.load(Ordering::Acquire);
        let index = loop {
            let (steal, real) = unpack(head);
            let tail = self.inner.tail.load(Ordering::Relaxed);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // With no steal in progress, `steal` follows `real`.
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                pack(steal, next_real)
            };
            match self
                .inner
                .head
                .compare_exchange(head, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: `index` was in `[real, tail)` (initialised) and our CAS moved `real` past it,
        // so no stealer can claim it; we read it once.
        Some(unsafe { self.inner.take(index) })
    }
}

impl<T> Drop for Local<T> {
    fn drop(&mut self) {
        // Values left behind are dropped with the queue (the scheduler drains its rings before
        // this, so for tasks this finds nothing).
        while self.pop().is_some() {}
    }
}

impl<T> Clone for Steal<T> {
    fn clone(&self) -> Steal<T> {
        Steal(self.0.clone())
    }
}

impl<T> Steal<T> {
    /// True if the owner has nothing left to pop (values in flight to a stealer excluded).
    pub(crate) fn is_empty(&self) -> bool {
        let (_, real) = unpack(self.0.head.load(Ordering::Acquire));
        self.0.tail.load(Ordering::Acquire) == real
    }

    /// Steals half of this queue into `dst` (owned by the calling thread) and returns one of
    /// the stolen values to run now. `None` if there was nothing to steal, another steal was
    /// in progress, or `dst` is more than half full.
    pub(crate) fn steal_into(&self, dst: &Local<T>) -> Option<T> {
        let dst_tail = dst.inner.tail.load(Ordering::Relaxed);
        let (dst_steal, _) = unpack(dst.inner.head.load(Ordering::Acquire));
        if dst_tail.wrapping_sub(dst_steal) > HALF {
            return None;
        }
        let n = self.steal_into_ring(dst, dst_tail);
        if n == 0 {
            return None;
        }
        let last = n - 1;
        // SAFETY: `steal_into_ring` initialised `[dst_tail, dst_tail + n)` of `dst`, which we
        // own; slot `dst_tail + last` is not published (tail does not cover it), so we alone
        // read it, once.
        let value = unsafe { dst.inner.take(dst_tail.wrapping_add(last)) };
        if last > 0 {
            // Release: publishes the copied slots to `dst`'s own stealers.
            dst.inner
                .tail
                .store(dst_tail.wrapping_add(last), Ordering::Release);
        }
        Some(value)
    }

    /// Claims half of this queue, copies it into `dst` from `dst_tail` on, releases the claim.
    /// Returns how many values were copied.
    fn steal_into_ring(&self, dst: &Local<T>, dst_tail: u32) -> u32 {
        let mut prev = self.0.head.load(Ordering::Acquire);
        let (first, n) = loop {
            let (steal, real) = unpack(prev);
            if steal != real {
                // Someone else is stealing from this queue.
                return 0;
            }
            let tail = self.0.tail.load(Ordering::Acquire);
            let available = tail.wrapping_sub(real);
            // `available <= CAPACITY` whenever the CAS below succeeds (head unchanged since it
            // was read, and the owner keeps `tail - steal <= CAPACITY`); cap it anyway.
            let n = (available - available / 2).min(HALF);
            if n == 0 {
                return 0;
            }
            let next = pack(steal, real.wrapping_add(n));
            match self
                .0
                .head
                .compare_exchange(prev, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break (real, n),
                Err(actual) => prev = actual,
            }
        };
        for i in 0..n {
            // SAFETY: our CAS claimed `[first, first + n)` of this queue: initialised (they were
            // in `[real, tail)`) and readable by us alone until we release the claim; each slot
            // is read once. `dst` is ours and `dst_tail + i` is free: `dst` was at most half
            // full and `n <= HALF`, so these slots are outside `dst`'s `[steal, tail)`.
            unsafe {
                let value = self.0.take(first.wrapping_add(i));
                dst.inner.put(dst_tail.wrapping_add(i), value);
            }
        }
        // Release the claim: `steal` catches up with `real` (which the owner may have moved on).
        let mut prev = pack(first, first.wrapping_add(n));
        loop {
            let (_, real) = unpack(prev);
            match self.0.head.compare_exchange(
                prev,
                pack(real, real),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return n,
                Err(actual) => prev = actual,
            }
        }
    }
}

impl<T> fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Steal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Steal").finish_non_exhaustive()
    }
}
