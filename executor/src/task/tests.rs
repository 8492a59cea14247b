//! Behaviour tests of the task core, driven by a tiny hand-cranked scheduler.
//!
//! Leak checking: every task cell holds a clone of the `Arc<TestSched>`
//! scheduler, so once all handles are gone `Arc::strong_count == 1` proves
//! that every task allocation was freed (`assert_all_freed`).

use super::*;
use crate::test_util::WakeCount as CountingWaker;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use tokio_test::task::spawn as mock_task;
use tokio_test::{assert_pending, assert_ready};

// ===== test scheduler =====

struct TestSched {
    queue: Mutex<VecDeque<Notified<Arc<TestSched>>>>,
    owned: OwnedTasks<Arc<TestSched>>,
    /// `schedule`/`yield_now` calls (wakes and aborts), not counting spawns.
    schedules: AtomicUsize,
    /// Largest run-queue length seen (single-task tests expect ≤ 1).
    max_queued: AtomicUsize,
}

impl Schedule for Arc<TestSched> {
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        self.schedules.fetch_add(1, SeqCst);
        self.push(task);
    }
}

impl TestSched {
    fn new() -> Arc<TestSched> {
        Arc::new(TestSched {
            queue: Mutex::new(VecDeque::new()),
            owned: OwnedTasks::new(),
            schedules: AtomicUsize::new(0),
            max_queued: AtomicUsize::new(0),
        })
    }

    fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (join, notified) = self.owned.bind(future, self.clone(), Id::next());
        if let Some(notified) = notified {
            self.push(notified);
        }
        join
    }

    fn push(&self, task: Notified<Arc<TestSched>>) {
        let mut queue = self.queue.lock().unwrap();
        queue.push_back(task);
        self.max_queued.fetch_max(queue.len(), SeqCst);
    }

    /// Runs one queued task; `false` if the queue was empty.
    fn tick(&self) -> bool {
        let task = self.queue.lock().unwrap().pop_front();
        match task {
            Some(task) => {
                task.run();
                true
            }
            None => false,
        }
    }

    fn run_until_idle(&self) -> usize {
        let mut n = 0;
        while self.tick() {
            n += 1;
        }
        n
    }

    fn queued(&self) -> usize {
        self.queue.lock().unwrap().len()
    }

    fn schedules(&self) -> usize {
        self.schedules.load(SeqCst)
    }
}

/// Shuts the scheduler down, drains its queue and checks that every task
/// allocation was freed (each holds an `Arc<TestSched>`). All handles and
/// wakers must have been dropped by the caller.
fn assert_all_freed(sched: Arc<TestSched>) {
    sched.owned.close_and_shutdown_all();
    sched.run_until_idle();
    assert!(sched.owned.is_empty());
    assert_eq!(Arc::strong_count(&sched), 1, "a task allocation leaked");
}

// ===== helpers =====

/// Counts drops of the `DropToken`s it hands out.
#[derive(Clone, Default)]
struct DropCounter(Arc<AtomicUsize>);

#[derive(Debug)]
struct DropToken(Arc<AtomicUsize>);

impl DropCounter {
    fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }

    fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A future that never completes and counts its drop.
async fn pending_with(token: DropToken) {
    let _token = token;
    std::future::pending::<()>().await
}

/// Returns `Pending` once (waking itself), then `Ready`.
async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

fn poll_join<T>(join: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

// ===== spawn / run / join =====

#[test]
fn spawned_task_runs_and_join_handle_returns_its_output() {
    let sched = TestSched::new();
    let join = sched.spawn(async { 42 });
    assert!(!join.is_finished());
    assert_eq!(sched.run_until_idle(), 1);
    assert!(join.is_finished());
    let mut join = mock_task(join);
    assert_eq!(assert_ready!(join.poll()).unwrap(), 42);
    drop(join);
    assert_all_freed(sched);
}

#[test]
fn pending_join_handle_is_woken_when_the_task_completes() {
    let sched = TestSched::new();
    let mut join = mock_task(sched.spawn(async {
        yield_now().await;
        "done"
    }));
    assert_pending!(join.poll());
    assert!(sched.tick()); // yields
    assert!(!join.is_woken());
    assert_pending!(join.poll());
    assert!(sched.tick()); // completes
    assert!(join.is_woken());
    assert_eq!(assert_ready!(join.poll()).unwrap(), "done");
    drop(join);
    assert_all_freed(sched);
}

#[test]
fn join_handle_polled_with_a_new_waker_wakes_only_the_new_one() {
    let sched = TestSched::new();
    let mut join = sched.spawn(async {});
    let (a, b) = (Arc::new(CountingWaker::default()), Arc::new(CountingWaker::default()));
    assert!(poll_join(&mut join, &Waker::from(a.clone())).is_pending());
    assert!(poll_join(&mut join, &Waker::from(b.clone())).is_pending());
    assert_eq!(Arc::strong_count(&a), 1, "the replaced waker is dropped");
    sched.run_until_idle();
    assert_eq!((a.get(), b.get()), (0, 1));
    assert!(poll_join(&mut join, &Waker::from(b.clone())).is_ready());
    drop(join);
    assert_eq!(Arc::strong_count(&b), 1, "the join waker is dropped");
    assert_all_freed(sched);
}

#[test]
fn notified_and_handles_report_the_task_id() {
    let sched = TestSched::new();
    let join = sched.spawn(async {});
    let id = join.id();
    assert_eq!(join.abort_handle().id(), id);
    assert_eq!(sched.queue.lock().unwrap()[0].id(), id);
    sched.run_until_idle();
    drop(join);
    assert_all_freed(sched);
}

// ===== wakers =====

#[test]
fn wake_while_running_reschedules_exactly_once_after_the_poll() {
    let sched = TestSched::new();
    let mut polls = 0;
    let join = sched.spawn(poll_fn(move |cx| {
        polls += 1;
        if polls == 1 {
            cx.waker().wake_by_ref();
            cx.waker().wake_by_ref();
            let by_val = cx.waker().clone();
            by_val.wake();
            Poll::Pending
        } else {
            Poll::Ready(polls)
        }
    }));
    assert!(sched.tick());
    assert_eq!(sched.schedules(), 1);
    assert_eq!(sched.queued(), 1);
    assert!(sched.tick());
    assert_eq!(sched.schedules(), 1);
    assert_eq!(sched.queued(), 0);
    let mut join = mock_task(join);
    assert_eq!(assert_ready!(join.poll()).unwrap(), 2);
    drop(join);
    assert_all_freed(sched);
}

#[test]
fn wake_after_complete_is_a_noop() {
    let sched = TestSched::new();
    let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
    let slot2 = slot.clone();
    let join = sched.spawn(poll_fn(move |cx| {
        *slot2.lock().unwrap() = Some(cx.waker().clone());
        Poll::Ready(())
    }));
    sched.run_until_idle();
    let waker = slot.lock().unwrap().take().unwrap();
    waker.wake_by_ref();
    let by_val = waker.clone();
    by_val.wake();
    assert_eq!(sched.schedules(), 0);
    assert_eq!(sched.queued(), 0);
    drop(join); // task stays allocated: the waker holds a reference
    assert_eq!(Arc::strong_count(&sched), 2);
    waker.wake(); // last reference: frees the task
    assert_all_freed(sched);
}

#[test]
fn wakes_from_many_threads_on_an_idle_task_schedule_it_once() {
    let sched = TestSched::new();
    let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
    let slot2 = slot.clone();
    let join = sched.spawn(poll_fn(move |cx| {
        let mut slot = slot2.lock().unwrap();
        if slot.is_none() {
            *slot = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }));
    sched.tick();
    let waker = slot.lock().unwrap().clone().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let waker = waker.clone();
            std::thread::spawn(move || {
                for i in 0..1000 {
                    let w = waker.clone();
                    match (i + t) % 3 {
                        0 => w.wake(),
                        1 => w.wake_by_ref(),
                        _ => drop(w),
                    }
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(sched.schedules(), 1);
    assert_eq!(sched.queued(), 1);
    sched.run_until_idle();
    assert!(join.is_finished());
    drop((join, waker, slot));
    assert_all_freed(sched);
}

#[test]
fn wakes_from_many_threads_while_running_never_double_schedule_or_leak() {
    const POLLS: usize = 300;
    let sched = TestSched::new();
    let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
    let slot2 = slot.clone();
    let mut polls = 0;
    let join = sched.spawn(poll_fn(move |cx| {
        polls += 1;
        *slot2.lock().unwrap() = Some(cx.waker().clone());
        if polls == POLLS {
            Poll::Ready(polls)
        } else {
            Poll::Pending
        }
    }));
    sched.tick();
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (slot, stop) = (slot.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = t;
                while !stop.load(SeqCst) {
                    let Some(w) = slot.lock().unwrap().clone() else { continue };
                    i += 1;
                    match i % 3 {
                        0 => w.wake(),
                        1 => w.wake_by_ref(),
                        _ => drop(w),
                    }
                }
            })
        })
        .collect();
    while !join.is_finished() {
        if !sched.tick() {
            std::thread::yield_now();
        }
    }
    stop.store(true, SeqCst);
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert!(sched.max_queued.load(SeqCst) <= 1, "a task was queued twice");
    sched.run_until_idle();
    let mut join = mock_task(join);
    assert_eq!(assert_ready!(join.poll()).unwrap(), POLLS);
    drop((join, slot));
    assert_all_freed(sched);
}

// ===== abort =====

#[test]
fn abort_before_first_run_cancels_and_drops_the_future() {
    let sched = TestSched::new();
    let drops = DropCounter::default();
    let join = sched.spawn(pending_with(drops.token()));
    join.abort();
    assert_eq!(drops.get(), 0, "the aborting thread does not drop the future");
    assert_eq!(sched.schedules(), 0, "already queued: no extra schedule");
    sched.run_until_idle();
    assert_eq!(drops.get(), 1);
    let id = join.id();
    let mut join = mock_task(join);
    let err = assert_ready!(join.poll()).unwrap_err();
    assert!(err.is_cancelled() && !err.is_panic());
    assert_eq!(err.id(), id);
    drop(join);
    assert_all_freed(sched);
}

#[test]
fn abort_of_idle_task_schedules_it_once_to_drop_the_future() {
    let sched = TestSched::new();
    let drops = DropCounter::default();
    let mut join = mock_task(sched.spawn(pending_with(drops.token())));
    sched.run_until_idle();
    assert_pending!(join.poll());
    let abort = join.abort_handle();
    abort.abort();
    abort.clone().abort();
    assert_eq!(sched.schedules(), 1);
    assert_eq!(drops.get(), 0);
    assert!(!abort.is_finished());
    sched.run_until_idle();
    assert_eq!(drops.get(), 1);
    assert!(abort.is_finished());
    assert!(join.is_woken());
    assert!(assert_ready!(join.poll()).unwrap_err().is_cancelled());
    drop((join, abort));
    assert_all_freed(sched);
}

#[test]
fn abort_during_poll_cancels_after_the_poll_and_drops_the_future_once() {
    let sched = TestSched::new();
    let drops = DropCounter::default();
    let handle: Arc<Mutex<Option<AbortHandle>>> = Arc::default();
    let handle2 = handle.clone();
    let token = drops.token();
    let join = sched.spawn(poll_fn(move |_cx| {
        let _keep = &token;
        handle2.lock().unwrap().take().unwrap().abort();
        Poll::<()>::Pending
    }));
    *handle.lock().unwrap() = Some(join.abort_handle());
    sched.tick();
    assert_eq!(drops.get(), 1);
    assert_eq!(sched.schedules(), 0);
    assert_eq!(sched.queued(), 0);
    let mut join = mock_task(join);
    assert!(assert_ready!(join.poll()).unwrap_err().is_cancelled());
    drop(join);
    assert_eq!(drops.get(), 1);
    assert_all_freed(sched);
}

#[test]
fn abort_after_complete_still_returns_the_output() {
    let sched = TestSched::new();
    let join = sched.spawn(async { 7 });
    sched.run_until_idle();
    join.abort();
    assert_eq!(sched.schedules(), 0);
    let mut join = mock_task(join);
    assert_eq!(assert_ready!(join.poll()).unwrap(), 7);
    drop(join);
    assert_all_freed(sched);
}

// ===== dropping the JoinHandle =====

#[test]
fn dropping_join_handle_before_completion_drops_output_when_task_completes() {
    let sched = TestSched::new();
    let drops = DropCounter::default();
    let token = drops.token();
    let mut join = mock_task(sched.spawn(async move {
        yield_now().await;
        token
    }));
    assert_pending!(join.poll()); // registers a join waker, dropped with the handle
    drop(join);
    sched.tick();
    assert_eq!(drops.get(), 0);
    sched.tick();
    assert_eq!(drops.get(), 1, "output dropped by the task side on completion");
    assert_all_freed(sched);
}

#[test]
fn dropping_join_handle_after_completion_drops_output_immediately() {
    let sched = TestSched::new();
    let drops = DropCounter::default();
    let token = drops.token();
    let join = sched.spawn(async move { token });
    sched.run_until_idle();
    assert_eq!(drops.get(), 0, "output kept for the JoinHandle");
    drop(join);
    assert_eq!(drops.get(), 1);
    assert_all_freed(sched);
}

#[test]
fn dropping_registered_join_waker_and_handle_before_completion_leaks_nothing() {
    let sched = TestSched::new();
    let mut join = sched.spawn(yield_now());
    let waker = Arc::new(CountingWaker::default());
    assert!(poll_join(&mut join, &Waker::from(waker.clone())).is_pending());
    drop(join);
    assert_eq!(Arc::strong_count(&waker), 1);
    sched.run_until_idle();
    assert_eq!(waker.get(), 0);
    assert_all_freed(sched);
}

// ===== panics =====

#[test]
fn panic_in_future_is_reported_as_join_error_and_scheduler_keeps_working() {
    let sched = TestSched::new();
    let drops = DropCounter::default();
    let token = drops.token();
    let join = sched.spawn(async move {
        let _token = token;
        yield_now().await;
        panic!("boom");
    });
    sched.run_until_idle();
    assert_eq!(drops.get(), 1, "the panicked future is dropped");
    let id = join.id();
    let mut join = mock_task(join);
    let err = assert_ready!(join.poll()).unwrap_err();
    assert!(err.is_panic() && !err.is_cancelled());
    assert_eq!(err.id(), id);
    assert!(err.to_string().contains("boom"));
    assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");

    let mut after = mock_task(sched.spawn(async { 1 + 1 }));
    sched.run_until_idle();
    assert_eq!(assert_ready!(after.poll()).unwrap(), 2);
    drop((join, after));
    assert_all_freed(sched);
}

#[test]
fn panic_while_dropping_a_cancelled_future_is_reported_as_panic() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop boom");
        }
    }
    let sched = TestSched::new();
    let guard = PanicOnDrop;
    let join = sched.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    join.abort();
    sched.run_until_idle();
    let mut join = mock_task(join);
    let err = assert_ready!(join.poll()).unwrap_err();
    assert!(err.is_panic());
    drop(join);
    assert_all_freed(sched);
}

// ===== shutdown =====

#[test]
fn close_and_shutdown_all_drops_every_future_and_refuses_later_binds() {
    const N: usize = 40;
    let sched = TestSched::new();
    let drops = DropCounter::default();
    let mut joins: Vec<_> = (0..N).map(|_| mock_task(sched.spawn(pending_with(drops.token())))).collect();
    assert_eq!(sched.owned.len(), N);
    for _ in 0..N / 2 {
        sched.tick(); // half idle, half still queued
    }
    joins.iter_mut().for_each(|j| assert_pending!(j.poll()));

    sched.owned.close_and_shutdown_all();
    assert_eq!(drops.get(), N);
    assert!(sched.owned.is_closed());
    assert_eq!(sched.owned.len(), 0);
    for join in &mut joins {
        assert!(join.is_woken());
        assert!(assert_ready!(join.poll()).unwrap_err().is_cancelled());
    }

    let (late, notified) = sched.owned.bind(pending_with(drops.token()), sched.clone(), Id::next());
    assert!(notified.is_none());
    assert_eq!(drops.get(), N + 1, "a refused future is dropped at once");
    let mut late = mock_task(late);
    assert!(assert_ready!(late.poll()).unwrap_err().is_cancelled());

    assert_eq!(sched.run_until_idle(), N / 2, "stale notifications are harmless");
    drop((joins, late));
    assert_all_freed(sched);
}

#[test]
fn shutdown_during_poll_drops_the_future_after_the_poll() {
    let sched = TestSched::new();
    let drops = DropCounter::default();
    let token = drops.token();
    let sched2 = sched.clone();
    let dropped_during_poll = Arc::new(AtomicBool::new(true));
    let (flag, counter) = (dropped_during_poll.clone(), drops.clone());
    let join = sched.spawn(poll_fn(move |_cx| {
        let _keep = &token;
        sched2.owned.close_and_shutdown_all();
        flag.store(counter.get() != 0, SeqCst);
        Poll::<()>::Pending
    }));
    sched.tick();
    assert!(!dropped_during_poll.load(SeqCst));
    assert_eq!(drops.get(), 1);
    let mut join = mock_task(join);
    assert!(assert_ready!(join.poll()).unwrap_err().is_cancelled());
    drop(join);
    assert_all_freed(sched);
}

#[test]
fn owned_tasks_track_len_across_shards() {
    let sched = TestSched::new();
    let joins: Vec<_> = (0..100).map(|i| sched.spawn(async move { i })).collect();
    assert_eq!(sched.owned.len(), 100);
    sched.run_until_idle();
    assert_eq!(sched.owned.len(), 0);
    for (i, join) in joins.into_iter().enumerate() {
        let mut join = mock_task(join);
        assert_eq!(assert_ready!(join.poll()).unwrap(), i);
    }
    assert_all_freed(sched);
}

#[test]
fn tasks_spawned_and_run_from_many_threads_all_complete_and_are_freed() {
    let sched = TestSched::new();
    let done = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (sched, done) = (sched.clone(), done.clone());
            std::thread::spawn(move || {
                for _ in 0..250 {
                    let done = done.clone();
                    drop(sched.spawn(async move {
                        yield_now().await;
                        done.fetch_add(1, SeqCst);
                    }));
                    sched.tick();
                }
                while sched.tick() {}
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    sched.run_until_idle();
    assert_eq!(done.load(SeqCst), 1000);
    assert_all_freed(sched);
}

// ===== sizes and auto traits =====

#[test]
fn big_future_is_boxed_and_completes() {
    let sched = TestSched::new();
    let future = async {
        let buf = [1u8; 16 * 1024];
        yield_now().await;
        buf.iter().map(|&b| b as usize).sum::<usize>()
    };
    assert!(std::mem::size_of_val(&future) > BOX_THRESHOLD);
    let mut join = mock_task(sched.spawn(future));
    sched.run_until_idle();
    assert_eq!(assert_ready!(join.poll()).unwrap(), 16 * 1024);
    drop(join);
    assert_all_freed(sched);
}

#[test]
fn handles_have_the_expected_auto_traits() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    fn unpin<T: Unpin>() {}
    send::<JoinHandle<u32>>();
    sync::<JoinHandle<u32>>();
    unpin::<JoinHandle<std::marker::PhantomPinned>>();
    send::<AbortHandle>();
    sync::<AbortHandle>();
    send::<Notified<Arc<TestSched>>>();
    send::<Task<Arc<TestSched>>>();
    sync::<Task<Arc<TestSched>>>();
    send::<JoinError>();
    sync::<JoinError>();
}
