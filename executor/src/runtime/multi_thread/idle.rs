//! Who is idle: the accounting that decides when a wake-up must unpark a worker.
//!
//! Protocol (all counters `SeqCst`, the Dekker pattern against lost wake-ups):
//!
//! * A worker that runs out of work while **searching** (stealing) stops searching
//!   (`searching -= 1`), announces it is **parked** (`parked += 1`) and only then looks at every
//!   queue one last time; it sleeps on the driver (`EventPoll`) only if all are empty.
//! * Whoever makes a task runnable pushes it first and only then calls [`Idle::notify`]: if no
//!   worker is searching (a searcher will find the task) and fewer wake-ups are pending than
//!   workers are parked, it adds one pending wake-up and triggers the driver's counting user
//!   event, which wakes exactly one parked worker.
//!
//! Either the parking worker's last look sees the task, or the notifier sees the worker parked
//! (and no searcher): a task is never left behind while every worker sleeps. The two reads of
//! this store-then-load pattern (`parked` in `notify`, the queue length in the last look) are
//! read-modify-writes (`fetch_add(0)`): they read the latest value, which makes the argument
//! hold under loom too (it models `SeqCst` loads as `Acquire`), and cost one locked instruction.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};

pub(super) struct Idle {
    /// Workers looking for work in other workers' queues.
    searching: AtomicUsize,
    /// Workers parked (or about to park) on the driver.
    parked: AtomicUsize,
    /// Wake-ups triggered and not yet consumed by a parked worker.
    pending: AtomicUsize,
    workers: usize,
}

impl Idle {
    pub(super) fn new(workers: usize) -> Idle {
        Idle { searching: AtomicUsize::new(0), parked: AtomicUsize::new(0), pending: AtomicUsize::new(0), workers }
    }

    /// Starts searching, unless half the workers already do (more would only contend).
    pub(super) fn try_start_searching(&self) -> bool {
        let n = self.searching.load(SeqCst);
        if 2 * n >= self.workers.max(2) {
            return false;
        }
        self.searching.fetch_add(1, SeqCst);
        true
    }

    /// Stops searching; returns whether this was the last searcher.
    pub(super) fn stop_searching(&self) -> bool {
        self.searching.fetch_sub(1, SeqCst) == 1
    }

    pub(super) fn announce_parked(&self) {
        self.parked.fetch_add(1, SeqCst);
    }

    /// Back from the driver; `consumed` says whether it took a pending wake-up.
    pub(super) fn unparked(&self, consumed: bool) {
        self.parked.fetch_sub(1, SeqCst);
        if consumed {
            let _ = self.pending.fetch_update(SeqCst, SeqCst, |p| p.checked_sub(1));
        }
    }

    /// Whether a parked worker must be woken for new work; if so, counts the wake-up as pending.
    pub(super) fn notify(&self) -> bool {
        if self.searching.load(SeqCst) != 0 {
            return false;
        }
        self.pending.fetch_update(SeqCst, SeqCst, |p| if p < self.parked.load(SeqCst) { Some(p + 1) } else { None }).is_ok()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::Idle;
    use crate::loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use crate::loom::sync::{Arc, Mutex};

    /// A worker and the world around it, reduced to the protocol: `tasks` stands for the run
    /// queues, `units` for the driver's counting wake-up event (a parked worker sleeps until it
    /// has a unit), `Idle` is the code under test.
    struct World {
        idle: Idle,
        tasks: AtomicUsize,
        units: Mutex<usize>,
        sleeper: Mutex<Option<loom::thread::Thread>>,
    }

    impl World {
        /// A producer makes a task runnable, then notifies (as `Shared::schedule` does).
        fn produce(&self) {
            self.tasks.fetch_add(1, SeqCst);
            if self.idle.notify() {
                *self.units.lock() += 1;
                if let Some(t) = self.sleeper.lock().take() {
                    t.unpark();
                }
            }
        }

        /// A worker takes one task, parking as `worker::park` does when there is none.
        fn work_once(&self) {
            loop {
                if self.tasks.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok() {
                    return;
                }
                self.idle.announce_parked();
                if self.tasks.fetch_add(0, SeqCst) != 0 {
                    self.idle.unparked(false);
                    continue;
                }
                // Sleep on the driver until a wake-up unit arrives.
                loop {
                    {
                        let mut units = self.units.lock();
                        if *units > 0 {
                            *units -= 1;
                            break;
                        }
                        *self.sleeper.lock() = Some(loom::thread::current());
                    }
                    loom::thread::park();
                }
                self.idle.unparked(true);
            }
        }
    }

    /// A task pushed while the only worker goes to sleep is never left behind: either the
    /// worker's last look sees it, or the producer sees the worker parked and wakes it (loom
    /// reports a deadlock if an interleaving leaves the worker asleep with the task queued).
    #[test]
    fn loom_a_task_is_never_stranded_while_the_worker_parks() {
        loom::model(|| {
            let world = Arc::new(World { idle: Idle::new(1), tasks: AtomicUsize::new(0), units: Mutex::new(0), sleeper: Mutex::new(None) });
            let w = world.clone();
            let worker = loom::thread::spawn(move || w.work_once());
            world.produce();
            worker.join().unwrap();
            assert_eq!(world.tasks.load(SeqCst), 0);
        });
    }
}
