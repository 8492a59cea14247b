//! The runtime: [`Builder`], [`Runtime`] and [`Handle`].
//!
//! Two flavors, as in tokio:
//!
//! * **multi-thread** ([`Builder::new_multi_thread`], the default of `Runtime::new`): worker
//!   threads with work-stealing run the tasks and park on the reactor's `EventPoll`;
//! * **current-thread** ([`Builder::new_current_thread`]): the thread in
//!   [`Runtime::block_on`] runs the tasks and parks on the `EventPoll` when there is nothing to
//!   run.
//!
//! Both defer a task that yields ([`yield_now`](crate::task::yield_now), or a spent
//! cooperative budget) until the driver has been polled: see `defer.rs`.

pub(crate) mod builder;
pub(crate) mod context;
mod current_thread;
pub(crate) mod defer;
mod handle;
pub(crate) mod metrics;

/// The task dump's types ([`Handle::dump`]).
pub mod dump {
    pub use crate::task::dump::{Dump, TaskDump, TaskState, WaitReason};
}
pub(crate) mod multi_thread;

pub use builder::Builder;
pub use context::EnterGuard;
pub use handle::{Handle, Id, RuntimeFlavor, TryCurrentError};
pub use metrics::RuntimeMetrics;

use crate::blocking::BlockingPool;
use crate::task::JoinHandle;
use handle::Scheduler;
use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

/// An async runtime: a scheduler, the reactor's `EventPoll` it parks on, timers, and the
/// [`spawn_blocking`](crate::task::spawn_blocking) pool.
///
/// Dropping it is [`shutdown_timeout`](Runtime::shutdown_timeout) with a 10 s bound: it drops
/// every task's future (in the dropping thread), fails every timer and I/O resource still held
/// outside the runtime, cancels the blocking closures that have not started, and waits for the
/// running ones to return — but never more than 10 s, so a stuck closure cannot hang the
/// process at exit; after that its thread is detached. The reactor is closed once the last
/// [`Handle`] (a detached thread holds one) is gone.
///
/// A runtime may be dropped anywhere blocking is allowed — including the destructor of a
/// thread-local — but not on a thread that drives asynchronous tasks (inside `block_on` or a
/// task): that would block the tasks of the outer runtime, so it panics, as in tokio, after
/// shutting down without waiting ([`shutdown_background`](Runtime::shutdown_background) is
/// the way to drop a runtime there).
pub struct Runtime {
    handle: Handle,
    blocking_pool: BlockingPool,
    /// `shutdown` ran (the `Drop` after `shutdown_timeout` does nothing).
    shut_down: bool,
}

impl Runtime {
    fn from_parts(handle: Handle, blocking_pool: BlockingPool) -> Runtime {
        Runtime { handle, blocking_pool, shut_down: false }
    }

    /// A multi-thread runtime with default settings (one worker per CPU).
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Runs `future` to completion on this thread, running spawned tasks meanwhile.
    ///
    /// # Panics
    ///
    /// When called on a thread that is already driving a runtime (inside `block_on` or a task).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on the runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on the runtime's blocking pool; see
    /// [`spawn_blocking`](crate::task::spawn_blocking).
    #[track_caller]
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
    #[track_caller]
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Shuts the runtime down, waiting at most `timeout` for running blocking closures.
    ///
    /// In order: every task's future is dropped (in this thread); every timer still held
    /// outside the runtime fails (its next poll panics: "a runtime context was found, but it is
    /// being shut down", as tokio's) and so does every I/O resource (its polls return an
    /// error); every [`spawn_blocking`](crate::task::spawn_blocking) closure that has not
    /// started is dropped without running (its `JoinHandle` yields a cancelled `JoinError`);
    /// then the call waits until the blocking pool's threads have exited — idle ones exit at
    /// once, busy ones when their closure returns — but at most `timeout`. Threads still
    /// running a closure after that are detached: they exit when the closure returns. Later
    /// `spawn` and `spawn_blocking` calls through a [`Handle`] get a cancelled `JoinHandle`.
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
    ///
    /// # Panics
    ///
    /// With a non-zero `timeout`, on a thread that drives asynchronous tasks (see
    /// [`Runtime`]), after shutting down without waiting.
    #[track_caller]
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(timeout);
    }

    /// Shuts the runtime down without waiting for running blocking closures: like
    /// [`shutdown_timeout`](Runtime::shutdown_timeout) with a zero timeout. Allowed anywhere,
    /// asynchronous code included.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    /// Shuts down the tasks, the timers and I/O, then the blocking pool (waiting at most
    /// `timeout`). Runs once: the `Drop` after `shutdown_timeout` returns at once.
    #[track_caller]
    fn shutdown(&mut self, timeout: Duration) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        // On a thread that runs tasks nothing may wait: shut down without waiting, then refuse
        // (unless the caller asked for no wait, or the thread is unwinding already).
        let in_async = context::is_driving();
        let refuse = in_async && !timeout.is_zero() && !std::thread::panicking();
        let timeout = if in_async { Duration::ZERO } else { timeout };
        // `None` in a thread-local's destructor: the shutdown below needs no context.
        let ctx = context::try_enter(self.handle.clone());
        match &self.handle.scheduler {
            Scheduler::CurrentThread(shared) => shared.shutdown(),
            Scheduler::MultiThread(shared) => shared.shutdown(timeout),
        }
        // Tasks are gone (their sockets deregistered, their timers cancelled); what is still
        // registered is held outside the runtime: its polls fail from now on instead of waiting
        // for a driver nobody drives.
        let driver = self.handle.driver();
        driver.shutdown_io();
        driver.shutdown_timers();
        self.blocking_pool.shutdown(timeout);
        drop(ctx);
        if refuse {
            panic!("{}", context::DROP_IN_ASYNC);
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(crate::blocking::DEFAULT_SHUTDOWN_TIMEOUT);
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match self.handle.runtime_flavor() {
            RuntimeFlavor::CurrentThread => "current_thread",
            RuntimeFlavor::MultiThread => "multi_thread",
        };
        f.debug_struct("Runtime").field("id", &self.handle.id()).field("flavor", &flavor).finish_non_exhaustive()
    }
}
