//! The instance as its watchers see it: `poll(2)`, kernel epoll and other `EventPoll`s that watch
//! [`EventPoll::as_raw_fd`](crate::EventPoll#method.as_raw_fd), the instance's OS epoll descriptor.
//!
//! Linux answers a poll of an epoll file with `__ep_eventpoll_poll`: a scan of its ready list
//! that drops the items found not ready and stops at the first ready one. For descriptor items
//! that scan is exact here without any help, because their ready list *is* the OS epoll's ready
//! list (see "Where the ready list lives" in `eventpoll.rs`): the kernel scans it itself.
//! What the OS cannot see are the items only this crate queues — triggered user events, and
//! descriptor items a waiter took from the OS but has not reported yet. For those, an exposed
//! instance keeps one more file in its OS epoll, the *level signal*: an eventfd registered
//! level-triggered for `EPOLLIN`, readable exactly while such items are queued.
//!
//! ```text
//!   UserEvent::trigger ───────────▶ raise: counter += 1   one wake-up of every watcher (an edge
//!                                                        for ET ones), as ep_poll_callback's
//!                                                        ep_poll_safewake; readable from now on
//!   harvest ends, lists non-empty ─▶ raise, unless raised
//!   harvest ends, lists empty ─────▶ lower: counter = 0  the next scan by a watcher drops the
//!                                                        signal, as it drops an item not ready
//!   the instance polls its own OS ─▶ lower               the queued items are harvested ahead of
//!   epoll for more events                                anything the poll returns, so the
//!                                                        signal must not take one of its slots
//! ```
//!
//! Every call is made with the instance's `lock` held: the counter changes in the order of the
//! list changes it mirrors, so a lower can never overtake the raise of a later trigger (the
//! `loom` model below checks exactly that, and fails when the write is moved out of the lock).
//! An instance whose descriptor was never handed out has no signal and makes no system call.

use std::io;
use std::os::fd::RawFd;

/// The level signal of one instance (what `lock` protects of it).
#[derive(Debug)]
pub(crate) struct Exposure {
    /// The eventfd, once the descriptor was handed out.
    signal: Option<Counter>,
    /// The counter is non-zero: watchers see the instance readable.
    raised: bool,
}

impl Exposure {
    pub(crate) const fn new() -> Exposure {
        Exposure { signal: None, raised: false }
    }

    /// Creates the signal and registers it in the OS epoll instance `epfd` with `token`, lowered.
    pub(crate) fn expose(&mut self, epfd: RawFd, token: u64) -> io::Result<()> {
        if self.signal.is_none() {
            let counter = Counter::new()?;
            counter.register(epfd, token)?;
            self.signal = Some(counter);
        }
        Ok(())
    }

    /// One wake-up of the watchers; readable until [`lower`](Self::lower).
    pub(crate) fn raise(&mut self) {
        if let Some(c) = &self.signal {
            c.add();
            self.raised = true;
        }
    }

    /// Not readable any more (no wake-up).
    pub(crate) fn lower(&mut self) {
        if let (Some(c), true) = (&self.signal, self.raised) {
            c.reset();
            self.raised = false;
        }
    }

    /// Raises the signal if `queued` and it is lowered, lowers it if not `queued`.
    pub(crate) fn follow(&mut self, queued: bool) {
        if queued && !self.raised {
            self.raise();
        } else if !queued {
            self.lower();
        }
    }

    #[cfg(test)]
    fn is_readable(&self) -> bool {
        self.signal.as_ref().is_some_and(Counter::is_readable)
    }
}

/// The eventfd behind the signal.
#[cfg(not(loom))]
#[derive(Debug)]
struct Counter(std::os::fd::OwnedFd);

#[cfg(not(loom))]
impl Counter {
    fn new() -> io::Result<Counter> {
        crate::sys::eventfd().map(Counter)
    }

    fn register(&self, epfd: RawFd, token: u64) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        crate::sys::epoll_ctl(epfd, crate::sys::CTL_ADD, self.0.as_raw_fd(), crate::sys::EPOLLIN, token)
    }

    fn add(&self) {
        use std::os::fd::AsRawFd;
        crate::sys::eventfd_add(self.0.as_raw_fd());
    }

    fn reset(&self) {
        use std::os::fd::AsRawFd;
        crate::sys::eventfd_reset(self.0.as_raw_fd());
    }

    #[cfg(test)]
    fn is_readable(&self) -> bool {
        use std::os::fd::AsRawFd;
        let mut p = [crate::sys::PollFd { fd: self.0.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        crate::sys::poll_now(&mut p).is_ok() && p[0].revents & libc::POLLIN != 0
    }
}

/// Under loom, the eventfd is its counter: an atomic that the model reads after the threads end.
#[cfg(loom)]
#[derive(Debug)]
struct Counter(crate::loom::Arc<crate::loom::AtomicU64>);

#[cfg(loom)]
impl Counter {
    fn new() -> io::Result<Counter> {
        Ok(Counter(crate::loom::Arc::new(crate::loom::AtomicU64::new(0))))
    }

    fn register(&self, _epfd: RawFd, _token: u64) -> io::Result<()> {
        Ok(())
    }

    fn add(&self) {
        self.0.fetch_add(1, crate::loom::Ordering::SeqCst);
    }

    fn reset(&self) {
        self.0.store(0, crate::loom::Ordering::SeqCst);
    }

    #[cfg(test)]
    fn is_readable(&self) -> bool {
        self.0.load(crate::loom::Ordering::SeqCst) > 0
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn an_unexposed_signal_makes_no_system_call_and_is_never_readable() {
        let mut x = Exposure::new();
        x.raise();
        x.follow(true);
        assert!(x.signal.is_none() && !x.raised && !x.is_readable());
    }

    #[test]
    fn the_signal_is_readable_exactly_between_raise_and_lower() {
        // SAFETY: epoll_create1 takes no pointers; the result is checked and closed below.
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(epfd >= 0);
        let mut x = Exposure::new();
        x.expose(epfd, 7).unwrap();
        assert!(x.signal.is_some() && !x.is_readable());
        x.raise();
        x.raise();
        assert!(x.is_readable());
        x.follow(true);
        assert!(x.is_readable(), "following a queued state keeps it raised");
        x.follow(false);
        assert!(!x.is_readable(), "lowered once nothing is queued");
        x.lower();
        assert!(!x.is_readable());
        // The OS epoll reports the signal while it is raised, with its token.
        x.raise();
        let mut evs = [crate::sys::NO_EVENT; 4];
        let n = crate::sys::epoll_wait(epfd, &mut evs, Some(std::time::Duration::ZERO)).unwrap();
        assert_eq!((n, { evs[0].u64 }), (1, 7));
        x.lower();
        assert_eq!(crate::sys::epoll_wait(epfd, &mut evs, Some(std::time::Duration::ZERO)).unwrap(), 0);
        // SAFETY: `epfd` is ours and no longer used.
        unsafe { libc::close(epfd) };
    }
}

/// Model of the protocol: a trigger queues and raises under the lock while a harvest takes what
/// is queued and follows what is left under the lock; whatever the interleaving, the signal ends
/// readable exactly when an event is queued. Checked against a broken variant that writes the
/// eventfd after the trigger's unlock: the model then finds the harvest taking the event and
/// lowering the signal before the trigger's late write raises it — readable with nothing queued.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::{lock, thread, Arc, Mutex};

    struct Shared {
        queued: usize,
        exposure: Exposure,
    }

    #[test]
    fn loom_level_signal_follows_the_queue() {
        loom::model(|| {
            let mut exposure = Exposure::new();
            exposure.expose(-1, 0).unwrap();
            let st = Arc::new(Mutex::new(Shared { queued: 0, exposure }));
            let trigger = {
                let st = st.clone();
                thread::spawn(move || {
                    let mut g = lock(&st);
                    g.queued += 1;
                    g.exposure.raise();
                })
            };
            let harvest = {
                let st = st.clone();
                thread::spawn(move || {
                    // A harvest: takes what is queued, then follows what is left.
                    let mut g = lock(&st);
                    g.queued = g.queued.saturating_sub(1);
                    let left = g.queued > 0;
                    g.exposure.follow(left);
                })
            };
            trigger.join().unwrap();
            harvest.join().unwrap();
            let g = lock(&st);
            assert_eq!(g.exposure.is_readable(), g.queued > 0);
        });
    }
}
