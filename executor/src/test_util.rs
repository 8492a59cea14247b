//! What the crate's unit tests share.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// A waker that counts its wake-ups (std's `Wake`: no unsafe; std atomics, so loom models that
/// need the wake-up to be part of the model keep their own).
#[derive(Default)]
pub(crate) struct WakeCount(AtomicUsize);

// The loom models only count through `Wake` and compare reference counts.
#[cfg_attr(loom, allow(dead_code))]
impl WakeCount {
    /// A fresh counter and a waker that bumps it.
    pub(crate) fn new() -> (Arc<WakeCount>, Waker) {
        let count = Arc::new(WakeCount::default());
        let waker = Waker::from(count.clone());
        (count, waker)
    }

    /// The wake-ups so far.
    pub(crate) fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}
