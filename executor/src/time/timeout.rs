//! [`timeout`]: a future with a deadline.

use super::sleep::{sleep, sleep_until, Sleep};
use super::Instant;
use crate::task::coop;
use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Requires `future` to complete within `duration`, else resolves to [`Elapsed`] (and drops
/// the future).
///
/// The deadline is checked at every poll, even when the inner future spent the task's
/// cooperative budget (a future that always does would otherwise never time out).
///
/// # Panics
///
/// Outside a runtime context (the message names the caller's line).
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout { future: Box::pin(future.into_future()), sleep: sleep(duration) }
}

/// Requires `future` to complete before `deadline`, else resolves to [`Elapsed`].
///
/// # Panics
///
/// Outside a runtime context.
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout { future: Box::pin(future.into_future()), sleep: sleep_until(deadline) }
}

/// The future of [`timeout`]: the inner future is polled first, so one that is ready at the
/// deadline still wins.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    future: Pin<Box<F>>,
    sleep: Sleep,
}

impl<F> Timeout<F> {
    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let had_budget = coop::has_budget_remaining();
        if let Poll::Ready(v) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Ok(v));
        }
        // If the inner future spent the last of the budget, the timer would refuse to run (and
        // a future that always spends it would never time out): check the deadline without
        // the budget. A budget spent before this poll is the scheduler's business: respect it.
        let sleep = Pin::new(&mut self.sleep);
        let elapsed =
            if had_budget && !coop::has_budget_remaining() { coop::with_unconstrained(|| sleep.poll(cx)) } else { sleep.poll(cx) };
        elapsed.map(|()| Err(Elapsed(())))
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout").field("sleep", &self.sleep).finish_non_exhaustive()
    }
}

/// The error of a [`Timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}
