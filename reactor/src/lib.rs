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
//! registers the waker's eventfd), in which every registered descriptor is registered too, with
//! the same interest and mode. The OS epoll's callbacks are the kernel's own, so its ready list
//! *is* the kernel's ready list for descriptors; this crate adds to it the items only it knows
//! (user events) in a list of its own, scanned first:
//!
//! ```text
//!  file (socket, pipe, eventfd, nested epoll …)
//!    │ wake-up: the OS's ep_poll_callback
//!    ▼
//!  OS epoll of the instance: the descriptor part      UserEvent::trigger() ─┐ (no syscall)
//!  of the ready list, kept by the OS                                        │
//!    │ epoll_wait by the one "poller" thread, for                           │
//!    │ exactly the room our list leaves                                     ▼
//!    ▼
//!  callback: item → our list, or → overflow list while a harvest runs; wake one waiter
//!            (futex, or eventfd if it sleeps in the OS poll)
//!    │
//!    ▼
//!  harvest (ep_send_events): our list → transfer list; report (the OS's bits for what it just
//!                            returned, a poll(2) sample otherwise); ONESHOT → disarmed;
//!                            LT descriptors → nothing to do: the OS put them back at the tail
//!                            of its list when it returned them, where Linux puts them
//!    │
//!    ├──▶ EventPoll::wait(&mut [EpollEvent], ms)      the epoll contract, exact bits
//!    └──▶ EventPoll::harvest(max, timeout, |ev, data|) the runtime's path: the same events,
//!                                                     no copy, no allocation
//!          └──▶ executor: wake the task waiting on `data`
//! ```
//!
//! Because a wait takes from the OS only the room its own list leaves, the OS's `epoll_wait`
//! scans exactly the part of the ready list that the kernel's scan would reach: it drops the
//! same not-ready items, re-queues the same level-triggered ones behind the same leftovers, and
//! leaves everything else queued in its place. Nothing is taken early and nothing is left over
//! on our list: the order of the ready list is the kernel's, including after a `maxevents` cut.
//!
//! ### Waiters
//!
//! Only one thread at a time sleeps in the OS poll: it holds the *poller role*. Every other
//! waiter sleeps on the instance's wait queue, exclusively, and a
//! wake-up reaches one of them. When the poller returns from the OS with events, it runs their
//! callbacks (each callback wakes one more queued waiter, as each `ep_poll_callback` does) and
//! gives up the role; if waiters are queued, one of them is woken to take the role over, so no
//! waiter ever sleeps while nobody listens to the OS. The waiter that takes it over finds in the
//! OS whatever the last harvest left there — a level-triggered item re-queued by the OS, a
//! leftover beyond `maxevents` — and a harvest that leaves items on our own list wakes the next
//! waiter, as `ep_done_scan` does: one write wakes one waiter of an ET registration and, through
//! that chain, every waiter of an LT one — the kernel's counts.
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
//! too, so the OS puts each one back at the tail of its ready list when it returns it, as
//! Linux's harvest does; edge-triggered items are edge-triggered there; ONESHOT items are
//! ONESHOT there, so a disarmed item collects no wake-ups (re-armed by `Mod`). Reporting and
//! disarming are this crate's, and so is the order of the items on its own list (user events).
//! `EXCLUSIVE` is passed to the OS, which then wakes only one of several instances watching the
//! same file, and refuses bad combinations with the kernel's own errno.
//!
//! ### Nesting
//!
//! The instance's descriptor, [`as_raw_fd`](EventPoll#method.as_raw_fd), is its OS epoll
//! descriptor, so an `EventPoll` inside another (or inside kernel epoll, or watched by
//! `poll(2)`) is nested in the OS as well: the kernel's loop and depth checks apply unchanged (a
//! cycle or a chain deeper than the kernel's limit fails with `ELOOP`), and so do its answers. A watcher samples the instance as Linux
//! samples an epoll file (`ep_item_poll` → `__ep_eventpoll_poll`): the kernel scans the OS
//! epoll's ready list — which is this instance's ready list for descriptors, see above —
//! dropping the items it finds not ready and stopping at the first ready one; and every wake-up
//! of an item of the instance wakes its watchers once (`ep_poll_safewake`), so an ET watcher
//! gets the kernel's edges and an LT or ONESHOT one the kernel's levels, at any depth.
//!
//! What the OS cannot see are the items on this crate's own list — triggered user events. Once
//! the descriptor has been handed out, the instance keeps a *level signal* for them in its OS
//! epoll: an eventfd registered level-triggered, raised (one write: one wake-up of the watchers)
//! by every trigger, lowered when a harvest leaves the list empty. So a watcher sees a user
//! event as it would see an edge-triggered eventfd written at the trigger: one wake-up per
//! trigger, readable until the user event is reported (`exposure.rs` has the protocol).
//!
//! ### `close(2)` without `Del`
//!
//! Linux drops a registration when its file is closed (all descriptors of it). This crate cannot
//! see `close(2)`; its rule is:
//!
//! * A registration stays until `Del`, or until the instance finds its descriptor number no
//!   longer names the registered file — at the next `ctl` on that number, at a harvest that
//!   samples it (an item another waiter took from the OS and left queued), or when the watch
//!   limit is reached (it then reaps closed registrations and refunds their watches).
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
//! | close of the last descriptor of a file | registration dropped and watch refunded at close | dropped at the next `ctl` on the number, a harvest that samples it, or a watch-limit reap | `close(2)` is invisible from user space |
//! | orphan's bits (number closed, file open elsewhere) | exact | what the OS reported (IN, OUT, PRI, ERR, HUP, RDHUP, with RDNORM / WRNORM) | the old file can no longer be sampled |
//! | user events and descriptor events in one wait | (no user events; an eventfd written at the trigger is reported in wake-up order) | triggered user events are reported ahead of every descriptor event | user events live on our list, which is scanned before the OS's; a trigger costs no system call |
//! | a counting user event ([`EventPoll::user_semaphore`]) on an instance whose descriptor was handed out | (an `EFD_SEMAPHORE` eventfd, LT: its re-queue wakes nobody) | a harvest that reports it and leaves units raises the level signal again: an ET watcher sees one more edge | the level signal is lowered while the instance polls its OS epoll, so that it takes no slot there |
//! | several threads waiting on one instance, as seen by its watchers | — | descriptor events one waiter has taken from the OS and not yet reported are not seen by watchers until its harvest ends; what it leaves raises the level signal, which stays up until a harvest finds the list empty, even if they are no longer ready; waking a waiter that sleeps in the OS poll wakes the watchers too, and shows the descriptor readable until that waiter polls | the OS hands its events to one waiter; the waiter's wake-up is an eventfd in the OS epoll |
//! | signal during `wait` | every sleeping waiter returns `EINTR` | the same, except that a signal landing on a waiter at the very moment it takes over the OS poll from another interrupted waiter can be missed (its handler runs between the two sleeps) | the OS poll is handed from thread to thread; Linux has no such hand-over |
//! | `EPOLLWAKEUP` | holds a wake lock | accepted, ignored | no suspend blocking from user space |
//! | watch limit | per user, `max_user_watches` | per [`WatchOwner`] (process-wide by default, initialised from `max_user_watches`), on top of the kernel's own limit | a user-space counter |
//! | `EINVAL` for `maxevents` | `maxevents <= 0` | an empty buffer | the buffer is the count |
//! | `EFAULT` | a bad `event` pointer | `Add` / `Mod` with `None` | no pointers in the API |
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod eventpoll;
mod events;
mod exposure;
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
