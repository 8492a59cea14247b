//! loom models of the semaphore under `Mutex`, `RwLock`, `Semaphore` and the bounded `mpsc`
//! (protocol steps 2–4 of `batch_semaphore.rs`): acquire (fast path, queue), release and the
//! cancellation of a pending acquire, racing. Each checks that **no permit is lost** (the
//! count at the end is the count at the start) and **no waiter is stranded** (a `block_on`
//! that is never woken is a loom deadlock). Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p eventpoll-executor --lib --release loom_semaphore
//! ```
//!
//! Mutations these models catch (each was tried, and each model named failed with it):
//! * `cancel` forgetting the permits of a `Granted` node (returning 0 instead of `requested`):
//!   `loom_release_vs_cancel_vs_acquire` ends with 0 permits / deadlocks.
//! * `poll_acquire` queueing without re-reading the counter under the lock (skipping the
//!   partial take): `loom_acquire_vs_release` strands the acquirer (deadlock).

use super::batch_semaphore::Semaphore;
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// An acquire that finds no permit races with the release that would satisfy it: either the
/// fast path sees the permit, or the queued waiter is found by the release.
#[test]
fn loom_acquire_vs_release() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let waiter = thread::spawn(move || {
            block_on(s.acquire(1)).unwrap();
            s.release(1);
        });
        sem.release(1);
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

/// One permit, held by the main thread. A second thread queues an acquire and drops it (maybe
/// after the permit was granted to it); a third waits for the permit. The release, the cancel
/// and the wait race: the permit must reach the third thread and come back.
#[test]
fn loom_release_vs_cancel_vs_acquire() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        sem.try_acquire(1).unwrap();

        let s1 = sem.clone();
        let canceller = thread::spawn(move || {
            let mut acq = pin!(s1.acquire(1));
            if let Poll::Ready(res) = poll_once(acq.as_mut()) {
                res.unwrap();
                s1.release(1);
            }
            // Dropped here: pending (queued, maybe granted meanwhile) or completed.
        });
        let s2 = sem.clone();
        let waiter = thread::spawn(move || {
            block_on(s2.acquire(1)).unwrap();
            s2.release(1);
        });

        sem.release(1);
        canceller.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

/// A partial waiter (needs 2, is assigned 1) is cancelled while a release tops it up; a
/// waiter for 1 behind it must still get through, and both permits must come back.
#[test]
fn loom_partial_waiter_cancelled_during_release() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let s1 = sem.clone();
        let big = thread::spawn(move || {
            let mut acq = pin!(s1.acquire(2));
            if let Poll::Ready(res) = poll_once(acq.as_mut()) {
                res.unwrap();
                s1.release(2);
            }
        });
        let s2 = sem.clone();
        let small = thread::spawn(move || {
            block_on(s2.acquire(1)).unwrap();
            s2.release(1);
        });
        sem.release(1);
        big.join().unwrap();
        small.join().unwrap();
        assert_eq!(sem.available_permits(), 2);
    });
}

/// Close races with a queued acquire and a release: the acquire ends (granted or closed), and
/// the permit is accounted for either way.
#[test]
fn loom_close_vs_acquire_vs_release() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let s = sem.clone();
        let waiter = thread::spawn(move || {
            if block_on(s.acquire(1)).is_ok() {
                s.release(1);
            }
        });
        let s = sem.clone();
        let releaser = thread::spawn(move || s.release(1));
        sem.close();
        waiter.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
        assert!(sem.is_closed());
    });
}
