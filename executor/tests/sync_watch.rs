//! `sync::watch`: latest value, version tracking (`changed`, `has_changed`, `mark_*`), the
//! `send_*` family, closing from either side, `wait_for`, cross-thread use.

use executor::runtime::Builder;
use executor::sync::watch;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

#[test]
fn changed_waits_for_a_new_value_and_marks_it_seen() {
    let (tx, mut rx) = watch::channel(0);
    let mut changed = task::spawn(rx.changed());
    assert_pending!(changed.poll());
    tx.send(1).unwrap();
    assert!(changed.is_woken());
    assert_ready_ok!(changed.poll());
    drop(changed);
    assert_eq!(*rx.borrow(), 1);
    assert!(!rx.has_changed().unwrap());
    assert_pending!(task::spawn(rx.changed()).poll());
}

#[test]
fn borrow_vs_borrow_and_update() {
    let (tx, mut rx) = watch::channel("a");
    tx.send("b").unwrap();
    assert!(rx.borrow().has_changed());
    assert!(rx.has_changed().unwrap(), "borrow does not mark seen");
    let r = rx.borrow_and_update();
    assert!(r.has_changed());
    assert_eq!(*r, "b");
    drop(r);
    assert!(!rx.has_changed().unwrap());
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
}

#[test]
fn send_fails_without_receivers_but_send_replace_does_not() {
    let (tx, rx) = watch::channel(1);
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(2).unwrap_err().0, 2);
    assert_eq!(*tx.borrow(), 1);
    assert_eq!(tx.send_replace(3), 1);
    let rx = tx.subscribe();
    assert_eq!(*rx.borrow(), 3);
    assert!(!rx.has_changed().unwrap(), "a new receiver has seen the current value");
}

#[test]
fn send_modify_and_send_if_modified() {
    let (tx, mut rx) = watch::channel(vec![1]);
    tx.send_modify(|v| v.push(2));
    assert!(rx.has_changed().unwrap());
    rx.mark_unchanged();
    assert!(!tx.send_if_modified(|_| false));
    assert!(!rx.has_changed().unwrap(), "no notification without a modification");
    assert!(tx.send_if_modified(|v| {
        v.push(3);
        true
    }));
    assert_eq!(*rx.borrow_and_update(), [1, 2, 3]);
}

#[test]
fn dropping_every_sender_closes_after_the_last_unseen_value() {
    let (tx, mut rx) = watch::channel(0);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    drop(tx2);
    assert!(rx.has_changed().is_err());
    // The unseen value is still reported once…
    assert_ready_ok!(task::spawn(rx.changed()).poll());
    // …then the channel is closed.
    let err = assert_ready_err!(task::spawn(rx.changed()).poll());
    assert_eq!(err.to_string(), "channel closed");
}

#[test]
fn a_waiting_changed_is_woken_by_the_last_sender_drop() {
    let (tx, mut rx) = watch::channel(0);
    let mut changed = task::spawn(rx.changed());
    assert_pending!(changed.poll());
    drop(tx);
    assert!(changed.is_woken());
    assert_ready_err!(changed.poll());
}

#[test]
fn sender_closed_completes_when_every_receiver_is_gone() {
    let (tx, rx) = watch::channel(());
    let rx2 = rx.clone();
    assert_eq!(tx.receiver_count(), 2);
    let mut closed = task::spawn(tx.closed());
    assert_pending!(closed.poll());
    drop(rx);
    assert_pending!(closed.poll());
    drop(rx2);
    assert!(closed.is_woken());
    assert_ready!(closed.poll());
}

#[test]
fn wait_for_checks_the_current_value_first() {
    let (tx, mut rx) = watch::channel(5);
    assert_eq!(*assert_ready_ok!(task::spawn(rx.wait_for(|v| *v == 5)).poll()), 5);
    let mut wait = task::spawn(rx.wait_for(|v| *v > 10));
    assert_pending!(wait.poll());
    tx.send(7).unwrap();
    assert!(wait.is_woken());
    assert_pending!(wait.poll());
    tx.send(11).unwrap();
    assert_eq!(*assert_ready_ok!(wait.poll()), 11);
    drop(wait);
    assert!(!rx.has_changed().unwrap());
    drop(tx);
    assert_ready_err!(task::spawn(rx.wait_for(|v| *v > 100)).poll());
}

#[test]
fn a_dropped_pending_changed_loses_nothing() {
    let (tx, mut rx) = watch::channel(0);
    let mut changed = task::spawn(rx.changed());
    assert_pending!(changed.poll());
    tx.send(1).unwrap();
    drop(changed);
    assert!(rx.has_changed().unwrap());
}

#[test]
fn a_receiver_on_another_thread_sees_the_last_value() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let (tx, mut rx) = watch::channel(0u64);
        let reader = executor::spawn(async move {
            let mut last = 0;
            while rx.changed().await.is_ok() {
                let v = *rx.borrow_and_update();
                assert!(v >= last, "values go forward");
                last = v;
            }
            last
        });
        for i in 1..=1000 {
            tx.send(i).unwrap();
            if i % 50 == 0 {
                executor::task::yield_now().await;
            }
        }
        drop(tx);
        assert_eq!(reader.await.unwrap(), 1000);
    });
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (tx, mut rx) = watch::channel(0u8);
    assert_send(&tx.closed());
    assert_send(&rx.changed());
    assert_send(&rx.wait_for(|_| true));
}
