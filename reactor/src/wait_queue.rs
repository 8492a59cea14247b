//! The instance's wait queue (`ep->wq`): threads sleeping in `wait`, woken one at a time.
//!
//! Protocol (all queue operations happen under the instance lock, `ep->lock`):
//!
//! 1. A waiter that found nothing to harvest enqueues itself *exclusively* at the tail
//!    ([`WaitQueue::add_exclusive`], which clears its `woken` flag) and only then releases the
//!    lock and parks. Whoever makes events available does so under the same lock, so either the
//!    waiter saw the events before enqueueing or the producer sees the waiter in the queue.
//! 2. A producer wakes at most one waiter per wake-up ([`WaitQueue::wake_one`]): it removes the
//!    head from the queue and sets its `woken` flag while holding the lock (the kernel's
//!    `ep_autoremove_wake_function`), then unparks the thread after unlocking.
//! 3. A waiter returns from parking when `woken` is set. On timeout or signal it takes the lock
//!    and removes itself; if it is no longer queued, a wake-up reached it first and it harvests as if woken,
//!    so no wake-up is lost to a timeout.
//!
//! `tests/loom_wait_queue.rs`-style models of this protocol live in `loom_tests` below and run
//! with `RUSTFLAGS="--cfg loom" cargo test -p eventpoll-reactor --lib --release loom`.

#[cfg(loom)]
use crate::loom::{thread, Thread};
use crate::loom::{Arc, AtomicU32, Ordering};
use std::collections::VecDeque;
use std::time::Instant;

const WAITING: u32 = 0;
const WOKEN: u32 = 1;

/// Longest single sleep; an infinite wait sleeps in slices of this (a timeout is what makes a
/// signal interrupt the sleep with `EINTR` instead of restarting it, see `sys::futex_wait`).
#[cfg(not(loom))]
const SLICE: std::time::Duration = std::time::Duration::from_secs(3600);

/// How a park ended.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(loom, allow(dead_code))]
pub(crate) enum Parked {
    /// A wake-up took the waiter off the queue.
    Woken,
    /// The deadline passed; the waiter may still be queued.
    TimedOut,
    /// A signal handler ran (Linux's `EINTR` for `epoll_wait`); the waiter may still be queued.
    Interrupted,
}

/// A thread that may sleep in a wait queue.
#[derive(Debug)]
pub(crate) struct Waiter {
    /// `WOKEN` once a wake-up removed this waiter from the queue (set under the queue's lock);
    /// also the futex word the thread sleeps on.
    woken: AtomicU32,
    #[cfg(loom)]
    thread: Thread,
}

impl Waiter {
    /// A waiter for the calling thread.
    #[cfg(not(loom))]
    pub(crate) fn current() -> Arc<Waiter> {
        thread_local! {
            static WAITER: Arc<Waiter> = Arc::new(Waiter { woken: AtomicU32::new(WAITING) });
        }
        WAITER.with(Arc::clone)
    }

    /// A waiter for the calling thread.
    #[cfg(loom)]
    pub(crate) fn current() -> Arc<Waiter> {
        Arc::new(Waiter { woken: AtomicU32::new(WAITING), thread: thread::current() })
    }

    fn is_woken(&self) -> bool {
        self.woken.load(Ordering::Acquire) == WOKEN
    }

    /// Sleeps until a wake-up marks this waiter, `deadline` passes, or a signal handler runs.
    #[cfg(not(loom))]
    pub(crate) fn park(&self, deadline: Option<Instant>) -> Parked {
        loop {
            if self.is_woken() {
                return Parked::Woken;
            }
            let slice = match deadline {
                None => SLICE,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left.min(SLICE),
                    _ => return if self.is_woken() { Parked::Woken } else { Parked::TimedOut },
                },
            };
            if let Err(e) = crate::sys::futex_wait(&self.woken, WAITING, slice) {
                if e.raw_os_error() == Some(crate::sys::EINTR) {
                    // Even if a wake-up raced with the signal: `ep_poll` checks for a pending
                    // signal whatever woke it. The caller passes a consumed wake-up on.
                    return Parked::Interrupted;
                }
                // EAGAIN (already woken) or ETIMEDOUT: look again.
            }
        }
    }

    /// Sleeps until a wake-up marks this waiter (loom has no timeouts nor signals).
    #[cfg(loom)]
    pub(crate) fn park(&self, _deadline: Option<Instant>) -> Parked {
        while !self.is_woken() {
            thread::park();
        }
        Parked::Woken
    }
}

/// A waiter taken off the queue by a wake-up; [`Wake::unpark`] it once the lock is released.
#[must_use = "the woken thread must be unparked"]
#[derive(Debug)]
pub(crate) struct Wake(Arc<Waiter>);

impl Wake {
    pub(crate) fn unpark(self) {
        #[cfg(not(loom))]
        crate::sys::futex_wake(&self.0.woken);
        #[cfg(loom)]
        self.0.thread.unpark();
    }
}

/// FIFO of exclusive waiters.
#[derive(Debug, Default)]
pub(crate) struct WaitQueue {
    waiters: VecDeque<Arc<Waiter>>,
}

impl WaitQueue {
    pub(crate) fn new() -> WaitQueue {
        WaitQueue { waiters: VecDeque::new() }
    }

    pub(crate) fn len(&self) -> usize {
        self.waiters.len()
    }

    /// Queues `w` at the tail (`__add_wait_queue_exclusive`).
    pub(crate) fn add_exclusive(&mut self, w: &Arc<Waiter>) {
        w.woken.store(WAITING, Ordering::Relaxed);
        self.waiters.push_back(Arc::clone(w));
    }

    /// Takes the head waiter off the queue and marks it woken (`wake_up` on an exclusive queue).
    pub(crate) fn wake_one(&mut self) -> Option<Wake> {
        let w = self.waiters.pop_front()?;
        w.woken.store(WOKEN, Ordering::Release);
        Some(Wake(w))
    }

    /// Removes `w` if it is still queued; `false` means a wake-up already took it.
    pub(crate) fn remove(&mut self, w: &Arc<Waiter>) -> bool {
        match self.waiters.iter().position(|x| Arc::ptr_eq(x, w)) {
            Some(pos) => {
                self.waiters.remove(pos);
                true
            }
            None => false,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_wake_up_takes_exactly_the_head_waiter() {
        let waiters: Vec<Arc<Waiter>> = (0..3).map(|_| Arc::new(Waiter { woken: AtomicU32::new(WAITING) })).collect();
        let mut q = WaitQueue::new();
        for w in &waiters {
            q.add_exclusive(w);
        }
        let woken = q.wake_one().expect("queued");
        assert!(Arc::ptr_eq(&woken.0, &waiters[0]));
        assert!(waiters[0].is_woken() && !waiters[1].is_woken() && !waiters[2].is_woken());
        assert_eq!(q.len(), 2);
        assert!(!q.remove(&waiters[0]), "a woken waiter is no longer queued");
        assert!(q.remove(&waiters[2]), "a timed-out waiter leaves the queue");
        assert!(Arc::ptr_eq(&q.wake_one().expect("queued").0, &waiters[1]));
        assert!(q.wake_one().is_none());
    }

    #[test]
    fn park_returns_at_once_when_already_woken_and_times_out_otherwise() {
        let w = Waiter::current();
        let mut q = WaitQueue::new();
        q.add_exclusive(&w);
        let deadline = Instant::now() + std::time::Duration::from_millis(10);
        assert_eq!(w.park(Some(deadline)), Parked::TimedOut);
        assert!(q.remove(&w));
        q.add_exclusive(&w);
        q.wake_one().expect("queued").unpark();
        assert_eq!(w.park(None), Parked::Woken);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::{lock, Mutex};

    /// Events available plus the queue, under one lock, as in `EventPoll`.
    struct Ep {
        state: Mutex<(usize, WaitQueue)>,
    }

    impl Ep {
        fn wait(&self) {
            let me = Waiter::current();
            loop {
                {
                    let mut st = lock(&self.state);
                    if st.0 > 0 {
                        st.0 -= 1;
                        return;
                    }
                    st.1.add_exclusive(&me);
                }
                assert_eq!(me.park(None), Parked::Woken);
            }
        }

        fn post(&self) {
            let wake = {
                let mut st = lock(&self.state);
                st.0 += 1;
                st.1.wake_one()
            };
            if let Some(w) = wake {
                w.unpark();
            }
        }
    }

    /// Two waiters, two posts: both waiters return and each consumed one post (no lost
    /// wake-up: loom reports a deadlock if any interleaving leaves a waiter parked forever).
    #[test]
    fn loom_no_lost_wakeup_with_two_waiters() {
        loom::model(|| {
            let ep = Arc::new(Ep { state: Mutex::new((0, WaitQueue::new())) });
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let ep = ep.clone();
                    loom::thread::spawn(move || ep.wait())
                })
                .collect();
            ep.post();
            ep.post();
            for w in waiters {
                w.join().unwrap();
            }
            let st = lock(&ep.state);
            assert_eq!(st.0, 0);
            assert_eq!(st.1.len(), 0);
        });
    }

    /// The poller-role protocol of `EventPoll::wait`, with the OS poll modelled as a sleep on
    /// `os_pending` that a "write" sets: one thread holds the role and sleeps "in the OS"; the
    /// others sleep on the wait queue; whoever gives the role up hands it to a queued waiter.
    struct PollerEp {
        /// (events harvested and ready, poller role held, queue)
        state: Mutex<(usize, bool, WaitQueue)>,
        /// Events the OS has for us, not yet harvested, and the thread sleeping in the OS poll.
        os: Mutex<(usize, Option<Thread>)>,
    }

    impl PollerEp {
        fn os_write(&self) {
            let sleeper = {
                let mut os = lock(&self.os);
                os.0 += 1;
                os.1.take()
            };
            if let Some(t) = sleeper {
                t.unpark();
            }
        }

        /// Blocks "in the OS" until it has events, then returns them all.
        fn os_poll(&self) -> usize {
            loop {
                {
                    let mut os = lock(&self.os);
                    if os.0 > 0 {
                        os.1 = None;
                        return std::mem::take(&mut os.0);
                    }
                    os.1 = Some(thread::current());
                }
                thread::park();
            }
        }

        fn wait(&self) {
            let me = Waiter::current();
            loop {
                {
                    let mut st = lock(&self.state);
                    if st.0 > 0 {
                        st.0 -= 1;
                        return;
                    }
                    if st.1 {
                        st.2.add_exclusive(&me);
                        drop(st);
                        assert_eq!(me.park(None), Parked::Woken);
                        continue;
                    }
                    st.1 = true;
                }
                let got = self.os_poll();
                let handoff = {
                    let mut st = lock(&self.state);
                    st.1 = false;
                    st.0 += got;
                    // Give the role up: a queued waiter must not sleep while nobody polls.
                    st.2.wake_one()
                };
                if let Some(w) = handoff {
                    w.unpark();
                }
            }
        }
    }

    /// Two waiters, two OS events: both waiters return, whichever holds the role when the events
    /// arrive (loom reports a deadlock if a waiter can be left asleep with nobody in the OS poll).
    #[test]
    fn loom_poller_role_is_handed_over_so_no_event_is_stranded() {
        loom::model(|| {
            let ep = Arc::new(PollerEp { state: Mutex::new((0, false, WaitQueue::new())), os: Mutex::new((0, None)) });
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let ep = ep.clone();
                    loom::thread::spawn(move || ep.wait())
                })
                .collect();
            ep.os_write();
            ep.os_write();
            for w in waiters {
                w.join().unwrap();
            }
        });
    }
}
