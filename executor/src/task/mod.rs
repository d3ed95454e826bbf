//! Tasks: the handles users hold ([`JoinHandle`], [`AbortHandle`]), the error a task can end
//! with ([`JoinError`]), [`yield_now`], and (privately) how a task is allocated and polled.

mod error;
mod join;
pub(crate) mod raw;
mod yield_now;

pub use error::JoinError;
pub use join::{AbortHandle, JoinHandle};
pub use yield_now::yield_now;
