//! `sync::Semaphore`: counting, fairness for large requests, permits (`forget`, `merge`,
//! `split`), close, `forget_permits`, cancel safety of `acquire`, cross-thread use.

use executor::runtime::Builder;
use executor::sync::{AcquireError, Semaphore, TryAcquireError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

#[test]
fn permits_are_counted_and_returned_on_drop() {
    let s = Semaphore::new(3);
    let a = s.try_acquire().unwrap();
    let b = s.try_acquire_many(2).unwrap();
    assert_eq!(s.available_permits(), 0);
    assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(b);
    assert_eq!(s.available_permits(), 2);
    drop(a);
    assert_eq!(s.available_permits(), 3);
}

#[test]
fn a_large_request_at_the_head_is_not_starved() {
    let s = Semaphore::new(1);
    let mut big = task::spawn(s.acquire_many(3));
    assert_pending!(big.poll());
    let mut small = task::spawn(s.acquire());
    assert_pending!(small.poll());
    s.add_permits(1);
    assert!(!small.is_woken(), "the small request waits behind the big one");
    s.add_permits(1);
    assert!(big.is_woken());
    let p = assert_ready_ok!(big.poll());
    assert_eq!(p.num_permits(), 3);
    drop(p);
    assert!(small.is_woken());
    let _p = assert_ready_ok!(small.poll());
}

#[test]
fn forget_merge_split() {
    let s = Semaphore::new(5);
    let mut a = s.try_acquire_many(2).unwrap();
    let b = s.try_acquire().unwrap();
    a.merge(b);
    assert_eq!(a.num_permits(), 3);
    let c = a.split(1).unwrap();
    assert!(a.split(5).is_none());
    c.forget();
    assert_eq!(s.available_permits(), 2);
    drop(a);
    assert_eq!(s.available_permits(), 4);
    assert_eq!(s.forget_permits(10), 4);
    assert_eq!(s.available_permits(), 0);
}

#[test]
#[should_panic(expected = "merging permits from different semaphore instances")]
fn merging_permits_of_two_semaphores_panics() {
    let (s1, s2) = (Semaphore::new(1), Semaphore::new(1));
    let mut a = s1.try_acquire().unwrap();
    a.merge(s2.try_acquire().unwrap());
}

#[test]
fn close_fails_waiters_and_later_acquires_but_held_permits_still_return() {
    let s = Arc::new(Semaphore::new(1));
    let held = s.try_acquire().unwrap();
    let mut waiting = task::spawn(s.acquire());
    assert_pending!(waiting.poll());
    s.close();
    assert!(s.is_closed());
    assert!(waiting.is_woken());
    assert_eq!(assert_ready_err!(waiting.poll()), AcquireError::default_for_test());
    assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert_ready_err!(task::spawn(s.clone().acquire_owned()).poll());
    drop(held);
    assert_eq!(s.available_permits(), 1);
    assert_eq!(TryAcquireError::Closed.to_string(), "semaphore closed");
    assert_eq!(TryAcquireError::NoPermits.to_string(), "no permits available");
}

/// `AcquireError` has no public constructor: get one from a closed semaphore.
trait DefaultForTest {
    fn default_for_test() -> Self;
}

impl DefaultForTest for AcquireError {
    fn default_for_test() -> Self {
        let s = Semaphore::new(0);
        s.close();
        let err = assert_ready!(task::spawn(s.acquire()).poll()).unwrap_err();
        assert_eq!(err.to_string(), "semaphore closed");
        err
    }
}

#[test]
fn a_cancelled_acquire_that_was_granted_gives_its_permits_to_the_next() {
    let s = Semaphore::new(0);
    let mut first = task::spawn(s.acquire_many(2));
    let mut second = task::spawn(s.acquire());
    assert_pending!(first.poll());
    assert_pending!(second.poll());
    s.add_permits(2); // all to `first`
    assert!(first.is_woken());
    assert!(!second.is_woken());
    drop(first);
    assert!(second.is_woken());
    assert_ready_ok!(second.poll()).forget();
    assert_eq!(s.available_permits(), 1, "1 of the 2 permits is left after `second` took one");
}

#[test]
fn owned_permits_and_const_new() {
    static S: Semaphore = Semaphore::const_new(2);
    assert_eq!(S.available_permits(), 2);
    assert_eq!(Semaphore::MAX_PERMITS, usize::MAX >> 3);
    let s = Arc::new(Semaphore::new(2));
    let p = s.clone().try_acquire_many_owned(2).unwrap();
    assert!(Arc::ptr_eq(p.semaphore(), &s));
    let mut w = task::spawn(s.clone().acquire_many_owned(1));
    assert_pending!(w.poll());
    drop(p);
    let _p = assert_ready_ok!(w.poll());
}

#[test]
fn at_most_n_tasks_run_at_once() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(3));
        let running = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (sem, running) = (sem.clone(), running.clone());
                executor::spawn(async move {
                    let _p = sem.acquire().await.unwrap();
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    assert!(now <= 3, "{now} tasks hold a permit of 3");
                    executor::task::yield_now().await;
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(sem.available_permits(), 3);
    });
}

#[test]
fn acquires_cancelled_by_timeouts_lose_no_permit() {
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let sem = Arc::new(Semaphore::new(2));
        let mut tasks = Vec::new();
        for i in 0..40u64 {
            let sem = sem.clone();
            tasks.push(executor::spawn(async move {
                // Some acquires give up (their future is dropped at the await), some succeed.
                let acquire = sem.acquire_many(1 + (i % 2) as u32);
                if let Ok(Ok(p)) = executor::time::timeout(std::time::Duration::from_millis(i % 3), acquire).await {
                    executor::time::sleep(std::time::Duration::from_millis(1)).await;
                    drop(p);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(sem.available_permits(), 2);
    });
}
