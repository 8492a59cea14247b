//! # runtime
//!
//! The facade of the runtime. Today it exposes the reactor, [`reactor::EventPoll`]: a user-space
//! reimplementation of Linux's eventpoll driven by OS readiness through `mio`.
#![deny(missing_docs)]

pub use reactor;
