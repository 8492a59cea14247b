//! [`Handle`]: spawn onto a runtime, or enter its context, from anywhere; the runtime's [`Id`]
//! and [`RuntimeFlavor`].

use super::context::{self, EnterGuard, Missing};
use super::{current_thread, multi_thread};
use crate::blocking::Spawner;
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A handle to a runtime: spawn onto it, or enter its context, from anywhere.
#[derive(Clone)]
pub struct Handle {
    pub(super) scheduler: Scheduler,
    pub(crate) blocking: Spawner,
}

/// The scheduler of a runtime, by flavor.
#[derive(Clone)]
pub(super) enum Scheduler {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

/// The flavor of a runtime ([`Handle::runtime_flavor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// Tasks run on the thread in `block_on` ([`Builder::new_current_thread`](super::Builder::new_current_thread)).
    CurrentThread,
    /// Tasks run on worker threads ([`Builder::new_multi_thread`](super::Builder::new_multi_thread)).
    MultiThread,
}

/// An opaque identifier of a runtime, unique among the runtimes of the process
/// ([`Handle::id`]).
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq, Ord, PartialOrd)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Id(NonZeroU64::new(NEXT.fetch_add(1, Ordering::Relaxed)).expect("2^64 runtimes were never built"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Handle {
    /// The runtime of the current context.
    ///
    /// # Panics
    ///
    /// Outside a runtime context, with a message that says so and names the caller's line.
    #[track_caller]
    pub fn current() -> Handle {
        context::expect_current()
    }

    /// The runtime of the current context, or an error outside of one.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::current().map_err(TryCurrentError)
    }

    /// Spawns a task on this runtime.
    #[track_caller]
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

    fn config(&self) -> &super::builder::Config {
        match &self.scheduler {
            Scheduler::CurrentThread(shared) => shared.config(),
            Scheduler::MultiThread(shared) => shared.config(),
        }
    }

    /// Runs a blocking closure on the runtime's blocking pool; see
    /// [`spawn_blocking`](crate::task::spawn_blocking).
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, func: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.blocking.spawn_blocking(func)
    }

    /// Runs `future` to completion on this thread (see [`Runtime::block_on`](super::Runtime::block_on)).
    ///
    /// # Panics
    ///
    /// When called on a thread that is already driving a runtime (inside `block_on` or a task).
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        // `block_in_place` may hand a multi-thread runtime's work to another thread, not the
        // current-thread runtime's.
        let driving = context::enter_driving(matches!(self.scheduler, Scheduler::MultiThread(_)));
        let _ctx = self.enter();
        match &self.scheduler {
            Scheduler::CurrentThread(shared) => shared.block_on(future, driving),
            Scheduler::MultiThread(shared) => shared.block_on(future, driving),
        }
    }

    /// Makes this runtime the current one until the guard is dropped (guards must be dropped in
    /// the reverse order of their creation).
    ///
    /// # Panics
    ///
    /// In the destructor of a thread-local, once the runtime context's own thread-local is gone.
    #[track_caller]
    pub fn enter(&self) -> EnterGuard<'_> {
        match context::try_enter(self.clone()) {
            Some(guard) => guard,
            None => panic!("{}", context::THREAD_LOCAL_DESTROYED),
        }
    }

    /// The flavor of the runtime.
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match self.scheduler {
            Scheduler::CurrentThread(_) => RuntimeFlavor::CurrentThread,
            Scheduler::MultiThread(_) => RuntimeFlavor::MultiThread,
        }
    }

    /// The runtime's id.
    ///
    /// ```
    /// let a = executor::runtime::Builder::new_current_thread().build()?;
    /// let b = executor::runtime::Builder::new_current_thread().build()?;
    /// assert_ne!(a.handle().id(), b.handle().id());
    /// assert_eq!(a.handle().id(), a.handle().clone().id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> Id {
        self.config().id
    }

    /// The runtime's metrics: tokio's counters (workers, tasks, queues, parks, polls, steals,
    /// busy time) and the reactor's (see [`RuntimeMetrics`](super::RuntimeMetrics)). Cheap: it
    /// only clones the handle; each method reads the counters when called.
    pub fn metrics(&self) -> super::RuntimeMetrics {
        super::RuntimeMetrics::new(self.clone())
    }

    /// A snapshot of every task of the runtime: id, spawn location, state, poll count, time
    /// since its last poll, and what it waits on — which file descriptor and direction, which
    /// timer, which task's `JoinHandle` (see [`Dump`](super::dump::Dump)). "Where is my task
    /// stuck", on stable Rust. It takes the runtime's locks one at a time and allocates; the
    /// tasks keep running meanwhile.
    pub fn dump(&self) -> super::dump::Dump {
        match &self.scheduler {
            Scheduler::CurrentThread(s) => super::dump::Dump::collect(s.owned(), s.driver()),
            Scheduler::MultiThread(s) => super::dump::Dump::collect(s.owned(), s.driver()),
        }
    }

    /// The runtime's name ([`Builder::name`](super::Builder::name)), if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.config().name.as_deref()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("id", &self.id()).field("flavor", &self.runtime_flavor()).finish_non_exhaustive()
    }
}

/// The error of [`Handle::try_current`] outside a runtime context.
#[derive(Debug)]
pub struct TryCurrentError(Missing);

impl TryCurrentError {
    /// No runtime was entered on this thread.
    pub fn is_missing_context(&self) -> bool {
        self.0 == Missing::NoContext
    }

    /// The thread's locals are being destroyed (the call came from a thread-local's destructor).
    pub fn is_thread_local_destroyed(&self) -> bool {
        self.0 == Missing::Destroyed
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Missing::NoContext => context::NO_RUNTIME,
            Missing::Destroyed => context::THREAD_LOCAL_DESTROYED,
        })
    }
}

impl std::error::Error for TryCurrentError {}
