//! [`Notify`]: wake one task or all waiting tasks, with tokio's semantics.
//!
//! ```text
//!  Notify { state: Mutex<{ permit, waiters: WaitList<Notification> }>, calls: AtomicUsize }
//!
//!  notified() ── records `calls` (notify_waiters calls so far)
//!  first poll / enable() ── lock: calls moved? ready │ permit? take it, ready │ else queue
//!  notify_one ── lock: pop the oldest waiter, mark `One`, wake │ none: store the permit
//!  notify_waiters ── lock: calls += 1, unlink every waiter as `All`, wake them (no permit)
//!  drop of a `One` waiter that never returned Ready ── passes the notification on
//! ```
//!
//! `calls` is only written under the lock; a `Notified` reads it when created, so a
//! `notify_waiters` that happens after the `Notified` exists reaches it even if it has not been
//! polled yet (tokio's rule), and one that happened before does not.

use super::wait_list::{Key, WaitList, WakeList};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Mutex;
use crate::task::coop;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

/// Notifies one task or all waiting tasks.
///
/// * [`notify_one`](Self::notify_one) wakes the oldest waiter; if nobody waits it stores a
///   single permit, which the next [`notified`](Self::notified) consumes at once (permits do
///   not accumulate).
/// * [`notify_waiters`](Self::notify_waiters) wakes every `Notified` future that exists at
///   the time of the call (polled or not) and stores no permit.
///
/// ```
/// use executor::sync::Notify;
/// use std::sync::Arc;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let notify = Arc::new(Notify::new());
/// let n = notify.clone();
/// let waiter = executor::spawn(async move {
///     n.notified().await;
///     "notified"
/// });
/// notify.notify_one(); // stored as a permit if the task has not started waiting yet
/// assert_eq!(waiter.await.unwrap(), "notified");
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Notify {
    state: Mutex<State>,
    /// `notify_waiters` calls so far; written under `state`'s lock.
    calls: AtomicUsize,
}

struct State {
    /// A `notify_one` found nobody waiting.
    permit: bool,
    waiters: WaitList<Notification>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notification {
    Waiting,
    /// Chosen by `notify_one`: must be passed on if the future is dropped unconsumed.
    One,
    /// Reached by `notify_waiters`.
    All,
}

enum NotifiedState {
    Init,
    Waiting(Key),
    Done,
}

/// The future of [`Notify::notified`]: completes once notified.
///
/// # Cancel safety
///
/// Dropping it is safe: a `notify_one` notification it had received but not returned is passed
/// to the next waiter (or stored as the permit).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// `notify.calls` when this was created.
    calls: usize,
    state: NotifiedState,
    /// Whether `poll` takes a unit of the cooperative budget (internal users that are
    /// budgeted as a whole turn it off).
    budgeted: bool,
}

impl Notify {
    /// A `Notify` without a stored permit.
    pub fn new() -> Notify {
        Notify { state: Mutex::new(State { permit: false, waiters: WaitList::new() }), calls: AtomicUsize::new(0) }
    }

    /// A `Notify` in a `const` context.
    #[cfg(not(loom))]
    pub const fn const_new() -> Notify {
        Notify { state: Mutex::new(State { permit: false, waiters: WaitList::new() }), calls: AtomicUsize::new(0) }
    }

    /// A future that completes when this `Notify` is notified (see the type's docs). It takes
    /// part in `notify_waiters` calls made after this call even before it is polled; to take
    /// part in `notify_one` before polling, call [`Notified::enable`].
    pub fn notified(&self) -> Notified<'_> {
        Notified { notify: self, calls: self.calls.load(Ordering::SeqCst), state: NotifiedState::Init, budgeted: true }
    }

    /// [`notified`](Self::notified) without the cooperative budget, for primitives that
    /// budget their whole operation.
    pub(crate) fn notified_unbudgeted(&self) -> Notified<'_> {
        Notified { notify: self, calls: self.calls.load(Ordering::SeqCst), state: NotifiedState::Init, budgeted: false }
    }

    /// Wakes the oldest waiter, or stores a permit for the next one if nobody waits.
    pub fn notify_one(&self) {
        let waker = {
            let mut state = self.state.lock();
            Self::notify_one_locked(&mut state, false)
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes the newest waiter (LIFO), or stores a permit if nobody waits.
    pub fn notify_last(&self) {
        let waker = {
            let mut state = self.state.lock();
            Self::notify_one_locked(&mut state, true)
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn notify_one_locked(state: &mut State, last: bool) -> Option<Waker> {
        let node = if last { state.waiters.pop_back() } else { state.waiters.pop_front() };
        match node {
            Some(node) => {
                node.value = Notification::One;
                node.waker.take()
            }
            None => {
                state.permit = true;
                None
            }
        }
    }

    /// Wakes every `Notified` that exists now (waiting, enabled, or created and not yet
    /// polled); stores no permit.
    pub fn notify_waiters(&self) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.state.lock();
            self.calls.fetch_add(1, Ordering::SeqCst);
            while let Some(node) = state.waiters.pop_front() {
                node.value = Notification::All;
                if let Some(w) = node.waker.take() {
                    wakers.push(w);
                }
            }
        }
        wakers.wake_all();
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Notify").field("permit", &state.permit).field("waiters", &state.waiters).finish()
    }
}

impl Notified<'_> {
    /// Registers this future as a waiter without a waker (so `notify_one` can choose it) and
    /// returns whether it is already notified. Polling it afterwards completes at once if it
    /// was.
    ///
    /// ```
    /// use executor::sync::Notify;
    /// let notify = Notify::new();
    /// let mut first = std::pin::pin!(notify.notified());
    /// assert!(!first.as_mut().enable());
    /// notify.notify_one(); // goes to the enabled future, not to a stored permit
    /// assert!(first.as_mut().enable());
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.get_mut().poll_notified(None)
    }

    /// One step of the protocol in the module docs; `true` once notified.
    fn poll_notified(&mut self, waker: Option<&Waker>) -> bool {
        let notify = self.notify;
        match &self.state {
            NotifiedState::Done => true,
            NotifiedState::Init => {
                let mut state = notify.state.lock();
                if notify.calls.load(Ordering::SeqCst) != self.calls {
                    self.state = NotifiedState::Done;
                    return true;
                }
                if state.permit {
                    state.permit = false;
                    self.state = NotifiedState::Done;
                    return true;
                }
                let key = state.waiters.push_back(waker.cloned(), Notification::Waiting);
                self.state = NotifiedState::Waiting(key);
                false
            }
            NotifiedState::Waiting(key) => {
                let mut state = notify.state.lock();
                let node = state.waiters.get_mut(key);
                if node.value == Notification::Waiting {
                    if let Some(w) = waker {
                        node.set_waker(w);
                    }
                    return false;
                }
                let NotifiedState::Waiting(key) = std::mem::replace(&mut self.state, NotifiedState::Done) else { unreachable!() };
                state.waiters.remove(key);
                true
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.budgeted {
            let unit = ready!(coop::poll_proceed(cx));
            if !this.poll_notified(Some(cx.waker())) {
                return Poll::Pending;
            }
            unit.made_progress();
            Poll::Ready(())
        } else if this.poll_notified(Some(cx.waker())) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if let NotifiedState::Waiting(key) = std::mem::replace(&mut self.state, NotifiedState::Done) {
            let waker = {
                let mut state = self.notify.state.lock();
                let node = state.waiters.remove(key);
                if node.value == Notification::One {
                    // It was chosen but never returned Ready: pass the notification on.
                    Notify::notify_one_locked(&mut state, false)
                } else {
                    None
                }
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            NotifiedState::Init => "init",
            NotifiedState::Waiting(_) => "waiting",
            NotifiedState::Done => "done",
        };
        f.debug_struct("Notified").field("state", &state).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use tokio_test::{assert_pending, assert_ready, task};

    #[test]
    fn a_stored_permit_does_not_accumulate() {
        let n = Notify::new();
        n.notify_one();
        n.notify_one();
        assert_ready!(task::spawn(n.notified()).poll());
        assert_pending!(task::spawn(n.notified()).poll());
    }

    #[test]
    fn notify_waiters_reaches_unpolled_futures_created_before_it_only() {
        let n = Notify::new();
        let mut before = task::spawn(n.notified());
        n.notify_waiters();
        let mut after = task::spawn(n.notified());
        assert_ready!(before.poll());
        assert_pending!(after.poll());
    }

    #[test]
    fn a_dropped_chosen_waiter_forwards_the_notification() {
        let n = Notify::new();
        let mut a = task::spawn(n.notified());
        let mut b = task::spawn(n.notified());
        assert_pending!(a.poll());
        assert_pending!(b.poll());
        n.notify_one();
        assert!(a.is_woken() && !b.is_woken());
        drop(a);
        assert!(b.is_woken());
        assert_ready!(b.poll());
    }
}
