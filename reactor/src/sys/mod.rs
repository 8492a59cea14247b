//! Platform glue: every raw system call the reactor makes goes through this module.
//!
//! The eventpoll itself is portable Rust; what it needs from the OS is small: add, change and
//! remove a registration in the OS poller, sample a file's readiness right now (`poll(2)`), and ask
//! whether a descriptor number still names the file that was registered. Linux is the only
//! platform: `EventPoll` is a reimplementation of Linux's eventpoll, checked against it.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(not(target_os = "linux"))]
compile_error!("reactor: EventPoll reimplements Linux's eventpoll and is built on Linux only");
