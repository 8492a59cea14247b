//! The load generator: plain threads on kernel epoll (never the runtime under test). Each
//! connection keeps `depth` messages of `size` bytes in flight; every byte that comes back is
//! compared with what was sent (a per-connection offset into a shared pseudo-random pattern
//! whose period is a prime, so a lost, duplicated or misplaced byte shows up); a mismatch, an
//! early EOF or an error fails the run. Round-trip latency, from the moment a message is queued
//! to the moment its last byte is back, goes into an HDR histogram.
//!
//! With `flood` > 0, that many more threads play hostile peers beside the measured connections:
//! each connects, sends [`FLOOD_BYTES`] without reading the echo, and closes with `SO_LINGER 0`
//! (a reset), over and over until the run ends — the server must drop the connection with its
//! unread echo while the measured clients' round trips go on.

use crate::sys::{self, Epoll};
use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The period of the byte pattern (prime) and how far one contiguous slice of it may reach.
const PERIOD: usize = 65_521;
const MAX_SLICE: usize = 64 * 1024;

/// What one flooding peer sends before it resets its connection.
pub const FLOOD_BYTES: usize = 1 << 20;

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const DRAIN: u8 = 2;
const ABORT: u8 = 3;

#[derive(Clone, Debug)]
pub struct Spec {
    pub addr: SocketAddr,
    pub conns: usize,
    pub size: usize,
    pub depth: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub threads: usize,
    /// Flooding peers (connect, send [`FLOOD_BYTES`], reset; in a loop), 0 for none.
    pub flood: usize,
    /// The server's PID, for CPU time over the measured window.
    pub server_pid: Option<u32>,
}

pub struct Outcome {
    /// Messages echoed during the measured window.
    pub msgs: u64,
    pub secs: f64,
    /// Round-trip latency of the messages completed in the window, in nanoseconds.
    pub hist: Histogram<u64>,
    /// Server CPU seconds (utime + stime) over the measured window.
    pub server_cpu: Option<f64>,
    /// Connections the flooding peers reset during the measured window.
    pub resets: u64,
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        self.msgs as f64 / self.secs.max(1e-9)
    }
}

fn pattern() -> Arc<[u8]> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let base: Vec<u8> = (0..PERIOD)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    (0..PERIOD + MAX_SLICE).map(|i| base[i % PERIOD]).collect()
}

/// Opens `n` blocking connections (then switched to non-blocking), retrying briefly when the
/// server's accept queue is momentarily full.
pub fn connect_all(addr: SocketAddr, n: usize) -> Result<Vec<TcpStream>, String> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut tries = 0;
        let s = loop {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
                Ok(s) => break s,
                Err(e) if tries < 5 => {
                    tries += 1;
                    if tries == 5 {
                        return Err(format!("connection {i} of {n} to {addr}: {e}"));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(format!("connection {i} of {n} to {addr}: {e}")),
            }
        };
        s.set_nodelay(true).map_err(|e| format!("set_nodelay: {e}"))?;
        out.push(s);
    }
    Ok(out)
}

/// One connection's progress through the stream of messages.
struct Conn {
    stream: TcpStream,
    /// Offset of this connection's stream in the pattern.
    base: usize,
    /// Bytes queued (messages issued × size), written, and received back.
    queued: u64,
    written: u64,
    received: u64,
    /// When each message in flight was queued.
    sent_at: VecDeque<Instant>,
}

struct ThreadResult {
    msgs: u64,
    hist: Histogram<u64>,
}

pub fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// Runs the load described by `spec`; `Err` says why the run failed.
pub fn run(spec: &Spec) -> Result<Outcome, String> {
    if spec.conns == 0 || spec.size == 0 || spec.depth == 0 || spec.threads == 0 {
        return Err("connections, size, depth and threads must all be at least 1".into());
    }
    sys::raise_nofile().map_err(|e| format!("raising RLIMIT_NOFILE: {e}"))?;
    let streams = connect_all(spec.addr, spec.conns)?;
    let pat = pattern();
    let phase = Arc::new(AtomicU8::new(WARMUP));
    let threads = spec.threads.min(spec.conns);
    let mut per_thread: Vec<Vec<(usize, TcpStream)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, s) in streams.into_iter().enumerate() {
        per_thread[i % threads].push((i, s));
    }
    let handles: Vec<_> = per_thread
        .into_iter()
        .map(|conns| {
            let (pat, phase, spec) = (pat.clone(), phase.clone(), spec.clone());
            std::thread::spawn(move || {
                let r = drive(conns, &spec, &pat, &phase);
                if r.is_err() {
                    phase.store(ABORT, Ordering::Relaxed);
                }
                r
            })
        })
        .collect();
    let flooders: Vec<_> = (0..spec.flood)
        .map(|_| {
            let (phase, addr) = (phase.clone(), spec.addr);
            std::thread::spawn(move || {
                let r = flood(addr, &phase);
                if r.is_err() {
                    phase.store(ABORT, Ordering::Relaxed);
                }
                r
            })
        })
        .collect();

    let aborted = |phase: &AtomicU8| phase.load(Ordering::Relaxed) == ABORT;
    sleep_unless(spec.warmup, || aborted(&phase));
    let cpu0 = spec.server_pid.and_then(sys::cpu_seconds);
    let t0 = Instant::now();
    let _ = phase.compare_exchange(WARMUP, MEASURE, Ordering::Relaxed, Ordering::Relaxed);
    sleep_unless(spec.duration, || aborted(&phase));
    let _ = phase.compare_exchange(MEASURE, DRAIN, Ordering::Relaxed, Ordering::Relaxed);
    let secs = t0.elapsed().as_secs_f64();
    let cpu1 = spec.server_pid.and_then(sys::cpu_seconds);

    let mut hist = new_hist();
    let mut msgs = 0;
    let mut first_err = None;
    for h in handles {
        match h.join() {
            Ok(Ok(r)) => {
                msgs += r.msgs;
                let _ = hist.add(&r.hist);
            }
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(_) => {
                first_err.get_or_insert("a load-generator thread panicked".to_string());
            }
        }
    }
    let mut resets = 0;
    for h in flooders {
        match h.join() {
            Ok(Ok(n)) => resets += n,
            Ok(Err(e)) => {
                first_err.get_or_insert(e);
            }
            Err(_) => {
                first_err.get_or_insert("a flooding thread panicked".to_string());
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let server_cpu = match (cpu0, cpu1) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    Ok(Outcome { msgs, secs, hist, server_cpu, resets })
}

/// One flooding peer: connect, send [`FLOOD_BYTES`] (never reading the echo), reset; until the
/// run ends. Returns the connections reset while the window was measured. A write that stalls
/// for a second (the server stopped reading: its echo filled our receive buffer) ends that
/// connection early; a refused or failed connect fails the run.
fn flood(addr: SocketAddr, phase: &AtomicU8) -> Result<u64, String> {
    let chunk = vec![0x5a_u8; 64 * 1024];
    let mut resets = 0;
    while phase.load(Ordering::Relaxed) < DRAIN {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| format!("flood: connect: {e}"))?;
        s.set_write_timeout(Some(Duration::from_secs(1))).map_err(|e| format!("flood: set_write_timeout: {e}"))?;
        sys::set_linger_zero(s.as_raw_fd()).map_err(|e| format!("flood: SO_LINGER: {e}"))?;
        let mut sent = 0;
        while sent < FLOOD_BYTES && phase.load(Ordering::Relaxed) < DRAIN {
            match s.write(&chunk[..(FLOOD_BYTES - sent).min(chunk.len())]) {
                Ok(k) => sent += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Timed out, or the server dropped us first: reset and go again.
                Err(_) => break,
            }
        }
        if phase.load(Ordering::Relaxed) == MEASURE {
            resets += 1;
        }
        drop(s);
    }
    Ok(resets)
}

fn sleep_unless(d: Duration, stop: impl Fn() -> bool) {
    let end = Instant::now() + d;
    while !stop() {
        let now = Instant::now();
        if now >= end {
            return;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(20)));
    }
}

/// One load-generator thread: its own epoll over its share of the connections.
fn drive(list: Vec<(usize, TcpStream)>, spec: &Spec, pat: &[u8], phase: &AtomicU8) -> Result<ThreadResult, String> {
    let ep = Epoll::new().map_err(|e| format!("epoll_create: {e}"))?;
    let size = spec.size as u64;
    let mut conns = Vec::with_capacity(list.len());
    for (i, stream) in list {
        stream.set_nonblocking(true).map_err(|e| format!("set_nonblocking: {e}"))?;
        let mut c =
            Conn { stream, base: (i * 7919) % PERIOD, queued: 0, written: 0, received: 0, sent_at: VecDeque::with_capacity(spec.depth) };
        let now = Instant::now();
        for _ in 0..spec.depth {
            c.queued += size;
            c.sent_at.push_back(now);
        }
        ep.add(c.stream.as_raw_fd(), sys::IN | sys::OUT | sys::RDHUP | sys::ET, conns.len() as u64)
            .map_err(|e| format!("epoll_ctl: {e}"))?;
        conns.push(c);
    }
    let mut events = sys::empty_events(1024);
    let mut buf = vec![0u8; 64 * 1024];
    let mut hist = new_hist();
    let mut msgs = 0u64;
    let mut drain_deadline: Option<Instant> = None;
    loop {
        let ph = phase.load(Ordering::Relaxed);
        if ph == ABORT {
            return Err("aborted: another load-generator thread failed".into());
        }
        if ph == DRAIN {
            let deadline = *drain_deadline.get_or_insert_with(|| Instant::now() + Duration::from_secs(30));
            let outstanding = conns.iter().filter(|c| c.received < c.queued).count();
            if outstanding == 0 {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("{outstanding} connection(s) still waiting for their echo 30 s after the run ended"));
            }
        }
        let n = ep.wait(&mut events, 20).map_err(|e| format!("epoll_wait: {e}"))?;
        for ev in &events[..n] {
            let idx = ev.u64 as usize;
            let c = &mut conns[idx];
            // Read everything there is, verifying and completing messages.
            loop {
                match c.stream.read(&mut buf) {
                    Ok(0) => {
                        return Err(format!("connection {idx}: server closed it ({} of {} bytes echoed)", c.received, c.queued));
                    }
                    Ok(k) => {
                        if c.received + k as u64 > c.queued {
                            return Err(format!("connection {idx}: got more bytes back than were sent"));
                        }
                        let mut at = 0;
                        while at < k {
                            let off = (c.base as u64 + c.received + at as u64) as usize % PERIOD;
                            let len = (k - at).min(MAX_SLICE);
                            if buf[at..at + len] != pat[off..off + len] {
                                let bad = buf[at..at + len].iter().zip(&pat[off..off + len]).position(|(a, b)| a != b).unwrap_or(0);
                                return Err(format!(
                                    "connection {idx}: echoed byte {} differs from the byte sent",
                                    c.received + (at + bad) as u64
                                ));
                            }
                            at += len;
                        }
                        c.received += k as u64;
                        let ph = phase.load(Ordering::Relaxed);
                        let now = Instant::now();
                        while c.received >= (c.queued - size * c.sent_at.len() as u64) + size {
                            let Some(t) = c.sent_at.pop_front() else { break };
                            if ph == MEASURE {
                                msgs += 1;
                                let _ = hist.record((now - t).as_nanos().min(u64::MAX as u128) as u64);
                            }
                            if ph < DRAIN {
                                c.queued += size;
                                c.sent_at.push_back(now);
                            }
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("connection {idx}: read: {e}")),
                }
            }
            // Write what is queued until done or the socket is full.
            while c.written < c.queued {
                let off = (c.base as u64 + c.written) as usize % PERIOD;
                let len = ((c.queued - c.written) as usize).min(MAX_SLICE);
                match c.stream.write(&pat[off..off + len]) {
                    Ok(k) => c.written += k as u64,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("connection {idx}: write: {e}")),
                }
            }
        }
    }
    Ok(ThreadResult { msgs, hist })
}
