//! Time: [`sleep`], [`sleep_until`], [`timeout`], [`interval`], and the hierarchical timing wheel behind them.
//!
//! [`Instant::now`] reads the runtime's clock, which a test can [`pause`], [`advance`] and
//! [`resume`]: with the clock paused, an idle current-thread runtime jumps to its next timer
//! (`clock.rs`).
//!
//! Timers have millisecond resolution and never complete early. Each runtime keeps its timers in
//! a timing wheel (O(1) insert and cancel); the driver parks on the reactor's `EventPoll` with
//! the nearest deadline as its timeout, then wakes what expired. Dropping a [`Sleep`] cancels its
//! timer.

pub(crate) mod clock;
mod instant;
mod interval;
mod sleep;
mod timeout;
pub(crate) mod timers;
pub(crate) mod wheel;

pub use clock::{advance, pause, resume};
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Duration;
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// Time errors, at tokio's path: [`error::Elapsed`], the error of a [`timeout()`] whose deadline
/// passed.
pub mod error {
    pub use super::timeout::Elapsed;
}
