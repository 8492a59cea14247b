//! The thread's runtime context: which runtime `spawn`, `sleep` and `Handle::current` talk to,
//! and whether the thread is already driving a runtime (a nested `block_on` is refused) and
//! may leave it for a blocking section (`block_in_place`).
//!
//! ```text
//!   DRIVING:  NotDriving ── block_on / worker start ──▶ Driving { allow_block_in_place }
//!                  ▲                                       │  multi-thread block_on, worker: true
//!                  │                                       │  current-thread block_on:       false
//!                  │                                       │  inside a LocalSet's poll:      false
//!                  └──── block_in_place(f), while f runs ──┘  (restored when f returns)
//! ```

use super::Handle;
use std::cell::{Cell, RefCell};
use std::fmt;

/// The message of the panic when a runtime function is used outside any runtime.
pub(crate) const NO_RUNTIME: &str =
    "there is no runtime running: this must be called from the context of a runtime (inside `Runtime::block_on`, a spawned task, or after `Runtime::enter`)";

/// The message of the panic when `block_on` is called on a thread that is driving a runtime.
pub(crate) const NESTED_BLOCK_ON: &str = "cannot start a runtime from within a runtime: `block_on` was called on a thread that is already driving asynchronous tasks (use `.await`, or `spawn_blocking` to leave the runtime thread)";

/// Whether the thread drives a runtime, and if so whether `block_in_place` may leave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Driving {
    /// Not inside `block_on` or a worker (or inside a `block_in_place` section).
    No,
    /// Inside `block_on` or a worker.
    Yes {
        /// `block_in_place` may run here: the multi-thread runtime, outside a `LocalSet`.
        allow_block_in_place: bool,
    },
}

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    static DRIVING: Cell<Driving> = const { Cell::new(Driving::No) };
}

/// The runtime of the current context, if any.
pub(crate) fn try_current() -> Option<Handle> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Makes `handle` the current runtime until the guard is dropped (which restores the previous).
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let prev = CURRENT.with(|c| c.borrow_mut().replace(handle));
    EnterGuard { prev: Some(prev) }
}

/// Whether this thread is driving a runtime (inside `block_on` or a worker): blocking it would
/// stall the tasks it runs.
pub(crate) fn is_driving() -> bool {
    driving() != Driving::No
}

/// The thread's driving state.
pub(crate) fn driving() -> Driving {
    DRIVING.with(Cell::get)
}

/// Marks the thread as driving a runtime for the guard's lifetime; panics if it already is.
#[track_caller]
pub(crate) fn enter_driving(allow_block_in_place: bool) -> DrivingGuard {
    if is_driving() {
        panic!("{NESTED_BLOCK_ON}");
    }
    set_driving(Driving::Yes { allow_block_in_place })
}

/// Sets the thread's driving state until the guard is dropped (which restores the previous).
pub(crate) fn set_driving(state: Driving) -> DrivingGuard {
    DrivingGuard(DRIVING.with(|d| d.replace(state)))
}

/// Forbids `block_in_place` until the guard is dropped (a `LocalSet` polls its tasks on this
/// thread: it cannot be handed to another).
pub(crate) fn disallow_block_in_place() -> DrivingGuard {
    match driving() {
        Driving::Yes { .. } => set_driving(Driving::Yes { allow_block_in_place: false }),
        Driving::No => set_driving(Driving::No),
    }
}

/// Restores the previous runtime context when dropped. Returned by
/// [`Runtime::enter`](super::Runtime::enter) and [`Handle::enter`](super::Handle::enter).
#[must_use = "the context is left when the guard is dropped"]
pub struct EnterGuard {
    prev: Option<Option<Handle>>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        if let Some(prev) = self.prev.take() {
            CURRENT.with(|c| *c.borrow_mut() = prev);
        }
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// Restores the thread's previous driving state when dropped.
pub(crate) struct DrivingGuard(Driving);

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        DRIVING.with(|d| d.set(self.0));
    }
}
