//! The current-thread runtime, through its public API: spawn, JoinHandle, abort, panics, timers,
//! cross-thread wakes, context errors and shutdown.

use executor::runtime::{Builder, Handle, Runtime};
use executor::task::{spawn, yield_now, JoinError};
use executor::time::{sleep, sleep_until, timeout};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

fn rt() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn block_on_returns_the_output() {
    assert_eq!(rt().block_on(async { 40 + 2 }), 42);
}

#[test]
fn hundred_thousand_spawned_tasks_all_complete() {
    let rt = rt();
    let done = Arc::new(AtomicUsize::new(0));
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..100_000u64)
            .map(|i| {
                let done = done.clone();
                spawn(async move {
                    done.fetch_add(1, SeqCst);
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(done.load(SeqCst), 100_000);
    assert_eq!(sum, (0..100_000u64).sum::<u64>());
}

#[test]
fn abort_cancels_a_pending_task_and_drops_its_future() {
    let rt = rt();
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let err = rt.block_on(async move {
        let h = spawn(async move {
            let _guard = DropCount(d);
            std::future::pending::<()>().await
        });
        yield_now().await;
        h.abort();
        h.await.unwrap_err()
    });
    assert!(err.is_cancelled() && !err.is_panic());
    assert_eq!(dropped.load(SeqCst), 1);
}

#[test]
fn a_panicking_task_is_reported_and_the_runtime_carries_on() {
    let rt = rt();
    let (err, after): (JoinError, u32) = rt.block_on(async {
        let err = spawn(async { panic!("boom") }).await.unwrap_err();
        (err, spawn(async { 7 }).await.unwrap())
    });
    assert!(err.is_panic());
    assert_eq!(err.into_panic().downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!(after, 7);
}

#[test]
fn nested_block_on_is_refused_with_a_clear_panic() {
    let rt = rt();
    let handle = rt.handle().clone();
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(async { handle.block_on(async {}) })));
    let msg = res.unwrap_err();
    let msg = msg.downcast_ref::<String>().map(String::as_str).or(msg.downcast_ref::<&str>().copied()).unwrap();
    assert!(msg.contains("cannot start a runtime from within a runtime"), "{msg}");
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    let res = std::panic::catch_unwind(|| drop(spawn(async {})));
    let msg = res.unwrap_err();
    let msg = msg.downcast_ref::<String>().map(String::as_str).or(msg.downcast_ref::<&str>().copied()).unwrap();
    assert!(msg.contains("no runtime running"), "{msg}");
    assert!(Handle::try_current().is_err());
}

/// A future completed by another thread: a minimal cross-thread wake.
struct Remote(Arc<Mutex<(bool, Option<Waker>)>>);

impl Future for Remote {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.0.lock().unwrap();
        if s.0 {
            Poll::Ready(())
        } else {
            s.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

#[test]
fn a_task_woken_from_another_thread_runs() {
    let rt = rt();
    let shared = Arc::new(Mutex::new((false, None::<Waker>)));
    let s2 = shared.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        let mut s = s2.lock().unwrap();
        s.0 = true;
        if let Some(w) = s.1.take() {
            w.wake();
        }
    });
    let out = rt.block_on(async move {
        spawn(async move {
            Remote(shared).await;
            5
        })
        .await
        .unwrap()
    });
    assert_eq!(out, 5);
    t.join().unwrap();
}

#[test]
fn sleep_never_completes_early() {
    let rt = rt();
    rt.block_on(async {
        for ms in [0u64, 1, 5, 25] {
            let start = Instant::now();
            sleep(Duration::from_millis(ms)).await;
            assert!(start.elapsed() >= Duration::from_millis(ms), "{ms} ms sleep ended after {:?}", start.elapsed());
        }
    });
}

#[test]
fn timers_fire_in_deadline_order() {
    let rt = rt();
    let order = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let base = executor::time::Instant::now();
        let handles: Vec<_> = [30u64, 10, 20, 0, 25, 5]
            .into_iter()
            .map(|ms| {
                let order = order.clone();
                spawn(async move {
                    sleep_until(base + Duration::from_millis(ms)).await;
                    order.lock().unwrap().push(ms);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(*order.lock().unwrap(), vec![0, 5, 10, 20, 25, 30]);
}

#[test]
fn timeout_elapses_for_a_slow_future_and_passes_a_fast_one() {
    let rt = rt();
    rt.block_on(async {
        let slow = timeout(Duration::from_millis(10), std::future::pending::<()>()).await;
        assert_eq!(slow.unwrap_err().to_string(), "deadline has elapsed");
        let fast = timeout(Duration::from_secs(5), async { 3 }).await;
        assert_eq!(fast.unwrap(), 3);
    });
}

#[test]
fn yield_now_lets_other_tasks_run() {
    let rt = rt();
    let log = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let a = {
            let log = log.clone();
            spawn(async move {
                for i in 0..3 {
                    log.lock().unwrap().push(("a", i));
                    yield_now().await;
                }
            })
        };
        let b = {
            let log = log.clone();
            spawn(async move {
                for i in 0..3 {
                    log.lock().unwrap().push(("b", i));
                    yield_now().await;
                }
            })
        };
        a.await.unwrap();
        b.await.unwrap();
    });
    let log = log.lock().unwrap();
    assert_eq!(*log, vec![("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]);
}

struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn dropping_the_runtime_drops_every_task_future() {
    let dropped = Arc::new(AtomicUsize::new(0));
    {
        let rt = rt();
        rt.block_on(async {
            for _ in 0..1000 {
                let guard = DropCount(dropped.clone());
                spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
            }
            // Some never ran, some are parked on a timer that will never fire in time.
            for _ in 0..10 {
                let guard = DropCount(dropped.clone());
                spawn(async move {
                    let _guard = guard;
                    sleep(Duration::from_secs(3600)).await
                });
            }
            yield_now().await;
        });
        assert_eq!(dropped.load(SeqCst), 0);
    }
    assert_eq!(dropped.load(SeqCst), 1010);
}

#[test]
fn block_on_from_two_threads_shares_the_runtime() {
    let rt = Arc::new(rt());
    let rt2 = rt.clone();
    let t = std::thread::spawn(move || {
        rt2.block_on(async {
            sleep(Duration::from_millis(30)).await;
            1
        })
    });
    let a = rt.block_on(async {
        spawn(async {
            sleep(Duration::from_millis(10)).await;
            2
        })
        .await
        .unwrap()
    });
    assert_eq!(a + t.join().unwrap(), 3);
}

mod join_set {
    use super::*;
    use executor::task::JoinSet;

    #[test]
    fn join_next_returns_outputs_in_completion_order() {
        rt().block_on(async {
            let mut set = JoinSet::new();
            for ms in [30u64, 10, 20] {
                set.spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    ms
                });
            }
            let mut order = Vec::new();
            while let Some(res) = set.join_next().await {
                order.push(res.unwrap());
            }
            assert_eq!(order, vec![10, 20, 30]);
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
        });
    }

    #[test]
    fn ten_thousand_members_all_join() {
        rt().block_on(async {
            let mut set = JoinSet::new();
            for i in 0..10_000u64 {
                set.spawn(async move {
                    yield_now().await;
                    i
                });
            }
            assert_eq!(set.len(), 10_000);
            let mut sum = 0;
            while let Some(res) = set.join_next().await {
                sum += res.unwrap();
            }
            assert_eq!(sum, (0..10_000u64).sum::<u64>());
        });
    }

    #[test]
    fn abort_all_cancels_every_member_and_dropping_the_set_aborts() {
        let dropped = Arc::new(AtomicUsize::new(0));
        rt().block_on(async {
            let mut set = JoinSet::new();
            for _ in 0..5 {
                let guard = DropCount(dropped.clone());
                set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
            }
            yield_now().await;
            set.abort_all();
            let mut cancelled = 0;
            while let Some(res) = set.join_next().await {
                assert!(res.unwrap_err().is_cancelled());
                cancelled += 1;
            }
            assert_eq!(cancelled, 5);
            let mut set2 = JoinSet::new();
            for _ in 0..3 {
                let guard = DropCount(dropped.clone());
                set2.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                });
            }
            yield_now().await;
            drop(set2);
            // The aborted tasks are dropped when the scheduler runs them once more.
            for _ in 0..3 {
                yield_now().await;
            }
        });
        assert_eq!(dropped.load(SeqCst), 8);
    }

    #[test]
    fn try_join_next_does_not_wait_and_join_all_collects() {
        rt().block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { 1 });
            assert!(set.try_join_next().is_none(), "not run yet");
            yield_now().await;
            assert_eq!(set.try_join_next().unwrap().unwrap(), 1);
            let mut set = JoinSet::new();
            for i in 0..4 {
                set.spawn(async move { i });
            }
            let mut all = set.join_all().await;
            all.sort();
            assert_eq!(all, vec![0, 1, 2, 3]);
        });
    }
}
