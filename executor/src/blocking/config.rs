//! [`BlockingConfig`]: how many threads the blocking pool may start, how long an idle one
//! lingers, and what each thread is called and runs when it starts and stops.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Settings of a [`BlockingPool`](super::BlockingPool).
///
/// Build one from [`Default`] and override what you need.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use ember_executor::blocking::{BlockingConfig, BlockingPool};
///
/// let config = BlockingConfig {
///     max_threads: 4,
///     keep_alive: Duration::from_secs(1),
///     thread_name: Arc::new(|| "my-blocking".to_owned()),
///     on_thread_start: Some(Arc::new(|| println!("blocking thread up"))),
///     ..BlockingConfig::default()
/// };
/// let pool = BlockingPool::new(config);
/// # drop(pool);
/// ```
#[derive(Clone)]
pub struct BlockingConfig {
    /// Most threads the pool runs at once; more work waits in a queue. Default 512.
    /// Must be at least 1.
    pub max_threads: usize,
    /// How long an idle thread waits for more work before it exits. Default 10 seconds.
    pub keep_alive: Duration,
    /// Called once per new thread, for its name. Default: `ember-blocking-0`, `ember-blocking-1`, ...
    /// (numbered per config, clones share the counter).
    pub thread_name: Arc<dyn Fn() -> String + Send + Sync>,
    /// Called on each new pool thread before it runs any work.
    pub on_thread_start: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Called on each pool thread just before it exits (idle timeout or shutdown).
    pub on_thread_stop: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl Default for BlockingConfig {
    fn default() -> BlockingConfig {
        let next = AtomicUsize::new(0);
        BlockingConfig {
            max_threads: 512,
            keep_alive: Duration::from_secs(10),
            thread_name: Arc::new(move || {
                format!("ember-blocking-{}", next.fetch_add(1, Ordering::Relaxed))
            }),
            on_thread_start: None,
            on_thread_stop: None,
        }
    }
}

impl fmt::Debug for BlockingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingConfig")
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("on_thread_stop", &self.on_thread_stop.is_some())
            .finish_non_exhaustive()
    }
}
