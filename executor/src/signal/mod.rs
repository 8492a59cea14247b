//! Asynchronous signal handling: [`ctrl_c`] and, on Unix, [`unix::signal`] (tokio's API).
//!
//! # Design
//!
//! ```text
//!  kernel delivers SIGx ──▶ handler (async-signal-safe, installed once per signal, SA_RESTART)
//!                             │ COUNTS[x] += 1          (a process-global atomic per signal)
//!                             │ write(eventfd, 1)       (one process-global non-blocking eventfd)
//!                             ▼
//!  each Signal owns a dup of the eventfd registered edge-triggered on its runtime's EventPoll:
//!  every write gives every registration an edge ──▶ the Signal's task is woken
//!                             │ poll_recv: COUNTS[x] != seen? ──▶ Ready(Some(())), seen = COUNTS[x]
//!                             │ otherwise: read the eventfd (drain; WouldBlock is fine), clear the
//!                             ▼ readiness observed before the read, and check the counter again
//! ```
//!
//! * The handler is installed with `sigaction(2)` the first time a signal is listened for and
//!   stays installed for the life of the process (dropping every [`Signal`](unix::Signal)
//!   does not restore the default action). It does not chain to a previous handler. It only
//!   touches lock-free atomics and calls `write(2)` (saving and restoring `errno`).
//! * A [`Signal`](unix::Signal) starts from the counter's value when it is created — deliveries
//!   before it belong to the listeners that existed then — except when no listener of that
//!   signal exists: a delivery that reached no listener (the last one was dropped, the signal
//!   arrived, a new listener is created) is seen by the next listener, as tokio's global
//!   registry keeps it pending. Several deliveries between two polls are seen as one (signals
//!   coalesce, as in the kernel and in tokio).
//!
//! ```text
//!   listeners of SIGx:  1 ──drop──▶ 0  (UNCLAIMED_FROM[x] = COUNTS[x])
//!   SIGx delivered:                      COUNTS[x] += 1
//!   signal(SIGx):       0 ──────────▶ 1  seen = UNCLAIMED_FROM[x] < COUNTS[x]: ready at once
//!   (with listeners alive, a new one starts at seen = COUNTS[x])
//! ```
//! * Every `Signal` has its own descriptor (a `dup`), so any number of listeners of one signal,
//!   on any number of runtimes, are each woken. The eventfd is shared, so one listener's
//!   drain may consume a write meant for another: that is why the counters, not the eventfd,
//!   decide whether a signal arrived, and why readiness is cleared only with the generation
//!   observed before the drain (a write after it leaves the readiness set, see
//!   [`AsyncFd`](crate::io::unix::AsyncFd)). Listeners of signals that did not arrive are
//!   woken spuriously and go back to waiting.
//! * On Unix systems other than Linux, a non-blocking pipe stands in for the eventfd.
//!
//! Signals that cannot be caught or must not be handled asynchronously (`SIGKILL`, `SIGSTOP`,
//! `SIGILL`, `SIGFPE`, `SIGSEGV`) are refused with [`ErrorKind::InvalidInput`](io::ErrorKind).

use std::io;

#[cfg(unix)]
pub mod unix;

/// Completes at the next `SIGINT` (Ctrl-C in a terminal) received after the first poll.
///
/// The first poll installs the process-wide handler (see the [module docs](self)): from then
/// on, `SIGINT` no longer terminates the process; the program decides what to do.
///
/// ```no_run
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     executor::signal::ctrl_c().await?;
///     println!("interrupted, shutting down");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// If the handler or the notification descriptor cannot be set up, or the runtime shuts down
/// while waiting.
///
/// # Panics
///
/// Polled outside a runtime context.
#[cfg(unix)]
pub async fn ctrl_c() -> io::Result<()> {
    let mut sigint = unix::signal(unix::SignalKind::interrupt())?;
    match sigint.recv().await {
        Some(()) => Ok(()),
        None => Err(io::Error::other("the runtime shut down before SIGINT was received")),
    }
}
