//! A single-value channel where receivers see the latest value: [`channel`].
//!
//! ```text
//!  Shared { value: RwLock<T>, state: AtomicUsize = version << 1 | CLOSED,
//!           notify_rx: Notify (value changed / closed), notify_tx: Notify (receivers gone) }
//! ```
//!
//! A send writes the value under the write lock, bumps the version **while still holding
//! it** (so a reader that sees a version also sees its value), then `notify_waiters` on
//! `notify_rx`. Each receiver remembers the version it has seen. `changed` creates its
//! `Notified` *before* comparing versions: a send after the comparison reaches that
//! `Notified` (tokio's `notify_waiters` rule), so no change is missed.
//!
//! ```
//! use executor::sync::watch;
//! # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let (tx, mut rx) = watch::channel("init");
//! executor::spawn(async move {
//!     tx.send("updated").unwrap();
//! });
//! rx.changed().await.unwrap();
//! assert_eq!(*rx.borrow_and_update(), "updated");
//! # });
//! # Ok::<(), std::io::Error>(())
//! ```

use super::Notify;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Arc, RwLock, RwLockReadGuard};
use std::fmt;
use std::ops::Deref;

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

    /// Error of [`Receiver::changed`](super::Receiver::changed) and friends: every sender is
    /// gone.
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "channel closed")
        }
    }

    impl std::error::Error for RecvError {}
}

use error::{RecvError, SendError};

const CLOSED: usize = 1;
const VERSION_ONE: usize = 2;

struct Shared<T> {
    value: RwLock<T>,
    /// `version << 1 | CLOSED`; the version moves only under `value`'s write lock.
    state: AtomicUsize,
    rx_count: AtomicUsize,
    tx_count: AtomicUsize,
    /// `notify_waiters` on every change and when the last sender goes.
    notify_rx: Notify,
    /// `notify_waiters` when the last receiver goes (`Sender::closed`).
    notify_tx: Notify,
}

impl<T> Shared<T> {
    fn version(&self) -> usize {
        self.state.load(Ordering::Acquire) & !CLOSED
    }

    fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED == CLOSED
    }
}

/// Publishes values; cloneable. The channel closes for receivers when every sender is dropped.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Observes the latest value; cloneable (a clone has seen what the original has seen).
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen.
    version: usize,
}

/// A borrow of the current value, holding its read lock: keep it short, and never across an
/// `.await` (a send waits for it).
pub struct Ref<'a, T> {
    inner: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether the borrowed value was new to the receiver when borrowed (always `false` from
    /// [`Receiver::borrow`] after it was marked seen, and from [`Sender::borrow`]).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A watch channel holding `init`; receivers start having seen it.
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicUsize::new(0),
        rx_count: AtomicUsize::new(1),
        tx_count: AtomicUsize::new(1),
        notify_rx: Notify::new(),
        notify_tx: Notify::new(),
    });
    (Sender { shared: shared.clone() }, Receiver { shared, version: 0 })
}

impl<T> Sender<T> {
    /// A sender of a new channel holding `init`, with no receiver yet
    /// ([`subscribe`](Self::subscribe) to get one).
    pub fn new(init: T) -> Sender<T> {
        let (tx, rx) = channel(init);
        drop(rx);
        tx
    }

    /// Replaces the value and notifies the receivers.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value, not stored, if there is no receiver.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value (even without receivers), notifies, returns the old value.
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|old| std::mem::swap(old, &mut value));
        value
    }

    /// Modifies the value in place (even without receivers) and notifies.
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Modifies the value in place; notifies only if `modify` returns `true`. Returns that.
    ///
    /// `modify` runs under the value's write lock: it must not borrow the channel.
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        {
            let mut lock = self.shared.value.write();
            let modified = {
                // If `modify` panics, the value may be half-changed: publish it anyway, as
                // tokio does, so no receiver keeps a stale view.
                struct Bump<'a>(&'a AtomicUsize, bool);
                impl Drop for Bump<'_> {
                    fn drop(&mut self) {
                        if self.1 {
                            self.0.fetch_add(VERSION_ONE, Ordering::Release);
                        }
                    }
                }
                let mut bump = Bump(&self.shared.state, true);
                let modified = modify(&mut lock);
                bump.1 = modified;
                modified
            };
            drop(lock);
            if !modified {
                return false;
            }
        }
        self.shared.notify_rx.notify_waiters();
        true
    }

    /// Borrows the current value (`has_changed` is `false`).
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref { inner: self.shared.value.read(), has_changed: false }
    }

    /// A new receiver that has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.rx_count.fetch_add(1, Ordering::Relaxed);
        Receiver { shared: self.shared.clone(), version: self.shared.version() }
    }

    /// The number of live receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.rx_count.load(Ordering::Acquire)
    }

    /// The number of live senders.
    pub fn sender_count(&self) -> usize {
        self.shared.tx_count.load(Ordering::Acquire)
    }

    /// Whether there is no receiver.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until there is no receiver.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&self) {
        loop {
            let notified = self.shared.notify_tx.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.tx_count.fetch_add(1, Ordering::Relaxed);
        Sender { shared: self.shared.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.tx_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.state.fetch_or(CLOSED, Ordering::Release);
            self.shared.notify_rx.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("value", &*self.borrow()).finish()
    }
}

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let inner = self.shared.value.read();
        let has_changed = self.shared.version() != self.version;
        Ref { inner, has_changed }
    }

    /// Borrows the current value and marks it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let inner = self.shared.value.read();
        // Under the read lock the version cannot move: it is the borrowed value's.
        let version = self.shared.version();
        let has_changed = version != self.version;
        self.version = version;
        Ref { inner, has_changed }
    }

    /// Whether a value this receiver has not seen is there.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        if self.shared.is_closed() {
            return Err(RecvError(()));
        }
        Ok(self.shared.version() != self.version)
    }

    /// Makes the current value count as unseen.
    pub fn mark_changed(&mut self) {
        self.version = self.version.wrapping_sub(VERSION_ONE);
    }

    /// Makes the current value count as seen.
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.version();
    }

    /// Waits for a value this receiver has not seen, and marks it seen.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone and no unseen value is left.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        let (shared, seen) = (&*self.shared, &mut self.version);
        super::cooperative(async move {
            loop {
                let notified = shared.notify_rx.notified_unbudgeted();
                if let Some(out) = maybe_changed(shared, seen) {
                    return out;
                }
                notified.await;
            }
        })
        .await
    }

    /// Waits until `f` accepts the value (checking the current one first), marks it seen and
    /// returns a borrow of it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone before a value is accepted.
    pub async fn wait_for(&mut self, mut f: impl FnMut(&T) -> bool) -> Result<Ref<'_, T>, RecvError> {
        crate::task::consume_budget().await;
        let shared = &*self.shared;
        loop {
            let notified = shared.notify_rx.notified_unbudgeted();
            {
                let inner = shared.value.read();
                // Under the read lock the version is the borrowed value's.
                let version = shared.version();
                if f(&inner) {
                    let has_changed = version != self.version;
                    self.version = version;
                    return Ok(Ref { inner, has_changed });
                }
            }
            if shared.is_closed() {
                return Err(RecvError(()));
            }
            notified.await;
        }
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// A value the receiver (at version `seen`) has not seen, or `None` to wait; `Err` once closed
/// with nothing new.
fn maybe_changed<T>(shared: &Shared<T>, seen: &mut usize) -> Option<Result<(), RecvError>> {
    let state = shared.state.load(Ordering::Acquire);
    if state & !CLOSED != *seen {
        *seen = state & !CLOSED;
        return Some(Ok(()));
    }
    if state & CLOSED == CLOSED {
        return Some(Err(RecvError(())));
    }
    None
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.rx_count.fetch_add(1, Ordering::Relaxed);
        Receiver { shared: self.shared.clone(), version: self.version }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.rx_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.notify_tx.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("version", &self.version).finish_non_exhaustive()
    }
}
