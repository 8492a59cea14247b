//! Synchronization for tasks, at tokio's paths: channels ([`mpsc`], [`oneshot`],
//! [`broadcast`], [`watch`]), locks ([`Mutex`], [`RwLock`]), [`Semaphore`], [`Notify`],
//! [`Barrier`] and [`OnceCell`]. Code written against `tokio::sync` compiles against this module
//! and behaves the same (divergences are listed at the end).
//!
//! # One waiter queue
//!
//! Every primitive parks its waiting futures in the same structure, a FIFO of waiter nodes in a
//! slab (`wait_list.rs`), behind the primitive's own mutex:
//!
//! ```text
//!                       ┌──────────────── WaitList (FIFO, in a slab) ────────────────┐
//!  Semaphore / Mutex /  │ head ─▶ [A: needs 2, has 1] ⇄ [B: needs 1] ⇄ [C] ◀─ tail │
//!  RwLock / mpsc cap.   └─────────────────────────────────────────────────────────────┘
//!        ▲ release(n): lock → assign to the head → unlink the satisfied ones (Granted)
//!        │             → leftovers to the atomic counter → unlock → wake (≤ 32 per hold)
//!        │ acquire: CAS on the counter; else lock → take what is there → queue the rest
//!        │ drop while queued: lock → remove the node → release what it held
//!
//!  Notify ── notify_one: pop the head (One) │ notify_waiters: unlink all (All) + bump `calls`
//!  watch, Barrier, mpsc `Sender::closed` ── on Notify
//!  broadcast receivers ── a WaitList of their own, emptied by each send
//! ```
//!
//! **Who wakes whom.** A future queued in a list is woken by whoever changes the state it waits
//! on: a release (semaphore), a send (channels), `notify_*`, a close or a drop of the other
//! side. The waker unlinks the node and writes the outcome into it (`Granted`, `One`, …) under
//! the lock; the woken future reads the outcome under the lock and frees its node. A future
//! dropped while queued removes its own node under the lock and gives back whatever had been
//! handed to it (permits go to the next waiter; a `notify_one` notification is passed on).
//!
//! **Lock order.** No code holds two of these locks at once: each primitive has one mutex
//! (channels built on a semaphore release its permits after dropping their own lock), and
//! wakers are always woken after the lock is released, so a waker that re-enters the primitive
//! (a task polled inline) cannot deadlock. No user code runs under a lock except `Clone` of a
//! `broadcast` value (as in tokio) and the closures of `watch::Sender::send_modify` (under the
//! value's write lock, as in tokio).
//!
//! **Fairness.** The semaphore is strictly FIFO: permits released while waiters are queued go
//! to the oldest waiter, even a large request; `try_acquire` cannot overtake a queued waiter.
//! `Mutex` (one permit) and `RwLock` (a writer takes all `max_readers` permits) inherit it.
//!
//! # Cooperative budget
//!
//! Every receive, acquire and lock takes one unit of the task's cooperative budget (see
//! `task::coop`); when the budget is spent it returns `Pending` and reschedules the task, so a
//! task looping on an always-ready channel or an uncontended lock still lets other tasks and
//! timers run. The `try_*` methods are synchronous and not budgeted.
//!
//! # Divergences from tokio
//!
//! | | tokio | here |
//! |---|---|---|
//! | waiter nodes | intrusive, in the pinned future | a slab inside the primitive (no `unsafe`; reused slots) |
//! | `mpsc` queue | lock-free linked blocks | a `VecDeque` under a mutex |
//! | `Mutex<T: ?Sized>`, `RwLock<T: ?Sized>` | supported | `T: Sized` |
//! | `Notify::notified_owned`, `mpsc::Sender::reserve_many`, owned mapped guards | present | absent |

mod barrier;
mod batch_semaphore;
pub mod broadcast;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod semaphore;
mod wait_list;
pub mod watch;

#[cfg(all(test, loom))]
mod loom_notify;
#[cfg(all(test, loom))]
mod loom_semaphore;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{MappedMutexGuard, Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError};

use crate::task::coop;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{ready, Context, Poll, Wake, Waker};

/// The message of the panic when a `blocking_*` method is called on a runtime thread.
const BLOCKING_IN_RUNTIME: &str = "cannot block the current thread from within a runtime: a `blocking_*` synchronization method was called on a thread that is driving asynchronous tasks (use `.await`, or call it from `spawn_blocking`)";

/// Wakes a thread parked in [`block_on`].
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread, parking it between polls (the `blocking_*`
/// methods).
///
/// # Panics
///
/// On a thread that drives a runtime: parking it would stall the tasks that could complete
/// `future`.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    assert!(!crate::runtime::context::is_driving(), "{BLOCKING_IN_RUNTIME}");
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// Runs a future that is built from unbudgeted parts as one budgeted operation: each poll
/// takes a unit of the cooperative budget, kept only if the future completes.
pub(crate) fn cooperative<F: Future>(future: F) -> Cooperative<F> {
    Cooperative { future }
}

/// The future of [`cooperative`].
pub(crate) struct Cooperative<F> {
    future: F,
}

impl<F: Future> Future for Cooperative<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let unit = ready!(coop::poll_proceed(cx));
        // SAFETY: structural pinning: `future` is never moved out of the pinned `Cooperative`.
        let future = unsafe { self.map_unchecked_mut(|c| &mut c.future) };
        let out = ready!(future.poll(cx));
        unit.made_progress();
        Poll::Ready(out)
    }
}
