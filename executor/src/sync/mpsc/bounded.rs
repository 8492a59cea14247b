//! The bounded channel: [`channel`], [`Sender`], [`Receiver`], [`Permit`], [`OwnedPermit`],
//! [`WeakSender`].

use super::chan::{Chan, Recv};
use super::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
use crate::sync::batch_semaphore::TryAcquire;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Sends to a bounded channel; cloneable. The channel closes for the receiver when every
/// `Sender` is dropped.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// A sender that does not keep the channel open; [`upgrade`](Self::upgrade) it to send.
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives from a bounded channel.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

/// A reserved slot of the channel: [`send`](Self::send) cannot fail or wait. Dropping it
/// unused gives the slot back.
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

/// A reserved slot held with its [`Sender`] (no lifetime).
pub struct OwnedPermit<T> {
    /// `None` once consumed by `send` / `release`.
    chan: Option<Sender<T>>,
}

/// A bounded channel of `buffer` slots: senders wait (in FIFO order) while it is full.
///
/// # Panics
///
/// If `buffer` is 0.
///
/// ```
/// use executor::sync::mpsc;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let (tx, mut rx) = mpsc::channel(16);
/// for i in 0..3 {
///     let tx = tx.clone();
///     executor::spawn(async move { tx.send(i).await.unwrap() });
/// }
/// drop(tx);
/// let mut got = Vec::new();
/// while let Some(i) = rx.recv().await {
///     got.push(i);
/// }
/// got.sort();
/// assert_eq!(got, [0, 1, 2]);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    assert!(buffer <= crate::sync::Semaphore::MAX_PERMITS, "requested buffer size too large");
    let chan = Arc::new(Chan::new(Some(buffer)));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for a free slot.
    ///
    /// # Cancel safety
    ///
    /// Senders are served in FIFO order; dropping the future loses the place in that queue
    /// and the value (it was not sent). To keep the value, [`reserve`](Self::reserve) first.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver was dropped or closed.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.reserve().await {
            Ok(permit) => {
                permit.send(value);
                Ok(())
            }
            Err(_) => Err(SendError(value)),
        }
    }

    /// Sends `value` if a slot is free now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the channel is full, [`TrySendError::Closed`] if the receiver
    /// was dropped or closed; both hold the value.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.semaphore().try_acquire(1) {
            Ok(()) => {
                Permit { chan: &self.chan }.send(value);
                Ok(())
            }
            Err(TryAcquire::NoPermits) => Err(TrySendError::Full(value)),
            Err(TryAcquire::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// Sends `value`, waiting at most `timeout` for a free slot.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] or [`SendTimeoutError::Closed`], with the value.
    ///
    /// # Panics
    ///
    /// Outside a runtime (it uses a timer).
    pub async fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        match crate::time::timeout(timeout, self.reserve()).await {
            Ok(Ok(permit)) => {
                permit.send(value);
                Ok(())
            }
            Ok(Err(_)) => Err(SendTimeoutError::Closed(value)),
            Err(_) => Err(SendTimeoutError::Timeout(value)),
        }
    }

    /// Sends `value`, blocking the thread while the channel is full.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a runtime.
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::sync::block_on(self.send(value))
    }

    /// Waits for a free slot and reserves it.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses the place in the queue; a slot that had been assigned to it
    /// goes to the next sender.
    ///
    /// # Errors
    ///
    /// If the receiver was dropped or closed.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        self.chan.semaphore().acquire(1).await.map_err(|_| SendError(()))?;
        Ok(Permit { chan: &self.chan })
    }

    /// [`reserve`](Self::reserve), holding the sender in the permit (cancel safety as
    /// `reserve`).
    ///
    /// # Errors
    ///
    /// If the receiver was dropped or closed.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        self.chan.semaphore().acquire(1).await.map_err(|_| SendError(()))?;
        Ok(OwnedPermit { chan: Some(self) })
    }

    /// Reserves a slot if one is free now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`].
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.chan.semaphore().try_acquire(1) {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(TryAcquire::NoPermits) => Err(TrySendError::Full(())),
            Err(TryAcquire::Closed) => Err(TrySendError::Closed(())),
        }
    }

    /// [`try_reserve`](Self::try_reserve), holding the sender in the permit.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] or [`TrySendError::Closed`], with the sender.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.chan.semaphore().try_acquire(1) {
            Ok(()) => Ok(OwnedPermit { chan: Some(self) }),
            Err(TryAcquire::NoPermits) => Err(TrySendError::Full(self)),
            Err(TryAcquire::Closed) => Err(TrySendError::Closed(self)),
        }
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// Whether the receiver was dropped or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// The free slots now.
    pub fn capacity(&self) -> usize {
        self.chan.semaphore().available_permits()
    }

    /// The channel's size, as given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.chan.max_capacity()
    }

    /// Whether both senders send to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A [`WeakSender`] for this channel.
    pub fn downgrade(&self) -> WeakSender<T> {
        self.chan.add_weak();
        WeakSender { chan: self.chan.clone() }
    }

    /// The number of live `Sender`s.
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// The number of live `WeakSender`s.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender { chan: self.chan.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("capacity", &self.capacity()).finish_non_exhaustive()
    }
}

impl<T> WeakSender<T> {
    /// A [`Sender`], unless every sender is gone.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.upgrade().then(|| Sender { chan: self.chan.clone() })
    }

    /// The number of live `Sender`s.
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// The number of live `WeakSender`s.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_weak();
        WeakSender { chan: self.chan.clone() }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.chan.drop_weak();
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
    }
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot (never waits; after the receiver closed the
    /// message is still queued for it, after it was dropped the message is dropped).
    pub fn send(self, value: T) {
        let chan = self.chan;
        std::mem::forget(self);
        // The permit now travels with the message; `recv` releases it.
        let _ = chan.push(value, true);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.permit_released();
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved slot and gives the sender back.
    pub fn send(mut self, value: T) -> Sender<T> {
        let tx = self.chan.take().expect("an OwnedPermit is consumed once");
        let _ = tx.chan.push(value, true);
        tx
    }

    /// Gives the slot back unused and returns the sender.
    pub fn release(mut self) -> Sender<T> {
        let tx = self.chan.take().expect("an OwnedPermit is consumed once");
        tx.chan.permit_released();
        tx
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(tx) = self.chan.take() {
            tx.chan.permit_released();
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Receives the next message; `None` once the channel is closed and empty (every sender
    /// dropped, or [`close`](Self::close) called and every outstanding permit used or dropped).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no message was taken.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Receives up to `limit` queued messages into `buffer` (waiting for at least one);
    /// returns how many, 0 if the channel is closed and empty or `limit` is 0.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is taken unless the future completes.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    /// The next message if one is queued now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if none is, [`TryRecvError::Disconnected`] if none will come.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.chan.try_recv() {
            Recv::Value(v) => Ok(v),
            Recv::Empty => Err(TryRecvError::Empty),
            Recv::Closed => Err(TryRecvError::Disconnected),
        }
    }

    /// [`recv`](Self::recv), blocking the thread.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a runtime.
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::sync::block_on(self.recv())
    }

    /// The poll behind [`recv`](Self::recv), for hand-written futures and streams.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// The poll behind [`recv_many`](Self::recv_many).
    pub fn poll_recv_many(&mut self, cx: &mut Context<'_>, buffer: &mut Vec<T>, limit: usize) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
    }

    /// Closes the channel for senders (sends and pending reserves fail) while the queued
    /// messages, and those sent through permits already reserved, can still be received.
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Whether the channel is closed: every sender dropped, or [`close`](Self::close) called.
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_view_closed()
    }

    /// Whether no message is queued.
    pub fn is_empty(&self) -> bool {
        self.chan.len() == 0
    }

    /// The number of queued messages.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// The free slots now.
    pub fn capacity(&self) -> usize {
        self.chan.semaphore().available_permits()
    }

    /// The channel's size, as given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.chan.max_capacity()
    }

    /// The number of live `Sender`s.
    pub fn sender_strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// The number of live `WeakSender`s.
    pub fn sender_weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("len", &self.len()).finish_non_exhaustive()
    }
}
