//! The fair, permit-counting semaphore under [`Mutex`](super::Mutex), [`RwLock`](super::RwLock),
//! [`Semaphore`](super::Semaphore), the bounded `mpsc` channel's capacity and
//! [`OnceCell`](super::OnceCell)'s initialiser.
//!
//! ```text
//!  permits: AtomicUsize = available << 1 | CLOSED
//!  waiters: Mutex<WaitList<Waiter>>         (FIFO; a waiter holds `requested - remaining`)
//! ```
//!
//! The protocol:
//!
//! 1. **Invariant: while a waiter is queued, `available == 0`.** Released permits go to the
//!    queue's head first and reach the counter only when the queue is empty, so the lock-free
//!    fast path (`try_acquire`, a CAS that only ever *decreases* the counter) can never take
//!    permits a queued waiter is owed: it is fair without taking the lock.
//! 2. **Acquire** tries the CAS; if too few permits are available it takes the lock, takes
//!    whatever is available (partial), and queues a waiter for the rest. Taking the lock before
//!    the re-check is what makes a concurrent release find it: every *increase* of the counter
//!    happens under the same lock.
//! 3. **Release** takes the lock and assigns permits to the head (a waiter whose `remaining`
//!    reaches 0 is unlinked, marked `Granted`, and its waker collected) until the permits or the
//!    queue run out; leftovers go to the counter. Wakers are woken after the lock is released,
//!    at most [`BATCH`](super::wait_list::BATCH) per lock hold (the lock is released and taken
//!    again to continue).
//! 4. **Cancel** (drop of a pending acquire): the owner removes its node under the lock and
//!    releases what it held — the permits assigned so far, or all of them if it was `Granted`
//!    but never polled — to the next waiters, through step 3.
//! 5. **Close** sets `CLOSED`, unlinks every waiter as `Closed` (their partial permits go back
//!    to the counter) and wakes them; later acquires fail at once.
//!
//! The `loom` models in `loom_semaphore.rs` check steps 2–4 against each other.

use super::wait_list::{Key, WaitList, WakeList};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Mutex;
use crate::task::coop;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

const CLOSED: usize = 1;
const SHIFT: u32 = 1;

/// The most permits a semaphore can hold (tokio's value: three bits below `usize::MAX`, so
/// that a count plus a request never overflows the shifted word).
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// Why a queued acquire finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Waiting,
    Granted,
    Closed,
}

/// A queued acquire's state in its node.
#[derive(Debug)]
pub(crate) struct Waiter {
    requested: usize,
    remaining: usize,
    outcome: Outcome,
}

/// The semaphore core (see the module docs).
pub(crate) struct Semaphore {
    /// `available << 1 | CLOSED`. Increased only with `waiters` locked (protocol step 2).
    permits: AtomicUsize,
    /// Queued acquires, oldest first.
    waiters: Mutex<WaitList<Waiter>>,
}

/// The semaphore was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// Why a `try_acquire` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryAcquire {
    Closed,
    NoPermits,
}

impl Semaphore {
    pub(crate) fn new(permits: usize) -> Semaphore {
        assert!(permits <= MAX_PERMITS, "a semaphore may not have more than MAX_PERMITS permits ({MAX_PERMITS})");
        Semaphore { permits: AtomicUsize::new(permits << SHIFT), waiters: Mutex::new(WaitList::new()) }
    }

    #[cfg(not(loom))]
    pub(crate) const fn const_new(permits: usize) -> Semaphore {
        assert!(permits <= MAX_PERMITS, "a semaphore may not have more than MAX_PERMITS permits");
        Semaphore { permits: AtomicUsize::new(permits << SHIFT), waiters: Mutex::new(WaitList::new()) }
    }

    /// A semaphore that is closed from the start (and has no permits).
    pub(crate) fn new_closed() -> Semaphore {
        Semaphore { permits: AtomicUsize::new(CLOSED), waiters: Mutex::new(WaitList::new()) }
    }

    pub(crate) fn available_permits(&self) -> usize {
        self.permits.load(Ordering::Acquire) >> SHIFT
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.permits.load(Ordering::Acquire) & CLOSED == CLOSED
    }

    /// Takes `n` permits if they are available now (protocol step 1: never ahead of a queued
    /// waiter, who is owed every permit until it is satisfied).
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquire> {
        let mut cur = self.permits.load(Ordering::Acquire);
        loop {
            if cur & CLOSED == CLOSED {
                return Err(TryAcquire::Closed);
            }
            if cur >> SHIFT < n {
                return Err(TryAcquire::NoPermits);
            }
            match self.permits.compare_exchange_weak(cur, cur - (n << SHIFT), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Removes up to `n` available permits for good; returns how many.
    pub(crate) fn forget_permits(&self, n: usize) -> usize {
        let mut cur = self.permits.load(Ordering::Acquire);
        loop {
            let take = (cur >> SHIFT).min(n);
            match self.permits.compare_exchange_weak(cur, cur - (take << SHIFT), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return take,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Returns `n` permits: to the queued waiters first, oldest first, then to the counter
    /// (protocol step 3).
    ///
    /// # Panics
    ///
    /// If the counter would exceed [`MAX_PERMITS`].
    pub(crate) fn release(&self, mut n: usize) {
        if n == 0 {
            return;
        }
        let mut wakers = WakeList::new();
        let mut list = self.waiters.lock();
        loop {
            while n > 0 {
                let Some(head) = list.front_mut() else { break };
                let w = &mut head.value;
                let take = n.min(w.remaining);
                w.remaining -= take;
                n -= take;
                if w.remaining == 0 {
                    let head = list.pop_front().expect("the head was just seen");
                    head.value.outcome = Outcome::Granted;
                    if let Some(waker) = head.waker.take() {
                        wakers.push(waker);
                    }
                    if wakers.is_full() {
                        break;
                    }
                }
            }
            if n > 0 && !list.is_empty() {
                // A full batch: wake it without the lock, then go on with the next waiters.
                drop(list);
                wakers.wake_all();
                list = self.waiters.lock();
                continue;
            }
            break;
        }
        if n > 0 {
            // The queue is empty (step 1's invariant holds with the new permits on the counter).
            let cur = self.permits.load(Ordering::Acquire) >> SHIFT;
            assert!(n <= MAX_PERMITS - cur, "number of added permits ({n}) would overflow MAX_PERMITS ({MAX_PERMITS})");
            self.permits.fetch_add(n << SHIFT, Ordering::AcqRel);
        }
        drop(list);
        wakers.wake_all();
    }

    /// Closes the semaphore: every queued and future acquire fails (protocol step 5).
    pub(crate) fn close(&self) {
        let mut wakers = WakeList::new();
        let mut list = self.waiters.lock();
        self.permits.fetch_or(CLOSED, Ordering::AcqRel);
        let mut returned = 0;
        while let Some(node) = list.pop_front() {
            returned += node.value.requested - node.value.remaining;
            node.value.remaining = node.value.requested;
            node.value.outcome = Outcome::Closed;
            if let Some(waker) = node.waker.take() {
                wakers.push(waker);
            }
        }
        if returned > 0 {
            self.permits.fetch_add(returned << SHIFT, Ordering::AcqRel);
        }
        drop(list);
        wakers.wake_all();
    }

    /// A future that takes `n` permits, waiting its turn in the queue.
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire { sem: self, n, node: None, done: false }
    }

    /// One poll of an acquire: the fast path, then the queue (protocol step 2).
    fn poll_acquire(&self, cx: &mut Context<'_>, n: usize, node: &mut Option<Key>) -> Poll<Result<(), Closed>> {
        if let Some(key) = node {
            let mut list = self.waiters.lock();
            let entry = list.get_mut(key);
            let outcome = entry.value.outcome;
            if outcome == Outcome::Waiting {
                entry.set_waker(cx.waker());
                return Poll::Pending;
            }
            let key = node.take().expect("checked above");
            list.remove(key);
            return Poll::Ready(if outcome == Outcome::Granted { Ok(()) } else { Err(Closed) });
        }
        match self.try_acquire(n) {
            Ok(()) => return Poll::Ready(Ok(())),
            Err(TryAcquire::Closed) => return Poll::Ready(Err(Closed)),
            Err(TryAcquire::NoPermits) => {}
        }
        let mut list = self.waiters.lock();
        // Re-check under the lock: a release that ran since the CAS has put its permits on
        // the counter, and one that runs after this point will find the queued waiter.
        let mut cur = self.permits.load(Ordering::Acquire);
        let taken = loop {
            if cur & CLOSED == CLOSED {
                return Poll::Ready(Err(Closed));
            }
            let take = (cur >> SHIFT).min(n);
            match self.permits.compare_exchange_weak(cur, cur - (take << SHIFT), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break take,
                Err(actual) => cur = actual,
            }
        };
        if taken == n {
            return Poll::Ready(Ok(()));
        }
        let waiter = Waiter { requested: n, remaining: n - taken, outcome: Outcome::Waiting };
        *node = Some(list.push_back(Some(cx.waker().clone()), waiter));
        Poll::Pending
    }

    /// The drop of a pending acquire: hands back what it held (protocol step 4).
    fn cancel(&self, key: Key) {
        let mut list = self.waiters.lock();
        let w = list.remove(key).value;
        drop(list);
        let held = match w.outcome {
            Outcome::Waiting => w.requested - w.remaining,
            Outcome::Granted => w.requested,
            Outcome::Closed => 0,
        };
        self.release(held);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore").field("permits", &self.available_permits()).field("closed", &self.is_closed()).finish()
    }
}

/// The future of [`Semaphore::acquire`]: `Ok` once it holds its permits (which the caller
/// must [`release`](Semaphore::release)), `Err` if the semaphore was closed.
///
/// Each poll takes one unit of the task's cooperative budget (given back if it is pending).
/// Dropping it while queued gives back the permits it was assigned.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub(crate) struct Acquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    node: Option<Key>,
    done: bool,
}

impl Future for Acquire<'_> {
    type Output = Result<(), Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "`Acquire` polled after completion");
        let unit = ready!(coop::poll_proceed(cx));
        let res = ready!(this.sem.poll_acquire(cx, this.n, &mut this.node));
        unit.made_progress();
        this.done = true;
        Poll::Ready(res)
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.node.take() {
            self.sem.cancel(key);
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire").field("permits", &self.n).field("queued", &self.node.is_some()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};

    #[test]
    fn release_goes_to_the_queue_before_the_counter() {
        let s = Semaphore::new(0);
        let mut a = task::spawn(s.acquire(2));
        assert_pending!(a.poll());
        s.release(1);
        // The queued waiter is owed it: nobody else can take it.
        assert_eq!(s.available_permits(), 0);
        assert_eq!(s.try_acquire(1), Err(TryAcquire::NoPermits));
        assert!(!a.is_woken());
        s.release(3);
        assert!(a.is_woken());
        assert_ready_ok!(a.poll());
        assert_eq!(s.available_permits(), 2);
    }

    #[test]
    fn a_cancelled_partial_waiter_passes_its_permits_on() {
        let s = Semaphore::new(1);
        let mut big = task::spawn(s.acquire(3)); // takes the 1 available, waits for 2
        let mut small = task::spawn(s.acquire(1));
        assert_pending!(big.poll());
        assert_pending!(small.poll());
        assert_eq!(s.available_permits(), 0);
        drop(big);
        assert!(small.is_woken());
        assert_ready_ok!(small.poll());
        assert_eq!(s.available_permits(), 0);
    }

    #[test]
    fn a_granted_but_never_polled_acquire_gives_everything_back() {
        let s = Semaphore::new(0);
        let mut a = task::spawn(s.acquire(2));
        assert_pending!(a.poll());
        s.release(2);
        assert!(a.is_woken());
        drop(a);
        assert_eq!(s.available_permits(), 2);
    }

    #[test]
    fn close_fails_waiters_and_returns_their_partial_permits() {
        let s = Semaphore::new(1);
        let mut a = task::spawn(s.acquire(2));
        assert_pending!(a.poll());
        s.close();
        assert!(a.is_woken());
        assert_eq!(assert_ready!(a.poll()), Err(Closed));
        assert_eq!(s.available_permits(), 1);
        assert_eq!(s.try_acquire(1), Err(TryAcquire::Closed));
    }

    #[test]
    fn more_waiters_than_one_batch_are_all_granted() {
        let s = Semaphore::new(0);
        let mut waiters: Vec<_> = (0..100).map(|_| task::spawn(s.acquire(1))).collect();
        for w in &mut waiters {
            assert_pending!(w.poll());
        }
        s.release(150);
        for w in &mut waiters {
            assert!(w.is_woken());
            assert_ready_ok!(w.poll());
        }
        assert_eq!(s.available_permits(), 50);
    }

    #[test]
    #[should_panic(expected = "would overflow MAX_PERMITS")]
    fn release_past_max_permits_panics() {
        let s = Semaphore::new(MAX_PERMITS);
        s.release(1);
    }
}
