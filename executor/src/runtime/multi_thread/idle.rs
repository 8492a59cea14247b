//! Who is idle: the accounting that decides whether new work must wake a parked worker, and
//! which one.
//!
//! ```text
//!   state (one atomic word) = [ unparked workers | searching workers (low 16 bits) ]
//!   sleepers (a mutex)      = indices of the parked workers, in the order they parked
//! ```
//!
//! Protocol (every access to `state` is `SeqCst`; reads that pair with another thread's write
//! in the store-then-load pattern below are read-modify-writes, `fetch_add(0)`, so that they
//! read the latest value — also under loom, which models `SeqCst` loads as `Acquire`):
//!
//! * **Parking.** A worker with nothing to run leaves `unparked` (and `searching`, if it was
//!   searching) and adds itself to `sleepers`, in one critical section. It then looks at every
//!   queue once more and, if any holds work, notifies (which may take itself off the sleepers:
//!   its park then returns at once). Tokio does this last look only for the last searcher; a
//!   worker that parks without having searched (half the workers searched already) could then
//!   miss a task pushed while it was on its way, which waits for a busy worker to finish.
//! * **Notifying.** Whoever makes a task runnable pushes it first, then calls
//!   [`Idle::worker_to_notify`]: only if nobody searches (a searcher will find the task) and
//!   some worker is parked does it take a sleeper off the list, count it as unparked *and
//!   searching*, and return it to be woken. Counting it as searching at once is what keeps a
//!   burst of new tasks from waking every worker: the next notify sees a searcher and stops.
//! * **Waking up.** A woken worker starts as a searcher; when it finds work and stops searching
//!   as the last searcher, it notifies another worker if more work is queued (there may be more
//!   than one worker can take). A worker whose sleep in the driver ended because its own I/O or timers made
//!   tasks runnable takes itself off `sleepers` ([`Idle::unpark_self`]) without searching.
//!
//! No task waits while a worker sleeps: a worker parks (a read-modify-write of `state`)
//! *before* its last look at the queues, while a notifier pushes its task *before* reading
//! `state`. Either the last look sees the task, or the notifier sees the worker parked — and
//! wakes one, unless a searcher is counted, which then finds the task or, finding other work as
//! the last searcher, notifies in turn. The `loom` model below checks it with two workers, one
//! of which stops after its first task (a worker busy for ever), and two tasks pushed from
//! outside.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;

/// Bits of `state` that count searching workers.
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
/// Where the count of unparked workers starts in `state`.
const UNPARKED_SHIFT: usize = 16;
const ONE_UNPARKED: usize = 1 << UNPARKED_SHIFT;

pub(super) struct Idle {
    /// Unparked workers (high bits) and searching workers (low 16 bits); see the module docs.
    state: AtomicUsize,
    /// The parked workers, in parking order; changed together with `state`'s unparked count.
    sleepers: Mutex<Vec<usize>>,
    workers: usize,
}

impl Idle {
    pub(super) fn new(workers: usize) -> Idle {
        assert!(workers < SEARCHING_MASK, "at most {SEARCHING_MASK} workers");
        Idle { state: AtomicUsize::new(workers << UNPARKED_SHIFT), sleepers: Mutex::new(Vec::with_capacity(workers)), workers }
    }

    /// Starts searching, unless half the workers already do (more would only contend).
    pub(super) fn try_start_searching(&self) -> bool {
        let searching = self.state.load(SeqCst) & SEARCHING_MASK;
        if 2 * searching >= self.workers.max(2) {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// Stops searching (having found work); returns whether this was the last searcher.
    pub(super) fn stop_searching(&self) -> bool {
        self.state.fetch_sub(1, SeqCst) & SEARCHING_MASK == 1
    }

    /// Records that worker `index` parks (the caller then looks at the queues once more).
    pub(super) fn park(&self, index: usize, searching: bool) {
        let mut sleepers = self.sleepers.lock();
        self.state.fetch_sub(ONE_UNPARKED + searching as usize, SeqCst);
        sleepers.push(index);
    }

    /// Whether a new task should wake a worker: nobody searches and somebody is parked.
    fn should_notify(&self) -> bool {
        let state = self.state.fetch_add(0, SeqCst);
        state & SEARCHING_MASK == 0 && state >> UNPARKED_SHIFT < self.workers
    }

    /// Takes the parked worker to wake for new work, if one should be: the last to park among
    /// those `prefer` accepts, else the last to park. It is counted as unparked and searching.
    pub(super) fn worker_to_notify(&self, prefer: impl Fn(usize) -> bool) -> Option<usize> {
        if !self.should_notify() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.should_notify() {
            return None;
        }
        let pos = sleepers.iter().rposition(|&w| prefer(w)).unwrap_or(sleepers.len().checked_sub(1)?);
        let index = sleepers.remove(pos);
        self.state.fetch_add(ONE_UNPARKED + 1, SeqCst);
        Some(index)
    }

    /// Takes worker `index` off the sleepers by itself (its own I/O or timers woke tasks for
    /// it); `false` if a notifier took it off already (it is then counted as searching).
    pub(super) fn unpark_self(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&w| w == index) {
            Some(pos) => {
                sleepers.remove(pos);
                self.state.fetch_add(ONE_UNPARKED, SeqCst);
                true
            }
            None => false,
        }
    }

    /// Whether worker `index` is still parked (no notifier took it off the sleepers).
    pub(super) fn is_parked(&self, index: usize) -> bool {
        self.sleepers.lock().contains(&index)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_notify_wakes_one_worker_and_counts_it_as_searching() {
        let idle = Idle::new(3);
        assert_eq!(idle.worker_to_notify(|_| true), None, "nobody parked");
        idle.park(0, false);
        idle.park(1, false);
        assert_eq!(idle.worker_to_notify(|_| true), Some(1), "the last to park");
        assert_eq!(idle.worker_to_notify(|_| true), None, "a searcher is on its way");
        assert!(idle.stop_searching());
        assert_eq!(idle.worker_to_notify(|w| w == 7), Some(0), "no preferred sleeper: any");
        assert!(!idle.is_parked(0) && !idle.is_parked(1));
    }

    #[test]
    fn at_most_half_the_workers_search_and_a_parking_searcher_stops_searching() {
        let idle = Idle::new(4);
        assert!(idle.try_start_searching());
        assert!(idle.try_start_searching());
        assert!(!idle.try_start_searching(), "at most half the workers search");
        idle.park(0, true);
        assert_eq!(idle.worker_to_notify(|_| true), None, "one searcher is left");
        idle.park(1, true);
        assert_eq!(idle.worker_to_notify(|_| true), Some(1));
    }

    #[test]
    fn a_worker_woken_by_its_own_io_leaves_the_sleepers_without_searching() {
        let idle = Idle::new(2);
        idle.park(0, false);
        idle.park(1, false);
        assert!(idle.unpark_self(1));
        assert!(!idle.is_parked(1));
        assert_eq!(idle.worker_to_notify(|_| true), Some(0));
        assert!(!idle.unpark_self(0), "a notifier took it off first");
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::super::park::loom_tests::FakeDriver;
    use super::super::park::{DriverLock, Parker};
    use super::Idle;
    use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use crate::loom::sync::Arc;

    /// The scheduler reduced to the protocol: `tasks` stands for every run queue, and a worker
    /// takes one task, parking (as `worker::park` does) while there is none.
    struct World {
        idle: Idle,
        tasks: AtomicUsize,
        lock: DriverLock,
        driver: FakeDriver,
        parkers: Vec<Parker>,
    }

    impl World {
        fn notify(&self) {
            if let Some(w) = self.idle.worker_to_notify(|w| self.parkers[w].sleeps_on_thread()) {
                self.parkers[w].unpark(&self.driver);
            }
        }

        /// A producer makes a task runnable, then notifies (as `Shared::schedule` does).
        fn produce(&self) {
            self.tasks.fetch_add(1, SeqCst);
            self.notify();
        }

        fn take(&self) -> bool {
            self.tasks.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok()
        }

        fn work_once(&self, index: usize) {
            self.parkers[index].bind_current_thread();
            // Every worker starts out searching, as a freshly woken one does.
            let mut searching = self.idle.try_start_searching();
            loop {
                if self.take() {
                    if searching && self.idle.stop_searching() && self.tasks.fetch_add(0, SeqCst) != 0 {
                        self.notify();
                    }
                    return;
                }
                self.idle.park(index, std::mem::take(&mut searching));
                if self.tasks.fetch_add(0, SeqCst) != 0 {
                    self.notify();
                }
                loop {
                    self.parkers[index].park(&self.lock, &self.driver);
                    if !self.idle.is_parked(index) {
                        searching = true;
                        break;
                    }
                }
            }
        }
    }

    /// Two workers, two tasks pushed from outside while the workers park; a worker stops after
    /// its first task (a worker busy for ever): every task is taken (loom reports a deadlock if
    /// an interleaving leaves a worker asleep with a task queued).
    ///
    /// Bounded to 3 preemptions per execution (`LOOM_MAX_PREEMPTIONS` overrides it), which
    /// covers the store-then-load race of every pair of threads.
    #[test]
    fn loom_no_task_is_stranded_while_workers_park() {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(3);
        }
        builder.check(|| {
            let world = Arc::new(World {
                idle: Idle::new(2),
                tasks: AtomicUsize::new(0),
                lock: DriverLock::default(),
                driver: FakeDriver::default(),
                parkers: vec![Parker::new(), Parker::new()],
            });
            let workers: Vec<_> = (0..2)
                .map(|i| {
                    let w = world.clone();
                    loom::thread::spawn(move || w.work_once(i))
                })
                .collect();
            world.produce();
            world.produce();
            for w in workers {
                w.join().unwrap();
            }
            assert_eq!(world.tasks.load(SeqCst), 0);
        });
    }
}
