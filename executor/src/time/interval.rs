//! [`interval`]: ticks at a fixed period, with a choice of what to do about missed ticks.

use super::sleep::{sleep_until, Sleep};
use super::Instant;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Ticks every `period`, the first tick completing immediately.
///
/// # Panics
///
/// If `period` is zero, or outside a runtime context (the message names the caller's line).
///
/// ```
/// # let rt = executor::runtime::Runtime::new()?;
/// # rt.block_on(async {
/// use executor::time::interval;
/// use std::time::Duration;
/// let mut every = interval(Duration::from_millis(2));
/// let first = every.tick().await; // at once
/// let second = every.tick().await; // 2 ms later
/// assert_eq!(second - first, Duration::from_millis(2));
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks at `start`, then every `period`.
///
/// # Panics
///
/// If `period` is zero, or outside a runtime context (the message names the caller's line).
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero");
    Interval { sleep: Box::pin(sleep_until(start)), period, missed: MissedTickBehavior::default() }
}

/// What an [`Interval`] does when ticks were missed (the consumer was late by more than a
/// period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up with the original schedule.
    #[default]
    Burst,
    /// Start a new schedule: the next tick is one period after the late one.
    Delay,
    /// Keep the original schedule but drop the missed ticks: the next tick is the next
    /// multiple of the period after now.
    Skip,
}

/// Late by no more than this, a tick does not count as missed (tokio's tolerance).
const TOLERANCE: Duration = Duration::from_millis(5);

impl MissedTickBehavior {
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => scheduled + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let late = now.saturating_duration_since(scheduled).as_nanos();
                let p = period.as_nanos();
                let periods = late / p + 1;
                scheduled + Duration::from_nanos((periods * p).min(u64::MAX as u128) as u64)
            }
        }
    }
}

/// The stream of ticks of [`interval`].
pub struct Interval {
    sleep: Pin<Box<Sleep>>,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        let next = if now > scheduled + TOLERANCE { self.missed.next(scheduled, now, self.period) } else { scheduled + self.period };
        self.sleep.as_mut().reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// ```
    /// # let rt = executor::runtime::Builder::new_current_thread().build()?;
    /// # rt.block_on(async {
    /// use executor::time::{interval, Duration, Instant};
    /// let mut every = interval(Duration::from_millis(50));
    /// every.tick().await; // at once
    /// every.reset_immediately();
    /// every.tick().await; // at once again
    /// let before = Instant::now();
    /// every.reset_after(Duration::from_millis(5));
    /// let tick = every.tick().await; // 5 ms from the reset, then every 50 ms from there
    /// assert!(tick >= before + Duration::from_millis(5));
    /// # });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&mut self) {
        self.reset_at(Instant::now() + self.period);
    }

    /// Restarts the schedule at once: the next tick completes immediately, the following ones
    /// every period from now.
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule: the next tick is `after` from now, the following ones every
    /// period from there.
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(Instant::now().checked_add(after).unwrap_or_else(super::sleep::far_future));
    }

    /// Restarts the schedule: the next tick is at `deadline` (at once if it has passed), the
    /// following ones every period from there.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.sleep.as_mut().reset(deadline);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens to missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Chooses what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval").field("period", &self.period).field("missed", &self.missed).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Runtime;
    use tokio_test::{assert_pending, assert_ready, task};

    #[test]
    fn first_tick_is_immediate_then_one_per_period() {
        let rt = Runtime::new().unwrap();
        let _ctx = rt.enter();
        let mut iv = interval(Duration::from_millis(20));
        let mut t = task::spawn(poll_fn(|cx| iv.poll_tick(cx)));
        let first = assert_ready!(t.poll());
        drop(t);
        let mut t = task::spawn(poll_fn(|cx| iv.poll_tick(cx)));
        assert_pending!(t.poll());
        rt.block_on(crate::time::sleep(Duration::from_millis(30)));
        assert!(t.is_woken());
        let second = assert_ready!(t.poll());
        assert_eq!(second - first, Duration::from_millis(20));
    }

    #[test]
    fn missed_ticks_burst_delay_or_skip() {
        let period = Duration::from_millis(10);
        let start = Instant::now();
        let now = start + Duration::from_millis(35);
        assert_eq!(MissedTickBehavior::Burst.next(start, now, period), start + period);
        assert_eq!(MissedTickBehavior::Delay.next(start, now, period), now + period);
        assert_eq!(MissedTickBehavior::Skip.next(start, now, period), start + Duration::from_millis(40));
    }

    #[test]
    fn late_consumer_gets_burst_ticks_by_default() {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut iv = interval(Duration::from_millis(10));
            let t0 = iv.tick().await;
            std::thread::sleep(Duration::from_millis(35));
            // Three missed ticks fire back to back, each with its scheduled instant.
            for k in 1..=3u32 {
                assert_eq!(iv.tick().await, t0 + Duration::from_millis(10) * k);
            }
        });
    }

    #[test]
    fn skip_drops_missed_ticks_and_keeps_the_schedule() {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut iv = interval(Duration::from_millis(10));
            iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
            let t0 = iv.tick().await;
            std::thread::sleep(Duration::from_millis(35));
            assert_eq!(iv.tick().await, t0 + Duration::from_millis(10));
            let late = Instant::now();
            let next = iv.tick().await;
            // The missed ticks are dropped: the next one is on the original 10 ms grid, the
            // first grid point after the late tick (how late depends on the machine's load).
            let offset = (next - t0).as_nanos();
            assert_eq!(offset % Duration::from_millis(10).as_nanos(), 0, "{offset} ns is off the grid");
            assert!(next + Duration::from_millis(10) > late && next >= t0 + Duration::from_millis(40), "{:?}", next - t0);
        });
    }

    #[test]
    fn resets_move_the_next_tick_and_restart_the_schedule_from_it() {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let period = Duration::from_millis(40);
            let mut iv = interval(period);
            iv.tick().await;
            // Immediately: the next tick is now, the following one a period later.
            iv.reset_immediately();
            let t1 = iv.tick().await;
            assert_eq!(iv.sleep.deadline(), t1 + period);
            // After a delay: the next tick is that far from the reset.
            let before = Instant::now();
            iv.reset_after(Duration::from_millis(3));
            let t2 = iv.tick().await;
            assert!(t2 >= before + Duration::from_millis(3) && t2 <= Instant::now());
            assert_eq!(iv.sleep.deadline(), t2 + period);
            // At an instant.
            let at = Instant::now() + Duration::from_millis(2);
            iv.reset_at(at);
            assert_eq!(iv.tick().await, at);
            // `reset`: a period from now.
            let before = Instant::now();
            iv.reset();
            assert!(iv.sleep.deadline() >= before + period);
        });
    }

    #[test]
    #[should_panic(expected = "`period` must be non-zero")]
    fn zero_period_panics() {
        let rt = Runtime::new().unwrap();
        let _ctx = rt.enter();
        let _ = interval(Duration::ZERO);
    }
}
