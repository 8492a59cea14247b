//! `sync::Notify`: tokio's semantics for `notify_one` (one stored permit), `notify_waiters`
//! (only futures that exist), `enable`, FIFO / LIFO order, cancel safety, cross-thread use.

use executor::runtime::Builder;
use executor::sync::Notify;
use std::pin::pin;
use std::sync::Arc;
use tokio_test::{assert_pending, assert_ready, task};

#[test]
fn notify_one_without_a_waiter_stores_one_permit() {
    let n = Notify::new();
    n.notify_one();
    n.notify_one();
    assert_ready!(task::spawn(n.notified()).poll());
    assert_pending!(task::spawn(n.notified()).poll(), "permits do not accumulate");
}

#[test]
fn notify_one_wakes_the_oldest_waiter_and_notify_last_the_newest() {
    let n = Notify::new();
    let mut a = task::spawn(n.notified());
    let mut b = task::spawn(n.notified());
    let mut c = task::spawn(n.notified());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_pending!(c.poll());
    n.notify_one();
    assert!(a.is_woken() && !b.is_woken() && !c.is_woken());
    n.notify_last();
    assert!(c.is_woken() && !b.is_woken());
    assert_ready!(a.poll());
    assert_ready!(c.poll());
    assert_pending!(b.poll());
}

#[test]
fn notify_waiters_wakes_existing_futures_only_and_stores_nothing() {
    let n = Notify::new();
    let mut waiting = task::spawn(n.notified());
    assert_pending!(waiting.poll());
    let mut created = task::spawn(n.notified()); // exists, never polled
    n.notify_waiters();
    let mut later = task::spawn(n.notified());
    assert!(waiting.is_woken());
    assert_ready!(waiting.poll());
    assert_ready!(created.poll());
    assert_pending!(later.poll(), "notify_waiters leaves no permit");
}

#[test]
fn enable_registers_for_notify_one_before_the_first_poll() {
    let n = Notify::new();
    let mut f = pin!(n.notified());
    assert!(!f.as_mut().enable());
    n.notify_one(); // taken by the enabled future, not stored
    assert_pending!(task::spawn(n.notified()).poll());
    assert!(f.as_mut().enable());
    let mut f = task::spawn(f);
    assert_ready!(f.poll());
}

#[test]
fn a_dropped_notified_that_received_notify_one_passes_it_on() {
    let n = Notify::new();
    let mut a = task::spawn(n.notified());
    assert_pending!(a.poll());
    n.notify_one();
    drop(a);
    // Nobody else waits: the notification becomes the stored permit.
    assert_ready!(task::spawn(n.notified()).poll());
}

#[test]
fn a_dropped_notified_from_notify_waiters_does_not_pass_anything_on() {
    let n = Notify::new();
    let mut a = task::spawn(n.notified());
    assert_pending!(a.poll());
    n.notify_waiters();
    drop(a);
    assert_pending!(task::spawn(n.notified()).poll());
}

#[test]
fn ping_pong_across_threads() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let ping = Arc::new(Notify::new());
        let pong = Arc::new(Notify::new());
        let (p, q) = (ping.clone(), pong.clone());
        let other = executor::spawn(async move {
            for _ in 0..1000 {
                p.notified().await;
                q.notify_one();
            }
        });
        for _ in 0..1000 {
            ping.notify_one();
            pong.notified().await;
        }
        other.await.unwrap();
    });
}

#[test]
fn notify_waiters_reaches_many_waiters() {
    let n = Notify::new();
    let mut waiters: Vec<_> = (0..100).map(|_| task::spawn(n.notified())).collect();
    for w in &mut waiters {
        assert_pending!(w.poll());
    }
    n.notify_waiters();
    for w in &mut waiters {
        assert!(w.is_woken());
        assert_ready!(w.poll());
    }
}
