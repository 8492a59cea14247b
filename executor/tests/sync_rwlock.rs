//! `sync::RwLock`: shared readers, exclusive writers, FIFO fairness (a queued writer holds back
//! later readers), `with_max_readers`, downgrade, owned and mapped guards, cancel safety.

use executor::runtime::Builder;
use executor::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::sync::Arc;
use tokio_test::{assert_pending, assert_ready, task};

#[test]
fn readers_share_writers_exclude() {
    let l = RwLock::new(0);
    let r1 = l.try_read().unwrap();
    let r2 = assert_ready!(task::spawn(l.read()).poll());
    assert!(l.try_write().is_err());
    let mut w = task::spawn(l.write());
    assert_pending!(w.poll());
    drop(r1);
    assert!(!w.is_woken());
    drop(r2);
    assert!(w.is_woken());
    let mut g = assert_ready!(w.poll());
    *g = 1;
    assert!(l.try_read().is_err());
    drop(g);
    assert_eq!(*l.try_read().unwrap(), 1);
}

#[test]
fn a_queued_writer_holds_back_later_readers() {
    let l = RwLock::new(());
    let r = l.try_read().unwrap();
    let mut w = task::spawn(l.write());
    assert_pending!(w.poll());
    let mut late_reader = task::spawn(l.read());
    assert_pending!(late_reader.poll());
    assert!(l.try_read().is_err(), "try_read does not overtake the queued writer");
    drop(r);
    assert!(w.is_woken());
    let g = assert_ready!(w.poll());
    assert!(!late_reader.is_woken());
    drop(g);
    assert!(late_reader.is_woken());
    let _g = assert_ready!(late_reader.poll());
}

#[test]
fn max_readers_bounds_concurrent_reads() {
    let l = RwLock::with_max_readers(0, 2);
    let a = l.try_read().unwrap();
    let _b = l.try_read().unwrap();
    assert!(l.try_read().is_err());
    let mut c = task::spawn(l.read());
    assert_pending!(c.poll());
    drop(a);
    assert!(c.is_woken());
    let _g = assert_ready!(c.poll());
}

#[test]
#[should_panic(expected = "a RwLock may not be created with more than")]
fn too_many_max_readers_panics() {
    let _ = RwLock::with_max_readers((), u32::MAX);
}

#[test]
fn downgrade_admits_queued_readers_but_not_writers() {
    let l = RwLock::new(1);
    let w = l.try_write().unwrap();
    let mut reader = task::spawn(l.read());
    assert_pending!(reader.poll());
    let r = RwLockWriteGuard::downgrade(w);
    assert_eq!(*r, 1);
    assert!(reader.is_woken());
    drop(assert_ready!(reader.poll()));
    assert!(l.try_write().is_err());
    drop(r);
    assert!(l.try_write().is_ok());
}

#[test]
fn a_dropped_write_future_that_held_some_permits_gives_them_back() {
    let l = RwLock::with_max_readers((), 4);
    let r = l.try_read().unwrap();
    let mut w = task::spawn(l.write()); // takes the 3 free permits, waits for the 4th
    assert_pending!(w.poll());
    let mut reader = task::spawn(l.read());
    assert_pending!(reader.poll());
    drop(w);
    assert!(reader.is_woken());
    drop(assert_ready!(reader.poll()));
    drop(r);
    assert!(l.try_write().is_ok(), "every permit came back");
}

#[test]
fn mapped_and_owned_guards() {
    let l = Arc::new(RwLock::new((1, 2)));
    let r = RwLockReadGuard::map(l.try_read().unwrap(), |v| &v.1);
    assert_eq!(*r, 2);
    drop(r);
    let mut w = RwLockWriteGuard::map(l.try_write().unwrap(), |v| &mut v.0);
    *w = 10;
    assert!(l.try_read().is_err());
    drop(w);
    let r = l.clone().try_read_owned().unwrap();
    assert_eq!(*r, (10, 2));
    assert!(l.clone().try_write_owned().is_err());
    drop(r);
    let mut w = assert_ready!(task::spawn(l.clone().write_owned()).poll());
    w.1 = 20;
    let r = w.downgrade();
    assert_eq!(*r, (10, 20));
    assert!(l.try_read().is_ok());
}

#[test]
fn readers_and_writers_on_a_multi_thread_runtime() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let l = Arc::new(RwLock::new((0u64, 0u64)));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let w = l.clone();
            tasks.push(executor::spawn(async move {
                for _ in 0..200 {
                    let mut g = w.write().await;
                    g.0 += 1;
                    executor::task::yield_now().await;
                    g.1 += 1;
                }
            }));
            let r = l.clone();
            tasks.push(executor::spawn(async move {
                for _ in 0..200 {
                    let g = r.read().await;
                    assert_eq!(g.0, g.1, "a reader saw a half-done write");
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*l.read().await, (800, 800));
    });
}
