//! The cooperative budget: a task that keeps finding its resources ready yields after a bounded
//! number of operations, so that the other tasks, I/O and timers get their turn (tokio's
//! `task::coop`, at the same path).
//!
//! Each task poll runs with a budget of 128 units. Every operation of the runtime's resources
//! (a socket read or write, `Sleep`, `JoinHandle`, a channel receive, a lock) takes one unit
//! when it completes; when none is left, the resource returns `Pending` **and the task is
//! deferred** (woken after the scheduler's next driver poll, see `runtime/defer.rs`), so it
//! goes behind the tasks I/O made ready instead of looping. An operation that returns `Pending`
//! for its own reasons gives its unit back. Without this, a task reading a socket that always
//! has data would never return to the scheduler, and on a current-thread runtime nothing else —
//! timers included — would run.
//!
//! ```text
//!  scheduler: budget(|| task.poll())      BUDGET = 128 units
//!      └─ socket.read().await ── poll_proceed: 127 left ── Ready
//!      └─ socket.read().await ── poll_proceed: …
//!      └─ socket.read().await ── poll_proceed: 0 left ── defer(waker) + Pending
//!  scheduler: polls the driver, runs what it woke, then the deferred task
//! ```
//!
//! Waiting for readiness (`readable()`, `writable()`, `ready()`) takes no unit, as in tokio:
//! the operation that follows does. Your own resources join in with [`poll_proceed`] (or wrap a
//! future in [`cooperative`]).

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
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

fn with_budget<R>(budget: Option<u8>, f: impl FnOnce() -> R) -> R {
    // Unconstrained if the thread's locals are being destroyed.
    let prev = CURRENT.try_with(|c| c.replace(budget)).unwrap_or(None);
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

/// Takes one unit of the task's budget for an operation about to be attempted, or returns
/// `Pending` — with the task deferred until the scheduler has polled its driver — if the budget
/// is spent. Call [`RestoreOnPending::made_progress`] when the operation completes; if it
/// returns `Pending` instead, dropping the [`RestoreOnPending`] gives the unit back.
///
/// Outside a task poll (or inside [`unconstrained`]) there is no budget: always `Ready`.
///
/// ```
/// use executor::task::coop;
/// use std::pin::Pin;
/// use std::task::{ready, Context, Poll};
///
/// /// A counter that is always ready, made cooperative.
/// struct Ticks(u64);
///
/// impl Ticks {
///     fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<u64> {
///         let coop = ready!(coop::poll_proceed(cx));
///         self.0 += 1;
///         coop.made_progress();
///         Poll::Ready(self.0)
///     }
/// }
/// # let rt = executor::runtime::Builder::new_current_thread().build()?;
/// # rt.block_on(async {
/// let mut ticks = Ticks(0);
/// for _ in 0..1000 {
///     std::future::poll_fn(|cx| ticks.poll_tick(cx)).await; // yields every 128 ticks
/// }
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    let taken = CURRENT.try_with(|c| match c.get() {
        None => Some(None),
        Some(0) => None,
        Some(n) => {
            c.set(Some(n - 1));
            Some(Some(n))
        }
    });
    match taken {
        Ok(Some(before)) => Poll::Ready(RestoreOnPending(Cell::new(before))),
        Ok(None) => {
            crate::runtime::defer::defer(cx.waker());
            Poll::Pending
        }
        // The thread's locals are being destroyed: no budget.
        Err(_) => Poll::Ready(RestoreOnPending(Cell::new(None))),
    }
}

/// Whether the current task has budget left (always `true` outside a task poll). A future that
/// combines an inner future with its own resource can tell whether the inner one spent the
/// budget — as [`timeout`](crate::time::timeout) does, to check its deadline regardless.
pub fn has_budget_remaining() -> bool {
    CURRENT.try_with(|c| c.get() != Some(0)).unwrap_or(true)
}

/// A unit taken by [`poll_proceed`]: given back when dropped unless the operation made progress.
#[must_use = "dropping it gives the unit back: call `made_progress` when the operation completed"]
#[derive(Debug)]
pub struct RestoreOnPending(Cell<Option<u8>>);

impl RestoreOnPending {
    /// The operation completed: the unit stays spent.
    pub fn made_progress(&self) {
        self.0.set(None);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(n) = self.0.get() {
            let _ = CURRENT.try_with(|c| {
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
    std::future::poll_fn(|cx| poll_proceed(cx).map(|r| r.made_progress())).await
}

/// Runs `future` without a cooperative budget: its resources never force it to yield. For a
/// future that must not be interrupted (use sparingly: it can starve the others).
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

/// The future of [`unconstrained`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
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

/// Makes `future` take part in the budget: each poll takes one unit first (and yields if none
/// is left), kept if the future completes. For futures of other libraries, which do not.
///
/// ```
/// use executor::task::coop::cooperative;
///
/// # let rt = executor::runtime::Builder::new_current_thread().build()?;
/// # rt.block_on(async {
/// // An always-ready future of another library, looped on: it now yields every 128 rounds.
/// for i in 0..1000 {
///     assert_eq!(cooperative(std::future::ready(i)).await, i);
/// }
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn cooperative<F: Future>(future: F) -> Coop<F> {
    Coop { future }
}

/// The future of [`cooperative`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Coop<F> {
    future: F,
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let coop = std::task::ready!(poll_proceed(cx));
        // SAFETY: structural pinning: `future` is never moved out of the pinned `Coop`.
        let future = unsafe { self.map_unchecked_mut(|c| &mut c.future) };
        let out = std::task::ready!(future.poll(cx));
        coop.made_progress();
        Poll::Ready(out)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_util::WakeCount;

    #[test]
    fn the_budget_runs_out_after_budget_units_and_wakes_the_task() {
        let (count, waker) = WakeCount::new();
        let mut cx = Context::from_waker(&waker);
        budget(|| {
            for _ in 0..BUDGET {
                assert!(has_budget_remaining());
                let Poll::Ready(r) = poll_proceed(&mut cx) else { panic!("budget ran out early") };
                r.made_progress();
            }
            assert!(!has_budget_remaining());
            assert!(poll_proceed(&mut cx).is_pending());
        });
        assert_eq!(count.get(), 1);
        // Outside a task poll there is no budget.
        assert!(poll_proceed(&mut cx).is_ready());
    }

    #[test]
    fn a_unit_is_given_back_when_the_operation_is_pending() {
        let (_, waker) = WakeCount::new();
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
        let (_, waker) = WakeCount::new();
        let mut cx = Context::from_waker(&waker);
        budget(|| {
            let mut fut = std::pin::pin!(unconstrained(std::future::poll_fn(|cx| {
                for _ in 0..1000 {
                    let Poll::Ready(r) = poll_proceed(cx) else { return Poll::Ready(false) };
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
