//! Time: [`sleep`], [`sleep_until`], [`timeout`], [`interval`], and the hierarchical timing wheel behind them.
//!
//! Timers have millisecond resolution and never complete early. Each runtime keeps its timers in
//! a timing wheel (O(1) insert and cancel); the driver parks on the reactor's `EventPoll` with
//! the nearest deadline as its timeout, then wakes what expired. Dropping a [`Sleep`] cancels its
//! timer.

mod interval;
mod sleep;
mod timeout;
pub(crate) mod timers;
pub(crate) mod wheel;

pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::{Duration, Instant};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// Time errors, at tokio's path: [`error::Elapsed`], the error of a [`timeout()`] whose deadline
/// passed.
pub mod error {
    pub use super::timeout::Elapsed;
}
