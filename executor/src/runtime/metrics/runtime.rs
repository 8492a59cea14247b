//! [`RuntimeMetrics`]: a cheap view of the counters of one runtime.

use super::worker::WorkerMetrics;
use crate::runtime::handle::Scheduler;
use crate::runtime::Handle;
use reactor::{EventPollMetrics, FdInfo};
use std::time::Duration;

/// The metrics of a runtime ([`Handle::metrics`]), with tokio's method names.
///
/// Every count is cumulative since the runtime was built. A worker index is `0..num_workers()`;
/// the current-thread flavor has one worker, the thread that drives it.
///
/// ```
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     executor::spawn(async {}).await.unwrap();
/// });
/// let m = rt.handle().metrics();
/// assert_eq!(m.num_workers(), 1);
/// assert_eq!(m.spawned_tasks_count(), 1);
/// assert_eq!(m.num_alive_tasks(), 0);
/// assert_eq!(m.worker_poll_count(0), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RuntimeMetrics {
    handle: Handle,
}

impl RuntimeMetrics {
    pub(crate) fn new(handle: Handle) -> RuntimeMetrics {
        RuntimeMetrics { handle }
    }

    fn workers(&self) -> &[WorkerMetrics] {
        match &self.handle.scheduler {
            Scheduler::CurrentThread(s) => std::slice::from_ref(s.metrics()),
            Scheduler::MultiThread(s) => s.metrics(),
        }
    }

    #[track_caller]
    fn worker(&self, worker: usize) -> &WorkerMetrics {
        let workers = self.workers();
        match workers.get(worker) {
            Some(w) => w,
            None => panic!("worker index {worker} is out of range: the runtime has {} worker(s)", workers.len()),
        }
    }

    /// The number of worker threads (1 for the current-thread flavor).
    pub fn num_workers(&self) -> usize {
        self.workers().len()
    }

    /// Tasks spawned and not yet finished.
    pub fn num_alive_tasks(&self) -> usize {
        match &self.handle.scheduler {
            Scheduler::CurrentThread(s) => s.owned().len(),
            Scheduler::MultiThread(s) => s.owned().len(),
        }
    }

    /// Tasks ever spawned on the runtime (`spawn_blocking` closures are not tasks of it).
    pub fn spawned_tasks_count(&self) -> u64 {
        match &self.handle.scheduler {
            Scheduler::CurrentThread(s) => s.owned().counts().0,
            Scheduler::MultiThread(s) => s.owned().counts().0,
        }
    }

    /// Tasks that finished (returned, panicked or were aborted) before the runtime shut down.
    pub fn completed_tasks_count(&self) -> u64 {
        match &self.handle.scheduler {
            Scheduler::CurrentThread(s) => s.owned().counts().1,
            Scheduler::MultiThread(s) => s.owned().counts().1,
        }
    }

    /// Tasks in the global (inject) queue.
    pub fn global_queue_depth(&self) -> usize {
        match &self.handle.scheduler {
            Scheduler::CurrentThread(s) => s.inject_len(),
            Scheduler::MultiThread(s) => s.inject_len(),
        }
    }

    /// Tasks in `worker`'s local queue (the current-thread flavor's local queue is the driving
    /// thread's own and reads as 0 from other threads' view: its tasks show in the dump).
    #[track_caller]
    pub fn worker_local_queue_depth(&self, worker: usize) -> usize {
        self.worker(worker);
        match &self.handle.scheduler {
            Scheduler::CurrentThread(_) => 0,
            Scheduler::MultiThread(s) => s.local_queue_len(worker),
        }
    }

    /// Times `worker` ran out of work and went to park (each call of the park hook; the park
    /// may end at once if work arrived meanwhile).
    #[track_caller]
    pub fn worker_park_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).park_count)
    }

    /// Parks plus unparks of `worker`: odd while it is parked.
    #[track_caller]
    pub fn worker_park_unpark_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).park_unpark_count)
    }

    /// Task polls `worker` made.
    #[track_caller]
    pub fn worker_poll_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).poll_count)
    }

    /// Tasks `worker` stole from other workers.
    #[track_caller]
    pub fn worker_steal_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).steal_count)
    }

    /// Successful steals by `worker` (each moves one or more tasks).
    #[track_caller]
    pub fn worker_steal_operations(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).steal_operations)
    }

    /// Tasks scheduled from `worker` into its own queue (woken or spawned on it).
    #[track_caller]
    pub fn worker_local_schedule_count(&self, worker: usize) -> u64 {
        WorkerMetrics::get(&self.worker(worker).local_schedule_count)
    }

    /// Time `worker` spent busy (not parked), up to its latest park.
    #[track_caller]
    pub fn worker_total_busy_duration(&self, worker: usize) -> Duration {
        Duration::from_nanos(WorkerMetrics::get(&self.worker(worker).busy_ns))
    }

    /// The reactor's counters: registrations, harvests, events per harvest, OS polls, user-event
    /// triggers, overflow-list uses, LT re-queues (see [`EventPollMetrics`]).
    pub fn eventpoll(&self) -> EventPollMetrics {
        self.handle.driver().eventpoll().metrics()
    }

    /// The reactor's registrations, as `/proc/PID/fdinfo` of an epoll shows them (see
    /// [`EventPoll::fdinfo`](reactor::EventPoll::fdinfo)): the runtime's I/O resources (their
    /// data is the registration's token) and its own user events.
    pub fn eventpoll_fdinfo(&self) -> FdInfo {
        self.handle.driver().eventpoll().fdinfo()
    }
}
