//! The channel core both flavours share: a queue under a mutex, the sender count, and for the
//! bounded flavour a [`batch_semaphore`](crate::sync::batch_semaphore) of `capacity` permits.
//!
//! ```text
//!  bounded send:  acquire a permit (FIFO among senders) ──▶ lock: push, take rx waker ──▶ wake
//!  recv:          lock: pop (or register the waker) ──▶ unlock ──▶ release the message's permit
//!  rx close/drop: lock: rx_closed ──▶ unlock ──▶ close the semaphore (pending sends fail)
//!                 ──▶ notify_waiters (Sender::closed)
//!  last tx drop:  lock: tx_closed, take rx waker ──▶ wake
//! ```
//!
//! A permit stands for one slot of the queue from `reserve` until `recv` pops the message it
//! carried. So after `Receiver::close` the receiver knows no message can still arrive once the
//! queue is empty **and** the semaphore has all its permits back (no `Permit` outstanding);
//! a `Permit` dropped unused wakes the receiver for that reason. No lock is held while another
//! is taken.

use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::Mutex;
use crate::sync::batch_semaphore as ll;
use crate::sync::Notify;
use crate::task::coop;
use std::collections::VecDeque;
use std::task::{ready, Context, Poll, Waker};

pub(super) struct Chan<T> {
    inner: Mutex<Inner<T>>,
    /// Live strong senders; the last one to go sets `tx_closed`.
    tx_count: AtomicUsize,
    /// Live weak senders (for `weak_count`).
    weak_count: AtomicUsize,
    /// Bounded flavour: `capacity` permits, one per queued or reserved message.
    semaphore: Option<(ll::Semaphore, usize)>,
    /// `notify_waiters` when the receiver closes (wakes `Sender::closed`).
    rx_closed_notify: Notify,
}

struct Inner<T> {
    queue: VecDeque<T>,
    rx_waker: Option<Waker>,
    /// Every strong sender is gone.
    tx_closed: bool,
    /// The receiver called `close` or was dropped: sends fail.
    rx_closed: bool,
    /// The receiver was dropped: a message sent through an outstanding permit is dropped.
    rx_dropped: bool,
}

/// What a receive found.
pub(super) enum Recv<T> {
    Value(T),
    Empty,
    Closed,
}

impl<T> Chan<T> {
    pub(super) fn new(capacity: Option<usize>) -> Chan<T> {
        Chan {
            inner: Mutex::new(Inner { queue: VecDeque::new(), rx_waker: None, tx_closed: false, rx_closed: false, rx_dropped: false }),
            tx_count: AtomicUsize::new(1),
            weak_count: AtomicUsize::new(0),
            semaphore: capacity.map(|c| (ll::Semaphore::new(c), c)),
            rx_closed_notify: Notify::new(),
        }
    }

    pub(super) fn semaphore(&self) -> &ll::Semaphore {
        &self.semaphore.as_ref().expect("the bounded flavour has a semaphore").0
    }

    pub(super) fn max_capacity(&self) -> usize {
        self.semaphore.as_ref().map_or(usize::MAX, |s| s.1)
    }

    // --- senders ---------------------------------------------------------------------------

    pub(super) fn add_sender(&self) {
        self.tx_count.fetch_add(1, Ordering::Relaxed);
    }

    /// A weak sender's upgrade: a new strong sender unless they are all gone.
    pub(super) fn upgrade(&self) -> bool {
        let mut cur = self.tx_count.load(Ordering::Relaxed);
        loop {
            if cur == 0 {
                return false;
            }
            match self.tx_count.compare_exchange_weak(cur, cur + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }

    pub(super) fn strong_count(&self) -> usize {
        self.tx_count.load(Ordering::Acquire)
    }

    pub(super) fn weak_count(&self) -> usize {
        self.weak_count.load(Ordering::Acquire)
    }

    pub(super) fn add_weak(&self) {
        self.weak_count.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn drop_weak(&self) {
        self.weak_count.fetch_sub(1, Ordering::Relaxed);
    }

    pub(super) fn drop_sender(&self) {
        if self.tx_count.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let waker = {
            let mut inner = self.inner.lock();
            inner.tx_closed = true;
            inner.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Queues `value` (for the bounded flavour the caller holds the permit it now carries).
    /// Returns the value if the receiver was closed and `force` is false; with `force` (a
    /// reserved permit) it is queued after a `close` and dropped after a receiver drop.
    pub(super) fn push(&self, value: T, force: bool) -> Result<(), T> {
        let mut inner = self.inner.lock();
        if inner.rx_dropped || (inner.rx_closed && !force) {
            drop(inner);
            if force {
                // The receiver is gone: the message goes with it (outside the lock).
                drop(value);
                return Ok(());
            }
            return Err(value);
        }
        inner.queue.push_back(value);
        let waker = inner.rx_waker.take();
        drop(inner);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// An outstanding permit was dropped unused: after `close`, the receiver may be waiting
    /// for the last one.
    pub(super) fn permit_released(&self) {
        self.semaphore().release(1);
        let waker = {
            let mut inner = self.inner.lock();
            if inner.rx_closed {
                inner.rx_waker.take()
            } else {
                None
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub(super) fn is_rx_closed(&self) -> bool {
        self.inner.lock().rx_closed
    }

    /// Waits until the receiver closes or is dropped.
    pub(super) async fn closed(&self) {
        loop {
            let notified = self.rx_closed_notify.notified();
            if self.is_rx_closed() {
                return;
            }
            notified.await;
        }
    }

    // --- receiver --------------------------------------------------------------------------

    /// Nothing can arrive any more: every sender is gone, or the receiver closed and no
    /// permit is outstanding. Call with the queue empty, under the lock.
    fn is_finished(&self, inner: &Inner<T>) -> bool {
        inner.tx_closed || (inner.rx_closed && self.semaphore.as_ref().is_none_or(|(s, cap)| s.available_permits() == *cap))
    }

    /// Takes up to `max` queued messages into `out` (at least 1 if any).
    fn take(&self, max: usize, mut out: impl FnMut(T)) -> Recv<usize> {
        let mut inner = self.inner.lock();
        if inner.queue.is_empty() {
            return if self.is_finished(&inner) { Recv::Closed } else { Recv::Empty };
        }
        let n = inner.queue.len().min(max);
        for v in inner.queue.drain(..n) {
            out(v);
        }
        drop(inner);
        if let Some((s, _)) = &self.semaphore {
            s.release(n);
        }
        Recv::Value(n)
    }

    pub(super) fn try_recv(&self) -> Recv<T> {
        let mut slot = None;
        match self.take(1, |v| slot = Some(v)) {
            Recv::Value(_) => Recv::Value(slot.expect("one message taken")),
            Recv::Empty => Recv::Empty,
            Recv::Closed => Recv::Closed,
        }
    }

    fn register(&self, waker: &Waker) -> bool {
        let mut inner = self.inner.lock();
        if !inner.queue.is_empty() || self.is_finished(&inner) {
            return false;
        }
        match &inner.rx_waker {
            Some(w) if w.will_wake(waker) => {}
            _ => inner.rx_waker = Some(waker.clone()),
        }
        true
    }

    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let unit = ready!(coop::poll_proceed(cx));
        loop {
            match self.try_recv() {
                Recv::Value(v) => {
                    unit.made_progress();
                    return Poll::Ready(Some(v));
                }
                Recv::Closed => {
                    unit.made_progress();
                    return Poll::Ready(None);
                }
                // Registering re-checks under the lock: a message pushed in between is seen.
                Recv::Empty if self.register(cx.waker()) => return Poll::Pending,
                Recv::Empty => {}
            }
        }
    }

    pub(super) fn poll_recv_many(&self, cx: &mut Context<'_>, buffer: &mut Vec<T>, limit: usize) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let unit = ready!(coop::poll_proceed(cx));
        loop {
            match self.take(limit, |v| buffer.push(v)) {
                Recv::Value(n) => {
                    unit.made_progress();
                    return Poll::Ready(n);
                }
                Recv::Closed => {
                    unit.made_progress();
                    return Poll::Ready(0);
                }
                Recv::Empty if self.register(cx.waker()) => return Poll::Pending,
                Recv::Empty => {}
            }
        }
    }

    /// `Receiver::close`: sends fail from now on; queued messages stay.
    pub(super) fn close_rx(&self) {
        self.inner.lock().rx_closed = true;
        if let Some((s, _)) = &self.semaphore {
            s.close();
        }
        self.rx_closed_notify.notify_waiters();
    }

    /// The receiver was dropped: close, and drop the queued messages (outside the lock).
    pub(super) fn drop_rx(&self) {
        let queued = {
            let mut inner = self.inner.lock();
            inner.rx_closed = true;
            inner.rx_dropped = true;
            std::mem::take(&mut inner.queue)
        };
        if let Some((s, _)) = &self.semaphore {
            s.close();
            s.release(queued.len());
        }
        self.rx_closed_notify.notify_waiters();
        drop(queued);
    }

    pub(super) fn len(&self) -> usize {
        self.inner.lock().queue.len()
    }

    pub(super) fn is_rx_view_closed(&self) -> bool {
        let inner = self.inner.lock();
        inner.rx_closed || inner.tx_closed
    }
}
