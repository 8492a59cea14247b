//! The blocking pool: the threads that run `spawn_blocking` closures.
//!
//! # Protocol
//!
//! Every closure becomes a task of the task core (a [`BlockingTask`] future bound to the pool's
//! own [`OwnedTasks`]), so it gets a [`JoinHandle`], panic capture and cancellation for free. The
//! pool is the task's scheduler ([`Spawner`] implements [`Schedule`]): `schedule` pushes the
//! task's `Notified` onto a FIFO queue and makes sure a thread will come for it; `release`
//! unlinks the task from the pool's `OwnedTasks` when it completes.
//!
//! One mutex guards [`State`]; one condvar (`Inner::condvar`) is where idle threads wait for
//! work, another (`Inner::shutdown_cv`) is where a shutdown waits for threads to exit.
//!
//! ```text
//!  spawn ──▶ starting ──▶ running a task ──▶ queue non-empty? ──yes──▶ running the next task
//!  (num_threads+1,         (pops the queue                 │ no
//!   num_starting+1)         under the lock)                ▼
//!                                               idle (num_idle+1): wait on the condvar
//!                       ◀── notified (num_notify-1) ───────┤ for at most keep_alive
//!                                                          │ keep-alive elapsed, or shutdown
//!                                                          ▼
//!                                               exit (num_threads-1, wake the shutdown)
//! ```
//!
//! Accounting. `num_threads` counts live threads (spawned, not yet exited); `num_idle` counts
//! threads waiting on the condvar that nobody has picked yet; `num_notify` counts idle threads
//! that were picked (and signalled) but have not woken yet; `num_starting` counts spawned threads
//! that have not taken the lock yet. The last two are threads *on their way* to the queue: each
//! will pop a task. The pool keeps `queue.len() <= num_notify + num_starting` whenever it can
//! (`Spawner::ensure_workers`, after every push): for every task beyond that it first signals an
//! idle thread (`num_idle -= 1, num_notify += 1, notify_one`), else spawns a thread if fewer than
//! `max_threads` are alive. Threads that finish a task pop the next one themselves, so they are
//! not counted as coming. A woken thread consumes one `num_notify` before anything else, so a
//! signal is never lost to a timeout or a spurious wake-up; a wake-up with `num_notify == 0` and
//! time left just waits again.
//!
//! Keep-alive. An idle thread waits at most `keep_alive` (measured from the moment it became
//! idle, spurious wake-ups do not extend it); if nobody signalled it by then it exits, so a burst
//! of blocking work does not leave hundreds of threads behind. The exiting thread moves its
//! `std::thread::JoinHandle` out of `State::workers` into `State::last_exited` and joins the one
//! it replaced (that thread is past its last lock, so the join is immediate): the bookkeeping of
//! exited threads stays bounded.
//!
//! Saturation. When `max_threads` threads are alive and none is idle, tasks wait in the queue, in
//! FIFO order, until a busy thread finishes its closure and pops the next one. `spawn_blocking`
//! itself never blocks and never fails.
//!
//! Spawn failure. If `std::thread::Builder::spawn` fails (a thread or memory limit), the task
//! stays queued: it is never dropped or lost. `ensure_workers` stops at the first failure and is
//! called again on every later push and by every thread each time it pops a task, so the spawn is
//! retried at the next `spawn_blocking` or as soon as a thread becomes free, and any alive thread
//! pops the task when it finishes its own. If no thread is alive at all, the task waits for the
//! next `spawn_blocking` on this runtime (which retries the spawn).
//!
//! Shutdown ([`BlockingPool::shutdown`], once; later calls return at once). Under the lock:
//! `shutdown = true` (no thread is spawned, no task queued any more), the queue is drained, the
//! thread handles are taken; all idle threads are woken and exit. Then the pool's `OwnedTasks` is
//! closed: every task that has not started is cancelled — its closure is dropped without running
//! and its `JoinHandle` resolves to a cancelled `JoinError` — and later `spawn_blocking` calls get a
//! cancelled `JoinHandle` right away. Closures already running cannot be interrupted: the shutdown
//! waits for their threads to exit, but at most `timeout`; threads still running after that are
//! detached and exit when their closure returns (its output still reaches its `JoinHandle`).

use super::task::BlockingTask;
use crate::driver::Unpark;
use crate::runtime::builder::Hooks;
use crate::runtime::Handle;
use crate::task::{Id, JoinHandle, Notified, OwnedTasks, Schedule, Task};
use crate::time::clock::Clock;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// Default upper bound on the number of blocking threads (as tokio).
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;

/// Default time an idle blocking thread waits for work before it exits (as tokio).
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// How long dropping a runtime waits for running blocking closures.
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// The pool, owned by the runtime: shuts it down when dropped (if the runtime did not first).
pub(crate) struct BlockingPool {
    spawner: Spawner,
}

/// A cloneable handle to the pool, held by every runtime [`Handle`] and by every blocking task
/// (as its scheduler).
#[derive(Clone)]
pub(crate) struct Spawner {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Idle threads wait here for work, keep-alive expiry or shutdown.
    condvar: Condvar,
    /// A shutdown waits here for `num_threads` to drop.
    shutdown_cv: Condvar,
    /// Every blocking task not yet completed (queued or running).
    owned: OwnedTasks<Spawner>,
    thread_name: String,
    max_threads: usize,
    keep_alive: Duration,
    /// The runtime's clock and driver, if the clock can be paused: every task inhibits the
    /// clock's auto-advance from `spawn_blocking` until it completes (its `release`), which
    /// then unparks the driver to reconsider (see `time/clock.rs`). Set by `set_handle`.
    auto_advance: std::sync::OnceLock<(Arc<Clock>, Unpark)>,
    /// The runtime's `on_thread_start` / `on_thread_stop` callbacks.
    hooks: Hooks,
    /// Test hook: the next this-many thread spawns fail as if the OS refused them.
    #[cfg(test)]
    fail_next_spawns: std::sync::atomic::AtomicUsize,
}

/// See the module docs for the meaning of the counters.
struct State {
    queue: VecDeque<Notified<Spawner>>,
    num_threads: usize,
    num_idle: usize,
    num_notify: usize,
    num_starting: usize,
    shutdown: bool,
    /// The runtime's handle, entered by every pool thread (so `Handle::current`, `spawn`, timers
    /// work in blocking closures). Taken at shutdown, which breaks the `Handle` → `Spawner` →
    /// `Handle` reference cycle.
    handle: Option<Handle>,
    /// The threads that are alive (or exiting), by worker id.
    workers: HashMap<usize, thread::JoinHandle<()>>,
    /// The last thread that exited on keep-alive, joined by the next one that does (or by shutdown).
    last_exited: Option<thread::JoinHandle<()>>,
    next_worker_id: usize,
}

impl BlockingPool {
    /// A pool with no thread yet. Threads are named `thread_name`; at most `max_threads` are
    /// alive at once (at least 1); idle ones exit after `keep_alive`. It cannot start threads
    /// before [`set_handle`](BlockingPool::set_handle).
    pub(crate) fn new(thread_name: String, max_threads: usize, keep_alive: Duration, hooks: Hooks) -> BlockingPool {
        let inner = Inner {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                num_threads: 0,
                num_idle: 0,
                num_notify: 0,
                num_starting: 0,
                shutdown: false,
                handle: None,
                workers: HashMap::new(),
                last_exited: None,
                next_worker_id: 0,
            }),
            condvar: Condvar::new(),
            shutdown_cv: Condvar::new(),
            owned: OwnedTasks::new(),
            thread_name,
            max_threads: max_threads.max(1),
            keep_alive,
            auto_advance: std::sync::OnceLock::new(),
            hooks,
            #[cfg(test)]
            fail_next_spawns: std::sync::atomic::AtomicUsize::new(0),
        };
        BlockingPool { spawner: Spawner { inner: Arc::new(inner) } }
    }

    /// Gives the pool the handle of the runtime its threads run in.
    pub(crate) fn set_handle(&self, handle: Handle) {
        let clock = handle.driver().timers().clock();
        if clock.can_pause() {
            let _ = self.spawner.inner.auto_advance.set((clock.clone(), handle.driver().unpark_handle()));
        }
        self.spawner.inner.lock().handle = Some(handle);
    }

    pub(crate) fn spawner(&self) -> &Spawner {
        &self.spawner
    }

    /// Shuts the pool down (see the module docs): cancels every task not started, then waits at
    /// most `timeout` for the threads to exit, detaching those still running a closure. Returns at
    /// once if the pool was already shut down.
    pub(crate) fn shutdown(&self, timeout: Duration) {
        let inner = &self.spawner.inner;
        let (queued, workers, last_exited, handle) = {
            let mut state = inner.lock();
            if state.shutdown {
                return;
            }
            state.shutdown = true;
            let queued: Vec<_> = state.queue.drain(..).collect();
            (queued, std::mem::take(&mut state.workers), state.last_exited.take(), state.handle.take())
        };
        inner.condvar.notify_all();
        // Only references: the owner list still holds every task.
        drop(queued);
        // Cancels the tasks that are not running: their closures are dropped here.
        inner.owned.close_and_shutdown_all();
        drop(handle);

        // A blocking closure may drop the runtime: never wait for (or join) our own thread.
        let me = thread::current().id();
        let own = usize::from(workers.values().any(|h| h.thread().id() == me));
        let deadline = Instant::now().checked_add(timeout);
        let mut state = inner.lock();
        while state.num_threads > own {
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                break;
            }
            state = inner.shutdown_cv.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        let all_exited = state.num_threads <= own;
        drop(state);
        for thread in last_exited.into_iter().chain(workers.into_values()) {
            // Exited threads (num_threads dropped: they are past their last lock) are joined;
            // the others are detached by dropping their handle.
            if thread.thread().id() != me && (all_exited || thread.is_finished()) {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for BlockingPool {
    fn drop(&mut self) {
        self.shutdown(DEFAULT_SHUTDOWN_TIMEOUT);
    }
}

impl Spawner {
    /// Runs `func` on a pool thread; see [`spawn_blocking`](crate::task::spawn_blocking).
    #[track_caller]
    pub(crate) fn spawn_blocking<F, R>(&self, func: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        if let Some((clock, _)) = self.inner.auto_advance.get() {
            // Until `release`, which every bound task reaches exactly once (even refused).
            clock.inhibit_auto_advance();
        }
        // A closed list (pool shut down) cancels the task at once: `None`.
        let (join, notified) = self.inner.owned.bind(BlockingTask::new(func), self.clone(), Id::next());
        if let Some(task) = notified {
            self.schedule(task);
        }
        join
    }

    /// Signals idle threads, else spawns threads, until every queued task has a thread coming
    /// for it, the pool is saturated, or a spawn failed (see the module docs).
    fn ensure_workers(&self, state: &mut State) {
        while !state.shutdown && state.queue.len() > state.num_notify + state.num_starting {
            if state.num_idle > 0 {
                state.num_idle -= 1;
                state.num_notify += 1;
                self.inner.condvar.notify_one();
            } else if state.num_threads < self.inner.max_threads {
                if self.spawn_thread(state).is_err() {
                    // The task stays queued; retried at the next push or pop.
                    break;
                }
            } else {
                // Saturated: the task waits in the queue for a busy thread.
                break;
            }
        }
    }

    fn spawn_thread(&self, state: &mut State) -> io::Result<()> {
        let Some(handle) = state.handle.clone() else {
            return Err(io::Error::other("the blocking pool has no runtime handle"));
        };
        #[cfg(test)]
        {
            use std::sync::atomic::Ordering;
            let fail = &self.inner.fail_next_spawns;
            if fail.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                return Err(io::Error::other("injected thread spawn failure"));
            }
        }
        let id = state.next_worker_id;
        let spawner = self.clone();
        let thread = thread::Builder::new().name(self.inner.thread_name.clone()).spawn(move || spawner.run_worker(handle, id))?;
        state.next_worker_id += 1;
        state.num_threads += 1;
        state.num_starting += 1;
        state.workers.insert(id, thread);
        Ok(())
    }

    /// The body of a pool thread.
    fn run_worker(self, handle: Handle, id: usize) {
        let _ctx = handle.enter();
        Hooks::run(&self.inner.hooks.thread_start);
        self.work(id);
        Hooks::run(&self.inner.hooks.thread_stop);
    }

    /// The loop of a pool thread: runs tasks, idles, exits on keep-alive or shutdown.
    fn work(&self, id: usize) {
        let inner = &*self.inner;
        let mut state = inner.lock();
        state.num_starting -= 1;
        'work: loop {
            while let Some(task) = state.queue.pop_front() {
                // Retry a spawn that failed earlier, if tasks are still waiting for a thread.
                self.ensure_workers(&mut state);
                drop(state);
                // Never unwinds: the task core catches the closure's panic into the JoinError.
                task.run();
                state = inner.lock();
            }
            if state.shutdown {
                break;
            }
            // Idle until signalled, shut down, or the keep-alive elapses.
            state.num_idle += 1;
            let deadline = Instant::now().checked_add(inner.keep_alive);
            loop {
                let left = match deadline {
                    Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                    None => Duration::MAX,
                };
                if !left.is_zero() {
                    state = inner.condvar.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
                }
                if state.num_notify > 0 {
                    // Whoever signalled already took us out of `num_idle`.
                    state.num_notify -= 1;
                    continue 'work;
                }
                if state.shutdown || deadline.is_some_and(|d| Instant::now() >= d) {
                    state.num_idle -= 1;
                    break 'work;
                }
            }
        }
        state.num_threads -= 1;
        let previous = match state.workers.remove(&id) {
            Some(me) => state.last_exited.replace(me),
            // Shut down: the shutdown took every handle.
            None => None,
        };
        drop(state);
        inner.shutdown_cv.notify_all();
        if let Some(previous) = previous {
            let _ = previous.join();
        }
    }

    /// The number of alive pool threads.
    #[cfg(test)]
    pub(crate) fn num_threads(&self) -> usize {
        self.inner.lock().num_threads
    }

    /// The number of idle pool threads (waiting for work, not yet signalled).
    #[cfg(test)]
    pub(crate) fn num_idle(&self) -> usize {
        self.inner.lock().num_idle
    }

    /// The number of tasks waiting in the queue.
    #[cfg(test)]
    pub(crate) fn queue_len(&self) -> usize {
        self.inner.lock().queue.len()
    }

    /// Makes the next `n` thread spawns fail as if the OS refused them.
    #[cfg(test)]
    pub(crate) fn fail_next_spawns(&self, n: usize) {
        self.inner.fail_next_spawns.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Schedule for Spawner {
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        if let Some((clock, unpark)) = self.inner.auto_advance.get() {
            clock.allow_auto_advance();
            unpark.unpark();
        }
        self.inner.owned.remove(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        let mut state = self.inner.lock();
        if state.shutdown {
            drop(state);
            // Just a reference: the shutdown's `close_and_shutdown_all` cancels the task.
            drop(task);
            return;
        }
        state.queue.push_back(task);
        self.ensure_workers(&mut state);
    }
}
