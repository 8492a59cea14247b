//! # reactor — Linux's eventpoll, rebuilt in user space
//!
//! (Design documentation: see the sections below.)
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
