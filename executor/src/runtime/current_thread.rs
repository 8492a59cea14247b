//! The current-thread scheduler: tasks run on the thread in `block_on`, which parks on the
//! driver (the reactor's `EventPoll`) when there is nothing to run.
//!
//! Two queues, as in tokio:
//!
//! * the **local queue**, owned by the driving thread and reached through a thread-local (no
//!   lock): a task woken or spawned on the driving thread goes there;
//! * the **inject queue** (a mutex): a task woken or spawned from any other thread goes there,
//!   and the driving thread is unparked (a `UserEvent` trigger: no system call unless it sleeps).
//!
//! The loop of `block_on`:
//!
//! ```text
//! loop {
//!     poll the block_on future if it was woken            (return when it is ready)
//!     run up to event_interval tasks (local queue; the inject queue every
//!         global_queue_interval tasks and whenever the local one is empty)
//!     park on the driver: zero timeout if work is left (deferred tasks included), else until a
//!         wake-up, event or timer; then wake the deferred (yielded) tasks
//! }
//! ```
//!
//! Polling the driver after every `event_interval` (61) tasks even when the queues never empty
//! is what keeps I/O and timers from starving behind tasks that keep waking themselves; taking
//! from the inject queue every `global_queue_interval` (31) tasks keeps remote wake-ups from
//! starving behind local ones. A task that yields is deferred until the next driver poll (see
//! `defer.rs`), so the tasks I/O made ready run before it runs again. Only one thread drives at a time; another thread in `block_on` waits for its own future
//! and takes over when the driving thread leaves (the local queue is handed to the inject queue
//! then).

use super::builder::{Config, Hooks};
use super::context::DrivingGuard;
use super::defer;
use super::metrics::worker::{self as counters, WorkerMetrics};
use crate::driver::{Driver, Unpark};
use crate::task::{JoinHandle, Notified, OwnedTasks, Schedule, Task};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

/// Tasks run between two looks at the inject queue while the local queue has work, by default
/// (tokio's 31).
const DEFAULT_GLOBAL_INTERVAL: u32 = 31;

type Queue = VecDeque<Notified<Arc<Shared>>>;

thread_local! {
    /// The runtime this thread drives (null if none) and its local queue.
    static DRIVING: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
    static LOCAL: RefCell<Queue> = const { RefCell::new(VecDeque::new()) };
}

/// State shared by the runtime, its handles and its tasks (the tasks' scheduler).
pub(crate) struct Shared {
    inject: Mutex<Queue>,
    owned: OwnedTasks<Arc<Shared>>,
    driver: Driver,
    unpark: Unpark,
    /// Whether a thread drives the runtime (is inside `block_on` with the local queue).
    driving: AtomicBool,
    /// Threads in `block_on` that wait for another thread's drive to end.
    blocked: Mutex<Vec<Thread>>,
    config: Config,
    /// Tasks run between two polls of the driver.
    event_interval: usize,
    /// Tasks run between two looks at the inject queue.
    global_interval: usize,
    /// The counters of the driving thread, the flavor's one worker (`runtime/metrics/`).
    metrics: WorkerMetrics,
}

impl Shared {
    pub(crate) fn new(config: Config, clock: crate::time::clock::Clock) -> io::Result<Arc<Shared>> {
        let driver = Driver::new(1, clock)?;
        let unpark = driver.unpark_handle();
        Ok(Arc::new(Shared {
            inject: Mutex::new(VecDeque::new()),
            owned: OwnedTasks::new(),
            driver,
            unpark,
            driving: AtomicBool::new(false),
            blocked: Mutex::new(Vec::new()),
            event_interval: config.event_interval as usize,
            global_interval: config.global_queue_interval.unwrap_or(DEFAULT_GLOBAL_INTERVAL) as usize,
            config,
            metrics: WorkerMetrics::default(),
        }))
    }

    pub(crate) fn driver(&self) -> &Driver {
        &self.driver
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn metrics(&self) -> &WorkerMetrics {
        &self.metrics
    }

    pub(crate) fn owned(&self) -> &OwnedTasks<Arc<Shared>> {
        &self.owned
    }

    pub(crate) fn inject_len(&self) -> usize {
        self.inject().len()
    }

    #[track_caller]
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.owned.spawn(future, self)
    }

    fn inject(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.inject.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this thread drives this runtime (never, while the thread's locals are destroyed).
    fn is_driving_here(&self) -> bool {
        DRIVING.try_with(|d| std::ptr::eq(d.get(), self)).unwrap_or(false)
    }

    /// Runs `future` to completion on this thread, driving the runtime's tasks meanwhile.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F, _driving: DrivingGuard) -> F::Output {
        let mut future = pin!(future);
        let wake = Arc::new(BlockOnWake {
            woken: AtomicBool::new(true),
            driver: AtomicBool::new(false),
            shared: self.clone(),
            thread: thread::current(),
        });
        let waker = Waker::from(wake.clone());
        let mut cx = Context::from_waker(&waker);
        let mut drive: Option<Drive<'_>> = None;
        // Tasks run (and block_on polls) since the driver was last polled.
        let mut since_park = 0;
        loop {
            if drive.is_none() && !self.driving.swap(true, Ordering::AcqRel) {
                drive = Some(Drive::begin(self));
                wake.driver.store(true, Ordering::Release);
            }
            if wake.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(v) = crate::task::coop::budget(|| future.as_mut().poll(&mut cx)) {
                    return v;
                }
            }
            if drive.is_none() {
                self.wait_for_driver(&wake);
                continue;
            }
            since_park += self.run_tasks();
            // The block_on future was woken (by a task that just ran): poll it before anything
            // else, but still visit the driver every `event_interval` tasks.
            if wake.woken.load(Ordering::Acquire) && since_park < self.event_interval {
                since_park += 1;
                continue;
            }
            since_park = 0;
            self.park(&wake);
        }
    }

    /// Whether anything can run without a wake-up: queued tasks, deferred ones, or the
    /// `block_on` future.
    fn has_work(&self, wake: &BlockOnWake) -> bool {
        LOCAL.with(|q| !q.borrow().is_empty()) || !self.inject().is_empty() || wake.woken.load(Ordering::Acquire) || !defer::is_empty()
    }

    /// Polls the driver — sleeping in it if nothing can run (between the park hooks) — then
    /// wakes the deferred tasks, behind whatever the driver woke.
    fn park(&self, wake: &BlockOnWake) {
        let mut timeout = Some(Duration::ZERO);
        let idle = !self.has_work(wake);
        if idle {
            // A park as the metrics count it: the park hook runs (tokio's worker park count).
            self.metrics.parking();
            Hooks::run(&self.config.hooks.thread_park);
            // The hook may have spawned a task: run it instead of sleeping.
            if !self.has_work(wake) {
                timeout = None;
            }
        }
        if let Err(e) = self.driver.park(timeout, crate::driver::HARVEST) {
            panic!("runtime: the reactor failed: {e}");
        }
        if idle {
            Hooks::run(&self.config.hooks.thread_unpark);
            self.metrics.unparked();
        }
        defer::wake();
    }

    /// Runs up to `event_interval` tasks; returns how many ran.
    fn run_tasks(&self) -> usize {
        for tick in 0..self.event_interval {
            let global_first = tick % self.global_interval == self.global_interval - 1;
            let local = if global_first { None } else { LOCAL.with(|q| q.borrow_mut().pop_front()) };
            let Some(task) = local.or_else(|| self.inject().pop_front()).or_else(|| LOCAL.with(|q| q.borrow_mut().pop_front())) else {
                return tick;
            };
            counters::add(&self.metrics.poll_count, 1);
            task.run();
        }
        self.event_interval
    }

    /// Sleeps until the `block_on` future is woken or the driving thread leaves.
    fn wait_for_driver(&self, wake: &BlockOnWake) {
        let me = thread::current();
        self.blocked.lock().unwrap_or_else(PoisonError::into_inner).push(me.clone());
        if !wake.woken.load(Ordering::Acquire) && self.driving.load(Ordering::Acquire) {
            thread::park();
        }
        self.blocked.lock().unwrap_or_else(PoisonError::into_inner).retain(|t| t.id() != me.id());
    }

    /// Drops every task's future and everything queued.
    pub(crate) fn shutdown(&self) {
        self.owned.close_and_shutdown_all();
        let drained: Vec<_> = self.inject().drain(..).collect();
        drop(drained);
    }
}

/// The driving role of one `block_on` call: installs the local queue and the list of deferred
/// tasks on the thread and, when dropped (returned or unwound), hands queued and deferred tasks
/// to the inject queue, gives the role up and wakes the threads waiting to take it.
struct Drive<'a> {
    shared: &'a Shared,
    defer: Option<defer::Scope>,
}

impl<'a> Drive<'a> {
    fn begin(shared: &'a Shared) -> Drive<'a> {
        DRIVING.with(|d| d.set(shared));
        shared.metrics.unparked();
        Drive { shared, defer: Some(defer::Scope::enter()) }
    }
}

impl Drop for Drive<'_> {
    fn drop(&mut self) {
        DRIVING.with(|d| d.set(std::ptr::null()));
        self.shared.metrics.end_busy();
        // No longer driving: the deferred tasks go to the inject queue.
        drop(self.defer.take());
        let left: Queue = LOCAL.with(|q| std::mem::take(&mut *q.borrow_mut()));
        if !left.is_empty() {
            self.shared.inject().extend(left);
        }
        self.shared.driving.store(false, Ordering::Release);
        for waiting in self.shared.blocked.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            waiting.unpark();
        }
    }
}

impl Schedule for Arc<Shared> {
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        if self.is_driving_here() {
            // The driving thread looks at its queue before it parks: no wake-up needed.
            counters::add(&self.metrics.local_schedule_count, 1);
            LOCAL.with(|q| q.borrow_mut().push_back(task));
        } else {
            // Another thread, or this one while its locals are destroyed (a runtime dropped in
            // a thread-local's destructor wakes the join handles of the tasks it cancels).
            self.inject().push_back(task);
            self.unpark.unpark();
        }
    }
}

/// The waker of the `block_on` future: marks it woken and wakes whichever thread runs it
/// (parked on the driver, or waiting for another thread's drive) — unless the `block_on` drives
/// the runtime and the wake comes from the driving thread itself, which checks the flag before
/// it parks.
struct BlockOnWake {
    woken: AtomicBool,
    /// This `block_on` holds the drive.
    driver: AtomicBool,
    shared: Arc<Shared>,
    thread: Thread,
}

impl Wake for BlockOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        if !(self.driver.load(Ordering::Acquire) && self.shared.is_driving_here()) {
            self.shared.unpark.unpark();
            self.thread.unpark();
        }
    }
}
