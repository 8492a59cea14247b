//! A task that yields — `yield_now`, or a spent cooperative budget — runs again only after the
//! scheduler has polled its driver, so a task whose socket became ready meanwhile runs first
//! (tokio's "defer"). Both flavors; the multi-thread runtime with one worker, so that no other
//! worker sleeping in the driver serves the I/O in its place.

use executor::io::unix::AsyncFd;
use executor::runtime::{Builder, Runtime};
use executor::task::{consume_budget, yield_now};
use std::future::{poll_fn, Future};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn flavors() -> [(&'static str, Runtime); 2] {
    [
        ("current_thread", Builder::new_current_thread().build().unwrap()),
        ("multi_thread (1 worker)", Builder::new_multi_thread().worker_threads(1).build().unwrap()),
    ]
}

/// A bound on the loops below, far above what either runtime needs: the tests count, the
/// bound only keeps a broken runtime from spinning for ever.
const RUNS_BOUND: usize = 100_000;

/// A reader task waits for its socket; once it is registered, another task makes the socket
/// readable and then loops on `step` until the reader has run. Returns how many steps the
/// looping task made before that.
fn steps_before_the_ready_socket_is_served<S, F>(rt: &Runtime, step: S) -> usize
where
    S: Fn() -> F + Send + 'static,
    F: Future<Output = ()> + Send,
{
    rt.block_on(async move {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let fd = AsyncFd::new(a).unwrap();
        let registered = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicBool::new(false));
        let reader = {
            let (registered, served) = (registered.clone(), served.clone());
            executor::spawn(async move {
                let mut readable = pin!(fd.readable());
                let guard = poll_fn(|cx| {
                    let poll = readable.as_mut().poll(cx);
                    registered.store(true, Ordering::SeqCst);
                    poll
                })
                .await;
                guard.unwrap().retain_ready();
                served.store(true, Ordering::SeqCst);
            })
        };
        let looper = executor::spawn(async move {
            for _ in 0..RUNS_BOUND {
                if registered.load(Ordering::SeqCst) {
                    break;
                }
                yield_now().await;
            }
            // The reader's data is in the kernel from here on.
            b.write_all(b"x").unwrap();
            let mut steps = 0;
            while !served.load(Ordering::SeqCst) && steps < RUNS_BOUND {
                steps += 1;
                step().await;
            }
            steps
        });
        reader.await.unwrap();
        looper.await.unwrap()
    })
}

#[test]
fn a_yielding_task_runs_once_before_a_ready_socket_is_served_on_both_flavors() {
    for (name, rt) in flavors() {
        let yields = steps_before_the_ready_socket_is_served(&rt, yield_now);
        // One yield: the driver is polled (the reader is woken) before the yielder runs again.
        // Re-queued at once, the yielder ran until the next periodic driver poll (~61 times).
        assert_eq!(yields, 1, "{name}: the yielder ran {yields} times before the ready socket's task");
    }
}

#[test]
fn a_task_that_spends_its_budget_runs_once_more_before_a_ready_socket_is_served_on_both_flavors() {
    for (name, rt) in flavors() {
        let steps = steps_before_the_ready_socket_is_served(&rt, consume_budget);
        // One poll of 128 units, then the budget is spent and the task is deferred behind the
        // driver poll. Woken at once instead, it ran ~61 polls of 128 units first.
        assert!(steps <= 2 * 128, "{name}: {steps} budget units were spent before the ready socket's task ran");
    }
}

#[test]
fn yield_now_outside_a_runtime_thread_wakes_at_once() {
    let mut y = tokio_test::task::spawn(yield_now());
    tokio_test::assert_pending!(y.poll());
    assert!(y.is_woken(), "no scheduler thread to defer to: the waker is woken immediately");
    tokio_test::assert_ready!(y.poll());
}

#[test]
fn yield_now_in_block_on_is_resumed_on_both_flavors() {
    for (_, rt) in flavors() {
        rt.block_on(async {
            for _ in 0..1000 {
                yield_now().await;
            }
        });
    }
}

#[test]
fn yielding_tasks_all_make_progress_together_on_both_flavors() {
    for (name, rt) in flavors() {
        let done = rt.block_on(async {
            let tasks: Vec<_> = (0..50)
                .map(|_| {
                    executor::spawn(async {
                        for _ in 0..200 {
                            yield_now().await;
                        }
                    })
                })
                .collect();
            let mut done = 0;
            for t in tasks {
                t.await.unwrap();
                done += 1;
            }
            done
        });
        assert_eq!(done, 50, "{name}");
    }
}

/// Runs `f` on its own thread and waits at most 10 s for it: a runtime that never fires the
/// timeout under test hangs that thread, not the test.
fn within_10s<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| panic!("{what}: did not finish within 10 s"))
}

#[test]
fn a_timeout_fires_around_a_future_that_always_spends_the_budget_on_both_flavors() {
    for flavor in ["current_thread", "multi_thread"] {
        let elapsed = within_10s(flavor, move || {
            let rt = match flavor {
                "current_thread" => Builder::new_current_thread().build().unwrap(),
                _ => Builder::new_multi_thread().worker_threads(1).build().unwrap(),
            };
            rt.block_on(async {
                let spin = async {
                    loop {
                        consume_budget().await;
                    }
                };
                executor::spawn(executor::time::timeout(Duration::from_millis(10), spin)).await.unwrap().is_err()
            })
        });
        assert!(elapsed, "{flavor}: the timeout completed without elapsing");
    }
}
