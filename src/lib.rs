//! # runtime
//!
//! The facade of the runtime. Today it exposes the reactor, [`reactor::EventPoll`]: a user-space
//! reimplementation of Linux's eventpoll driven by OS readiness through `mio`. The README below
//! is part of these docs, so its example is compiled and run by `cargo test`.
#![deny(missing_docs)]
#![doc = include_str!("../README.md")]

pub use reactor;
