//! Unix signals as async streams.
//!
//! One process-wide handler per signal forwards it to every runtime that
//! listens; each [`Signals`] stream sees every signal it asked for.

pub use ember_io::signal::*;
