//! The coarse clock behind a task's "last polled" time: milliseconds since a process-wide
//! epoch, published by each scheduler thread into a thread-local whenever it reads the clock
//! anyway (park and unpark, the multi-thread worker's maintenance every `event_interval` ticks),
//! and copied into the task header at each poll — so a poll reads no clock.
//!
//! It is as stale as the thread's last transition: a task polled by a worker that has not
//! parked nor polled its driver for a while shows that much older a poll. 32 bits of
//! milliseconds wrap after 49 days; differences are taken wrapping.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static EPOCH: OnceLock<Instant> = OnceLock::new();

thread_local! {
    static TICK: Cell<u32> = const { Cell::new(0) };
}

fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// The tick of `now` (ms since the epoch, wrapping).
pub(crate) fn tick_of(now: Instant) -> u32 {
    now.saturating_duration_since(epoch()).as_millis() as u32
}

/// `now` in nanoseconds since the epoch.
pub(crate) fn nanos(now: Instant) -> u64 {
    u64::try_from(now.saturating_duration_since(epoch()).as_nanos()).unwrap_or(u64::MAX)
}

/// This thread read the clock: later polls on it are stamped with `now`.
pub(crate) fn publish(now: Instant) {
    publish_nanos(nanos(now));
}

/// [`publish`] with a time already in nanoseconds since the epoch.
pub(crate) fn publish_nanos(nanos: u64) {
    let tick = (nanos / 1_000_000) as u32;
    let _ = TICK.try_with(|t| t.set(tick));
}

/// The tick this thread last published (what a poll records).
pub(crate) fn current() -> u32 {
    TICK.try_with(Cell::get).unwrap_or(0)
}

/// How long ago `tick` was, at `now`.
pub(crate) fn since(tick: u32, now: Instant) -> Duration {
    Duration::from_millis(u64::from(tick_of(now).wrapping_sub(tick)))
}
