//! `spawn_blocking`: run blocking or CPU-heavy closures on a pool of threads next to the runtime,
//! so that they never stall the threads that drive asynchronous tasks.
//!
//! `pool.rs` holds the pool and documents its protocol (threads, keep-alive, saturation, spawn
//! failures, shutdown); `task.rs` the future a closure becomes so the task core runs it.

mod pool;
mod task;

#[cfg(test)]
mod tests;

pub(crate) use pool::{BlockingPool, Spawner, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_THREADS, DEFAULT_SHUTDOWN_TIMEOUT};

use crate::runtime::Handle;
use crate::task::JoinHandle;

/// Runs `func` on a thread of the current runtime's blocking pool and returns a [`JoinHandle`] to
/// its result.
///
/// Use it for code that blocks (file I/O, a synchronous client, a mutex held for long) or
/// computes for long: such code must not run inside an asynchronous task, where it would stop
/// the runtime's thread from running other tasks, I/O and timers.
///
/// * The closure runs inside the runtime's context: [`Handle::current`], [`spawn`](crate::spawn)
///   and timers work from it, and it may [`Handle::block_on`] a future.
/// * If it panics, awaiting the handle yields a [`JoinError`](crate::task::JoinError) for which
///   `is_panic()` is true.
/// * The pool starts threads on demand, up to
///   [`Builder::max_blocking_threads`](crate::runtime::Builder::max_blocking_threads) (512 by
///   default); a thread idle for
///   [`Builder::thread_keep_alive`](crate::runtime::Builder::thread_keep_alive) (10 s) exits. When
///   all threads are busy, the closure waits in a FIFO queue until one is free: this call never
///   blocks. If the OS refuses to start a thread, the closure stays queued and is never lost: an
///   alive thread runs it when it is free, and the spawn is retried at the next `spawn_blocking`.
/// * [`abort`](JoinHandle::abort) cancels a closure that has not started; one that runs is not
///   interrupted.
/// * When the runtime shuts down, closures that have not started are dropped without running
///   (their handles yield a cancelled `JoinError`), and closures called after that are dropped at
///   once. Running closures are waited for, within a bound: see
///   [`Runtime::shutdown_timeout`](crate::Runtime::shutdown_timeout).
///
/// ```
/// let rt = executor::Runtime::new()?;
/// let len = rt.block_on(async {
///     let h = executor::task::spawn_blocking(|| "blocking work".len());
///     h.await.unwrap()
/// });
/// assert_eq!(len, 13);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// Outside a runtime context, with the same message as [`spawn`](crate::spawn) (naming the
/// caller's line).
#[track_caller]
pub fn spawn_blocking<F, R>(func: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Handle::current().spawn_blocking(func)
}
