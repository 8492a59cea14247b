//! loom models of the task state machine's racy paths. Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p eventpoll-executor --lib --release task::loom_tests
//! ```
//!
//! Leak checking: each task cell holds a clone of the (loom) `Arc<LoomSched>`,
//! and loom itself reports leaked `Arc`s at the end of every execution.

use super::*;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

struct LoomSched {
    queue: Mutex<VecDeque<Notified<Arc<LoomSched>>>>,
    owned: OwnedTasks<Arc<LoomSched>>,
    schedules: AtomicUsize,
}

impl Schedule for Arc<LoomSched> {
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        self.owned.remove(task)
    }

    fn schedule(&self, task: Notified<Self>) {
        self.schedules.fetch_add(1, SeqCst);
        let mut queue = self.queue.lock().unwrap();
        queue.push_back(task);
        assert!(queue.len() <= 1, "a task was queued twice");
    }
}

impl LoomSched {
    fn new() -> Arc<LoomSched> {
        Arc::new(LoomSched { queue: Mutex::new(VecDeque::new()), owned: OwnedTasks::new(), schedules: AtomicUsize::new(0) })
    }

    fn spawn<F>(this: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (join, notified) = this.owned.bind(future, this.clone(), Id::next());
        this.queue.lock().unwrap().extend(notified);
        join
    }

    fn tick(&self) -> bool {
        let task = self.queue.lock().unwrap().pop_front();
        task.map(Notified::run).is_some()
    }

    fn run_until_idle(&self) {
        while self.tick() {}
    }

    fn finish(this: Arc<Self>) {
        this.owned.close_and_shutdown_all();
        this.run_until_idle();
        assert_eq!(Arc::strong_count(&this), 1, "a task allocation leaked");
    }
}

/// A std waker (not modeled) that counts wakes.
use crate::test_util::WakeCount as CountingWaker;

#[test]
fn wake_while_running_races_with_completion() {
    loom::model(|| {
        let sched = LoomSched::new();
        let ready = Arc::new(AtomicBool::new(false));
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let (ready2, slot2) = (ready.clone(), slot.clone());
        let join = LoomSched::spawn(
            &sched,
            poll_fn(move |cx| {
                if ready2.load(SeqCst) {
                    return Poll::Ready(());
                }
                *slot2.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            }),
        );
        sched.tick(); // first poll: Pending, waker stored
        let waker = slot.lock().unwrap().take().unwrap();
        waker.wake_by_ref(); // queue it: the next tick races with the thread's wake

        let waking = thread::spawn(move || {
            ready.store(true, SeqCst);
            waker.wake();
        });
        sched.tick();
        waking.join().unwrap();
        sched.run_until_idle();

        assert!(join.is_finished(), "a wake was lost");
        // The main thread's wake_by_ref, plus at most one reschedule.
        assert!(sched.schedules.load(SeqCst) <= 2);
        drop(join);
        drop(slot);
        LoomSched::finish(sched);
    });
}

#[test]
fn join_handle_drop_races_with_completion() {
    loom::model(|| {
        let sched = LoomSched::new();
        let output = Arc::new(());
        let output2 = output.clone();
        let mut join = LoomSched::spawn(&sched, async move { output2 });
        let waker = std::sync::Arc::new(CountingWaker::default());
        let polled = Pin::new(&mut join).poll(&mut Context::from_waker(&Waker::from(waker.clone())));
        assert!(polled.is_pending());

        let runner = {
            let sched = sched.clone();
            thread::spawn(move || sched.tick())
        };
        drop(join);
        assert!(runner.join().unwrap());

        assert_eq!(Arc::strong_count(&output), 1, "the output was not dropped exactly once");
        assert_eq!(std::sync::Arc::strong_count(&waker), 1, "the join waker leaked");
        LoomSched::finish(sched);
    });
}

#[test]
fn abort_races_with_a_running_poll() {
    loom::model(|| {
        let sched = LoomSched::new();
        let dropped = Arc::new(AtomicUsize::new(0));
        struct Token(Arc<AtomicUsize>);
        impl Drop for Token {
            fn drop(&mut self) {
                self.0.fetch_add(1, SeqCst);
            }
        }
        let token = Token(dropped.clone());
        let join = LoomSched::spawn(&sched, async move {
            let _token = token;
            std::future::pending::<()>().await
        });
        let abort = join.abort_handle();
        let aborter = thread::spawn(move || abort.abort());
        sched.tick();
        aborter.join().unwrap();
        sched.run_until_idle();

        assert_eq!(dropped.load(SeqCst), 1);
        assert!(join.is_finished());
        let mut join = join;
        let waker = Waker::from(std::sync::Arc::new(CountingWaker::default()));
        match Pin::new(&mut join).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(Err(err)) => assert!(err.is_cancelled()),
            _ => panic!("expected a cancelled JoinError"),
        }
        drop(join);
        LoomSched::finish(sched);
    });
}
