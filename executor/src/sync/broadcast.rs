//! A multi-producer, multi-consumer channel where every receiver sees every value:
//! [`channel`].
//!
//! The values live in a ring of `capacity.next_power_of_two()` slots under one mutex. Each
//! slot records the position it holds and how many receivers have yet to read it (`rem`, set
//! to the receiver count at send); the last reader drops the value. A send that overwrites a
//! slot still unread by a slow receiver moves that receiver on: its next `recv` returns
//! [`RecvError::Lagged`] with the number of values it missed, then the oldest value still
//! held.
//!
//! ```text
//!   positions:   5   6   7   8        tail = 9, ring of 4
//!   ring:      [ 8 | 5 | 6 | 7 ]      a receiver at 3 has lagged by 2 (5 is the oldest)
//! ```
//!
//! Receivers waiting for the next value are queued in a waiter list (the module's shared
//! `WaitList`); each send (and the last sender's drop) unlinks them all and wakes them after
//! the lock is released.
//!
//! ```
//! use executor::sync::broadcast;
//! # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! tx.send(10).unwrap();
//! tx.send(20).unwrap();
//! assert_eq!(rx1.recv().await, Ok(10));
//! assert_eq!(rx2.recv().await, Ok(10));
//! assert_eq!(rx2.recv().await, Ok(20));
//! # });
//! # Ok::<(), std::io::Error>(())
//! ```

use super::wait_list::{Key, WaitList, WakeList};
use crate::loom::sync::{Arc, Mutex};
use crate::task::coop;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The errors of this channel.
pub mod error {
    use std::fmt;

    /// Error of [`Sender::send`](super::Sender::send): no receiver is alive. Holds the value.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "channel closed")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    /// Error of [`Receiver::recv`](super::Receiver::recv).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum RecvError {
        /// Every sender is gone and this receiver has seen every value.
        Closed,
        /// This receiver fell behind: this many values were overwritten before it read them.
        /// The next receive returns the oldest value still held.
        Lagged(u64),
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => write!(f, "channel closed"),
                RecvError::Lagged(amt) => write!(f, "channel lagged by {amt}"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    /// Error of [`Receiver::try_recv`](super::Receiver::try_recv).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum TryRecvError {
        /// No new value now; senders remain.
        Empty,
        /// Every sender is gone and this receiver has seen every value.
        Closed,
        /// As [`RecvError::Lagged`].
        Lagged(u64),
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => write!(f, "channel empty"),
                TryRecvError::Closed => write!(f, "channel closed"),
                TryRecvError::Lagged(amt) => write!(f, "channel lagged by {amt}"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, SendError, TryRecvError};

struct Slot<T> {
    /// The position of the value held (meaningful while `rem > 0` or `val` is `Some`).
    pos: u64,
    /// Receivers that have yet to read this value.
    rem: usize,
    val: Option<T>,
}

struct Shared<T> {
    tail: Mutex<Tail<T>>,
    /// `ring.len() - 1` (the ring's length is a power of two).
    mask: usize,
}

struct Tail<T> {
    ring: Box<[Slot<T>]>,
    /// The position the next value gets.
    pos: u64,
    rx_cnt: usize,
    tx_cnt: usize,
    /// Every sender is gone.
    closed: bool,
    /// Receivers waiting for the next value.
    waiters: WaitList<()>,
}

impl<T> Tail<T> {
    /// The oldest position still held in the ring.
    fn oldest(&self) -> u64 {
        self.pos.saturating_sub(self.ring.len() as u64)
    }
}

/// Sends to every receiver; cloneable.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Receives every value sent after it subscribed.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The position of the next value to read.
    next: u64,
}

/// A broadcast channel holding up to `capacity` values (rounded up to a power of two) for
/// slow receivers.
///
/// # Panics
///
/// If `capacity` is 0 or more than `usize::MAX / 2`.
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "broadcast channel capacity cannot be zero");
    assert!(capacity <= usize::MAX >> 1, "broadcast channel capacity exceeded `usize::MAX / 2`");
    let len = capacity.next_power_of_two();
    let ring = (0..len).map(|_| Slot { pos: 0, rem: 0, val: None }).collect();
    let shared = Arc::new(Shared {
        tail: Mutex::new(Tail { ring, pos: 0, rx_cnt: 1, tx_cnt: 1, closed: false, waiters: WaitList::new() }),
        mask: len - 1,
    });
    (Sender { shared: shared.clone() }, Receiver { shared, next: 0 })
}

impl<T> Sender<T> {
    /// Sends `value` to every current receiver; returns how many there are.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there is no receiver.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = WakeList::new();
        let (rx_cnt, old) = {
            let mut tail = self.shared.tail.lock();
            if tail.rx_cnt == 0 {
                return Err(SendError(value));
            }
            let pos = tail.pos;
            let rx_cnt = tail.rx_cnt;
            let slot = &mut tail.ring[(pos as usize) & self.shared.mask];
            slot.pos = pos;
            slot.rem = rx_cnt;
            let old = slot.val.replace(value);
            tail.pos += 1;
            while let Some(node) = tail.waiters.pop_front() {
                if let Some(w) = node.waker.take() {
                    wakers.push(w);
                }
            }
            (rx_cnt, old)
        };
        drop(old);
        wakers.wake_all();
        Ok(rx_cnt)
    }

    /// A new receiver that sees the values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared)
    }

    /// The number of live receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.tail.lock().rx_cnt
    }

    /// The number of values held that some live receiver has yet to read.
    pub fn len(&self) -> usize {
        let tail = self.shared.tail.lock();
        (tail.oldest()..tail.pos).filter(|&p| tail.ring[(p as usize) & self.shared.mask].rem > 0).count()
    }

    /// Whether [`len`](Self::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether both senders send to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

fn new_receiver<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let mut tail = shared.tail.lock();
    tail.rx_cnt += 1;
    let next = tail.pos;
    drop(tail);
    Receiver { shared: shared.clone(), next }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.tail.lock().tx_cnt += 1;
        Sender { shared: self.shared.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut wakers = WakeList::new();
        {
            let mut tail = self.shared.tail.lock();
            tail.tx_cnt -= 1;
            if tail.tx_cnt > 0 {
                return;
            }
            tail.closed = true;
            while let Some(node) = tail.waiters.pop_front() {
                if let Some(w) = node.waker.take() {
                    wakers.push(w);
                }
            }
        }
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broadcast::Sender")
    }
}

impl<T> Receiver<T> {
    /// Reads position `self.next` under the lock, handing the value (if this was the last
    /// reader) out for dropping after the lock.
    fn try_recv_locked(&mut self, tail: &mut Tail<T>) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        if self.next >= tail.pos {
            return Err(if tail.closed { TryRecvError::Closed } else { TryRecvError::Empty });
        }
        let oldest = tail.oldest();
        if self.next < oldest {
            let missed = oldest - self.next;
            self.next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        let slot = &mut tail.ring[(self.next as usize) & self.shared.mask];
        debug_assert_eq!(slot.pos, self.next);
        self.next += 1;
        slot.rem -= 1;
        let v = if slot.rem == 0 { slot.val.take() } else { slot.val.clone() };
        Ok(v.expect("a slot with readers left holds its value"))
    }

    /// The next value if one is available now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`], [`TryRecvError::Closed`] or [`TryRecvError::Lagged`].
    pub fn try_recv(&mut self) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        let shared = self.shared.clone();
        let mut tail = shared.tail.lock();
        self.try_recv_locked(&mut tail)
    }

    /// Waits for the next value.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no value was taken.
    ///
    /// # Errors
    ///
    /// [`RecvError::Closed`] once every sender is gone and every value was read;
    /// [`RecvError::Lagged`] if values were overwritten before this receiver read them.
    pub async fn recv(&mut self) -> Result<T, RecvError>
    where
        T: Clone,
    {
        Recv { rx: self, node: None }.await
    }

    /// [`recv`](Self::recv), blocking the thread.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a runtime.
    pub fn blocking_recv(&mut self) -> Result<T, RecvError>
    where
        T: Clone,
    {
        super::block_on(self.recv())
    }

    /// A new receiver starting at the current tail (it does not see values this one has yet
    /// to read).
    pub fn resubscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared)
    }

    /// The number of values this receiver has yet to read (lagged ones not counted).
    pub fn len(&self) -> usize {
        let tail = self.shared.tail.lock();
        (tail.pos - self.next.max(tail.oldest())) as usize
    }

    /// Whether [`len`](Self::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.tail.lock().closed
    }

    /// Whether both receivers receive from the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut dropped = Vec::new();
        {
            let mut tail = self.shared.tail.lock();
            tail.rx_cnt -= 1;
            // This receiver will not read the values it has not read yet.
            for pos in self.next.max(tail.oldest())..tail.pos {
                let slot = &mut tail.ring[(pos as usize) & self.shared.mask];
                slot.rem -= 1;
                if slot.rem == 0 {
                    dropped.extend(slot.val.take());
                }
            }
        }
        drop(dropped);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broadcast::Receiver")
    }
}

/// The future of [`Receiver::recv`].
struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
    /// Our node in the waiter list while waiting.
    node: Option<Key>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let unit = ready!(coop::poll_proceed(cx));
        let shared = this.rx.shared.clone();
        let mut tail = shared.tail.lock();
        if let Some(key) = this.node.take() {
            tail.waiters.remove(key);
        }
        let out = match this.rx.try_recv_locked(&mut tail) {
            Ok(v) => Ok(v),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(TryRecvError::Empty) => {
                this.node = Some(tail.waiters.push_back(Some(cx.waker().clone()), ()));
                return Poll::Pending;
            }
        };
        drop(tail);
        unit.made_progress();
        Poll::Ready(out)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.node.take() {
            self.rx.shared.tail.lock().waiters.remove(key);
        }
    }
}
