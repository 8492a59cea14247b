//! # executor — tasks and schedulers woken from readiness harvested from `EventPoll`
//!
//! The executor turns readiness harvested from the reactor's [`EventPoll`](reactor::EventPoll)
//! into woken futures:
//!
//! ```text
//!  spawn(fut) ──▶ task (one allocation: header + future/output + join waker)
//!                  │ Notified
//!                  ▼
//!  run queue ──▶ Notified::run: poll once with the task's waker (panics caught → JoinError)
//!                  │ Pending: the waker, when woken, queues the task again
//!                  ▼
//!  nothing to run ──▶ driver.park(): EventPoll::harvest(timeout = nearest timer)
//!                        ◀── UserEvent::trigger from a waker on another thread (unpark)
//!                        ◀── OS readiness of registered sockets (net crate)
//!                        ──▶ expired timers' wakers are woken
//! ```
//!
//! The pieces: the task core (`task`: `spawn`, `JoinHandle`, `JoinSet`, `yield_now`,
//! `spawn_blocking`), timers (`time`: a hierarchical timing wheel behind `sleep`, `timeout`,
//! `interval`), the driver that parks on `EventPoll`, and two schedulers
//! ([`runtime::Builder`]): multi-thread (workers with a LIFO slot, a lock-free local queue
//! stolen from by halves, a global inject queue; one idle worker sleeps in the `EventPoll`, the
//! others on their own parkers) and current-thread.
//!
//! ```
//! use executor::runtime::Builder;
//! use std::time::Duration;
//!
//! let rt = Builder::new_current_thread().enable_all().build()?;
//! let out = rt.block_on(async {
//!     let h = executor::spawn(async {
//!         executor::time::sleep(Duration::from_millis(1)).await;
//!         21
//!     });
//!     h.await.unwrap() * 2
//! });
//! assert_eq!(out, 42);
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(missing_docs)]

mod blocking;
mod driver;
pub mod fs;
pub mod io;
mod loom;
pub mod process;
pub mod runtime;
mod scheduler;
pub mod signal;
pub mod sync;
pub mod task;
#[cfg(test)]
mod test_util;
pub mod time;

pub use runtime::{Builder, Handle, Runtime};

/// What the facade's macros (`select!`, `join!`) call; not an API.
#[doc(hidden)]
pub mod __private {
    pub use crate::task::coop::poll_budget_available;
}
pub use task::spawn;
