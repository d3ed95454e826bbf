//! The wheel against a `BTreeMap` model, driven by a seeded xorshift, plus
//! targeted cases for past and far-future ticks.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};

use super::{Wheel, LEVELS, MAX_RANGE, MAX_TICK};

/// Appends its id to a shared log when woken.
struct LogWaker {
    id: usize,
    log: Arc<Mutex<Vec<usize>>>,
}

impl Wake for LogWaker {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.id);
    }
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A deadline around `elapsed`, spread over every level, the past and
    /// beyond the wheel's range.
    fn when(&mut self, elapsed: u64) -> u64 {
        let w = match self.below(100) {
            0..=9 => elapsed.saturating_sub(self.below(100)),
            10..=39 => elapsed + self.below(64),
            40..=59 => elapsed + self.below(5_000),
            60..=74 => elapsed + self.below(1 << 24),
            75..=84 => elapsed + self.below(1 << 36),
            // Top level (from 2^36) and beyond the range (2^42).
            85..=96 => elapsed + self.below(1 << 46),
            _ => MAX_TICK,
        };
        w.min(MAX_TICK)
    }

    fn step(&mut self) -> u64 {
        match self.below(100) {
            0..=49 => self.below(10),
            50..=79 => self.below(1_000),
            80..=89 => self.below(1 << 20),
            90..=94 => self.below(1 << 32),
            _ => self.below(1 << 44),
        }
    }
}

/// The model: pending entries keyed by the tick at which they must fire
/// (`max(when, elapsed at insertion)`: past deadlines fire on the next
/// process), then by id.
struct Model {
    pending: BTreeMap<(u64, usize), ()>,
    due: HashMap<usize, u64>,
    elapsed: u64,
}

impl Model {
    fn schedule(&mut self, id: usize, when: u64) {
        self.cancel(id);
        let due = when.max(self.elapsed);
        self.pending.insert((due, id), ());
        self.due.insert(id, due);
    }

    fn cancel(&mut self, id: usize) {
        if let Some(due) = self.due.remove(&id) {
            self.pending.remove(&(due, id));
        }
    }

    /// Fires everything due at `now`: (due tick, id) in firing order.
    fn advance(&mut self, now: u64) -> Vec<(u64, usize)> {
        let later = self.pending.split_off(&(now + 1, 0));
        let fired: Vec<_> = std::mem::replace(&mut self.pending, later)
            .into_keys()
            .collect();
        for (_, id) in &fired {
            self.due.remove(id);
        }
        self.elapsed = self.elapsed.max(now);
        fired
    }
}

struct Harness {
    wheel: Wheel,
    model: Model,
    log: Arc<Mutex<Vec<usize>>>,
    /// id -> wheel key, for every entry still owning a key (pending or fired).
    keys: HashMap<usize, usize>,
    live: Vec<usize>,
    next_id: usize,
    wakers: Vec<Waker>,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            wheel: Wheel::new(),
            model: Model {
                pending: BTreeMap::new(),
                due: HashMap::new(),
                elapsed: 0,
            },
            log: Arc::default(),
            keys: HashMap::new(),
            live: Vec::new(),
            next_id: 0,
            wakers: Vec::new(),
        }
    }

    fn insert(&mut self, when: u64) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        let waker = Waker::from(Arc::new(LogWaker {
            id,
            log: self.log.clone(),
        }));
        let key = self.wheel.insert(when, waker);
        self.keys.insert(id, key);
        self.live.push(id);
        self.model.schedule(id, when);
        id
    }

    fn cancel(&mut self, index: usize) {
        let id = self.live.swap_remove(index);
        let key = self.keys.remove(&id).unwrap();
        self.wheel.remove(key);
        self.model.cancel(id);
    }

    fn reset(&mut self, id: usize, when: u64) {
        let key = self.keys[&id];
        if self.wheel.is_fired(key) {
            // A fired entry's waker is gone; the owner re-polls with one.
            let waker = Waker::from(Arc::new(LogWaker {
                id,
                log: self.log.clone(),
            }));
            self.wheel.update_waker(key, &waker);
        }
        self.wheel.reset(key, when);
        self.model.schedule(id, when);
    }

    #[track_caller]
    fn advance(&mut self, now: u64) {
        let count = self.wheel.process(now, &mut self.wakers);
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
        let fired: Vec<usize> = std::mem::take(&mut *self.log.lock().unwrap());
        assert_eq!(count, fired.len());
        let expected = self.model.advance(now);
        // Same entries, in non-decreasing due order (any order within a tick).
        let mut actual: Vec<(u64, usize)> = fired
            .iter()
            .map(|id| (expected_due(&expected, *id), *id))
            .collect();
        assert!(
            actual.windows(2).all(|w| w[0].0 <= w[1].0),
            "fired out of order at {now}: {actual:?}"
        );
        actual.sort_unstable();
        assert_eq!(actual, expected, "fired set differs at {now}");
        assert_eq!(self.wheel.elapsed(), now);
        self.check_state();
    }

    fn check_state(&self) {
        for (id, key) in &self.keys {
            assert_eq!(
                self.wheel.is_fired(*key),
                !self.model.due.contains_key(id),
                "fired flag of {id}"
            );
        }
        assert_eq!(self.wheel.len(), self.keys.len());
        let next = self.wheel.next_expiration_tick();
        // Entries due at MAX_TICK never come due: not in the schedule.
        let first = self.model.pending.keys().find(|(due, _)| *due < MAX_TICK);
        match first {
            None => assert_eq!(next, None),
            Some(&(due, _)) => {
                let next = next.expect("wheel lost an entry");
                assert!(next <= due, "next expiration {next} after due {due}");
            }
        }
    }
}

fn expected_due(expected: &[(u64, usize)], id: usize) -> u64 {
    expected
        .iter()
        .find(|(_, e)| *e == id)
        .map(|(due, _)| *due)
        .unwrap_or_else(|| panic!("entry {id} fired but the model did not expect it"))
}

fn run_model(seed: u64, ops: usize) {
    let mut rng = XorShift(seed);
    let mut h = Harness::new();
    for _ in 0..ops {
        match rng.below(100) {
            0..=39 => {
                let when = rng.when(h.model.elapsed);
                h.insert(when);
            }
            40..=54 if !h.live.is_empty() => {
                let index = rng.below(h.live.len() as u64) as usize;
                h.cancel(index);
            }
            55..=69 if !h.live.is_empty() => {
                let id = h.live[rng.below(h.live.len() as u64) as usize];
                let when = rng.when(h.model.elapsed);
                h.reset(id, when);
            }
            _ => {
                let now = (h.model.elapsed + rng.step()).min(MAX_TICK - 1);
                h.advance(now);
            }
        }
    }
    // Drain: jump through the remaining deadlines the way a reactor would;
    // entries due at MAX_TICK ("never") are not in the wheel's schedule.
    let mut turns = 0;
    while let Some(next) = h.wheel.next_expiration_tick() {
        h.advance(next.max(h.model.elapsed));
        turns += 1;
        assert!(turns < 100_000, "drain does not converge");
    }
    assert!(h.model.pending.keys().all(|&(due, _)| due == MAX_TICK));
    // One jump to the end of time fires everything else.
    h.advance(MAX_TICK - 1);
}

#[test]
fn matches_btreemap_model() {
    for seed in [
        0x9E37_79B9_7F4A_7C15,
        1,
        42,
        0xDEAD_BEEF,
        7_777_777,
        123_456_789,
    ] {
        run_model(seed, 3_000);
    }
}

#[test]
fn past_deadlines_fire_on_next_process_in_insertion_order() {
    let mut h = Harness::new();
    h.advance(100);
    let a = h.insert(50);
    let b = h.insert(0);
    let c = h.insert(100);
    assert_eq!(h.wheel.next_expiration_tick(), Some(100));
    let count = h.wheel.process(100, &mut h.wakers);
    assert_eq!(count, 3);
    for waker in h.wakers.drain(..) {
        waker.wake();
    }
    assert_eq!(*h.log.lock().unwrap(), vec![a, b, c]);
}

#[test]
fn entries_beyond_the_wheel_never_fire_early() {
    let mut h = Harness::new();
    let far = 3 * MAX_RANGE + 12_345;
    let id = h.insert(far);
    let never = h.insert(MAX_TICK);
    let mut turns = 0;
    // Jump from one expiration to the next, as a reactor sleeping until each
    // would: each top-level pass re-places the entry a whole turn ahead, then
    // it moves down one level per visit. Every visit is strictly later than
    // the last (no busy loop), and there are few of them.
    loop {
        let next = h.wheel.next_expiration_tick().unwrap();
        assert!(next <= far);
        assert!(next > h.model.elapsed, "no progress: {next}");
        h.advance(next);
        turns += 1;
        if !h.model.due.contains_key(&id) {
            break;
        }
        assert!(turns < 3 + LEVELS, "far entry is not converging");
    }
    assert_eq!(h.model.elapsed, far);
    assert!(h.model.due.contains_key(&never));
    h.advance(MAX_TICK - 1);
    assert!(h.model.due.contains_key(&never), "MAX_TICK means never");
}

#[test]
fn one_big_jump_fires_everything_in_order() {
    let mut h = Harness::new();
    let mut rng = XorShift(99);
    for _ in 0..500 {
        let when = rng.below(1 << 30);
        h.insert(when);
    }
    h.advance(1 << 30);
    assert!(h.model.pending.is_empty());
}

#[test]
fn reset_moves_between_levels_and_back_to_pending() {
    let mut h = Harness::new();
    let id = h.insert(10);
    h.reset(id, 1 << 20);
    h.advance(10);
    h.reset(id, 5);
    h.advance(10);
    assert!(!h.model.due.contains_key(&id));
    // Re-arm a fired entry.
    h.reset(id, 70);
    h.advance(69);
    h.advance(70);
    assert!(!h.model.due.contains_key(&id));
}

#[test]
fn jumps_over_many_turns_fire_far_entries_in_order() {
    let mut h = Harness::new();
    let mut rng = XorShift(5);
    for _ in 0..200 {
        let when = MAX_RANGE + rng.below(1 << 50);
        h.insert(when);
    }
    h.advance(1 << 44);
    h.advance(1 << 48);
    h.insert((1 << 48) + 3);
    h.advance(1 << 49);
    h.advance(MAX_TICK - 1);
    assert!(h.model.pending.is_empty());
}
