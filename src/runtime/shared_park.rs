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
//! A worker leaving the driver hands it on: if another worker sleeps on its
//! condvar, one is woken and told the driver is free, so that while any
//! worker is idle, one is waiting for I/O. A worker going to sleep on its
//! condvar first lists itself as idle, then checks the driver once more, so
//! a handover cannot slip between the two.

use ember_executor::{Park, Unpark};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The reactor, shared by all workers of one runtime.
pub(super) struct SharedDriver {
    driver: Mutex<ember_reactor::Driver>,
    parkers: Vec<Arc<WorkerParker>>,
    /// Workers asleep on their condvar (not in the driver), by index.
    idle: Mutex<Vec<usize>>,
}

/// One worker's parking state; see the module docs.
pub(super) struct WorkerParker {
    index: usize,
    notified: AtomicBool,
    in_driver: AtomicBool,
    /// Guards the condvar sleep; the bool is "the driver was handed to me".
    sleep: Mutex<bool>,
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
            .map(|index| {
                Arc::new(WorkerParker {
                    index,
                    notified: AtomicBool::new(false),
                    in_driver: AtomicBool::new(false),
                    sleep: Mutex::new(false),
                    condvar: Condvar::new(),
                })
            })
            .collect();
        let shared = Arc::new(SharedDriver {
            driver: Mutex::new(driver),
            parkers: parkers.clone(),
            idle: Mutex::new(Vec::with_capacity(workers)),
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

    /// Whether some worker holds the driver right now.
    fn driver_is_held(&self) -> bool {
        self.driver.try_lock().is_err()
    }

    /// Wakes one condvar sleeper so it takes over the driver.
    fn hand_driver_on(&self, from: usize) {
        let next = {
            let mut idle = lock(&self.idle);
            let pos = idle.iter().position(|&i| i != from);
            pos.map(|pos| idle.swap_remove(pos))
        };
        if let Some(index) = next {
            let parker = &self.parkers[index];
            *lock(&parker.sleep) = true;
            parker.condvar.notify_one();
        }
    }
}

impl Park for WorkerPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let parker = &*self.parker;
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            if let Ok(mut driver) = self.shared.driver.try_lock() {
                parker.in_driver.store(true, Ordering::SeqCst);
                let wait = if parker.notified.swap(false, Ordering::SeqCst) {
                    Some(Duration::ZERO)
                } else {
                    deadline.map(|d| d.saturating_duration_since(Instant::now()))
                };
                let turned = driver.turn(wait);
                parker.in_driver.store(false, Ordering::SeqCst);
                drop(driver);
                self.shared.hand_driver_on(parker.index);
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
            lock(&self.shared.idle).push(parker.index);
            // The holder may have let go between our try_lock and the push,
            // and found nobody to hand the driver to: look once more.
            if !self.shared.driver_is_held() {
                lock(&self.shared.idle).retain(|&i| i != parker.index);
                continue;
            }
            let handed_driver = self.sleep_on_condvar(deadline);
            lock(&self.shared.idle).retain(|&i| i != parker.index);
            if !handed_driver {
                return;
            }
            // The driver was handed to us: go round and take it.
        }
    }
}

impl WorkerPark {
    /// Sleeps until notified, handed the driver, or `deadline`; returns
    /// whether the driver was handed over (and nothing else happened).
    fn sleep_on_condvar(&self, deadline: Option<Instant>) -> bool {
        let parker = &*self.parker;
        let mut handed = lock(&parker.sleep);
        loop {
            if parker.notified.swap(false, Ordering::SeqCst) {
                *handed = false;
                return false;
            }
            if *handed {
                *handed = false;
                return true;
            }
            match deadline {
                None => {
                    handed = parker
                        .condvar
                        .wait(handed)
                        .unwrap_or_else(|e| e.into_inner());
                }
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    handed = parker
                        .condvar
                        .wait_timeout(handed, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
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

/// Parks a thread that is not a worker (the one in `Runtime::block_on` of a
/// multi-thread runtime): it only waits for its future's waker.
#[derive(Default)]
pub(super) struct ThreadParker {
    notified: Mutex<bool>,
    condvar: Condvar,
}

/// The parking side of a [`ThreadParker`].
pub(super) struct ThreadPark(pub(super) Arc<ThreadParker>);

impl Park for ThreadPark {
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

impl Unpark for ThreadParker {
    fn unpark(&self) {
        *lock(&self.notified) = true;
        self.condvar.notify_one();
    }
}
