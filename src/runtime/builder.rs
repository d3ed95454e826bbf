//! Configures and builds a [`Runtime`].

use super::Runtime;
use ember_executor::blocking::BlockingConfig;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
#[derive(Clone)]
pub struct Builder {
    flavor: Flavor,
    start_paused: bool,
    names: ThreadNames,
    /// The blocking pool's settings; its `thread_name` is set at `build`,
    /// from `names`.
    blocking: BlockingConfig,
}

/// Current-thread or multi-thread: the one word for it in the facade.
#[derive(Clone, Copy, Debug)]
enum Flavor {
    CurrentThread,
    /// With this many workers (`None`: one per CPU).
    MultiThread(Option<usize>),
}

/// Names a thread the runtime starts; called once per thread.
pub(crate) type ThreadName = Arc<dyn Fn() -> String + Send + Sync>;

/// How the runtime's threads are named.
#[derive(Clone, Debug)]
enum ThreadNames {
    /// Workers `{workers}-{n}`, blocking threads `{blocking}-{n}`, each
    /// counted from 0 in each runtime built.
    Numbered { workers: String, blocking: String },
    /// Every thread, worker or blocking, named by this function.
    Each(NameFn),
}

/// A user's naming function, opaque to `Debug`.
#[derive(Clone)]
struct NameFn(ThreadName);

impl fmt::Debug for NameFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NameFn(..)")
    }
}

impl ThreadNames {
    /// `ember-worker-{n}` and `ember-blocking-{n}`.
    fn default_names() -> ThreadNames {
        ThreadNames::Numbered {
            workers: "ember-worker".into(),
            blocking: "ember-blocking".into(),
        }
    }

    /// The names of one runtime's workers and of its blocking threads.
    fn build(&self) -> (ThreadName, ThreadName) {
        match self {
            ThreadNames::Numbered { workers, blocking } => (
                numbered_names(workers.clone()),
                numbered_names(blocking.clone()),
            ),
            ThreadNames::Each(NameFn(name)) => (Arc::clone(name), Arc::clone(name)),
        }
    }
}

/// Names threads "{prefix}-{n}", counting from 0.
fn numbered_names(prefix: String) -> ThreadName {
    let next = AtomicUsize::new(0);
    Arc::new(move || format!("{prefix}-{}", next.fetch_add(1, Ordering::Relaxed)))
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
        Builder::with_flavor(Flavor::CurrentThread)
    }

    /// A builder for a runtime whose tasks run on a pool of worker threads
    /// that steal work from each other: one per CPU unless
    /// [`Builder::worker_threads`] says otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_multi_thread().worker_threads(2).build()?;
    /// let on = rt.block_on(rt.spawn(async {
    ///     std::thread::current().name().map(String::from)
    /// }));
    /// assert!(on.unwrap().unwrap().starts_with("ember-worker"));
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder::with_flavor(Flavor::MultiThread(None))
    }

    fn with_flavor(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            start_paused: false,
            names: ThreadNames::default_names(),
            blocking: BlockingConfig::default(),
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
    /// Current-thread runtimes only (as in tokio): with several workers, one
    /// could find nothing to do and move the clock while another is still
    /// running a task that expects it not to have moved. [`Builder::build`]
    /// refuses the combination.
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

    /// How many worker threads a multi-thread runtime runs (default: one
    /// per CPU, from [`std::thread::available_parallelism`]). Ignored by a
    /// current-thread runtime, whose one worker is the caller of `block_on`.
    ///
    /// # Panics
    ///
    /// If `workers` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_multi_thread().worker_threads(4).build()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn worker_threads(&mut self, workers: usize) -> &mut Builder {
        assert!(workers > 0, "worker_threads must be at least 1");
        if let Flavor::MultiThread(n) = &mut self.flavor {
            *n = Some(workers);
        }
        self
    }

    /// The most threads [`crate::spawn_blocking`] may run at once (default
    /// 512). More closures wait in a queue for a free thread.
    ///
    /// # Panics
    ///
    /// If `threads` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_current_thread()
    ///     .max_blocking_threads(4)
    ///     .build()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn max_blocking_threads(&mut self, threads: usize) -> &mut Builder {
        assert!(threads > 0, "max_blocking_threads must be at least 1");
        self.blocking.max_threads = threads;
        self
    }

    /// How long an idle blocking thread waits for work before it exits
    /// (default 10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = ember::Builder::new_current_thread()
    ///     .thread_keep_alive(Duration::from_secs(1))
    ///     .build()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Builder {
        self.blocking.keep_alive = keep_alive;
        self
    }

    /// Names the threads the runtime starts after `prefix`: its workers
    /// `{prefix}-{n}` and its blocking threads (which run
    /// [`crate::spawn_blocking`] closures and name lookups)
    /// `{prefix}-blocking-{n}`, each counted from 0. By default workers are
    /// `ember-worker-{n}` and blocking threads `ember-blocking-{n}`, on both
    /// flavours, so a panic message says whether a worker or a blocking
    /// thread raised it.
    /// A current-thread runtime starts no workers: its tasks run on the
    /// thread that calls [`Runtime::block_on`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_name("db")
    ///     .build()?;
    /// let names = rt.block_on(async {
    ///     let worker = ember::spawn(async { std::thread::current().name().map(String::from) });
    ///     let blocking = ember::spawn_blocking(|| std::thread::current().name().map(String::from));
    ///     (worker.await.unwrap(), blocking.await.unwrap())
    /// });
    /// assert_eq!(names.0.as_deref(), Some("db-0"));
    /// assert_eq!(names.1.as_deref(), Some("db-blocking-0"));
    /// # std::io::Result::Ok(())
    /// ```
    pub fn thread_name(&mut self, prefix: impl Into<String>) -> &mut Builder {
        let workers = prefix.into();
        let blocking = format!("{workers}-blocking");
        self.names = ThreadNames::Numbered { workers, blocking };
        self
    }

    /// Names every thread the runtime starts, workers and blocking threads
    /// alike, with what `f` returns (called once per thread, as in tokio).
    /// Replaces [`Builder::thread_name`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let next = AtomicUsize::new(0);
    /// let rt = ember::Builder::new_current_thread()
    ///     .thread_name_fn(move || format!("svc-{}", next.fetch_add(1, Ordering::Relaxed)))
    ///     .build()?;
    /// let name = rt.block_on(async {
    ///     ember::spawn_blocking(|| std::thread::current().name().map(String::from))
    ///         .await
    ///         .unwrap()
    /// });
    /// assert_eq!(name.as_deref(), Some("svc-0"));
    /// # std::io::Result::Ok(())
    /// ```
    pub fn thread_name_fn<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self.names = ThreadNames::Each(NameFn(Arc::new(f)));
        self
    }

    /// Runs `f` on each thread the runtime starts (workers and blocking
    /// threads), before it takes work.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_current_thread()
    ///     .on_thread_start(|| println!("thread started"))
    ///     .build()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn on_thread_start<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.blocking.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each thread the runtime started, as it exits.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_current_thread()
    ///     .on_thread_stop(|| println!("thread stopped"))
    ///     .build()?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn on_thread_stop<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.blocking.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Creates the runtime.
    ///
    /// # Errors
    ///
    /// When the OS refuses the poller, its wakeup descriptor or a worker
    /// thread (for example, the process is out of file descriptors), and
    /// [`io::ErrorKind::InvalidInput`] for [`Builder::start_paused`] on a
    /// multi-thread runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ember::Builder::new_current_thread().build()?;
    /// assert_eq!(rt.block_on(async { 40 + 2 }), 42);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        let (worker_name, blocking_name) = self.names.build();
        let blocking = BlockingConfig {
            thread_name: blocking_name,
            ..self.blocking.clone()
        };
        match self.flavor {
            Flavor::CurrentThread => {
                let clock = if self.start_paused {
                    ember_timer::Clock::paused()
                } else {
                    ember_timer::Clock::real()
                };
                Runtime::current_thread(clock, blocking)
            }
            Flavor::MultiThread(_) if self.start_paused => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "start_paused needs a current-thread runtime (Builder::new_current_thread)",
            )),
            Flavor::MultiThread(workers) => {
                let workers = workers
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
                Runtime::multi_thread(workers, worker_name, blocking)
            }
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("start_paused", &self.start_paused)
            .field("thread_names", &self.names)
            .field("blocking", &self.blocking)
            .finish()
    }
}
