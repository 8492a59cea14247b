//! `sync::oneshot`: send / receive, dropped sender, closed receiver, `try_recv`, `closed`,
//! cancel safety, cross-thread use.

use executor::runtime::Builder;
use executor::sync::oneshot::{self, error::TryRecvError};
use tokio_test::{assert_pending, assert_ready, assert_ready_eq, task};

#[test]
fn send_then_receive() {
    let (tx, rx) = oneshot::channel();
    let mut rx = task::spawn(rx);
    assert_pending!(rx.poll());
    tx.send(5).unwrap();
    assert!(rx.is_woken());
    assert_ready_eq!(rx.poll(), Ok(5));
}

#[test]
fn a_dropped_sender_fails_the_receiver() {
    let (tx, rx) = oneshot::channel::<u8>();
    let mut rx = task::spawn(rx);
    assert_pending!(rx.poll());
    drop(tx);
    assert!(rx.is_woken());
    let err = assert_ready!(rx.poll()).unwrap_err();
    assert_eq!(err.to_string(), "channel closed");
}

#[test]
fn send_to_a_dropped_or_closed_receiver_returns_the_value() {
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));

    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(2), Err(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_value_sent_before_close_is_still_received() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(3).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn try_recv_states() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(1).unwrap();
    assert!(!rx.is_empty());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(rx.is_terminated());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(TryRecvError::Empty.to_string(), "channel empty");
    assert_eq!(TryRecvError::Closed.to_string(), "channel closed");
}

#[test]
fn closed_completes_when_the_receiver_goes() {
    let (mut tx, rx) = oneshot::channel::<u8>();
    let mut closed = task::spawn(tx.closed());
    assert_pending!(closed.poll());
    drop(rx);
    assert!(closed.is_woken());
    assert_ready!(closed.poll());
}

#[test]
fn closed_completes_on_close() {
    let (mut tx, mut rx) = oneshot::channel::<u8>();
    let mut closed = task::spawn(tx.closed());
    assert_pending!(closed.poll());
    rx.close();
    assert!(closed.is_woken());
    assert_ready!(closed.poll());
}

#[test]
fn a_dropped_pending_receive_future_loses_nothing() {
    let (tx, mut rx) = oneshot::channel();
    {
        // Poll through a reference so dropping the poll does not drop the receiver.
        let mut recv = task::spawn(&mut rx);
        assert_pending!(recv.poll());
    }
    tx.send(9).unwrap();
    assert_eq!(rx.try_recv(), Ok(9));
}

#[test]
#[should_panic(expected = "called after complete")]
fn polling_after_completion_panics() {
    let (tx, rx) = oneshot::channel();
    tx.send(()).unwrap();
    let mut rx = task::spawn(rx);
    let _ = rx.poll();
    let _ = rx.poll();
}

#[test]
fn cross_thread_on_a_multi_thread_runtime() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let sum = rt.block_on(async {
        let mut rxs = Vec::new();
        for i in 0..100u64 {
            let (tx, rx) = oneshot::channel();
            executor::spawn(async move { tx.send(i).unwrap() });
            rxs.push(rx);
        }
        let mut sum = 0;
        for rx in rxs {
            sum += rx.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 4950);
}

#[test]
fn blocking_recv_from_a_plain_thread() {
    let (tx, rx) = oneshot::channel();
    let t = std::thread::spawn(move || rx.blocking_recv());
    tx.send("v").unwrap();
    assert_eq!(t.join().unwrap(), Ok("v"));
}
