//! The runtime's timers: timing wheels of wakers, one per worker, in milliseconds since `start`.
//!
//! **Sharding.** Each worker inserts, resets and cancels its timers in its own wheel, behind its
//! own lock, so workers creating and dropping `Sleep`s do not serialize on one mutex (tokio's
//! single timer lock, tokio#6504). A thread that is not a worker (a `block_on` thread, the
//! blocking pool) is given a wheel round-robin on its first timer. A [`TimerKey`] names its
//! wheel, so a `Sleep` moved to another worker still cancels in O(1).
//!
//! **Parking.** A timer inserted while a thread sleeps in the driver must shorten the sleep if
//! it is due sooner. A parking thread locks every wheel (in index order), takes the nearest
//! deadline of all of them, and records the deadline it will sleep until in the `parked`
//! multiset (several workers may sleep at once), publishing the earliest in
//! `earliest_parked`; an insert compares its deadline with `earliest_parked` under its own
//! wheel's lock. Since the park held that lock too, either the park's timeout accounts for the
//! new timer, or the insert sees the park and unparks the driver (any woken thread fires the
//! timers and re-parks with the new deadline). Parks and the firing of expired timers touch
//! every wheel; inserts and cancels touch one.
//!
//! **Shutdown.** When its runtime shuts down, every timer must fail at once rather than wait for
//! a driver nobody drives any more (tokio panics "… context was found, but it is being
//! shutdown" on the next poll). [`Timers::shutdown`] sets `shutdown`, then locks each wheel in
//! turn and takes every pending timer's waker; an insert reads `shutdown` under its wheel's
//! lock and refuses. So a timer is either drained (its task is woken, its next poll sees the
//! flag and panics) or refused (its poll panics at once): none is left waiting.
//!
//! ```text
//!   shutdown:  shutdown = true ── lock wheel 0: take all ── … ── lock wheel n: take all ── wake
//!   insert:                        lock wheel k: shutdown? refuse : insert
//! ```
//!
//! `pending` counts the timers in all wheels, so the driver can tell that nothing waits on it
//! without taking a lock (`Driver::is_idle`).

use super::clock::Clock;
use super::wheel::{self, Wheel};
use super::Instant;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::loom::sync::Mutex;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

/// A pending timer: its wheel and its key in that wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    shard: u32,
    key: wheel::TimerKey,
}

/// One wheel, on its own cache line so that workers' locks do not share one.
#[repr(align(128))]
struct Shard(Mutex<Wheel<Waker>>);

/// Wakes a thread sleeping in the driver (the driver's unpark user event; a stand-in in the
/// `loom` model).
pub(crate) type WakeDriver = Box<dyn Fn() + Send + Sync>;

pub(crate) struct Timers {
    /// What the deadlines count from (the clock's instant when the runtime was built).
    start: std::time::Instant,
    /// The runtime's clock (real or paused time); shared with the blocking pool, whose pending
    /// closures inhibit auto-advance.
    clock: Arc<Clock>,
    shards: Box<[Shard]>,
    /// Deadlines (ms; `u64::MAX` for ever) the parked threads sleep until, with multiplicity.
    /// Changed only while every shard is locked.
    parked: Mutex<BTreeMap<u64, usize>>,
    /// The earliest key of `parked` (`u64::MAX` if empty). Written while every shard is locked,
    /// read under any one shard's lock: the locks order it, `Relaxed` is enough.
    earliest_parked: AtomicU64,
    unpark: WakeDriver,
    /// Set once by `shutdown`, before the wheels are drained; read under a wheel's lock by
    /// `insert` (and without a lock by `Sleep::poll`, to fail early).
    shutdown: AtomicBool,
    /// Timers in all wheels (changed under the wheel's lock, read without one).
    pending: AtomicUsize,
}

/// The panic message of a timer polled after its runtime shut down (tokio's "A Tokio 1.x
/// context was found, but it is being shutdown.").
pub(crate) const RUNTIME_SHUTTING_DOWN: &str =
    "A runtime context was found, but it is being shut down: timers cannot be polled after their runtime's shutdown";

thread_local! {
    /// The wheel this thread inserts into (`usize::MAX`: not chosen yet).
    static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Hands wheels out round-robin to threads that are not workers (a plain std atomic even under
/// loom: only the spread matters).
static NEXT_SHARD: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Makes the calling worker thread insert its timers into wheel `index` (modulo the number of
/// wheels of the runtime it uses).
pub(crate) fn set_thread_shard(index: usize) {
    SHARD.with(|s| s.set(index));
}

fn thread_shard() -> usize {
    SHARD
        .try_with(|s| {
            if s.get() == usize::MAX {
                s.set(NEXT_SHARD.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            }
            s.get()
        })
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> impl std::ops::DerefMut<Target = T> + '_ {
    m.lock()
}

impl Timers {
    pub(crate) fn new(shards: usize, unpark: WakeDriver, clock: Arc<Clock>) -> Timers {
        Timers {
            start: clock.now(),
            clock,
            shards: (0..shards.max(1)).map(|_| Shard(Mutex::new(Wheel::new()))).collect(),
            parked: Mutex::new(BTreeMap::new()),
            earliest_parked: AtomicU64::new(u64::MAX),
            unpark,
            shutdown: AtomicBool::new(false),
            pending: AtomicUsize::new(0),
        }
    }

    pub(crate) fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// The clock's current instant.
    pub(crate) fn now(&self) -> Instant {
        Instant::from_std(self.clock.now())
    }

    /// Whether the runtime shut down (every poll of a timer must fail).
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Whether no timer is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.load(Ordering::Acquire) == 0
    }

    /// Fails every pending and later timer: takes every waker (to be woken by the caller, whose
    /// polls then panic) and refuses later inserts. See the module docs.
    pub(crate) fn shutdown(&self) -> Vec<Waker> {
        self.shutdown.store(true, Ordering::SeqCst);
        let mut due = Vec::new();
        for shard in self.shards.iter() {
            let mut wheel = lock(&shard.0);
            let before = due.len();
            wheel.poll(u64::MAX, |_, waker| due.push(waker));
            self.pending.fetch_sub(due.len() - before, Ordering::AcqRel);
        }
        due
    }

    /// Milliseconds since the start, rounded up: a timer never fires before its instant.
    fn deadline_ms(&self, at: Instant) -> u64 {
        let d = at.into_std().saturating_duration_since(self.start);
        let ms = d.as_millis() as u64;
        if d > Duration::from_millis(ms) {
            ms + 1
        } else {
            ms
        }
    }

    fn now_ms(&self) -> u64 {
        self.clock.now().saturating_duration_since(self.start).as_millis() as u64
    }

    /// The instant of the nearest pending timer, if any (what a paused clock auto-advances to).
    pub(crate) fn next_deadline(&self) -> Option<std::time::Instant> {
        let next = self.lock_all().iter().filter_map(|w| w.next_expiration()).min()?;
        Some(self.start + Duration::from_millis(next))
    }

    /// Whether a parked thread sleeps past `deadline` (and must be woken for it). The caller
    /// holds a shard lock.
    fn sleeps_past(&self, deadline: u64) -> bool {
        deadline < self.earliest_parked.load(Ordering::Relaxed)
    }

    /// Inserts a timer; `None` once the runtime shut down.
    pub(crate) fn insert(&self, at: Instant, waker: Waker) -> Option<TimerKey> {
        let deadline = self.deadline_ms(at);
        let shard = thread_shard() % self.shards.len();
        let mut wheel = lock(&self.shards[shard].0);
        if self.shutdown.load(Ordering::Acquire) {
            return None;
        }
        let key = wheel.insert(deadline, waker);
        self.pending.fetch_add(1, Ordering::AcqRel);
        let wake = self.sleeps_past(deadline);
        drop(wheel);
        if wake {
            (self.unpark)();
        }
        Some(TimerKey { shard: shard as u32, key })
    }

    /// Moves a pending timer to `at` with `waker` (O(1)); `None` if it already fired.
    pub(crate) fn update(&self, key: TimerKey, at: Instant, waker: &Waker) -> Option<TimerKey> {
        let deadline = self.deadline_ms(at);
        let mut wheel = lock(&self.shards[key.shard as usize].0);
        let current = wheel.get_mut(key.key)?;
        if !current.will_wake(waker) {
            current.clone_from(waker);
        }
        if wheel.deadline(key.key) != Some(deadline) {
            wheel.reset(key.key, deadline);
        }
        let wake = self.sleeps_past(deadline);
        drop(wheel);
        if wake {
            (self.unpark)();
        }
        Some(key)
    }

    pub(crate) fn remove(&self, key: TimerKey) {
        let removed = lock(&self.shards[key.shard as usize].0).remove(key.key);
        if removed.is_some() {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Calls `f` with each pending timer's deadline and waker, one wheel lock at a time (the
    /// dump).
    pub(crate) fn for_each(&self, mut f: impl FnMut(Instant, &Waker)) {
        for shard in self.shards.iter() {
            let wheel = lock(&shard.0);
            wheel.for_each(|deadline, waker| f(Instant::from_std(self.start + Duration::from_millis(deadline)), waker));
        }
    }

    /// Pending timers.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(&s.0).len()).sum()
    }

    fn lock_all(&self) -> Vec<impl std::ops::DerefMut<Target = Wheel<Waker>> + '_> {
        self.shards.iter().map(|s| lock(&s.0)).collect()
    }

    /// Records that a thread is about to sleep and returns how long it may (the smaller of
    /// `timeout` and the time to the nearest deadline) and the deadline it recorded.
    pub(crate) fn begin_park(&self, timeout: Option<Duration>) -> (Option<Duration>, u64) {
        let now = self.now_ms();
        let wheels = self.lock_all();
        let next = wheels.iter().filter_map(|w| w.next_expiration()).min();
        let until_timer = next.map(|d| Duration::from_millis(d.saturating_sub(now)));
        let timeout = match (timeout, until_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let until = timeout.map_or(u64::MAX, |t| now.saturating_add(t.as_millis() as u64));
        let mut parked = lock(&self.parked);
        *parked.entry(until).or_insert(0) += 1;
        self.earliest_parked.store(parked.keys().next().copied().unwrap_or(u64::MAX), Ordering::Relaxed);
        drop(parked);
        drop(wheels);
        (timeout, until)
    }

    /// Leaves the parked set and moves every timer whose deadline has passed to `due`, to be
    /// woken by the caller outside the locks.
    pub(crate) fn end_park(&self, until: u64, due: &mut Vec<Waker>) {
        let now = self.now_ms();
        let mut wheels = self.lock_all();
        let mut parked = lock(&self.parked);
        if let Some(n) = parked.get_mut(&until) {
            *n -= 1;
            if *n == 0 {
                parked.remove(&until);
            }
        }
        self.earliest_parked.store(parked.keys().next().copied().unwrap_or(u64::MAX), Ordering::Relaxed);
        drop(parked);
        let before = due.len();
        for wheel in &mut wheels {
            wheel.poll(now, |_, waker| due.push(waker));
        }
        self.pending.fetch_sub(due.len() - before, Ordering::AcqRel);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::runtime::Builder;

    #[test]
    fn threads_insert_into_different_wheels_and_cancel_across_them() {
        let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let timers = rt.handle().driver().timers();
        let far = Instant::now() + Duration::from_secs(3600);
        let waker = Waker::noop().clone();
        let keys: Vec<TimerKey> =
            (0..4).map(|_| std::thread::scope(|s| s.spawn(|| timers.insert(far, waker.clone()).unwrap()).join().unwrap())).collect();
        let shards: std::collections::BTreeSet<u32> = keys.iter().map(|k| k.shard).collect();
        assert_eq!(shards.len(), 2, "fresh threads are spread over both wheels");
        assert_eq!(timers.len(), 4);
        // Any thread cancels any key.
        for key in keys {
            timers.remove(key);
        }
        assert_eq!(timers.len(), 0);
    }

    #[test]
    fn a_park_sleeps_until_the_nearest_deadline_of_every_wheel() {
        let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
        let timers = rt.handle().driver().timers();
        let waker = Waker::noop().clone();
        let soon = Instant::now() + Duration::from_millis(200);
        let key = std::thread::scope(|s| s.spawn(|| timers.insert(soon, waker.clone()).unwrap()).join().unwrap());
        let other = (key.shard as usize + 1) % 2;
        set_thread_shard(other);
        let late = timers.insert(Instant::now() + Duration::from_secs(3600), waker.clone()).unwrap();
        assert_ne!(late.shard, key.shard);
        let (timeout, until) = timers.begin_park(None);
        assert!(timeout.is_some_and(|t| t <= Duration::from_millis(200)), "{timeout:?}");
        let mut due = Vec::new();
        timers.end_park(until, &mut due);
        assert!(due.is_empty());
        timers.remove(key);
        timers.remove(late);
        set_thread_shard(usize::MAX);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use std::task::Wake;

    struct Flag(loom::sync::atomic::AtomicBool);

    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A timer inserted while another thread shuts the timers down: either the insert is
    /// refused (its `Sleep` panics at once) or the shutdown takes its waker — never a timer
    /// left in a wheel nobody will poll again. Checked against a shutdown that drains the
    /// wheels before setting the flag (loom finds the insert that lands in between).
    #[test]
    fn loom_a_timer_inserted_during_shutdown_is_refused_or_woken() {
        loom::model(|| {
            let timers = Arc::new(Timers::new(2, Box::new(|| ()), std::sync::Arc::new(Clock::new(false, false))));
            let flag = std::sync::Arc::new(Flag(loom::sync::atomic::AtomicBool::new(false)));
            let inserter = {
                let (timers, waker) = (timers.clone(), Waker::from(flag.clone()));
                loom::thread::spawn(move || timers.insert(Instant::now() + Duration::from_secs(60), waker).is_some())
            };
            timers.shutdown().into_iter().for_each(Waker::wake);
            let inserted = inserter.join().unwrap();
            if inserted {
                assert!(flag.0.load(Ordering::SeqCst), "a timer was inserted after the shutdown drained its wheel");
            }
            assert!(timers.is_empty());
        });
    }
}
