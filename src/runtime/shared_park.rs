//! Parking for the multi-thread runtime: many workers, one reactor.
//!
//! # Ground rules
//!
//! The reactor's [`Driver`](ember_reactor::Driver) sits in a mutex shared by
//! every worker. A worker that parks first tries to take it: the one that
//! gets it turns the reactor (blocking in the kernel's poller); the others
//! sleep on their own condvar. So exactly one thread waits for I/O and
//! timers at a time, and the rest cost nothing.
//!
//! Each worker has one [`WorkerParker`], shared between its [`WorkerPark`]
//! (used only by that worker's thread) and its [`WorkerUnpark`] (called by
//! the scheduler from any thread). Two flags close the lost-wakeup windows:
//! - `notified`: set by unpark before it looks where the worker sleeps, and
//!   consumed by park. Park marks `in_driver` *before* checking `notified`,
//!   unpark sets `notified` *before* checking `in_driver` (all `SeqCst`), so
//!   either park sees the notification or unpark sees the worker in the
//!   driver and interrupts the poll through the reactor handle (which
//!   remembers an interrupt that arrives before the poll blocks).
//! - condvar sleepers re-check `notified` under their mutex, which unpark
//!   takes before notifying.
//!
//! A worker that leaves the driver does not hand it to a sleeper (that
//! would cost a futex wake and a context switch per turn): it runs the
//! tasks it woke, and whichever worker parks next takes the driver. While
//! every worker is busy, each still polls the reactor without blocking every
//! 61 task polls, as on the current-thread runtime.

use ember_executor::{Park, Unpark};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The reactor, shared by all workers of one runtime.
pub(super) struct SharedDriver {
    driver: Mutex<ember_reactor::Driver>,
}

/// One worker's parking state; see the module docs.
pub(super) struct WorkerParker {
    notified: AtomicBool,
    in_driver: AtomicBool,
    /// Guards the condvar sleep.
    sleep: Mutex<()>,
    condvar: Condvar,
}

/// The worker's side: parks its own thread.
pub(super) struct WorkerPark {
    parker: Arc<WorkerParker>,
    shared: Arc<SharedDriver>,
}

/// The scheduler's side: wakes one worker from any thread.
pub(super) struct WorkerUnpark {
    parker: Arc<WorkerParker>,
    reactor: ember_reactor::Handle,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data behind these mutexes is a flag or a list of indices that a
    // panic cannot leave half-written, so a poisoned lock is still usable.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl SharedDriver {
    /// Shares `driver` between `workers` workers; returns each worker's park
    /// and unpark halves, in worker order.
    pub(super) fn new(
        driver: ember_reactor::Driver,
        workers: usize,
    ) -> (Arc<SharedDriver>, Vec<WorkerPark>, Vec<Arc<dyn Unpark>>) {
        let reactor = driver.handle().clone();
        let parkers: Vec<_> = (0..workers)
            .map(|_| {
                Arc::new(WorkerParker {
                    notified: AtomicBool::new(false),
                    in_driver: AtomicBool::new(false),
                    sleep: Mutex::new(()),
                    condvar: Condvar::new(),
                })
            })
            .collect();
        let shared = Arc::new(SharedDriver {
            driver: Mutex::new(driver),
        });
        let parks = parkers
            .iter()
            .map(|parker| WorkerPark {
                parker: Arc::clone(parker),
                shared: Arc::clone(&shared),
            })
            .collect();
        let unparks = parkers
            .into_iter()
            .map(|parker| {
                Arc::new(WorkerUnpark {
                    parker,
                    reactor: reactor.clone(),
                }) as Arc<dyn Unpark>
            })
            .collect();
        (shared, parks, unparks)
    }
}

impl Park for WorkerPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let parker = &*self.parker;
        if let Ok(mut driver) = self.shared.driver.try_lock() {
            parker.in_driver.store(true, Ordering::SeqCst);
            let wait = if parker.notified.swap(false, Ordering::SeqCst) {
                Some(Duration::ZERO)
            } else {
                timeout
            };
            let turned = driver.turn(wait);
            parker.in_driver.store(false, Ordering::SeqCst);
            drop(driver);
            if let Err(e) = turned {
                // As on the current-thread runtime: no task can make
                // progress without the poller, and returning would spin.
                panic!("the ember reactor failed to poll for events: {e}");
            }
            return;
        }
        // Another worker waits for I/O. A zero timeout means "check the
        // reactor if you can", and someone else is already doing so.
        if timeout == Some(Duration::ZERO) || parker.notified.swap(false, Ordering::SeqCst) {
            return;
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        parker.sleep_on_condvar(deadline);
    }
}

impl WorkerParker {
    /// Sleeps until notified or `deadline`.
    fn sleep_on_condvar(&self, deadline: Option<Instant>) {
        let mut guard = lock(&self.sleep);
        while !self.notified.swap(false, Ordering::SeqCst) {
            guard = match deadline {
                None => self.condvar.wait(guard).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return;
                    }
                    self.condvar
                        .wait_timeout(guard, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }
}

impl Unpark for WorkerUnpark {
    fn unpark(&self) {
        let parker = &*self.parker;
        parker.notified.store(true, Ordering::SeqCst);
        if parker.in_driver.load(Ordering::SeqCst) {
            self.reactor.unpark();
        } else {
            // Taking the lock orders this notify after a sleeper's check of
            // `notified`, or before its wait: either way it is seen.
            drop(lock(&parker.sleep));
            parker.condvar.notify_one();
        }
    }
}

/// Parks the thread in a multi-thread runtime's `Runtime::block_on` (not a
/// worker): it only waits for its future's waker.
#[derive(Default)]
pub(super) struct BlockOnParker {
    notified: Mutex<bool>,
    condvar: Condvar,
}

/// The parking side of a [`BlockOnParker`].
pub(super) struct BlockOnPark(pub(super) Arc<BlockOnParker>);

impl Park for BlockOnPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let this = &*self.0;
        let mut notified = lock(&this.notified);
        if timeout != Some(Duration::ZERO) && !*notified {
            notified = match timeout {
                None => this
                    .condvar
                    .wait(notified)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(t) => {
                    this.condvar
                        .wait_timeout(notified, t)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        *notified = false;
    }
}

impl Unpark for BlockOnParker {
    fn unpark(&self) {
        *lock(&self.notified) = true;
        self.condvar.notify_one();
    }
}
