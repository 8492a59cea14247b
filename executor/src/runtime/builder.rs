//! [`Builder`]: how a [`Runtime`] is configured, and the [`Config`] its schedulers read.

use super::handle::{Handle, Id, Scheduler};
use super::{current_thread, multi_thread, Runtime};
use crate::blocking::BlockingPool;
use crate::time::clock::Clock;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// A callback of [`Builder::on_thread_start`] and its siblings.
pub(crate) type Callback = Arc<dyn Fn() + Send + Sync>;

/// The thread callbacks of a runtime.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) thread_start: Option<Callback>,
    pub(crate) thread_stop: Option<Callback>,
    pub(crate) thread_park: Option<Callback>,
    pub(crate) thread_unpark: Option<Callback>,
}

impl Hooks {
    pub(crate) fn run(hook: &Option<Callback>) {
        if let Some(f) = hook {
            f();
        }
    }
}

/// What a scheduler reads from its builder.
pub(crate) struct Config {
    pub(crate) id: Id,
    pub(crate) name: Option<String>,
    pub(crate) hooks: Hooks,
    /// Scheduler ticks between two polls of the driver.
    pub(crate) event_interval: u32,
    /// Scheduler ticks between two looks at the inject queue; `None`: the scheduler's default
    /// (31 on the current-thread runtime, self-tuned on the multi-thread one).
    pub(crate) global_queue_interval: Option<u32>,
}

/// Scheduler ticks between two polls of the driver, by default: tokio's 61 ("fairly arbitrary",
/// a prime taken from Go), small enough that I/O waits at most a few dozen task polls.
pub(crate) const DEFAULT_EVENT_INTERVAL: u32 = 61;

/// Configures and builds a [`Runtime`].
///
/// ```
/// let rt = executor::runtime::Builder::new_current_thread().enable_all().build()?;
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    thread_name: String,
    name: Option<String>,
    max_blocking_threads: usize,
    thread_keep_alive: Duration,
    hooks: Hooks,
    event_interval: u32,
    global_queue_interval: Option<u32>,
    start_paused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Builder {
    fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            thread_name: "runtime-worker".to_string(),
            name: None,
            max_blocking_threads: crate::blocking::DEFAULT_MAX_THREADS,
            thread_keep_alive: crate::blocking::DEFAULT_KEEP_ALIVE,
            hooks: Hooks::default(),
            event_interval: DEFAULT_EVENT_INTERVAL,
            global_queue_interval: None,
            start_paused: false,
        }
    }

    /// A builder for a runtime whose tasks all run on the thread that calls `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::new(Flavor::CurrentThread)
    }

    /// A builder for a runtime with worker threads (one per CPU by default) that share the tasks
    /// by work stealing.
    pub fn new_multi_thread() -> Builder {
        Builder::new(Flavor::MultiThread)
    }

    /// The number of worker threads of a multi-thread runtime (default: the number of CPUs).
    ///
    /// # Panics
    ///
    /// If `n` is 0 (the message names the caller's line).
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        assert!(n > 0, "worker_threads cannot be 0");
        self.worker_threads = Some(n);
        self
    }

    /// Accepted for familiarity with tokio: the I/O and timer drivers are always on.
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for familiarity with tokio: the I/O driver (the reactor's `EventPoll`) is
    /// always on.
    pub fn enable_io(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for familiarity with tokio: the timers are always on.
    pub fn enable_time(&mut self) -> &mut Builder {
        self
    }

    /// The name of threads the runtime starts (the [`spawn_blocking`](crate::task::spawn_blocking)
    /// pool's threads included). Default: `"runtime-worker"`.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.thread_name = name.into();
        self
    }

    /// The name of the runtime, returned by [`Handle::name`].
    ///
    /// # Panics
    ///
    /// If the name is empty or only whitespace.
    #[track_caller]
    pub fn name(&mut self, name: impl Into<String>) -> &mut Builder {
        let name = name.into();
        assert!(!name.trim().is_empty(), "the runtime name cannot be empty");
        self.name = Some(name);
        self
    }

    /// The most threads the [`spawn_blocking`](crate::task::spawn_blocking) pool runs at once
    /// (512 by default, as tokio). They are started on demand; when all are busy, further
    /// closures wait in a FIFO queue until one is free.
    ///
    /// # Panics
    ///
    /// If `n` is 0 (the message names the caller's line).
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        assert!(n > 0, "max_blocking_threads cannot be 0");
        self.max_blocking_threads = n;
        self
    }

    /// How long a [`spawn_blocking`](crate::task::spawn_blocking) thread waits for more work
    /// before it exits (10 s by default, as tokio).
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Builder {
        self.thread_keep_alive = duration;
        self
    }

    /// Runs `f` on each thread the runtime starts (workers and blocking threads), in the
    /// runtime's context, before it does any work. Not called on the thread of a
    /// current-thread runtime's `block_on`, which the runtime did not start.
    pub fn on_thread_start<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each thread the runtime started, just before it exits.
    pub fn on_thread_stop<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.thread_stop = Some(Arc::new(f));
        self
    }

    /// Runs `f` just before a thread that runs tasks goes idle (a worker, or the thread in a
    /// current-thread runtime's `block_on`), in the runtime's context: `f` may spawn tasks,
    /// which the thread then runs instead of sleeping.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let parks = Arc::new(AtomicUsize::new(0));
    /// let counter = parks.clone();
    /// let rt = executor::runtime::Builder::new_current_thread()
    ///     .on_thread_park(move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()?;
    /// rt.block_on(async { executor::time::sleep(std::time::Duration::from_millis(1)).await });
    /// assert!(parks.load(Ordering::SeqCst) >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_park<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.thread_park = Some(Arc::new(f));
        self
    }

    /// Runs `f` just after a thread that went idle (see
    /// [`on_thread_park`](Builder::on_thread_park)) wakes up, before it runs tasks.
    pub fn on_thread_unpark<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.hooks.thread_unpark = Some(Arc::new(f));
        self
    }

    /// Scheduler ticks (task polls, roughly) between two looks at the global (inject) queue
    /// while local work remains. Default: 31 on the current-thread runtime; on the
    /// multi-thread runtime each worker tunes it as the load changes, so that the global queue
    /// is looked at about every 200 µs of task polling (between 2 and 127 ticks). Setting it
    /// turns the tuning off.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    #[track_caller]
    pub fn global_queue_interval(&mut self, n: u32) -> &mut Builder {
        assert!(n > 0, "global_queue_interval must be greater than 0");
        self.global_queue_interval = Some(n);
        self
    }

    /// Scheduler ticks between two polls of the driver (I/O and timers) while tasks keep the
    /// scheduler busy. Default: 61, as tokio.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    #[track_caller]
    pub fn event_interval(&mut self, n: u32) -> &mut Builder {
        assert!(n > 0, "event_interval must be greater than 0");
        self.event_interval = n;
        self
    }

    /// Whether the runtime's clock starts paused (see [`time::pause`](crate::time::pause)):
    /// timers then complete as soon as the runtime is idle, in virtual time. For tests; the
    /// attribute form is `#[runtime::test(start_paused = true)]`.
    ///
    /// ```
    /// use executor::time::{sleep, Duration, Instant};
    ///
    /// let rt = executor::runtime::Builder::new_current_thread().start_paused(true).build()?;
    /// let real = std::time::Instant::now();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(60)).await;
    ///     assert_eq!(start.elapsed(), Duration::from_secs(60));
    /// });
    /// assert!(real.elapsed() < Duration::from_secs(60));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// [`build`](Builder::build) panics if `start_paused` is set on a multi-thread builder:
    /// pausing time needs the current-thread runtime (as in tokio).
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Builder {
        self.start_paused = start_paused;
        self
    }

    /// Builds the runtime: creates its `EventPoll`, timers and (threadless) blocking pool.
    ///
    /// # Panics
    ///
    /// With [`start_paused`](Builder::start_paused) on a multi-thread builder.
    #[track_caller]
    pub fn build(&mut self) -> io::Result<Runtime> {
        let clock = Clock::new(self.flavor == Flavor::CurrentThread, self.start_paused);
        let config = Config {
            id: Id::next(),
            name: self.name.clone(),
            hooks: self.hooks.clone(),
            event_interval: self.event_interval,
            global_queue_interval: self.global_queue_interval,
        };
        let blocking_pool =
            BlockingPool::new(self.thread_name.clone(), self.max_blocking_threads, self.thread_keep_alive, self.hooks.clone());
        let scheduler = match self.flavor {
            Flavor::CurrentThread => Scheduler::CurrentThread(current_thread::Shared::new(config, clock)?),
            Flavor::MultiThread => {
                let n = self.worker_threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
                Scheduler::MultiThread(multi_thread::Shared::new(n, config, clock)?)
            }
        };
        let handle = Handle { scheduler, blocking: blocking_pool.spawner().clone() };
        blocking_pool.set_handle(handle.clone());
        if let Scheduler::MultiThread(shared) = &handle.scheduler {
            shared.launch(&self.thread_name, &handle)?;
        }
        Ok(Runtime::from_parts(handle, blocking_pool))
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("thread_name", &self.thread_name)
            .field("name", &self.name)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_keep_alive", &self.thread_keep_alive)
            .field("event_interval", &self.event_interval)
            .field("global_queue_interval", &self.global_queue_interval)
            .field("start_paused", &self.start_paused)
            .finish_non_exhaustive()
    }
}
