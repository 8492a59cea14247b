//! `sync::mpsc`: ordering, capacity, closing from either side, permits, weak senders, cancel
//! safety of `recv` / `send` / `reserve`, and cross-thread use on both runtime flavours.

use executor::runtime::Builder;
use executor::sync::mpsc::{self, error::SendError, error::TryRecvError, error::TrySendError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio_test::{assert_pending, assert_ready, assert_ready_eq, task};

#[test]
fn bounded_send_recv_in_order() {
    let (tx, mut rx) = mpsc::channel(4);
    for i in 0..4 {
        assert_ready!(task::spawn(tx.send(i)).poll()).unwrap();
    }
    for i in 0..4 {
        assert_ready_eq!(task::spawn(rx.recv()).poll(), Some(i));
    }
}

#[test]
#[should_panic(expected = "mpsc bounded channel requires buffer > 0")]
fn zero_capacity_panics() {
    let _ = mpsc::channel::<()>(0);
}

#[test]
fn a_full_channel_makes_send_wait_and_recv_wakes_it() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
    assert_eq!(tx.capacity(), 0);
    assert_eq!(tx.max_capacity(), 1);
    let mut send = task::spawn(tx.send(2));
    assert_pending!(send.poll());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(send.is_woken());
    assert_ready!(send.poll()).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn waiting_senders_are_served_in_fifo_order() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut sends: Vec<_> = (1..=3).map(|i| task::spawn(tx.send(i))).collect();
    for s in &mut sends {
        assert_pending!(s.poll());
    }
    for expect in 0..3 {
        assert_eq!(rx.try_recv(), Ok(expect));
        // Only the oldest waiting sender got the slot.
        let idx = expect as usize;
        assert!(sends[idx].is_woken());
        assert_ready!(sends[idx].poll()).unwrap();
        for later in &mut sends[idx + 1..] {
            assert_pending!(later.poll());
        }
    }
}

#[test]
fn receiver_sees_buffered_messages_after_every_sender_is_gone() {
    let (tx, mut rx) = mpsc::channel(8);
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    tx2.try_send(2).unwrap();
    drop(tx);
    let mut recv = task::spawn(rx.recv());
    assert_ready_eq!(recv.poll(), Some(1));
    drop(recv);
    drop(tx2);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_ready_eq!(task::spawn(rx.recv()).poll(), None);
    assert!(rx.is_closed());
}

#[test]
fn dropping_the_last_sender_wakes_a_waiting_receiver() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let mut recv = task::spawn(rx.recv());
    assert_pending!(recv.poll());
    drop(tx);
    assert!(recv.is_woken());
    assert_ready_eq!(recv.poll(), None);
}

#[test]
fn send_on_a_closed_channel_returns_the_value() {
    let (tx, rx) = mpsc::channel(1);
    drop(rx);
    assert!(tx.is_closed());
    let err = assert_ready!(task::spawn(tx.send(String::from("v"))).poll()).unwrap_err();
    assert_eq!(err, SendError(String::from("v")));
    assert_eq!(err.to_string(), "channel closed");
    assert!(matches!(tx.try_send(String::from("w")), Err(TrySendError::Closed(w)) if w == "w"));
    assert!(tx.try_reserve().is_err());
}

#[test]
fn receiver_drop_fails_waiting_senders_and_drops_the_queue() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(Counted(drops.clone())).unwrap();
    let mut send = task::spawn(tx.send(Counted(drops.clone())));
    assert_pending!(send.poll());
    drop(rx);
    assert!(send.is_woken());
    let err = assert_ready!(send.poll()).unwrap_err();
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the queued message is dropped with the receiver");
    drop(err);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn close_lets_queued_and_reserved_messages_through_then_ends() {
    let (tx, mut rx) = mpsc::channel(4);
    tx.try_send(1).unwrap();
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert!(tx.is_closed());
    assert!(rx.is_closed());
    assert!(matches!(tx.try_send(9), Err(TrySendError::Closed(9))));
    assert_eq!(rx.try_recv(), Ok(1));
    // A permit is outstanding: the receiver must wait for it, not end.
    let mut recv = task::spawn(rx.recv());
    assert_pending!(recv.poll());
    permit.send(2);
    assert!(recv.is_woken());
    assert_ready_eq!(recv.poll(), Some(2));
    drop(recv);
    assert_ready_eq!(task::spawn(rx.recv()).poll(), None);
}

#[test]
fn an_unused_permit_after_close_lets_the_receiver_end() {
    let (tx, mut rx) = mpsc::channel::<u8>(2);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    let mut recv = task::spawn(rx.recv());
    assert_pending!(recv.poll());
    drop(permit);
    assert!(recv.is_woken());
    assert_ready_eq!(recv.poll(), None);
}

#[test]
fn closed_completes_when_the_receiver_goes() {
    let (tx, rx) = mpsc::channel::<u8>(1);
    let mut closed = task::spawn(tx.closed());
    assert_pending!(closed.poll());
    drop(rx);
    assert!(closed.is_woken());
    assert_ready!(closed.poll());
}

#[test]
fn owned_permit_and_release() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = assert_ready!(task::spawn(tx.clone().reserve_owned()).poll()).unwrap();
    assert_eq!(tx.capacity(), 0);
    let tx2 = permit.release();
    assert_eq!(tx.capacity(), 1);
    let permit = tx2.try_reserve_owned().unwrap();
    let tx2 = permit.send(5);
    assert_eq!(rx.try_recv(), Ok(5));
    assert!(tx.same_channel(&tx2));
}

#[test]
fn weak_senders_do_not_keep_the_channel_open() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let weak = tx.downgrade();
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
    let tx2 = weak.upgrade().expect("a sender is alive");
    drop(tx);
    drop(tx2);
    assert!(weak.upgrade().is_none());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn recv_many_takes_up_to_the_limit() {
    let (tx, mut rx) = mpsc::channel(8);
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    let mut buf = Vec::new();
    assert_ready_eq!(task::spawn(rx.recv_many(&mut buf, 3)).poll(), 3);
    assert_ready_eq!(task::spawn(rx.recv_many(&mut buf, 0)).poll(), 0);
    assert_ready_eq!(task::spawn(rx.recv_many(&mut buf, 10)).poll(), 2);
    assert_eq!(buf, [0, 1, 2, 3, 4]);
    // Three slots came back per recv_many: the channel has room for all 8 again.
    assert_eq!(tx.capacity(), 8);
    drop(tx);
    assert_ready_eq!(task::spawn(rx.recv_many(&mut buf, 10)).poll(), 0);
}

#[test]
fn len_and_is_empty() {
    let (tx, rx) = mpsc::channel(4);
    assert!(rx.is_empty());
    tx.try_send(()).unwrap();
    tx.try_send(()).unwrap();
    assert_eq!(rx.len(), 2);
    assert!(!rx.is_empty());
}

// ---- cancel safety ------------------------------------------------------------------------

#[test]
fn a_dropped_pending_recv_loses_nothing() {
    let (tx, mut rx) = mpsc::channel(1);
    let mut recv = task::spawn(rx.recv());
    assert_pending!(recv.poll());
    tx.try_send(7).unwrap();
    assert!(recv.is_woken());
    drop(recv); // woken but never polled again
    assert_eq!(rx.try_recv(), Ok(7));
}

#[test]
fn a_dropped_pending_send_passes_its_slot_to_the_next_sender() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut first = task::spawn(tx.send(1));
    let mut second = task::spawn(tx.send(2));
    assert_pending!(first.poll());
    assert_pending!(second.poll());
    assert_eq!(rx.try_recv(), Ok(0)); // the slot is assigned to `first`
    assert!(first.is_woken());
    drop(first); // …which is dropped before it sends
    assert!(second.is_woken());
    assert_ready!(second.poll()).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.capacity(), 1, "no slot was lost");
}

#[test]
fn a_dropped_reserve_gives_back_its_slot() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    tx.try_send(0).unwrap();
    let mut reserve = task::spawn(tx.reserve());
    assert_pending!(reserve.poll());
    assert_eq!(rx.try_recv(), Ok(0));
    drop(reserve);
    assert_eq!(tx.capacity(), 1);
}

// ---- unbounded ----------------------------------------------------------------------------

#[test]
fn unbounded_send_never_waits_and_closes_like_bounded() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..10_000 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 10_000);
    rx.close();
    assert_eq!(tx.send(1).unwrap_err().0, 1);
    let mut n = 0;
    while let Ok(v) = rx.try_recv() {
        assert_eq!(v, n);
        n += 1;
    }
    assert_eq!(n, 10_000);
    assert_ready_eq!(task::spawn(rx.recv()).poll(), None);
}

#[test]
fn unbounded_weak_sender() {
    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    let weak = tx.downgrade();
    weak.upgrade().unwrap().send(3).unwrap();
    drop(tx);
    assert!(weak.upgrade().is_none());
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn error_texts_are_tokios() {
    assert_eq!(TrySendError::Full(()).to_string(), "no available capacity");
    assert_eq!(TrySendError::Closed(()).to_string(), "channel closed");
    assert_eq!(TryRecvError::Empty.to_string(), "receiving on an empty channel");
    assert_eq!(TryRecvError::Disconnected.to_string(), "receiving on a closed channel");
    // Debug needs no `T: Debug`, so `.unwrap()` works on any message type.
    struct Opaque;
    assert_eq!(format!("{:?}", SendError(Opaque)), "SendError { .. }");
    assert_eq!(format!("{:?}", TrySendError::Full(Opaque)), "\"Full(..)\"", "tokio prints the quotes");
}

// ---- on runtimes ----------------------------------------------------------------------------

fn many_producers(rt: executor::Runtime) {
    const PRODUCERS: u64 = 8;
    const EACH: u64 = 2_000;
    let sum = rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(16);
        for p in 0..PRODUCERS {
            let tx = tx.clone();
            executor::spawn(async move {
                for i in 0..EACH {
                    tx.send(p * EACH + i).await.unwrap();
                }
            });
        }
        drop(tx);
        let mut sum = 0;
        let mut last = vec![None::<u64>; PRODUCERS as usize];
        while let Some(v) = rx.recv().await {
            // Each producer's messages arrive in its order.
            let p = (v / EACH) as usize;
            assert!(last[p].is_none_or(|l| l < v));
            last[p] = Some(v);
            sum += v;
        }
        sum
    });
    let n = PRODUCERS * EACH;
    assert_eq!(sum, n * (n - 1) / 2);
}

#[test]
fn many_producers_current_thread() {
    many_producers(Builder::new_current_thread().build().unwrap());
}

#[test]
fn many_producers_multi_thread() {
    many_producers(Builder::new_multi_thread().worker_threads(2).build().unwrap());
}

#[test]
fn blocking_send_and_recv_from_plain_threads() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let (tx, mut rx) = mpsc::channel(2);
    let producer = std::thread::spawn(move || {
        for i in 0..100 {
            tx.blocking_send(i).unwrap();
        }
    });
    let (back_tx, mut back_rx) = mpsc::unbounded_channel();
    rt.spawn(async move {
        while let Some(v) = rx.recv().await {
            back_tx.send(v * 2).unwrap();
        }
    });
    let mut got = Vec::new();
    while let Some(v) = back_rx.blocking_recv() {
        got.push(v);
    }
    producer.join().unwrap();
    assert_eq!(got, (0..100).map(|i| i * 2).collect::<Vec<_>>());
}

#[test]
#[should_panic(expected = "cannot block the current thread from within a runtime")]
fn blocking_recv_inside_a_runtime_panics() {
    let rt = Builder::new_current_thread().build().unwrap();
    let (_tx, mut rx) = mpsc::channel::<u8>(1);
    rt.block_on(async move {
        let _ = rx.blocking_recv();
    });
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    assert_send(&tx.send(1));
    assert_send(&tx.reserve());
    assert_send(&rx.recv());
    let (utx, mut urx) = mpsc::unbounded_channel::<u8>();
    assert_send(&utx.closed());
    assert_send(&urx.recv());
}

#[test]
fn receives_cancelled_by_timeouts_lose_no_message() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let got = rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(4);
        executor::spawn(async move {
            for i in 0..500u32 {
                tx.send(i).await.unwrap();
                if i % 7 == 0 {
                    executor::time::sleep(std::time::Duration::from_millis(1)).await;
                }
            }
        });
        let mut got = Vec::new();
        loop {
            // Many of these time out: the `recv` future is dropped while pending.
            match executor::time::timeout(std::time::Duration::ZERO, rx.recv()).await {
                Ok(Some(v)) => got.push(v),
                Ok(None) => break got,
                Err(_) => executor::task::yield_now().await,
            }
        }
    });
    assert_eq!(got, (0..500).collect::<Vec<_>>());
}
