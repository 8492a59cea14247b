//! The task allocation and its type-erased handle.
//!
//! A task is ONE heap allocation, a `#[repr(C)]` [`Cell`]:
//!
//! ```text
//! NonNull<Header> --> +------------------------------------------------+
//!                     | Header   state: AtomicUsize (see state.rs)     |  type-erased: all a Waker,
//!                     |          owner-list links (prev, next)         |  JoinHandle, Task needs
//!                     |          vtable: &'static Vtable  -------------+--> fns monomorphized
//!                     |          owner_id, task Id                     |    for this (F, S)
//!                     +------------------------------------------------+
//!                     | Core     scheduler: S                          |
//!                     |          stage: Running(F) | Finished(output)  |
//!                     |                 | Consumed                     |
//!                     +------------------------------------------------+
//!                     | Trailer  join waker: Option<Waker>             |
//!                     +------------------------------------------------+
//! ```
//!
//! Because `Header` is the first field of a `#[repr(C)]` struct, a pointer to
//! the cell is a pointer to its header and back. Every handle (`Task`,
//! `Notified`, `JoinHandle`, `AbortHandle`, `Waker`) is just a
//! `NonNull<Header>` plus one unit of the reference count; all typed work
//! goes through the [`Vtable`] into `harness.rs`.
//!
//! Who may touch which part (enforced by the state word):
//! * `stage`: the thread holding `RUNNING`; after `COMPLETE`, the
//!   `JoinHandle` (reads the output) or, if join interest was dropped before
//!   completion, the completing thread (drops it).
//! * join waker: the `JoinHandle` while `JOIN_WAKER` is unset; shared with the
//!   runtime (read-only) while it is set.
//! * owner-list links: whoever holds the owner list shard's mutex.
//! * `scheduler`, `vtable`, ids: immutable after allocation, shared freely.

use super::error::JoinError;
use super::harness::Harness;
use super::id::Id;
use super::state::{State, TransitionToNotified};
use super::Schedule;
use crate::loom::cell::UnsafeCell;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

/// The type-erased head of every task allocation.
#[repr(C)]
pub(crate) struct Header {
    /// Lifecycle flags and reference count.
    pub(super) state: State,
    /// Links of the owner list (`OwnedTasks`) shard; guarded by that shard's mutex.
    pub(super) owned: std::cell::UnsafeCell<Pointers>,
    /// Typed operations for this task's `(F, S)`.
    pub(super) vtable: &'static Vtable,
    /// The `OwnedTasks` this task was bound to (0 = none). Written before the
    /// task is shared, read-only afterwards.
    pub(super) owner_id: u64,
    /// The task's id.
    pub(super) id: Id,
}

/// Intrusive doubly linked list links.
#[derive(Default)]
pub(super) struct Pointers {
    pub(super) prev: Option<NonNull<Header>>,
    pub(super) next: Option<NonNull<Header>>,
}

/// Typed operations, one static instance per `(F, S)`.
pub(super) struct Vtable {
    /// Run a `Notified` (consumes its reference).
    pub(super) poll: unsafe fn(NonNull<Header>),
    /// Hand a new `Notified` (owning one reference) to the scheduler.
    pub(super) schedule: unsafe fn(NonNull<Header>),
    /// Free the allocation (reference count is zero).
    pub(super) dealloc: unsafe fn(NonNull<Header>),
    /// `JoinHandle::poll`: `dst` is a `*mut Poll<Result<F::Output, JoinError>>`.
    pub(super) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// `JoinHandle::drop` (consumes the handle's reference).
    pub(super) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    /// `Task::shutdown` (consumes the `Task`'s reference).
    pub(super) shutdown: unsafe fn(NonNull<Header>),
}

/// The whole allocation. `#[repr(C)]` with `header` first: see module docs.
#[repr(C)]
pub(super) struct Cell<F: Future, S> {
    pub(super) header: Header,
    pub(super) core: Core<F, S>,
    pub(super) trailer: Trailer,
}

/// The typed, mutable part of a task.
pub(super) struct Core<F: Future, S> {
    /// The scheduler the task reschedules itself on.
    pub(super) scheduler: S,
    /// Copy of the id, for building `JoinError`s without the header.
    pub(super) task_id: Id,
    stage: UnsafeCell<Stage<F>>,
}

/// What the task currently holds.
enum Stage<F: Future> {
    /// The future, not yet complete.
    Running(F),
    /// The output (or why there is none), waiting for the `JoinHandle`.
    Finished(Result<F::Output, JoinError>),
    /// Future dropped and output taken or dropped.
    Consumed,
}

/// The `JoinHandle`'s waker slot, at the end of the allocation.
pub(super) struct Trailer {
    waker: UnsafeCell<Option<Waker>>,
}

fn vtable<F: Future, S: Schedule>() -> &'static Vtable {
    // Constant-promoted: one static per monomorphization.
    &Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle_slow: drop_join_handle_slow::<F, S>,
        shutdown: shutdown::<F, S>,
    }
}

/// A raw, `Copy` pointer to a task. It does not own a reference by itself:
/// the owning handle types (`Task`, `JoinHandle`, ...) wrap it and release
/// their reference on drop.
///
/// Invariant: a `RawTask` is only created for a live task, and its methods
/// are only called while the caller holds a reference (so it stays live).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

impl RawTask {
    /// Allocates a task holding `future` with the initial state (3 references:
    /// owner list, first `Notified`, `JoinHandle`).
    pub(super) fn new<F, S>(future: F, scheduler: S, id: Id, owner_id: u64) -> RawTask
    where
        F: Future,
        S: Schedule,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                owned: std::cell::UnsafeCell::new(Pointers::default()),
                vtable: vtable::<F, S>(),
                owner_id,
                id,
            },
            core: Core { scheduler, task_id: id, stage: UnsafeCell::new(Stage::Running(future)) },
            trailer: Trailer { waker: UnsafeCell::new(None) },
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    /// # Safety
    /// `ptr` must point to the header of a live task.
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(super) fn header_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    pub(super) fn header(&self) -> &Header {
        // SAFETY: by the type invariant the task is live while we use it, and
        // the header is only accessed through shared references.
        unsafe { self.ptr.as_ref() }
    }

    pub(super) fn state(&self) -> &State {
        &self.header().state
    }

    pub(super) fn id(&self) -> Id {
        self.header().id
    }

    /// Runs the task once; consumes one `Notified` reference.
    pub(super) fn poll(self) {
        // SAFETY: the vtable matches the allocation's (F, S); the caller
        // passes the `Notified` reference in.
        unsafe { (self.header().vtable.poll)(self.ptr) }
    }

    /// Hands a new `Notified` to the scheduler; consumes one reference.
    pub(super) fn schedule(self) {
        // SAFETY: as in `poll`; the caller passes a reference reserved for the `Notified`.
        unsafe { (self.header().vtable.schedule)(self.ptr) }
    }

    /// Frees the task.
    fn dealloc(self) {
        // SAFETY: only called when the reference count reached zero.
        unsafe { (self.header().vtable.dealloc)(self.ptr) }
    }

    /// # Safety
    /// `dst` must be a valid `*mut Poll<Result<T, JoinError>>` where `T` is
    /// the task's output type, and the caller must be the `JoinHandle`.
    pub(super) unsafe fn try_read_output(self, dst: *mut (), waker: &Waker) {
        // SAFETY: forwarded to the caller.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }

    /// Drops the `JoinHandle`'s interest and reference.
    pub(super) fn drop_join_handle_slow(self) {
        // SAFETY: the caller is the `JoinHandle` giving up its reference.
        unsafe { (self.header().vtable.drop_join_handle_slow)(self.ptr) }
    }

    /// Cancels the task; consumes one (owner list) reference.
    pub(super) fn shutdown(self) {
        // SAFETY: the caller passes its reference in.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }

    /// Adds a reference.
    pub(super) fn ref_inc(self) {
        self.state().ref_inc();
    }

    /// Drops a reference, freeing the task if it was the last.
    pub(super) fn drop_reference(self) {
        if self.state().ref_dec() {
            self.dealloc();
        }
    }

    /// `Waker::wake`: consumes the waker's reference.
    pub(super) fn wake_by_val(self) {
        match self.state().transition_to_notified_by_val() {
            // The waker's reference now belongs to the `Notified`.
            TransitionToNotified::Submit => self.schedule(),
            TransitionToNotified::Dealloc => self.dealloc(),
            TransitionToNotified::DoNothing => {}
        }
    }

    /// `Waker::wake_by_ref`.
    pub(super) fn wake_by_ref(self) {
        if self.state().transition_to_notified_by_ref() == TransitionToNotified::Submit {
            // A reference was added for the `Notified`.
            self.schedule();
        }
    }

    /// `abort()`: request cancellation; the scheduler drops the future.
    pub(super) fn remote_abort(self) {
        if self.state().transition_to_notified_and_cancel() {
            // A reference was added for the `Notified`.
            self.schedule();
        }
    }
}

impl<F: Future, S> Core<F, S> {
    /// Polls the future. On `Ready` the future is dropped before returning.
    ///
    /// # Safety
    /// The caller holds `RUNNING` and the stage is `Running`.
    pub(super) unsafe fn poll(&self, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _id = super::id::IdGuard::enter(self.task_id);
        let res = self.stage.with_mut(|ptr| {
            // SAFETY: `RUNNING` gives exclusive access to the stage.
            let Stage::Running(future) = (unsafe { &mut *ptr }) else { unreachable!("polled a task that is not running") };
            // SAFETY: the future lives inside the heap cell, which is never
            // moved; it is dropped in place (`drop_future_or_output`) before
            // the memory is reused or freed.
            let future = unsafe { Pin::new_unchecked(future) };
            future.poll(cx)
        });
        if res.is_ready() {
            // SAFETY: still `RUNNING`.
            unsafe { self.drop_future_or_output() };
        }
        res
    }

    /// Replaces the stage with `Consumed`, dropping the future or output.
    /// The stage is `Consumed` before the old value's destructor runs, so a
    /// panicking destructor leaves a consistent stage.
    ///
    /// # Safety
    /// The caller has exclusive access to the stage (see module docs).
    pub(super) unsafe fn drop_future_or_output(&self) {
        // The destructors run as part of the task: `task::id()` answers in them.
        let _id = super::id::IdGuard::enter(self.task_id);
        // SAFETY: forwarded to the caller.
        let old = unsafe { self.set_stage(Stage::Consumed) };
        drop(old);
    }

    /// Stores the task's result.
    ///
    /// # Safety
    /// The caller has exclusive access to the stage and it is `Consumed`.
    pub(super) unsafe fn store_output(&self, output: Result<F::Output, JoinError>) {
        // SAFETY: forwarded to the caller.
        let old = unsafe { self.set_stage(Stage::Finished(output)) };
        debug_assert!(matches!(old, Stage::Consumed));
    }

    /// Takes the result out, leaving `Consumed`.
    ///
    /// # Safety
    /// The caller is the `JoinHandle` of a `COMPLETE` task.
    pub(super) unsafe fn take_output(&self) -> Result<F::Output, JoinError> {
        // SAFETY: forwarded to the caller.
        match unsafe { self.set_stage(Stage::Consumed) } {
            Stage::Finished(output) => output,
            _ => panic!("JoinHandle polled after completion"),
        }
    }

    /// # Safety
    /// The caller has exclusive access to the stage.
    unsafe fn set_stage(&self, stage: Stage<F>) -> Stage<F> {
        // SAFETY: exclusive access per the caller's contract.
        self.stage.with_mut(|ptr| unsafe { std::mem::replace(&mut *ptr, stage) })
    }
}

impl Trailer {
    /// # Safety
    /// The caller has exclusive access to the slot (`JOIN_WAKER` unset and
    /// caller is the `JoinHandle`, or `COMPLETE` set and `JOIN_INTEREST` unset
    /// and caller is the runtime).
    pub(super) unsafe fn set_waker(&self, waker: Option<Waker>) {
        // SAFETY: exclusive access per the caller's contract.
        self.waker.with_mut(|ptr| unsafe { *ptr = waker });
    }

    /// # Safety
    /// The caller may read the slot (`JOIN_WAKER` set, caller is the `JoinHandle`).
    pub(super) unsafe fn will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: shared access per the caller's contract.
        self.waker.with(|ptr| unsafe { (*ptr).as_ref() }.is_some_and(|w| w.will_wake(waker)))
    }

    /// # Safety
    /// The caller may read the slot (`JOIN_WAKER` and `COMPLETE` set, caller is the runtime).
    pub(super) unsafe fn wake_join(&self) {
        // SAFETY: shared access per the caller's contract.
        self.waker.with(|ptr| match unsafe { &*ptr } {
            Some(waker) => waker.wake_by_ref(),
            None => panic!("join waker missing"),
        });
    }
}

// ===== vtable entries: recover the concrete types and call the harness =====

unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the vtable was built for this cell's (F, S); the caller owns a reference.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`; the caller passes the reference reserved for the new `Notified`.
    unsafe { Harness::<F, S>::from_raw(ptr) }.schedule();
}

unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`; the reference count is zero.
    unsafe { Harness::<F, S>::from_raw(ptr) }.dealloc();
}

unsafe fn try_read_output<F: Future, S: Schedule>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: the caller (JoinHandle<F::Output>) passes a matching `dst`.
    let dst = unsafe { &mut *(dst as *mut Poll<Result<F::Output, JoinError>>) };
    // SAFETY: as in `poll`.
    unsafe { Harness::<F, S>::from_raw(ptr) }.try_read_output(dst, waker);
}

unsafe fn drop_join_handle_slow<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`; the caller is the JoinHandle.
    unsafe { Harness::<F, S>::from_raw(ptr) }.drop_join_handle_slow();
}

unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: as in `poll`.
    unsafe { Harness::<F, S>::from_raw(ptr) }.shutdown();
}
