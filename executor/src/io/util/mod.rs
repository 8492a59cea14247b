//! I/O utilities at tokio's paths, on the runtime's I/O traits (the `futures` ones:
//! `AsyncRead`, `AsyncWrite`, `AsyncBufRead`): [`copy`], [`copy_buf`], [`copy_bidirectional`],
//! [`duplex`], [`split`], [`empty`], [`repeat`], [`sink`].
//!
//! Every one of them takes part in the cooperative budget (see
//! [`task::coop`](crate::task::coop)): each read, write or copy round takes a unit, so a task
//! looping on an always-ready source — [`repeat`], [`empty`], a [`duplex`] peer that keeps
//! writing — still yields to the other tasks, I/O and timers. (The `futures` crate's versions
//! know nothing of the budget: a task looping on them never yields.)

mod copy;
mod copy_bidirectional;
mod duplex;
mod empty;
mod split;

pub use copy::{copy, copy_buf};
pub use copy_bidirectional::{copy_bidirectional, copy_bidirectional_with_sizes};
pub use duplex::{duplex, DuplexStream};
pub use empty::{empty, repeat, sink, Empty, Repeat, Sink};
pub use split::{split, ReadHalf, WriteHalf};

/// The buffer size of [`copy`] and [`copy_bidirectional`] (tokio's).
const DEFAULT_BUF_SIZE: usize = 8 * 1024;
