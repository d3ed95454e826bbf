//! Time: sleeps, timeouts and intervals on the runtime's timing wheel.
//!
//! Everything here reads time through the runtime's clock, which
//! [`crate::runtime::Builder::start_paused`] can freeze: a paused clock jumps
//! straight to the next deadline whenever the runtime has nothing else to
//! do, so a test of a 30-second timeout takes microseconds.
//!
//! ```
//! use ember::time::{sleep, timeout, Duration};
//!
//! ember::block_on(async {
//!     let slow = sleep(Duration::from_secs(10));
//!     assert!(timeout(Duration::from_millis(5), slow).await.is_err());
//! });
//! ```

pub use ember_timer::{
    interval, interval_at, sleep, sleep_until, timeout, timeout_at, Elapsed, Instant, Interval,
    MissedTickBehavior, Sleep, Timeout,
};
pub use std::time::Duration;
