//! `sync::Mutex`: exclusion, FIFO fairness, `try_lock`, owned and mapped guards, cancel safety
//! of `lock`, blocking use, and contention on a multi-thread runtime.

use executor::runtime::Builder;
use executor::sync::{Mutex, MutexGuard};
use std::sync::Arc;
use tokio_test::{assert_pending, assert_ready, task};

#[test]
fn lock_waits_for_the_guard_and_is_woken_by_its_drop() {
    let m = Mutex::new(1);
    let g = m.try_lock().unwrap();
    let mut lock = task::spawn(m.lock());
    assert_pending!(lock.poll());
    assert!(m.try_lock().is_err());
    drop(g);
    assert!(lock.is_woken());
    let mut g = assert_ready!(lock.poll());
    *g += 1;
    drop(g);
    drop(lock);
    assert_eq!(m.into_inner(), 2);
}

#[test]
fn waiters_get_the_lock_in_fifo_order_and_try_lock_does_not_jump_the_queue() {
    let m = Mutex::new(Vec::new());
    let g = m.try_lock().unwrap();
    let mut waiters: Vec<_> = (0..3).map(|_| task::spawn(m.lock())).collect();
    for w in &mut waiters {
        assert_pending!(w.poll());
    }
    drop(g);
    for (i, w) in waiters.iter_mut().enumerate() {
        // Queued waiters are owed the lock: try_lock cannot take it in between.
        assert!(m.try_lock().is_err());
        assert!(w.is_woken());
        let mut g = assert_ready!(w.poll());
        g.push(i);
    }
    assert_eq!(*m.try_lock().unwrap(), [0, 1, 2]);
}

#[test]
fn a_dropped_lock_future_that_was_handed_the_lock_passes_it_on() {
    let m = Mutex::new(());
    let g = m.try_lock().unwrap();
    let mut first = task::spawn(m.lock());
    let mut second = task::spawn(m.lock());
    assert_pending!(first.poll());
    assert_pending!(second.poll());
    drop(g); // the lock goes to `first`…
    assert!(first.is_woken());
    drop(first); // …which is cancelled before it runs
    assert!(second.is_woken());
    let g = assert_ready!(second.poll());
    drop(g);
    assert!(m.try_lock().is_ok(), "the lock was not lost");
}

#[test]
fn a_dropped_unwoken_lock_future_leaves_the_queue() {
    let m = Mutex::new(());
    let g = m.try_lock().unwrap();
    let mut first = task::spawn(m.lock());
    let mut second = task::spawn(m.lock());
    assert_pending!(first.poll());
    assert_pending!(second.poll());
    drop(first);
    drop(g);
    assert!(second.is_woken());
    let _g = assert_ready!(second.poll());
}

#[test]
fn owned_guard_and_mapped_guard() {
    let m = Arc::new(Mutex::new((1, String::from("a"))));
    let g = m.clone().try_lock_owned().unwrap();
    assert!(m.try_lock().is_err());
    drop(g);
    let mut owned = assert_ready!(task::spawn(m.clone().lock_owned()).poll());
    owned.0 = 5;
    drop(owned);
    let g = m.try_lock().unwrap();
    let mut s = MutexGuard::map(g, |v| &mut v.1);
    s.push('b');
    assert!(m.try_lock().is_err(), "a mapped guard keeps the lock");
    drop(s);
    assert_eq!(*m.try_lock().unwrap(), (5, String::from("ab")));
    let g = m.try_lock().unwrap();
    assert!(MutexGuard::try_map(g, |_| None::<&mut u8>).is_err());
}

#[test]
fn get_mut_debug_default_and_const_new() {
    static M: Mutex<u32> = Mutex::const_new(3);
    assert_eq!(*M.try_lock().unwrap(), 3);
    let mut m: Mutex<u8> = Mutex::default();
    *m.get_mut() = 4;
    assert_eq!(format!("{m:?}"), "Mutex { data: 4 }");
    let g = m.try_lock().unwrap();
    assert_eq!(format!("{:?}", Mutex::new(0)), "Mutex { data: 0 }");
    drop(g);
    let m = Mutex::new(1);
    let _g = m.try_lock().unwrap();
    assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
    assert_eq!(m.try_lock().unwrap_err().to_string(), "operation would block");
}

#[test]
fn a_panic_while_locked_does_not_poison() {
    let m = Arc::new(Mutex::new(0));
    let m2 = m.clone();
    let r = std::thread::spawn(move || {
        let _g = m2.blocking_lock();
        panic!("boom");
    })
    .join();
    assert!(r.is_err());
    assert_eq!(*m.blocking_lock(), 0);
}

#[test]
fn blocking_lock_from_a_thread_while_a_task_holds_it() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let m = Arc::new(Mutex::new(0));
    let guard = rt.block_on(m.clone().lock_owned());
    let m2 = m.clone();
    let t = std::thread::spawn(move || {
        *m2.blocking_lock() += 1;
    });
    rt.spawn(async move {
        executor::task::yield_now().await;
        drop(guard);
    });
    t.join().unwrap();
    assert_eq!(*m.blocking_lock(), 1);
}

#[test]
fn contended_increments_on_a_multi_thread_runtime() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let total = rt.block_on(async {
        let m = Arc::new(Mutex::new(0u64));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let m = m.clone();
                executor::spawn(async move {
                    for _ in 0..500 {
                        let mut g = m.lock().await;
                        let v = *g;
                        executor::task::yield_now().await; // held across an await
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let v = *m.lock().await;
        v
    });
    assert_eq!(total, 16 * 500);
}

#[test]
fn guards_and_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let m = Arc::new(Mutex::new(0u8));
    assert_send(&m.lock());
    assert_send(&m.clone().lock_owned());
    assert_send(&m.try_lock().unwrap());
}
