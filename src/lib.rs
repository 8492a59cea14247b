//! # runtime
//!
//! The facade users depend on. It re-exports the reactor ([`reactor::EventPoll`], a user-space
//! reimplementation of Linux's eventpoll driven by OS readiness through `mio`) and the executor:
//! [`spawn`], [`Runtime`], [`Builder`], [`Handle`], [`task`] and [`time`], at the paths tokio
//! users expect. The README below is part of these docs, so its examples are compiled and run by
//! `cargo test`.
#![deny(missing_docs)]
#![doc = include_str!("../README.md")]

mod multiplex;

#[doc(hidden)]
pub use multiplex::__private;

pub use executor::runtime;
pub use executor::task::spawn_blocking;
pub use executor::{spawn, Builder, Handle, Runtime};
pub use macros::{main, test};
pub use reactor;

/// Tasks: [`spawn`], [`JoinHandle`](task::JoinHandle), [`JoinError`](task::JoinError),
/// [`yield_now`](task::yield_now).
pub mod task {
    pub use executor::task::*;
}

/// Asynchronous I/O: the `futures` I/O traits and their extension traits (what
/// [`net`]'s streams implement), and [`unix::AsyncFd`](io::unix::AsyncFd) to put any file
/// descriptor on the reactor.
pub mod io {
    pub use executor::io::{Interest, Ready};
    pub use futures::io::{
        copy, empty, repeat, sink, AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWrite,
        AsyncWriteExt, BufReader, BufWriter, Cursor, Error, ErrorKind, ReadHalf, Result, WriteHalf,
    };

    /// Unix file descriptors on the reactor.
    pub mod unix {
        pub use executor::io::unix::*;
    }
}

/// Files and directories, at tokio's paths: [`File`](fs::File) (the [`io`] traits, in chunks
/// on the blocking pool), [`OpenOptions`](fs::OpenOptions), [`read_dir`](fs::read_dir) and the
/// free functions of `std::fs`, with std's errors.
pub mod fs {
    pub use executor::fs::*;
}

/// Sockets on the reactor: TCP, UDP and Unix-domain.
pub mod net {
    pub use ::net::*;
}

/// Signals: [`ctrl_c`](signal::ctrl_c) and, on Unix, [`unix::signal`](signal::unix::signal)
/// (a process-wide handler per signal wakes every listener through its own registration on
/// the reactor).
pub mod signal {
    pub use executor::signal::*;
}

/// Synchronization for tasks, at tokio's paths: channels ([`mpsc`](sync::mpsc),
/// [`oneshot`](sync::oneshot), [`broadcast`](sync::broadcast), [`watch`](sync::watch)), locks
/// ([`Mutex`](sync::Mutex), [`RwLock`](sync::RwLock)), [`Semaphore`](sync::Semaphore),
/// [`Notify`](sync::Notify), [`Barrier`](sync::Barrier) and [`OnceCell`](sync::OnceCell).
pub mod sync {
    pub use executor::sync::*;
}

/// Timers: [`sleep`](time::sleep), [`sleep_until`](time::sleep_until), [`timeout`](time::timeout),
/// [`Instant`](time::Instant), [`Elapsed`](time::Elapsed).
pub mod time {
    pub use executor::time::*;
}
