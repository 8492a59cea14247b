//! The servers under test. The echo and HTTP connection handlers are written once, in
//! `runtime_servers!`, and expanded for our runtime and for tokio (same source, each runtime's own
//! types and I/O traits); the raw-epoll server is the ceiling: one thread, edge-triggered kernel
//! epoll, no runtime.

use crate::sys::{self, Epoll};
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
    RawEpoll,
}

pub const ALL: [Kind; 5] = [Kind::OursMt, Kind::TokioMt, Kind::OursCt, Kind::TokioCt, Kind::RawEpoll];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::OursMt => "ours-mt",
            Kind::OursCt => "ours-ct",
            Kind::TokioMt => "tokio-mt",
            Kind::TokioCt => "tokio-ct",
            Kind::RawEpoll => "raw-epoll",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        ALL.into_iter().find(|k| k.name() == s)
    }
}

/// What the server speaks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Proto {
    Echo,
    Http,
}

/// Prints the bound address on stdout (the driver reads it) and flushes.
fn announce(addr: SocketAddr) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "listening on {addr}");
    let _ = out.flush();
}

/// The connection handlers, once, for a runtime given by its `net` and `io` modules and its
/// `spawn` and `sleep` functions.
macro_rules! runtime_servers {
    (mod $m:ident, net = $($net:ident)::+, io = $($io:ident)::+, spawn = $($spawn:ident)::+, sleep = $($sleep:ident)::+ $(,)?) => {
        pub mod $m {
            use crate::http_hello::http1;
            use $($io)::+::{AsyncReadExt as _, AsyncWriteExt as _};
            use $($net)::+::{TcpListener, TcpStream};
            use std::time::Duration;

            pub async fn serve(addr: std::net::SocketAddr, proto: super::Proto, buf_size: usize) -> std::io::Result<()> {
                let listener = TcpListener::bind(addr).await?;
                super::announce(listener.local_addr()?);
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => {
                            let _ = stream.set_nodelay(true);
                            match proto {
                                super::Proto::Echo => drop($($spawn)::+(echo(stream, buf_size))),
                                super::Proto::Http => drop($($spawn)::+(http(stream))),
                            }
                        }
                        Err(e) => {
                            eprintln!("bench server: accept: {e}");
                            $($sleep)::+(Duration::from_millis(1)).await;
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

runtime_servers!(mod ours, net = runtime::net, io = runtime::io, spawn = runtime::spawn, sleep = runtime::time::sleep);
runtime_servers!(mod tokio_rt, net = tokio::net, io = tokio::io, spawn = tokio::spawn, sleep = tokio::time::sleep);

/// Runs a server until the process is killed.
pub fn run(kind: Kind, addr: SocketAddr, proto: Proto, buf_size: usize, workers: usize) -> io::Result<()> {
    sys::raise_nofile()?;
    match kind {
        Kind::OursMt => {
            runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build()?.block_on(ours::serve(addr, proto, buf_size))
        }
        Kind::OursCt => runtime::Builder::new_current_thread().enable_all().build()?.block_on(ours::serve(addr, proto, buf_size)),
        Kind::TokioMt => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()?
            .block_on(tokio_rt::serve(addr, proto, buf_size)),
        Kind::TokioCt => {
            tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(tokio_rt::serve(addr, proto, buf_size))
        }
        Kind::RawEpoll => match proto {
            Proto::Echo => raw_epoll(addr, buf_size),
            Proto::Http => Err(io::Error::new(ErrorKind::InvalidInput, "raw-epoll serves the echo protocol only")),
        },
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
