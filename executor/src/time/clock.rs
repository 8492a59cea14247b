//! The runtime's clock: real time, or time that stands still until the runtime makes it jump.
//!
//! Every runtime has one [`Clock`]; its timers and [`Instant::now`](super::Instant::now)
//! (inside the runtime's context) read it. It is real time until [`pause`] freezes it:
//!
//! ```text
//!   now() = base + (unfrozen.elapsed() if running)      base, unfrozen: std instants
//!
//!   pause():      base += unfrozen.elapsed(); unfrozen = None     (now() stands still)
//!   advance(d):   base += d                                       (paused only)
//!   auto-advance: base = the next timer's instant                 (paused, idle, see below)
//!   resume():     unfrozen = std::time::Instant::now()            (runs again from base)
//! ```
//!
//! So time never goes backwards: after `resume` it continues from where `advance` left it,
//! not from the real time (tokio's semantics).
//!
//! **Auto-advance** (the driver, `Driver::park`): a current-thread runtime with nothing to run
//! would sleep until its next timer; with the clock paused it looks for I/O and wake-ups
//! without sleeping and, if none came, sets the clock to that timer's instant instead, so a
//! test that waits 10 s on a timer takes microseconds. Auto-advance is inhibited while a
//! [`spawn_blocking`](crate::task::spawn_blocking) closure is queued or running (the blocking
//! pool counts them here): the runtime is not idle then, its result is on its way, and a
//! `timeout` around a file operation must not expire in virtual time while the thread works.
//!
//! **Who may pause.** Only a current-thread runtime's clock (`enable_pausing`), as in tokio:
//! on a multi-thread runtime "idle" is not one thread's decision.
//!
//! **Cost.** Until a clock is paused for the first time, `now` is `std::time::Instant::now()`
//! and never touches the lock (`ever_paused`); [`Instant::now`](super::Instant::now) only
//! looks up the current runtime once some clock in the process was paused (`ANY_PAUSED`).

use crate::runtime::Handle;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant as StdInstant};

/// Set once any clock of the process was paused: until then [`now`] needs no context look-up.
static ANY_PAUSED: AtomicBool = AtomicBool::new(false);

/// The panic message of [`pause`] on a runtime whose clock cannot be paused.
const NEEDS_CURRENT_THREAD: &str =
    "`time::pause()` requires the `current_thread` runtime. This is the default runtime used by `#[runtime::test]`.";
/// The panic message of [`pause`], [`resume`] and [`advance`] outside a runtime.
const NO_RUNTIME: &str = "time cannot be frozen from outside the runtime";
const ALREADY_FROZEN: &str = "time is already frozen";
const NOT_FROZEN: &str = "time is not frozen";

/// A runtime's source of time (see the module docs).
pub(crate) struct Clock {
    /// Whether [`pause`](Clock::pause) is allowed (current-thread runtimes).
    enable_pausing: bool,
    /// Set by the first pause: until then `now` is the real time, read without the lock.
    ever_paused: AtomicBool,
    inner: Mutex<Inner>,
}

struct Inner {
    /// The instant `now` reads while frozen, and counts from while running.
    base: StdInstant,
    /// When the clock last started running (`None`: paused).
    unfrozen: Option<StdInstant>,
    /// Blocking closures queued or running: each inhibits auto-advance.
    inhibit: usize,
}

impl Clock {
    /// A running clock reading the real time (paused at once if `start_paused`).
    ///
    /// # Panics
    ///
    /// If `start_paused` but pausing is not enabled (a multi-thread runtime).
    pub(crate) fn new(enable_pausing: bool, start_paused: bool) -> Clock {
        let now = StdInstant::now();
        let clock = Clock {
            enable_pausing,
            ever_paused: AtomicBool::new(false),
            inner: Mutex::new(Inner { base: now, unfrozen: Some(now), inhibit: 0 }),
        };
        if start_paused {
            if let Err(msg) = clock.pause() {
                panic!("{msg}");
            }
        }
        clock
    }

    /// Whether this clock can be paused (the runtime is current-thread).
    pub(crate) fn can_pause(&self) -> bool {
        self.enable_pausing
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The clock's current instant.
    pub(crate) fn now(&self) -> StdInstant {
        if !self.ever_paused.load(Ordering::Acquire) {
            return StdInstant::now();
        }
        let inner = self.lock();
        match inner.unfrozen {
            Some(unfrozen) => inner.base + unfrozen.elapsed(),
            None => inner.base,
        }
    }

    pub(crate) fn pause(&self) -> Result<(), &'static str> {
        if !self.enable_pausing {
            return Err(NEEDS_CURRENT_THREAD);
        }
        let mut inner = self.lock();
        let Some(unfrozen) = inner.unfrozen.take() else { return Err(ALREADY_FROZEN) };
        inner.base += unfrozen.elapsed();
        // Published under the lock: a `now` that sees the flag then takes the lock.
        self.ever_paused.store(true, Ordering::Release);
        ANY_PAUSED.store(true, Ordering::Release);
        Ok(())
    }

    fn resume(&self) -> Result<(), &'static str> {
        let mut inner = self.lock();
        if inner.unfrozen.is_some() {
            return Err(NOT_FROZEN);
        }
        inner.unfrozen = Some(StdInstant::now());
        Ok(())
    }

    fn advance(&self, duration: Duration) -> Result<(), &'static str> {
        let mut inner = self.lock();
        if inner.unfrozen.is_some() {
            return Err(NOT_FROZEN);
        }
        inner.base += duration;
        Ok(())
    }

    /// Auto-advance: moves a paused clock forward to `to` (never backwards).
    pub(crate) fn advance_to(&self, to: StdInstant) {
        let mut inner = self.lock();
        if inner.unfrozen.is_none() && to > inner.base {
            inner.base = to;
        }
    }

    /// Whether an idle runtime may jump to its next timer: paused, and no blocking closure
    /// pending.
    pub(crate) fn can_auto_advance(&self) -> bool {
        if !self.ever_paused.load(Ordering::Acquire) {
            return false;
        }
        let inner = self.lock();
        inner.unfrozen.is_none() && inner.inhibit == 0
    }

    /// A blocking closure was queued: no auto-advance until it is done.
    pub(crate) fn inhibit_auto_advance(&self) {
        self.lock().inhibit += 1;
    }

    /// The blocking closure of an earlier [`inhibit_auto_advance`](Clock::inhibit_auto_advance)
    /// is done.
    pub(crate) fn allow_auto_advance(&self) {
        let mut inner = self.lock();
        inner.inhibit = inner.inhibit.checked_sub(1).expect("allow_auto_advance without inhibit_auto_advance");
    }
}

/// The current instant of the runtime in context (its clock may be paused), or the real time
/// outside a runtime.
pub(crate) fn now() -> StdInstant {
    if !ANY_PAUSED.load(Ordering::Acquire) {
        return StdInstant::now();
    }
    match crate::runtime::context::current() {
        Ok(handle) => handle.driver().timers().clock().now(),
        Err(_) => StdInstant::now(),
    }
}

#[track_caller]
fn with_clock<R>(f: impl FnOnce(&Clock) -> Result<R, &'static str>) -> R {
    let Some(handle) = Handle::try_current().ok() else { panic!("{NO_RUNTIME}") };
    match f(handle.driver().timers().clock()) {
        Ok(r) => r,
        Err(msg) => panic!("{msg}"),
    }
}

/// Pauses time: [`Instant::now`](super::Instant::now) stands still from here until [`advance`], auto-advance or
/// [`resume`] moves it. Only this runtime's time stops; `std::time::Instant` goes on.
///
/// # Auto-advance
///
/// While time is paused and the runtime has nothing to do — no task to run, no I/O event, no
/// [`spawn_blocking`](crate::task::spawn_blocking) closure pending — the clock jumps to the next
/// timer instead of the thread sleeping until it. A test that waits on a 10 s timer (a
/// `sleep`, a `timeout`, an `interval`) runs in microseconds, and in the order the timers
/// would have fired.
///
/// ```
/// use executor::time::{self, sleep, Duration, Instant};
///
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     time::pause();
///     let start = Instant::now();
///     let real = std::time::Instant::now();
///     sleep(Duration::from_secs(10)).await;       // jumps: no real wait
///     assert!(start.elapsed() >= Duration::from_secs(10));
///     assert!(real.elapsed() < Duration::from_secs(10));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// For a test paused from its start, use `#[runtime::test(start_paused = true)]` or
/// [`Builder::start_paused`](crate::runtime::Builder::start_paused).
///
/// # Panics
///
/// If time is already paused, outside a runtime, or on a multi-thread runtime (pausing needs
/// the current-thread runtime, as in tokio).
#[track_caller]
pub fn pause() {
    with_clock(Clock::pause);
}

/// Resumes time: [`Instant::now`](super::Instant::now) runs again, from the instant it was paused at plus every
/// advance (time never goes backwards).
///
/// # Panics
///
/// If time is not paused, or outside a runtime.
#[track_caller]
pub fn resume() {
    with_clock(Clock::resume);
}

/// Moves paused time forward by `duration` at once, then yields once.
///
/// Every timer whose deadline is now past completes "at the same time" (in any order) when the
/// runtime next looks at its timers; `advance` does not wait for the tasks it woke to run. To
/// wait for a timer, `sleep` on it and let auto-advance (see [`pause`]) move the clock.
///
/// ```
/// use executor::time::{self, Duration, Instant};
///
/// let rt = executor::runtime::Builder::new_current_thread().start_paused(true).build()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     time::advance(Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// If time is not paused, or outside a runtime.
pub async fn advance(duration: Duration) {
    advance_now(duration);
    crate::task::yield_now().await;
}

#[track_caller]
fn advance_now(duration: Duration) {
    with_clock(|clock| clock.advance(duration));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_clock_stands_still_advances_and_resumes_from_where_it_stood() {
        let clock = Clock::new(true, true);
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), t0, "paused: real time passing does not move it");
        clock.advance(Duration::from_secs(10)).unwrap();
        assert_eq!(clock.now(), t0 + Duration::from_secs(10));
        clock.advance_to(t0);
        assert_eq!(clock.now(), t0 + Duration::from_secs(10), "auto-advance never goes back");
        clock.resume().unwrap();
        let after = clock.now();
        assert!(after >= t0 + Duration::from_secs(10));
        assert_eq!(clock.advance(Duration::from_secs(1)), Err(NOT_FROZEN));
        assert_eq!(clock.resume(), Err(NOT_FROZEN));
        clock.pause().unwrap();
        assert_eq!(clock.pause(), Err(ALREADY_FROZEN));
    }

    #[test]
    fn blocking_closures_inhibit_auto_advance_until_each_is_done() {
        let clock = Clock::new(true, true);
        assert!(clock.can_auto_advance());
        clock.inhibit_auto_advance();
        clock.inhibit_auto_advance();
        assert!(!clock.can_auto_advance());
        clock.allow_auto_advance();
        assert!(!clock.can_auto_advance());
        clock.allow_auto_advance();
        assert!(clock.can_auto_advance());
        clock.resume().unwrap();
        assert!(!clock.can_auto_advance(), "a running clock does not auto-advance");
    }

    #[test]
    fn a_clock_without_pausing_refuses_to_pause() {
        let clock = Clock::new(false, false);
        assert_eq!(clock.pause(), Err(NEEDS_CURRENT_THREAD));
        assert!(!clock.can_auto_advance());
    }
}
