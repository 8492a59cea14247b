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
//! (and no searcher): a task is never left behind while every worker sleeps.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

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
