//! [`LocalSet`] and [`spawn_local`]: tasks whose futures are not `Send`, run on one thread.
//!
//! A `LocalSet` is a small scheduler that lives inside another task (or a `block_on`): its
//! tasks are the same task cells as every other task (one allocation, `JoinHandle`, abort,
//! panics caught), bound with `OwnedTasks::bind_local`, and polled only while the set itself
//! is polled — by [`LocalSet::run_until`], [`LocalSet::block_on`] or awaiting the set — on the
//! set's thread. The set is `!Send`, so that thread is the one that created it.
//!
//! Who wakes whom:
//!
//! ```text
//!  a local task's waker ──▶ schedule(task)
//!     │ on the set's thread, inside the set's poll (CURRENT is this set):
//!     │     push to `local` (a RefCell: no lock, no wake-up — the tick is running or about to)
//!     │ anywhere else (another thread, or this thread outside the poll, e.g. the driver
//!     │ firing a timer):
//!     ▼     push to `remote` (a mutex), then wake the task that polls the set (`waker`)
//!  the set's poll (run_until / LocalSet future / block_on):
//!     register `waker`; poll the main future; tick: run up to MAX_TASKS_PER_TICK tasks from
//!     `local` (and from `remote` every REMOTE_INTERVAL tasks or when `local` is empty); if
//!     work is left, wake itself and return Pending, so the runtime's other tasks, I/O and
//!     timers get their turn
//! ```
//!
//! Why this is sound for `!Send` futures: a task's future is polled by `Notified::run`, which
//! only the set's tick calls (on the set's thread); it is dropped by that poll, by
//! `close_and_shutdown_all` in `LocalSet::drop` (on the set's thread), or by an abort — which
//! only schedules the task, so the drop happens in the set's tick too. Wakers and
//! `AbortHandle`s may travel to other threads: they touch the task's atomic state and the
//! set's `remote` queue only. Once the set is dropped, `remote` is closed: a late wake-up
//! drops its reference instead of queueing it (that would keep the set's state alive for
//! ever, through the task's reference to its scheduler).
//!
//! Lock order: `remote` and `waker` are never held together; no lock is held while a task
//! runs or a waker is woken.

use super::{Id, JoinHandle, Notified, OwnedTasks, Schedule, Task};
use crate::runtime::context;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// Tasks run per poll of the set before it yields to the runtime (tokio's and Go's 61).
const MAX_TASKS_PER_TICK: usize = 61;

/// Tasks run between two looks at the remote queue while the local one has work (tokio's 31).
const REMOTE_INTERVAL: usize = 31;

/// The panic message of [`spawn_local`] outside a `LocalSet` (tokio's, so tests port).
const NO_LOCAL_SET: &str = "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime` (this runtime has no LocalRuntime: spawn from inside `LocalSet::run_until`, `LocalSet::block_on`, an awaited `LocalSet`, or one of its tasks)";

type LocalTask = Notified<Arc<Shared>>;

/// A set of tasks that run on the thread of the set, so their futures need not be `Send`.
///
/// Spawn onto it with [`LocalSet::spawn_local`] (from anywhere on its thread), or with
/// [`spawn_local`] from inside it. Its tasks run only while the set is driven:
///
/// * [`run_until(future)`](LocalSet::run_until) — an async fn that drives the set until
///   `future` completes (the tasks that are not done stay in the set);
/// * [`block_on(&rt, future)`](LocalSet::block_on) — the same, from synchronous code;
/// * `set.await` — drives the set until every task in it has completed.
///
/// Dropping the set drops every task that has not completed (their `JoinHandle`s yield a
/// cancelled [`JoinError`](super::JoinError)).
///
/// ```
/// use executor::task::{spawn_local, LocalSet};
/// use std::rc::Rc;
///
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// let local = LocalSet::new();
/// let shared = Rc::new(41);                       // `Rc`: not `Send`
/// let out = local.block_on(&rt, async move {
///     let shared2 = shared.clone();
///     let task = spawn_local(async move { *shared2 + 1 });
///     task.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct LocalSet {
    context: Rc<LocalContext>,
    /// `!Send` and `!Sync`: the tasks belong to this thread.
    _not_send: PhantomData<*const ()>,
}

/// The part of a set reachable from this thread's [`CURRENT`] while the set is polled.
struct LocalContext {
    shared: Arc<Shared>,
    /// Tasks woken or spawned on this thread inside the set's poll.
    local: RefCell<VecDeque<LocalTask>>,
}

/// The part of a set that wakers (any thread) reach: the task's scheduler.
struct Shared {
    owned: OwnedTasks<Arc<Shared>>,
    /// Tasks woken from outside the set's poll; `None` once the set is dropped.
    remote: Mutex<Option<VecDeque<LocalTask>>>,
    /// The waker of whatever polls the set (taken by the wake-up it receives).
    waker: Mutex<Option<Waker>>,
}

thread_local! {
    /// The set being polled (or entered) on this thread.
    static CURRENT: RefCell<Option<Rc<LocalContext>>> = const { RefCell::new(None) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Spawns a `!Send` future onto the [`LocalSet`] being driven on this thread.
///
/// ```
/// use executor::task::{spawn_local, LocalSet};
///
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// LocalSet::new().block_on(&rt, async {
///     let cell = std::rc::Rc::new(std::cell::Cell::new(1));
///     let c = cell.clone();
///     spawn_local(async move { c.set(2) }).await.unwrap();
///     assert_eq!(cell.get(), 2);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// Outside a `LocalSet` (its `run_until`, `block_on`, `enter` or its own tasks), with tokio's
/// message: "`spawn_local` called from outside of a `task::LocalSet` …".
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match CURRENT.with(|c| c.borrow().clone()) {
        Some(cx) => cx.spawn(future),
        None => panic!("{NO_LOCAL_SET}"),
    }
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        let shared = Arc::new(Shared { owned: OwnedTasks::new(), remote: Mutex::new(Some(VecDeque::new())), waker: Mutex::new(None) });
        LocalSet { context: Rc::new(LocalContext { shared, local: RefCell::new(VecDeque::new()) }), _not_send: PhantomData }
    }

    /// Spawns a `!Send` future onto this set. It runs when the set is next driven.
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.context.spawn(future)
    }

    /// Runs `future` to completion on `rt`, driving this set's tasks meanwhile: a synchronous
    /// [`run_until`](LocalSet::run_until).
    ///
    /// # Panics
    ///
    /// Where [`Runtime::block_on`](crate::Runtime::block_on) panics: inside a runtime.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &crate::Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }

    /// Drives this set's tasks until `future` completes; returns its output. Tasks that have
    /// not completed stay in the set (drive it again, or drop it to cancel them).
    ///
    /// ```
    /// use executor::task::{spawn_local, LocalSet};
    ///
    /// let rt = executor::runtime::Builder::new_multi_thread().worker_threads(1).build()?;
    /// rt.block_on(async {
    ///     let local = LocalSet::new();
    ///     let n = local.run_until(async { spawn_local(async { 7 }).await.unwrap() }).await;
    ///     assert_eq!(n, 7);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        RunUntil { set: self, future }.await
    }

    /// Makes this set the target of [`spawn_local`] until the guard is dropped (the tasks run
    /// when the set is driven).
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard { prev: Some(CURRENT.with(|c| c.replace(Some(self.context.clone())))), _not_send: PhantomData }
    }

    /// Runs `f` with this set as the thread's current set (without, if the thread's locals
    /// are being destroyed: a set dropped at thread exit).
    fn with<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = CURRENT
            .try_with(|c| c.replace(Some(self.context.clone())))
            .ok()
            .map(|prev| LocalEnterGuard { prev: Some(prev), _not_send: PhantomData });
        f()
    }

    /// Registers the waker of whatever polls the set: a task woken from outside the poll
    /// wakes it. Called before the poll looks at anything, so no wake-up falls in between.
    fn register(&self, cx: &Context<'_>) {
        let mut waker = lock(&self.context.shared.waker);
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
    }

    /// Runs up to [`MAX_TASKS_PER_TICK`] tasks. Returns whether tasks are still queued (the
    /// caller then wakes itself and yields).
    fn tick(&self) -> bool {
        for n in 0..MAX_TASKS_PER_TICK {
            let Some(task) = self.next_task(n) else { return false };
            task.run();
        }
        !self.context.local.borrow().is_empty() || self.context.shared.remote_len() > 0
    }

    fn next_task(&self, n: usize) -> Option<LocalTask> {
        let shared = &self.context.shared;
        let local = || self.context.local.borrow_mut().pop_front();
        if n % REMOTE_INTERVAL == REMOTE_INTERVAL - 1 {
            shared.pop_remote().or_else(local)
        } else {
            local().or_else(|| shared.pop_remote())
        }
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet").field("tasks", &self.context.shared.owned.len()).finish()
    }
}

/// Awaiting a `LocalSet` drives it until every task spawned on it has completed.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.register(cx);
        let _no_block_in_place = context::disallow_block_in_place();
        let more = this.with(|| this.tick());
        if more {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else if this.context.shared.owned.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        self.with(|| {
            let shared = &self.context.shared;
            // Drops every future here, on the set's thread (see the module docs); a task
            // spawned by a destructor is refused (cancelled) by the closed list.
            shared.owned.close_and_shutdown_all();
            let local = std::mem::take(&mut *self.context.local.borrow_mut());
            drop(local);
            let remote = lock(&shared.remote).take();
            drop(remote);
        });
    }
}

/// The future of [`LocalSet::run_until`].
struct RunUntil<'a, F> {
    set: &'a LocalSet,
    future: F,
}

impl<F: Future> Future for RunUntil<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is never moved out of `self` (structural pinning); `set` is a
        // shared reference.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above: `future` stays where it is until `RunUntil` is dropped.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        let set = this.set;
        set.register(cx);
        let _no_block_in_place = context::disallow_block_in_place();
        set.with(|| {
            if let Poll::Ready(out) = super::coop::budget(|| future.poll(cx)) {
                return Poll::Ready(out);
            }
            if set.tick() {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
    }
}

impl LocalContext {
    fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let shared = &self.shared;
        // SAFETY: the task is only run by this set's tick and dropped by its poll or by
        // `LocalSet::drop`, all on this thread (the set is `!Send`; see the module docs).
        let (handle, notified) = unsafe { shared.owned.bind_local(future, shared.clone(), Id::next()) };
        if let Some(task) = notified {
            shared.schedule(task);
        }
        handle
    }
}

impl Shared {
    fn pop_remote(&self) -> Option<LocalTask> {
        lock(&self.remote).as_mut()?.pop_front()
    }

    fn remote_len(&self) -> usize {
        lock(&self.remote).as_ref().map_or(0, VecDeque::len)
    }
}

impl Schedule for Arc<Shared> {
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: LocalTask) {
        let task = CURRENT.with(|c| match &*c.borrow() {
            Some(cx) if Arc::ptr_eq(&cx.shared, self) => {
                cx.local.borrow_mut().push_back(task);
                None
            }
            _ => Some(task),
        });
        let Some(task) = task else { return };
        {
            let mut remote = lock(&self.remote);
            match remote.as_mut() {
                Some(q) => q.push_back(task),
                // The set is gone: drop the reference (outside the lock).
                None => {
                    drop(remote);
                    drop(task);
                    return;
                }
            }
        }
        let waker = lock(&self.waker).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Restores the previous current `LocalSet` when dropped; returned by [`LocalSet::enter`].
#[must_use = "the set is left when the guard is dropped"]
pub struct LocalEnterGuard {
    prev: Option<Option<Rc<LocalContext>>>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for LocalEnterGuard {
    fn drop(&mut self) {
        if let Some(prev) = self.prev.take() {
            // The replaced context is dropped after the borrow ends.
            let _entered = CURRENT.try_with(|c| c.replace(prev));
        }
    }
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}
