//! [`BlockingTask`]: the future a `spawn_blocking` closure becomes, so that the task core
//! (one allocation, `JoinHandle`, panic capture, cancellation) serves blocking work too.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that runs its closure to completion on its first poll.
///
/// It is polled exactly once, by a blocking-pool thread (`Notified::run`), and never returns
/// `Pending`, so the task never registers a waker and is never rescheduled. The closure may block
/// for as long as it likes: nothing else runs on that thread meanwhile.
///
/// Not cooperative: the closure is not async code and must never be asked to yield. The task
/// core has no cooperative budget today; if one is added, this poll must opt out of it (tokio's
/// `coop::stop()`), otherwise a blocking closure's nested `block_on` would see an exhausted budget.
pub(crate) struct BlockingTask<F> {
    func: Option<F>,
}

impl<F> BlockingTask<F> {
    pub(crate) fn new(func: F) -> BlockingTask<F> {
        BlockingTask { func: Some(func) }
    }
}

// The closure is never pinned: it is moved out of the `Option` before it is called.
impl<F> Unpin for BlockingTask<F> {}

impl<F, R> Future for BlockingTask<F>
where
    F: FnOnce() -> R,
{
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let func = self.func.take().expect("a blocking task was polled after it completed");
        Poll::Ready(func())
    }
}
