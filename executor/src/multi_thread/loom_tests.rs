//! loom models of the scheduler's concurrency-critical parts. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p ember-executor --release --lib loom`.

use super::idle::Idle;
use super::inject::Inject;
use super::lifecycle::Lifecycle;
use super::queue::{self, Local, Steal, CAPACITY};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// Pops everything left in `local` and `inject` into `seen`.
fn drain(local: &Local<usize>, inject: &Inject<usize>, seen: &mut Vec<usize>) {
    while let Some(v) = local.pop() {
        seen.push(v);
    }
    while let Some(v) = inject.pop() {
        seen.push(v);
    }
}

fn assert_each_once(mut seen: Vec<usize>, n: usize) {
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..n).collect::<Vec<_>>(),
        "a value was lost or duplicated"
    );
}

/// A stealer thread: one steal into its own ring, then everything it got.
fn spawn_stealer(
    steal: Steal<usize>,
    inject: Arc<Inject<usize>>,
) -> thread::JoinHandle<Vec<usize>> {
    thread::spawn(move || {
        let (mine, _mine_steal) = queue::local();
        let mut seen = Vec::new();
        if let Some(v) = steal.steal_into(&mine) {
            seen.push(v);
        }
        drain(&mine, &Inject::new(), &mut seen);
        drop(inject);
        seen
    })
}

#[test]
fn loom_queue_push_pop_vs_steal() {
    loom::model(|| {
        let inject = Arc::new(Inject::new());
        let (local, steal) = queue::local::<usize>();
        // Two already there, two pushed while the stealer runs.
        local.push_back(0, &inject).unwrap();
        local.push_back(1, &inject).unwrap();
        let stealer = spawn_stealer(steal, inject.clone());
        let mut seen = Vec::new();
        local.push_back(2, &inject).unwrap();
        if let Some(v) = local.pop() {
            seen.push(v);
        }
        local.push_back(3, &inject).unwrap();
        seen.extend(stealer.join().unwrap());
        drain(&local, &inject, &mut seen);
        assert_each_once(seen, 4);
    });
}

#[test]
fn loom_queue_overflow_vs_steal() {
    loom::model(|| {
        let inject = Arc::new(Inject::new());
        let (local, steal) = queue::local::<usize>();
        for i in 0..CAPACITY {
            local.push_back(i, &inject).unwrap();
        }
        let stealer = spawn_stealer(steal, inject.clone());
        // The ring is full: this push overflows half of it to `inject` (or, if the stealer
        // freed room first, lands in the ring).
        local.push_back(CAPACITY, &inject).unwrap();
        let mut seen = stealer.join().unwrap();
        drain(&local, &inject, &mut seen);
        assert_each_once(seen, CAPACITY + 1);
    });
}

#[test]
fn loom_queue_wraparound_vs_steal() {
    loom::model(|| {
        let inject = Arc::new(Inject::new());
        let (local, steal) = queue::local::<usize>();
        for i in 0..CAPACITY - 1 {
            local.push_back(i, &inject).unwrap();
        }
        let stealer = spawn_stealer(steal, inject.clone());
        // Pops and pushes move the owner across the ring's end, over slots a stealer may be
        // copying out.
        let mut seen = Vec::new();
        for i in 0..3 {
            if let Some(v) = local.pop() {
                seen.push(v);
            }
            local.push_back(CAPACITY - 1 + 2 * i, &inject).unwrap();
            local.push_back(CAPACITY + 2 * i, &inject).unwrap();
        }
        seen.extend(stealer.join().unwrap());
        drain(&local, &inject, &mut seen);
        assert_each_once(seen, CAPACITY + 5);
    });
}

#[test]
fn loom_queue_two_stealers() {
    loom::model(|| {
        let inject = Arc::new(Inject::new());
        let (local, steal) = queue::local::<usize>();
        for i in 0..3 {
            local.push_back(i, &inject).unwrap();
        }
        let a = spawn_stealer(steal.clone(), inject.clone());
        let b = spawn_stealer(steal, inject.clone());
        let mut seen = Vec::new();
        if let Some(v) = local.pop() {
            seen.push(v);
        }
        seen.extend(a.join().unwrap());
        seen.extend(b.join().unwrap());
        drain(&local, &inject, &mut seen);
        assert_each_once(seen, 3);
    });
}

#[test]
fn loom_inject_push_vs_pop() {
    loom::model(|| {
        let inject = Arc::new(Inject::new());
        let pushers: Vec<_> = (0..2)
            .map(|t| {
                let inject = inject.clone();
                thread::spawn(move || {
                    if t == 0 {
                        inject.push(0).unwrap();
                    } else {
                        inject.push_batch(vec![1, 2]).unwrap();
                    }
                })
            })
            .collect();
        let mut seen = Vec::new();
        let mut rest = Vec::new();
        if let Some(v) = inject.pop_batch(2, |v| rest.push(v)) {
            seen.push(v);
        }
        seen.extend(rest);
        for p in pushers {
            p.join().unwrap();
        }
        while let Some(v) = inject.pop() {
            seen.push(v);
        }
        assert!(inject.is_empty());
        assert_each_once(seen, 3);
    });
}

#[test]
fn loom_inject_close_hands_back() {
    loom::model(|| {
        let inject = Arc::new(Inject::new());
        let pusher = {
            let inject = inject.clone();
            thread::spawn(move || inject.push(7).err())
        };
        let closed: Vec<_> = inject.close().into_iter().collect();
        let refused = pusher.join().unwrap();
        // Exactly one of "taken by close" and "handed back" holds the value.
        assert_eq!(closed.len() + usize::from(refused.is_some()), 1);
    });
}

/// A worker's park/unpark pair, as a facade would build it: a flag and a condvar that
/// remember an unpark arriving before the park. (loom's own `thread::park` drops an unpark
/// that lands while the target is blocked on a mutex, which std never does.)
#[derive(Default)]
struct Parker {
    unparked: loom::sync::Mutex<bool>,
    condvar: loom::sync::Condvar,
}

impl Parker {
    fn park(&self) {
        let mut unparked = self.unparked.lock().unwrap();
        while !*unparked {
            unparked = self.condvar.wait(unparked).unwrap();
        }
        *unparked = false;
    }

    fn unpark(&self) {
        *self.unparked.lock().unwrap() = true;
        self.condvar.notify_one();
    }
}

/// The worker side of the park protocol, as `Runner` does it: look for work, become a
/// searcher, park after a last re-check, and count work until `want` items were taken.
fn worker_loop(
    index: usize,
    idle: &Idle,
    inject: &Inject<usize>,
    taken: &AtomicUsize,
    want: usize,
    parkers: &[Parker],
) {
    let mut searching = false;
    loop {
        if taken.load(Ordering::SeqCst) >= want {
            break;
        }
        if inject.pop().is_some() {
            taken.fetch_add(1, Ordering::SeqCst);
            if searching {
                searching = false;
                if idle.transition_worker_from_searching() {
                    notify(idle, parkers);
                }
            }
            continue;
        }
        if !searching && idle.transition_worker_to_searching() {
            searching = true;
            // Searching found nothing in other queues (none in this model): look again.
            continue;
        }
        let last = idle.transition_worker_to_parked(index, searching);
        searching = false;
        if last && !inject.is_empty() {
            notify(idle, parkers);
        }
        loop {
            if taken.load(Ordering::SeqCst) >= want {
                break;
            }
            parkers[index].park();
            if !idle.is_parked(index) {
                searching = true;
                break;
            }
        }
    }
    // Done: the other workers must see it too and leave their parks.
    for parker in parkers {
        parker.unpark();
    }
}

/// What a notifier does after pushing work.
fn notify(idle: &Idle, parkers: &[Parker]) {
    if let Some(index) = idle.worker_to_notify() {
        parkers[index].unpark();
    }
}

/// `workers` workers, `items` pushes from the model's main thread: every item is taken (a lost
/// wakeup would leave a worker parked forever with work queued, which loom reports as a
/// deadlock).
fn notify_vs_park(workers: usize, items: usize) {
    loom::model(move || {
        let idle = Arc::new(Idle::new(workers));
        let inject = Arc::new(Inject::new());
        let taken = Arc::new(AtomicUsize::new(0));
        let parkers: Arc<Vec<Parker>> = Arc::new((0..workers).map(|_| Parker::default()).collect());
        let handles: Vec<_> = (0..workers)
            .map(|index| {
                let (idle, inject, taken, parkers) =
                    (idle.clone(), inject.clone(), taken.clone(), parkers.clone());
                thread::spawn(move || worker_loop(index, &idle, &inject, &taken, items, &parkers))
            })
            .collect();
        for i in 0..items {
            inject.push(i).unwrap();
            notify(&idle, &parkers);
        }
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(taken.load(Ordering::SeqCst), items);
    });
}

#[test]
fn loom_notify_vs_park_one_worker() {
    notify_vs_park(1, 2);
}

#[test]
fn loom_notify_vs_park_two_workers() {
    notify_vs_park(2, 1);
}

/// `shutdown` racing the last workers' exits: exactly one runs the final drain, and only once
/// every worker is gone.
#[test]
fn loom_shutdown_vs_last_worker_exit() {
    loom::model(|| {
        let lifecycle = Arc::new(Lifecycle::new(2));
        let exited = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (lifecycle, exited) = (lifecycle.clone(), exited.clone());
                thread::spawn(move || {
                    exited.fetch_add(1, Ordering::SeqCst);
                    let drains = lifecycle.worker_exited();
                    if drains {
                        assert_eq!(exited.load(Ordering::SeqCst), 2);
                    }
                    drains
                })
            })
            .collect();
        let mut drains = usize::from(lifecycle.shutdown());
        if drains == 1 {
            assert_eq!(exited.load(Ordering::SeqCst), 2);
        }
        for w in workers {
            drains += usize::from(w.join().unwrap());
        }
        assert_eq!(drains, 1, "the final drain must run exactly once");
    });
}

/// A stand-in's park in the lend model: remembers an unpark that comes early, as `Park` must.
#[derive(Default)]
struct ModelParker {
    notified: loom::sync::Mutex<bool>,
    condvar: loom::sync::Condvar,
}

impl ModelParker {
    fn park(&self) {
        let mut notified = self.notified.lock().unwrap();
        while !*notified {
            notified = self.condvar.wait(notified).unwrap();
        }
        *notified = false;
    }

    fn unpark(&self) {
        *self.notified.lock().unwrap() = true;
        self.condvar.notify_one();
    }
}

/// The lent core in the model: state that is not `Sync`, so loom reports any access by one
/// side that the lend does not order after the other side's (as `handoff` requires).
struct ModelCore(Arc<loom::cell::UnsafeCell<usize>>);

// SAFETY (test only): the model moves the core between threads exactly as `LentCore` is
// moved; whether that is safe is what loom checks, through the cell's access tracking.
#[allow(unsafe_code)]
unsafe impl Send for ModelCore {}

impl ModelCore {
    fn bump(&self) {
        // SAFETY (test only): loom tracks this access and fails the model on a race.
        #[allow(unsafe_code)]
        self.0.with_mut(|n| unsafe { *n += 1 });
    }

    fn read(&self) -> usize {
        // SAFETY (test only): as in `bump`.
        #[allow(unsafe_code)]
        self.0.with(|n| unsafe { *n })
    }
}

/// The worker's thread lends its core, runs the blocking closure, and reclaims the core while
/// a stand-in takes it (or not yet), runs with it, sleeps in the park until recalled, and
/// gives it back. The core must come back exactly once, with every stand-in access ordered
/// before the worker's next one, and no recall may be lost (that would deadlock the model).
#[test]
fn loom_lend_reclaim_vs_stand_in() {
    use super::lend::Lend;

    loom::model(|| {
        let cell = Arc::new(loom::cell::UnsafeCell::new(0usize));
        let lend = Arc::new(Lend::offer(ModelCore(cell.clone())));
        let parker = Arc::new(ModelParker::default());
        let stand_in = {
            let (lend, parker) = (lend.clone(), parker.clone());
            thread::spawn(move || {
                if let Some(core) = lend.take() {
                    core.bump();
                    while !lend.is_recalled() {
                        parker.park();
                    }
                    core.bump();
                    lend.give_back(core);
                }
            })
        };
        let core = lend.reclaim(|| parker.unpark());
        let n = core.read();
        assert!(n == 0 || n == 2, "the core came back mid-use: {n}");
        core.bump();
        stand_in.join().unwrap();
        // A stand-in that comes late finds the offer withdrawn and touches nothing.
        assert!(lend.take().is_none());
    });
}
