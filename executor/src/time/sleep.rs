//! [`Sleep`]: a future that completes at an instant, registered in the runtime's timing wheel.

use super::timers::{TimerKey, RUNTIME_SHUTTING_DOWN};
use super::Instant;
use crate::runtime::Handle;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Waits until `duration` has elapsed. Millisecond resolution; never completes early.
///
/// # Panics
///
/// Outside a runtime context (the message names the caller's line). Polled after its runtime
/// shut down: "A runtime context was found, but it is being shut down", as tokio.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now().checked_add(duration).unwrap_or_else(far_future))
}

/// Waits until `deadline`. Millisecond resolution; never completes early.
///
/// # Panics
///
/// As [`sleep`].
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline, handle: Handle::current(), key: None }
}

/// About 30 years from now: a deadline for "never" that stays representable.
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400 * 365 * 30)
}

/// The future of [`sleep`] and [`sleep_until`]. Dropping it cancels the timer (O(1)).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    handle: Handle,
    /// The timer in the wheel, once polled and until it fires or is cancelled.
    key: Option<TimerKey>,
}

impl Sleep {
    /// The instant this sleep completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed (by the runtime's clock).
    pub fn is_elapsed(&self) -> bool {
        self.handle.driver().timers().now() >= self.deadline
    }

    /// Moves the deadline (earlier or later); the sleep may be polled again after completing.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        if let Some(key) = this.key.take() {
            this.handle.driver().timers().remove(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let timers = this.handle.driver().timers();
        // Fail at once, whatever the budget: nothing will ever fire this timer.
        if timers.is_shutdown() {
            panic!("{RUNTIME_SHUTTING_DOWN}");
        }
        let coop = std::task::ready!(crate::task::coop::poll_proceed(cx));
        if timers.now() >= this.deadline {
            if let Some(key) = this.key.take() {
                timers.remove(key);
            }
            coop.made_progress();
            return Poll::Ready(());
        }
        this.key = Some(match this.key.and_then(|key| timers.update(key, this.deadline, cx.waker())) {
            Some(key) => key,
            // Refused: the runtime shut down since the check above.
            None => timers.insert(this.deadline, cx.waker().clone()).unwrap_or_else(|| panic!("{RUNTIME_SHUTTING_DOWN}")),
        });
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.handle.driver().timers().remove(key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep").field("deadline", &self.deadline).field("registered", &self.key.is_some()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Runtime;
    use crate::time::timeout;
    use tokio_test::{assert_pending, assert_ready, assert_ready_err, task};

    fn pending_timers(rt: &Runtime) -> usize {
        rt.handle().driver().timers().len()
    }

    #[test]
    fn sleep_is_pending_until_the_driver_fires_it_then_ready() {
        let rt = Runtime::new().unwrap();
        let _ctx = rt.enter();
        let mut s = task::spawn(sleep(Duration::from_millis(20)));
        assert_pending!(s.poll());
        assert!(!s.is_woken());
        assert_eq!(pending_timers(&rt), 1);
        // Drive the runtime past the deadline: the driver fires the timer and wakes the sleeper.
        rt.block_on(sleep(Duration::from_millis(40)));
        assert!(s.is_woken());
        assert_ready!(s.poll());
        assert_eq!(pending_timers(&rt), 0);
    }

    #[test]
    fn dropping_a_sleep_cancels_its_timer() {
        let rt = Runtime::new().unwrap();
        let _ctx = rt.enter();
        let mut s = task::spawn(sleep(Duration::from_secs(3600)));
        assert_pending!(s.poll());
        assert_pending!(s.poll());
        assert_eq!(pending_timers(&rt), 1, "re-polling keeps one timer");
        drop(s);
        assert_eq!(pending_timers(&rt), 0);
    }

    #[test]
    fn reset_moves_the_deadline() {
        let rt = Runtime::new().unwrap();
        let _ctx = rt.enter();
        let mut s = task::spawn(sleep(Duration::from_secs(3600)));
        assert_pending!(s.poll());
        let now = Instant::now();
        s.enter(|_, sleep| sleep.reset(now));
        assert_ready!(s.poll());
        assert_eq!(pending_timers(&rt), 0);
    }

    #[test]
    fn timeout_is_pending_then_elapsed() {
        let rt = Runtime::new().unwrap();
        let _ctx = rt.enter();
        let mut t = task::spawn(timeout(Duration::from_millis(10), std::future::pending::<()>()));
        assert_pending!(t.poll());
        rt.block_on(sleep(Duration::from_millis(25)));
        assert!(t.is_woken());
        assert_ready_err!(t.poll());
    }

    #[test]
    fn timeout_returns_the_inner_output_when_ready_first() {
        let rt = Runtime::new().unwrap();
        let _ctx = rt.enter();
        let mut t = task::spawn(timeout(Duration::from_millis(10), async { 9 }));
        assert_eq!(assert_ready!(t.poll()).unwrap(), 9);
    }

    #[test]
    fn yield_now_is_pending_once_and_wakes_itself() {
        let mut y = task::spawn(crate::task::yield_now());
        assert_pending!(y.poll());
        assert!(y.is_woken());
        assert_ready!(y.poll());
    }

    #[test]
    fn sleep_outside_a_runtime_panics_with_a_clear_message() {
        let err = std::panic::catch_unwind(|| drop(sleep(Duration::from_millis(1)))).unwrap_err();
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("no runtime running"), "{msg}");
    }
}
