//! The hierarchical timing wheel: entries (deadline tick + waker) in a slab,
//! linked into per-slot intrusive lists of 7 levels x 64 slots at 1 tick
//! (62.5 µs, see [`driver`](crate::driver)) resolution, so insert, cancel and
//! reset are O(1) and `process` costs O(entries fired or moved + slots
//! visited).
//!
//! # Ground rules
//!
//! - The wheel knows only ticks (`u64` counts of 1/16 ms since the driver's
//!   start instant); the [`driver`](crate::driver) converts instants to ticks,
//!   rounding deadlines up and the current time down, so nothing fires early.
//! - A `Wheel` lives inside the shared handle's `Mutex`. Every method runs
//!   under that lock, on whichever thread polls, resets or drops a `Sleep`
//!   (insert, update waker, reset, remove) or turns the driver (`process`).
//!   No user code runs here except `Waker::clone`: wakers are handed out of
//!   `process` and woken by the driver after it unlocks, and replaced or
//!   removed wakers are returned to the caller to be dropped after unlocking.
//! - A slab key belongs to exactly one `Sleep` from `insert` to `remove`.
//!   Firing unlinks the entry and takes its waker but keeps the slab slot, so
//!   the owner observes [`Wheel::is_fired`] and no key is ever reused under it.
//! - Entry placement: with `elapsed` the last tick processed, an entry due at
//!   `when <= elapsed` waits on the `expired` list (fired first by the next
//!   `process`); otherwise it is in level `L` = the highest 6-bit group in
//!   which `when` and `elapsed` differ (capped at the top level), slot
//!   `(when >> 6L) % 64`. `process` visits slots in deadline order, fires the
//!   entries whose tick has come and re-inserts the others one level down
//!   (or, beyond the wheel's ~8.7-year range, back into the top level; a
//!   single `process` spanning several turns of the top level re-places
//!   those far entries once, not once per turn). Entries due at `MAX_TICK`
//!   (saturated deadlines such as `Duration::MAX`) are in no list at all:
//!   the driver's clock is capped below `MAX_TICK`, so they never fire and
//!   never count as the next deadline.
//! - No busy loop: the next expiration is always the start of an occupied
//!   slot after `elapsed`, so every `process` that reaches it moves `elapsed`
//!   forward and empties that slot (its entries fire, go to a finer level,
//!   or, beyond the range, go back to the top level a whole turn ahead). A
//!   pending entry is therefore visited once per ~8.7-year turn while beyond
//!   the range, then at most once per level on its way down, each time at a
//!   slot start closer to its tick: a lone far-future timer wakes the driver's
//!   owner a handful of times in all, never more than once per 49.7-day
//!   top-level slot before its last 49.7 days.

mod level;

use std::task::Waker;

use slab::Slab;

use level::{Expiration, Level, SLOTS, SLOT_BITS};

/// "No entry" in the intrusive lists.
const NIL: usize = usize::MAX;
/// Number of levels; the wheel spans `64^LEVELS` ticks (2^42 ticks of 62.5
/// µs: ~8.7 years). Level `L`'s slots are `64^L` ticks wide: 62.5 µs, 4 ms,
/// 256 ms, 16.4 s, 17.5 min, 18.6 h and 49.7 days.
const LEVELS: usize = 7;
/// Ticks past the wheel's range all go to the top level.
const MAX_RANGE: u64 = 1 << (SLOT_BITS as usize * LEVELS);
/// Ticks saturate here, far below `u64::MAX` so that slot arithmetic never
/// overflows. `MAX_TICK` ticks is ~9 million years: it means "never".
pub(crate) const MAX_TICK: u64 = 1 << 62;

/// Where an entry is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// In slot `slot` of level `level`.
    Slot { level: u8, slot: u8 },
    /// On the expired list: due at or before `elapsed`.
    Expired,
    /// Due at `MAX_TICK`, which never comes: kept out of every list.
    Never,
    /// Unlinked: it has fired and waits for its owner to notice.
    Fired,
}

/// One registered deadline.
#[derive(Debug)]
struct Entry {
    /// The tick at which the entry is due.
    when: u64,
    place: Place,
    prev: usize,
    next: usize,
    /// Taken when the entry fires.
    waker: Option<Waker>,
}

/// The timing wheel. See the module docs for the ground rules.
#[derive(Debug)]
pub(crate) struct Wheel {
    entries: Slab<Entry>,
    levels: [Level; LEVELS],
    /// Entries due at or before `elapsed`, in insertion order.
    expired_head: usize,
    expired_tail: usize,
    /// The last tick `process` has dealt with.
    elapsed: u64,
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            entries: Slab::new(),
            levels: std::array::from_fn(Level::new),
            expired_head: NIL,
            expired_tail: NIL,
            elapsed: 0,
        }
    }

    /// The last tick processed.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Registers an entry due at tick `when` and returns its key.
    pub(crate) fn insert(&mut self, when: u64, waker: Waker) -> usize {
        let key = self.entries.insert(Entry {
            when,
            place: Place::Fired,
            prev: NIL,
            next: NIL,
            waker: Some(waker),
        });
        self.link(key, when);
        key
    }

    /// Whether the entry has fired (and not been reset since).
    pub(crate) fn is_fired(&self, key: usize) -> bool {
        self.entries[key].place == Place::Fired
    }

    /// Stores `waker` in a pending entry unless the stored one would wake the
    /// same task. Returns the replaced waker, to be dropped after unlocking.
    pub(crate) fn update_waker(&mut self, key: usize, waker: &Waker) -> Option<Waker> {
        let entry = &mut self.entries[key];
        match &entry.waker {
            Some(stored) if stored.will_wake(waker) => None,
            _ => entry.waker.replace(waker.clone()),
        }
    }

    /// Moves an entry (pending or fired) to tick `when`; it keeps its waker.
    pub(crate) fn reset(&mut self, key: usize, when: u64) {
        self.unlink(key);
        self.entries[key].when = when;
        self.link(key, when);
    }

    /// Fires an entry now, outside `process` (its deadline was reset into
    /// the past). Returns its waker for the caller to wake after unlocking.
    pub(crate) fn fire_now(&mut self, key: usize) -> Option<Waker> {
        self.unlink(key);
        self.entries[key].waker.take()
    }

    /// Takes the wakers of all pending entries (the driver is shutting
    /// down), leaving the entries where they are, not fired. O(entries).
    pub(crate) fn take_pending_wakers(&mut self, wakers: &mut Vec<Waker>) {
        for (_, entry) in self.entries.iter_mut() {
            if entry.place != Place::Fired {
                wakers.extend(entry.waker.take());
            }
        }
    }

    /// Cancels an entry and frees its key. Returns its waker, to be dropped
    /// after unlocking.
    pub(crate) fn remove(&mut self, key: usize) -> Option<Waker> {
        self.unlink(key);
        self.entries.remove(key).waker
    }

    /// The tick at which `process` next has work: `elapsed` if entries are
    /// expired, else the first tick of the earliest occupied slot. That is
    /// the due tick of the earliest entry when it sits in level 0, and a
    /// lower bound on it otherwise. `None` if the wheel is empty.
    pub(crate) fn next_expiration_tick(&self) -> Option<u64> {
        if self.entries.is_empty() {
            // Every listed entry is in `entries`: nothing is linked anywhere.
            debug_assert!(self.expired_head == NIL);
            return None;
        }
        if self.expired_head != NIL {
            return Some(self.elapsed);
        }
        self.next_expiration().map(|e| e.deadline)
    }

    /// Number of registered entries (pending or fired-but-not-removed).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Fires every entry due at or before tick `now`, in tick order (expired
    /// entries first, in insertion order; within one tick, in slot order),
    /// pushing their wakers onto `wakers`. Returns how many fired.
    pub(crate) fn process(&mut self, now: u64, wakers: &mut Vec<Waker>) -> usize {
        if self.entries.is_empty() {
            // The reactor calls this every turn, mostly with no timer at all:
            // then no list or slot has anything to visit, only time moves on.
            debug_assert!(self.expired_head == NIL);
            self.elapsed = self.elapsed.max(now);
            return 0;
        }
        let mut fired = 0;
        while self.expired_head != NIL {
            let key = self.expired_head;
            self.unlink(key);
            fired += self.fire(key, wakers);
        }
        while let Some(expiration) = self.next_expiration() {
            if expiration.deadline > now {
                break;
            }
            if expiration.level == LEVELS - 1
                && now - expiration.deadline >= MAX_RANGE
                && self.lower_levels_empty()
            {
                // The jump spans whole turns of the top level: rather than
                // re-place far entries once per turn, move straight to the
                // tick before the earliest of them.
                self.rebase(now);
                continue;
            }
            self.elapsed = expiration.deadline;
            // Detach the slot's list, then fire or re-place each entry. An
            // entry may go back into this very slot (top level, still beyond
            // range): the list is already detached, so that is safe.
            let level = &mut self.levels[expiration.level];
            let mut key = std::mem::replace(&mut level.head[expiration.slot], NIL);
            level.tail[expiration.slot] = NIL;
            level.clear_occupied(expiration.slot);
            while key != NIL {
                let next = self.entries[key].next;
                let when = self.entries[key].when;
                if when <= self.elapsed {
                    fired += self.fire(key, wakers);
                } else {
                    self.link(key, when);
                }
                key = next;
            }
        }
        self.elapsed = self.elapsed.max(now);
        fired
    }

    fn lower_levels_empty(&self) -> bool {
        self.expired_head == NIL
            && self.levels[..LEVELS - 1]
                .iter()
                .all(|level| level.next_expiration(self.elapsed).is_none())
    }

    /// With only top-level entries left, advances `elapsed` to just before
    /// the earliest of them (at most to `now`) and re-places them all. O(n)
    /// in the top level's entries, and only reached when a single `process`
    /// spans more than the wheel's range (a paused clock advanced by years).
    #[cold]
    fn rebase(&mut self, now: u64) {
        let mut keys = Vec::new();
        let top = &mut self.levels[LEVELS - 1];
        for slot in 0..SLOTS {
            let mut key = std::mem::replace(&mut top.head[slot], NIL);
            top.tail[slot] = NIL;
            top.clear_occupied(slot);
            while key != NIL {
                keys.push(key);
                key = self.entries[key].next;
            }
        }
        let earliest = keys.iter().map(|&key| self.entries[key].when).min();
        if let Some(earliest) = earliest {
            self.elapsed = self.elapsed.max((earliest - 1).min(now));
        }
        for key in keys {
            let when = self.entries[key].when;
            self.link(key, when);
        }
    }

    /// Marks an unlinked entry fired and collects its waker.
    fn fire(&mut self, key: usize, wakers: &mut Vec<Waker>) -> usize {
        let entry = &mut self.entries[key];
        entry.place = Place::Fired;
        entry.prev = NIL;
        entry.next = NIL;
        if let Some(waker) = entry.waker.take() {
            wakers.push(waker);
        }
        1
    }

    fn next_expiration(&self) -> Option<Expiration> {
        // Lower levels hold entries inside the current slot of every level
        // above, so the first level with any entry has the earliest slot.
        self.levels
            .iter()
            .find_map(|level| level.next_expiration(self.elapsed))
    }

    /// Appends an unlinked entry to the list its tick belongs in.
    fn link(&mut self, key: usize, when: u64) {
        if when >= MAX_TICK {
            self.entries[key].place = Place::Never;
            return;
        }
        let (place, head, tail) = if when <= self.elapsed {
            (
                Place::Expired,
                &mut self.expired_head,
                &mut self.expired_tail,
            )
        } else {
            let level_index = level_for(self.elapsed, when);
            let level = &mut self.levels[level_index];
            let slot = level.slot_for(when);
            level.set_occupied(slot);
            let place = Place::Slot {
                level: level_index as u8,
                slot: slot as u8,
            };
            (place, &mut level.head[slot], &mut level.tail[slot])
        };
        let old_tail = *tail;
        *tail = key;
        if old_tail == NIL {
            *head = key;
        } else {
            self.entries[old_tail].next = key;
        }
        let entry = &mut self.entries[key];
        entry.place = place;
        entry.prev = old_tail;
        entry.next = NIL;
    }

    /// Takes an entry out of its list, if it is in one; it is left `Fired`.
    fn unlink(&mut self, key: usize) {
        let entry = &mut self.entries[key];
        let (prev, next, place) = (entry.prev, entry.next, entry.place);
        entry.place = Place::Fired;
        entry.prev = NIL;
        entry.next = NIL;
        let (head, tail) = match place {
            Place::Fired | Place::Never => return,
            Place::Expired => (&mut self.expired_head, &mut self.expired_tail),
            Place::Slot { level, slot } => {
                let level = &mut self.levels[usize::from(level)];
                let slot = usize::from(slot);
                if level.head[slot] == key && level.tail[slot] == key {
                    level.clear_occupied(slot);
                }
                (&mut level.head[slot], &mut level.tail[slot])
            }
        };
        if prev == NIL {
            *head = next;
        } else {
            self.entries[prev].next = next;
        }
        if next == NIL {
            *tail = prev;
        } else {
            self.entries[next].prev = prev;
        }
    }
}

/// The level for an entry due at `when` when the wheel is at `elapsed`
/// (`when > elapsed`): the highest 6-bit group in which they differ.
fn level_for(elapsed: u64, when: u64) -> usize {
    let masked = ((elapsed ^ when) | (SLOTS as u64 - 1)).min(MAX_RANGE - 1);
    let significant = 63 - masked.leading_zeros();
    (significant / SLOT_BITS) as usize
}

#[cfg(test)]
mod tests;
