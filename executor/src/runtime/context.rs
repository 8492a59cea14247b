//! The thread's runtime context: which runtime `spawn`, `sleep` and `Handle::current` talk to,
//! whether the thread is already driving a runtime (a nested `block_on` is refused, and so
//! is a runtime drop that would block it) and whether it may leave it for a blocking section
//! (`block_in_place`).
//!
//! ```text
//!   CONTEXT (one thread-local per thread)
//!     current: Option<Handle>   the innermost entered runtime
//!     depth:   usize            how many `EnterGuard`s are alive; each guard remembers its own
//!     driving: Driving          inside `block_on` or a worker loop, and whether
//!                               `block_in_place` may hand the thread's work to another
//!
//!   rt_a.enter() ─▶ depth 1 (prev: None) ─▶ rt_b.enter() ─▶ depth 2 (prev: rt_a)
//!   drop(guard 2): depth == 2, restore rt_a, depth 1 ─▶ drop(guard 1): restore None, depth 0
//!   drop(guard 1) first: its depth (1) is not the current (2): panic, naming the misuse
//! ```
//!
//! Every access goes through `try_with`: the context may be reached while the thread's locals
//! are being destroyed (a `Runtime` kept in a thread-local and dropped by its destructor). Then
//! the thread has no current runtime and drives none; entering one is refused by `try_enter`,
//! which the shutdown path uses, so such a drop shuts the runtime down cleanly.
//!
//! ```text
//!   driving:  No ── block_on / worker start ──▶ Yes { allow_block_in_place }
//!              ▲                                  │  multi-thread block_on, worker: true
//!              │                                  │  current-thread block_on:       false
//!              │                                  │  inside a LocalSet's poll:      false
//!              └─ block_in_place(f), while f runs ┘  (restored when f returns)
//! ```

use super::Handle;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;

/// The message of the panic when a runtime function is used outside any runtime.
pub(crate) const NO_RUNTIME: &str =
    "there is no runtime running: this must be called from the context of a runtime (inside `Runtime::block_on`, a spawned task, or after `Runtime::enter`)";

/// The message of the panic when the thread's locals are being destroyed.
pub(crate) const THREAD_LOCAL_DESTROYED: &str =
    "the runtime context thread-local has been destroyed (this happens in the destructors of other thread-locals)";

/// The message of the panic when `block_on` is called on a thread that is driving a runtime.
pub(crate) const NESTED_BLOCK_ON: &str = "cannot start a runtime from within a runtime: `block_on` was called on a thread that is already driving asynchronous tasks (use `.await`, or `spawn_blocking` to leave the runtime thread)";

/// The message of the panic when `EnterGuard`s are dropped in another order than they were made.
pub(crate) const ENTER_OUT_OF_ORDER: &str = "`EnterGuard` values dropped out of order: the guards returned by `Runtime::enter` / `Handle::enter` must be dropped in the reverse order of their creation";

/// The message of the panic when a runtime would be dropped (waiting for its blocking threads)
/// on a thread that drives asynchronous tasks.
pub(crate) const DROP_IN_ASYNC: &str = "cannot drop a runtime in a context where blocking is not allowed: it was dropped (or shut down with a timeout) from within an asynchronous context; move it to `spawn_blocking`, or use `Runtime::shutdown_background`";

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

struct Context {
    current: RefCell<Option<Handle>>,
    depth: Cell<usize>,
    driving: Cell<Driving>,
}

thread_local! {
    static CONTEXT: Context = const { Context { current: RefCell::new(None), depth: Cell::new(0), driving: Cell::new(Driving::No) } };
}

/// Why there is no current runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Missing {
    /// No runtime was entered on this thread.
    NoContext,
    /// The thread's locals are being destroyed.
    Destroyed,
}

/// The runtime of the current context.
pub(crate) fn current() -> Result<Handle, Missing> {
    CONTEXT.try_with(|c| c.current.borrow().clone()).map_err(|_| Missing::Destroyed)?.ok_or(Missing::NoContext)
}

/// The runtime of the current context, or a panic naming the misuse at the caller's line.
#[track_caller]
pub(crate) fn expect_current() -> Handle {
    match current() {
        Ok(h) => h,
        Err(Missing::NoContext) => panic!("{NO_RUNTIME}"),
        Err(Missing::Destroyed) => panic!("{THREAD_LOCAL_DESTROYED}"),
    }
}

/// Makes `handle` the current runtime until the guard is dropped (which restores the previous);
/// `None` if the thread's locals are being destroyed.
pub(crate) fn try_enter(handle: Handle) -> Option<EnterGuard<'static>> {
    CONTEXT
        .try_with(|c| {
            let prev = c.current.borrow_mut().replace(handle);
            let depth = c.depth.get() + 1;
            c.depth.set(depth);
            EnterGuard { prev, depth, _marker: PhantomData, _not_send: PhantomData }
        })
        .ok()
}

/// Whether this thread is driving a runtime (inside `block_on` or a worker): blocking it would
/// stall the tasks it runs.
pub(crate) fn is_driving() -> bool {
    driving() != Driving::No
}

/// The thread's driving state (`No` while the thread's locals are being destroyed).
pub(crate) fn driving() -> Driving {
    CONTEXT.try_with(|c| c.driving.get()).unwrap_or(Driving::No)
}

/// Marks the thread as driving a runtime for the guard's lifetime; panics if it already is.
#[track_caller]
pub(crate) fn enter_driving(allow_block_in_place: bool) -> DrivingGuard {
    match CONTEXT.try_with(|c| c.driving.get()) {
        Ok(Driving::No) => set_driving(Driving::Yes { allow_block_in_place }),
        Ok(Driving::Yes { .. }) => panic!("{NESTED_BLOCK_ON}"),
        Err(_) => panic!("{THREAD_LOCAL_DESTROYED}"),
    }
}

/// Sets the thread's driving state until the guard is dropped (which restores the previous).
pub(crate) fn set_driving(state: Driving) -> DrivingGuard {
    DrivingGuard(CONTEXT.try_with(|c| c.driving.replace(state)).unwrap_or(Driving::No))
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
///
/// Guards must be dropped in the reverse order of their creation, on the thread that created
/// them (the type is not `Send`); dropping one out of order panics, as in tokio.
#[must_use = "the context is left when the guard is dropped"]
pub struct EnterGuard<'a> {
    prev: Option<Handle>,
    /// The context depth this guard created (1 for the outermost guard).
    depth: usize,
    _marker: PhantomData<&'a Handle>,
    _not_send: PhantomData<SyncNotSend>,
}

/// Makes [`EnterGuard`] `Sync` but not `Send`, as tokio's (it restores a thread-local).
struct SyncNotSend(#[allow(dead_code)] *mut ());

// SAFETY: the pointer is never dereferenced (it only makes the type `!Send`); a shared
// reference to an `EnterGuard` gives access to nothing.
unsafe impl Sync for SyncNotSend {}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let restored = CONTEXT.try_with(|c| {
            if c.depth.get() != self.depth {
                return Err(prev);
            }
            let replaced = std::mem::replace(&mut *c.current.borrow_mut(), prev);
            c.depth.set(self.depth - 1);
            Ok(replaced)
        });
        match restored {
            // Dropped outside the borrow: a runtime handle's drop may run arbitrary code.
            Ok(Ok(replaced)) => drop(replaced),
            Ok(Err(_)) if !std::thread::panicking() => panic!("{ENTER_OUT_OF_ORDER}"),
            // Out of order while unwinding (a second panic would abort), or the thread-local is
            // gone: leave the context as it is.
            Ok(Err(_)) | Err(_) => {}
        }
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").field("depth", &self.depth).finish_non_exhaustive()
    }
}

/// Restores the thread's previous driving state when dropped.
pub(crate) struct DrivingGuard(Driving);

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.driving.set(self.0));
    }
}
