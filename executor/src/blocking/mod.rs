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

use crate::runtime::context::{self, Driving};
use crate::runtime::Handle;
use crate::task::JoinHandle;

/// The panic message of [`block_in_place`] where it cannot hand the thread's work off (tokio's,
/// so tests port).
const BLOCK_IN_PLACE_NEEDS_MULTI_THREAD: &str = "can call blocking only when running on the multi-threaded runtime";

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

/// Runs the blocking function `f` on the current thread, after handing the thread's other work
/// to another thread, so that blocking here does not stall the runtime.
///
/// On a worker of the multi-thread runtime, the worker's core — its local run queue and LIFO
/// slot — is handed to a thread of the blocking pool, which goes on running the queued tasks,
/// I/O and timers while `f` blocks this one. When `f` returns, this thread takes the core back
/// if no thread has started on it yet; otherwise the current task finishes its poll here and
/// the thread leaves the runtime (the worker lives on in the other thread). Other code of the
/// *same* task (a `join!` branch, for instance) is suspended while `f` runs.
///
/// `f` runs outside the runtime's driving state: it may block, or
/// [`Handle::block_on`] a future. Its work is not counted against the task's cooperative
/// budget. Called on the multi-thread runtime's `block_on` thread, on a blocking-pool thread,
/// inside another `block_in_place` or outside any runtime, `f` simply runs.
///
/// ```
/// use executor::task::block_in_place;
///
/// let rt = executor::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
/// let sum = rt.block_on(rt.spawn(async {
///     block_in_place(|| {
///         std::thread::sleep(std::time::Duration::from_millis(1)); // blocks this thread only
///         (1..=10).sum::<u32>()
///     })
/// }))
/// .unwrap();
/// assert_eq!(sum, 55);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// On a current-thread runtime (its one thread cannot be handed off) and inside a
/// [`LocalSet`](crate::task::LocalSet) (its tasks must stay on this thread), with tokio's
/// message "can call blocking only when running on the multi-threaded runtime".
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    match context::driving() {
        Driving::No => return f(),
        Driving::Yes { allow_block_in_place: false } => panic!("{BLOCK_IN_PLACE_NEEDS_MULTI_THREAD}"),
        Driving::Yes { allow_block_in_place: true } => {}
    }
    // Dropped in reverse order, also on unwind: take the core back (if it waits), then drive
    // again.
    let _reclaim = crate::runtime::multi_thread::hand_off_core();
    let _not_driving = context::set_driving(Driving::No);
    crate::task::coop::with_unconstrained(f)
}
