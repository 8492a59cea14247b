//! `sync::OnceCell`: one initialisation among racing callers, `set` errors, failing and
//! cancelled initialisers let the next caller try, `take` / `into_inner`.

use executor::runtime::Builder;
use executor::sync::{OnceCell, SetError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio_test::{assert_pending, assert_ready, assert_ready_eq, task};

#[test]
fn get_or_init_runs_one_initialiser() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let (cell, runs) = (cell.clone(), runs.clone());
                executor::spawn(async move {
                    *cell
                        .get_or_init(|| async {
                            runs.fetch_add(1, Ordering::SeqCst);
                            executor::task::yield_now().await;
                            i
                        })
                        .await
                })
            })
            .collect();
        let mut values = Vec::new();
        for t in tasks {
            values.push(t.await.unwrap());
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(values.iter().all(|v| *v == values[0]));
    });
}

#[test]
fn set_reports_already_initialised_and_initialising() {
    let cell = OnceCell::new();
    let mut init = task::spawn(cell.get_or_init(std::future::pending::<u8>));
    assert_pending!(init.poll());
    assert_eq!(cell.set(1), Err(SetError::InitializingError(1)));
    drop(init); // a cancelled initialiser lets the next one in
    assert_eq!(cell.set(2), Ok(()));
    let err = cell.set(3).unwrap_err();
    assert!(err.is_already_init_err());
    assert_eq!(err.to_string(), "AlreadyInitializedError");
    assert_eq!(cell.get(), Some(&2));
    assert!(cell.initialized());
}

#[test]
fn a_failing_initialiser_lets_the_next_waiter_initialise() {
    let cell = OnceCell::<u8>::new();
    let mut failing = task::spawn(cell.get_or_try_init(|| async {
        executor::task::yield_now().await;
        Err::<u8, &str>("no")
    }));
    let mut waiting = task::spawn(cell.get_or_init(|| async { 7 }));
    // The first initialiser holds the right to initialise; yield_now makes it pending once.
    assert_pending!(failing.poll());
    assert_pending!(waiting.poll());
    assert_ready_eq!(failing.poll(), Err("no"));
    assert!(waiting.is_woken());
    assert_ready_eq!(waiting.poll(), &7);
}

#[test]
fn waiters_get_the_value_of_the_initialiser_they_waited_for() {
    let cell = OnceCell::new();
    let (tx, rx) = executor::sync::oneshot::channel();
    let mut init = task::spawn(cell.get_or_init(|| async { rx.await.unwrap() }));
    let mut waiter = task::spawn(cell.get_or_init(|| async { unreachable!("the first initialiser succeeds") }));
    assert_pending!(init.poll());
    assert_pending!(waiter.poll());
    tx.send(5).unwrap();
    assert_ready_eq!(init.poll(), &5);
    assert!(waiter.is_woken());
    assert_ready_eq!(waiter.poll(), &5);
}

#[test]
fn take_into_inner_and_constructors() {
    static CELL: OnceCell<u32> = OnceCell::const_new();
    assert!(CELL.get().is_none());
    let mut cell = OnceCell::from(1);
    assert_eq!(cell.get(), Some(&1));
    assert_eq!(cell.take(), Some(1));
    assert!(!cell.initialized());
    cell.set(2).unwrap();
    assert_eq!(cell.clone().into_inner(), Some(2));
    assert_eq!(OnceCell::new_with(Some(3)), OnceCell::from(3));
    assert_eq!(OnceCell::<u8>::new_with(None).into_inner(), None);
    assert_ready!(task::spawn(cell.get_or_init(|| async { 9 })).poll());
    assert_eq!(format!("{cell:?}"), "OnceCell { value: Some(2) }");
}

#[test]
fn the_value_is_dropped_with_the_cell() {
    let v = Arc::new(());
    let cell = OnceCell::new();
    cell.set(v.clone()).unwrap();
    assert_eq!(Arc::strong_count(&v), 2);
    drop(cell);
    assert_eq!(Arc::strong_count(&v), 1);
}
