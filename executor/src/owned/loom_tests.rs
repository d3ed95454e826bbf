//! loom model of the live-task set: tasks recorded at spawn and removed when they finish,
//! racing with the shutdown drain. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p ember-executor --release --lib loom`.
//!
//! A model task follows async-task's rules where they matter here: its runnable exists once
//! (`scheduled`), a wake of a queued or finished task is a no-op, and whoever holds the
//! runnable either runs it or cancels it, which finishes it and releases its key, exactly as
//! `Meta::finish` does. The run queue closes at the end of the drain, after which a wake or a
//! spawn cancels its task on the spot, as the schedulers' injection queues do.

use std::collections::VecDeque;
// std's `Arc`: `self: &Arc<Self>` methods need it, and wakers are built from it anyway; the
// model's own state is all loom's.
use std::sync::Arc;
use std::task::{Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Mutex;
use loom::thread;

use super::{drain, OwnedTasks};

#[derive(Default)]
struct TaskState {
    /// The runnable exists (queued or held): a wake does nothing.
    scheduled: bool,
    /// Finished or cancelled: a wake does nothing.
    done: bool,
    /// Where the task is recorded, if it is.
    key: Option<usize>,
}

struct Model {
    owned: OwnedTasks,
    tasks: Vec<Mutex<TaskState>>,
    /// How often each task was finished or cancelled: must end at exactly 1.
    finished: Vec<AtomicUsize>,
    /// The run queue; `closed` once the drain is over.
    queue: Mutex<(VecDeque<usize>, bool)>,
}

impl Model {
    fn new(tasks: usize) -> Model {
        Model {
            owned: OwnedTasks::new(2),
            tasks: (0..tasks).map(|_| Mutex::default()).collect(),
            finished: (0..tasks).map(|_| AtomicUsize::new(0)).collect(),
            queue: Mutex::new((VecDeque::new(), false)),
        }
    }

    /// Run or cancel task `index`, whose runnable the caller holds: finish it, release its key.
    fn finish(&self, index: usize) {
        let key = {
            let mut task = self.tasks[index].lock().unwrap();
            assert!(task.scheduled, "a task ran without its runnable");
            assert!(!task.done, "a task finished twice");
            task.scheduled = false;
            task.done = true;
            task.key.take()
        };
        self.finished[index].fetch_add(1, Ordering::SeqCst);
        if let Some(key) = key {
            // Dropped outside the lock, as `Owner::release` does.
            drop(self.owned.remove(key));
        }
    }

    /// Queue the runnable of task `index`, or cancel it there if the queue is closed.
    fn push(&self, index: usize) {
        let mut queue = self.queue.lock().unwrap();
        if queue.1 {
            drop(queue);
            self.finish(index);
            return;
        }
        queue.0.push_back(index);
    }

    fn pop(&self) -> Option<usize> {
        self.queue.lock().unwrap().0.pop_front()
    }

    fn wake(&self, index: usize) {
        {
            let mut task = self.tasks[index].lock().unwrap();
            if task.scheduled || task.done {
                return;
            }
            task.scheduled = true;
        }
        self.push(index);
    }

    fn waker(self: &Arc<Self>, index: usize) -> Waker {
        Waker::from(Arc::new(TaskWaker {
            model: self.clone(),
            index,
        }))
    }

    /// Spawn task `index`: its runnable exists, it is recorded, then scheduled.
    fn spawn(self: &Arc<Self>, index: usize, shard: usize) {
        self.tasks[index].lock().unwrap().scheduled = true;
        if let Ok(key) = self.owned.insert(shard, self.waker(index)) {
            self.tasks[index].lock().unwrap().key = Some(key);
        }
        self.push(index);
    }

    /// The shutdown drain, as the schedulers run it.
    fn shutdown(&self) {
        drain(
            || self.owned.close_and_take(),
            || self.pop(),
            |index| self.finish(index),
            || {
                let leftovers = {
                    let mut queue = self.queue.lock().unwrap();
                    queue.1 = true;
                    std::mem::take(&mut queue.0)
                };
                let found = !leftovers.is_empty();
                leftovers.into_iter().for_each(|index| self.finish(index));
                found
            },
        );
    }
}

struct TaskWaker {
    model: Arc<Model>,
    index: usize,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.model.wake(self.index);
    }
}

/// Task 0 is pending (recorded, not queued, its waker only in the set); the runtime thread
/// spawns task 1 and runs what it finds queued (finishing removes the key) while another
/// thread shuts down. Every task ends finished exactly once and the set ends empty.
#[test]
fn loom_owned_spawn_and_finish_vs_drain() {
    loom::model(|| {
        let model = Arc::new(Model::new(2));
        model.spawn(0, 0);
        // Task 0 ran once and went pending: its runnable is gone, its waker is recorded.
        assert_eq!(model.pop(), Some(0));
        model.tasks[0].lock().unwrap().scheduled = false;

        let runtime = {
            let model = model.clone();
            thread::spawn(move || {
                model.spawn(1, 1);
                if let Some(index) = model.pop() {
                    model.finish(index);
                }
            })
        };
        model.shutdown();
        runtime.join().unwrap();

        for (index, finished) in model.finished.iter().enumerate() {
            assert_eq!(finished.load(Ordering::SeqCst), 1, "task {index}");
        }
        assert_eq!(model.owned.len(), 0, "a finished task was left in the set");
        assert!(model.pop().is_none());
    });
}

/// A task woken from elsewhere (it runs and finishes, removing its key) while the drain takes
/// the set: exactly one of them finishes it, and no key outlives the task.
#[test]
fn loom_owned_wake_and_finish_vs_drain() {
    loom::model(|| {
        let model = Arc::new(Model::new(1));
        model.spawn(0, 0);
        assert_eq!(model.pop(), Some(0));
        model.tasks[0].lock().unwrap().scheduled = false;

        let runtime = {
            let model = model.clone();
            thread::spawn(move || {
                model.wake(0);
                if let Some(index) = model.pop() {
                    model.finish(index);
                }
            })
        };
        model.shutdown();
        runtime.join().unwrap();

        assert_eq!(model.finished[0].load(Ordering::SeqCst), 1);
        assert_eq!(model.owned.len(), 0);
    });
}
