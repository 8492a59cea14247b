//! Typed task operations: run (poll), complete, cancel/shutdown, join-handle
//! reads and drops, and deallocation. Reached through the vtable in `raw.rs`.
//!
//! Reference accounting on every path (see `state.rs` for the flags):
//! * `poll` consumes the `Notified`'s reference. It becomes the "running
//!   reference" while `RUNNING` is held, and is then either handed to the
//!   next `Notified` (woken during the poll), dropped (idle), or dropped in
//!   `complete` together with the owner list's reference returned by
//!   `Schedule::release`.
//! * `shutdown` consumes the `Task`'s reference the same way.
//!
//! Panics from user code (poll, the future's and output's destructors, the
//! join waker) are caught here, so a worker thread never unwinds through a task.

use super::error::JoinError;
use super::id::Id;
use super::raw::{Cell, Core, Header, RawTask, Trailer};
use super::state::{State, TransitionToIdle, TransitionToRunning};
use super::waker::waker_ref;
use super::{Notified, Schedule, Task};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

/// A typed view of a task allocation.
///
/// Invariant: the cell is a live `Cell<F, S>` and the code using the harness
/// holds (or is consuming) a reference to it.
pub(super) struct Harness<F: Future, S: 'static> {
    cell: NonNull<Cell<F, S>>,
}

/// What `poll` must do after `poll_inner`.
enum PollFuture {
    /// Nothing more: the task is idle (or someone else is running it).
    Done,
    /// Woken during the poll: reschedule with the running reference.
    Notified,
    /// Output (or a cancellation error) stored: complete the task.
    Complete,
    /// The last reference was dropped: free the task.
    Dealloc,
}

impl<F: Future, S: Schedule> Harness<F, S> {
    /// # Safety
    /// `ptr` is the header of a live `Cell<F, S>` and the caller holds a reference.
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> Harness<F, S> {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: by the type invariant the cell is live; it is only accessed
        // through shared references (mutation goes through `UnsafeCell`s).
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn state(&self) -> &State {
        &self.header().state
    }

    fn core(&self) -> &Core<F, S> {
        &self.cell().core
    }

    fn trailer(&self) -> &Trailer {
        &self.cell().trailer
    }

    fn raw(&self) -> RawTask {
        // SAFETY: the cell is live (type invariant).
        unsafe { RawTask::from_raw(self.cell.cast()) }
    }

    /// Runs a `Notified` once (consumes its reference).
    pub(super) fn poll(self) {
        match self.poll_inner() {
            PollFuture::Notified => {
                // The running reference is handed to the new `Notified`
                // (`transition_to_idle` kept it for us).
                // SAFETY: the running (resp. reserved) reference is transferred to it.
                let task = Notified(unsafe { Task::from_raw(self.raw()) });
                self.core().scheduler.yield_now(task);
            }
            PollFuture::Complete => self.complete(),
            PollFuture::Dealloc => self.dealloc(),
            PollFuture::Done => {}
        }
    }

    fn poll_inner(&self) -> PollFuture {
        match self.state().transition_to_running() {
            TransitionToRunning::Success => {
                // The dump's statistics: only this thread writes them while it holds RUNNING.
                let header = self.header();
                header.polls.store(header.polls.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
                header.last_poll.store(crate::runtime::metrics::clock::current(), Ordering::Relaxed);
                #[cfg(feature = "tracing")]
                let _span =
                    tracing::trace_span!(target: "runtime::task", "poll", task.id = header.id.0, spawned_at = %header.spawned_at).entered();
                let waker = waker_ref(self.header());
                let mut cx = Context::from_waker(&waker);
                if poll_future(self.core(), self.header().id, &mut cx).is_ready() {
                    return PollFuture::Complete;
                }
                match self.state().transition_to_idle() {
                    TransitionToIdle::Ok => PollFuture::Done,
                    TransitionToIdle::OkNotified => PollFuture::Notified,
                    TransitionToIdle::OkDealloc => PollFuture::Dealloc,
                    TransitionToIdle::Cancelled => {
                        // Aborted or shut down during the poll: we still hold RUNNING.
                        cancel_task(self.core(), self.header().id);
                        PollFuture::Complete
                    }
                }
            }
            TransitionToRunning::Cancelled => {
                cancel_task(self.core(), self.header().id);
                PollFuture::Complete
            }
            TransitionToRunning::Failed => PollFuture::Done,
            TransitionToRunning::Dealloc => PollFuture::Dealloc,
        }
    }

    /// Hands a new `Notified` (owning one reference) to the scheduler.
    pub(super) fn schedule(self) {
        // SAFETY: the running (resp. reserved) reference is transferred to it.
        let task = Notified(unsafe { Task::from_raw(self.raw()) });
        self.core().scheduler.schedule(task);
    }

    /// Cancels the task for the owner list (consumes the `Task`'s reference).
    pub(super) fn shutdown(self) {
        if !self.state().transition_to_shutdown() {
            // Running (that poll will see CANCELLED), or already complete.
            self.raw().drop_reference();
            return;
        }
        // We hold RUNNING: drop the future here, now.
        cancel_task(self.core(), self.header().id);
        self.complete();
    }

    /// Publishes the stored output: wakes or informs the `JoinHandle`,
    /// releases the task from its owner list and drops the running reference.
    /// The caller holds `RUNNING` and has stored the output.
    fn complete(self) {
        #[cfg(feature = "tracing")]
        {
            let id = self.header().id.0;
            tracing::trace!(target: "runtime::task", { task.id = id }, "complete");
        }
        let snapshot = self.state().transition_to_complete();
        // Only a waker or output destructor can panic here; nobody to report to.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| {
            if !snapshot.is_join_interested() {
                // The JoinHandle is gone (and dropped the waker); we own the output.
                // SAFETY: COMPLETE set and JOIN_INTEREST unset: nobody else
                // touches the stage.
                unsafe { self.core().drop_future_or_output(self.header().id) };
            } else if snapshot.is_join_waker_set() {
                // SAFETY: JOIN_WAKER set: the runtime may read the slot.
                unsafe { self.trailer().wake_join() };
                if !self.state().unset_waker_after_complete().is_join_interested() {
                    // The JoinHandle was dropped while we were waking; it left the waker to us.
                    // SAFETY: COMPLETE set and JOIN_INTEREST unset: exclusive access.
                    unsafe { self.trailer().set_waker(None) };
                }
            }
        }));

        let released = self.release();
        if self.state().transition_to_terminal(released) {
            self.dealloc();
        }
    }

    /// Asks the scheduler to unlink the task from its owner list. Returns
    /// how many references to drop: the running one, plus the list's if it
    /// was handed back.
    fn release(&self) -> usize {
        // Borrow a `Task` without owning a reference (never dropped).
        // SAFETY: wrapped in `ManuallyDrop`, so no reference is claimed or released.
        let me = ManuallyDrop::new(unsafe { Task::<S>::from_raw(self.raw()) });
        match self.core().scheduler.release(&me) {
            Some(task) => {
                debug_assert!(task.raw == me.raw, "release returned another task");
                // Its reference is dropped by `transition_to_terminal`.
                std::mem::forget(task);
                2
            }
            None => 1,
        }
    }

    /// `JoinHandle::poll`: moves the output into `dst` if complete, otherwise
    /// registers `waker` for the completion.
    pub(super) fn try_read_output(self, dst: &mut Poll<Result<F::Output, JoinError>>, waker: &Waker) {
        // The dump shows the polling task waiting on this one (one relaxed store).
        let joiner = super::id::try_id().map_or(0, |id| id.as_u64());
        self.trailer().joiner.store(joiner, Ordering::Relaxed);
        if can_read_output(self.header(), self.trailer(), waker) {
            // SAFETY: COMPLETE is set and we are the JoinHandle (JOIN_INTEREST
            // still set), so the stage is ours.
            *dst = Poll::Ready(unsafe { self.core().take_output() });
        }
    }

    /// `JoinHandle::drop` (consumes its reference).
    pub(super) fn drop_join_handle_slow(self) {
        let transition = self.state().transition_to_join_handle_dropped();
        if transition.drop_output {
            // The output must not outlive the JoinHandle (it may be `!Sync`
            // state that only the JoinHandle's thread should drop).
            // SAFETY: COMPLETE was set when we unset JOIN_INTEREST, so the
            // runtime no longer touches the stage.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| unsafe { self.core().drop_future_or_output(self.header().id) }));
        }
        if transition.drop_waker {
            // SAFETY: JOIN_WAKER is unset, so the JoinHandle (us) has exclusive
            // access to the slot: either we unset it before completion, or the
            // runtime finished with it after completion.
            unsafe { self.trailer().set_waker(None) };
        }
        self.raw().drop_reference();
    }

    /// Frees the allocation.
    pub(super) fn dealloc(self) {
        // SAFETY: the reference count is zero, so no handle can reach the cell
        // any more; it was allocated by `Box` in `RawTask::new` as `Cell<F, S>`.
        // Dropping it drops the scheduler, whatever the stage still holds and
        // the join waker.
        drop(unsafe { Box::from_raw(self.cell.as_ptr()) });
    }
}

/// Polls the future, catching a panic, and stores the result on `Ready`.
fn poll_future<F: Future, S>(core: &Core<F, S>, id: Id, cx: &mut Context<'_>) -> Poll<()> {
    let output = match panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller holds RUNNING (poll_inner, after transition_to_running).
        super::coop::budget(|| unsafe { core.poll(id, cx) })
    })) {
        Ok(Poll::Pending) => return Poll::Pending,
        Ok(Poll::Ready(output)) => Ok(output),
        Err(payload) => {
            // The future is still in the stage (or half-dropped, if its own
            // destructor panicked after `Ready`): drop it, ignoring a second panic.
            // SAFETY: still RUNNING.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| unsafe { core.drop_future_or_output(id) }));
            Err(JoinError::panic(id, payload))
        }
    };
    // SAFETY: still RUNNING, and the stage is `Consumed`.
    unsafe { core.store_output(output) };
    Poll::Ready(())
}

/// Drops the future and stores `JoinError::cancelled` (or `panic` if the
/// future's destructor panicked). The caller holds RUNNING.
fn cancel_task<F: Future, S>(core: &Core<F, S>, id: Id) {
    // SAFETY: the caller holds RUNNING.
    let res = panic::catch_unwind(AssertUnwindSafe(|| unsafe { core.drop_future_or_output(id) }));
    let err = match res {
        Ok(()) => JoinError::cancelled(id),
        Err(payload) => JoinError::panic(id, payload),
    };
    // SAFETY: still RUNNING, and the stage is `Consumed`.
    unsafe { core.store_output(Err(err)) };
}

/// The JoinHandle side of the join-waker protocol. Returns `true` if the
/// task is complete (the output may be read); otherwise makes sure `waker`
/// is the registered join waker.
fn can_read_output(header: &Header, trailer: &Trailer, waker: &Waker) -> bool {
    let snapshot = header.state.load();
    debug_assert!(snapshot.is_join_interested());
    if snapshot.is_complete() {
        return true;
    }
    let res = if snapshot.is_join_waker_set() {
        // SAFETY: JOIN_WAKER set: we (the JoinHandle) may read the slot.
        if unsafe { trailer.will_wake(waker) } {
            return false;
        }
        // Take back exclusive access to swap in the new waker.
        header.state.unset_join_waker().and_then(|_| set_join_waker(header, trailer, waker.clone()))
    } else {
        set_join_waker(header, trailer, waker.clone())
    };
    match res {
        Ok(_) => false,
        Err(snapshot) => {
            // Completed while we were registering.
            assert!(snapshot.is_complete());
            true
        }
    }
}

fn set_join_waker(header: &Header, trailer: &Trailer, waker: Waker) -> Result<(), super::state::Snapshot> {
    // SAFETY: JOIN_WAKER is unset and we are the JoinHandle: exclusive access.
    unsafe { trailer.set_waker(Some(waker)) };
    let res = header.state.set_join_waker();
    if res.is_err() {
        // Completed first: the runtime never saw the waker, the slot is still ours.
        // SAFETY: JOIN_WAKER still unset: exclusive access.
        unsafe { trailer.set_waker(None) };
    }
    res.map(|_| ())
}
