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
//!
//! With the runtime's clock paused (`time::pause`), a park that would sleep looks at the
//! `EventPoll` without sleeping instead and, if nothing at all was harvested, sets the clock to
//! the nearest timer and fires it: the auto-advance of `time/clock.rs`.

use crate::io::registry::Registry;
use crate::io::{Interest, Ready};
use crate::time::clock::Clock;
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

/// Most events harvested per park (the schedulers ask for fewer when their queues are fuller).
pub(crate) const HARVEST: usize = 256;

/// A runtime's driver. `park` is called by one thread at a time (the scheduler guarantees it);
/// `unpark` and the timer methods from any thread.
pub(crate) struct Driver {
    ep: EventPoll,
    unpark: Arc<UserEvent>,
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
    /// A driver whose timers are spread over `shards` wheels (one per worker) and read `clock`.
    pub(crate) fn new(shards: usize, clock: Clock) -> io::Result<Driver> {
        let clock = Arc::new(clock);
        let ep = EventPoll::new()?;
        let unpark = Arc::new(ep.user_event(UNPARK)?);
        let wake = unpark.clone();
        let timers = Timers::new(shards, Box::new(move || wake.trigger()), clock);
        Ok(Driver { ep, unpark, timers, registry: Registry::new() })
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

    /// The reactor instance (its metrics and fdinfo, for the runtime's introspection).
    pub(crate) fn eventpoll(&self) -> &EventPoll {
        &self.ep
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Fails every pending and later readiness poll of this runtime's registrations (they
    /// outlive the runtime only if held outside it) and refuses new registrations.
    pub(crate) fn shutdown_io(&self) {
        self.registry.shutdown();
    }

    /// Fails every pending and later timer of this runtime (held outside it, or polled by a
    /// `Handle::block_on` after the shutdown): their polls panic instead of waiting for ever.
    pub(crate) fn shutdown_timers(&self) {
        self.timers.shutdown().into_iter().for_each(Waker::wake);
    }

    /// Whether nothing waits on the driver: no registration, no timer. A poll that must not
    /// block then has nothing to collect, and is skipped (no lock, no system call); wake-ups
    /// from other threads reach the schedulers' queues without it.
    pub(crate) fn is_idle(&self) -> bool {
        self.registry.is_empty() && self.timers.is_empty()
    }

    /// Ends the current or the next [`park`](Self::park) (an edge-triggered user event: no
    /// system call unless a thread sleeps in the driver, one eventfd write if it does).
    pub(crate) fn unpark(&self) {
        self.unpark.trigger();
    }

    pub(crate) fn unpark_handle(&self) -> Unpark {
        Unpark(self.unpark.clone())
    }

    pub(crate) fn timers(&self) -> &Timers {
        &self.timers
    }

    /// Sleeps until unparked, an event arrives, a timer expires or `timeout` passes
    /// (`Some(ZERO)` only collects what is ready), then wakes what is due: at most `max_io`
    /// registrations' tasks (at most [`HARVEST`]; 0 fires only the expired timers, without
    /// looking at I/O). One thread at a time parks here (the schedulers hold a driver lock or
    /// the drive role), so it is the only waiter of the `EventPoll`: returning with events
    /// hands nothing to another thread.
    ///
    /// Readiness beyond `max_io` stays on the `EventPoll`'s ready list, in order, for the next
    /// park: a scheduler whose run queue is nearly full asks for less, so I/O waits in FIFO
    /// order there instead of overflowing the run queue (where it would be served out of
    /// order, which is what makes the tail latency of many connections).
    ///
    /// With the clock paused and no blocking closure pending, a park that may sleep (`timeout`
    /// not zero) does not: it harvests without waiting and, if nothing came (no event, no
    /// unpark), moves the clock to the nearest timer instead of sleeping until it. Without a
    /// timer it sleeps as usual (a wake-up or an event ends it).
    pub(crate) fn park(&self, timeout: Option<Duration>, max_io: usize) -> io::Result<()> {
        if timeout == Some(Duration::ZERO) && self.is_idle() {
            return Ok(());
        }
        let clock = self.timers.clock();
        let advance_to =
            if max_io != 0 && timeout != Some(Duration::ZERO) && clock.can_auto_advance() { self.timers.next_deadline() } else { None };
        let timeout = if max_io == 0 || advance_to.is_some() { Some(Duration::ZERO) } else { timeout };
        let (timeout, parked) = self.timers.begin_park(timeout);
        // A fresh list if the thread's locals are being destroyed.
        let mut wake = WAKE_LIST.try_with(Cell::take).unwrap_or_default();
        if max_io == 0 {
            self.timers.end_park(parked, &mut wake);
            wake.drain(..).for_each(Waker::wake);
            let _ = WAKE_LIST.try_with(|l| l.set(wake));
            return Ok(());
        }
        let mut registry = None;
        let res = self.ep.harvest(max_io.min(HARVEST), timeout, |events: Events, data| match data {
            UNPARK => {}
            token => {
                // The registry is locked once per harvest, on its first I/O event. Wakers are
                // woken after the harvest: `f` runs under the EventPoll's mutex, and a woken
                // task could otherwise be dropped there and deregister on this instance.
                let registry = registry.get_or_insert_with(|| self.registry.lock());
                registry.dispatch(token, Ready::from_events(events), &mut wake);
            }
        });
        drop(registry);
        if let (Some(to), Ok(0)) = (advance_to, &res) {
            // Idle with the clock paused: jump to the nearest timer (end_park fires it).
            clock.advance_to(to);
        }
        // Leave the parked set and take the expired timers; wake everything after the locks.
        self.timers.end_park(parked, &mut wake);
        wake.drain(..).for_each(Waker::wake);
        let _ = WAKE_LIST.try_with(|l| l.set(wake));
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::runtime::Builder;
    use crate::time::Instant;
    use std::time::Duration;

    #[test]
    fn the_driver_is_idle_only_without_registrations_and_timers() {
        let rt = Builder::new_current_thread().build().unwrap();
        let driver = rt.handle().driver();
        assert!(driver.is_idle());
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&a);
        let (token, _io) = driver.register(fd, crate::io::Interest::READABLE).unwrap();
        assert!(!driver.is_idle());
        driver.deregister(fd, token);
        assert!(driver.is_idle());
        let key = driver.timers().insert(Instant::now() + Duration::from_secs(60), std::task::Waker::noop().clone()).unwrap();
        assert!(!driver.is_idle());
        driver.timers().remove(key);
        assert!(driver.is_idle());
        // A fired timer no longer counts.
        driver.timers().insert(Instant::now(), std::task::Waker::noop().clone()).unwrap();
        for _ in 0..100 {
            // A park may end early (an unpark left over): park until the timer has fired.
            driver.park(Some(Duration::from_millis(5)), super::HARVEST).unwrap();
            if driver.is_idle() {
                return;
            }
        }
        panic!("the fired timer is still counted");
    }
}
