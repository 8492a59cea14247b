//! `sync::broadcast`: every receiver sees every value, lagging, closing, `len`, resubscribe,
//! cancel safety of `recv`, and fan-out on a multi-thread runtime.

use executor::runtime::Builder;
use executor::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio_test::{assert_pending, assert_ready, assert_ready_eq, task};

#[test]
fn every_receiver_sees_every_value() {
    let (tx, mut a) = broadcast::channel(4);
    let mut b = tx.subscribe();
    assert_eq!(tx.send(1).unwrap(), 2);
    assert_eq!(tx.send(2).unwrap(), 2);
    assert_eq!(a.try_recv(), Ok(1));
    assert_eq!(a.try_recv(), Ok(2));
    assert_eq!(a.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(b.try_recv(), Ok(1));
    assert_eq!(b.try_recv(), Ok(2));
}

#[test]
fn a_waiting_receiver_is_woken_by_send() {
    let (tx, mut rx) = broadcast::channel(2);
    let mut recv = task::spawn(rx.recv());
    assert_pending!(recv.poll());
    tx.send("x").unwrap();
    assert!(recv.is_woken());
    assert_ready_eq!(recv.poll(), Ok("x"));
}

#[test]
fn a_slow_receiver_lags_then_resumes_at_the_oldest_value() {
    let (tx, mut rx) = broadcast::channel(2);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Ok(4));
    for i in 5..9 {
        tx.send(i).unwrap();
    }
    let mut recv = task::spawn(rx.recv());
    assert_ready_eq!(recv.poll(), Err(RecvError::Lagged(2)));
    assert_eq!(RecvError::Lagged(2).to_string(), "channel lagged by 2");
}

#[test]
fn closed_after_the_last_sender_and_every_value_read() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    let mut recv = task::spawn(rx.recv());
    assert_ready_eq!(recv.poll(), Ok(1));
    drop(recv);
    let mut recv = task::spawn(rx.recv());
    assert_pending!(recv.poll());
    drop(tx2);
    assert!(recv.is_woken());
    assert_ready_eq!(recv.poll(), Err(RecvError::Closed));
    drop(recv);
    assert!(rx.is_closed());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn send_without_receivers_returns_the_value() {
    let (tx, rx) = broadcast::channel(1);
    drop(rx);
    assert_eq!(tx.send(5).unwrap_err().0, 5);
    let mut rx = tx.subscribe();
    assert_eq!(tx.receiver_count(), 1);
    tx.send(6).unwrap();
    assert_eq!(rx.try_recv(), Ok(6));
}

#[test]
fn len_counts_values_some_receiver_has_not_read() {
    let (tx, mut a) = broadcast::channel(8);
    let mut b = tx.subscribe();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(tx.len(), 2);
    a.try_recv().unwrap();
    a.try_recv().unwrap();
    assert_eq!(tx.len(), 2, "b has not read them");
    assert_eq!(b.len(), 2);
    b.try_recv().unwrap();
    assert_eq!(tx.len(), 1);
    drop(b); // a dropped receiver no longer holds values back
    assert!(tx.is_empty());
}

#[test]
fn resubscribe_starts_at_the_tail() {
    let (tx, mut rx) = broadcast::channel(4);
    tx.send(1).unwrap();
    let mut rx2 = rx.resubscribe();
    tx.send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx2.try_recv(), Ok(2));
}

#[test]
fn a_dropped_pending_recv_loses_nothing() {
    let (tx, mut rx) = broadcast::channel(2);
    let mut recv = task::spawn(rx.recv());
    assert_pending!(recv.poll());
    tx.send(1).unwrap();
    assert!(recv.is_woken());
    drop(recv);
    assert_eq!(rx.try_recv(), Ok(1));
}

#[test]
fn values_are_dropped_once_every_receiver_read_them() {
    use std::sync::Arc;
    let v = Arc::new(());
    let (tx, mut rx) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    tx.send(v.clone()).unwrap();
    drop(rx.try_recv().unwrap());
    assert_eq!(Arc::strong_count(&v), 2, "rx2 has not read it yet");
    drop(rx2.try_recv().unwrap());
    assert_eq!(Arc::strong_count(&v), 1);
}

#[test]
fn fan_out_on_a_multi_thread_runtime() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let (tx, _) = broadcast::channel(1024);
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let mut rx = tx.subscribe();
                executor::spawn(async move {
                    let mut sum = 0u64;
                    loop {
                        match rx.recv().await {
                            Ok(v) => sum += v,
                            Err(RecvError::Closed) => return sum,
                            Err(RecvError::Lagged(n)) => panic!("lagged by {n} with room for all"),
                        }
                    }
                })
            })
            .collect();
        for i in 0..1000u64 {
            tx.send(i).unwrap();
            if i % 100 == 0 {
                executor::task::yield_now().await;
            }
        }
        drop(tx);
        for r in receivers {
            assert_eq!(r.await.unwrap(), 499_500);
        }
    });
}

#[test]
#[should_panic(expected = "broadcast channel capacity cannot be zero")]
fn zero_capacity_panics() {
    let _ = broadcast::channel::<u8>(0);
}

#[test]
fn recv_is_cancel_safe_under_assert_ready() {
    let (tx, mut rx) = broadcast::channel(1);
    tx.send(1).unwrap();
    assert_eq!(assert_ready!(task::spawn(rx.recv()).poll()), Ok(1));
}
