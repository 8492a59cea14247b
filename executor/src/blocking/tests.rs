//! White-box tests of the blocking pool: thread counts, keep-alive and injected spawn failures.

use crate::runtime::{Builder, Runtime};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn rt(max: usize, keep_alive: Duration) -> Runtime {
    Builder::new_current_thread().enable_all().max_blocking_threads(max).thread_keep_alive(keep_alive).build().unwrap()
}

/// Polls `cond` every millisecond for up to 10 s.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn no_thread_is_started_before_the_first_spawn_blocking() {
    let rt = rt(4, Duration::from_secs(10));
    assert_eq!(rt.handle().blocking.num_threads(), 0);
    assert_eq!(rt.block_on(rt.spawn_blocking(|| 7)).unwrap(), 7);
    assert_eq!(rt.handle().blocking.num_threads(), 1);
}

#[test]
fn an_idle_thread_is_reused_rather_than_a_new_one_started() {
    let rt = rt(8, Duration::from_secs(10));
    for i in 0..20 {
        assert_eq!(rt.block_on(rt.spawn_blocking(move || i)).unwrap(), i);
        // The thread that ran it goes idle; the next closure is handed to it.
        wait_until("the thread is idle", || rt.handle().blocking.num_idle() == 1);
    }
    assert_eq!(rt.handle().blocking.num_threads(), 1);
}

#[test]
fn idle_threads_exit_after_the_keep_alive() {
    let rt = rt(8, Duration::from_millis(50));
    let (release, gate) = mpsc::channel::<()>();
    let gate = Arc::new(std::sync::Mutex::new(gate));
    let (started_tx, started) = mpsc::channel();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let gate = gate.clone();
            let started_tx = started_tx.clone();
            rt.spawn_blocking(move || {
                started_tx.send(()).unwrap();
                gate.lock().unwrap().recv().unwrap();
            })
        })
        .collect();
    for _ in 0..4 {
        started.recv_timeout(Duration::from_secs(10)).unwrap();
    }
    assert_eq!(rt.handle().blocking.num_threads(), 4, "four closures blocked at once need four threads");
    // No thread can be idle before this instant, so none may exit before it plus the keep-alive.
    let released_at = Instant::now();
    for _ in 0..4 {
        release.send(()).unwrap();
    }
    for h in handles {
        rt.block_on(h).unwrap();
    }
    wait_until("every idle thread exited", || rt.handle().blocking.num_threads() == 0);
    assert!(released_at.elapsed() >= Duration::from_millis(50), "threads exited before their keep-alive");
    assert_eq!(rt.handle().blocking.num_idle(), 0);
    // The pool starts threads again afterwards.
    assert_eq!(rt.block_on(rt.spawn_blocking(|| 5)).unwrap(), 5);
}

#[test]
fn a_failed_spawn_with_no_thread_alive_keeps_the_task_queued_until_the_next_spawn_blocking() {
    let rt = rt(4, Duration::from_secs(10));
    let pool = rt.handle().blocking.clone();
    pool.fail_next_spawns(1);
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let first = rt.spawn_blocking(move || r.store(true, SeqCst));
    assert_eq!(pool.num_threads(), 0, "the injected failure started no thread");
    assert_eq!(pool.queue_len(), 1, "the task is kept, not lost");
    std::thread::sleep(Duration::from_millis(20));
    assert!(!ran.load(SeqCst));
    // The next spawn_blocking retries: its thread (or a second one) runs both, in FIFO order.
    let second = rt.spawn_blocking(|| 2);
    rt.block_on(async {
        first.await.unwrap();
        assert_eq!(second.await.unwrap(), 2);
    });
    assert!(ran.load(SeqCst));
    assert_eq!(pool.queue_len(), 0);
}

#[test]
fn a_failed_spawn_while_threads_are_busy_is_run_by_a_busy_thread_when_it_is_free() {
    let rt = rt(4, Duration::from_secs(10));
    let pool = rt.handle().blocking.clone();
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let busy = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap();
    });
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    // Every spawn fails from now on: the queued tasks can only be run by the busy thread.
    pool.fail_next_spawns(usize::MAX);
    let queued: Vec<_> = (0..3).map(|i| rt.spawn_blocking(move || i * 10)).collect();
    assert_eq!(pool.num_threads(), 1);
    assert_eq!(pool.queue_len(), 3);
    release.send(()).unwrap();
    rt.block_on(async {
        busy.await.unwrap();
        for (i, h) in queued.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i * 10);
        }
    });
    assert_eq!(pool.num_threads(), 1);
    pool.fail_next_spawns(0);
}

#[test]
fn a_failed_spawn_is_retried_when_a_thread_becomes_free() {
    let rt = rt(4, Duration::from_secs(10));
    let pool = rt.handle().blocking.clone();
    let (release, gate) = mpsc::channel::<()>();
    let gate = Arc::new(std::sync::Mutex::new(gate));
    let (started_tx, started) = mpsc::channel();
    let blocker = |gate: Arc<std::sync::Mutex<mpsc::Receiver<()>>>, started_tx: mpsc::Sender<()>| {
        move || {
            started_tx.send(()).unwrap();
            gate.lock().unwrap().recv().unwrap();
        }
    };
    let first = rt.spawn_blocking(blocker(gate.clone(), started_tx.clone()));
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    // Two more blocking closures: both spawns fail, both stay queued behind the busy thread.
    pool.fail_next_spawns(2);
    let second = rt.spawn_blocking(blocker(gate.clone(), started_tx.clone()));
    let third = rt.spawn_blocking(blocker(gate.clone(), started_tx.clone()));
    assert_eq!((pool.num_threads(), pool.queue_len()), (1, 2));
    // The busy thread frees up, pops the second and starts a thread for the third: both then
    // block at once, which needs two threads.
    release.send(()).unwrap();
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(pool.num_threads(), 2);
    release.send(()).unwrap();
    release.send(()).unwrap();
    rt.block_on(async {
        first.await.unwrap();
        second.await.unwrap();
        third.await.unwrap();
    });
}

#[test]
fn shutdown_joins_idle_threads() {
    let rt = rt(4, Duration::from_secs(10));
    let pool = rt.handle().blocking.clone();
    rt.block_on(async {
        let hs: Vec<_> = (0..3).map(|_| rt.spawn_blocking(|| std::thread::sleep(Duration::from_millis(20)))).collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    assert!(pool.num_threads() >= 1);
    let start = Instant::now();
    drop(rt);
    assert_eq!(pool.num_threads(), 0, "dropping the runtime waits for idle threads to exit");
    assert!(start.elapsed() < Duration::from_secs(5), "idle threads are woken, not waited out");
}
