//! The cooperative budget in `sync`: a task looping on a receive / acquire / lock that is always
//! ready still yields, so other tasks and timers run on a current-thread runtime. Each test
//! fails (the loop hits its bound) when the primitives bypass the budget.

use executor::runtime::Builder;
use executor::sync::{broadcast, mpsc, oneshot, watch, Mutex, Notify, RwLock, Semaphore};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// More operations than ten budgets: a budgeted loop yields long before this.
const BOUND: usize = 10 * 128;

/// Runs `$op` (an always-ready operation on `$state`) in a loop on a current-thread runtime and
/// asserts that a task spawned before the loop ran while the loop was still going.
macro_rules! assert_yields {
    ($name:ident, $state:ident = $setup:expr, $op:expr) => {
        #[test]
        fn $name() {
            let rt = Builder::new_current_thread().build().unwrap();
            rt.block_on(async {
                let other_ran = Arc::new(AtomicBool::new(false));
                let flag = other_ran.clone();
                executor::spawn(async move { flag.store(true, SeqCst) });
                #[allow(unused_mut)]
                let mut $state = $setup;
                let mut ops = 0;
                while !other_ran.load(SeqCst) {
                    $op;
                    ops += 1;
                    assert!(ops <= BOUND, "the other task never ran: the loop did not yield");
                }
            });
        }
    };
}

assert_yields!(bounded_recv, ch = mpsc::channel::<u8>(1), {
    ch.0.try_send(1).unwrap();
    ch.1.recv().await.unwrap();
});

assert_yields!(bounded_send, ch = mpsc::channel::<u8>(1), {
    ch.0.send(1).await.unwrap();
    ch.1.try_recv().unwrap();
});

assert_yields!(unbounded_recv_many, ch = (mpsc::unbounded_channel::<u8>(), Vec::new()), {
    (ch.0).0.send(1).unwrap();
    assert_eq!((ch.0).1.recv_many(&mut ch.1, 4).await, 1);
});

assert_yields!(mutex_lock, m = Mutex::new(0u64), {
    *m.lock().await += 1;
});

assert_yields!(rwlock_read_and_write, l = RwLock::new(0u64), {
    let _ = *l.read().await;
    *l.write().await += 1;
});

assert_yields!(semaphore_acquire, s = Semaphore::new(1), {
    drop(s.acquire().await.unwrap());
});

assert_yields!(notify_notified, n = Notify::new(), {
    n.notify_one();
    n.notified().await;
});

assert_yields!(oneshot_receive, _unit = (), {
    let (tx, rx) = oneshot::channel();
    tx.send(1u8).unwrap();
    rx.await.unwrap();
});

assert_yields!(broadcast_recv, ch = broadcast::channel::<u8>(4), {
    ch.0.send(1).unwrap();
    ch.1.recv().await.unwrap();
});

assert_yields!(watch_changed, ch = watch::channel(0u64), {
    ch.0.send_modify(|v| *v += 1);
    ch.1.changed().await.unwrap();
});

#[test]
fn an_always_ready_channel_lets_a_timer_fire() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        executor::spawn(async move {
            executor::time::sleep(Duration::from_millis(1)).await;
            flag.store(true, SeqCst);
        });
        let (tx, mut rx) = mpsc::unbounded_channel();
        // Without the budget the loop never yields and the timer never fires. The bound is
        // seconds of work, against a 1 ms timer.
        let mut ops = 0u64;
        while !fired.load(SeqCst) {
            tx.send(()).unwrap();
            rx.recv().await.unwrap();
            ops += 1;
            assert!(ops < 10_000_000, "a 1 ms timer never fired while the channel was always ready");
        }
    });
}
