//! Where an idle worker sleeps: in the driver if nobody else does, else on its own thread parker.
//!
//! At most one worker at a time sleeps in the driver (`EventPoll::harvest`): the one that won
//! the driver's try-lock. It is the runtime's only waiter on the `EventPoll`, so when the OS
//! reports readiness it returns, runs the tasks it woke and polls again — nothing is handed to
//! another thread (the `EventPoll`'s wait queue stays empty, as in tokio's design). Every other
//! idle worker sleeps on its own parker, and is woken only for work it can take.
//!
//! A worker's parker is one atomic word:
//!
//! ```text
//!              park: won the driver lock                 unpark: driver.unpark()
//!   EMPTY ────────────────────────────────▶ IN_DRIVER ─────────────────────────────┐
//!     │  park: the driver is taken                      unpark: thread.unpark()    ▼
//!     ├──────────────────────────────────▶ IN_THREAD ─────────────────────────▶ NOTIFIED
//!     │  unpark (not asleep: nothing to wake, no system call)                       │
//!     └─────────────────────────────────────────────────────────────────────────▶ │
//!   EMPTY ◀───────────────── park consumes the notification and returns ──────────┘
//! ```
//!
//! `unpark` swaps in `NOTIFIED` and wakes the sleeper the old state names, so a notification
//! sent before the worker sleeps is never lost (its `park` returns at once) and waking a
//! sleeping worker costs one system call: a futex wake, or, for the worker in the driver, one
//! user-event trigger of the `EventPoll` (an eventfd write, as that worker sleeps in the OS
//! poll). A park in the driver may also end with no notification at all (I/O, a timer); the
//! caller then decides from its queues and the idle set whether to park again.

use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use crate::loom::sync::Mutex;

#[cfg(loom)]
use loom::thread::{self, Thread};
#[cfg(not(loom))]
use std::thread::{self, Thread};

const EMPTY: usize = 0;
const IN_THREAD: usize = 1;
const IN_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// What a worker sleeps in when it holds the driver: the runtime's `Driver`, or a model of it.
pub(super) trait Sleep {
    /// Sleeps until an event, a timer or [`wake`](Sleep::wake).
    fn sleep(&self);
    /// Ends a [`sleep`](Sleep::sleep) in progress, or the next one.
    fn wake(&self);
}

/// The driver's try-lock: whoever holds it may sleep in (or poll) the driver.
#[derive(Default)]
pub(super) struct DriverLock(AtomicBool);

impl DriverLock {
    pub(super) fn try_lock(&self) -> Option<DriverGuard<'_>> {
        // Acquire: the previous holder's use of the driver happens before ours. (`then`, not
        // `then_some`: a guard built eagerly on failure would release another holder's lock.)
        (!self.0.swap(true, std::sync::atomic::Ordering::Acquire)).then(|| DriverGuard(self))
    }
}

pub(super) struct DriverGuard<'a>(&'a DriverLock);

impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        self.0 .0.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// One worker's parker.
pub(super) struct Parker {
    state: AtomicUsize,
    /// The thread that runs the worker, set by it before it first parks (so before anyone can
    /// see `IN_THREAD`). It changes when `block_in_place` hands the worker to another thread;
    /// the thread that gave it up never parks here again.
    thread: Mutex<Option<Thread>>,
}

impl Parker {
    pub(super) fn new() -> Parker {
        Parker { state: AtomicUsize::new(EMPTY), thread: Mutex::new(None) }
    }

    /// Records the calling thread as the one that parks here.
    pub(super) fn bind_current_thread(&self) {
        *self.thread.lock() = Some(thread::current());
    }

    /// Sleeps until [`unpark`](Self::unpark), in the driver if `lock` is free (where I/O and
    /// timers may end the sleep too), else on the thread. Returns at once if an `unpark`
    /// arrived since the last park.
    pub(super) fn park(&self, lock: &DriverLock, driver: &impl Sleep) {
        if self.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok() {
            return;
        }
        if let Some(_guard) = lock.try_lock() {
            if self.state.compare_exchange(EMPTY, IN_DRIVER, SeqCst, SeqCst).is_ok() {
                driver.sleep();
            }
            // Consumes a notification, or leaves IN_DRIVER for EMPTY (woken by I/O or a timer).
            self.state.swap(EMPTY, SeqCst);
            return;
        }
        if self.state.compare_exchange(EMPTY, IN_THREAD, SeqCst, SeqCst).is_err() {
            // Notified meanwhile.
            self.state.swap(EMPTY, SeqCst);
            return;
        }
        loop {
            thread::park();
            if self.state.compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst).is_ok() {
                return;
            }
            // A spurious return of `thread::park`: still IN_THREAD.
        }
    }

    /// Wakes the worker if it sleeps (one system call), or makes its next park return at once.
    pub(super) fn unpark(&self, driver: &impl Sleep) {
        match self.state.swap(NOTIFIED, SeqCst) {
            IN_DRIVER => driver.wake(),
            IN_THREAD => self.thread.lock().as_ref().expect("a worker binds its thread before it parks").unpark(),
            _ => {}
        }
    }

    /// Whether the worker sleeps on its thread parker (not in the driver): the cheaper one to
    /// wake for new work, as the one in the driver keeps listening to the OS.
    pub(super) fn sleeps_on_thread(&self) -> bool {
        self.state.load(SeqCst) == IN_THREAD
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_driver_lock_has_one_holder_and_a_failed_try_leaves_it_held() {
        let lock = DriverLock::default();
        let held = lock.try_lock().expect("free");
        assert!(lock.try_lock().is_none());
        assert!(lock.try_lock().is_none(), "a failed attempt must not release the holder's lock");
        drop(held);
        assert!(lock.try_lock().is_some());
    }
}

#[cfg(all(test, loom))]
pub(super) mod loom_tests {
    use super::*;
    use crate::loom::sync::{Arc, Mutex};

    /// The driver reduced to its wake-up contract: `wake` makes the current or next `sleep`
    /// return (the driver's edge-triggered unpark user event).
    pub(crate) struct FakeDriver {
        woken: Mutex<(bool, Option<Thread>)>,
    }

    impl Default for FakeDriver {
        fn default() -> FakeDriver {
            FakeDriver { woken: Mutex::new((false, None)) }
        }
    }

    impl Sleep for FakeDriver {
        fn sleep(&self) {
            loop {
                {
                    let mut st = self.woken.lock();
                    if std::mem::take(&mut st.0) {
                        st.1 = None;
                        return;
                    }
                    st.1 = Some(thread::current());
                }
                thread::park();
            }
        }

        fn wake(&self) {
            let sleeper = {
                let mut st = self.woken.lock();
                st.0 = true;
                st.1.take()
            };
            if let Some(t) = sleeper {
                t.unpark();
            }
        }
    }

    /// Two workers park (one ends up in the driver, one on its thread) while another thread
    /// unparks each once: both parks return, whatever the interleaving (loom reports a deadlock
    /// if an unpark can be lost).
    #[test]
    fn loom_an_unpark_is_never_lost_in_the_driver_or_on_the_thread() {
        loom::model(|| {
            let lock = Arc::new(DriverLock::default());
            let driver = Arc::new(FakeDriver::default());
            let parkers: Arc<[Parker; 2]> = Arc::new([Parker::new(), Parker::new()]);
            let workers: Vec<_> = (0..2)
                .map(|i| {
                    let (lock, driver, parkers) = (lock.clone(), driver.clone(), parkers.clone());
                    loom::thread::spawn(move || {
                        parkers[i].bind_current_thread();
                        parkers[i].park(&lock, &*driver);
                    })
                })
                .collect();
            parkers[0].unpark(&*driver);
            parkers[1].unpark(&*driver);
            for w in workers {
                w.join().unwrap();
            }
        });
    }
}
