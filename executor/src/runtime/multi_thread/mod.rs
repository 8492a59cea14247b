//! The multi-thread scheduler: `N` workers, each with a bounded local run queue (stealable, see
//! `scheduler::queue`) and a LIFO slot, a global inject queue, work stealing, and idle workers
//! parked on the reactor's `EventPoll`.
//!
//! Where a runnable task goes:
//!
//! ```text
//!   woken / spawned on a worker ──▶ that worker's LIFO slot (the previous occupant moves to the
//!                                   back of its local queue, and an idle worker may be woken)
//!   yield_now on a worker ──────▶ deferred: the back of that worker's local queue after its
//!                                   next driver poll (`runtime/defer.rs`)
//!   woken / spawned elsewhere ──▶ inject queue, then one parked worker is woken
//!   local queue full ───────────▶ half of it moves to the inject queue
//! ```
//!
//! Where a worker finds work (`worker::next_task`): the inject queue every `global_interval`
//! ticks (self-tuned to about 200 µs of polling, `stats.rs`); the LIFO slot, at most `MAX_LIFO_POLLS` times in a row (so two tasks that keep waking
//! each other cannot starve the rest: tokio#4941); its local queue; the inject queue; then it
//! *searches*: steals half of another worker's queue. Every `event_interval` ticks it polls the
//! driver without blocking, so I/O and timers are served even while queues are full.
//!
//! Parking (`park.rs`, `idle.rs`): a worker with nothing to do sleeps in the driver — the
//! reactor's `EventPoll` — if no other worker does, else on its own parker. So the runtime has
//! at most one waiter on the `EventPoll`: when the OS reports readiness, that worker returns,
//! runs the tasks it woke (LIFO slot, local queue) and polls again; nothing is handed to another
//! thread. It wakes another worker only when it holds more runnable work than it can start.
//!
//! ```text
//!   worker 0: park ── driver lock won ── EventPoll::harvest ── OS epoll_wait   (I/O, timers)
//!   worker 1: park ── driver lock taken ── its parker (futex)                  (new work only)
//!
//!   new task elsewhere ──▶ push, then Idle::worker_to_notify ──▶ parker.unpark():
//!                          a futex wake, or one UserEvent trigger (an eventfd write) for the
//!                          worker in the driver; no system call when nobody sleeps
//! ```

mod core_slot;
mod idle;
mod park;
mod stats;
mod worker;

pub(crate) use worker::hand_off_core;

use super::builder::{Config, Hooks};
use super::context::DrivingGuard;
use super::metrics::worker::WorkerMetrics;
use crate::driver::Driver;
use crate::scheduler::queue::{self, Overflow, Steal};
use crate::task::{JoinHandle, Notified, OwnedTasks, Schedule, Task};
use core_slot::CoreSlot;
use idle::Idle;
use park::{DriverLock, Parker};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

type Task_ = Notified<Arc<Shared>>;

/// State shared by the workers, the handles and the tasks (the tasks' scheduler).
pub(crate) struct Shared {
    /// Other workers' view of each worker's local queue.
    remotes: Box<[Steal<Task_>]>,
    inject: Mutex<VecDeque<Task_>>,
    /// Length of `inject`, readable without the lock.
    inject_len: AtomicUsize,
    idle: Idle,
    /// Each worker's parker, by worker index.
    parkers: Box<[Parker]>,
    owned: OwnedTasks<Arc<Shared>>,
    driver: Driver,
    /// Held by the one worker that sleeps in (or polls) the driver.
    driver_lock: DriverLock,
    shutdown: AtomicBool,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    /// Each worker's core while no thread runs it: until `launch`'s threads take them, and
    /// while `block_in_place` hands one to another thread (see `worker.rs`).
    cores: Box<[CoreSlot<Box<worker::Core>>]>,
    config: Config,
    /// Each worker's counters, by worker index, each written by its worker only
    /// (`runtime/metrics/`).
    metrics: Box<[WorkerMetrics]>,
}

impl Shared {
    /// The shared state of `workers` workers; [`launch`](Self::launch) starts them.
    pub(crate) fn new(workers: usize, config: Config, clock: crate::time::clock::Clock) -> io::Result<Arc<Shared>> {
        let mut remotes = Vec::with_capacity(workers);
        let mut cores = Vec::with_capacity(workers);
        for index in 0..workers {
            let (steal, local) = queue::local();
            remotes.push(steal);
            cores.push(CoreSlot::new(Some(worker::Core::new(index, local, config.global_queue_interval))));
        }
        Ok(Arc::new(Shared {
            remotes: remotes.into_boxed_slice(),
            inject: Mutex::new(VecDeque::new()),
            inject_len: AtomicUsize::new(0),
            idle: Idle::new(workers),
            parkers: (0..workers).map(|_| Parker::new()).collect(),
            owned: OwnedTasks::new(),
            driver: Driver::new(workers, clock)?,
            driver_lock: DriverLock::default(),
            shutdown: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            cores: cores.into_boxed_slice(),
            config,
            metrics: (0..workers).map(|_| WorkerMetrics::default()).collect(),
        }))
    }

    /// Starts the worker threads, named `name`, each in the context of `handle`.
    pub(crate) fn launch(self: &Arc<Self>, name: &str, handle: &crate::runtime::Handle) -> io::Result<()> {
        for index in 0..self.cores.len() {
            let s = self.clone();
            let handle = handle.clone();
            let spawned = thread::Builder::new().name(name.to_string()).spawn(move || {
                let _ctx = handle.enter();
                let hooks = s.config.hooks.clone();
                Hooks::run(&hooks.thread_start);
                worker::run(s, index, handle.clone());
                Hooks::run(&hooks.thread_stop);
            });
            match spawned {
                Ok(t) => self.threads.lock().unwrap_or_else(PoisonError::into_inner).push(t),
                Err(e) => {
                    self.stop_workers(Duration::from_secs(1));
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    pub(crate) fn driver(&self) -> &Driver {
        &self.driver
    }

    /// Takes worker `index`'s core out of its slot to run it on this thread (which the worker's
    /// parker now names).
    fn take_core(&self, index: usize) -> Option<Box<worker::Core>> {
        self.cores[index].take(&self.parkers[index])
    }

    /// Puts a core nobody runs in its slot.
    fn put_core(&self, core: Box<worker::Core>) {
        self.cores[core.index()].put(core);
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn metrics(&self) -> &[WorkerMetrics] {
        &self.metrics
    }

    pub(crate) fn owned(&self) -> &OwnedTasks<Arc<Shared>> {
        &self.owned
    }

    pub(crate) fn inject_len(&self) -> usize {
        self.inject_len.load(Ordering::Relaxed)
    }

    pub(crate) fn local_queue_len(&self, worker: usize) -> usize {
        self.remotes[worker].len()
    }

    #[track_caller]
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.owned.spawn(future, self)
    }

    fn push_inject(&self, task: Task_) {
        let mut q = self.inject.lock().unwrap_or_else(PoisonError::into_inner);
        q.push_back(task);
        // A read-modify-write, like the reads it pairs with (see `idle.rs`).
        self.inject_len.swap(q.len(), Ordering::SeqCst);
    }

    fn pop_inject(&self) -> Option<Task_> {
        if self.inject_len.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut q = self.inject.lock().unwrap_or_else(PoisonError::into_inner);
        let task = q.pop_front();
        self.inject_len.store(q.len(), Ordering::SeqCst);
        task
    }

    /// Wakes one parked worker for new work, unless a worker is searching already (it will find
    /// the work) or none is parked. A worker sleeping on its own parker is preferred to the one
    /// in the driver, which keeps listening to the OS.
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify(|w| self.parkers[w].sleeps_on_thread()) {
            self.parkers[index].unpark(&self.driver);
        }
    }

    /// Whether any queue holds work (the last look of a worker about to park; a
    /// read-modify-write, see `idle.rs`).
    fn has_work(&self) -> bool {
        self.inject_len.fetch_add(0, Ordering::SeqCst) != 0 || self.remotes.iter().any(|r| !r.is_empty())
    }

    /// Runs `future` to completion on this thread. The workers run the spawned tasks; this
    /// thread only polls `future`, sleeping in between.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F, _driving: DrivingGuard) -> F::Output {
        let mut future = pin!(future);
        let wake = Arc::new(ThreadWake { woken: AtomicBool::new(true), thread: thread::current() });
        let waker = Waker::from(wake.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            if wake.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(v) = crate::task::coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return v;
                }
                continue;
            }
            thread::park();
        }
    }

    /// Stops the workers (waiting at most `timeout` for each to finish its current task), then
    /// drops every task's future and everything queued.
    pub(crate) fn shutdown(&self, timeout: Duration) {
        self.stop_workers(timeout);
        // Cores no thread took (a `block_in_place` hand-off the blocking pool never ran): their
        // queued tasks are references only, dropped here.
        for slot in self.cores.iter() {
            drop(slot.discard());
        }
        self.owned.close_and_shutdown_all();
        let drained: Vec<_> = self.inject.lock().unwrap_or_else(PoisonError::into_inner).drain(..).collect();
        self.inject_len.store(0, Ordering::SeqCst);
        drop(drained);
    }

    fn stop_workers(&self, timeout: Duration) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        let threads: Vec<_> = std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for parker in self.parkers.iter() {
            parker.unpark(&self.driver);
        }
        let deadline = Instant::now() + timeout;
        let me = thread::current().id();
        for t in threads {
            if t.thread().id() == me {
                continue;
            }
            // A worker stuck in a task that never yields is detached after the timeout: it
            // exits when that task returns control.
            while !t.is_finished() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

impl Overflow<Task_> for Shared {
    fn push(&self, task: Task_) {
        self.push_inject(task);
    }

    fn push_batch(&self, tasks: impl Iterator<Item = Task_>) {
        let mut q = self.inject.lock().unwrap_or_else(PoisonError::into_inner);
        q.extend(tasks);
        self.inject_len.swap(q.len(), Ordering::SeqCst);
    }
}

impl Schedule for Arc<Shared> {
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: Task_) {
        worker::schedule(self, task, false);
    }

    fn yield_now(&self, task: Task_) {
        worker::schedule(self, task, true);
    }
}

impl park::Sleep for Driver {
    /// Parks a worker whose queues are empty: it can take a full harvest.
    fn sleep(&self) {
        if let Err(e) = self.park(None, crate::driver::HARVEST) {
            panic!("runtime: the reactor failed: {e}");
        }
    }

    fn wake(&self) {
        self.unpark();
    }
}

/// The waker of a `block_on` future on the multi-thread runtime: unparks the blocked thread.
struct ThreadWake {
    woken: AtomicBool,
    thread: Thread,
}

impl Wake for ThreadWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}
