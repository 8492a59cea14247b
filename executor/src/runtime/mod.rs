//! The runtime: [`Builder`], [`Runtime`] and [`Handle`].
//!
//! Two flavors, as in tokio:
//!
//! * **multi-thread** ([`Builder::new_multi_thread`], the default of `Runtime::new`): worker
//!   threads with work-stealing run the tasks and park on the reactor's `EventPoll`;
//! * **current-thread** ([`Builder::new_current_thread`]): the thread in
//!   [`Runtime::block_on`] runs the tasks and parks on the `EventPoll` when there is nothing to
//!   run.

pub(crate) mod context;
mod current_thread;
pub(crate) mod multi_thread;

pub use context::EnterGuard;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::blocking::{BlockingPool, Spawner};
use crate::task::JoinHandle;
use crate::time::clock::Clock;

/// Configures and builds a [`Runtime`].
///
/// ```
/// let rt = executor::runtime::Builder::new_current_thread().enable_all().build()?;
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    thread_name: String,
    max_blocking_threads: usize,
    thread_keep_alive: Duration,
    start_paused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Builder {
    fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            thread_name: "runtime-worker".to_string(),
            max_blocking_threads: crate::blocking::DEFAULT_MAX_THREADS,
            thread_keep_alive: crate::blocking::DEFAULT_KEEP_ALIVE,
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
    /// If `n` is 0.
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        assert!(n > 0, "worker_threads cannot be 0");
        self.worker_threads = Some(n);
        self
    }

    /// Accepted for familiarity with tokio: the I/O and timer drivers are always on.
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// The name of threads the runtime starts (the [`spawn_blocking`](crate::task::spawn_blocking)
    /// pool's threads included).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.thread_name = name.into();
        self
    }

    /// The most threads the [`spawn_blocking`](crate::task::spawn_blocking) pool runs at once
    /// (512 by default, as tokio). They are started on demand; when all are busy, further
    /// closures wait in a FIFO queue until one is free.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
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
    pub fn build(&mut self) -> io::Result<Runtime> {
        let clock = Clock::new(self.flavor == Flavor::CurrentThread, self.start_paused);
        let blocking_pool = BlockingPool::new(self.thread_name.clone(), self.max_blocking_threads, self.thread_keep_alive);
        let scheduler = match self.flavor {
            Flavor::CurrentThread => Scheduler::CurrentThread(current_thread::Shared::new(clock)?),
            Flavor::MultiThread => {
                let n = self.worker_threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
                Scheduler::MultiThread(multi_thread::Shared::new(n, clock)?)
            }
        };
        let handle = Handle { scheduler, blocking: blocking_pool.spawner().clone() };
        blocking_pool.set_handle(handle.clone());
        if let Scheduler::MultiThread(shared) = &handle.scheduler {
            shared.launch(&self.thread_name, &handle)?;
        }
        Ok(Runtime { handle, blocking_pool })
    }
}

/// An async runtime: a scheduler, the reactor's `EventPoll` it parks on, timers, and the
/// [`spawn_blocking`](crate::task::spawn_blocking) pool.
///
/// Dropping it is [`shutdown_timeout`](Runtime::shutdown_timeout) with a 10 s bound: it drops
/// every task's future (in the dropping thread), cancels the blocking closures that have not
/// started, and waits for the running ones to return — but never more than 10 s, so a stuck
/// closure cannot hang the process at exit; after that its thread is detached. The reactor is
/// closed once the last [`Handle`] (a detached thread holds one) is gone.
pub struct Runtime {
    handle: Handle,
    blocking_pool: BlockingPool,
}

impl Runtime {
    /// A multi-thread runtime with default settings (one worker per CPU).
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Runs `future` to completion on this thread, running spawned tasks meanwhile.
    ///
    /// # Panics
    ///
    /// When called on a thread that is already driving a runtime (inside `block_on` or a task).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on the runtime.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on the runtime's blocking pool; see
    /// [`spawn_blocking`](crate::task::spawn_blocking).
    pub fn spawn_blocking<F, R>(&self, func: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(func)
    }

    /// A handle to the runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the current one (for `spawn`, `sleep`, …) until the guard is dropped.
    pub fn enter(&self) -> EnterGuard {
        self.handle.enter()
    }

    /// Shuts the runtime down, waiting at most `timeout` for running blocking closures.
    ///
    /// In order: every task's future is dropped (in this thread); every
    /// [`spawn_blocking`](crate::task::spawn_blocking) closure that has not started is dropped
    /// without running (its `JoinHandle` yields a cancelled `JoinError`); then the call waits
    /// until the blocking pool's threads have exited — idle ones exit at once, busy ones when
    /// their closure returns — but at most `timeout`. Threads still running a closure after that
    /// are detached: they exit when the closure returns. Later `spawn` and `spawn_blocking` calls
    /// through a [`Handle`] get a cancelled `JoinHandle`.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let rt = executor::Runtime::new()?;
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// rt.spawn_blocking(move || rx.recv()); // stuck until `tx` is used or dropped
    /// let start = Instant::now();
    /// rt.shutdown_timeout(Duration::from_millis(50));
    /// assert!(start.elapsed() < Duration::from_secs(5));
    /// drop(tx); // the detached thread now returns and exits
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(timeout);
    }

    /// Shuts the runtime down without waiting for running blocking closures: like
    /// [`shutdown_timeout`](Runtime::shutdown_timeout) with a zero timeout.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    /// Shuts down the tasks, then the blocking pool (waiting at most `timeout`). Idempotent: the
    /// `Drop` after `shutdown_timeout` returns at once.
    fn shutdown(&mut self, timeout: Duration) {
        let _ctx = self.handle.enter();
        match &self.handle.scheduler {
            Scheduler::CurrentThread(shared) => shared.shutdown(),
            Scheduler::MultiThread(shared) => shared.shutdown(timeout),
        }
        // Tasks are gone (their sockets deregistered); what is still registered is held outside
        // the runtime: its polls fail from now on instead of waiting for a reactor nobody drives.
        self.handle.driver().shutdown_io();
        self.blocking_pool.shutdown(timeout);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(crate::blocking::DEFAULT_SHUTDOWN_TIMEOUT);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match self.handle.scheduler {
            Scheduler::CurrentThread(_) => "current_thread",
            Scheduler::MultiThread(_) => "multi_thread",
        };
        f.debug_struct("Runtime").field("flavor", &flavor).finish_non_exhaustive()
    }
}

/// A handle to a runtime: spawn onto it, or enter its context, from anywhere.
#[derive(Clone)]
pub struct Handle {
    scheduler: Scheduler,
    pub(crate) blocking: Spawner,
}

/// The scheduler of a runtime, by flavor.
#[derive(Clone)]
enum Scheduler {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

impl Handle {
    /// The runtime of the current context.
    ///
    /// # Panics
    ///
    /// Outside a runtime context, with a message that says so.
    pub fn current() -> Handle {
        match context::try_current() {
            Some(h) => h,
            None => panic!("{}", context::NO_RUNTIME),
        }
    }

    /// The runtime of the current context, or an error outside of one.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::try_current().ok_or(TryCurrentError(()))
    }

    /// Spawns a task on this runtime.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.scheduler {
            Scheduler::CurrentThread(shared) => shared.spawn(future),
            Scheduler::MultiThread(shared) => shared.spawn(future),
        }
    }

    /// The runtime's driver (timers, the reactor).
    pub(crate) fn driver(&self) -> &crate::driver::Driver {
        match &self.scheduler {
            Scheduler::CurrentThread(shared) => shared.driver(),
            Scheduler::MultiThread(shared) => shared.driver(),
        }
    }

    /// Runs a blocking closure on the runtime's blocking pool; see
    /// [`spawn_blocking`](crate::task::spawn_blocking).
    pub fn spawn_blocking<F, R>(&self, func: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.blocking.spawn_blocking(func)
    }

    /// Runs `future` to completion on this thread (see [`Runtime::block_on`]).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _ctx = self.enter();
        match &self.scheduler {
            Scheduler::CurrentThread(shared) => shared.block_on(future),
            Scheduler::MultiThread(shared) => shared.block_on(future),
        }
    }

    /// Makes this runtime the current one until the guard is dropped.
    pub fn enter(&self) -> EnterGuard {
        context::enter(self.clone())
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// The error of [`Handle::try_current`] outside a runtime context.
#[derive(Debug)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(context::NO_RUNTIME)
    }
}

impl std::error::Error for TryCurrentError {}
