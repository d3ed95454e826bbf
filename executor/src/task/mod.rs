//! Tasks: the handles users hold ([`JoinHandle`], [`AbortHandle`]), the error a task can end
//! with ([`JoinError`]), task identity ([`Id`], [`id`], [`try_id`]), [`yield_now`], task-local
//! storage ([`LocalKey`], declared with [`task_local!`](crate::task_local)), and (privately)
//! how a task is allocated and polled.

mod error;
mod id;
mod join;
mod local;
pub(crate) mod raw;
mod task_local;
mod yield_now;

pub use error::JoinError;
pub(crate) use id::run_current;
pub use id::{id, try_id, Id};
pub use join::{AbortHandle, JoinHandle};
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};
pub use yield_now::yield_now;
