//! A channel for a single value: [`channel`] gives a [`Sender`] and a [`Receiver`] (a
//! future).
//!
//! Both halves share one small state under a mutex: the value, whether the sender is done
//! (sent or dropped), whether the receiver is closed, and one waker per side. Each side wakes
//! the other's waker after releasing the lock.
//!
//! ```
//! use executor::sync::oneshot;
//! # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let (tx, rx) = oneshot::channel();
//! executor::spawn(async move {
//!     let _ = tx.send(3);
//! });
//! assert_eq!(rx.await, Ok(3));
//!
//! let (tx, rx) = oneshot::channel::<u32>();
//! drop(tx);
//! assert!(rx.await.is_err()); // the sender went away
//! # });
//! # Ok::<(), std::io::Error>(())
//! ```

use crate::loom::sync::{Arc, Mutex};
use crate::task::coop;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

/// The errors of this channel.
pub mod error {
    use std::fmt;

    /// Error of awaiting a [`Receiver`](super::Receiver): the sender was dropped without
    /// sending (or the receiver was closed).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "channel closed")
        }
    }

    impl std::error::Error for RecvError {}

    /// Error of [`Receiver::try_recv`](super::Receiver::try_recv).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value yet; the sender is still there.
        Empty,
        /// No value will come: the sender was dropped, the receiver closed, or the value was
        /// already received.
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => write!(f, "channel empty"),
                TryRecvError::Closed => write!(f, "channel closed"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, TryRecvError};

struct State<T> {
    value: Option<T>,
    /// The sender sent or was dropped: no (further) value will come.
    tx_done: bool,
    /// The receiver closed or was dropped: a send fails.
    rx_closed: bool,
    rx_waker: Option<Waker>,
    /// The waker of `Sender::closed`.
    tx_waker: Option<Waker>,
}

/// Sends the value (once).
pub struct Sender<T> {
    inner: Option<Arc<Mutex<State<T>>>>,
}

/// Receives the value: `.await` it.
pub struct Receiver<T> {
    /// `None` once the value (or the error) was returned.
    inner: Option<Arc<Mutex<State<T>>>>,
}

/// A one-value channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let state = Arc::new(Mutex::new(State { value: None, tx_done: false, rx_closed: false, rx_waker: None, tx_waker: None }));
    (Sender { inner: Some(state.clone()) }, Receiver { inner: Some(state) })
}

fn set_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(w) if w.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender.
    ///
    /// # Errors
    ///
    /// The value, if the receiver was dropped or closed.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("a Sender is consumed by send");
        let mut state = inner.lock();
        if state.rx_closed {
            state.tx_done = true;
            return Err(value);
        }
        state.value = Some(value);
        state.tx_done = true;
        let waker = state.rx_waker.take();
        drop(state);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether the receiver was dropped or closed (a send would fail).
    pub fn is_closed(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.lock().rx_closed)
    }

    /// Ready once the receiver is dropped or closed.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let unit = ready!(coop::poll_proceed(cx));
        let inner = self.inner.as_ref().expect("a Sender is consumed by send");
        let mut state = inner.lock();
        if state.rx_closed {
            unit.made_progress();
            return Poll::Ready(());
        }
        set_waker(&mut state.tx_waker, cx.waker());
        Poll::Pending
    }

    /// Waits until the receiver is dropped or closed (to stop computing a value nobody
    /// wants).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let mut state = inner.lock();
            state.tx_done = true;
            let waker = state.rx_waker.take();
            drop(state);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl<T> Receiver<T> {
    /// Stops the sender from sending (its [`closed`](Sender::closed) completes); a value sent
    /// before still arrives.
    pub fn close(&mut self) {
        if let Some(inner) = &self.inner {
            let mut state = inner.lock();
            state.rx_closed = true;
            let waker = state.tx_waker.take();
            drop(state);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    /// The value, if it has been sent.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if not yet, [`TryRecvError::Closed`] if it never will be (or
    /// was already received).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = &self.inner else { return Err(TryRecvError::Closed) };
        let mut state = inner.lock();
        if let Some(v) = state.value.take() {
            drop(state);
            self.inner = None;
            return Ok(v);
        }
        if state.tx_done || state.rx_closed {
            drop(state);
            self.inner = None;
            return Err(TryRecvError::Closed);
        }
        Err(TryRecvError::Empty)
    }

    /// Waits for the value, blocking the thread.
    ///
    /// # Errors
    ///
    /// As awaiting the receiver.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a runtime.
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        super::block_on(self)
    }

    /// Whether the value was received already or will never come.
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// Whether no value is waiting to be received now.
    pub fn is_empty(&self) -> bool {
        self.inner.as_ref().is_none_or(|i| i.lock().value.is_none())
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// # Cancel safety
    ///
    /// Dropping the receiver drops a value that was sent and not received.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let unit = ready!(coop::poll_proceed(cx));
        let inner = this.inner.as_ref().expect("called after complete");
        let mut state = inner.lock();
        let out = if let Some(v) = state.value.take() {
            Ok(v)
        } else if state.tx_done || state.rx_closed {
            Err(RecvError(()))
        } else {
            set_waker(&mut state.rx_waker, cx.waker());
            return Poll::Pending;
        };
        drop(state);
        this.inner = None;
        unit.made_progress();
        Poll::Ready(out)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let mut state = inner.lock();
            state.rx_closed = true;
            let value = state.value.take();
            let waker = state.tx_waker.take();
            drop(state);
            drop(value);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("terminated", &self.inner.is_none()).finish_non_exhaustive()
    }
}
