//! The vocabulary of readiness: [`Direction`], [`Interest`], [`Ready`] and
//! [`ReadyEvent`].
//!
//! `Ready` is a small bit set mirroring what the OS poller reports for a
//! source. A direction is considered ready when its own bit is set, when the
//! source is closed in that direction, or when it reports an error: an
//! operation will then return promptly (with data, end-of-file, `EPIPE`, or
//! the error), so a half-closed socket never makes a task spin or hang.

use std::fmt;

/// One of the two directions of a source; each has its own readiness and waker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Reading (and accepting, receiving).
    Read,
    /// Writing (and connecting, sending).
    Write,
}

impl Direction {
    /// The interest that waits for this direction.
    pub const fn interest(self) -> Interest {
        match self {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        }
    }
}

/// What a waiter waits for: reading, writing, or either (tokio's `Interest`).
///
/// # Examples
///
/// ```
/// use ember_reactor::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert!(!Interest::READABLE.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    /// Interest in reading (and accepting, receiving).
    pub const READABLE: Interest = Interest(1);
    /// Interest in writing (and connecting, sending).
    pub const WRITABLE: Interest = Interest(2);

    /// Whether this includes [`Interest::READABLE`].
    pub const fn is_readable(self) -> bool {
        self.0 & Interest::READABLE.0 != 0
    }

    /// Whether this includes [`Interest::WRITABLE`].
    pub const fn is_writable(self) -> bool {
        self.0 & Interest::WRITABLE.0 != 0
    }

    /// Both interests of `self` and `other`.
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// The readiness flags that satisfy this interest: readable, writable,
    /// closed or error in a direction it includes.
    pub(crate) const fn mask(self) -> Ready {
        let mut bits = 0;
        if self.is_readable() {
            bits |= Ready::READ_MASK.0;
        }
        if self.is_writable() {
            bits |= Ready::WRITE_MASK.0;
        }
        Ready(bits)
    }

    /// Whether `ready` concerns a direction of this interest.
    pub(crate) const fn matches(self, ready: Ready) -> bool {
        ready.0 & self.mask().0 != 0
    }
}

impl std::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        self.add(rhs)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(empty)"),
        }
    }
}

/// A set of readiness flags for one source.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ready(u8);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// The source can be read without blocking.
    pub const READABLE: Ready = Ready(1 << 0);
    /// The source can be written without blocking.
    pub const WRITABLE: Ready = Ready(1 << 1);
    /// The peer closed its write side: reads return end-of-file.
    pub const READ_CLOSED: Ready = Ready(1 << 2);
    /// The write side is closed: writes fail (`EPIPE`, reset).
    pub const WRITE_CLOSED: Ready = Ready(1 << 3);
    /// The source reported an error (`SO_ERROR` is set).
    pub const ERROR: Ready = Ready(1 << 4);

    /// Everything that makes a read return promptly.
    pub(crate) const READ_MASK: Ready = Ready(1 | (1 << 2) | (1 << 4));
    /// Everything that makes a write return promptly.
    pub(crate) const WRITE_MASK: Ready = Ready((1 << 1) | (1 << 3) | (1 << 4));
    /// Closed states: final, never cleared.
    pub(crate) const CLOSED: Ready = Ready((1 << 2) | (1 << 3));

    pub(crate) const fn from_bits(bits: u8) -> Ready {
        Ready(bits & 0x1f)
    }

    pub(crate) const fn bits(self) -> u8 {
        self.0
    }

    pub(crate) fn from_mio(event: &mio::event::Event) -> Ready {
        let mut bits = 0;
        if event.is_readable() {
            bits |= Ready::READABLE.0;
        }
        if event.is_writable() {
            bits |= Ready::WRITABLE.0;
        }
        if event.is_read_closed() {
            bits |= Ready::READ_CLOSED.0;
        }
        if event.is_write_closed() {
            bits |= Ready::WRITE_CLOSED.0;
        }
        if event.is_error() {
            bits |= Ready::ERROR.0;
        }
        Ready(bits)
    }

    pub(crate) const fn intersection(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }

    pub(crate) const fn without(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }

    /// Whether `READABLE` is set.
    pub fn is_readable(self) -> bool {
        self.0 & Ready::READABLE.0 != 0
    }
    /// Whether `WRITABLE` is set.
    pub fn is_writable(self) -> bool {
        self.0 & Ready::WRITABLE.0 != 0
    }
    /// Whether `READ_CLOSED` is set.
    pub fn is_read_closed(self) -> bool {
        self.0 & Ready::READ_CLOSED.0 != 0
    }
    /// Whether `WRITE_CLOSED` is set.
    pub fn is_write_closed(self) -> bool {
        self.0 & Ready::WRITE_CLOSED.0 != 0
    }
    /// Whether `ERROR` is set.
    pub fn is_error(self) -> bool {
        self.0 & Ready::ERROR.0 != 0
    }
    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for Ready {
    type Output = Ready;
    fn bitor(self, rhs: Ready) -> Ready {
        Ready(self.0 | rhs.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Ready::READABLE, "READABLE"),
            (Ready::WRITABLE, "WRITABLE"),
            (Ready::READ_CLOSED, "READ_CLOSED"),
            (Ready::WRITE_CLOSED, "WRITE_CLOSED"),
            (Ready::ERROR, "ERROR"),
        ];
        let mut set = f.debug_set();
        for (flag, name) in names {
            if self.0 & flag.0 != 0 {
                set.entry(&format_args!("{name}"));
            }
        }
        set.finish()
    }
}

/// What [`Registration::poll_ready`](crate::Registration::poll_ready) saw:
/// the readiness of one direction, stamped with the event tick it came from.
///
/// Hand it back to [`Registration::clear_readiness`](crate::Registration::clear_readiness)
/// after an operation returned `WouldBlock`; the tick makes sure readiness
/// that arrived in the meantime is not thrown away.
#[derive(Clone, Copy, Debug)]
pub struct ReadyEvent {
    pub(crate) ready: Ready,
    pub(crate) direction: Direction,
    pub(crate) tick: usize,
}

impl ReadyEvent {
    /// The readiness flags of this event's direction.
    pub fn readiness(&self) -> Ready {
        self.ready
    }

    /// The direction this event is about.
    pub fn direction(&self) -> Direction {
        self.direction
    }
}
