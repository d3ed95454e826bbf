//! How a registered source is named to mio: slab slot plus generation.
//!
//! A [`mio::Token`] is one `usize`. The low [`SLOT_BITS`] hold the source's
//! slab slot, the high bits a generation number taken from a per-reactor
//! counter at registration time. When a source is dropped its slot is reused,
//! but the newcomer gets a different generation, so an event still carrying
//! the old token (for example from an fd that was closed without being
//! deregistered) is recognised as stale and ignored instead of waking the
//! newcomer. Generations wrap after `2^GEN_BITS` registrations; a stale event
//! would have to survive that many registrations of other sources to alias.
//!
//! The three largest slot numbers are never handed out: they name the
//! reactor's own sources, the unpark [`mio::Waker`], the signal self-pipe and
//! (on Linux) the timer fd.

use mio::Token;

/// Bits of a token that hold the slab slot (the rest hold the generation).
#[cfg(target_pointer_width = "64")]
const SLOT_BITS: u32 = 32;
#[cfg(not(target_pointer_width = "64"))]
const SLOT_BITS: u32 = 24;

const SLOT_MASK: usize = (1 << SLOT_BITS) - 1;
const GEN_MASK: usize = usize::MAX >> SLOT_BITS;

/// Token of the mio::Waker used by `Handle::unpark`.
pub(crate) const WAKER: Token = Token(usize::MAX);
/// Token of the signal self-pipe's read end.
pub(crate) const SIGNAL: Token = Token(usize::MAX - 1);
/// Token of the timer fd that ends a sleep at the next timer deadline.
pub(crate) const TIMER: Token = Token(usize::MAX - 2);

/// Slots at or above this are reserved for [`WAKER`], [`SIGNAL`] and [`TIMER`].
pub(crate) const MAX_SLOTS: usize = SLOT_MASK - 2;

/// Build the token for `slot` (must be `< MAX_SLOTS`) at `generation`.
pub(crate) fn encode(slot: usize, generation: usize) -> Token {
    debug_assert!(slot < MAX_SLOTS);
    Token(((generation & GEN_MASK) << SLOT_BITS) | slot)
}

/// The slab slot a token names.
pub(crate) fn slot(token: Token) -> usize {
    token.0 & SLOT_MASK
}

/// Advance a generation counter, wrapping inside the bits a token has for it.
pub(crate) fn next_generation(generation: usize) -> usize {
    generation.wrapping_add(1) & GEN_MASK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_reserved_tokens_never_collide() {
        let t = encode(5, 9);
        assert_eq!(slot(t), 5);
        assert_ne!(encode(5, 10), t);
        let last = encode(MAX_SLOTS - 1, GEN_MASK);
        for reserved in [WAKER, SIGNAL, TIMER] {
            assert_ne!(last, reserved);
            assert!(slot(reserved) >= MAX_SLOTS);
        }
        assert_eq!(next_generation(GEN_MASK), 0);
    }
}
