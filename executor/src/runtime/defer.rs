//! Deferred wake-ups: a task that yields ([`yield_now`](crate::task::yield_now), or a spent
//! cooperative budget) is woken only after the scheduler has polled the driver, so the tasks
//! that I/O and timers made ready meanwhile run before it runs again.
//!
//! Waking it at once would put it straight back on the run queue; since the driver is polled
//! only when the queue empties or every `event_interval` ticks (61), a task that yields in a
//! loop would run dozens of times before a socket's task whose data has already arrived (tokio
//! defers yielded tasks for the same reason).
//!
//! ```text
//!   task: yield_now ── defer(waker): the thread's list ← waker      (no lock, no system call)
//!   scheduler: no task left, or event_interval ticks ─▶ poll the driver (I/O, timers wake
//!              their tasks: they are queued first) ─▶ wake(): the deferred tasks are queued
//!              after them, at the back (never in the multi-thread LIFO slot)
//! ```
//!
//! The list is thread-local and exists only while the thread drives a scheduler (the thread in
//! a current-thread `block_on`, a multi-thread worker): there [`defer`] pushes, elsewhere it
//! wakes at once. The driver poll costs no system call when nothing waits on the driver (no
//! registration, no timer: `Driver::is_idle`), so a lone yielder stays cheap.

use std::cell::RefCell;
use std::task::Waker;

thread_local! {
    /// `Some` while this thread drives a scheduler.
    static DEFERRED: RefCell<Option<Vec<Waker>>> = const { RefCell::new(None) };
}

/// Wakes `waker` after the scheduler driving this thread next polls its driver, or at once if
/// this thread drives no scheduler.
pub(crate) fn defer(waker: &Waker) {
    let deferred = DEFERRED
        .try_with(|d| match d.try_borrow_mut().as_deref_mut() {
            Ok(Some(list)) => {
                // A task that yields several times before the list is woken is queued once.
                if !list.last().is_some_and(|last| last.will_wake(waker)) {
                    list.push(waker.clone());
                }
                true
            }
            _ => false,
        })
        .unwrap_or(false);
    if !deferred {
        waker.wake_by_ref();
    }
}

/// Makes this thread defer yielded tasks until the scope is dropped (which wakes those left).
///
/// Scopes nest: a `block_on` inside `block_in_place` on a worker gets its own list, and the
/// worker's list (with what it holds) is back when that `block_on` returns.
pub(crate) struct Scope {
    /// The list of the enclosing scope, restored on drop.
    outer: Option<Vec<Waker>>,
}

impl Scope {
    pub(crate) fn enter() -> Scope {
        let outer = DEFERRED.try_with(|d| d.borrow_mut().replace(Vec::new())).ok().flatten();
        Scope { outer }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let outer = self.outer.take();
        let left = DEFERRED.try_with(|d| std::mem::replace(&mut *d.borrow_mut(), outer)).ok().flatten();
        // Outside the scope now: these go to the scheduler's queues as remote wake-ups.
        left.into_iter().flatten().for_each(Waker::wake);
    }
}

/// Whether tasks wait in this thread's list.
pub(crate) fn is_empty() -> bool {
    DEFERRED.try_with(|d| d.borrow().as_ref().is_none_or(Vec::is_empty)).unwrap_or(true)
}

/// Wakes every deferred task of this thread; returns whether there was any.
pub(crate) fn wake() -> bool {
    let list = DEFERRED.try_with(|d| d.borrow_mut().as_mut().map(std::mem::take)).ok().flatten();
    let Some(mut list) = list else { return false };
    if list.is_empty() {
        return false;
    }
    // Woken outside the borrow: a waker may defer again (a task that is not ours, polled by a
    // waker's own code), which must find the list.
    list.drain(..).for_each(Waker::wake);
    // Keep the allocation for the next round unless tasks were deferred meanwhile.
    let _ = DEFERRED.try_with(|d| {
        if let Some(current) = d.borrow_mut().as_mut() {
            if current.is_empty() {
                *current = list;
            }
        }
    });
    true
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_util::WakeCount;

    #[test]
    fn a_nested_scope_keeps_the_outer_list_and_wakes_its_own_on_drop() {
        let ((outer, outer_waker), (inner, inner_waker)) = (WakeCount::new(), WakeCount::new());
        let _outer_scope = Scope::enter();
        defer(&outer_waker);
        {
            // A `block_on` inside `block_in_place` on a worker: a list of its own.
            let _inner_scope = Scope::enter();
            assert!(is_empty(), "the inner scope starts empty");
            defer(&inner_waker);
            assert_eq!(inner.get(), 0, "deferred, not woken");
        }
        assert_eq!(inner.get(), 1, "the inner scope's drop wakes what it held");
        assert_eq!(outer.get(), 0);
        assert!(!is_empty(), "the outer list is back, with its task");
        assert!(wake());
        assert_eq!(outer.get(), 1);
    }
}
