//! [`spawn`] and [`yield_now`].

use crate::runtime::Handle;
use crate::task::JoinHandle;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Spawns a task on the current runtime; it starts running in the background and its output is
/// available through the returned [`JoinHandle`].
///
/// # Panics
///
/// Outside a runtime context, with a message that says so and names the caller's line.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Handle::current().spawn(future)
}

/// Yields to the scheduler once: the task runs again only after the scheduler has polled its
/// driver, behind every task that is runnable then — those I/O and timers woke included — so
/// they all get their turn (tokio defers a yielded task the same way: `runtime/defer.rs`).
/// Outside a runtime's thread the task is woken at once.
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        crate::runtime::defer::defer(cx.waker());
        Poll::Pending
    }
}
