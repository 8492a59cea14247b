//! # runtime
//!
//! An async runtime for Rust at tokio's paths — tasks, timers, TCP / UDP / Unix sockets,
//! signals, channels and locks — whose reactor is a faithful user-space reimplementation of
//! Linux's eventpoll ([`reactor::EventPoll`]), so you can see and trust how readiness flows
//! from the kernel to your task. A tokio program ports by changing `tokio::` to `runtime::`.
//!
//! ## Getting started
//!
//! `#[runtime::main]` builds a runtime (multi-thread, one worker per CPU) and runs `async fn
//! main` on it. An echo server:
//!
//! ```no_run
//! use runtime::io::{AsyncReadExt, AsyncWriteExt};
//! use runtime::net::TcpListener;
//!
//! #[runtime::main]
//! async fn main() -> std::io::Result<()> {
//!     let listener = TcpListener::bind("127.0.0.1:7000").await?;
//!     loop {
//!         let (mut stream, peer) = listener.accept().await?;
//!         runtime::spawn(async move {
//!             let mut buf = vec![0; 4096];
//!             loop {
//!                 match stream.read(&mut buf).await {
//!                     Ok(0) => return,                                  // the peer closed
//!                     Ok(n) => {
//!                         if stream.write_all(&buf[..n]).await.is_err() {
//!                             return;
//!                         }
//!                     }
//!                     Err(e) => return eprintln!("{peer}: {e}"),
//!                 }
//!             }
//!         });
//!     }
//! }
//! ```
//!
//! `cargo run --release --example echo-server` runs a fuller one (Ctrl-C, accept errors);
//! `nc 127.0.0.1 7000` talks to it.
//!
//! Without the attribute, build the runtime yourself:
//!
//! ```
//! use std::time::Duration;
//!
//! let rt = runtime::Builder::new_current_thread().enable_all().build()?;
//! let answer = rt.block_on(async {
//!     let task = runtime::spawn(async { 21 });
//!     runtime::time::sleep(Duration::from_millis(1)).await;
//!     task.await.unwrap() * 2
//! });
//! assert_eq!(answer, 42);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## What is where
//!
//! | you want | here | notes |
//! |---|---|---|
//! | a runtime | [`#[main]`](main), [`#[test]`](test), [`Builder`], [`Runtime`], [`Handle`] | `flavor = "current_thread"`, `worker_threads = N`, `crate = "…"` for a renamed dependency |
//! | tasks | [`spawn`], [`spawn_blocking`], [`task`] (`JoinHandle`, `JoinSet`, `yield_now`, `LocalSet` / `spawn_local`, `block_in_place`), [`select!`], [`join!`], [`try_join!`] | panics are caught into `JoinError` |
//! | timers | [`time`] (`sleep`, `timeout`, `interval`, `pause` / `advance`) | a hierarchical timing wheel per worker; `#[test(start_paused = true)]` |
//! | files | [`fs`] (`File`, `OpenOptions`, `read_dir`, `read`, `write` …) | on the blocking pool, in 2 MiB chunks |
//! | child processes | [`process`] (`Command`, `Child`) | exit as a pidfd's readiness; no zombie left |
//! | sockets | [`net`] (`TcpListener`, `TcpStream`, `UdpSocket`, `UnixStream` …) | edge-triggered on the `EventPoll` |
//! | I/O traits | [`io`] (`AsyncRead`, `AsyncWrite`, [`AsyncReadExt`](io::AsyncReadExt) …), [`io::unix::AsyncFd`] | the `futures` traits; tokio's with the `tokio-io` feature |
//! | channels, locks | [`sync`] (`mpsc`, `oneshot`, `broadcast`, `watch`, `Mutex`, `Semaphore` …) | tokio's API, one fair waiter queue |
//! | signals | [`signal`] (`ctrl_c`, `unix::signal`) | |
//! | the reactor itself | [`reactor`] (`EventPoll`) | the exact `epoll` contract, usable on its own |
//!
//! ## Coming from tokio
//!
//! - Streams implement the `futures` I/O traits, re-exported in [`io`]: import
//!   `runtime::io::{AsyncReadExt, AsyncWriteExt}` where you imported tokio's. Like tokio's,
//!   [`io::AsyncReadExt`] has no `split`, so `stream.split()` is the stream's own borrowed,
//!   lock-free split; the locking split of anything is [`io::split`].
//! - Code written against tokio's `AsyncRead` / `AsyncWrite` (tokio-util's codecs, for one)
//!   takes the runtime's streams as they are with the **`tokio-io`** feature: no compat
//!   wrapper, and no tokio runtime.
//! - hyper and axum run through `runtime::hyper` (the **`hyper`** feature): hyper's executor,
//!   timer and I/O traits, and a connector for hyper-util's client, in place of hyper-util's
//!   tokio module.
//!
//! ## Feature flags
//!
//! | feature | what it adds |
//! |---|---|
//! | `hyper` | `runtime::hyper`: `Executor`, `Timer`, `Io` (reads into hyper's uninitialised buffer, vectored writes), `HttpConnector` for hyper-util's legacy `Client` |
//! | `tokio-io` | tokio's `AsyncRead` / `AsyncWrite` on every stream and stream half, and on the process pipes (tokio with no features: only the traits) |
//!
//! ## How it works
//!
//! The crates under this facade have their own docs: [`reactor`] (the eventpoll: ready list,
//! locking, modes, nesting, every divergence from Linux), `executor` (tasks, schedulers,
//! timers, the I/O driver; its `io` module shows how readiness reaches a task) and `net`
//! (sockets). The README has the design, the benchmarks against tokio and smol, and the
//! repository layout.
#![deny(missing_docs)]

mod multiplex;

#[doc(hidden)]
pub use multiplex::__private;

pub use executor::runtime;
pub use executor::task::spawn_blocking;
pub use executor::task_local;
pub use executor::{spawn, Builder, Handle, Runtime};
pub use macros::{main, test};
pub use reactor;

#[cfg(feature = "hyper")]
pub mod hyper;
pub mod inspect;
mod read_ext;

/// The README's code blocks, compiled and run by `cargo test` (doc tests only). Its hyper
/// section needs the `hyper` feature, which `cargo test --workspace` turns on (the interop
/// examples ask for it).
#[cfg(all(doctest, feature = "hyper"))]
#[doc = include_str!("../README.md")]
mod readme {}

/// Tasks: [`spawn`], [`JoinHandle`](task::JoinHandle), [`JoinError`](task::JoinError),
/// [`JoinSet`](task::JoinSet), [`yield_now`](task::yield_now), [`id`](task::id),
/// task-local storage ([`LocalKey`](task::LocalKey), declared with [`task_local!`]), and the
/// cooperative budget ([`coop`](task::coop)).
pub mod task {
    pub use executor::task::*;
}

/// Asynchronous I/O: the `futures` I/O traits and their extension traits (what [`net`]'s
/// streams implement; [`AsyncReadExt`](io::AsyncReadExt) is the runtime's own, without the
/// by-value `split` that would shadow the streams' borrowed one); the runtime's own utilities,
/// which take part in the cooperative budget ([`copy`](io::copy), [`copy_buf`](io::copy_buf),
/// [`copy_bidirectional`](io::copy_bidirectional), [`duplex`](io::duplex),
/// [`split`](io::split), [`empty`](io::empty), [`repeat`](io::repeat), [`sink`](io::sink));
/// and [`unix::AsyncFd`](io::unix::AsyncFd) to put any file descriptor on the reactor.
pub mod io {
    pub use crate::read_ext::AsyncReadExt;
    pub use executor::io::{
        copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf, duplex, empty, repeat, sink, split, DuplexStream, Empty,
        Interest, ReadHalf, Ready, Repeat, Sink, WriteHalf,
    };
    pub use futures::io::{
        AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncSeek, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter, Cursor, Error,
        ErrorKind, Result, SeekFrom,
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

/// Child processes, at tokio's paths: [`Command`](process::Command) spawns a
/// [`Child`](process::Child) whose exit arrives as readiness (a pidfd on the reactor, or
/// `SIGCHLD` where pidfds are missing) and whose pipes are non-blocking [`io`] streams; a
/// dropped child is reaped when it exits, never left a zombie.
pub mod process {
    pub use executor::process::*;
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
/// [`interval`](time::interval), [`Instant`](time::Instant), [`Duration`](time::Duration),
/// [`error::Elapsed`](time::error::Elapsed).
pub mod time {
    pub use executor::time::*;
}
