//! An echo server driven directly by `reactor::EventPoll`, edge-triggered, on one thread: the
//! reactor's API with no executor on top (the `echo-server` example is the same server on
//! `#[runtime::main]`).
//!
//! ```text
//! cargo run --release --example eventpoll-echo                 # listens on 127.0.0.1:7000
//! cargo run --release --example eventpoll-echo -- --addr 127.0.0.1:0
//! ```
//!
//! It prints the address it listens on, echoes every byte back on every connection, logs accept
//! errors without dying, and stops cleanly on Ctrl-C (SIGINT) or SIGTERM, which arrive through a
//! signalfd registered on the same `EventPoll`. Try it with `nc 127.0.0.1 7000`.

use runtime::reactor::{CtlOp, EpollEvent, EventPoll, Events};
use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const LISTENER: u64 = u64::MAX;
const SIGNALS: u64 = u64::MAX - 1;

/// A connection and the bytes read but not yet written back.
struct Conn {
    stream: TcpStream,
    pending: Vec<u8>,
}

fn main() -> io::Result<()> {
    let mut addr = "127.0.0.1:7000".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "--addr needs a value"))?,
            "-h" | "--help" => {
                println!("usage: eventpoll-echo [--addr HOST:PORT]");
                return Ok(());
            }
            other => return Err(io::Error::new(ErrorKind::InvalidInput, format!("unknown argument {other:?}"))),
        }
    }

    let signals = signal_fd()?;
    let listener = TcpListener::bind(&addr)?;
    listener.set_nonblocking(true)?;
    println!("eventpoll-echo listening on {}", listener.local_addr()?);

    let ep = EventPoll::new()?;
    ep.ctl(CtlOp::Add, listener.as_raw_fd(), Some(EpollEvent::new(Events::IN | Events::ET, LISTENER)))?;
    ep.ctl(CtlOp::Add, signals.as_raw_fd(), Some(EpollEvent::new(Events::IN, SIGNALS)))?;

    let mut conns: HashMap<u64, Conn> = HashMap::new();
    let mut next_id = 0u64;
    let mut events = [EpollEvent::default(); 256];
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match ep.wait(&mut events, -1) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for ev in &events[..n] {
            match ev.data() {
                SIGNALS => {
                    println!("eventpoll-echo: signal received, {} connection(s) open, shutting down", conns.len());
                    return Ok(());
                }
                LISTENER => loop {
                    match listener.accept() {
                        Ok((stream, _peer)) => {
                            stream.set_nonblocking(true)?;
                            let _ = stream.set_nodelay(true);
                            let id = next_id;
                            next_id += 1;
                            let interest = Events::IN | Events::OUT | Events::RDHUP | Events::ET;
                            ep.ctl(CtlOp::Add, stream.as_raw_fd(), Some(EpollEvent::new(interest, id)))?;
                            conns.insert(id, Conn { stream, pending: Vec::new() });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) => {
                            eprintln!("eventpoll-echo: accept: {e}");
                            break;
                        }
                    }
                },
                id => {
                    let Some(conn) = conns.get_mut(&id) else { continue };
                    if !serve(conn, &mut buf) {
                        let conn = conns.remove(&id).expect("present");
                        ep.ctl(CtlOp::Del, conn.stream.as_raw_fd(), None)?;
                    }
                }
            }
        }
    }
}

/// Reads until WouldBlock and writes back what it can. Returns false once the connection is done.
fn serve(conn: &mut Conn, buf: &mut [u8]) -> bool {
    let mut open = true;
    loop {
        match conn.stream.read(buf) {
            Ok(0) => {
                open = false;
                break;
            }
            Ok(n) => conn.pending.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
        if conn.pending.len() >= 1 << 20 {
            break; // back-pressure: flush before reading more
        }
    }
    while !conn.pending.is_empty() {
        match conn.stream.write(&conn.pending) {
            Ok(n) => {
                conn.pending.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
    open
}

/// Blocks SIGINT and SIGTERM for the process and returns a signalfd that reads them.
fn signal_fd() -> io::Result<OwnedFd> {
    // SAFETY: `set` is a plain sigset_t initialised by sigemptyset before use; the calls only read
    // or write it and the thread's signal mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}
