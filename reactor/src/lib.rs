//! # reactor — Linux's eventpoll, rebuilt in user space
//!
//! [`EventPoll`] is a Rust reimplementation of `fs/eventpoll.c`: an interest table of
//! registrations, a ready list, an overflow list that catches readiness arriving while a harvest
//! runs outside the lock, level-triggered / edge-triggered / oneshot / exclusive modes, a wait
//! queue of sleeping threads woken one at a time, and nesting (an instance is itself pollable).
//! It keeps the epoll contract — the same calls, bits, errnos and ordering — and is checked
//! against kernel epoll by differential tests (`tests/differential.rs`,
//! `tests/random_differential.rs`).
//!
//! ```
//! use reactor::{CtlOp, EpollEvent, EventPoll, Events};
//! use std::io::{Read, Write};
//! use std::os::fd::AsRawFd;
//!
//! let ep = EventPoll::new()?;
//! let (mut a, mut b) = std::os::unix::net::UnixStream::pair()?;
//! ep.ctl(CtlOp::Add, b.as_raw_fd(), Some(EpollEvent::new(Events::IN, 1)))?; // level-triggered
//! a.write_all(b"hi")?;
//! let mut buf = [EpollEvent::default(); 8];
//! assert_eq!(ep.wait(&mut buf, -1)?, 1);
//! assert_eq!(ep.wait(&mut buf, 0)?, 1);      // still readable: reported again
//! b.read_exact(&mut [0; 2])?;
//! assert_eq!(ep.wait(&mut buf, 0)?, 0);      // drained: not reported
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## How readiness flows
//!
//! In the kernel, a file's wake-up calls `ep_poll_callback`, which puts the registration
//! (`epitem`) on the instance's ready list and wakes one waiter. A user-space eventpoll cannot
//! hook file wake-ups, so each instance owns one OS epoll instance (a `mio::Poll`, which also
//! registers the waker's eventfd), in which every registered descriptor is registered too. OS
//! events — read with `epoll_wait(2)` on that instance, so their bits are the kernel's own,
//! exactly — play the part of the callback:
//!
//! ```text
//!  file (socket, pipe, eventfd, nested epoll …)
//!    │ wake-up
//!    ▼
//!  OS epoll of the instance (mio::Poll)        UserEvent::trigger() ─┐ (no syscall)
//!    │ epoll_wait by the one "poller" thread                         │
//!    ▼                                                               ▼
//!  callback (ep_poll_callback): item → ready list, or → overflow list while a harvest runs;
//!                               wake one waiter (futex, or eventfd if it sleeps in the OS poll)
//!    │
//!    ▼
//!  harvest (ep_send_events): ready list → transfer list; each item sampled with poll(2)
//!                            (ep_item_poll) outside the lock; report; LT → ready list tail;
//!                            ONESHOT → disarmed; leftovers and overflow → ready list head
//!    │
//!    ├──▶ EventPoll::wait(&mut [EpollEvent], ms)      the epoll contract, exact bits
//!    └──▶ EventPoll::harvest(max, timeout, |ev, data|) the runtime's path: the same events,
//!                                                     no copy, no allocation
//!          └──▶ executor: wake the task waiting on `data`
//! ```
//!
//! ### Waiters
//!
//! Only one thread at a time sleeps in the OS poll: it holds the *poller role*. Every other
//! waiter sleeps on the instance's wait queue, exclusively, and a
//! wake-up reaches one of them. When the poller returns from the OS with events, it runs their
//! callbacks (each callback wakes one more queued waiter, as each `ep_poll_callback` does) and
//! gives up the role; if waiters are queued, one of them is woken to take the role over, so no
//! waiter ever sleeps while nobody listens to the OS. A harvest that leaves items on the ready
//! list (LT re-queue, leftovers beyond `maxevents`) wakes the next waiter, as `ep_done_scan`
//! does: one write wakes one waiter of an ET registration and, through that chain, every waiter
//! of an LT one — the kernel's counts.
//!
//! ### Locking (outermost first)
//!
//! | lock | kernel | protects | held by |
//! |---|---|---|---|
//! | `mtx` | `ep->mtx` | the interest table | `ctl`, a harvest's whole scan |
//! | `os` | — | the OS poller and its event buffer | the poller thread |
//! | `lock` | `ep->lock` | items, ready / transfer / overflow lists, wait queue | short sections; callbacks, triggers |
//!
//! A harvest samples items with `lock` released; readiness arriving then (from the poller
//! thread or a trigger) goes to the overflow list and is put back, in arrival order, at the head
//! of the ready list when the scan ends. `ctl` cannot run during a scan (`mtx`), so an item being
//! sampled cannot vanish.
//!
//! ### Modes, and the OS registration behind each item
//!
//! The OS registration of an item carries its interest bits exactly, so the kernel filters
//! wake-ups as it would for a Linux epoll. Level-triggered items are level-triggered in the OS
//! too, so each OS poll re-confirms them while they are ready; edge-triggered items are
//! edge-triggered there; ONESHOT items are ONESHOT there, so a disarmed item collects no
//! wake-ups (re-armed in the OS when a harvest finds it no longer ready, and by `Mod`).
//! Reporting, the LT re-queue, disarming and the ready-list order are this crate's.
//! `EXCLUSIVE` is passed to the OS, which then wakes only one of several instances watching the
//! same file, and refuses bad combinations with the kernel's own errno.
//!
//! ### Nesting
//!
//! An [`EventPoll`]'s [`as_raw_fd`](std::os::fd::AsRawFd::as_raw_fd) is the instance's OS epoll
//! descriptor. The OS sees it readable while it has unharvested OS events or ready
//! level-triggered items; for leftovers and user events, which only this crate knows about, the
//! instance writes its eventfd (registered in its own OS epoll) once the descriptor has been
//! handed out. An `EventPoll` inside another (or inside
//! kernel epoll) is therefore nested in the OS as well, and the kernel's loop and depth checks
//! apply unchanged: a cycle or a chain deeper than the kernel's limit fails with `ELOOP`.
//!
//! ### `close(2)` without `Del`
//!
//! Linux drops a registration when its file is closed (all descriptors of it). This crate cannot
//! see `close(2)`; its rule is:
//!
//! * A registration stays until `Del`, or until the instance finds its descriptor number no
//!   longer names the registered file — at the next harvest that samples it, at the next `ctl`
//!   on that number, or when the watch limit is reached (it then reaps closed registrations and
//!   refunds their watches).
//! * **An event registered for an old file is never delivered as an event of a new file that
//!   reuses the number.** Sampling a closed number gives `POLLNVAL` and ends the registration;
//!   an item is reported after sampling only if the OS confirmed it in the latest OS poll or
//!   a probe of the OS epoll (an `EPOLL_CTL_ADD` that must fail with `EEXIST`: O(log n), the
//!   OS keys registrations by (file, fd)) confirms the number still names the registered file. `Add` of a
//!   reused number succeeds, as on Linux, because the OS accepts the new (file, fd) pair.
//! * If another descriptor keeps the old file open (a `dup`, a child process), the OS
//!   registration lives on, as on Linux (epoll(7), Q6), and so does the item, as an *orphan*
//!   out of the interest table: it reports what the OS reports for the old file, with its old
//!   data, until that file is closed for good.
//!
//! ### Memory per registration
//!
//! An item (`struct epitem`) is 40 bytes (`size_of::<Item>()`), stored in a 48-byte slab slot
//! with its generation; the interest table adds 4 bytes per descriptor number; the ready and
//! overflow lists are intrusive (no allocation per event). 52 bytes in user space, within the
//! kernel's 128-byte bound on `struct epitem` (the OS registration behind it is kernel memory,
//! accounted by the kernel). The unit test `item::tests::item_fits_the_kernels_epitem_budget`
//! holds the line.
//!
//! ## Where it differs from Linux
//!
//! | behaviour | Linux | `EventPoll` | why |
//! |---|---|---|---|
//! | registration key | (file, fd) | fd number; an orphan keeps (file, fd) alive when the number is reused | user space sees numbers, not files |
//! | close of the last descriptor of a file | registration dropped and watch refunded at close | dropped at the next harvest / `ctl` on the number / watch-limit reap | `close(2)` is invisible from user space |
//! | orphan's bits (number closed, file open elsewhere) | exact | what the OS reported (IN, OUT, PRI, ERR, HUP, RDHUP, with RDNORM / WRNORM) | the old file can no longer be sampled |
//! | order of ready items after a `maxevents` cut | an item woken but not ready keeps its place until a scan reaches it | such an item is dropped by the OS harvest and queued anew at its next wake-up or `Mod` | the OS epoll scans everything it holds; only the order can differ, never the set of events |
//! | nested instance with leftovers or user events | readable while they are ready; no new edge for an ET watcher | readable until the next harvest even if a leftover was drained meanwhile; an ET watcher may see one extra edge | the "has events" signal is an eventfd write |
//! | signal during `wait` | every sleeping waiter returns `EINTR` | the same, except that a signal landing on a waiter at the very moment it takes over the OS poll from another interrupted waiter can be missed (its handler runs between the two sleeps) | the OS poll is handed from thread to thread; Linux has no such hand-over |
//! | `EPOLLWAKEUP` | holds a wake lock | accepted, ignored | no suspend blocking from user space |
//! | watch limit | per user, `max_user_watches` | per [`WatchOwner`] (process-wide by default, initialised from `max_user_watches`), on top of the kernel's own limit | a user-space counter |
//! | [`EventPoll::harvest`] bits of fresh ET items | — | the OS's bits (see above) | saves the `poll(2)` of the exact path; [`EventPoll::wait`] is exact |
//! | `EINVAL` for `maxevents` | `maxevents <= 0` | an empty buffer | the buffer is the count |
//! | `EFAULT` | a bad `event` pointer | `Add` / `Mod` with `None` | no pointers in the API |
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod eventpoll;
mod events;
mod interest;
mod item;
mod loom;
mod ready_list;
mod sys;
mod wait_queue;
mod watches;

pub use eventpoll::{EventPoll, UserEvent, MAX_EVENTS};
pub use events::{CtlOp, EpollEvent, Events};
pub use watches::WatchOwner;
