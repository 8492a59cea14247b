//! The watch limit: the kernel's `max_user_watches`, charged to an instance's owner.
//!
//! Linux charges every registration to the user that created the epoll instance and refuses a
//! new one with `ENOSPC` once the user holds `/proc/sys/fs/epoll/max_user_watches`. Here the
//! owner is a [`WatchOwner`]: every instance made by [`EventPoll::new`](crate::EventPoll::new)
//! is charged to the process's owner, whose limit starts at the system's value; an instance made
//! with [`EventPoll::with_owner`](crate::EventPoll::with_owner) is charged to the owner given.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// An account of registrations with a limit (the kernel's per-user `epoll_watches` counter).
///
/// ```
/// use reactor::{CtlOp, EpollEvent, EventPoll, Events, WatchOwner};
/// # use std::os::fd::AsRawFd;
/// let owner = WatchOwner::new(1);
/// let ep = EventPoll::with_owner(owner.clone())?;
/// let (a, b) = std::os::unix::net::UnixStream::pair()?;
/// ep.ctl(CtlOp::Add, a.as_raw_fd(), Some(EpollEvent::new(Events::IN, 0)))?;
/// let err = ep.ctl(CtlOp::Add, b.as_raw_fd(), Some(EpollEvent::new(Events::IN, 1))).unwrap_err();
/// assert_eq!(err.raw_os_error(), Some(libc::ENOSPC));
/// assert_eq!(owner.watches(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct WatchOwner {
    watches: AtomicUsize,
    limit: AtomicUsize,
}

/// Used when `/proc/sys/fs/epoll/max_user_watches` cannot be read.
const FALLBACK_LIMIT: usize = 1 << 20;

impl WatchOwner {
    /// A new owner allowed `limit` registrations across all its instances.
    pub fn new(limit: usize) -> Arc<WatchOwner> {
        Arc::new(WatchOwner { watches: AtomicUsize::new(0), limit: AtomicUsize::new(limit) })
    }

    /// The owner of the instances made by [`EventPoll::new`](crate::EventPoll::new), limited
    /// like the kernel's `max_user_watches` at first use.
    pub fn process() -> &'static Arc<WatchOwner> {
        static OWNER: OnceLock<Arc<WatchOwner>> = OnceLock::new();
        OWNER.get_or_init(|| WatchOwner::new(crate::sys::max_user_watches().unwrap_or(FALLBACK_LIMIT)))
    }

    /// Registrations currently charged.
    pub fn watches(&self) -> usize {
        self.watches.load(Ordering::Relaxed)
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Changes the limit; registrations already made stay.
    pub fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Charges one registration, or fails with `ENOSPC` at the limit.
    pub(crate) fn charge(&self) -> io::Result<()> {
        let limit = self.limit();
        self.watches
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < limit).then_some(n + 1))
            .map(drop)
            .map_err(|_| io::Error::from_raw_os_error(crate::sys::ENOSPC))
    }

    /// Returns one registration.
    pub(crate) fn refund(&self) {
        self.watches.fetch_sub(1, Ordering::Relaxed);
    }
}
