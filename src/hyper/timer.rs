//! [`Timer`]: hyper's `rt::Timer` on the runtime's timing wheel.

use crate::time::{self, Instant};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// hyper's [`Timer`](::hyper::rt::Timer) on the runtime's timers: what hyper needs for
/// `header_read_timeout`, keep-alive timeouts and the client pool's idle timeout
/// (`http1::Builder::timer(Timer::new())`). hyper-util's `TokioTimer`, here.
///
/// Sleeps are [`time::Sleep`]s in the runtime's timing wheel (millisecond resolution, never
/// early); hyper's `reset` moves a sleep in the wheel instead of allocating a new one.
///
/// # Panics
///
/// `sleep` and `sleep_until` panic outside a runtime context, as [`time::sleep`] does.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct Timer;

impl Timer {
    /// A timer on the current runtime's timing wheel.
    pub fn new() -> Timer {
        Timer
    }
}

impl ::hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(TimerSleep(time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(TimerSleep(time::sleep_until(Instant::from_std(deadline))))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<TimerSleep>() {
            Some(ours) => Pin::new(&mut ours.get_mut().0).reset(Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A runtime [`time::Sleep`] as hyper's `rt::Sleep` (a local type: the trait and the sleep
/// are both foreign here).
struct TimerSleep(time::Sleep);

impl Future for TimerSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl ::hyper::rt::Sleep for TimerSleep {}
