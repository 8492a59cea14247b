//! The runtime's table of I/O registrations: what an `EventPoll` event's data names.
//!
//! An event's data is a token `generation << 32 | index` into a slab of [`ScheduledIo`]s. The
//! driver looks tokens up while harvesting (one lock per harvest, not per event); a token whose
//! generation no longer matches names a registration that was removed, and its event is
//! dropped. Generations are 31 bits, so a token never equals the driver's own user-event data
//! (`u64::MAX`, `u64::MAX - 1`).

use super::scheduled_io::{ScheduledIo, WakeList};
use super::Ready;
use crate::loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Mutex};
use std::io;
use std::task::{Context, Poll, Waker};

const GEN_MASK: u32 = 0x7fff_ffff;

pub(crate) struct Registry {
    slab: Mutex<Slab>,
    /// Live registrations (changed under the slab's lock, read without it: `Driver::is_idle`).
    live: AtomicUsize,
    /// Bumped each time the fd of a removed registration was closed.
    released: AtomicU64,
    /// Whether `release_waiters` may be non-empty (saves the lock on every close).
    has_release_waiters: AtomicBool,
    release_waiters: Mutex<Vec<Waker>>,
}

#[derive(Default)]
pub(crate) struct Slab {
    entries: Vec<Entry>,
    free: Vec<u32>,
    shutdown: bool,
}

struct Entry {
    gen: u32,
    io: Option<Arc<ScheduledIo>>,
}

impl Slab {
    /// Dispatches an event to the registration `token` names, if it is still registered.
    pub(crate) fn dispatch(&self, token: u64, ready: Ready, wake: &mut WakeList) {
        let (gen, idx) = ((token >> 32) as u32, token as u32);
        if let Some(Entry { gen: g, io: Some(io) }) = self.entries.get(idx as usize) {
            if *g == gen {
                io.set_readiness(ready, wake);
            }
        }
    }
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            slab: Mutex::new(Slab::default()),
            live: AtomicUsize::new(0),
            released: AtomicU64::new(0),
            has_release_waiters: AtomicBool::new(false),
            release_waiters: Mutex::new(Vec::new()),
        }
    }

    /// Locks the table for a harvest's dispatch.
    pub(crate) fn lock(&self) -> impl std::ops::Deref<Target = Slab> + '_ {
        self.slab.lock()
    }

    /// Adds a registration; returns its token. Fails once the runtime has shut down.
    pub(crate) fn insert(&self) -> io::Result<(u64, Arc<ScheduledIo>)> {
        let io = Arc::new(ScheduledIo::new());
        let mut slab = self.slab.lock();
        if slab.shutdown {
            return Err(io::Error::other("cannot register I/O with a runtime that has shut down"));
        }
        let idx = match slab.free.pop() {
            Some(idx) => idx,
            None => {
                let idx = u32::try_from(slab.entries.len()).map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
                slab.entries.push(Entry { gen: 0, io: None });
                idx
            }
        };
        let entry = &mut slab.entries[idx as usize];
        entry.io = Some(io.clone());
        self.live.fetch_add(1, Ordering::AcqRel);
        Ok((u64::from(entry.gen) << 32 | u64::from(idx), io))
    }

    /// Removes the registration `token` (after it was deleted from the `EventPoll`, before its
    /// fd is closed).
    pub(crate) fn remove(&self, token: u64) {
        let (gen, idx) = ((token >> 32) as u32, token as u32);
        let mut slab = self.slab.lock();
        if let Some(entry) = slab.entries.get_mut(idx as usize) {
            if entry.gen == gen && entry.io.take().is_some() {
                entry.gen = (entry.gen + 1) & GEN_MASK;
                slab.free.push(idx);
                self.live.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Whether nothing is registered.
    pub(crate) fn is_empty(&self) -> bool {
        self.live.load(Ordering::Acquire) == 0
    }

    /// A registered fd was closed: wakes the tasks waiting for a file descriptor to be freed.
    pub(crate) fn notify_released(&self) {
        self.released.fetch_add(1, Ordering::SeqCst);
        if self.has_release_waiters.load(Ordering::SeqCst) {
            let waiters = {
                let mut list = self.release_waiters.lock();
                // Cleared under the lock: a waiter that registers after us sets it again.
                self.has_release_waiters.store(false, Ordering::SeqCst);
                std::mem::take(&mut *list)
            };
            waiters.into_iter().for_each(Waker::wake);
        }
    }

    /// The count of closed registered fds so far (see [`poll_released`](Self::poll_released)).
    pub(crate) fn released(&self) -> u64 {
        self.released.load(Ordering::Acquire)
    }

    /// Ready once a registered fd was closed after `since` was read from
    /// [`released`](Self::released).
    pub(crate) fn poll_released(&self, cx: &mut Context<'_>, since: u64) -> Poll<()> {
        if self.released() != since {
            return Poll::Ready(());
        }
        let mut waiters = self.release_waiters.lock();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        self.has_release_waiters.store(true, Ordering::SeqCst);
        drop(waiters);
        if self.released.load(Ordering::SeqCst) != since {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Refuses new registrations and fails every pending and later poll of the existing ones.
    pub(crate) fn shutdown(&self) {
        let mut wake = Vec::new();
        {
            let mut slab = self.slab.lock();
            slab.shutdown = true;
            for io in slab.entries.iter().filter_map(|e| e.io.as_ref()) {
                io.shutdown(&mut wake);
            }
        }
        wake.into_iter().for_each(Waker::wake);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_stale_token_is_not_dispatched_to_the_registration_that_reuses_its_place() {
        let reg = Registry::new();
        let (old, _io_old) = reg.insert().unwrap();
        reg.remove(old);
        let (new, io_new) = reg.insert().unwrap();
        assert_eq!(old as u32, new as u32, "the place is reused");
        assert_ne!(old, new);
        let mut wake = Vec::new();
        reg.lock().dispatch(old, Ready::READABLE, &mut wake);
        assert!(io_new.readiness(super::super::Interest::READABLE).unwrap().is_none());
        reg.lock().dispatch(new, Ready::READABLE, &mut wake);
        assert!(io_new.readiness(super::super::Interest::READABLE).unwrap().is_some());
    }

    #[test]
    fn tokens_never_collide_with_the_driver_user_events() {
        let reg = Registry::new();
        for _ in 0..1000 {
            let (t, _) = reg.insert().unwrap();
            assert!(t < u64::MAX - 1);
            reg.remove(t);
        }
        let mut slab = reg.slab.lock();
        slab.entries[0].gen = GEN_MASK;
        drop(slab);
        let (t, _) = reg.insert().unwrap();
        assert!(t < u64::MAX - 1);
        reg.remove(t);
        assert_eq!(reg.slab.lock().entries[0].gen, 0);
    }

    #[test]
    fn a_waiter_for_a_freed_descriptor_is_woken_by_the_next_close_only() {
        struct Flag(std::sync::atomic::AtomicUsize);
        impl std::task::Wake for Flag {
            fn wake(self: std::sync::Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let reg = Registry::new();
        let flag = std::sync::Arc::new(Flag(0.into()));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let since = reg.released();
        assert!(reg.poll_released(&mut cx, since).is_pending());
        let (t, _) = reg.insert().unwrap();
        reg.remove(t); // deregistered, not closed yet
        assert!(reg.poll_released(&mut cx, since).is_pending());
        reg.notify_released();
        assert_eq!(flag.0.load(Ordering::SeqCst), 1);
        assert!(reg.poll_released(&mut cx, since).is_ready());
        // A second waiter registered after the first wake-up is woken by the next close.
        let since = reg.released();
        assert!(reg.poll_released(&mut cx, since).is_pending());
        reg.notify_released();
        assert_eq!(flag.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn registering_after_shutdown_fails() {
        let reg = Registry::new();
        reg.shutdown();
        assert!(reg.insert().is_err());
    }
}
