//! `EventPoll`: the instance (`struct eventpoll`), `ctl` (`ep_insert` / `ep_modify` /
//! `ep_remove`), the OS callback path (`ep_poll_callback`), the harvest (`ep_send_events`) and
//! the wait loop (`ep_poll`).
//!
//! Locking, outermost first (the kernel's `ep->mtx` → `ep->lock`):
//!
//! 1. `mtx` (the interest table): held by `ctl` and by a harvest for its whole scan, so a
//!    registration cannot change or vanish while a harvest samples it.
//! 2. `os` (the OS poller): held only by the thread that has the *poller role*, i.e. the one
//!    thread allowed to sleep in the OS poll; never taken while `lock` is held.
//! 3. `lock` (ready list, overflow list, wait queue, items, level signal): short critical
//!    sections only. The harvest's `poll(2)` runs with `lock` released; the level signal's
//!    eventfd write / read runs inside it (only once the descriptor was handed out), so that
//!    the signal changes in the order of the list changes it mirrors (`exposure.rs`).
//!
//! Where the ready list lives. The kernel has one ready list per instance. Here its older part
//! is ours (`State::rdllist`) and the rest is the OS epoll's, in order:
//!
//! ```text
//!   the kernel's ep->rdllist, head first
//!   ├── ours: triggered user events; descriptor ──┼── the OS epoll's ready list: every descriptor
//!   │   items a waiter took from the OS and has   │   item woken since the OS last returned it,
//!   │   not reported yet (several waiters only)   │   and the LT items it put back when it did
//!   └──────────────────────────────────────────────┴──────────────────────────────────────────────
//!   a wait harvests ours first and takes from the OS exactly the room left (`State::os_fetch`):
//!   the OS's epoll_wait then scans the rest as the kernel's ep_send_events would — the same
//!   samples, drops, LT re-queues at the tail and leftovers left in place
//! ```
//!
//! Ready-list state machine of an item (the kernel's banner, in our terms):
//!
//! ```text
//!            OS event / UserEvent::trigger (armed items only)
//!   idle ─────────────────────────────────────────────────────▶ on rdllist
//!    ▲   (scan active: chained on ovflist, moved to rdllist at scan end)   │ harvest pops it
//!    │                                                                      ▼
//!    ├──── not ready now (poll says nothing) ◀──────────────────────── sampled
//!    ├──── reported, ET ◀───────────────────────────────────────────────────┤
//!    ├──── reported, ONESHOT: disarmed until Mod ◀──────────────────────────┤
//!    ├──── reported, LT descriptor: on the OS's list, put back by the OS ◀──┤
//!    │                                                                      │ reported, counting
//!    └──────────────────────────── back on the rdllist tail ◀───────────────┘ user event, units left
//! ```

use crate::events::{CtlOp, EpollEvent, Events};
use crate::exposure::Exposure;
use crate::interest::Interest;
use crate::item::{Item, Items, Source, Token};
use crate::loom::{lock, AtomicBool, Mutex, Ordering};
use crate::ready_list::{List, OvfList};
use crate::sys;
use crate::wait_queue::{Parked, WaitQueue, Waiter, Wake};
use crate::watches::WatchOwner;
use std::cell::UnsafeCell;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest `maxevents` the kernel accepts (`EP_MAX_EVENTS`: `INT_MAX / sizeof(struct epoll_event)`).
pub const MAX_EVENTS: usize = i32::MAX as usize / 12;

/// Initial capacity of the OS event buffer one OS poll fills; it grows when a wait has room for
/// more and the instance holds more registrations (see `State::os_fetch`).
const OS_EVENTS: usize = 1024;

/// Registrations of the OS epoll that are no item: the waker, the level signal and an identity
/// probe's transient registration (`sys::registered_identity`).
const OS_EXTRA: usize = 3;

/// Items sampled with one `poll(2)` call during a harvest.
const BATCH: usize = 32;

/// A user-space reimplementation of a Linux epoll instance.
///
/// See the [crate documentation](crate) for how readiness flows through it and where it differs
/// from Linux. All methods take `&self`; an instance may be shared between threads (`Send + Sync`)
/// and several threads may wait on it at once.
///
/// ```
/// use reactor::{CtlOp, EpollEvent, EventPoll, Events};
/// use std::io::Write;
/// use std::os::fd::AsRawFd;
///
/// let ep = EventPoll::new()?;
/// let (mut a, b) = std::os::unix::net::UnixStream::pair()?;
/// ep.ctl(CtlOp::Add, b.as_raw_fd(), Some(EpollEvent::new(Events::IN | Events::ET, 7)))?;
/// a.write_all(b"ping")?;
/// let mut buf = [EpollEvent::default(); 64];
/// let n = ep.wait(&mut buf, -1)?;
/// assert_eq!(n, 1);
/// assert_eq!((buf[0].events(), buf[0].data()), (Events::IN, 7));
/// assert_eq!(ep.wait(&mut buf, 0)?, 0); // edge-triggered: reported once
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct EventPoll {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// `ep->mtx`: the interest table and the harvest's scratch; holding it excludes `ctl` and
    /// other harvests.
    mtx: Mutex<Scan>,
    /// `ep->lock`: everything an OS event or a wake-up touches.
    lock: Mutex<State>,
    /// The OS poller and its event buffer. Only the thread holding the *poller role* touches it:
    /// the one that set `State::poller_active` under `lock`; it stops touching it before it
    /// releases the `lock` section that clears the flag (see `poll_os`).
    os: UnsafeCell<OsPoll>,
    /// The OS epoll instance of `os` (our `as_raw_fd`), for `epoll_ctl` and identity probes.
    epfd: RawFd,
    /// Wakes the thread sleeping in the OS poll.
    waker: mio::Waker,
    owner: Arc<WatchOwner>,
    /// Set once `as_raw_fd` handed the descriptor out (then `State::exposure` has its signal).
    exposed: AtomicBool,
}

/// What `mtx` protects.
struct Scan {
    interest: Interest,
    /// Scratch of the harvest, kept here so that a harvest neither allocates nor initialises it.
    batch: Batch,
}

// SAFETY: every field is Sync but `os`, whose accesses are serialized by the poller role (a flag
// set and cleared under `lock`, so the accesses of successive pollers are ordered by that lock);
// `mio::Poll` and the event buffer are `Send`.
unsafe impl Sync for Inner {}

/// The OS poller: the `mio::Poll` that owns the OS epoll instance (and registers the waker's
/// eventfd in it), and the buffer one OS poll fills. The wait itself is `sys::epoll_wait` on
/// that instance, which returns the kernel's bits exactly.
struct OsPoll {
    poll: mio::Poll,
    events: Vec<sys::OsEvent>,
}

/// What `ep->lock` protects.
struct State {
    items: Items,
    /// `ep->rdllist`.
    rdllist: List,
    /// The harvest's `txlist` (kept here because its items' links live in `items`).
    txlist: List,
    /// `ep->ovflist`.
    ovflist: OvfList,
    /// `ep->wq`: threads sleeping in `wait` other than the poller.
    wq: WaitQueue,
    /// A thread holds the poller role (it is in, or about to enter, the OS poll).
    poller_active: bool,
    /// ... and it may block there, so a wake-up must go through the eventfd.
    poller_sleeping: bool,
    /// A wake-up edge is pending in the OS poller and not yet consumed.
    signal_pending: bool,
    /// What watchers of the descriptor cannot see in the OS: the level signal.
    exposure: Exposure,
    /// Sequence number of the latest OS poll (never 0).
    os_seq: u32,
}

/// How to wake "one waiter", decided under `lock` and carried out after it is released.
#[must_use]
enum WakeAction {
    None,
    Thread(Wake),
    Os,
}

impl State {
    /// Queues an item that became ready (the list half of `ep_poll_callback`).
    fn queue(&mut self, index: u32) {
        if self.ovflist.is_active() {
            self.ovflist.push(&mut self.items, index);
        } else if !self.items[index].is_linked() {
            self.rdllist.push_back(&mut self.items, index);
        }
    }

    /// How many events a wait reporting at most `maxevents` takes from the OS poller: what
    /// the items already on our list leave room for (see "Where the ready list lives").
    ///
    /// The kernel's harvest scans its ready list from the head and stops after `maxevents`
    /// reports; our list holds the older part of that list, the OS's the rest, in order. Taking
    /// exactly the room left makes the OS scan exactly the items the kernel's scan would reach
    /// — so it drops the same not-ready items, at the same moment — and leaves every other
    /// item queued in the OS, in place: nothing is taken early, nothing is left over on our
    /// list to be re-sampled with `poll(2)` and identity-probed at the next wait. When our
    /// list alone fills the buffer, the OS is not asked at all.
    ///
    /// Every item on our list counts as one report: a user event always is one; a descriptor
    /// item another waiter left queued may turn out not ready, and the wait then reports fewer
    /// than the kernel would (several waiters only). The OS cannot return more events than it
    /// holds registrations, which bounds the buffer (`poll_os` grows it to this).
    fn os_fetch(&self, maxevents: usize) -> usize {
        maxevents.saturating_sub(self.rdllist.len()).min(self.items.len() + OS_EXTRA)
    }

    /// Whether a wait would find something to harvest (`ep_events_available`).
    fn events_available(&self) -> bool {
        !self.rdllist.is_empty() || !self.ovflist.is_empty()
    }

    /// Wakes one waiter: one queued thread, or else the thread sleeping in the OS poll.
    fn wake_one(&mut self) -> WakeAction {
        if let Some(w) = self.wq.wake_one() {
            WakeAction::Thread(w)
        } else if self.poller_sleeping && !self.signal_pending {
            self.signal_pending = true;
            WakeAction::Os
        } else {
            WakeAction::None
        }
    }

    /// Removes an item from every list and frees it (`ep_remove`).
    fn forget(&mut self, index: u32) -> Item {
        if self.items[index].is_linked() {
            // Only `rdllist` can hold it: the caller holds `mtx`, so no scan is running, except
            // when the harvest itself forgets an item it has already popped.
            self.rdllist.unlink(&mut self.items, index);
        }
        self.ovflist.remove(&mut self.items, index);
        let item = self.items.remove(index);
        if !self.ovflist.is_active() && !self.events_available() {
            self.exposure.lower();
        }
        item
    }
}

impl Inner {
    fn act(&self, action: WakeAction) {
        match action {
            WakeAction::None => {}
            WakeAction::Thread(w) => w.unpark(),
            WakeAction::Os => {
                // An eventfd write cannot fail but for counter overflow, which mio handles.
                let _ = self.waker.wake();
            }
        }
    }

    /// Ends a registration whose descriptor number no longer names the registered file (it was
    /// closed, and maybe reused). If the OS registration lives on, because another descriptor
    /// keeps the file open, the item becomes an orphan that keeps reporting the old file's
    /// readiness, as Linux does; otherwise it is freed and its watch refunded. The caller holds
    /// `mtx` and has taken `index` out of the interest table. Returns whether it was orphaned.
    fn retire(&self, st: &mut State, index: u32) -> bool {
        let token = st.items.token(index);
        let Source::Fd(fd) = st.items[index].source() else { unreachable!("user events have no descriptor") };
        let lives = sys::registrations(self.epfd).is_ok_and(|r| r.contains(&(fd, token.0)));
        if lives {
            st.items[index].orphan = true;
        } else {
            st.forget(index);
            self.owner.refund();
        }
        lives
    }

    /// Frees every registration whose OS registration is gone (its file was closed without
    /// `Del`), refunding its watch. O(registrations); run only when the watch limit is hit.
    fn reap(&self, tree: &mut Interest) {
        let Ok(live) = sys::registrations(self.epfd) else { return };
        let live: std::collections::HashSet<(RawFd, u64)> = live.into_iter().collect();
        let mut st = lock(&self.lock);
        for index in st.items.indices() {
            let Source::Fd(fd) = st.items[index].source() else { continue };
            if !live.contains(&(fd, st.items.token(index).0)) {
                if tree.find(fd) == Some(index) {
                    tree.remove(fd);
                }
                st.forget(index);
                self.owner.refund();
            }
        }
    }
}

/// The bits of the OS registration behind an item.
///
/// The OS registration carries the interest exactly (so the kernel filters wake-ups as it would
/// for a Linux epoll) and the item's mode: level-triggered items stay level-triggered in the OS,
/// so the OS re-queues them at the tail of its ready list when it returns them — the LT
/// re-queue itself —, and ONESHOT items are ONESHOT in the OS too, so a disarmed item collects
/// no wake-ups. Reporting and disarming are done here. With EXCLUSIVE, the bits go to the
/// kernel as given, so that it refuses a bad combination with its own errno, in its own order of
/// checks.
fn os_bits(events: Events) -> u32 {
    if events.contains(Events::EXCLUSIVE) {
        return events.bits();
    }
    let mut bits = events.difference(Events::WAKEUP);
    if bits.contains(Events::ONESHOT) {
        bits |= Events::ET;
    }
    bits.bits()
}

fn errno(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

impl EventPoll {
    /// Creates an instance (`epoll_create1(EPOLL_CLOEXEC)`), charged to the process's
    /// [`WatchOwner`].
    pub fn new() -> io::Result<EventPoll> {
        EventPoll::with_owner(WatchOwner::process().clone())
    }

    /// Creates an instance whose registrations are charged to `owner`.
    pub fn with_owner(owner: Arc<WatchOwner>) -> io::Result<EventPoll> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), mio::Token(Token::WAKE.0 as usize))?;
        let epfd = poll.as_raw_fd();
        let inner = Inner {
            mtx: Mutex::new(Scan { interest: Interest::new(), batch: Batch::new() }),
            lock: Mutex::new(State {
                items: Items::new(),
                rdllist: List::new(),
                txlist: List::new(),
                ovflist: OvfList::new(),
                wq: WaitQueue::new(),
                poller_active: false,
                poller_sleeping: false,
                signal_pending: false,
                exposure: Exposure::new(),
                os_seq: 1,
            }),
            os: UnsafeCell::new(OsPoll { poll, events: vec![sys::NO_EVENT; OS_EVENTS] }),
            epfd,
            waker,
            owner,
            exposed: AtomicBool::new(false),
        };
        Ok(EventPoll { inner: Arc::new(inner) })
    }

    /// The owner registrations are charged to.
    pub fn owner(&self) -> &Arc<WatchOwner> {
        &self.inner.owner
    }

    /// Number of registrations (file descriptors and [`UserEvent`]s).
    pub fn len(&self) -> usize {
        lock(&self.inner.lock).items.len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds, changes or removes the registration of `fd` (`epoll_ctl(2)`).
    ///
    /// `event` is required for [`CtlOp::Add`] and [`CtlOp::Mod`] (`EFAULT` otherwise, as for a
    /// NULL pointer) and ignored for [`CtlOp::Del`]. Errors carry the errno Linux returns for the
    /// same call: `EEXIST`, `ENOENT`, `EBADF`, `EPERM` (a file that cannot be polled), `EINVAL`
    /// (the instance itself, misuse of `EXCLUSIVE`), `ELOOP` (a cycle or a too deep chain of
    /// nested instances), `ENOSPC` (the owner's watch limit).
    pub fn ctl(&self, op: CtlOp, fd: RawFd, event: Option<EpollEvent>) -> io::Result<()> {
        let inner = &*self.inner;
        let mut scan = lock(&inner.mtx);
        let tree = &mut scan.interest;
        match (op, event) {
            (CtlOp::Add, Some(ev)) => self.insert(tree, fd, ev),
            (CtlOp::Mod, Some(ev)) => self.modify(tree, fd, ev),
            (CtlOp::Del, _) => self.remove(tree, fd),
            (CtlOp::Add | CtlOp::Mod, None) => Err(errno(sys::EFAULT)),
        }
    }

    /// `ep_insert`. The OS registration comes first so that its errors (EBADF, EPERM, EINVAL,
    /// ELOOP, EEXIST) arrive in the kernel's order; the item exists before it so that an event
    /// the OS queues at once finds it armed.
    fn insert(&self, tree: &mut Interest, fd: RawFd, ev: EpollEvent) -> io::Result<()> {
        let inner = &*self.inner;
        let events = ev.events() | Events::ERR | Events::HUP;
        let (index, token) = lock(&inner.lock).items.insert(Item::new(Source::Fd(fd), events, ev.data()));
        if let Err(e) = sys::epoll_ctl(inner.epfd, sys::CTL_ADD, fd, os_bits(events), token.0) {
            lock(&inner.lock).items.remove(index);
            return Err(e);
        }
        // The OS accepted (file, fd) as new: a registration we still hold for `fd` belongs to a
        // file that was closed without `Del`, which Linux would have dropped at close.
        if let Some(stale) = tree.remove(fd) {
            inner.retire(&mut lock(&inner.lock), stale);
        }
        // At the limit, first give back the watches of registrations whose file was closed
        // (Linux refunds at close; we learn of it only by asking the OS).
        if let Err(e) = inner.owner.charge().or_else(|_| {
            inner.reap(tree);
            inner.owner.charge()
        }) {
            let _ = sys::epoll_ctl(inner.epfd, sys::CTL_DEL, fd, 0, 0);
            lock(&inner.lock).forget(index);
            return Err(e);
        }
        tree.insert(fd, index);
        Ok(())
    }

    /// `ep_modify`: new interest and data; the OS re-samples the file and queues it if ready.
    fn modify(&self, tree: &mut Interest, fd: RawFd, ev: EpollEvent) -> io::Result<()> {
        let inner = &*self.inner;
        let events = ev.events() | Events::ERR | Events::HUP;
        let index = match tree.find(fd) {
            Some(index) if !events.contains(Events::EXCLUSIVE) => index,
            // Let the OS produce the kernel's error (EBADF, EPERM, EINVAL, ENOENT, in order).
            _ => {
                let token = tree.find(fd).map_or(0, |i| lock(&inner.lock).items.token(i).0);
                return match sys::epoll_ctl(inner.epfd, sys::CTL_MOD, fd, os_bits(events), token) {
                    Err(e) => Err(e),
                    Ok(()) => Err(errno(sys::ENOENT)),
                };
            }
        };
        let (token, old) = {
            let mut st = lock(&inner.lock);
            let token = st.items.token(index);
            let item = &mut st.items[index];
            let old = (item.events, item.data);
            if !item.events.contains(Events::EXCLUSIVE) {
                item.data = ev.data();
                item.events = events;
            }
            (token, old)
        };
        match sys::epoll_ctl(inner.epfd, sys::CTL_MOD, fd, os_bits(events), token.0) {
            Ok(()) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(sys::ENOENT) | Some(sys::EBADF)) => {
                // `fd` no longer names the registered file (closed, maybe reused).
                tree.remove(fd);
                inner.retire(&mut lock(&inner.lock), index);
                Err(e)
            }
            Err(e) => {
                let mut st = lock(&inner.lock);
                let item = &mut st.items[index];
                (item.events, item.data) = old;
                Err(e)
            }
        }
    }

    /// `ep_remove`.
    fn remove(&self, tree: &mut Interest, fd: RawFd) -> io::Result<()> {
        let inner = &*self.inner;
        let res = sys::epoll_ctl(inner.epfd, sys::CTL_DEL, fd, 0, 0);
        let stale = matches!(&res, Err(e) if matches!(e.raw_os_error(), Some(sys::ENOENT) | Some(sys::EBADF)));
        if let Some(index) = if res.is_ok() || stale { tree.remove(fd) } else { None } {
            let mut st = lock(&inner.lock);
            if res.is_ok() {
                st.forget(index);
                inner.owner.refund();
            } else {
                inner.retire(&mut st, index);
            }
        }
        res
    }

    /// Waits for events (`epoll_wait(2)`), filling `events` from the front; returns how many.
    ///
    /// `timeout_ms`: -1 (any negative value) blocks until an event, 0 never blocks, a positive
    /// value returns 0 after about that many milliseconds without events. An empty buffer (or one
    /// longer than [`MAX_EVENTS`]) is `EINVAL`, as `maxevents <= 0` is for Linux. A signal that
    /// interrupts the OS poll is `EINTR`, as for Linux.
    ///
    /// Each reported item's readiness is what the kernel's `ep_item_poll` would give at harvest
    /// time, so the bits are exactly those Linux would report: the OS's own bits for an item the
    /// OS reported during this call (its `epoll_wait` sampled the file just then), a `poll(2)`
    /// sample for any other.
    pub fn wait(&self, events: &mut [EpollEvent], timeout_ms: i32) -> io::Result<usize> {
        if events.is_empty() || events.len() > MAX_EVENTS {
            return Err(errno(sys::EINVAL));
        }
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let mut n = 0;
        self.inner.wait(events.len(), timeout, &mut |ev, data| {
            events[n] = EpollEvent::new(ev, data);
            n += 1;
        })
    }

    /// The runtime's harvest: [`wait`](Self::wait) (the same events, bits and order), but each
    /// event goes to `f` instead of into a buffer, and the timeout is a `Duration` (`None`
    /// blocks).
    ///
    /// `f` runs while the instance's mutex is held: it must not call `ctl`, `wait` or
    /// `harvest` on the same instance (it may trigger [`UserEvent`]s and wake tasks).
    pub fn harvest(&self, maxevents: usize, timeout: Option<Duration>, mut f: impl FnMut(Events, u64)) -> io::Result<usize> {
        if maxevents == 0 {
            return Err(errno(sys::EINVAL));
        }
        self.inner.wait(maxevents, timeout, &mut f)
    }

    /// Creates a user-space event source registered on this instance with `data`; see
    /// [`UserEvent`]. It counts as one watch of the instance's owner.
    pub fn user_event(&self, data: u64) -> io::Result<UserEvent> {
        let inner = &self.inner;
        let _tree = lock(&inner.mtx);
        inner.owner.charge()?;
        let (index, token) =
            lock(&inner.lock).items.insert(Item::new(Source::User, Events::IN | Events::ET | Events::ERR | Events::HUP, data));
        Ok(UserEvent { inner: Arc::clone(inner), index, token })
    }

    /// Creates a *counting* user-space event source: every [`trigger`](UserEvent::trigger) adds
    /// one unit, every report of it delivers (and consumes) one unit, and it stays on the ready
    /// list while units remain — so `n` triggers reach `n` waiters, one each, through the same
    /// wake chain that passes a level-triggered item from waiter to waiter. It is the
    /// user-space analogue of an `EFD_SEMAPHORE` eventfd registered level-triggered whose
    /// waiters each read once; the runtime wakes parked workers with it.
    ///
    /// ```
    /// use reactor::{EpollEvent, EventPoll, Events};
    /// let ep = EventPoll::new()?;
    /// let sem = ep.user_semaphore(9)?;
    /// sem.trigger();
    /// sem.trigger();
    /// let mut buf = [EpollEvent::default(); 8];
    /// assert_eq!(ep.wait(&mut buf, 0)?, 1); // one unit per report
    /// assert_eq!(buf[0], EpollEvent::new(Events::IN, 9));
    /// assert_eq!(ep.wait(&mut buf, 0)?, 1);
    /// assert_eq!(ep.wait(&mut buf, 0)?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn user_semaphore(&self, data: u64) -> io::Result<UserEvent> {
        let inner = &self.inner;
        let _tree = lock(&inner.mtx);
        inner.owner.charge()?;
        let (index, token) = lock(&inner.lock).items.insert(Item::new(Source::User, Events::IN | Events::ERR | Events::HUP, data));
        Ok(UserEvent { inner: Arc::clone(inner), index, token })
    }
}

impl AsRawFd for EventPoll {
    /// The instance's descriptor: an OS epoll descriptor that `poll(2)`, kernel epoll and other
    /// `EventPoll`s see as Linux shows an epoll file — readable while an item on its ready list
    /// is ready, woken once by every wake-up of an item (see the crate docs, "Nesting"). It can
    /// be added to another instance (nesting); it must not be closed or used for `epoll_ctl`
    /// directly.
    ///
    /// The first call creates the *level signal* that shows triggered user events to watchers
    /// (an eventfd in the OS epoll); from then on every [`UserEvent::trigger`] writes it. If no
    /// descriptor can be created for it (`EMFILE`), watchers see descriptor events only.
    fn as_raw_fd(&self) -> RawFd {
        let inner = &*self.inner;
        if !inner.exposed.swap(true, Ordering::Relaxed) {
            let mut st = lock(&inner.lock);
            // Without an eventfd (out of descriptors) the descriptor still shows every
            // descriptor event; only user events stay invisible to watchers.
            let _ = st.exposure.expose(inner.epfd, Token::SIGNAL.0);
            let queued = st.events_available();
            st.exposure.follow(queued);
        }
        inner.epfd
    }
}

impl fmt::Debug for EventPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.inner.lock);
        f.debug_struct("EventPoll")
            .field("fd", &self.inner.epfd)
            .field("registrations", &st.items.len())
            .field("ready", &st.rdllist.len())
            .field("waiters", &st.wq.len())
            .finish()
    }
}

/// One item of a harvest batch.
#[derive(Copy, Clone)]
struct Entry {
    index: u32,
    /// Position in `Batch::pfds`, or `NO_PFD` when the item is not sampled with `poll(2)`.
    pfd: u8,
    /// The latest OS poll confirmed the item.
    fresh: bool,
    /// The number no longer names the registered file.
    gone: bool,
    /// What the OS reported for the item since the last harvest.
    hint: Events,
    /// Readiness to report, before masking with the interest.
    revents: Events,
}

const NO_PFD: u8 = u8::MAX;

/// Per-batch scratch of a harvest, on the stack: what to sample with one `poll(2)` and what
/// came out.
struct Batch {
    len: usize,
    entries: [Entry; BATCH],
    npfds: usize,
    pfds: [sys::PollFd; BATCH],
    nout: usize,
    out: [(Events, u64); BATCH],
}

impl Batch {
    fn new() -> Batch {
        let empty = Entry { index: 0, pfd: NO_PFD, fresh: false, gone: false, hint: Events::empty(), revents: Events::empty() };
        Batch {
            len: 0,
            entries: [empty; BATCH],
            npfds: 0,
            pfds: [sys::PollFd { fd: -1, events: 0, revents: 0 }; BATCH],
            nout: 0,
            out: [(Events::empty(), 0); BATCH],
        }
    }
}

impl Inner {
    /// `ep_poll`: harvest, or sleep (in the OS poll if nobody else does, else on the wait queue)
    /// until something arrives or `timeout` passes.
    fn wait(&self, maxevents: usize, timeout: Option<Duration>, sink: &mut dyn FnMut(Events, u64)) -> io::Result<usize> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut me = None;
        // OS polls numbered after `call_seq` return within this call: what they report is as
        // current as a sample taken now.
        let mut call_seq = None;
        // A signal handler ran while this thread slept: like `ep_poll`, harvest what is there
        // and return it, else fail with EINTR.
        let mut interrupted = false;
        loop {
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let expired = remaining == Some(Duration::ZERO);
            {
                let mut st = lock(&self.lock);
                call_seq.get_or_insert(st.os_seq);
                let ready = st.events_available();
                if interrupted && !ready {
                    return Err(errno(sys::EINTR));
                }
                let fetch = st.os_fetch(maxevents);
                if !st.poller_active && !interrupted && fetch > 0 {
                    // Take the poller role. With events already queued, only collect what the OS
                    // has behind them, up to the room they leave (the kernel's callbacks would have
                    // put them on the list already); else block there.
                    let block = if ready { Some(Duration::ZERO) } else { remaining };
                    // What is on our list is harvested ahead of what the OS returns: the level
                    // signal standing for it must not take one of the OS's slots.
                    st.exposure.lower();
                    st.poller_active = true;
                    st.poller_sleeping = block != Some(Duration::ZERO);
                    drop(st);
                    // SAFETY: this thread just set `poller_active`.
                    match unsafe { self.poll_os(block, fetch) } {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => interrupted = true,
                        Err(e) => return Err(e),
                    }
                } else if !ready {
                    if expired {
                        return Ok(0);
                    }
                    // Another thread sleeps in the OS poll: sleep on the wait queue.
                    let me = me.get_or_insert_with(Waiter::current);
                    st.wq.add_exclusive(me);
                    drop(st);
                    match me.park(deadline) {
                        Parked::Woken => {}
                        // Leave the queue (unless a wake-up took us off it already); the next
                        // round makes a last harvest and returns.
                        Parked::TimedOut => {
                            lock(&self.lock).wq.remove(me);
                        }
                        Parked::Interrupted => {
                            interrupted = true;
                            let mut st = lock(&self.lock);
                            if !st.wq.remove(me) {
                                // A wake-up (maybe the poller role) reached us as the signal
                                // did: pass it on, this thread is leaving with EINTR.
                                let action = st.wake_one();
                                drop(st);
                                self.act(action);
                            }
                        }
                    }
                    continue;
                }
            }
            let n = self.send_events(maxevents, call_seq.unwrap_or(0), sink);
            if n > 0 || expired {
                return Ok(n);
            }
            if interrupted {
                return Err(errno(sys::EINTR));
            }
        }
    }

    /// Polls the OS for readiness (up to `timeout`, `None` = forever) and runs the callback of
    /// every event; then gives up the poller role, handing it to a queued waiter if any.
    /// The caller has set `poller_active`.
    ///
    /// # Safety
    ///
    /// The calling thread must hold the poller role: it set `State::poller_active` itself.
    unsafe fn poll_os(&self, timeout: Option<Duration>, fetch: usize) -> io::Result<()> {
        // SAFETY: the caller holds the poller role, so no other thread touches `os` until the
        // role is given up below, under `lock`, after the last use of `events`.
        let OsPoll { poll, events } = unsafe { &mut *self.os.get() };
        if events.len() < fetch {
            events.resize(fetch, sys::NO_EVENT);
        }
        let res = sys::epoll_wait(poll.as_raw_fd(), &mut events[..fetch], timeout);
        let mut wakes = WakeList::new();
        let mut st = lock(&self.lock);
        st.poller_active = false;
        st.poller_sleeping = false;
        if let Ok(n) = res {
            st.os_seq = st.os_seq.checked_add(1).unwrap_or(1);
            let seq = st.os_seq;
            let mut woken = 0usize;
            for ev in &events[..n] {
                let token = Token(ev.u64);
                if token == Token::WAKE {
                    st.signal_pending = false;
                    continue;
                }
                if token == Token::SIGNAL {
                    // Our own level signal (a trigger raised it while this thread polled): the
                    // trigger has queued its item already.
                    continue;
                }
                // `ep_poll_callback`: ignore events of removed or disarmed registrations.
                let Some((index, item)) = st.items.resolve(token) else { continue };
                if !item.is_armed() {
                    continue;
                }
                item.hint = Events::from_bits_retain(ev.events);
                item.seen = seq;
                st.queue(index);
                // Each callback wakes one waiter; the first is this thread itself.
                woken += 1;
                if woken > 1 {
                    if let Some(w) = st.wq.wake_one() {
                        wakes.push(w);
                    }
                }
            }
        }
        // Hand the poller role on: a queued waiter must not sleep while nobody polls the OS.
        if wakes.is_empty() {
            if let Some(w) = st.wq.wake_one() {
                wakes.push(w);
            }
        }
        drop(st);
        wakes.unpark_all();
        res.map(drop)
    }

    /// `ep_send_events`: moves our ready list to the transfer list, samples each item outside
    /// the lock (readiness arriving meanwhile goes to the overflow list), reports up to
    /// `maxevents`, re-queues counting user events that have units left, and puts back what is
    /// left. The OS's part of the ready list was scanned by the OS poll that preceded (see
    /// `State::os_fetch`); what it returned is on our list now, behind what was there before.
    ///
    /// An item confirmed by an OS poll that returned during this call (`call_seq`) is reported
    /// with the OS's bits (the kernel sampled the file then); any other is sampled with one
    /// `poll(2)` per batch, and checked to still be the registered file.
    fn send_events(&self, maxevents: usize, call_seq: u32, sink: &mut dyn FnMut(Events, u64)) -> usize {
        let mut scan = lock(&self.mtx);
        let Scan { interest: tree, batch: b } = &mut *scan;
        let mut st = lock(&self.lock);
        if !st.events_available() {
            return 0;
        }
        // ep_start_scan
        st.txlist = st.rdllist.take();
        st.ovflist.activate();
        let mut res = 0;
        loop {
            // 1. Pop a batch under the lock, deciding how each item's readiness is known.
            let want = (maxevents - res).min(BATCH);
            b.len = 0;
            b.npfds = 0;
            b.nout = 0;
            while b.len < want {
                let State { txlist, items, .. } = &mut *st;
                let Some(index) = txlist.pop_front(items) else { break };
                let item = &mut items[index];
                let fresh = (item.seen.wrapping_sub(call_seq) as i32) > 0;
                let hint = std::mem::take(&mut item.hint);
                let mut e = Entry { index, pfd: NO_PFD, fresh, gone: false, hint, revents: hint };
                match item.source() {
                    // The old file can no longer be sampled; trust what the OS reported.
                    Source::Fd(_) if item.orphan => {
                        if !fresh {
                            e.revents = Events::empty();
                        }
                    }
                    Source::Fd(fd) if !fresh => {
                        e.pfd = b.npfds as u8;
                        b.pfds[b.npfds] = sys::PollFd { fd, events: sys::POLL_ALL, revents: 0 };
                        b.npfds += 1;
                    }
                    // A counting user event is ready while it has units.
                    Source::User if !item.events.contains(Events::ET) => {
                        e.revents = if item.seen > 0 { Events::IN } else { Events::empty() };
                    }
                    Source::Fd(_) | Source::User => {}
                }
                b.entries[b.len] = e;
                b.len += 1;
            }
            // 2. Sample readiness with the lock released (ep_item_poll).
            if b.npfds > 0 {
                drop(st);
                self.sample(b);
                st = lock(&self.lock);
            }
            // 3. Report under the lock.
            for e in &mut b.entries[..b.len] {
                let index = e.index;
                if e.gone {
                    tree.remove(b.pfds[e.pfd as usize].fd);
                    if !self.retire(&mut st, index) || !e.fresh {
                        continue;
                    }
                    // Orphaned now: report what the OS said about the old file.
                    e.revents = e.hint;
                }
                let item = &mut st.items[index];
                let revents = e.revents & item.events & Events::READINESS;
                if revents.is_empty() {
                    if item.events.contains(Events::ONESHOT) && item.is_armed() && !item.orphan {
                        // The OS disarmed its ONESHOT registration when it reported this item;
                        // it was not ready by now, so re-arm it to hear of the next readiness.
                        if let Source::Fd(fd) = item.source() {
                            let token = st.items.token(index);
                            let _ = sys::epoll_ctl(self.epfd, sys::CTL_MOD, fd, os_bits(st.items[index].events), token.0);
                        }
                    }
                    continue;
                }
                b.out[b.nout] = (revents, item.data);
                b.nout += 1;
                res += 1;
                let requeue = if item.source() == Source::User && !item.events.contains(Events::ET) {
                    // A counting user event: one unit per report; queued again while any remain.
                    item.seen -= 1;
                    item.seen > 0
                } else {
                    if item.events.contains(Events::ONESHOT) {
                        item.events &= Events::PRIVATE;
                    }
                    // A level-triggered descriptor is back at the tail of the OS's ready list
                    // already: the OS put it there when it returned it, where Linux puts it.
                    false
                };
                if requeue {
                    let State { rdllist, items, .. } = &mut *st;
                    rdllist.push_back(items, index);
                }
            }
            if res >= maxevents || st.txlist.is_empty() {
                break;
            }
            if b.nout > 0 {
                drop(st);
                for &(ev, data) in &b.out[..b.nout] {
                    sink(ev, data);
                }
                st = lock(&self.lock);
            }
        }
        // ep_done_scan: leftovers first, then what arrived meanwhile, then the re-queued.
        let State { items, rdllist, txlist, ovflist, .. } = &mut *st;
        let arrived = ovflist.finish(items);
        let leftovers = txlist.take();
        let mut list = rdllist.take();
        list.splice_front(items, arrived);
        list.splice_front(items, leftovers);
        *rdllist = list;
        let queued = st.events_available();
        let wake = if queued { st.wake_one() } else { WakeAction::None };
        // What is left on our list is invisible to the OS: watchers see it through the signal.
        st.exposure.follow(queued);
        drop(st);
        // The last batch goes out with only `mtx` held.
        for &(ev, data) in &b.out[..b.nout] {
            sink(ev, data);
        }
        drop(scan);
        self.act(wake);
        res
    }

    /// Samples the batch's descriptors with one `poll(2)` and marks entries whose number no
    /// longer names the registered file.
    fn sample(&self, b: &mut Batch) {
        let sampled = sys::poll_now(&mut b.pfds[..b.npfds]).is_ok();
        for e in &mut b.entries[..b.len] {
            if e.pfd == NO_PFD {
                continue;
            }
            let pfd = b.pfds[e.pfd as usize];
            let bits = pfd.revents as u16 as u32;
            if !sampled || bits & sys::POLL_NVAL != 0 {
                // Not open any more: the registered file was closed (or sampling failed).
                e.gone = sampled;
                e.revents = Events::empty();
                continue;
            }
            e.revents = Events::from_bits_retain(bits);
            // Unconfirmed by the OS and about to be reported: make sure the number still names
            // the registered file, so a file that reused it never gets the old registration's
            // data.
            if bits != 0 && sys::registered_identity(self.epfd, pfd.fd) == sys::Identity::Changed {
                e.gone = true;
            }
        }
    }
}

/// Threads to unpark after the lock is released, without allocating (tokio's `WakeList`).
struct WakeList {
    len: usize,
    wakes: [Option<Wake>; 4],
}

impl WakeList {
    fn new() -> WakeList {
        WakeList { len: 0, wakes: std::array::from_fn(|_| None) }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a wake-up; past capacity the thread is unparked at once (still correct, as `Wake`
    /// only needs the lock released for efficiency, not for safety).
    fn push(&mut self, w: Wake) {
        if self.len < self.wakes.len() {
            self.wakes[self.len] = Some(w);
            self.len += 1;
        } else {
            w.unpark();
        }
    }

    fn unpark_all(mut self) {
        for w in self.wakes[..self.len].iter_mut() {
            if let Some(w) = w.take() {
                w.unpark();
            }
        }
    }
}

/// A user-space event source: [`trigger`](UserEvent::trigger) from any thread makes the
/// instance report `IN` with this source's data and wakes one waiter. Made by
/// [`EventPoll::user_event`] it is edge-triggered (one report per batch of triggers); made by
/// [`EventPoll::user_semaphore`] it counts (one report per trigger, each to one waiter).
///
/// It is the wake-up path of the runtime (unpark, timers): a trigger costs no system call when
/// no thread sleeps, one futex wake when a thread sleeps on the wait queue, and one eventfd
/// write when the thread to wake sleeps in the OS poll. Once the instance's descriptor has been
/// handed out ([`EventPoll::as_raw_fd`]), every trigger also writes the level signal that shows
/// it to the instance's watchers (one wake-up of theirs per trigger, as for a file). Dropping
/// it removes the registration.
///
/// ```
/// use reactor::{EpollEvent, EventPoll, Events};
/// let ep = EventPoll::new()?;
/// let ev = ep.user_event(42)?;
/// let waiter = std::thread::scope(|s| {
///     let t = s.spawn(|| {
///         let mut buf = [EpollEvent::default(); 8];
///         let n = ep.wait(&mut buf, -1).unwrap();
///         buf[..n].to_vec()
///     });
///     ev.trigger();
///     t.join().unwrap()
/// });
/// assert_eq!(waiter, vec![EpollEvent::new(Events::IN, 42)]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UserEvent {
    inner: Arc<Inner>,
    index: u32,
    token: Token,
}

impl UserEvent {
    /// Marks the source ready and wakes one waiter of the instance.
    pub fn trigger(&self) {
        let inner = &*self.inner;
        let wake = {
            let mut st = lock(&inner.lock);
            let Some((index, item)) = st.items.resolve(self.token) else { return };
            if item.events.contains(Events::ET) {
                item.hint = Events::IN;
            } else {
                // A counting user event (`user_semaphore`): one more unit.
                item.seen = item.seen.saturating_add(1);
            }
            st.queue(index);
            // Every trigger wakes the watchers of the descriptor once, as each
            // `ep_poll_callback` calls `ep_poll_safewake`.
            st.exposure.raise();
            st.wake_one()
        };
        inner.act(wake);
    }

    /// The data reported with this source's events.
    pub fn data(&self) -> u64 {
        let mut st = lock(&self.inner.lock);
        st.items.resolve(self.token).map_or(0, |(_, item)| item.data)
    }
}

impl Drop for UserEvent {
    fn drop(&mut self) {
        let inner = &*self.inner;
        let _tree = lock(&inner.mtx);
        lock(&inner.lock).forget(self.index);
        inner.owner.refund();
    }
}

impl fmt::Debug for UserEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserEvent").field("data", &self.data()).finish()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Every `UserEvent` holds the instance, so what is left are descriptor registrations,
        // in the interest table or orphaned: all are charged to the owner.
        let st = self.lock.get_mut().unwrap_or_else(|e| e.into_inner());
        for _ in 0..st.items.len() {
            self.owner.refund();
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn state(ep: &EventPoll) -> crate::loom::MutexGuard<'_, State> {
        lock(&ep.inner.lock)
    }

    /// Waits (bounded) until `cond` holds on the instance's state.
    fn until(ep: &EventPoll, cond: impl Fn(&State) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !cond(&state(ep)) {
            assert!(Instant::now() < deadline, "condition not reached in 5 s");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Whether `poll(2)` sees the instance's descriptor readable, as its watchers do.
    fn readable(ep: &EventPoll) -> bool {
        let mut p = [sys::PollFd { fd: ep.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        sys::poll_now(&mut p).unwrap();
        p[0].revents & libc::POLLIN != 0
    }

    /// Documented divergence (crate docs, "several threads waiting on one instance"): events a
    /// waiter took from the OS are invisible to watchers until its harvest ends; what the harvest
    /// leaves raises the level signal.
    #[test]
    fn events_a_waiter_took_from_the_os_show_to_watchers_only_when_its_harvest_ends() {
        use std::io::Write;
        let ep = EventPoll::new().unwrap();
        let pairs: Vec<_> = (0..2).map(|_| std::os::unix::net::UnixStream::pair().unwrap()).collect();
        for (i, (_, b)) in pairs.iter().enumerate() {
            ep.ctl(CtlOp::Add, b.as_raw_fd(), Some(EpollEvent::new(Events::IN | Events::ET, i as u64))).unwrap();
        }
        for (a, _) in &pairs {
            (&*a).write_all(b"x").unwrap();
        }
        assert!(readable(&ep), "queued in the OS: the kernel's scan sees them");
        // A waiter's OS poll, stopped before its harvest (as another thread sees it meanwhile).
        state(&ep).poller_active = true;
        // SAFETY: this thread set `poller_active` just above.
        unsafe { ep.inner.poll_os(Some(Duration::ZERO), 8) }.unwrap();
        assert_eq!(state(&ep).rdllist.len(), 2, "both taken from the OS");
        assert!(!readable(&ep), "taken and not yet reported: invisible to watchers");
        // A harvest with room for one leaves the other on our list: the signal shows it.
        let mut buf = [EpollEvent::default(); 1];
        assert_eq!(ep.wait(&mut buf, 0).unwrap(), 1);
        assert!(readable(&ep), "the leftover raised the level signal");
        assert_eq!(ep.wait(&mut buf, 0).unwrap(), 1);
        assert!(!readable(&ep), "lowered once the list is empty");
    }

    /// Documented divergence (crate docs, "several threads waiting on one instance"): waking a
    /// waiter that sleeps in the OS poll (an eventfd write) wakes the watchers too, and the
    /// descriptor reads readable until that waiter's OS poll consumes the wake-up.
    #[test]
    fn waking_the_waiter_in_the_os_poll_wakes_the_watchers_until_it_polls() {
        let ep = EventPoll::new().unwrap();
        let watcher = EventPoll::new().unwrap();
        watcher.ctl(CtlOp::Add, ep.as_raw_fd(), Some(EpollEvent::new(Events::IN | Events::ET, 9))).unwrap();
        let mut buf = [EpollEvent::default(); 4];
        assert_eq!(watcher.wait(&mut buf, 0).unwrap(), 0);
        // What `wake_one` does when the thread to wake sleeps in the OS poll.
        let action = {
            let mut st = state(&ep);
            st.poller_sleeping = true;
            let action = st.wake_one();
            st.poller_sleeping = false;
            action
        };
        assert!(matches!(action, WakeAction::Os));
        ep.inner.act(action);
        assert_eq!(watcher.wait(&mut buf, 0).unwrap(), 1, "the waiter's wake-up is a wake-up of the watchers");
        assert!(readable(&ep), "until the waiter polls");
        assert_eq!(ep.wait(&mut buf, 0).unwrap(), 0, "nothing for the instance's own waiters");
        assert!(!readable(&ep), "the OS poll consumed the wake-up");
    }

    #[test]
    fn dropping_an_instance_refunds_every_watch_including_orphans() {
        let owner = WatchOwner::new(8);
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        {
            let ep = EventPoll::with_owner(owner.clone()).unwrap();
            ep.ctl(CtlOp::Add, a.as_raw_fd(), Some(EpollEvent::new(Events::IN, 1))).unwrap();
            ep.ctl(CtlOp::Add, b.as_raw_fd(), Some(EpollEvent::new(Events::IN, 2))).unwrap();
            // Orphan `b`'s registration: close its number while a dup keeps the file open.
            let dup = b.try_clone().unwrap();
            drop(b);
            use std::io::Write;
            (&a).write_all(b"x").unwrap();
            let mut buf = [EpollEvent::default(); 4];
            assert_eq!(ep.wait(&mut buf, 0).unwrap(), 1, "the orphan still reports, as on Linux");
            assert_eq!(owner.watches(), 2);
            drop(dup);
        }
        assert_eq!(owner.watches(), 0);
    }

    #[test]
    fn a_counting_user_event_reaches_one_waiter_per_trigger() {
        let ep = EventPoll::new().unwrap();
        let sem = ep.user_semaphore(5).unwrap();
        let returned = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    let mut buf = [EpollEvent::default(); 8];
                    let n = ep.wait(&mut buf, -1).unwrap();
                    assert_eq!(&buf[..n], &[EpollEvent::new(Events::IN, 5)]);
                    returned.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
            // All three asleep: one in the OS poll, two on the wait queue.
            until(&ep, |st| st.poller_sleeping && st.wq.len() == 2);
            sem.trigger();
            sem.trigger();
            let deadline = Instant::now() + Duration::from_secs(5);
            while returned.load(std::sync::atomic::Ordering::SeqCst) < 2 {
                assert!(Instant::now() < deadline, "two triggers did not reach two waiters");
                std::thread::sleep(Duration::from_millis(1));
            }
            // The units are spent: the third waiter stays asleep until a third trigger.
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!(returned.load(std::sync::atomic::Ordering::SeqCst), 2);
            sem.trigger();
        });
        assert_eq!(returned.into_inner(), 3);
        let mut buf = [EpollEvent::default(); 8];
        assert_eq!(ep.wait(&mut buf, 0).unwrap(), 0);
    }

    #[test]
    fn trigger_without_sleepers_makes_no_system_call() {
        let ep = EventPoll::new().unwrap();
        let ev = ep.user_event(1).unwrap();
        ev.trigger();
        ev.trigger();
        let st = state(&ep);
        // No eventfd write (no pending OS signal) and no thread to unpark.
        assert!(!st.signal_pending);
        assert_eq!(st.wq.len(), 0);
        assert_eq!(st.rdllist.len(), 1, "queued once");
        drop(st);
        let mut buf = [EpollEvent::default(); 4];
        assert_eq!(ep.wait(&mut buf, 0).unwrap(), 1);
        assert_eq!(buf[0], EpollEvent::new(Events::IN, 1));
    }

    #[test]
    fn trigger_wakes_the_thread_sleeping_in_the_os_poll() {
        let ep = EventPoll::new().unwrap();
        let ev = ep.user_event(7).unwrap();
        std::thread::scope(|s| {
            let t = s.spawn(|| {
                let mut buf = [EpollEvent::default(); 4];
                let n = ep.wait(&mut buf, -1).unwrap();
                buf[..n].to_vec()
            });
            until(&ep, |st| st.poller_sleeping);
            ev.trigger();
            // The wake-up went through the eventfd (unless the poller already consumed it).
            {
                let st = state(&ep);
                assert!(st.signal_pending || !st.poller_sleeping);
            }
            ev.trigger();
            assert_eq!(t.join().unwrap(), vec![EpollEvent::new(Events::IN, 7)]);
        });
    }

    #[test]
    fn trigger_wakes_a_queued_waiter_and_leaves_the_os_poller_asleep() {
        let ep = EventPoll::new().unwrap();
        let ev = ep.user_event(3).unwrap();
        let quit = ep.user_event(4).unwrap();
        std::thread::scope(|s| {
            let mut buf = [EpollEvent::default(); 1];
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let ep = &ep;
                    s.spawn(move || {
                        let mut buf = [EpollEvent::default(); 1];
                        let n = ep.wait(&mut buf, -1).unwrap();
                        buf[..n].to_vec()
                    })
                })
                .collect();
            // One thread sleeps in the OS poll, the other on the wait queue.
            until(&ep, |st| st.poller_sleeping && st.wq.len() == 1);
            ev.trigger();
            // The queued waiter was taken off the queue (a futex wake), not the OS poller.
            {
                let st = state(&ep);
                assert!(!st.signal_pending, "no eventfd write while a queued waiter can take the event");
            }
            quit.trigger();
            let mut got: Vec<EpollEvent> = waiters.into_iter().flat_map(|w| w.join().unwrap()).collect();
            got.sort_by_key(|e| e.data());
            assert_eq!(got, vec![EpollEvent::new(Events::IN, 3), EpollEvent::new(Events::IN, 4)]);
            assert_eq!(ep.wait(&mut buf, 0).unwrap(), 0);
        });
    }
}
