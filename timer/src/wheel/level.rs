//! One level of the wheel: 64 slots, each the head and tail of an intrusive
//! list of entries, plus an occupancy bitmap so the next busy slot is found
//! with one rotate and one `trailing_zeros`.

use super::NIL;

/// Slots per level.
pub(super) const SLOTS: usize = 64;
/// log2(SLOTS): each level's slot covers 64 times the ticks of the one below.
pub(super) const SLOT_BITS: u32 = 6;

/// The slot lists and occupancy of one level.
#[derive(Debug)]
pub(super) struct Level {
    /// Which level: its slots span `64^level` ticks.
    level: u32,
    /// Bit `s` set iff slot `s` holds at least one entry.
    occupied: u64,
    /// First entry (slab key) of each slot's list, or `NIL`.
    pub(super) head: [usize; SLOTS],
    /// Last entry of each slot's list, or `NIL`; entries are appended here.
    pub(super) tail: [usize; SLOTS],
}

/// A due slot: which one, and the first tick it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Expiration {
    pub(super) level: usize,
    pub(super) slot: usize,
    pub(super) deadline: u64,
}

impl Level {
    pub(super) fn new(level: usize) -> Level {
        Level {
            level: level as u32,
            occupied: 0,
            head: [NIL; SLOTS],
            tail: [NIL; SLOTS],
        }
    }

    /// Ticks covered by one slot of this level.
    fn slot_range(&self) -> u64 {
        1 << (SLOT_BITS * self.level)
    }

    /// Ticks covered by all 64 slots of this level.
    fn level_range(&self) -> u64 {
        1 << (SLOT_BITS * (self.level + 1))
    }

    /// The slot of this level that holds tick `when`.
    pub(super) fn slot_for(&self, when: u64) -> usize {
        ((when >> (SLOT_BITS * self.level)) as usize) % SLOTS
    }

    pub(super) fn set_occupied(&mut self, slot: usize) {
        self.occupied |= 1 << slot;
    }

    pub(super) fn clear_occupied(&mut self, slot: usize) {
        self.occupied &= !(1 << slot);
    }

    /// The first occupied slot after `now`'s slot (wrapping round) and the
    /// tick it starts at, or `None` if the level is empty.
    ///
    /// Below the top level, an entry's slot never holds `now`'s slot (it was
    /// placed at the level where its tick and `now` first differ), so the
    /// computed start is after `now`. The top level is a ring: entries beyond
    /// the wheel's range are parked in the slot their tick maps to, which may
    /// come round before that tick; such a start lands at or before `now` and
    /// is moved one full turn ahead. When the slot comes due its entries are
    /// re-inserted, not fired, unless their own tick has come.
    pub(super) fn next_expiration(&self, now: u64) -> Option<Expiration> {
        if self.occupied == 0 {
            return None;
        }
        // Search from the slot after `now`'s round to `now`'s own slot, which
        // comes last: only the top level can hold entries there, and those
        // are a full turn ahead.
        let first = (self.slot_for(now) + 1) % SLOTS;
        let rotated = self.occupied.rotate_right(first as u32);
        let slot = (first + rotated.trailing_zeros() as usize) % SLOTS;
        let level_start = now & !(self.level_range() - 1);
        let mut deadline = level_start + slot as u64 * self.slot_range();
        if deadline <= now {
            deadline += self.level_range();
        }
        Some(Expiration {
            level: self.level as usize,
            slot,
            deadline,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_expiration_finds_first_occupied_slot() {
        let mut level = Level::new(1);
        assert_eq!(level.next_expiration(0), None);
        level.set_occupied(3);
        let e = level.next_expiration(70).map(|e| (e.slot, e.deadline));
        assert_eq!(e, Some((3, 192)));
        level.set_occupied(2);
        let e = level.next_expiration(70).map(|e| (e.slot, e.deadline));
        assert_eq!(e, Some((2, 128)));
        level.clear_occupied(2);
        level.clear_occupied(3);
        assert_eq!(level.next_expiration(70), None);
    }

    #[test]
    fn top_level_wraps_around() {
        let mut level = Level::new(super::super::LEVELS - 1);
        let slot_range = 1u64 << 36;
        level.set_occupied(1);
        // now sits in slot 2: slot 1 is a full turn ahead.
        let now = 2 * slot_range + 5;
        let e = level.next_expiration(now).map(|e| e.deadline);
        assert_eq!(e, Some((1 << 42) + slot_range));
        // now's own slot comes after every other one.
        level.set_occupied(2);
        let e = level.next_expiration(now).map(|e| e.deadline);
        assert_eq!(e, Some((1 << 42) + slot_range));
        level.clear_occupied(1);
        let e = level.next_expiration(now).map(|e| e.deadline);
        assert_eq!(e, Some((1 << 42) + 2 * slot_range));
    }
}
