//! The current-thread scheduler: one run queue, driven by the thread in `block_on`, which parks
//! on the driver (the reactor's `EventPoll`) when there is nothing to run.
//!
//! The loop of `block_on`:
//!
//! ```text
//! loop {
//!     poll the block_on future if it was woken            (return when it is ready)
//!     run up to EVENT_INTERVAL tasks from the run queue
//!     park on the driver: zero timeout if work is left, else until a wake-up, event or timer
//! }
//! ```
//!
//! Polling the driver after every `EVENT_INTERVAL` tasks even when the queue is never empty is
//! what keeps I/O and timers from starving behind tasks that keep waking themselves.

use crate::driver::{Driver, Unpark};
use crate::task::{Id, JoinHandle, Notified, OwnedTasks, Schedule, Task};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread, ThreadId};
use std::time::Duration;

/// Tasks run between two polls of the driver (tokio and Go use 61: "fairly arbitrary", prime,
/// small enough that I/O waits at most a few dozen task polls).
const EVENT_INTERVAL: usize = 61;

/// State shared by the runtime, its handles and its tasks (the tasks' scheduler).
pub(crate) struct Shared {
    run_queue: Mutex<VecDeque<Notified<Arc<Shared>>>>,
    owned: OwnedTasks<Arc<Shared>>,
    driver: Driver,
    unpark: Unpark,
    /// The thread currently driving the runtime (inside `block_on`), if any; only it may park
    /// on the driver. Other threads in `block_on` wait in `blocked`, and are woken when the
    /// driving thread leaves so that one of them takes over.
    driver_thread: Mutex<Option<ThreadId>>,
    blocked: Mutex<Vec<Thread>>,
}

impl Shared {
    pub(crate) fn new() -> io::Result<Arc<Shared>> {
        let driver = Driver::new()?;
        let unpark = driver.unpark_handle();
        Ok(Arc::new(Shared {
            run_queue: Mutex::new(VecDeque::new()),
            owned: OwnedTasks::new(),
            driver,
            unpark,
            driver_thread: Mutex::new(None),
            blocked: Mutex::new(Vec::new()),
        }))
    }

    pub(crate) fn driver(&self) -> &Driver {
        &self.driver
    }

    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (handle, notified) = self.owned.bind(future, self.clone(), Id::next());
        if let Some(task) = notified {
            self.schedule(task);
        }
        handle
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Notified<Arc<Shared>>>> {
        self.run_queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn pop(&self) -> Option<Notified<Arc<Shared>>> {
        self.queue().pop_front()
    }

    /// Runs `future` to completion on this thread, driving the runtime's tasks meanwhile.
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, future: F) -> F::Output {
        let _driving = super::context::enter_driving();
        let mut future = pin!(future);
        let wake = Arc::new(BlockOnWake { woken: AtomicBool::new(true), unpark: self.unpark.clone(), thread: thread::current() });
        let waker = Waker::from(wake.clone());
        let mut cx = Context::from_waker(&waker);
        let me = thread::current().id();
        // Give the driver up however this returns (a panic of the future included).
        let _release = ReleaseDriver(self, me);
        loop {
            // Drive the runtime if no other thread does; else only wait for our future.
            let driving = {
                let mut t = self.driver_thread.lock().unwrap_or_else(PoisonError::into_inner);
                match *t {
                    None => {
                        *t = Some(me);
                        true
                    }
                    Some(id) => id == me,
                }
            };
            if wake.woken.swap(false, Ordering::AcqRel) {
                if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                    return v;
                }
            }
            if !driving {
                // Another thread's block_on drives the tasks: sleep until our future is woken or
                // the driving thread leaves (then one of us takes over).
                self.blocked.lock().unwrap_or_else(PoisonError::into_inner).push(thread::current());
                if !wake.woken.load(Ordering::Acquire) && self.driver_thread.lock().unwrap_or_else(PoisonError::into_inner).is_some() {
                    thread::park();
                }
                self.blocked.lock().unwrap_or_else(PoisonError::into_inner).retain(|t| t.id() != me);
                continue;
            }
            let mut ran = 0;
            while ran < EVENT_INTERVAL {
                let Some(task) = self.pop() else { break };
                task.run();
                ran += 1;
            }
            let more = !self.queue().is_empty() || wake.woken.load(Ordering::Acquire);
            if let Err(e) = self.driver.park(if more { Some(Duration::ZERO) } else { None }) {
                panic!("runtime: the reactor failed: {e}");
            }
        }
    }

    fn release_driver(&self, me: ThreadId) {
        let mut t = self.driver_thread.lock().unwrap_or_else(PoisonError::into_inner);
        if *t == Some(me) {
            *t = None;
            drop(t);
            for waiting in self.blocked.lock().unwrap_or_else(PoisonError::into_inner).iter() {
                waiting.unpark();
            }
        }
    }

    /// Drops every task's future and everything queued.
    pub(crate) fn shutdown(&self) {
        self.owned.close_and_shutdown_all();
        let drained: Vec<_> = self.queue().drain(..).collect();
        drop(drained);
    }
}

impl Schedule for Arc<Shared> {
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        self.queue().push_back(task);
        // The driving thread checks the queue before it parks; only another thread must wake it
        // (a user event: no system call unless it sleeps).
        let driver = *self.driver_thread.lock().unwrap_or_else(PoisonError::into_inner);
        if driver != Some(thread::current().id()) {
            self.unpark.unpark();
        }
    }
}

/// Gives the driver up when `block_on` returns or unwinds.
struct ReleaseDriver<'a>(&'a Shared, ThreadId);

impl Drop for ReleaseDriver<'_> {
    fn drop(&mut self) {
        self.0.release_driver(self.1);
    }
}

/// The waker of the `block_on` future: marks it woken and wakes whichever thread runs it
/// (parked on the driver, or parked waiting for another thread's `block_on` to drive).
struct BlockOnWake {
    woken: AtomicBool,
    unpark: Unpark,
    thread: Thread,
}

impl Wake for BlockOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.unpark.unpark();
        self.thread.unpark();
    }
}
