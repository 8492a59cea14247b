//! [`Barrier`]: `n` tasks wait until all have arrived. The `n`-th arrival starts a new
//! generation and wakes the others through a [`Notify`]'s `notify_waiters`; each waiter
//! created its `Notified` under the barrier's lock, before that generation could move, so it
//! cannot miss the wake-up.

use super::Notify;
use crate::loom::sync::Mutex;
use std::fmt;

/// Lets `n` tasks wait for each other: [`wait`](Self::wait) returns once `n` calls have been
/// made, then the barrier is ready for the next round.
///
/// ```
/// use executor::sync::Barrier;
/// use std::sync::Arc;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let barrier = Arc::new(Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         executor::spawn(async move { b.wait().await.is_leader() })
///     })
///     .collect();
/// let mut leaders = 0;
/// for t in tasks {
///     leaders += t.await.unwrap() as usize;
/// }
/// assert_eq!(leaders, 1);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Barrier {
    state: Mutex<BarrierState>,
    /// Woken (all) when a generation completes.
    notify: Notify,
    n: usize,
}

struct BarrierState {
    arrived: usize,
    generation: usize,
}

/// What [`Barrier::wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the one (the last to arrive) that released the others.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks (`0` behaves as `1`: every call returns at once as leader).
    pub fn new(n: usize) -> Barrier {
        Barrier { state: Mutex::new(BarrierState { arrived: 0, generation: 0 }), notify: Notify::new(), n: n.max(1) }
    }

    /// Arrives and waits for the `n - 1` others.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the arrival is counted when the future is first polled, and dropping
    /// the future does not take it back (as in tokio).
    pub async fn wait(&self) -> BarrierWaitResult {
        let (mut notified, generation) = {
            let mut state = self.state.lock();
            state.arrived += 1;
            if state.arrived == self.n {
                state.arrived = 0;
                state.generation = state.generation.wrapping_add(1);
                drop(state);
                self.notify.notify_waiters();
                return BarrierWaitResult(true);
            }
            (self.notify.notified(), state.generation)
        };
        loop {
            (&mut notified).await;
            let state = self.state.lock();
            if state.generation != generation {
                return BarrierWaitResult(false);
            }
            notified = self.notify.notified();
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").field("n", &self.n).finish_non_exhaustive()
    }
}
