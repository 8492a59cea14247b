//! I/O readiness: file descriptors registered on the runtime's `EventPoll`.
//!
//! How readiness flows from the OS to a woken task:
//!
//! ```text
//!  AsyncFd::new(fd) ── EventPoll::ctl(ADD, fd, IN|OUT|RDHUP|ET, token) ──┐
//!                                                                        ▼
//!  the kernel: data arrives ─▶ OS epoll ─▶ EventPoll's ready list (ep_poll_callback analog)
//!                                                                        │
//!  a parked worker: driver.park() ── EventPoll::harvest ── (events, token)┘
//!         │ registry[token].set_readiness(bits): bits |= new, generation += 1 (one CAS)
//!         ▼
//!  the waiting task's waker ──▶ run queue ──▶ poll: read(2) ── WouldBlock? clear if the
//!                                                              generation did not move
//! ```
//!
//! [`unix::AsyncFd`] is the public face (as in tokio); the `net` crate's sockets are built on it.
//!
//! The utilities of `util/` ([`copy`], [`copy_bidirectional`], [`duplex`], [`split`], …) work on
//! any stream with the runtime's I/O traits (the `futures` ones), and take part in the
//! cooperative budget.

mod async_fd;
mod ready;
pub(crate) mod registry;
mod scheduled_io;
mod util;

pub use ready::{Interest, Ready};
pub(crate) use scheduled_io::ScheduledIo;
pub use util::{
    copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf, duplex, empty, repeat, sink, split, DuplexStream, Empty, ReadHalf,
    Repeat, Sink, WriteHalf,
};

/// Unix file descriptors on the reactor.
pub mod unix {
    pub use super::async_fd::{AsyncFd, AsyncFdReadyGuard, AsyncFdReadyMutGuard, AsyncFdTryNewError, TryIoError};
}
