//! The runtime: [`Builder`], [`Runtime`] and [`Handle`].
//!
//! Today the runtime has one flavor, the current-thread scheduler: the thread in
//! [`Runtime::block_on`] runs the spawned tasks and parks on the reactor's `EventPoll` when
//! there is nothing to run. The multi-thread scheduler is the next step of this crate; until it
//! lands, [`Builder::new_multi_thread`] is not offered rather than faked.

pub(crate) mod context;
mod current_thread;

pub use context::EnterGuard;
use current_thread::Shared;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::task::JoinHandle;

/// Configures and builds a [`Runtime`].
///
/// ```
/// let rt = executor::runtime::Builder::new_current_thread().enable_all().build()?;
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Builder {
    thread_name: String,
}

impl Builder {
    /// A builder for a runtime whose tasks all run on the thread that calls `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder { thread_name: "runtime-worker".to_string() }
    }

    /// Accepted for familiarity with tokio: the I/O and timer drivers are always on.
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// The name of threads the runtime starts.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.thread_name = name.into();
        self
    }

    /// Builds the runtime: creates its `EventPoll` and timers.
    pub fn build(&mut self) -> io::Result<Runtime> {
        Ok(Runtime { handle: Handle { shared: Shared::new()? } })
    }
}

/// An async runtime: a scheduler, the reactor's `EventPoll` it parks on, and timers.
///
/// Dropping it drops every task's future (in the dropping thread) and closes the reactor.
pub struct Runtime {
    handle: Handle,
}

impl Runtime {
    /// A current-thread runtime with default settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_current_thread().build()
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

    /// A handle to the runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this runtime the current one (for `spawn`, `sleep`, …) until the guard is dropped.
    pub fn enter(&self) -> EnterGuard {
        self.handle.enter()
    }

    /// Shuts the runtime down: drops every task. The current-thread runtime has no blocking
    /// pool yet, so nothing can outlive the call and `timeout` is not waited on.
    pub fn shutdown_timeout(self, timeout: Duration) {
        let _ = timeout;
        drop(self);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ctx = self.handle.enter();
        self.handle.shared.shutdown();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime").field("flavor", &"current_thread").finish_non_exhaustive()
    }
}

/// A handle to a runtime: spawn onto it, or enter its context, from anywhere.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
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
        self.shared.spawn(future)
    }

    /// Runs `future` to completion on this thread (see [`Runtime::block_on`]).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _ctx = self.enter();
        self.shared.block_on(future)
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
