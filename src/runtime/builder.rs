//! Configures and builds a [`Runtime`].

use super::Runtime;
use std::io;

/// Builds a [`Runtime`] with custom settings.
///
/// Named as in tokio, so that `tokio::runtime::Builder` code moves over by
/// renaming. ember always enables I/O and time; [`Builder::enable_all`],
/// [`Builder::enable_io`] and [`Builder::enable_time`] exist so that such
/// code compiles unchanged.
///
/// # Examples
///
/// ```
/// use ember::runtime::Builder;
///
/// let rt = Builder::new_current_thread().enable_all().build()?;
/// rt.block_on(async { /* ... */ });
/// # std::io::Result::Ok(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    start_paused: bool,
}

impl Builder {
    /// A builder for a runtime that runs every task on the thread that calls
    /// [`Runtime::block_on`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_current_thread().build()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder {
            start_paused: false,
        }
    }

    /// Enables I/O and time. They are always on in ember; this is here for
    /// source compatibility with tokio.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_current_thread().enable_all().build()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Enables the I/O reactor: always on in ember (see [`Builder::enable_all`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_current_thread().enable_io().build()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn enable_io(&mut self) -> &mut Builder {
        self
    }

    /// Enables timers: always on in ember (see [`Builder::enable_all`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_current_thread().enable_time().build()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn enable_time(&mut self) -> &mut Builder {
        self
    }

    /// Starts the runtime's clock paused. A paused clock does not move by
    /// itself: whenever the runtime has nothing to run and no I/O is ready,
    /// it jumps to the next timer deadline instead of sleeping. Tests of long
    /// timeouts then take microseconds and are deterministic.
    ///
    /// # Examples
    ///
    /// ```
    /// use ember::time::{sleep, Duration, Instant};
    ///
    /// let rt = ember::Builder::new_current_thread().start_paused(true).build()?;
    /// let wall = std::time::Instant::now();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(3600)).await;
    ///     assert!(start.elapsed() >= Duration::from_secs(3600));
    /// });
    /// assert!(wall.elapsed() < std::time::Duration::from_secs(3600));
    /// # std::io::Result::Ok(())
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Builder {
        self.start_paused = paused;
        self
    }

    /// Creates the runtime.
    ///
    /// # Errors
    ///
    /// When the OS refuses the poller or its wakeup descriptor (for example,
    /// the process is out of file descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_current_thread().build()?;
    /// assert_eq!(rt.block_on(async { 40 + 2 }), 42);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        let clock = if self.start_paused {
            ember_timer::Clock::paused()
        } else {
            ember_timer::Clock::real()
        };
        Runtime::from_parts(clock)
    }
}
