//! `sync::Barrier`: release after `n` arrivals, exactly one leader per generation, reuse.

use executor::runtime::Builder;
use executor::sync::Barrier;
use std::sync::Arc;
use tokio_test::{assert_pending, assert_ready, task};

#[test]
fn the_nth_arrival_releases_everyone_and_leads() {
    let b = Barrier::new(3);
    let mut first = task::spawn(b.wait());
    let mut second = task::spawn(b.wait());
    assert_pending!(first.poll());
    assert_pending!(second.poll());
    let third = assert_ready!(task::spawn(b.wait()).poll());
    assert!(third.is_leader());
    assert!(first.is_woken() && second.is_woken());
    assert!(!assert_ready!(first.poll()).is_leader());
    assert!(!assert_ready!(second.poll()).is_leader());
}

#[test]
fn the_barrier_is_reusable() {
    let b = Barrier::new(2);
    for _ in 0..3 {
        let mut a = task::spawn(b.wait());
        assert_pending!(a.poll());
        assert!(assert_ready!(task::spawn(b.wait()).poll()).is_leader());
        assert!(!assert_ready!(a.poll()).is_leader());
    }
}

#[test]
fn a_barrier_of_zero_or_one_never_waits() {
    for n in [0, 1] {
        let b = Barrier::new(n);
        assert!(assert_ready!(task::spawn(b.wait()).poll()).is_leader());
    }
}

#[test]
fn tasks_on_a_multi_thread_runtime_meet_each_round() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        const N: usize = 8;
        let barrier = Arc::new(Barrier::new(N));
        let tasks: Vec<_> = (0..N)
            .map(|_| {
                let b = barrier.clone();
                executor::spawn(async move {
                    let mut leader = 0;
                    for _ in 0..20 {
                        leader += b.wait().await.is_leader() as usize;
                    }
                    leader
                })
            })
            .collect();
        let mut leaders = 0;
        for t in tasks {
            leaders += t.await.unwrap();
        }
        assert_eq!(leaders, 20, "one leader per round");
    });
}

#[test]
fn futures_of_the_other_primitives_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let b = Barrier::new(2);
    assert_send(&b.wait());
    let s = Arc::new(executor::sync::Semaphore::new(1));
    assert_send(&s.acquire());
    assert_send(&s.clone().acquire_many_owned(1));
    let l = executor::sync::RwLock::new(0u8);
    assert_send(&l.read());
    assert_send(&l.write());
    let n = executor::sync::Notify::new();
    assert_send(&n.notified());
    let c = executor::sync::OnceCell::<u8>::new();
    assert_send(&c.get_or_init(|| async { 1 }));
    let (tx, mut rx) = executor::sync::broadcast::channel::<u8>(1);
    assert_send(&rx.recv());
    drop(tx);
    let (mut otx, orx) = executor::sync::oneshot::channel::<u8>();
    assert_send(&otx.closed());
    assert_send(&orx);
}
