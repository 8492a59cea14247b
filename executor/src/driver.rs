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
use crate::time::wheel::{TimerKey, Wheel};
use reactor::{CtlOp, EpollEvent, EventPoll, Events, UserEvent};
use std::cell::Cell;
use std::io;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

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
    pub(crate) fn new() -> io::Result<Driver> {
        let ep = EventPoll::new()?;
        let unpark = Arc::new(ep.user_event(UNPARK)?);
        let wake_worker = ep.user_semaphore(WAKE_WORKER)?;
        let timers = Timers::new(Unpark(unpark.clone()));
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
        wake.drain(..).for_each(Waker::wake);
        WAKE_LIST.set(wake);
        // One lock section: leave the parked set and take the expired timers; wake them after.
        for waker in self.timers.end_park(parked) {
            waker.wake();
        }
        match res {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        Ok(worker_woken)
    }
}

/// The runtime's timers: a hierarchical timing wheel of wakers, in milliseconds since `start`.
///
/// A timer inserted while a thread sleeps in the driver must shorten the sleep if it is due
/// sooner: each parking thread records, under the wheel's lock, the deadline it sleeps until
/// (`parked`, a multiset: several workers may sleep at once), and an insert checks the earliest
/// under the same lock, so either the park's timeout accounts for the new timer or the insert
/// sees the park and unparks the driver (any woken thread fires timers and re-parks with the
/// new deadline).
pub(crate) struct Timers {
    start: Instant,
    wheel: Mutex<TimerState>,
    unpark: Unpark,
}

struct TimerState {
    wheel: Wheel<Waker>,
    /// Deadlines (ms; `u64::MAX` for ever) the parked threads sleep until, with multiplicity.
    parked: std::collections::BTreeMap<u64, usize>,
}

impl TimerState {
    /// Whether a parked thread sleeps past `deadline` (and must be woken for it).
    fn sleeps_past(&self, deadline: u64) -> bool {
        self.parked.keys().next().is_some_and(|&earliest| deadline < earliest)
    }
}

impl Timers {
    fn new(unpark: Unpark) -> Timers {
        Timers {
            start: Instant::now(),
            wheel: Mutex::new(TimerState { wheel: Wheel::new(), parked: std::collections::BTreeMap::new() }),
            unpark,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TimerState> {
        self.wheel.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Milliseconds since the start, rounded up: a timer never fires before its instant.
    fn deadline_ms(&self, at: Instant) -> u64 {
        let d = at.saturating_duration_since(self.start);
        let ms = d.as_millis() as u64;
        if d > Duration::from_millis(ms) {
            ms + 1
        } else {
            ms
        }
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    pub(crate) fn insert(&self, at: Instant, waker: Waker) -> TimerKey {
        let deadline = self.deadline_ms(at);
        let mut st = self.lock();
        let key = st.wheel.insert(deadline, waker);
        let wake = st.sleeps_past(deadline);
        drop(st);
        if wake {
            self.unpark.unpark();
        }
        key
    }

    /// Moves a pending timer to `at` with `waker` (O(1)); `None` if it already fired.
    pub(crate) fn update(&self, key: TimerKey, at: Instant, waker: &Waker) -> Option<TimerKey> {
        let deadline = self.deadline_ms(at);
        let mut st = self.lock();
        let current = st.wheel.get_mut(key)?;
        if !current.will_wake(waker) {
            current.clone_from(waker);
        }
        if st.wheel.deadline(key) != Some(deadline) {
            st.wheel.reset(key, deadline);
        }
        let wake = st.sleeps_past(deadline);
        drop(st);
        if wake {
            self.unpark.unpark();
        }
        Some(key)
    }

    pub(crate) fn remove(&self, key: TimerKey) {
        self.lock().wheel.remove(key);
    }

    /// Pending timers.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().wheel.len()
    }

    /// Records that a thread is about to sleep and returns how long it may (the smaller of
    /// `timeout` and the time to the nearest deadline) and the deadline it recorded.
    fn begin_park(&self, timeout: Option<Duration>) -> (Option<Duration>, u64) {
        let now = self.now_ms();
        let mut st = self.lock();
        let next = st.wheel.next_expiration();
        let until_timer = next.map(|d| Duration::from_millis(d.saturating_sub(now)));
        let timeout = match (timeout, until_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let until = timeout.map_or(u64::MAX, |t| now.saturating_add(t.as_millis() as u64));
        *st.parked.entry(until).or_insert(0) += 1;
        (timeout, until)
    }

    /// Leaves the parked set and takes every timer whose deadline has passed, to be woken by
    /// the caller outside the lock.
    fn end_park(&self, until: u64) -> Vec<Waker> {
        let now = self.now_ms();
        let mut due = Vec::new();
        let mut st = self.lock();
        if let Some(n) = st.parked.get_mut(&until) {
            *n -= 1;
            if *n == 0 {
                st.parked.remove(&until);
            }
        }
        st.wheel.poll(now, |_, waker| due.push(waker));
        due
    }
}
