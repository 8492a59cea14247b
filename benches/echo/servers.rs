//! The servers under test. The echo and HTTP connection handlers are written once, in
//! `runtime_servers!`, and expanded for our runtime, for tokio and for smol (same source, each
//! runtime's own types, I/O traits, spawn and timer); the raw-epoll server is the ceiling: one
//! thread, edge-triggered kernel epoll, no runtime.
//!
//! Each runtime in both flavors, the way its users run it:
//!
//! | kind | threads |
//! |---|---|
//! | `ours-mt`, `tokio-mt` | `--workers` worker threads; the accept loop is the `block_on` future on the main thread |
//! | `smol-mt` | one static `smol::Executor` run by `--workers` threads; the accept loop is `smol::block_on` on the main thread |
//! | `ours-ct`, `tokio-ct` | the current-thread runtime: everything on the main thread |
//! | `smol-ct` | a `smol::LocalExecutor` run by `smol::block_on` on the main thread |
//!
//! HTTP only, hyper's HTTP/1 server (`hyper_server!`, one source for both) on each runtime with
//! its own hyper glue, answering what the `http-hello` handler answers:
//!
//! | kind | glue | threads |
//! |---|---|---|
//! | `hyper-ours-mt`, `hyper-ours-ct` | `runtime::hyper::{Io, Timer}` | as `ours-mt`, `ours-ct` |
//! | `hyper-tokio-mt`, `hyper-tokio-ct` | hyper-util's `rt::{TokioIo, TokioTimer}` | as `tokio-mt`, `tokio-ct` |
//!
//! With `--buf 0` the echo handler is idle-lean: it awaits `readable()` before it allocates a
//! buffer, reads without waiting (`try_read`), and frees the buffer before it waits again, so an
//! idle connection costs only what the runtime itself keeps for it (its task and its I/O
//! registration). That is the second memory figure. The read must not wait: readiness stays
//! set after a successful read on tokio and ours (it is cleared only by a `WouldBlock`), so the
//! next `readable()` returns at once and an awaited `read` would then sleep holding the buffer.

use crate::sys::{self, Epoll};
use std::convert::Infallible;
use std::future::Future;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;

/// Which server to run.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    OursMt,
    OursCt,
    TokioMt,
    TokioCt,
    SmolMt,
    SmolCt,
    RawEpoll,
    HyperOursMt,
    HyperTokioMt,
    HyperOursCt,
    HyperTokioCt,
}

/// Every server, in the order the driver runs them in odd rounds (reversed in even ones) and
/// the tables list them.
pub const ALL: [Kind; 11] = [
    Kind::OursMt,
    Kind::TokioMt,
    Kind::SmolMt,
    Kind::OursCt,
    Kind::TokioCt,
    Kind::SmolCt,
    Kind::RawEpoll,
    Kind::HyperOursMt,
    Kind::HyperTokioMt,
    Kind::HyperOursCt,
    Kind::HyperTokioCt,
];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::OursMt => "ours-mt",
            Kind::OursCt => "ours-ct",
            Kind::TokioMt => "tokio-mt",
            Kind::TokioCt => "tokio-ct",
            Kind::SmolMt => "smol-mt",
            Kind::SmolCt => "smol-ct",
            Kind::RawEpoll => "raw-epoll",
            Kind::HyperOursMt => "hyper-ours-mt",
            Kind::HyperTokioMt => "hyper-tokio-mt",
            Kind::HyperOursCt => "hyper-ours-ct",
            Kind::HyperTokioCt => "hyper-tokio-ct",
        }
    }

    /// Whether it serves the echo protocol (the hyper servers speak only HTTP).
    pub fn speaks_echo(self) -> bool {
        !matches!(self, Kind::HyperOursMt | Kind::HyperTokioMt | Kind::HyperOursCt | Kind::HyperTokioCt)
    }

    /// Whether it serves HTTP (raw-epoll speaks only echo).
    pub fn speaks_http(self) -> bool {
        self != Kind::RawEpoll
    }

    pub fn parse(s: &str) -> Option<Kind> {
        ALL.into_iter().find(|k| k.name() == s)
    }

    /// `ours-mt|tokio-mt|...`, for error messages.
    pub fn choices() -> String {
        ALL.map(Kind::name).join("|")
    }

    /// The runtimes ours is compared with, same flavor (empty for every other kind).
    pub fn peers(self) -> &'static [Kind] {
        match self {
            Kind::OursMt => &[Kind::TokioMt, Kind::SmolMt],
            Kind::OursCt => &[Kind::TokioCt, Kind::SmolCt],
            Kind::HyperOursMt => &[Kind::HyperTokioMt],
            Kind::HyperOursCt => &[Kind::HyperTokioCt],
            _ => &[],
        }
    }
}

/// What the server speaks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Proto {
    Echo,
    Http,
}

/// The idle-lean echo handler's buffer, allocated only while a connection has bytes to echo.
pub const LEAN_CHUNK: usize = 4096;

/// Prints the bound address on stdout (the driver reads it) and flushes.
fn announce(addr: SocketAddr) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

/// The connection handlers, once, for a runtime given by its `net` and `io` modules and three
/// functions: `spawn` (spawns a task and detaches it: smol cancels a task whose handle is
/// dropped, tokio and ours do not), `sleep` (a future that completes after a `Duration`),
/// and `lean` (turns an accepted stream into something with `readable()`, [`glue::TryRead`]
/// and the runtime's `AsyncWrite`, for the idle-lean handler; the stream itself on tokio and
/// ours).
macro_rules! runtime_servers {
    (
        mod $m:ident,
        net = $($net:ident)::+,
        io = $($io:ident)::+,
        spawn = $spawn:path,
        sleep = $sleep:path,
        lean = $lean:path $(,)?
    ) => {
        pub mod $m {
            use crate::http_hello::http1;
            use $($io)::+::{AsyncReadExt as _, AsyncWriteExt as _};
            use $($net)::+::{TcpListener, TcpStream};
            use std::time::Duration;

            /// Accepts until the process is killed; `buf_size` 0 selects the idle-lean handler.
            pub async fn serve(addr: std::net::SocketAddr, proto: super::Proto, buf_size: usize) -> std::io::Result<()> {
                let listener = TcpListener::bind(addr).await?;
                super::announce(listener.local_addr()?);
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => {
                            let _ = stream.set_nodelay(true);
                            match proto {
                                super::Proto::Echo if buf_size == 0 => $spawn(echo_lean(stream)),
                                super::Proto::Echo => $spawn(echo(stream, buf_size)),
                                super::Proto::Http => $spawn(http(stream)),
                            }
                        }
                        Err(e) => {
                            eprintln!("bench server: accept: {e}");
                            $sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
            }

            async fn echo(mut stream: TcpStream, buf_size: usize) {
                let mut buf = vec![0u8; buf_size];
                loop {
                    let n = match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }

            /// Holds no buffer while it waits for bytes: readiness first, then a buffer for one
            /// read that does not wait and for its echo, freed before the next wait.
            async fn echo_lean(stream: TcpStream) {
                let Ok(mut stream) = $lean(stream) else { return };
                loop {
                    if stream.readable().await.is_err() {
                        return;
                    }
                    let mut buf = vec![0u8; super::LEAN_CHUNK];
                    let n = match super::glue::TryRead::try_read_now(&stream, &mut buf) {
                        Ok(0) => return,
                        Ok(n) => n,
                        // Readiness was stale (now cleared): free the buffer and wait again.
                        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) => continue,
                        Err(_) => return,
                    };
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }

            async fn http(mut stream: TcpStream) {
                let mut conn = http1::Conn::new();
                loop {
                    let n = match stream.read(conn.read_buf()).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let keep_alive = conn.filled(n);
                    if !conn.output().is_empty() && stream.write_all(conn.output()).await.is_err() {
                        return;
                    }
                    if !keep_alive {
                        return;
                    }
                }
            }
        }
    };
}

runtime_servers!(mod ours, net = runtime::net, io = runtime::io, spawn = super::glue::ours, sleep = runtime::time::sleep, lean = super::glue::as_is);
runtime_servers!(mod tokio_rt, net = tokio::net, io = tokio::io, spawn = super::glue::tokio, sleep = tokio::time::sleep, lean = super::glue::as_is);
runtime_servers!(mod smol_mt, net = smol::net, io = smol::io, spawn = super::glue::smol_shared, sleep = smol::Timer::after, lean = super::glue::smol_lean);
runtime_servers!(mod smol_ct, net = smol::net, io = smol::io, spawn = super::glue::smol_local, sleep = smol::Timer::after, lean = super::glue::smol_lean);

/// hyper's HTTP/1 server, once, for a runtime given by its `net` module, how a stream goes under
/// hyper (`io`), its hyper `Timer`, `spawn` and `sleep`. The timer is set as a server in
/// production sets it, so hyper's default 30 s header-read timeout is armed on every request
/// head, on both runtimes.
macro_rules! hyper_server {
    (
        mod $m:ident,
        net = $($net:ident)::+,
        io = $io:path,
        timer = $timer:path,
        spawn = $spawn:path,
        sleep = $sleep:path $(,)?
    ) => {
        pub mod $m {
            use hyper::server::conn::http1;
            use $($net)::+::TcpListener;
            use std::time::Duration;

            /// Accepts until the process is killed.
            pub async fn serve(addr: std::net::SocketAddr) -> std::io::Result<()> {
                let listener = TcpListener::bind(addr).await?;
                super::announce(listener.local_addr()?);
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => {
                            let _ = stream.set_nodelay(true);
                            $spawn(async move {
                                let service = hyper::service::service_fn(super::hyper_hello);
                                let _ = http1::Builder::new().timer($timer()).serve_connection($io(stream), service).await;
                            });
                        }
                        Err(e) => {
                            eprintln!("bench server: accept: {e}");
                            $sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
            }
        }
    };
}

hyper_server!(
    mod hyper_ours,
    net = runtime::net,
    io = runtime::hyper::Io::new,
    timer = runtime::hyper::Timer::new,
    spawn = super::glue::ours,
    sleep = runtime::time::sleep,
);
hyper_server!(
    mod hyper_tokio,
    net = tokio::net,
    io = hyper_util::rt::TokioIo::new,
    timer = hyper_util::rt::TokioTimer::new,
    spawn = super::glue::tokio,
    sleep = tokio::time::sleep,
);

/// What `http-hello` answers to every well-formed request: `200 OK`, `Content-Type:
/// text/plain` and [`BODY`](crate::http_hello::http1::BODY) (hyper adds `Date` and
/// `Content-Length`).
async fn hyper_hello(
    _: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<http_body_util::Full<hyper::body::Bytes>>, Infallible> {
    let body = http_body_util::Full::new(hyper::body::Bytes::from_static(crate::http_hello::http1::BODY));
    let mut response = hyper::Response::new(body);
    response.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain"));
    Ok(response)
}

/// What differs between the runtimes beyond their module paths: how each spawns a connection
/// task it never joins, smol's executors, and the idle-lean handler's stream and read.
mod glue {
    use super::Future;
    use std::io::{self, Read as _};
    use std::sync::Arc;

    /// smol's multi-thread flavor: one executor shared by `--workers` threads.
    pub static SMOL_EXECUTOR: smol::Executor<'static> = smol::Executor::new();

    thread_local! {
        /// smol's current-thread flavor: the executor of the one thread that runs everything.
        pub static SMOL_LOCAL: smol::LocalExecutor<'static> = const { smol::LocalExecutor::new() };
    }

    /// Our `JoinHandle` detaches when dropped.
    pub fn ours(task: impl Future<Output = ()> + Send + 'static) {
        drop(runtime::spawn(task));
    }

    /// So does tokio's.
    pub fn tokio(task: impl Future<Output = ()> + Send + 'static) {
        drop(tokio::spawn(task));
    }

    /// Dropping a smol `Task` cancels it: detach it instead.
    pub fn smol_shared(task: impl Future<Output = ()> + Send + 'static) {
        SMOL_EXECUTOR.spawn(task).detach();
    }

    /// As [`smol_shared`], on this thread's `LocalExecutor`.
    pub fn smol_local(task: impl Future<Output = ()> + 'static) {
        SMOL_LOCAL.with(|ex| ex.spawn(task).detach());
    }

    /// One read now, without waiting: `WouldBlock` if there is nothing to read, and then the
    /// runtime's readiness is cleared (tokio and ours), or was never kept (smol waits for a
    /// fresh event in every `readable()`).
    pub trait TryRead {
        fn try_read_now(&self, buf: &mut [u8]) -> io::Result<usize>;
    }

    impl TryRead for runtime::net::TcpStream {
        fn try_read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.try_read(buf)
        }
    }

    impl TryRead for tokio::net::TcpStream {
        fn try_read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.try_read(buf)
        }
    }

    impl TryRead for smol::Async<std::net::TcpStream> {
        fn try_read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
            // The socket is non-blocking (`Async` made it so): a plain read(2).
            let mut socket: &std::net::TcpStream = self.get_ref();
            socket.read(buf)
        }
    }

    /// tokio's and our `TcpStream` have `readable()` and `try_read` themselves.
    pub fn as_is<S>(stream: S) -> io::Result<S> {
        Ok(stream)
    }

    /// smol's `net::TcpStream` has no `readable()`: the idle-lean handler works on the
    /// `Async<std::net::TcpStream>` inside it (the stream was just accepted, so it holds the
    /// only reference to it).
    pub fn smol_lean(stream: smol::net::TcpStream) -> io::Result<smol::Async<std::net::TcpStream>> {
        Arc::try_unwrap(Arc::<smol::Async<std::net::TcpStream>>::from(stream))
            .map_err(|_| io::Error::other("the accepted smol stream is shared"))
    }
}

/// Runs a server until the process is killed; `buf_size` 0 is the idle-lean echo handler.
pub fn run(kind: Kind, addr: SocketAddr, proto: Proto, buf_size: usize, workers: usize) -> io::Result<()> {
    sys::raise_nofile()?;
    match proto {
        Proto::Echo if !kind.speaks_echo() => return Err(io::Error::new(ErrorKind::InvalidInput, "it serves HTTP only (--proto http)")),
        Proto::Http if !kind.speaks_http() => return Err(io::Error::new(ErrorKind::InvalidInput, "it serves the echo protocol only")),
        _ => {}
    }
    let ours_mt = || runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build();
    let ours_ct = || runtime::Builder::new_current_thread().enable_all().build();
    let tokio_mt = || tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build();
    let tokio_ct = || tokio::runtime::Builder::new_current_thread().enable_all().build();
    match kind {
        Kind::OursMt => ours_mt()?.block_on(ours::serve(addr, proto, buf_size)),
        Kind::OursCt => ours_ct()?.block_on(ours::serve(addr, proto, buf_size)),
        Kind::TokioMt => tokio_mt()?.block_on(tokio_rt::serve(addr, proto, buf_size)),
        Kind::TokioCt => tokio_ct()?.block_on(tokio_rt::serve(addr, proto, buf_size)),
        Kind::HyperOursMt => ours_mt()?.block_on(hyper_ours::serve(addr)),
        Kind::HyperOursCt => ours_ct()?.block_on(hyper_ours::serve(addr)),
        Kind::HyperTokioMt => tokio_mt()?.block_on(hyper_tokio::serve(addr)),
        Kind::HyperTokioCt => tokio_ct()?.block_on(hyper_tokio::serve(addr)),
        Kind::SmolMt => {
            for i in 0..workers {
                std::thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(|| smol::block_on(glue::SMOL_EXECUTOR.run(std::future::pending::<()>())))?;
            }
            smol::block_on(smol_mt::serve(addr, proto, buf_size))
        }
        Kind::SmolCt => glue::SMOL_LOCAL.with(|ex| smol::block_on(ex.run(smol_ct::serve(addr, proto, buf_size)))),
        Kind::RawEpoll => raw_epoll(addr, if buf_size == 0 { LEAN_CHUNK } else { buf_size }),
    }
}

const LISTENER: u64 = u64::MAX;

/// A connection of the raw-epoll server and the bytes it could not write back yet.
struct RawConn {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl RawConn {
    /// Flushes what is pending, then reads until EAGAIN writing each chunk straight back.
    /// Returns false once the connection is done.
    fn serve(&mut self, buf: &mut [u8]) -> bool {
        while !self.pending.is_empty() {
            match self.stream.write(&self.pending) {
                Ok(n) => drop(self.pending.drain(..n)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        loop {
            let n = match self.stream.read(buf) {
                Ok(0) => return false,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return false,
            };
            let mut at = 0;
            while at < n {
                match self.stream.write(&buf[at..n]) {
                    Ok(k) => at += k,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        // Stop reading until EPOLLOUT: the next edge calls serve again.
                        self.pending.extend_from_slice(&buf[at..n]);
                        return true;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return false,
                }
            }
        }
    }
}

/// The ceiling: one thread, edge-triggered kernel epoll, a slab of connections, no runtime.
fn raw_epoll(addr: SocketAddr, buf_size: usize) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    announce(listener.local_addr()?);
    let ep = Epoll::new()?;
    ep.add(listener.as_raw_fd(), sys::IN | sys::ET, LISTENER)?;
    let mut conns: Vec<Option<RawConn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = sys::empty_events(1024);
    let mut buf = vec![0u8; buf_size];
    loop {
        let n = ep.wait(&mut events, -1)?;
        for ev in &events[..n] {
            let token = ev.u64;
            if token == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            stream.set_nonblocking(true)?;
                            let _ = stream.set_nodelay(true);
                            let idx = free.pop().unwrap_or(conns.len());
                            if idx == conns.len() {
                                conns.push(None);
                            }
                            ep.add(stream.as_raw_fd(), sys::IN | sys::OUT | sys::RDHUP | sys::ET, idx as u64)?;
                            conns[idx] = Some(RawConn { stream, pending: Vec::new() });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => {
                            eprintln!("raw-epoll: accept: {e}");
                            break;
                        }
                    }
                }
                continue;
            }
            let idx = token as usize;
            let Some(Some(conn)) = conns.get_mut(idx) else { continue };
            if !conn.serve(&mut buf) {
                let _ = ep.delete(conn.stream.as_raw_fd());
                conns[idx] = None;
                free.push(idx);
            }
        }
    }
}
