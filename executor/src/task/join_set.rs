//! [`JoinSet`]: a set of spawned tasks, joined in completion order.
//!
//! Each member's `JoinHandle` is polled with a waker of its own, which puts the member on the
//! set's ready list and wakes whoever waits in `join_next`. So `join_next` polls only members
//! that were woken: O(1) per completion, whatever the size of the set.

use super::{spawn, AbortHandle, JoinError, JoinHandle};
use crate::runtime::Handle;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// A set of tasks spawned on a runtime, awaited in the order they complete. Dropping the set
/// aborts every task still in it.
///
/// ```
/// # let rt = executor::runtime::Runtime::new()?;
/// # rt.block_on(async {
/// use executor::task::JoinSet;
/// let mut set = JoinSet::new();
/// for i in 0..10u32 {
///     set.spawn(async move { i * 2 });
/// }
/// let mut sum = 0;
/// while let Some(res) = set.join_next().await {
///     sum += res.unwrap();
/// }
/// assert_eq!(sum, 90);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinSet<T> {
    entries: Vec<Option<Entry<T>>>,
    free: Vec<usize>,
    len: usize,
    ready: Arc<Ready>,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    waker: Arc<EntryWaker>,
}

/// Members to poll, and the waker of the task waiting in `join_next`.
struct Ready {
    state: Mutex<(VecDeque<usize>, Option<Waker>)>,
}

impl Ready {
    fn push(&self, key: usize) {
        let parent = {
            let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            st.0.push_back(key);
            st.1.take()
        };
        if let Some(w) = parent {
            w.wake();
        }
    }
}

/// The waker of one member: queues it (once) on the ready list.
struct EntryWaker {
    key: usize,
    queued: AtomicBool,
    ready: Arc<Ready>,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.ready.push(self.key);
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet { entries: Vec::new(), free: Vec::new(), len: 0, ready: Arc::new(Ready { state: Mutex::new((VecDeque::new(), None)) }) }
    }

    /// Number of tasks in the set (running, or finished but not yet joined).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let key = self.free.pop().unwrap_or_else(|| {
            self.entries.push(None);
            self.entries.len() - 1
        });
        let waker = Arc::new(EntryWaker { key, queued: AtomicBool::new(false), ready: self.ready.clone() });
        self.entries[key] = Some(Entry { handle, waker: waker.clone() });
        self.len += 1;
        // Poll it once so its waker is registered.
        waker.wake_by_ref();
        abort
    }

    /// Aborts every task in the set; they stay in the set until joined (as cancelled).
    pub fn abort_all(&mut self) {
        for e in self.entries.iter().flatten() {
            e.handle.abort();
        }
    }

    /// Removes every task from the set without aborting them.
    pub fn detach_all(&mut self) {
        self.entries.clear();
        self.free.clear();
        self.len = 0;
        self.ready.state.lock().unwrap_or_else(PoisonError::into_inner).0.clear();
    }

    /// Polls for the next completed task (see [`join_next`](Self::join_next)).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        // One unit of the task's budget for the whole call: the member handles are polled
        // unconstrained, or a spent budget would make each of them wake itself — and this loop
        // would pop it again for ever.
        let coop = std::task::ready!(super::coop::poll_proceed(cx));
        loop {
            let key = {
                let mut st = self.ready.state.lock().unwrap_or_else(PoisonError::into_inner);
                match st.0.pop_front() {
                    Some(key) => key,
                    None => {
                        match &mut st.1 {
                            Some(w) if w.will_wake(cx.waker()) => {}
                            slot => *slot = Some(cx.waker().clone()),
                        }
                        return Poll::Pending;
                    }
                }
            };
            let Some(Some(entry)) = self.entries.get_mut(key) else { continue };
            entry.waker.queued.store(false, Ordering::Release);
            let waker = Waker::from(entry.waker.clone());
            let polled = super::coop::with_unconstrained(|| Pin::new(&mut entry.handle).poll(&mut Context::from_waker(&waker)));
            if let Poll::Ready(res) = polled {
                coop.made_progress();
                self.entries[key] = None;
                self.free.push(key);
                self.len -= 1;
                return Poll::Ready(Some(res));
            }
        }
    }

    /// Waits for the next task to complete and returns its output, or `None` when the set is
    /// empty. Cancel-safe: a task whose output was not returned stays in the set.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The output of a task that has already completed, if any, without waiting.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        let waker = Waker::noop();
        match self.poll_join_next(&mut Context::from_waker(waker)) {
            Poll::Ready(r) => r,
            Poll::Pending => None,
        }
    }

    /// Aborts every task and waits until all have stopped.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// # Panics
    ///
    /// If a task panicked, that panic is resumed here; if one was cancelled, this panics.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        while let Some(res) = self.join_next().await {
            match res {
                Ok(v) => out.push(v),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("a task of the JoinSet failed: {e}"),
            }
        }
        out
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime and adds it to the set.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(spawn(future))
    }

    /// Spawns `future` on the runtime of `handle` and adds it to the set.
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs `func` on the current runtime's blocking pool
    /// ([`spawn_blocking`](super::spawn_blocking)) and adds it to the set.
    ///
    /// ```
    /// # let rt = executor::runtime::Runtime::new()?;
    /// # rt.block_on(async {
    /// let mut set = executor::task::JoinSet::new();
    /// set.spawn_blocking(|| std::thread::current().name().map(str::to_owned));
    /// let name = set.join_next().await.unwrap().unwrap();
    /// assert_eq!(name.as_deref(), Some("runtime-worker"));
    /// # });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, func: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(super::spawn_blocking(func))
    }

    /// Runs `func` on the blocking pool of `handle`'s runtime and adds it to the set.
    #[track_caller]
    pub fn spawn_blocking_on<F>(&mut self, func: F, handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(handle.spawn_blocking(func))
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns the `!Send` `future` on the current [`LocalSet`](super::LocalSet)
    /// ([`spawn_local`](super::spawn_local)) and adds it to the set.
    ///
    /// ```
    /// use executor::task::{JoinSet, LocalSet};
    /// use std::rc::Rc;
    ///
    /// let rt = executor::runtime::Builder::new_current_thread().build()?;
    /// LocalSet::new().block_on(&rt, async {
    ///     let shared = Rc::new(5);
    ///     let mut set = JoinSet::new();
    ///     for i in 0..3 {
    ///         let shared = shared.clone();
    ///         set.spawn_local(async move { *shared + i });
    ///     }
    ///     let mut all = set.join_all().await;
    ///     all.sort();
    ///     assert_eq!(all, [5, 6, 7]);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a `LocalSet`, with `spawn_local`'s message.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(super::spawn_local(future))
    }

    /// Spawns the `!Send` `future` on `local_set` and adds it to the set; it runs when
    /// `local_set` is driven ([`LocalSet::run_until`](super::LocalSet::run_until), …).
    pub fn spawn_local_on<F>(&mut self, future: F, local_set: &super::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(local_set.spawn_local(future))
    }
}

/// Spawns every future on the current runtime into a new set.
///
/// ```
/// # let rt = executor::runtime::Runtime::new()?;
/// # rt.block_on(async {
/// use executor::task::JoinSet;
/// let set: JoinSet<u32> = (0..5u32).map(|i| async move { i * i }).collect();
/// let mut squares = set.join_all().await;
/// squares.sort();
/// assert_eq!(squares, [0, 1, 4, 9, 16]);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// Outside a runtime context.
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

/// Spawns every future on the current runtime into the set.
///
/// # Panics
///
/// Outside a runtime context.
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}
