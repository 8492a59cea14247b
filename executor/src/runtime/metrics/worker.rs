//! One worker's counters, on its own cache line, written only by that worker.
//!
//! Each counter has exactly one writer — the worker thread (for the current-thread flavor, the
//! thread that drives the runtime) — so an increment is a relaxed load and a relaxed store, no
//! read-modify-write, and no other thread writes the line: readers (`RuntimeMetrics`) only
//! load. Busy time is measured from the clock reads of the park / unpark transitions, one each,
//! never per poll.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The counters of one worker (tokio's `WorkerMetrics`). 128-byte aligned: no false sharing
/// with its neighbours (two 64-byte lines, for the adjacent-line prefetcher).
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct WorkerMetrics {
    pub(crate) park_count: AtomicU64,
    pub(crate) park_unpark_count: AtomicU64,
    pub(crate) poll_count: AtomicU64,
    pub(crate) steal_count: AtomicU64,
    pub(crate) steal_operations: AtomicU64,
    pub(crate) local_schedule_count: AtomicU64,
    pub(crate) busy_ns: AtomicU64,
    /// When the current busy stretch began (ns since the clock's epoch; 0: at the epoch).
    busy_since: AtomicU64,
}

/// Adds `n` to a counter that only the calling thread writes (see the module docs).
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

impl WorkerMetrics {
    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// The worker is about to park: ends its busy stretch.
    pub(crate) fn parking(&self) {
        add(&self.park_count, 1);
        add(&self.park_unpark_count, 1);
        self.end_busy();
    }

    /// The busy stretch ends (a park, or the thread stops driving the runtime).
    pub(crate) fn end_busy(&self) {
        let now = super::clock::nanos(Instant::now());
        add(&self.busy_ns, now.saturating_sub(self.busy_since.load(Ordering::Relaxed)));
        super::clock::publish_nanos(now);
    }

    /// The worker is back from its park (or starts): its busy stretch begins.
    pub(crate) fn unparked(&self) {
        let now = super::clock::nanos(Instant::now());
        self.busy_since.store(now, Ordering::Relaxed);
        super::clock::publish_nanos(now);
    }
}
