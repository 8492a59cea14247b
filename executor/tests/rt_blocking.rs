//! `spawn_blocking` and the blocking pool, through the public API: results, panics, the runtime
//! context, the thread bound and FIFO queue, keep-alive, thread names, abort and shutdown.

use executor::runtime::{Builder, Handle, Runtime};
use executor::task::{spawn, spawn_blocking};
use executor::time::sleep;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

fn rt() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn rt_with(max_blocking_threads: usize) -> Runtime {
    Builder::new_current_thread().enable_all().max_blocking_threads(max_blocking_threads).build().unwrap()
}

/// Awaits `fut` on a fresh runtime (for handles whose own runtime is gone).
fn block_on_elsewhere<F: Future>(fut: F) -> F::Output {
    rt().block_on(fut)
}

/// A closure that reports it started, then blocks until `release` is used (or dropped).
fn blocker(started: mpsc::Sender<()>) -> (impl FnOnce() + Send + 'static, mpsc::Sender<()>) {
    let (release, gate) = mpsc::channel::<()>();
    let f = move || {
        started.send(()).unwrap();
        let _ = gate.recv();
    };
    (f, release)
}

#[test]
fn the_closures_result_is_returned() {
    let rt = rt();
    let out = rt.block_on(async {
        let a = spawn_blocking(|| 40).await.unwrap();
        let b = Handle::current().spawn_blocking(|| 2).await.unwrap();
        a + b
    });
    assert_eq!(out, 42);
    assert_eq!(rt.block_on(rt.spawn_blocking(|| "from the runtime".to_string())).unwrap(), "from the runtime");
}

#[test]
fn the_closure_runs_on_another_thread() {
    let rt = rt();
    let me = std::thread::current().id();
    let there = rt.block_on(rt.spawn_blocking(|| std::thread::current().id())).unwrap();
    assert_ne!(there, me);
}

#[test]
fn a_panicking_closure_yields_a_panic_join_error() {
    let rt = rt();
    let err = rt.block_on(async { spawn_blocking(|| -> u32 { panic!("boom in a blocking closure") }).await.unwrap_err() });
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom in a blocking closure");
    // The pool thread survived the panic and keeps serving.
    assert_eq!(rt.block_on(rt.spawn_blocking(|| 1)).unwrap(), 1);
}

#[test]
fn closures_run_in_the_runtime_context() {
    let rt = rt();
    let out = rt.block_on(async {
        spawn_blocking(|| {
            // `spawn`, `Handle::current`, `block_on` and timers all work from a blocking closure.
            let h = spawn(async { 20 });
            let handle = Handle::current();
            let inner = handle.block_on(async {
                sleep(Duration::from_millis(1)).await;
                h.await.unwrap() + 1
            });
            let nested = handle.block_on(spawn_blocking(|| 21)).unwrap();
            inner + nested
        })
        .await
        .unwrap()
    });
    assert_eq!(out, 42);
}

#[test]
fn pool_threads_carry_the_builders_thread_name() {
    let rt = Builder::new_current_thread().thread_name("my-blocking").build().unwrap();
    let name = rt.block_on(rt.spawn_blocking(|| std::thread::current().name().map(str::to_owned))).unwrap();
    assert_eq!(name.as_deref(), Some("my-blocking"));
}

#[test]
fn more_closures_than_max_blocking_threads_all_complete_with_at_most_max_running_at_once() {
    const MAX: usize = 3;
    let rt = rt_with(MAX);
    let running = Arc::new(AtomicUsize::new(0));
    let high_water = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let sum = rt.block_on(async {
        let handles: Vec<_> = (0..30usize)
            .map(|i| {
                let (running, high_water, done) = (running.clone(), high_water.clone(), done.clone());
                spawn_blocking(move || {
                    let now = running.fetch_add(1, SeqCst) + 1;
                    high_water.fetch_max(now, SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    running.fetch_sub(1, SeqCst);
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
    assert_eq!(sum, (0..30).sum::<usize>());
    assert_eq!(done.load(SeqCst), 30);
    let hw = high_water.load(SeqCst);
    assert!(hw <= MAX, "{hw} closures ran at once with max_blocking_threads({MAX})");
    assert!(hw >= 2, "closures that sleep should overlap (high-water mark {hw})");
}

#[test]
fn closures_queued_behind_busy_threads_run_in_fifo_order() {
    let rt = rt_with(1);
    let (started_tx, started) = mpsc::channel();
    let (f, release) = blocker(started_tx);
    let first = rt.spawn_blocking(f);
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let queued: Vec<_> = (0..10)
        .map(|i| {
            let order = order.clone();
            rt.spawn_blocking(move || order.lock().unwrap().push(i))
        })
        .collect();
    release.send(()).unwrap();
    rt.block_on(async {
        first.await.unwrap();
        for h in queued {
            h.await.unwrap();
        }
    });
    assert_eq!(*order.lock().unwrap(), (0..10).collect::<Vec<_>>());
}

/// The number of this process's threads named `name` (Linux: `/proc/self/task/*/comm`).
#[cfg(target_os = "linux")]
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn idle_threads_exit_after_the_keep_alive() {
    const NAME: &str = "rtb-keepalive";
    let rt = Builder::new_current_thread().thread_name(NAME).thread_keep_alive(Duration::from_millis(50)).build().unwrap();
    let gate = Arc::new(std::sync::Barrier::new(3));
    let hs: Vec<_> = (0..3)
        .map(|_| {
            let gate = gate.clone();
            rt.spawn_blocking(move || {
                gate.wait();
            })
        })
        .collect();
    rt.block_on(async {
        for h in hs {
            h.await.unwrap();
        }
    });
    // Three closures waited for each other, so three threads ran them.
    assert_eq!(threads_named(NAME), 3);
    let deadline = Instant::now() + Duration::from_secs(10);
    while threads_named(NAME) > 0 {
        assert!(Instant::now() < deadline, "idle blocking threads did not exit after their keep-alive");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The runtime still works: a new thread is started on demand.
    assert_eq!(rt.block_on(rt.spawn_blocking(|| 3)).unwrap(), 3);
}

#[test]
fn shutdown_timeout_returns_within_the_timeout_when_a_closure_is_stuck() {
    let rt = rt();
    let (started_tx, started) = mpsc::channel();
    let (f, release) = blocker(started_tx);
    let finished = Arc::new(AtomicBool::new(false));
    let fin = finished.clone();
    let stuck = rt.spawn_blocking(move || {
        f();
        fin.store(true, SeqCst);
        "finished after all"
    });
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let start = Instant::now();
    rt.shutdown_timeout(Duration::from_millis(100));
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(90), "shutdown_timeout returned before its timeout ({took:?}) with a closure running");
    assert!(took < Duration::from_secs(5), "shutdown_timeout waited {took:?} for a stuck closure");
    assert!(!finished.load(SeqCst));
    // The detached thread finishes the closure once released; its result still arrives.
    release.send(()).unwrap();
    assert_eq!(block_on_elsewhere(stuck).unwrap(), "finished after all");
    assert!(finished.load(SeqCst));
}

#[test]
fn shutdown_timeout_returns_as_soon_as_running_closures_finish() {
    let rt = rt();
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let (started_tx, started) = mpsc::channel();
    rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        d.store(true, SeqCst);
    });
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let start = Instant::now();
    rt.shutdown_timeout(Duration::from_secs(30));
    assert!(done.load(SeqCst), "shutdown_timeout waits for a running closure");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn shutdown_background_does_not_wait_for_a_stuck_closure() {
    let rt = rt();
    let (started_tx, started) = mpsc::channel();
    let (f, release) = blocker(started_tx);
    rt.spawn_blocking(f);
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let start = Instant::now();
    rt.shutdown_background();
    assert!(start.elapsed() < Duration::from_secs(2));
    drop(release);
}

#[test]
fn dropping_the_runtime_waits_for_running_closures() {
    let rt = rt();
    let done = Arc::new(AtomicUsize::new(0));
    let (started_tx, started) = mpsc::channel();
    for _ in 0..2 {
        let (done, started_tx) = (done.clone(), started_tx.clone());
        rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(30));
            done.fetch_add(1, SeqCst);
        });
    }
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    drop(rt);
    assert_eq!(done.load(SeqCst), 2);
}

#[test]
fn dropping_the_runtime_cancels_closures_that_have_not_started() {
    let rt = rt_with(1);
    let (started_tx, started) = mpsc::channel();
    let (f, release) = blocker(started_tx);
    let running = rt.spawn_blocking(f);
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    // The only thread is busy: these wait in the queue.
    let ran = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let queued: Vec<_> = (0..3)
        .map(|_| {
            let (ran, guard) = (ran.clone(), DropCount(dropped.clone()));
            rt.spawn_blocking(move || {
                let _guard = guard;
                ran.fetch_add(1, SeqCst);
            })
        })
        .collect();
    // Let the running closure finish shortly, while the drop waits for it.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        release.send(()).unwrap();
    });
    drop(rt);
    releaser.join().unwrap();
    assert_eq!(ran.load(SeqCst), 0, "a queued closure ran after the runtime was dropped");
    assert_eq!(dropped.load(SeqCst), 3, "the queued closures are dropped by the shutdown");
    block_on_elsewhere(async {
        running.await.unwrap();
        for h in queued {
            assert!(h.await.unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn a_runtime_dropped_by_one_of_its_own_blocking_closures_does_not_wait_for_itself() {
    let rt = Arc::new(Mutex::new(Some(rt())));
    let slot = rt.clone();
    let guard = rt.lock().unwrap();
    let h = guard.as_ref().unwrap().spawn_blocking(move || {
        let start = Instant::now();
        drop(slot.lock().unwrap().take());
        start.elapsed()
    });
    drop(guard);
    let took = block_on_elsewhere(h).unwrap();
    assert!(took < Duration::from_secs(5), "the drop waited {took:?} for the thread running it");
    assert!(rt.lock().unwrap().is_none());
}

#[test]
fn spawn_blocking_after_shutdown_returns_a_cancelled_handle() {
    let rt = rt();
    let handle = rt.handle().clone();
    drop(rt);
    let dropped = Arc::new(AtomicUsize::new(0));
    let guard = DropCount(dropped.clone());
    let h = handle.spawn_blocking(move || {
        let _guard = guard;
        unreachable!("ran after shutdown")
    });
    assert_eq!(dropped.load(SeqCst), 1, "the closure is dropped at once");
    assert!(block_on_elsewhere(h).unwrap_err().is_cancelled());
}

#[test]
fn abort_cancels_a_queued_closure() {
    let rt = rt_with(1);
    let (started_tx, started) = mpsc::channel();
    let (f, release) = blocker(started_tx);
    let running = rt.spawn_blocking(f);
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let queued = rt.spawn_blocking(move || r.store(true, SeqCst));
    queued.abort();
    release.send(()).unwrap();
    rt.block_on(async {
        running.await.unwrap();
        assert!(queued.await.unwrap_err().is_cancelled());
        // A later closure runs after the aborted one would have: the abort is settled.
        spawn_blocking(|| ()).await.unwrap();
    });
    assert!(!ran.load(SeqCst));
}

#[test]
fn abort_does_not_interrupt_a_running_closure() {
    let rt = rt();
    let (started_tx, started) = mpsc::channel();
    let (f, release) = blocker(started_tx);
    let h = rt.spawn_blocking(move || {
        f();
        7
    });
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    h.abort();
    release.send(()).unwrap();
    assert_eq!(rt.block_on(h).unwrap(), 7, "a closure that ran to completion keeps its output");
}

#[test]
fn spawn_blocking_outside_a_runtime_panics_with_the_spawn_message() {
    let blocking = std::panic::catch_unwind(|| drop(spawn_blocking(|| ()))).unwrap_err();
    let async_spawn = std::panic::catch_unwind(|| drop(spawn(async {}))).unwrap_err();
    let msg = |p: &Box<dyn std::any::Any + Send>| p.downcast_ref::<String>().cloned().unwrap();
    assert_eq!(msg(&blocking), msg(&async_spawn));
    assert!(msg(&blocking).contains("there is no runtime running"));
}

#[test]
#[should_panic(expected = "max_blocking_threads cannot be 0")]
fn max_blocking_threads_of_zero_is_refused() {
    Builder::new_current_thread().max_blocking_threads(0);
}

#[test]
fn many_short_closures_from_many_tasks_all_complete() {
    let rt = rt_with(8);
    let total = rt.block_on(async {
        let tasks: Vec<_> =
            (0..50u64).map(|t| spawn(async move { (0..20u64).map(|i| spawn_blocking(move || t * 20 + i)).collect::<Vec<_>>() })).collect();
        let mut total = 0;
        for t in tasks {
            for h in t.await.unwrap() {
                total += h.await.unwrap();
            }
        }
        total
    });
    assert_eq!(total, (0..1000u64).sum::<u64>());
}

struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}
