//! What a runtime's shutdown does to what outlives it: timers fail at once (as tokio's, whose
//! polls panic "A Tokio 1.x context was found, but it is being shutdown."), and a runtime
//! dropped in a thread-local's destructor shuts down cleanly. Both flavors.

use executor::runtime::{Builder, Handle, Runtime};
use executor::time::{interval, sleep, timeout};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tokio_test::{assert_pending, task};

const SHUTTING_DOWN: &str = "A runtime context was found, but it is being shut down";

fn flavors() -> [Runtime; 2] {
    [Builder::new_current_thread().build().unwrap(), Builder::new_multi_thread().worker_threads(2).build().unwrap()]
}

fn message(payload: Box<dyn Any + Send>) -> String {
    payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

#[test]
fn a_pending_sleep_is_woken_by_the_shutdown_and_its_poll_panics_on_both_flavors() {
    for rt in flavors() {
        let _ctx = rt.enter();
        let mut s = task::spawn(sleep(Duration::from_secs(3600)));
        assert_pending!(s.poll());
        drop(_ctx);
        rt.shutdown_background();
        assert!(s.is_woken(), "the shutdown must wake a pending timer's task");
        let err = catch_unwind(AssertUnwindSafe(|| s.poll())).expect_err("a timer polled after shutdown must panic");
        assert!(message(err).starts_with(SHUTTING_DOWN));
    }
}

#[test]
fn timers_created_before_the_shutdown_and_first_polled_after_it_panic_on_both_flavors() {
    for rt in flavors() {
        let ctx = rt.enter();
        let mut s = task::spawn(sleep(Duration::from_millis(50)));
        let mut t = task::spawn(timeout(Duration::from_millis(50), std::future::pending::<()>()));
        let mut every = interval(Duration::from_millis(50));
        let mut i = task::spawn(async move { every.tick().await });
        drop(ctx);
        rt.shutdown_background();
        for (what, poll) in [
            ("sleep", &mut (|| s.poll().is_ready()) as &mut dyn FnMut() -> bool),
            ("timeout", &mut || t.poll().is_ready()),
            ("interval", &mut || i.poll().is_ready()),
        ] {
            let err = catch_unwind(AssertUnwindSafe(poll)).expect_err(what);
            assert!(message(err).starts_with(SHUTTING_DOWN), "{what}");
        }
    }
}

#[test]
fn a_blocking_closure_awaiting_a_timer_after_shutdown_fails_at_once_on_both_flavors() {
    for rt in flavors() {
        let handle = rt.handle().clone();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (res_tx, res_rx) = mpsc::channel();
        rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            let res = catch_unwind(AssertUnwindSafe(|| handle.block_on(sleep(Duration::from_millis(50))))).map_err(message);
            res_tx.send(res).unwrap();
        });
        // Shut down without waiting (the closure runs: it is not cancelled), then let it, on its
        // detached thread, wait for a timer that nothing will ever fire.
        started_rx.recv().unwrap();
        rt.shutdown_timeout(Duration::ZERO);
        go_tx.send(()).unwrap();
        let res = res_rx.recv_timeout(Duration::from_secs(10)).expect("the timer hung after the shutdown");
        let err = res.expect_err("the timer completed after the shutdown");
        assert!(err.starts_with(SHUTTING_DOWN), "{err}");
    }
}

#[test]
fn a_timeout_whose_inner_future_is_ready_still_completes_after_shutdown() {
    // As tokio: the inner future is polled first.
    let rt = Builder::new_current_thread().build().unwrap();
    let ctx = rt.enter();
    let mut t = task::spawn(timeout(Duration::from_secs(1), async { 7 }));
    drop(ctx);
    drop(rt);
    assert_eq!(tokio_test::assert_ready!(t.poll()).unwrap(), 7);
}

thread_local! {
    static KEPT: std::cell::RefCell<Option<Runtime>> = const { std::cell::RefCell::new(None) };
}

/// Builds a runtime on a new thread, gives it tasks (pending on a timer and on nothing), a
/// blocking closure and a timer held outside, stores it in a thread-local and lets the thread
/// exit: the thread-local's destructor drops the runtime. Returns whether the thread exited
/// normally and the tasks' futures were dropped.
fn drop_in_thread_local_destructor(multi_thread: bool) -> (bool, usize) {
    let dropped = Arc::new(AtomicUsize::new(0));
    let counter = dropped.clone();
    let thread = std::thread::spawn(move || {
        // Thread-locals are destroyed in the reverse order of their first use: touching this one
        // first makes its destructor run last, after the runtime's own thread-locals are gone
        // (the case that aborted the process: the shutdown entered a destroyed context).
        KEPT.with(|_| ());
        let rt = if multi_thread {
            Builder::new_multi_thread().worker_threads(2).build().unwrap()
        } else {
            Builder::new_current_thread().build().unwrap()
        };
        struct CountDrop(Arc<AtomicUsize>);
        impl Drop for CountDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let started = Arc::new(AtomicBool::new(false));
        rt.block_on(async {
            let guard = CountDrop(counter.clone());
            executor::spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(3600)).await;
            });
            let guard = CountDrop(counter.clone());
            executor::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            let flag = started.clone();
            executor::task::spawn_blocking(move || flag.store(true, Ordering::SeqCst));
            executor::task::yield_now().await;
        });
        KEPT.with(|k| *k.borrow_mut() = Some(rt));
        // Use the context here too, so that it has a destructor registered after KEPT's.
        assert!(Handle::try_current().is_err());
    });
    let exited = thread.join().is_ok();
    (exited, dropped.load(Ordering::SeqCst))
}

#[test]
fn a_runtime_dropped_in_a_thread_local_destructor_shuts_down_cleanly_on_both_flavors() {
    for multi_thread in [false, true] {
        let (exited, dropped) = drop_in_thread_local_destructor(multi_thread);
        assert!(exited, "multi_thread: {multi_thread}: the thread panicked");
        assert_eq!(dropped, 2, "multi_thread: {multi_thread}: every task's future is dropped");
    }
}
