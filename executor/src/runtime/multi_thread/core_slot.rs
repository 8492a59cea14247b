//! Where a worker's core waits while no thread runs it, and who parks for the worker.
//!
//! A worker index is served by whichever thread took its core out of the slot (see
//! `worker.rs`: the launch thread, or — after a `block_in_place` hand-off — a blocking-pool
//! thread, or the handing thread taking it back). That thread parks on the worker's parker, so
//! taking the core also binds the parker to the taker, under the slot's lock:
//!
//! ```text
//!   A: put(core) ─────────────┐            B: take ── bind(B) ── runs, hands off: put(core)
//!   A: f() … take ── bind(A) ◀┘ (or None: B has it, A leaves)     B: take ── None: B leaves
//! ```
//!
//! The binds happen in the order of the takes, so the parker always names the thread that holds
//! the core; an `unpark` (which reads the binding when the state says the worker sleeps on its
//! thread) wakes the thread that actually sleeps. Taking a core back without re-binding lost a
//! wake-up: the parker still named the thread that had run the core meanwhile (caught by
//! `rt_block_in_place`'s many-tasks test and by the loom model below).

use super::park::Parker;
use crate::loom::sync::Mutex;

/// A worker's core while no thread runs it.
pub(super) struct CoreSlot<T>(Mutex<Option<T>>);

impl<T> CoreSlot<T> {
    pub(super) fn new(core: Option<T>) -> CoreSlot<T> {
        CoreSlot(Mutex::new(core))
    }

    /// Leaves the core for another thread (or for a later `take` by this one).
    pub(super) fn put(&self, core: T) {
        let previous = self.0.lock().replace(core);
        debug_assert!(previous.is_none(), "two cores for one worker");
    }

    /// Takes the core, if it waits here, and binds the worker's `parker` to this thread: it now
    /// runs the worker and is the thread to wake.
    pub(super) fn take(&self, parker: &Parker) -> Option<T> {
        let mut slot = self.0.lock();
        let core = slot.take()?;
        parker.bind_current_thread();
        drop(slot);
        Some(core)
    }

    /// Takes the core to drop it (shutdown): nobody will run the worker again.
    pub(super) fn discard(&self) -> Option<T> {
        self.0.lock().take()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::super::park::loom_tests::FakeDriver;
    use super::super::park::{DriverLock, Parker};
    use super::CoreSlot;
    use crate::loom::sync::Arc;

    /// Thread A hands its core off; thread B takes it and hands it off again (a nested
    /// `block_in_place`); each takes it back if it can, and the one holding it at the end parks
    /// on its own thread (another worker holds the driver). One `unpark` from a third thread
    /// must reach it, whoever it is: loom reports a deadlock if the parker names the wrong
    /// thread (mutation-checked: `take` without `bind_current_thread` fails).
    #[test]
    fn loom_the_thread_that_holds_a_handed_off_core_is_the_one_woken() {
        loom::model(|| {
            let slot = Arc::new(CoreSlot::new(None));
            let parker = Arc::new(Parker::new());
            let lock = Arc::new(DriverLock::default());
            let driver = Arc::new(FakeDriver::default());
            // Another worker sleeps in the driver: parks here go to the thread parker.
            let _driver_held = lock.try_lock().expect("free");
            parker.bind_current_thread();
            slot.put(0u8);
            let b = {
                let (slot, parker, lock, driver) = (slot.clone(), parker.clone(), lock.clone(), driver.clone());
                loom::thread::spawn(move || {
                    if let Some(core) = slot.take(&parker) {
                        slot.put(core);
                        if slot.take(&parker).is_some() {
                            parker.park(&lock, &*driver);
                        }
                    }
                })
            };
            let waker = {
                let (parker, driver) = (parker.clone(), driver.clone());
                loom::thread::spawn(move || parker.unpark(&*driver))
            };
            if slot.take(&parker).is_some() {
                parker.park(&lock, &*driver);
            }
            b.join().unwrap();
            waker.join().unwrap();
        });
    }
}
