//! The user-facing handles of a spawned task: [`JoinHandle`] (await the
//! output, abort) and [`AbortHandle`] (abort only, cloneable).

use super::error::JoinError;
use super::id::Id;
use super::raw::RawTask;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned permission to await a spawned task's output.
///
/// Awaiting it yields `Ok(output)`, or `Err(JoinError)` if the task panicked
/// or was cancelled. Dropping it detaches the task (it keeps running; its
/// output is dropped when it completes). It must not be polled again after
/// it returned `Ready`.
pub struct JoinHandle<T> {
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle only touches the task through its atomic state and the
// join protocol; it can move the output `T` to its own thread, hence `T: Send`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows `abort`, `is_finished`, `id`,
// `abort_handle`, which touch the atomic state only.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` is a task whose output type is `T`, and its `JoinHandle`
    /// reference (one per task) is transferred to the handle.
    pub(super) unsafe fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle { raw, _output: PhantomData }
    }

    /// Requests cancellation. The task's future is dropped by its scheduler
    /// at the end of the current poll, or on its next run if idle; awaiting
    /// the handle then yields a cancelled `JoinError` — unless the task
    /// completed first, in which case its output is still returned.
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// Returns `true` once the task has completed (with an output, a panic
    /// or a cancellation). Non-blocking.
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.raw.id()
    }

    /// Returns a cloneable handle that can abort the task.
    pub fn abort_handle(&self) -> AbortHandle {
        self.raw.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = std::task::ready!(super::coop::poll_proceed(cx));
        let mut ret = Poll::Pending;
        // SAFETY: `ret` is a `Poll<Result<T, JoinError>>` and `T` is the
        // task's output type (set when the handle was created); we are the JoinHandle.
        unsafe { self.raw.try_read_output(&mut ret as *mut Poll<Result<T, JoinError>> as *mut (), cx.waker()) };
        if ret.is_ready() {
            coop.made_progress();
        }
        ret
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.drop_join_handle_slow();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("id", &self.id()).finish()
    }
}

/// An owned permission to abort a spawned task, without awaiting its output.
/// Dropping it does nothing to the task.
pub struct AbortHandle {
    raw: RawTask,
}

// SAFETY: an `AbortHandle` only touches the task's atomic state (and may
// schedule it through its `Send + Sync` scheduler); it never touches the
// future or the output.
unsafe impl Send for AbortHandle {}
// SAFETY: as for `Send`.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Requests cancellation; see [`JoinHandle::abort`].
    pub fn abort(&self) {
        self.raw.remote_abort();
    }

    /// Returns `true` once the task has completed; see [`JoinHandle::is_finished`].
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// The id of the task.
    pub fn id(&self) -> Id {
        self.raw.id()
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        self.raw.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle").field("id", &self.id()).finish()
    }
}
