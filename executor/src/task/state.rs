//! The task state word: lifecycle flags and the reference count packed into
//! one `AtomicUsize`, so every transition is a single atomic operation.
//!
//! ```text
//!  usize bit:  63 ........................ 6 | 5         | 4          | 3             | 2        | 1        | 0
//!             +----------------------------+-----------+------------+---------------+----------+----------+---------+
//!             |   reference count          | CANCELLED | JOIN_WAKER | JOIN_INTEREST | NOTIFIED | COMPLETE | RUNNING |
//!             +----------------------------+-----------+------------+---------------+----------+----------+---------+
//! ```
//!
//! * `RUNNING`: some thread is polling (or cancelling) the future and has
//!   exclusive access to the stage cell. Acts as the task's lock.
//! * `COMPLETE`: the stage holds the output (or a `JoinError`) or has been
//!   consumed. Never unset once set. `RUNNING` and `COMPLETE` are never both set.
//! * `NOTIFIED`: a [`Notified`](super::Notified) exists for this task (it is in
//!   a run queue), or the task was woken while running and will be
//!   rescheduled when the poll ends. At most one `Notified` exists per task
//!   (apart from the one being run), which is what makes "exactly one
//!   reschedule" hold.
//! * `CANCELLED`: abort or shutdown was requested; whoever next holds
//!   `RUNNING` drops the future and stores `JoinError::cancelled`.
//! * `JOIN_INTEREST`: the `JoinHandle` still exists. When it is unset after
//!   completion, the `JoinHandle` side owns (and drops) the output; when it is
//!   unset before completion, the task side drops the output.
//! * `JOIN_WAKER`: the join waker slot holds a waker and the *runtime* may
//!   read it. While it is unset the `JoinHandle` has exclusive access to the
//!   slot. The `JoinHandle` may only unset it while `COMPLETE` is unset; after
//!   completion only the runtime unsets it (after waking).
//!
//! The reference count counts: the owner list's [`Task`](super::Task), each
//! [`Notified`](super::Notified), the `JoinHandle`, each `AbortHandle` and each
//! `Waker`. The task is freed when it reaches zero. A new task starts with 3
//! references (list, first `Notified`, `JoinHandle`), `NOTIFIED` and
//! `JOIN_INTEREST`.

use crate::loom::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::Relaxed};
use std::fmt;

const RUNNING: usize = 1 << 0;
const COMPLETE: usize = 1 << 1;
const LIFECYCLE_MASK: usize = RUNNING | COMPLETE;
const NOTIFIED: usize = 1 << 2;
const JOIN_INTEREST: usize = 1 << 3;
const JOIN_WAKER: usize = 1 << 4;
const CANCELLED: usize = 1 << 5;
const STATE_MASK: usize = (1 << 6) - 1;
const REF_COUNT_SHIFT: u32 = 6;
const REF_ONE: usize = 1 << REF_COUNT_SHIFT;

/// List + first `Notified` + `JoinHandle`.
const INITIAL_STATE: usize = (REF_ONE * 3) | JOIN_INTEREST | NOTIFIED;

/// The atomic state word of one task.
pub(super) struct State {
    val: AtomicUsize,
}

/// A copy of the state word taken at one instant.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(super) struct Snapshot(usize);

/// Result of [`State::transition_to_running`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TransitionToRunning {
    /// We hold `RUNNING`: poll the future.
    Success,
    /// We hold `RUNNING` but the task was cancelled: drop the future.
    Cancelled,
    /// The task was already running or complete; our `Notified` reference was dropped.
    Failed,
    /// As `Failed`, and that was the last reference: free the task.
    Dealloc,
}

/// Result of [`State::transition_to_idle`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TransitionToIdle {
    /// Idle; the running reference was dropped.
    Ok,
    /// Idle, but woken during the poll: the running reference becomes the new `Notified`.
    OkNotified,
    /// Idle, and the running reference was the last one: free the task.
    OkDealloc,
    /// Cancelled during the poll: still `RUNNING`; the caller drops the future.
    Cancelled,
}

/// Result of the `transition_to_notified_*` wake transitions.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum TransitionToNotified {
    /// Nothing to do (already notified, running or complete).
    DoNothing,
    /// `NOTIFIED` was set and a reference is reserved for it: schedule a `Notified`.
    Submit,
    /// The waker's reference was the last one: free the task.
    Dealloc,
}

/// Result of [`State::transition_to_join_handle_dropped`].
pub(super) struct TransitionToJoinHandleDropped {
    /// The task is complete: the `JoinHandle` side must drop the output.
    pub(super) drop_output: bool,
    /// The `JoinHandle` has exclusive access to the join waker slot and must clear it.
    pub(super) drop_waker: bool,
}

impl State {
    /// The state of a freshly allocated task (see the module docs).
    pub(super) fn new() -> State {
        State { val: AtomicUsize::new(INITIAL_STATE) }
    }

    /// Loads the current state.
    pub(super) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Acquire))
    }

    /// CAS loop: `f` returns the action and, if the state must change, the new state.
    fn fetch_update_action<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (action, next) = f(curr);
            let Some(next) = next else { return action };
            match self.val.compare_exchange_weak(curr.0, next.0, AcqRel, Acquire) {
                Ok(_) => return action,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// CAS loop: `f` returns the new state, or `None` to give up (`Err(current)`).
    fn fetch_update(&self, mut f: impl FnMut(Snapshot) -> Option<Snapshot>) -> Result<Snapshot, Snapshot> {
        let mut curr = self.load();
        loop {
            let Some(next) = f(curr) else { return Err(curr) };
            match self.val.compare_exchange_weak(curr.0, next.0, AcqRel, Acquire) {
                Ok(_) => return Ok(next),
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// Called by the thread that runs a `Notified` (which carries one reference).
    ///
    /// Idle → `RUNNING`, clearing `NOTIFIED` (the reference is kept as the
    /// "running reference"). Already running/complete → the `Notified`'s
    /// reference is dropped. Invariant: only one thread ever holds `RUNNING`.
    pub(super) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|mut next| {
            assert!(next.is_notified(), "running a task that is not notified");
            if !next.is_idle() {
                next.ref_dec();
                let action = if next.ref_count() == 0 { TransitionToRunning::Dealloc } else { TransitionToRunning::Failed };
                return (action, Some(next));
            }
            next.set_running();
            next.unset_notified();
            let action = if next.is_cancelled() { TransitionToRunning::Cancelled } else { TransitionToRunning::Success };
            (action, Some(next))
        })
    }

    /// Called after a poll returned `Pending`. Unless cancelled (then the
    /// caller keeps `RUNNING` and cancels the task), clears `RUNNING`. If the
    /// task was woken during the poll, the running reference is handed to the
    /// new `Notified`; otherwise it is dropped. Invariant: a wake during the
    /// poll is never lost (NOTIFIED is read in the same atomic step that ends
    /// the poll) and causes exactly one reschedule.
    pub(super) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update_action(|mut next| {
            assert!(next.is_running());
            if next.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            next.unset_running();
            let action = if next.is_notified() {
                TransitionToIdle::OkNotified
            } else {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            (action, Some(next))
        })
    }

    /// `RUNNING` → `COMPLETE` (the output is already stored). Returns the new
    /// state; the caller still holds the running reference.
    pub(super) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_xor(RUNNING | COMPLETE, AcqRel));
        assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ (RUNNING | COMPLETE))
    }

    /// Drops `count` references after completion (the running reference, plus
    /// the owner list's one if `release` returned it). Returns `true` if the
    /// task must be freed.
    pub(super) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, AcqRel));
        assert!(prev.ref_count() >= count, "task reference count underflow");
        prev.ref_count() == count
    }

    /// Shutdown/cancel request from the owner list. Sets `CANCELLED`; if the
    /// task was idle also sets `RUNNING` and returns `true`: the caller now
    /// owns the future and must cancel and complete the task. Otherwise the
    /// thread that is running it (or the run of its pending `Notified`) will
    /// observe `CANCELLED`.
    pub(super) fn transition_to_shutdown(&self) -> bool {
        let mut was_idle = false;
        let _ = self.fetch_update(|mut next| {
            was_idle = next.is_idle();
            if was_idle {
                next.set_running();
            }
            next.set_cancelled();
            Some(next)
        });
        was_idle
    }

    /// `Waker::wake` (consumes the waker's reference).
    ///
    /// * running → set `NOTIFIED` (rescheduled by `transition_to_idle`), drop the reference;
    /// * complete or already notified → drop the reference (maybe `Dealloc`);
    /// * idle → set `NOTIFIED`; the waker's reference becomes the `Notified`'s (`Submit`).
    pub(super) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update_action(|mut next| {
            let action = if next.is_running() {
                next.set_notified();
                next.ref_dec();
                assert!(next.ref_count() > 0, "the running thread holds a reference");
                TransitionToNotified::DoNothing
            } else if next.is_complete() || next.is_notified() {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToNotified::Dealloc
                } else {
                    TransitionToNotified::DoNothing
                }
            } else {
                next.set_notified();
                TransitionToNotified::Submit
            };
            (action, Some(next))
        })
    }

    /// `Waker::wake_by_ref`: like `by_val` but the caller keeps its reference,
    /// so `Submit` adds one for the new `Notified`.
    pub(super) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update_action(|mut next| {
            if next.is_complete() || next.is_notified() {
                (TransitionToNotified::DoNothing, None)
            } else if next.is_running() {
                next.set_notified();
                (TransitionToNotified::DoNothing, Some(next))
            } else {
                next.set_notified();
                next.ref_inc();
                (TransitionToNotified::Submit, Some(next))
            }
        })
    }

    /// `abort()` from a `JoinHandle`/`AbortHandle`: sets `CANCELLED`. Returns
    /// `true` if the task was idle and un-notified: then `NOTIFIED` is set and
    /// a reference added, and the caller schedules the task so that a worker
    /// drops the future (futures are always dropped by the scheduler, never
    /// by the aborting thread). If it is running or already queued, that run
    /// observes `CANCELLED`. Complete or already cancelled: no-op.
    pub(super) fn transition_to_notified_and_cancel(&self) -> bool {
        self.fetch_update_action(|mut next| {
            if next.is_cancelled() || next.is_complete() {
                (false, None)
            } else if next.is_running() || next.is_notified() {
                next.set_cancelled();
                (false, Some(next))
            } else {
                next.set_cancelled();
                next.set_notified();
                next.ref_inc();
                (true, Some(next))
            }
        })
    }

    /// `JoinHandle` drop: clears `JOIN_INTEREST`, and `JOIN_WAKER` too if the
    /// task is not complete (taking back exclusive access to the waker slot).
    /// See [`TransitionToJoinHandleDropped`] for who drops what.
    pub(super) fn transition_to_join_handle_dropped(&self) -> TransitionToJoinHandleDropped {
        self.fetch_update_action(|mut next| {
            assert!(next.is_join_interested());
            next.unset_join_interested();
            let drop_output = next.is_complete();
            if !drop_output {
                next.unset_join_waker();
            }
            // If JOIN_WAKER is still set, the runtime is waking the waker right
            // now and will drop it in `complete` when it sees no join interest.
            let drop_waker = !next.is_join_waker_set();
            (TransitionToJoinHandleDropped { drop_output, drop_waker }, Some(next))
        })
    }

    /// `JoinHandle` poll, after storing a waker in the slot: sets `JOIN_WAKER`
    /// (publishing the waker to the runtime). Fails (`Err`) if the task
    /// completed meanwhile; the `JoinHandle` then still owns the slot.
    pub(super) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|mut next| {
            assert!(next.is_join_interested() && !next.is_join_waker_set());
            if next.is_complete() {
                return None;
            }
            next.set_join_waker();
            Some(next)
        })
    }

    /// `JoinHandle` poll with a different waker: takes back exclusive access
    /// to the slot by clearing `JOIN_WAKER`. Fails if the task is complete
    /// (the runtime may be reading the waker).
    pub(super) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update(|mut next| {
            assert!(next.is_join_interested() && next.is_join_waker_set());
            if next.is_complete() {
                return None;
            }
            next.unset_join_waker();
            Some(next)
        })
    }

    /// Runtime side, after waking the join waker of a completed task: hands
    /// the slot back. Returns the new state; if `JOIN_INTEREST` is unset the
    /// `JoinHandle` is gone and the runtime must drop the waker.
    pub(super) fn unset_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_and(!JOIN_WAKER, AcqRel));
        assert!(prev.is_complete() && prev.is_join_waker_set());
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    /// Adds a reference (waker clone, `AbortHandle`). Aborts on overflow.
    pub(super) fn ref_inc(&self) {
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        // Like `Arc`: with ~2^57 references something is badly wrong; a panic
        // could be caught and retried, so abort.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops a reference. Returns `true` if it was the last one (free the task).
    pub(super) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, AcqRel));
        assert!(prev.ref_count() >= 1, "task reference count underflow");
        prev.ref_count() == 1
    }
}

impl Snapshot {
    /// Neither running nor complete.
    pub(super) fn is_idle(self) -> bool {
        self.0 & LIFECYCLE_MASK == 0
    }
    pub(super) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    fn set_running(&mut self) {
        self.0 |= RUNNING;
    }
    fn unset_running(&mut self) {
        self.0 &= !RUNNING;
    }
    pub(super) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(super) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    fn set_notified(&mut self) {
        self.0 |= NOTIFIED;
    }
    fn unset_notified(&mut self) {
        self.0 &= !NOTIFIED;
    }
    pub(super) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    fn set_cancelled(&mut self) {
        self.0 |= CANCELLED;
    }
    pub(super) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    fn unset_join_interested(&mut self) {
        self.0 &= !JOIN_INTEREST;
    }
    pub(super) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    fn set_join_waker(&mut self) {
        self.0 |= JOIN_WAKER;
    }
    fn unset_join_waker(&mut self) {
        self.0 &= !JOIN_WAKER;
    }
    pub(super) fn ref_count(self) -> usize {
        self.0 >> REF_COUNT_SHIFT
    }
    fn ref_inc(&mut self) {
        assert!(self.0 <= isize::MAX as usize);
        self.0 += REF_ONE;
    }
    fn ref_dec(&mut self) {
        assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interested", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("ref_count", &self.ref_count())
            .field("flags", &format_args!("{:#08b}", self.0 & STATE_MASK))
            .finish()
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn initial_state_is_notified_join_interested_three_refs() {
        let s = State::new().load();
        assert!(s.is_notified() && s.is_join_interested() && s.is_idle());
        assert!(!s.is_cancelled() && !s.is_join_waker_set());
        assert_eq!(s.ref_count(), 3);
    }

    #[test]
    fn wake_by_ref_while_running_sets_notified_once_and_idle_hands_over_the_reference() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(state.transition_to_notified_by_ref(), TransitionToNotified::DoNothing);
        assert_eq!(state.transition_to_notified_by_ref(), TransitionToNotified::DoNothing);
        assert_eq!(state.transition_to_idle(), TransitionToIdle::OkNotified);
        assert_eq!(state.load().ref_count(), 3);
        assert!(state.load().is_notified());
    }

    #[test]
    fn wake_by_val_when_idle_transfers_its_reference() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        state.ref_inc(); // a waker clone
        assert_eq!(state.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(state.load().ref_count(), 3);
        assert_eq!(state.transition_to_notified_by_val(), TransitionToNotified::Submit);
        assert_eq!(state.load().ref_count(), 3);
        assert!(state.load().is_notified());
    }

    #[test]
    fn abort_when_idle_requests_a_schedule_but_only_once() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(state.transition_to_idle(), TransitionToIdle::Ok);
        assert!(state.transition_to_notified_and_cancel());
        assert!(!state.transition_to_notified_and_cancel());
        assert_eq!(state.transition_to_running(), TransitionToRunning::Cancelled);
    }

    #[test]
    fn shutdown_of_running_task_is_observed_by_transition_to_idle() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        assert!(!state.transition_to_shutdown());
        assert_eq!(state.transition_to_idle(), TransitionToIdle::Cancelled);
        assert!(state.load().is_running());
    }

    #[test]
    fn join_waker_cannot_be_set_or_unset_after_complete() {
        let state = State::new();
        assert!(state.set_join_waker().is_ok());
        assert_eq!(state.transition_to_running(), TransitionToRunning::Success);
        let done = state.transition_to_complete();
        assert!(done.is_complete() && done.is_join_waker_set());
        assert!(state.unset_join_waker().is_err());
        let after = state.unset_waker_after_complete();
        assert!(after.is_join_interested() && !after.is_join_waker_set());
    }
}
