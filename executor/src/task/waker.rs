//! The hand-written `RawWakerVTable` of task wakers.
//!
//! A task `Waker`'s data pointer is the task's `NonNull<Header>` and it owns
//! one reference: clone adds one, drop removes one, `wake` consumes it
//! (possibly turning it into the `Notified` handed to the scheduler), and
//! `wake_by_ref` adds one only when it must schedule. One static vtable
//! serves every task type, because the typed work goes through the task's
//! own vtable (`raw.rs`).

use super::raw::{Header, RawTask};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

/// A `Waker` borrowed from a running task: it does not own a reference (the
/// run holds one), so it must not be dropped as a normal waker. Cloning it
/// gives a normal, counted `Waker`.
pub(super) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _task: PhantomData<&'a Header>,
}

/// The waker passed to the future's `poll`, borrowing the running reference.
pub(super) fn waker_ref(header: &Header) -> WakerRef<'_> {
    let raw = RawWaker::new(header as *const Header as *const (), &WAKER_VTABLE);
    // SAFETY: `WAKER_VTABLE` upholds the `RawWaker` contract for task headers
    // (the functions below); the task outlives the borrow ('a), and
    // `ManuallyDrop` keeps us from releasing a reference we do not own.
    let waker = ManuallyDrop::new(unsafe { Waker::from_raw(raw) });
    WakerRef { waker, _task: PhantomData }
}

impl Deref for WakerRef<'_> {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// The id of the task `waker` wakes, if it is one of our task wakers (the dump recognises what
/// a resource's waiter is this way: no bookkeeping on the hot path). A waker that wraps ours
/// (a combinator's own) is not recognised: `None`.
pub(crate) fn task_of(waker: &Waker) -> Option<super::Id> {
    if !std::ptr::eq(waker.vtable(), &WAKER_VTABLE) {
        return None;
    }
    // SAFETY: a waker with our vtable has a task header as its data and owns a reference (or
    // borrows a running task's), so the task is live while `waker` is borrowed; the id is
    // immutable.
    Some(unsafe { (*(waker.data() as *const Header)).id })
}

/// # Safety
/// `ptr` is a task header pointer from one of our `RawWaker`s, which (or
/// whose borrower) holds a reference, so the task is live.
unsafe fn raw_task(ptr: *const ()) -> RawTask {
    // SAFETY: per the function contract the pointer is a live, non-null header.
    unsafe { RawTask::from_raw(NonNull::new_unchecked(ptr as *mut Header)) }
}

unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    // SAFETY: called by `Waker::clone` on one of our wakers.
    let task = unsafe { raw_task(ptr) };
    task.ref_inc();
    RawWaker::new(ptr, &WAKER_VTABLE)
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: called by `Waker::drop` on an owning waker; its reference is released here.
    unsafe { raw_task(ptr) }.drop_reference();
}

unsafe fn wake_by_val(ptr: *const ()) {
    // SAFETY: called by `Waker::wake`, which consumes the waker's reference.
    unsafe { raw_task(ptr) }.wake_by_val();
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: called by `Waker::wake_by_ref`; the waker keeps its reference.
    unsafe { raw_task(ptr) }.wake_by_ref();
}
