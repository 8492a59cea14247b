//! loom model of `Notify`: a `notify_one` racing with a waiter that is cancelled (dropped
//! after one poll) and a waiter that blocks. **No notification is lost**: the one sent is
//! either consumed by the cancelled waiter's poll (then the model sends another), or it
//! reaches the blocked waiter — directly, as the stored permit, or passed on by the drop of the
//! cancelled waiter it had been given to. Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p eventpoll-executor --lib --release loom_notify
//! ```
//!
//! Mutation tried: `Notified::drop` not passing a `One` notification on (the model deadlocks:
//! the blocked waiter is never woken).

use super::Notify;
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Waker};

#[test]
fn loom_notify_one_vs_a_cancelled_waiter() {
    loom::model(|| {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let cancelled = thread::spawn(move || {
            let mut f = pin!(n.notified());
            f.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_ready()
            // Dropped here, maybe after `notify_one` chose it.
        });
        let n = notify.clone();
        let blocked = thread::spawn(move || block_on(n.notified()));
        notify.notify_one();
        if cancelled.join().unwrap() {
            // The cancelled waiter consumed the notification: the blocked one needs another.
            notify.notify_one();
        }
        blocked.join().unwrap();
    });
}
