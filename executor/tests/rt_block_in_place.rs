//! `task::block_in_place`: on a multi-thread worker the worker's queue is handed to another
//! thread while the closure blocks; elsewhere the closure just runs; on a current-thread
//! runtime and inside a `LocalSet` it panics with tokio's message.

use executor::runtime::Builder;
use executor::task::{block_in_place, spawn, spawn_blocking, yield_now, LocalSet};
use executor::time::{sleep, Duration};
use executor::Handle;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

const NEEDS_MULTI_THREAD: &str = "can call blocking only when running on the multi-threaded runtime";

fn multi(workers: usize) -> executor::Runtime {
    Builder::new_multi_thread().worker_threads(workers).build().unwrap()
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

#[test]
fn the_only_worker_hands_its_queue_to_another_thread_while_it_blocks() {
    // One worker: the task spawned here lands in that worker's own queue. It can only run if
    // the worker's core is handed off while the closure blocks waiting for it.
    let rt = multi(1);
    let got = rt.block_on(async {
        spawn(async {
            let (tx, rx) = mpsc::channel();
            spawn(async move { tx.send(7).unwrap() });
            block_in_place(|| rx.recv_timeout(std::time::Duration::from_secs(20)))
        })
        .await
        .unwrap()
    });
    assert_eq!(got, Ok(7), "the queued task never ran while the worker blocked");
}

#[test]
fn timers_fire_while_the_only_worker_blocks() {
    let rt = multi(1);
    rt.block_on(async {
        spawn(async {
            let (tx, rx) = mpsc::channel();
            spawn(async move {
                sleep(Duration::from_millis(5)).await;
                tx.send(()).unwrap();
            });
            yield_now().await;
            block_in_place(|| rx.recv_timeout(std::time::Duration::from_secs(20))).expect("the timer never fired");
        })
        .await
        .unwrap()
    });
}

#[test]
fn the_closure_may_block_on_a_future() {
    let rt = multi(2);
    let v = rt.block_on(rt.spawn(async {
        block_in_place(|| {
            Handle::current().block_on(async {
                sleep(Duration::from_millis(1)).await;
                spawn(async { 40 }).await.unwrap() + 2
            })
        })
    }));
    assert_eq!(v.unwrap(), 42);
}

#[test]
fn many_tasks_block_in_place_and_the_runtime_keeps_serving_the_others() {
    let rt = multi(2);
    rt.block_on(async {
        let blockers: Vec<_> = (0..50u64)
            .map(|i| {
                spawn(async move {
                    for _ in 0..3 {
                        block_in_place(|| std::thread::sleep(std::time::Duration::from_millis(1)));
                        yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let others: Vec<_> = (0..200u64).map(|i| spawn(async move { i * 2 })).collect();
        let mut sum = 0;
        for h in others {
            sum += h.await.unwrap();
        }
        assert_eq!(sum, (0..200u64).map(|i| i * 2).sum());
        let mut sum = 0;
        for h in blockers {
            sum += h.await.unwrap();
        }
        assert_eq!(sum, (0..50u64).sum());
    });
    // And it still shuts down cleanly.
    rt.shutdown_timeout(std::time::Duration::from_secs(10));
}

#[test]
fn a_panicking_closure_fails_only_its_task() {
    let rt = multi(1);
    rt.block_on(async {
        let err = spawn(async { block_in_place(|| panic!("in the blocking section")) }).await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(panic_message(err.into_panic()), "in the blocking section");
        // The worker (its core taken back during the unwind, or handed on) still runs tasks.
        for i in 0..10 {
            assert_eq!(spawn(async move { i }).await.unwrap(), i);
        }
    });
}

#[test]
fn outside_a_worker_the_closure_just_runs() {
    assert_eq!(block_in_place(|| 1), 1, "outside any runtime");
    let rt = multi(2);
    let me = std::thread::current().id();
    // The multi-thread runtime's block_on thread.
    rt.block_on(async move {
        assert_eq!(block_in_place(|| std::thread::current().id()), me);
        // A blocking-pool thread, and nested inside another block_in_place.
        let nested = spawn_blocking(|| block_in_place(|| 2)).await.unwrap();
        assert_eq!(nested, 2);
        let inner = spawn(async { block_in_place(|| block_in_place(|| 3)) }).await.unwrap();
        assert_eq!(inner, 3);
    });
}

#[test]
fn on_the_current_thread_runtime_it_panics_with_tokios_message() {
    let rt = Builder::new_current_thread().build().unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { block_in_place(|| ()) }))).unwrap_err();
    assert_eq!(panic_message(err), NEEDS_MULTI_THREAD);
    let err = rt.block_on(rt.spawn(async { block_in_place(|| ()) })).unwrap_err();
    assert_eq!(panic_message(err.into_panic()), NEEDS_MULTI_THREAD);
}

#[test]
fn inside_a_local_set_it_panics_with_tokios_message() {
    let rt = multi(2);
    let local = LocalSet::new();
    let err = catch_unwind(AssertUnwindSafe(|| local.block_on(&rt, async { block_in_place(|| ()) }))).unwrap_err();
    assert_eq!(panic_message(err), NEEDS_MULTI_THREAD);
    let err = local.block_on(&rt, async { executor::task::spawn_local(async { block_in_place(|| ()) }).await.unwrap_err() });
    assert_eq!(panic_message(err.into_panic()), NEEDS_MULTI_THREAD);
    // After the set's poll, block_in_place works again on this (block_on) thread.
    rt.block_on(async { block_in_place(|| ()) });
}

#[test]
fn shutdown_does_not_wait_past_its_timeout_for_a_blocked_task() {
    let rt = multi(1);
    let (tx, rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel();
    rt.spawn(async move {
        block_in_place(move || {
            started_tx.send(()).unwrap();
            let _ = rx.recv();
        })
    });
    started_rx.recv().unwrap();
    let start = std::time::Instant::now();
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    drop(tx); // the blocked closure returns and its thread exits
}
