//! The multi-thread runtime, through its public API: spawn, JoinHandle, abort, panics, timers,
//! cross-thread wakes, work spreading across workers, context errors and shutdown.

use executor::runtime::{Builder, Runtime};
use executor::task::{spawn, yield_now, JoinSet};
use executor::time::{sleep, sleep_until, timeout};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn rt(workers: usize) -> Runtime {
    Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap()
}

#[test]
fn block_on_returns_the_output_and_runtime_new_is_multi_thread() {
    let rt = Runtime::new().unwrap();
    assert!(format!("{rt:?}").contains("multi_thread"));
    assert_eq!(rt.block_on(async { spawn(async { 40 + 2 }).await.unwrap() }), 42);
}

#[test]
fn hundred_thousand_spawned_tasks_all_complete() {
    let rt = rt(2);
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
fn tasks_spawned_from_inside_tasks_and_other_threads_all_complete() {
    let rt = rt(2);
    let handle = rt.handle().clone();
    let count = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let handle = handle.clone();
            let count = count.clone();
            std::thread::spawn(move || {
                let hs: Vec<_> = (0..1000)
                    .map(|_| {
                        let count = count.clone();
                        handle.spawn(async move {
                            let inner = spawn(async move {
                                yield_now().await;
                                count.fetch_add(1, SeqCst);
                            });
                            inner.await.unwrap();
                        })
                    })
                    .collect();
                handle.block_on(async {
                    for h in hs {
                        h.await.unwrap();
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(count.load(SeqCst), 4000);
}

#[test]
fn work_spreads_over_the_workers() {
    let rt = rt(2);
    let ids = Arc::new(Mutex::new(HashSet::new()));
    rt.block_on(async {
        let hs: Vec<_> = (0..64)
            .map(|_| {
                let ids = ids.clone();
                spawn(async move {
                    // Busy for a moment so a second worker steals from the first.
                    let until = Instant::now() + Duration::from_millis(2);
                    while Instant::now() < until {
                        std::hint::spin_loop();
                    }
                    ids.lock().unwrap().insert(std::thread::current().id());
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    assert_eq!(ids.lock().unwrap().len(), 2, "both workers ran tasks");
}

#[test]
fn abort_and_panic_are_reported_and_the_runtime_carries_on() {
    let rt = rt(2);
    rt.block_on(async {
        let h = spawn(std::future::pending::<()>());
        yield_now().await;
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
        let err = spawn(async { panic!("boom") }).await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(spawn(async { 7 }).await.unwrap(), 7);
    });
}

#[test]
fn block_on_inside_a_task_is_refused_with_a_clear_panic() {
    let rt = rt(1);
    let handle = rt.handle().clone();
    let err = rt.block_on(async move { spawn(async move { handle.block_on(async {}) }).await.unwrap_err() });
    let msg = err.into_panic();
    let msg = msg.downcast_ref::<String>().map(String::as_str).or(msg.downcast_ref::<&str>().copied()).unwrap();
    assert!(msg.contains("cannot start a runtime from within a runtime"), "{msg}");
}

#[test]
fn timers_fire_in_order_and_never_early() {
    let rt = rt(2);
    let order = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let base = executor::time::Instant::now();
        let hs: Vec<_> = [40u64, 10, 30, 0, 20]
            .into_iter()
            .map(|ms| {
                let order = order.clone();
                spawn(async move {
                    sleep_until(base + Duration::from_millis(ms)).await;
                    assert!(base.elapsed() >= Duration::from_millis(ms));
                    order.lock().unwrap().push(ms);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        let slow = timeout(Duration::from_millis(10), std::future::pending::<()>()).await;
        assert!(slow.is_err());
        let start = Instant::now();
        sleep(Duration::from_millis(15)).await;
        assert!(start.elapsed() >= Duration::from_millis(15));
    });
    assert_eq!(*order.lock().unwrap(), vec![0, 10, 20, 30, 40]);
}

#[test]
fn join_set_collects_from_all_workers() {
    let rt = rt(2);
    let sum = rt.block_on(async {
        let mut set = JoinSet::new();
        for i in 0..1000u64 {
            set.spawn(async move {
                yield_now().await;
                i
            });
        }
        let mut sum = 0;
        while let Some(r) = set.join_next().await {
            sum += r.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..1000u64).sum::<u64>());
}

struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn dropping_the_runtime_stops_the_workers_and_drops_every_task() {
    let dropped = Arc::new(AtomicUsize::new(0));
    {
        let rt = rt(2);
        rt.block_on(async {
            for _ in 0..500 {
                let guard = DropCount(dropped.clone());
                spawn(async move {
                    let _guard = guard;
                    sleep(Duration::from_secs(3600)).await
                });
            }
            sleep(Duration::from_millis(10)).await;
        });
        assert_eq!(dropped.load(SeqCst), 0);
    }
    assert_eq!(dropped.load(SeqCst), 500);
}

#[test]
#[should_panic(expected = "worker_threads cannot be 0")]
fn zero_worker_threads_is_refused() {
    let _ = Builder::new_multi_thread().worker_threads(0);
}

/// CPU time (clock ticks) used so far by this process's threads named `name` (Linux /proc).
fn cpu_ticks_of_threads_named(name: &str) -> (usize, u64) {
    let mut threads = 0;
    let mut ticks = 0;
    for entry in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let dir = entry.path();
        if std::fs::read_to_string(dir.join("comm")).map(|c| c.trim() == name).unwrap_or(false) {
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
            // Fields after the parenthesised command: state is field 3; utime and stime are 14, 15.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let f: Vec<&str> = rest.split_whitespace().collect();
            if f.len() > 12 {
                threads += 1;
                ticks += f[11].parse::<u64>().unwrap_or(0) + f[12].parse::<u64>().unwrap_or(0);
            }
        }
    }
    (threads, ticks)
}

#[test]
fn an_idle_runtime_does_not_spin() {
    // Workers with nothing to do sleep in the reactor: their CPU time stays flat while idle.
    const NAME: &str = "idle-check-wkr";
    let rt = Builder::new_multi_thread().worker_threads(2).thread_name(NAME).build().unwrap();
    rt.block_on(async { spawn(async {}).await.unwrap() });
    std::thread::sleep(Duration::from_millis(20));
    let (threads, before) = cpu_ticks_of_threads_named(NAME);
    assert_eq!(threads, 2);
    std::thread::sleep(Duration::from_millis(300));
    let (_, after) = cpu_ticks_of_threads_named(NAME);
    // 300 ms of spinning would be ~30 ticks (USER_HZ = 100); allow scheduler noise.
    assert!(after - before <= 3, "idle workers used {} ticks in 300 ms", after - before);
    drop(rt);
}
