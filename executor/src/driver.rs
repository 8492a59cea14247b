//! The driver: where a runtime thread parks, and what wakes it.
//!
//! Every park goes through the reactor's [`EventPoll`]: the thread calls
//! [`EventPoll::harvest`] with a timeout that is the nearest timer deadline. Three things end
//! the park, all of them harvested events or the timeout:
//!
//! ```text
//!   another thread: Unpark::unpark() ── UserEvent::trigger ──┐  (no syscall unless asleep)
//!   an fd becomes ready (net crate) ── OS event ─────────────┤
//!                                                            ▼
//!   park(timeout) ── EventPoll::harvest(max, min(timeout, next timer)) ──▶ dispatch
//!                                                            │
//!   the nearest timer deadline passes ───────────────────────┘ ──▶ fire expired timers
//! ```
//!
//! There is no second poller beside the `EventPoll`: timers set its timeout, wake-ups are its
//! user events, I/O readiness is its harvest.

use crate::io::registry::Registry;
use crate::io::{Interest, Ready};
use crate::time::timers::Timers;
use reactor::{CtlOp, EpollEvent, EventPoll, Events, UserEvent};
use std::cell::Cell;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

/// The data of the unpark user event (edge-triggered: "look again").
const UNPARK: u64 = u64::MAX;

/// The data of the worker wake-up user event (counting: each trigger wakes one parked worker).
const WAKE_WORKER: u64 = u64::MAX - 1;

/// Events harvested per park.
const HARVEST: usize = 256;

/// A runtime's driver. `park` is called by one thread at a time (the scheduler guarantees it);
/// `unpark` and the timer methods from any thread.
pub(crate) struct Driver {
    ep: EventPoll,
    unpark: Arc<UserEvent>,
    wake_worker: UserEvent,
    timers: Timers,
    registry: Registry,
}

thread_local! {
    /// The wakers a park collects while dispatching (kept between parks: no allocation).
    static WAKE_LIST: Cell<Vec<Waker>> = const { Cell::new(Vec::new()) };
}

/// Wakes a thread parked in [`Driver::park`], from any thread.
#[derive(Clone)]
pub(crate) struct Unpark(Arc<UserEvent>);

impl Unpark {
    pub(crate) fn unpark(&self) {
        self.0.trigger();
    }
}

impl Driver {
    /// A driver whose timers are spread over `shards` wheels (one per worker).
    pub(crate) fn new(shards: usize) -> io::Result<Driver> {
        let ep = EventPoll::new()?;
        let unpark = Arc::new(ep.user_event(UNPARK)?);
        let wake_worker = ep.user_semaphore(WAKE_WORKER)?;
        let timers = Timers::new(shards, Unpark(unpark.clone()));
        Ok(Driver { ep, unpark, wake_worker, timers, registry: Registry::new() })
    }

    /// Registers `fd` on the `EventPoll` (edge-triggered) for `interest`; returns its token and
    /// readiness record.
    pub(crate) fn register(&self, fd: RawFd, interest: Interest) -> io::Result<(u64, crate::loom::sync::Arc<crate::io::ScheduledIo>)> {
        let (token, io) = self.registry.insert()?;
        if let Err(e) = self.ep.ctl(CtlOp::Add, fd, Some(EpollEvent::new(interest.to_events(), token))) {
            self.registry.remove(token);
            return Err(e);
        }
        Ok((token, io))
    }

    /// Deletes `fd`'s registration from the `EventPoll`, then from the registry (the caller
    /// closes the fd after this returns).
    pub(crate) fn deregister(&self, fd: RawFd, token: u64) {
        // ENOENT / EBADF here mean the fd was already closed or re-registered by its owner;
        // nothing is left to delete.
        let _ = self.ep.ctl(CtlOp::Del, fd, None);
        self.registry.remove(token);
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Fails every pending and later readiness poll of this runtime's registrations (they
    /// outlive the runtime only if held outside it) and refuses new registrations.
    pub(crate) fn shutdown_io(&self) {
        self.registry.shutdown();
    }

    /// Wakes exactly one thread parked in [`park`](Self::park) (a counting user event: `n`
    /// calls wake `n` parked threads, one each, whenever they park).
    pub(crate) fn wake_one_worker(&self) {
        self.wake_worker.trigger();
    }

    pub(crate) fn unpark_handle(&self) -> Unpark {
        Unpark(self.unpark.clone())
    }

    pub(crate) fn timers(&self) -> &Timers {
        &self.timers
    }

    /// Sleeps until unparked, an event arrives, a timer expires or `timeout` passes
    /// (`Some(ZERO)` only collects what is ready), then wakes what is due. Several threads may
    /// park at once: they queue on the `EventPoll`'s wait queue. Returns whether this park
    /// consumed a [`wake_one_worker`](Self::wake_one_worker) wake-up.
    pub(crate) fn park(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let (timeout, parked) = self.timers.begin_park(timeout);
        let mut worker_woken = false;
        let mut wake = WAKE_LIST.take();
        let mut registry = None;
        let res = self.ep.harvest(HARVEST, timeout, |events: Events, data| match data {
            UNPARK => {}
            WAKE_WORKER => worker_woken = true,
            token => {
                // The registry is locked once per harvest, on its first I/O event. Wakers are
                // woken after the harvest: `f` runs under the EventPoll's mutex, and a woken
                // task could otherwise be dropped there and deregister on this instance.
                let registry = registry.get_or_insert_with(|| self.registry.lock());
                registry.dispatch(token, Ready::from_events(events), &mut wake);
            }
        });
        drop(registry);
        // Leave the parked set and take the expired timers; wake everything after the locks.
        self.timers.end_park(parked, &mut wake);
        wake.drain(..).for_each(Waker::wake);
        WAKE_LIST.set(wake);
        match res {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        Ok(worker_woken)
    }
}
