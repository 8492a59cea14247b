//! The unbounded channel: [`unbounded_channel`], [`UnboundedSender`], [`UnboundedReceiver`],
//! [`WeakUnboundedSender`]. Sends never wait.

use super::chan::{Chan, Recv};
use super::error::{SendError, TryRecvError};
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Sends to an unbounded channel; cloneable.
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// An unbounded sender that does not keep the channel open.
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

/// Receives from an unbounded channel.
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
}

/// A channel without a bound: [`send`](UnboundedSender::send) never waits (memory is the
/// limit).
///
/// ```
/// use executor::sync::mpsc;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// tx.send("hello").unwrap();
/// drop(tx);
/// assert_eq!(rx.recv().await, Some("hello"));
/// assert_eq!(rx.recv().await, None);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(None));
    (UnboundedSender { chan: chan.clone() }, UnboundedReceiver { chan })
}

impl<T> UnboundedSender<T> {
    /// Queues `value` (never waits).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver was dropped or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value, false).map_err(SendError)
    }

    /// Waits until the receiver is dropped or closed (cancel safe).
    pub async fn closed(&self) {
        self.chan.closed().await
    }

    /// Whether the receiver was dropped or closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Whether both senders send to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A [`WeakUnboundedSender`] for this channel.
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        self.chan.add_weak();
        WeakUnboundedSender { chan: self.chan.clone() }
    }

    /// The number of live `UnboundedSender`s.
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// The number of live `WeakUnboundedSender`s.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender { chan: self.chan.clone() }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender").finish_non_exhaustive()
    }
}

impl<T> WeakUnboundedSender<T> {
    /// An [`UnboundedSender`], unless every sender is gone.
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        self.chan.upgrade().then(|| UnboundedSender { chan: self.chan.clone() })
    }
}

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_weak();
        WeakUnboundedSender { chan: self.chan.clone() }
    }
}

impl<T> Drop for WeakUnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_weak();
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender").finish_non_exhaustive()
    }
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next message; `None` once every sender is dropped (or the receiver
    /// closed) and the queue is empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no message was taken.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Receives up to `limit` queued messages into `buffer` (waiting for at least one);
    /// returns how many, 0 if the channel is closed and empty or `limit` is 0. Cancel safe.
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

    /// The poll behind [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// The poll behind [`recv_many`](Self::recv_many).
    pub fn poll_recv_many(&mut self, cx: &mut Context<'_>, buffer: &mut Vec<T>, limit: usize) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
    }

    /// Closes the channel for senders; queued messages can still be received.
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Whether every sender is dropped or [`close`](Self::close) was called.
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
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver").field("len", &self.len()).finish_non_exhaustive()
    }
}
