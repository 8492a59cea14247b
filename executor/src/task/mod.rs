//! The task core: what a spawned future becomes, and the handles to it.
//!
//! A task is one heap allocation holding a header (state word, owner-list
//! links, vtable, id), the scheduler handle, the future — later its output —
//! and the `JoinHandle`'s waker (`raw.rs`). All handles are a pointer to that
//! allocation plus one unit of its reference count:
//!
//! | handle              | held by                          | module    |
//! |---------------------|----------------------------------|-----------|
//! | `Task`              | the owner list (`OwnedTasks`)    | here      |
//! | `Notified`          | a run queue; the right to run once | here    |
//! | [`JoinHandle`]      | the spawner                      | `join.rs` |
//! | [`AbortHandle`]     | anyone (cloneable)               | `join.rs` |
//! | `Waker`             | whatever the future registered with | `waker.rs` |
//!
//! The state machine (`state.rs`) packs RUNNING / COMPLETE / NOTIFIED /
//! CANCELLED / JOIN_INTEREST / JOIN_WAKER and the reference count into one
//! atomic word; `harness.rs` implements run, complete, cancel and the join
//! protocol on top of it. This is a smaller, documented take on tokio's
//! `runtime::task` design.
//!
//! Lifecycle: `OwnedTasks::bind` → the scheduler queues the `Notified` →
//! `Notified::run` polls once (catching panics) → on `Pending` the task idles
//! until a waker submits a new `Notified` via `Schedule::schedule` (or, if it
//! was woken during its own poll, `Schedule::yield_now`) → on `Ready`, panic
//! or cancellation the result is stored, the `JoinHandle` is woken and
//! `Schedule::release` unlinks the task → the last reference frees it.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod coop;
pub(crate) mod dump;
mod error;
mod harness;
mod id;
mod join;
// `len`, `is_empty`, `is_closed` serve the tests and, next, the multi-thread scheduler.
#[allow(dead_code)]
mod list;
mod raw;
mod state;
mod waker;

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

mod join_set;
mod local;
mod spawn;
mod task_local;

pub use crate::blocking::{block_in_place, spawn_blocking};
pub use coop::{consume_budget, unconstrained, Unconstrained};
pub use error::JoinError;
pub use id::{id, try_id, Id};
pub use join::{AbortHandle, JoinHandle};
pub use join_set::JoinSet;
pub(crate) use list::OwnedTasks;
pub use local::{spawn_local, LocalEnterGuard, LocalSet};
pub use spawn::{spawn, yield_now};
pub use task_local::{AccessError, LocalKey};

/// Task-related futures.
pub mod futures {
    pub use super::task_local::TaskLocalFuture;
}

use raw::{Header, RawTask};
use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// Futures larger than this many bytes are boxed by [`OwnedTasks::bind`] so
/// that the task cell stays small and big futures are not moved around on
/// the stack.
pub(crate) const BOX_THRESHOLD: usize = 2048;

/// What a task needs from the scheduler that runs it.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// A task completed or was shut down: remove it from the owner list
    /// (`OwnedTasks::remove`) and return the list's reference.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;

    /// Run this notified task later (push it to a run queue). Called from
    /// wakers, on any thread.
    fn schedule(&self, task: Notified<Self>);

    /// Like `schedule`, for a task that was woken during its own poll (it
    /// yielded); the scheduler may put it at the back of the queue.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task)
    }
}

/// A counted reference to a task; the owner list holds one per live task.
/// Dropping it just releases the reference.
pub(crate) struct Task<S: 'static> {
    raw: RawTask,
    _scheduler: PhantomData<S>,
}

// SAFETY: a `Task` only exposes the atomic state, the immutable header and
// the scheduler-driven operations (`shutdown`, running through `Notified`);
// the future and output are `Send` (enforced by `bind`) and `S: Send + Sync`.
unsafe impl<S> Send for Task<S> {}
// SAFETY: as for `Send`; `&Task` gives access to the id and header only.
unsafe impl<S> Sync for Task<S> {}

/// A task reference that carries the right to run the task once; it sits in
/// a run queue. At most one exists per task (plus the one being run).
pub(crate) struct Notified<S: 'static>(Task<S>);

impl<S: 'static> Task<S> {
    /// # Safety
    /// The caller transfers one reference of `raw` to the new `Task`.
    pub(super) unsafe fn from_raw(raw: RawTask) -> Task<S> {
        Task { raw, _scheduler: PhantomData }
    }

    /// The task's id.
    pub(crate) fn id(&self) -> Id {
        self.raw.id()
    }

    fn header(&self) -> &Header {
        self.raw.header()
    }

    fn header_ptr(&self) -> NonNull<Header> {
        self.raw.header_ptr()
    }

    /// Gives up ownership of the reference without releasing it.
    fn into_raw(self) -> RawTask {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }
}

impl<S: Schedule> Task<S> {
    /// Cancels the task: if it is idle its future is dropped now (on this
    /// thread); if it is running, the poll observes `CANCELLED` and drops it
    /// when it returns. Its `JoinHandle` resolves to a cancelled `JoinError`
    /// (unless it completed first). Consumes this reference.
    pub(crate) fn shutdown(self) {
        self.into_raw().shutdown();
    }
}

impl<S: Schedule> Notified<S> {
    /// Polls the task once with its own waker, catching panics. If it was
    /// woken during the poll it is handed back through `Schedule::yield_now`
    /// (by default `Schedule::schedule`); when it finishes (output, panic or
    /// cancellation) the output is stored, the `JoinHandle` woken and
    /// `Schedule::release` called.
    pub(crate) fn run(self) {
        self.0.into_raw().poll();
    }

    /// The task's id.
    #[allow(dead_code)] // for tracing and the multi-thread scheduler (next step)
    pub(crate) fn id(&self) -> Id {
        self.0.id()
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl<S: 'static> fmt::Debug for Task<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("id", &self.id()).field("state", self.raw.state()).finish()
    }
}

impl<S: 'static> fmt::Debug for Notified<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified").field("id", &self.0.id()).field("state", self.0.raw.state()).finish()
    }
}
