//! A worker's self-tuned global queue interval: how many tasks it runs between two looks at the
//! inject queue.
//!
//! A fixed interval is wrong at both ends of the load: with tasks that poll for 1 µs, 31 ticks
//! is 31 µs and the inject queue's lock is taken far more often than fairness needs; with tasks
//! that poll for 1 ms, a remotely woken task waits 31 ms. So the worker keeps an exponentially
//! weighted moving average of its task poll time and looks at the inject queue about every
//! [`TARGET`] of polling (tokio tunes the same way, to the same target):
//!
//! ```text
//!   batch: the tasks run between two driver polls (maintenance or park)
//!   mean  = batch time / tasks in the batch              (two clock reads per batch)
//!   alpha = 1 - (1 - ALPHA)^tasks                        (a batch of n tasks counts as n samples)
//!   ewma  = alpha * mean + (1 - alpha) * ewma
//!   interval = clamp(TARGET / ewma, MIN_INTERVAL, MAX_INTERVAL)
//! ```
//!
//! [`Builder::global_queue_interval`](crate::runtime::Builder::global_queue_interval) fixes the
//! interval instead.

use std::time::{Duration, Instant};

/// The polling time between two looks at the inject queue the tuning aims at.
const TARGET: Duration = Duration::from_micros(200);
/// The weight of one task's poll time in the moving average.
const ALPHA: f64 = 0.1;
/// Never below 2: at 1 the inject queue would always come before the local one.
const MIN_INTERVAL: u32 = 2;
/// Never above 127: a task woken from outside waits at most that many polls.
const MAX_INTERVAL: u32 = 127;
/// The interval before any measurement (the event interval, as tokio starts).
const INITIAL_INTERVAL: u32 = 61;

pub(super) struct Stats {
    /// `Some(n)`: fixed by the builder.
    fixed: Option<u32>,
    /// Mean task poll time, in nanoseconds.
    ewma_ns: f64,
    batch_start: Option<Instant>,
    batch_tasks: u32,
}

impl Stats {
    pub(super) fn new(fixed: Option<u32>) -> Stats {
        Stats { fixed, ewma_ns: TARGET.as_nanos() as f64 / f64::from(INITIAL_INTERVAL), batch_start: None, batch_tasks: 0 }
    }

    /// A task is about to run.
    pub(super) fn task_started(&mut self) {
        if self.fixed.is_none() && self.batch_start.is_none() {
            self.batch_start = Some(Instant::now());
        }
        self.batch_tasks += 1;
    }

    /// The batch ends (the worker polls the driver or parks): folds it into the average.
    pub(super) fn end_batch(&mut self) {
        let tasks = std::mem::take(&mut self.batch_tasks);
        if let Some(start) = self.batch_start.take() {
            self.record(start.elapsed(), tasks);
        }
    }

    fn record(&mut self, elapsed: Duration, tasks: u32) {
        if tasks == 0 {
            return;
        }
        let mean = elapsed.as_nanos() as f64 / f64::from(tasks);
        let alpha = 1.0 - (1.0 - ALPHA).powi(tasks.min(i32::MAX as u32) as i32);
        self.ewma_ns = alpha * mean + (1.0 - alpha) * self.ewma_ns;
    }

    /// Ticks between two looks at the inject queue.
    pub(super) fn global_queue_interval(&self) -> u32 {
        if let Some(n) = self.fixed {
            return n;
        }
        // Float to integer casts saturate; a zero average means "as cheap as it gets".
        let n = if self.ewma_ns > 0.0 { (TARGET.as_nanos() as f64 / self.ewma_ns) as u32 } else { MAX_INTERVAL };
        n.clamp(MIN_INTERVAL, MAX_INTERVAL)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_interval_follows_the_task_poll_time_within_its_bounds() {
        let mut stats = Stats::new(None);
        assert_eq!(stats.global_queue_interval(), INITIAL_INTERVAL);
        // Slow tasks (1 ms each): the inject queue is looked at every other task.
        for _ in 0..20 {
            stats.record(Duration::from_millis(61), 61);
        }
        assert_eq!(stats.global_queue_interval(), MIN_INTERVAL);
        // The load changes to fast tasks (200 ns): as rarely as the bound allows.
        for _ in 0..20 {
            stats.record(Duration::from_nanos(200 * 61), 61);
        }
        assert_eq!(stats.global_queue_interval(), MAX_INTERVAL);
        // 10 µs tasks: about 200 µs / 10 µs.
        for _ in 0..20 {
            stats.record(Duration::from_micros(610), 61);
        }
        let n = stats.global_queue_interval();
        assert!((19..=20).contains(&n), "{n}");
    }

    #[test]
    fn one_batch_moves_the_average_by_its_weight() {
        let mut stats = Stats::new(None);
        let before = stats.ewma_ns;
        stats.record(Duration::from_micros(100), 1);
        let expected = ALPHA * 100_000.0 + (1.0 - ALPHA) * before;
        assert!((stats.ewma_ns - expected).abs() < 1e-6, "{} vs {expected}", stats.ewma_ns);
    }

    #[test]
    fn a_fixed_interval_is_never_tuned() {
        let mut stats = Stats::new(Some(7));
        stats.task_started();
        stats.end_batch();
        stats.record(Duration::from_secs(1), 1);
        assert_eq!(stats.global_queue_interval(), 7);
    }
}
