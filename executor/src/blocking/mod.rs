//! The blocking pool: a set of plain OS threads for closures that block (file I/O, DNS,
//! compression, any synchronous API) so they never stall a scheduler thread.
//!
//! [`BlockingHandle::spawn_blocking`] wraps the closure in an ordinary task, so the caller
//! gets the same [`JoinHandle`](crate::JoinHandle) as for a spawned future: it is awaited from
//! any runtime, a panic in the closure is reported through
//! [`JoinError::is_panic`](crate::task::JoinError::is_panic), and aborting a closure that has
//! not started yet cancels it. Threads are started on demand, up to
//! [`BlockingConfig::max_threads`]; beyond that, work waits in a FIFO queue. An idle thread
//! lingers for [`BlockingConfig::keep_alive`] in case more work comes, then exits.
//! [`BlockingPool`] owns the threads and shuts them down; [`BlockingHandle`] is the cheap,
//! cloneable way to submit work.
//!
//! ```
//! use ember_executor::blocking::{BlockingConfig, BlockingPool};
//!
//! let pool = BlockingPool::new(BlockingConfig::default());
//! let handle = pool.handle();
//! let len = ember_executor::block_on(async move {
//!     // Pretend this is a slow synchronous read.
//!     handle.spawn_blocking(|| "some file contents".len()).await.unwrap()
//! });
//! assert_eq!(len, 18);
//! ```

#![forbid(unsafe_code)]

mod config;
mod pool;
mod worker;

pub use config::BlockingConfig;
pub use pool::{BlockingHandle, BlockingPool};
