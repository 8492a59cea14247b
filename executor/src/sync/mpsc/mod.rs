//! Multi-producer, single-consumer channels: [`channel`] (bounded: senders wait while it is
//! full) and [`unbounded_channel`].
//!
//! The two flavours share one core (`chan.rs`): a queue under a mutex and, for the bounded
//! flavour, a fair semaphore of `buffer` permits (the crate's shared waiter queue), so senders
//! that wait for room are served in FIFO order and a dropped `send` gives its slot to the next.
//!
//! Semantics follow tokio's: a send on a closed channel returns the value in [`SendError`];
//! the receiver still receives every buffered message after the senders are gone, then `None`;
//! [`Receiver::close`] stops new sends but lets messages already queued or reserved through a
//! [`Permit`] be received; dropping the receiver drops the queued messages.
//!
//! [`SendError`]: error::SendError

mod bounded;
mod chan;
pub mod error;
mod unbounded;

pub use bounded::{channel, OwnedPermit, Permit, Receiver, Sender, WeakSender};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender, WeakUnboundedSender};
