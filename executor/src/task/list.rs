//! [`OwnedTasks`]: the set of every live task of a runtime, so that shutdown
//! can cancel them all (and drop every future).
//!
//! It is an intrusive doubly linked list threaded through the task headers
//! (`Header::owned`), so binding a task costs no allocation. The list is
//! split into [`SHARDS`] mutex-protected shards picked by task id, so that
//! workers spawning and completing tasks concurrently rarely contend.
//!
//! Each linked task is owned by the list through one reference (a
//! [`Task`]). `remove` (called from `Schedule::release` when the task
//! completes) hands that reference back to the harness; `close_and_shutdown_all`
//! pops it and shuts the task down.

use super::id::Id;
use super::join::JoinHandle;
use super::raw::{Header, RawTask};
use super::{Notified, Schedule, Task, BOX_THRESHOLD};
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::loom::sync::Mutex;
use std::future::Future;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// Number of shards (a power of two).
pub(crate) const SHARDS: usize = 16;

/// Every live task bound to one runtime. See the module docs.
///
/// Must be closed with [`OwnedTasks::close_and_shutdown_all`] before it is
/// dropped; tasks still linked at drop time are leaked (never freed).
pub(crate) struct OwnedTasks<S: 'static> {
    shards: Box<[Mutex<Shard<S>>]>,
    /// Number of linked tasks.
    count: AtomicUsize,
    /// Set once by `close_and_shutdown_all`; read under a shard lock by `bind`.
    closed: AtomicBool,
    /// Unique id, stamped into each bound task's header (`owner_id`).
    id: u64,
}

/// One shard: an intrusive doubly linked list of task headers.
struct Shard<S: 'static> {
    head: Option<NonNull<Header>>,
    tail: Option<NonNull<Header>>,
    /// Tasks bound here, and removed on completion (metrics: counted under the lock that
    /// binding and removal take anyway).
    spawned: u64,
    completed: u64,
    _tasks: PhantomData<Task<S>>,
}

// SAFETY: the shard owns `Task<S>` references (which are `Send`) through raw
// pointers; the pointers are only followed while holding the shard's mutex.
unsafe impl<S> Send for Shard<S> {}

impl<S: Schedule> OwnedTasks<S> {
    /// An empty, open list.
    pub(crate) fn new() -> Self {
        // Plain std atomic even under loom: only uniqueness matters.
        static NEXT_OWNER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT_OWNER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let shards =
            (0..SHARDS).map(|_| Mutex::new(Shard { head: None, tail: None, spawned: 0, completed: 0, _tasks: PhantomData })).collect();
        OwnedTasks { shards, count: AtomicUsize::new(0), closed: AtomicBool::new(false), id }
    }

    /// Binds `future` as a new task scheduled by `scheduler` and queues its first run: what
    /// every scheduler's `spawn` is.
    #[track_caller]
    pub(crate) fn spawn<F>(&self, future: F, scheduler: &S) -> JoinHandle<F::Output>
    where
        S: Clone,
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (handle, notified) = self.bind(future, scheduler.clone(), Id::next());
        if let Some(task) = notified {
            scheduler.schedule(task);
        }
        handle
    }

    /// Allocates a task for `future` (one allocation holding header,
    /// scheduler, future/output and join waker), links it and returns its
    /// `JoinHandle` and first `Notified` (to push on a run queue).
    ///
    /// Futures larger than [`BOX_THRESHOLD`] bytes are boxed first
    /// (`Box::pin`): the cell then holds a `Pin<Box<F>>`, which costs a second
    /// allocation for big futures only but keeps the cell small and avoids
    /// moving big futures through the stack again.
    ///
    /// If the list is closed, the task is shut down at once (its future is
    /// dropped here), `None` is returned and the `JoinHandle` resolves to a
    /// cancelled `JoinError`.
    #[track_caller]
    pub(crate) fn bind<F>(&self, future: F, scheduler: S, id: Id) -> (JoinHandle<F::Output>, Option<Notified<S>>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // SAFETY: `F` and its output are `Send`: any thread may poll and drop them.
        unsafe { self.bind_unchecked(future, scheduler, id) }
    }

    /// [`bind`](Self::bind) for a future that is not `Send` (a `LocalSet`'s task).
    ///
    /// # Safety
    ///
    /// The future and its output must only be polled and dropped on the calling thread: `S`
    /// runs the task on this thread only, and this list is closed
    /// ([`close_and_shutdown_all`](Self::close_and_shutdown_all)) on this thread. (The
    /// `JoinHandle` is `Send` only if the output is.)
    #[track_caller]
    pub(crate) unsafe fn bind_local<F>(&self, future: F, scheduler: S, id: Id) -> (JoinHandle<F::Output>, Option<Notified<S>>)
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // SAFETY: forwarded to the caller.
        unsafe { self.bind_unchecked(future, scheduler, id) }
    }

    /// # Safety
    ///
    /// As [`bind_local`](Self::bind_local), unless `F` and its output are `Send`.
    #[track_caller]
    unsafe fn bind_unchecked<F>(&self, future: F, scheduler: S, id: Id) -> (JoinHandle<F::Output>, Option<Notified<S>>)
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        if std::mem::size_of::<F>() > BOX_THRESHOLD {
            // SAFETY: forwarded to the caller; boxing changes nothing about threads.
            unsafe { self.bind_inner(Box::pin(future), scheduler, id) }
        } else {
            // SAFETY: forwarded to the caller.
            unsafe { self.bind_inner(future, scheduler, id) }
        }
    }

    /// # Safety
    ///
    /// As [`bind_unchecked`](Self::bind_unchecked).
    #[track_caller]
    unsafe fn bind_inner<F>(&self, future: F, scheduler: S, id: Id) -> (JoinHandle<F::Output>, Option<Notified<S>>)
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let raw = RawTask::new::<F, S>(future, scheduler, id, self.id, std::panic::Location::caller());
        // SAFETY: a new task starts with exactly three references: one each
        // for the list's `Task`, the first `Notified` and the `JoinHandle`
        // (whose output type is `F::Output`).
        let (task, notified, join) = unsafe { (Task::from_raw(raw), Notified(Task::from_raw(raw)), JoinHandle::new(raw)) };

        let mut shard = self.shard(id).lock();
        // Checked under the shard lock: `close_and_shutdown_all` sets `closed`
        // before draining each shard under its lock, so a task is either
        // seen here as refused or seen by the drain.
        if self.closed.load(Ordering::Acquire) {
            drop(shard);
            drop(notified);
            task.shutdown();
            return (join, None);
        }
        shard.push_front(task);
        shard.spawned += 1;
        self.count.fetch_add(1, Ordering::Relaxed);
        drop(shard);
        #[cfg(feature = "tracing")]
        {
            let (id, spawned_at) = (id.0, std::panic::Location::caller());
            tracing::trace!(target: "runtime::task", { task.id = id, spawned_at = %spawned_at }, "spawn");
        }
        (join, Some(notified))
    }

    /// Unlinks `task` and returns the list's reference to it, or `None` if it
    /// is not linked (already removed, or popped by shutdown).
    ///
    /// # Panics
    /// If `task` was bound by another `OwnedTasks`.
    pub(crate) fn remove(&self, task: &Task<S>) -> Option<Task<S>> {
        assert_eq!(task.header().owner_id, self.id, "task removed from an OwnedTasks that does not own it");
        let mut shard = self.shard(task.id()).lock();
        // SAFETY: the owner id says the task was bound by this list, hence to
        // this shard (the shard is picked from the immutable id): it is
        // either linked here or in no list at all.
        let removed = unsafe { shard.remove(task.header_ptr()) };
        shard.completed += u64::from(removed.is_some());
        drop(shard);
        if removed.is_some() {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
        removed
    }

    /// Refuses every later `bind` and shuts down every linked task: idle
    /// tasks have their future dropped right here; running ones drop it at
    /// the end of their current poll. Idempotent.
    pub(crate) fn close_and_shutdown_all(&self) {
        self.closed.store(true, Ordering::Release);
        for shard in self.shards.iter() {
            loop {
                // The lock must not be held while shutting down: the
                // shutdown's `release` calls `remove`, which locks the shard.
                let popped = shard.lock().pop_back();
                let Some(task) = popped else { break };
                self.count.fetch_sub(1, Ordering::Relaxed);
                task.shutdown();
            }
        }
    }

    /// The number of linked (not yet completed) tasks.
    pub(crate) fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Tasks ever bound, and tasks removed on completion (not by the shutdown), over all shards.
    pub(crate) fn counts(&self) -> (u64, u64) {
        self.shards.iter().fold((0, 0), |(s, c), shard| {
            let shard = shard.lock();
            (s + shard.spawned, c + shard.completed)
        })
    }

    /// Calls `f` with the header of every linked task, one shard lock at a time (the dump).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for shard in self.shards.iter() {
            let shard = shard.lock();
            let mut cur = shard.head;
            while let Some(node) = cur {
                // SAFETY: a linked task is live (the shard owns a reference) and its links are
                // read under the shard's lock.
                let header = unsafe { node.as_ref() };
                f(header);
                // SAFETY: as above.
                cur = unsafe { Shard::<S>::pointers(node) }.next;
            }
        }
    }

    /// Returns `true` if no task is linked.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns `true` once `close_and_shutdown_all` was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn shard(&self, id: Id) -> &Mutex<Shard<S>> {
        &self.shards[(id.as_u64() as usize) & (SHARDS - 1)]
    }
}

impl<S: 'static> Shard<S> {
    /// # Safety
    /// `node` is live and the caller holds this shard's lock (or owns the
    /// node exclusively because it is not linked anywhere).
    unsafe fn pointers<'a>(node: NonNull<Header>) -> &'a mut super::raw::Pointers {
        // SAFETY: the links are only accessed under the shard lock, so this
        // is the only reference to them right now.
        unsafe { &mut *(*node.as_ptr()).owned.get() }
    }

    /// Links `task` at the front; the shard now owns its reference.
    fn push_front(&mut self, task: Task<S>) {
        let node = task.header_ptr();
        std::mem::forget(task);
        // SAFETY: we own a reference to `node`, hold the lock (`&mut self`),
        // and `node` is not linked anywhere (fresh task).
        unsafe {
            let ptrs = Self::pointers(node);
            debug_assert!(ptrs.prev.is_none() && ptrs.next.is_none());
            ptrs.next = self.head;
            ptrs.prev = None;
            if let Some(head) = self.head {
                Self::pointers(head).prev = Some(node);
            }
        }
        self.head = Some(node);
        if self.tail.is_none() {
            self.tail = Some(node);
        }
    }

    /// Unlinks the oldest task and returns the shard's reference to it.
    fn pop_back(&mut self) -> Option<Task<S>> {
        let node = self.tail?;
        // SAFETY: `node` is linked here, so it is live (we own a reference).
        unsafe { self.remove(node) }
    }

    /// Unlinks `node` if it is linked in this shard.
    ///
    /// # Safety
    /// `node` is live and is either linked in this shard or in no list.
    unsafe fn remove(&mut self, node: NonNull<Header>) -> Option<Task<S>> {
        // SAFETY: `node` is live (contract) and we hold the lock (`&mut self`);
        // its neighbours are linked here, hence live.
        unsafe {
            let ptrs = Self::pointers(node);
            let (prev, next) = (ptrs.prev, ptrs.next);
            match prev {
                Some(prev) => Self::pointers(prev).next = next,
                // Not linked at all (no predecessor and not the head).
                None if self.head != Some(node) => return None,
                None => self.head = next,
            }
            match next {
                Some(next) => Self::pointers(next).prev = prev,
                None => self.tail = prev,
            }
            let ptrs = Self::pointers(node);
            ptrs.prev = None;
            ptrs.next = None;
            // The reference the shard owned is handed to the caller.
            Some(Task::from_raw(RawTask::from_raw(node)))
        }
    }
}
