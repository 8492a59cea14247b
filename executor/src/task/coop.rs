//! The cooperative budget: a task that keeps finding its resources ready yields after a bounded
//! number of operations, so that the other tasks, I/O and timers get their turn.
//!
//! Each task poll runs with a budget of [`BUDGET`] units. Every resource of the runtime (socket
//! readiness, `Sleep`, `JoinHandle`) takes one unit when it is polled; when none is left, the
//! resource returns `Pending` **and wakes the task at once**, so the task goes to the back of
//! its run queue instead of looping. A poll that returns `Pending` for its own reasons gives
//! its unit back. Without this, a task reading a socket that always has data would never return
//! to the scheduler, and on a current-thread runtime nothing else — timers included — would run.
//!
//! ```text
//!  scheduler: budget(|| task.poll())      BUDGET = 128 units
//!      └─ socket.read().await ── poll_proceed: 127 left ── Ready
//!      └─ socket.read().await ── poll_proceed: …
//!      └─ socket.read().await ── poll_proceed: 0 left ── wake_by_ref + Pending
//!  scheduler: the task was woken during its poll → back of the run queue
//! ```

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Units per task poll (tokio's value: enough for a burst of work, small enough to bound the
/// latency the others see).
pub(crate) const BUDGET: u8 = 128;

thread_local! {
    /// `None`: unconstrained (outside a task poll, or inside [`unconstrained`]).
    static CURRENT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Restores the previous budget when dropped (also on unwind).
struct ResetGuard(Option<u8>);

impl Drop for ResetGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

fn with_budget<R>(budget: Option<u8>, f: impl FnOnce() -> R) -> R {
    let prev = CURRENT.with(|c| c.replace(budget));
    let _reset = ResetGuard(prev);
    f()
}

/// Runs one task poll with a fresh budget.
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    with_budget(Some(BUDGET), f)
}

/// Runs `f` without a budget (for a poll that already took its unit, e.g. one `JoinSet`
/// poll that looks at several member handles).
pub(crate) fn with_unconstrained<R>(f: impl FnOnce() -> R) -> R {
    with_budget(None, f)
}

/// Takes one unit of the budget for an operation about to be attempted. `Pending` (with the
/// task already woken) if the budget is spent. Call [`RestoreOnPending::made_progress`] when
/// the operation completes; if it returns `Pending` instead, the unit is given back.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    CURRENT.with(|c| match c.get() {
        None => Poll::Ready(RestoreOnPending(None)),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            c.set(Some(n - 1));
            Poll::Ready(RestoreOnPending(Some(n)))
        }
    })
}

/// A unit taken by [`poll_proceed`]: given back when dropped unless the operation made progress.
pub(crate) struct RestoreOnPending(Option<u8>);

impl RestoreOnPending {
    /// The operation completed: the unit stays spent.
    pub(crate) fn made_progress(&mut self) {
        self.0 = None;
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(n) = self.0 {
            CURRENT.with(|c| {
                if c.get().is_some() {
                    c.set(Some(n));
                }
            });
        }
    }
}

/// `Pending` (the task already woken) if the task's budget is spent, else `Ready`; consumes
/// nothing. `select!` and `join!` look here before polling their futures, so a loop over
/// futures that are always ready still yields (tokio's `poll_budget_available`).
pub fn poll_budget_available(cx: &mut Context<'_>) -> Poll<()> {
    CURRENT.with(|c| match c.get() {
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        _ => Poll::Ready(()),
    })
}

/// Consumes one unit of the task's cooperative budget, yielding to the scheduler first if it is
/// spent. For loops that do a lot of work without touching a runtime resource.
///
/// ```
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let mut sum = 0u64;
/// for i in 0..10_000u64 {
///     sum += i;
///     executor::task::consume_budget().await; // yields every 128 iterations
/// }
/// assert_eq!(sum, 49_995_000);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn consume_budget() {
    std::future::poll_fn(|cx| poll_proceed(cx).map(|mut r| r.made_progress())).await
}

/// Runs `future` without a cooperative budget: its resources never force it to yield. For a
/// future that must not be interrupted (use sparingly: it can starve the others).
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

/// The future of [`unconstrained`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Unconstrained<F> {
    future: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning: `future` is never moved out of the pinned `Unconstrained`.
        let future = unsafe { self.map_unchecked_mut(|u| &mut u.future) };
        with_budget(None, || future.poll(cx))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_budget_runs_out_after_budget_units_and_wakes_the_task() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        budget(|| {
            for _ in 0..BUDGET {
                let Poll::Ready(mut r) = poll_proceed(&mut cx) else { panic!("budget ran out early") };
                r.made_progress();
            }
            assert!(poll_proceed(&mut cx).is_pending());
        });
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        // Outside a task poll there is no budget.
        assert!(poll_proceed(&mut cx).is_ready());
    }

    #[test]
    fn a_unit_is_given_back_when_the_operation_is_pending() {
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        budget(|| {
            for _ in 0..1000 {
                let unit = poll_proceed(&mut cx);
                assert!(unit.is_ready());
                drop(unit); // the operation was Pending: nothing consumed
            }
        });
    }

    #[test]
    fn unconstrained_futures_never_run_out() {
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        budget(|| {
            let mut fut = std::pin::pin!(unconstrained(std::future::poll_fn(|cx| {
                for _ in 0..1000 {
                    let Poll::Ready(mut r) = poll_proceed(cx) else { return Poll::Ready(false) };
                    r.made_progress();
                }
                Poll::Ready(true)
            })));
            assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(true));
            // The budget of the enclosing poll is untouched.
            assert_eq!(CURRENT.with(Cell::get), Some(BUDGET));
        });
    }
}
