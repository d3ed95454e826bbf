//! Tasks: the handles users hold ([`JoinHandle`], [`AbortHandle`]), the error a task can end
//! with ([`JoinError`]), task identity ([`Id`], [`id`], [`try_id`]), [`yield_now`], and
//! (privately) how a task is allocated and polled.

mod error;
mod id;
mod join;
mod local;
pub(crate) mod raw;
mod yield_now;

pub use error::JoinError;
pub(crate) use id::run_current;
pub use id::{id, try_id, Id};
pub use join::{AbortHandle, JoinHandle};
pub use yield_now::yield_now;
