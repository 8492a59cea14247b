//! Shared helpers of the kernel-differential tests: a thin kernel epoll wrapper with the same
//! shape as `reactor::EventPoll`, a backend-neutral trait over both, a trace recorder that
//! compares what the two backends did step by step, and fd sources (socketpairs, pipes, eventfds,
//! TCP loopback, regular files).
//!
//! A differential test is a closure run twice, first against the kernel, then against
//! `EventPoll`, each time with fresh descriptors. Everything observable (ctl results, wait
//! results with bits and data in order, notes) goes into a [`Trace`]; the test passes when the
//! two traces are equal. Descriptor numbers never go into a trace (they differ between runs).
#![allow(dead_code)]

use reactor::{CtlOp, EpollEvent, EventPoll, Events, WatchOwner};
use std::fmt::{self, Debug, Write as _};
use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub use reactor::CtlOp::{Add, Del, Mod};

// ---------------------------------------------------------------------------------------------
// Event bits as plain u32 (the values are Linux's; reactor's `Events` has the same values).

pub const IN: u32 = libc::EPOLLIN as u32;
pub const PRI: u32 = libc::EPOLLPRI as u32;
pub const OUT: u32 = libc::EPOLLOUT as u32;
pub const ERR: u32 = libc::EPOLLERR as u32;
pub const HUP: u32 = libc::EPOLLHUP as u32;
pub const RDNORM: u32 = libc::EPOLLRDNORM as u32;
pub const RDBAND: u32 = libc::EPOLLRDBAND as u32;
pub const WRNORM: u32 = libc::EPOLLWRNORM as u32;
pub const WRBAND: u32 = libc::EPOLLWRBAND as u32;
pub const MSG: u32 = libc::EPOLLMSG as u32;
pub const RDHUP: u32 = libc::EPOLLRDHUP as u32;
pub const EXCLUSIVE: u32 = libc::EPOLLEXCLUSIVE as u32;
pub const WAKEUP: u32 = libc::EPOLLWAKEUP as u32;
pub const ONESHOT: u32 = libc::EPOLLONESHOT as u32;
pub const ET: u32 = libc::EPOLLET as u32;

const NAMES: [(u32, &str); 15] = [
    (IN, "IN"),
    (PRI, "PRI"),
    (OUT, "OUT"),
    (ERR, "ERR"),
    (HUP, "HUP"),
    (RDNORM, "RDNORM"),
    (RDBAND, "RDBAND"),
    (WRNORM, "WRNORM"),
    (WRBAND, "WRBAND"),
    (MSG, "MSG"),
    (RDHUP, "RDHUP"),
    (EXCLUSIVE, "EXCLUSIVE"),
    (WAKEUP, "WAKEUP"),
    (ONESHOT, "ONESHOT"),
    (ET, "ET"),
];

/// `IN|OUT|0x10000` style rendering of event (or poll) bits.
pub fn bits_str(bits: u32) -> String {
    if bits == 0 {
        return "0".into();
    }
    let mut s = String::new();
    let mut rest = bits;
    for (b, name) in NAMES {
        if bits & b != 0 {
            if !s.is_empty() {
                s.push('|');
            }
            s.push_str(name);
            rest &= !b;
        }
    }
    if rest != 0 {
        if !s.is_empty() {
            s.push('|');
        }
        let _ = write!(s, "{rest:#x}");
    }
    s
}

/// Symbolic name of an errno.
pub fn errno_name(code: i32) -> String {
    let name = match code {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::EFAULT => "EFAULT",
        libc::EEXIST => "EEXIST",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::EPIPE => "EPIPE",
        libc::ELOOP => "ELOOP",
        libc::ENOTCONN => "ENOTCONN",
        libc::ECONNRESET => "ECONNRESET",
        libc::ENOMEM => "ENOMEM",
        libc::EMFILE => "EMFILE",
        _ => return format!("errno {code}"),
    };
    name.into()
}

/// Renders an io::Result the way traces show it: `Ok(..)` or `Err(ENAME)`.
pub fn res_str<T: Debug>(r: &io::Result<T>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => match e.raw_os_error() {
            Some(code) => format!("Err({})", errno_name(code)),
            None => format!("Err(non-os: {e})"),
        },
    }
}

/// One reported event, as (bits, data).
#[derive(Copy, Clone, PartialEq, Eq)]
pub struct Ev(pub u32, pub u64);

impl Debug for Ev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", bits_str(self.0), self.1)
    }
}

// ---------------------------------------------------------------------------------------------
// Backends.

/// What both backends can do, in the shape of `EventPoll`.
pub trait Ep: AsRawFd + Send + Sync {
    /// `epoll_ctl`; `None` is a NULL event pointer on the kernel side.
    fn ctl(&self, op: CtlOp, fd: RawFd, ev: Option<(u32, u64)>) -> io::Result<()>;
    /// `epoll_wait` with `maxevents` (0 allowed, to provoke EINVAL).
    fn wait(&self, maxevents: usize, timeout_ms: i32) -> io::Result<Vec<Ev>>;
    /// An edge-triggered user event reported with `data`: `EventPoll::user_event` on ours; on
    /// the kernel, its analogue, an eventfd registered `IN | ET` that every trigger writes to
    /// (each write is one wake-up; one report per batch of writes).
    fn user_event(&self, data: u64) -> Box<dyn Trigger>;
}

/// A user event of either backend.
pub trait Trigger: Send + Sync {
    fn trigger(&self);
}

impl Trigger for reactor::UserEvent {
    fn trigger(&self) {
        reactor::UserEvent::trigger(self)
    }
}

/// The kernel's analogue of an edge-triggered user event (see [`Ep::user_event`]).
struct EventfdTrigger(OwnedFd);

impl Trigger for EventfdTrigger {
    fn trigger(&self) {
        efd_add(&self.0, 1).expect("eventfd write");
    }
}

/// A kernel epoll instance (`epoll_create1(EPOLL_CLOEXEC)`).
#[derive(Debug)]
pub struct KernelEp(OwnedFd);

impl KernelEp {
    pub fn new() -> io::Result<KernelEp> {
        // SAFETY: plain syscall.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh descriptor we own.
        Ok(KernelEp(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    pub fn ctl(&self, op: CtlOp, fd: RawFd, ev: Option<(u32, u64)>) -> io::Result<()> {
        let op = match op {
            CtlOp::Add => libc::EPOLL_CTL_ADD,
            CtlOp::Mod => libc::EPOLL_CTL_MOD,
            CtlOp::Del => libc::EPOLL_CTL_DEL,
        };
        let mut e = ev.map(|(events, u64)| libc::epoll_event { events, u64 });
        let ptr = match e.as_mut() {
            Some(e) => e as *mut libc::epoll_event,
            None => std::ptr::null_mut(),
        };
        // SAFETY: ptr is null or points at a live epoll_event.
        let r = unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, ptr) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    pub fn wait(&self, maxevents: usize, timeout_ms: i32) -> io::Result<Vec<Ev>> {
        let mut buf = vec![libc::epoll_event { events: 0, u64: 0 }; maxevents.max(1)];
        // SAFETY: buf holds at least maxevents entries (and is non-null for maxevents == 0).
        let n = unsafe { libc::epoll_wait(self.0.as_raw_fd(), buf.as_mut_ptr(), maxevents as i32, timeout_ms) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(buf[..n as usize]
            .iter()
            .map(|e| {
                let (events, data) = (e.events, e.u64);
                Ev(events, data)
            })
            .collect())
    }
}

impl AsRawFd for KernelEp {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }
}

impl Ep for KernelEp {
    fn ctl(&self, op: CtlOp, fd: RawFd, ev: Option<(u32, u64)>) -> io::Result<()> {
        KernelEp::ctl(self, op, fd, ev)
    }
    fn wait(&self, maxevents: usize, timeout_ms: i32) -> io::Result<Vec<Ev>> {
        KernelEp::wait(self, maxevents, timeout_ms)
    }
    fn user_event(&self, data: u64) -> Box<dyn Trigger> {
        let efd = eventfd(0);
        KernelEp::ctl(self, CtlOp::Add, efd.as_raw_fd(), Some((IN | ET, data))).expect("register the eventfd");
        Box::new(EventfdTrigger(efd))
    }
}

impl Ep for EventPoll {
    fn ctl(&self, op: CtlOp, fd: RawFd, ev: Option<(u32, u64)>) -> io::Result<()> {
        EventPoll::ctl(self, op, fd, ev.map(|(b, d)| EpollEvent::new(Events::from_bits_retain(b), d)))
    }
    fn wait(&self, maxevents: usize, timeout_ms: i32) -> io::Result<Vec<Ev>> {
        let mut buf = vec![EpollEvent::default(); maxevents];
        let n = EventPoll::wait(self, &mut buf, timeout_ms)?;
        assert!(n <= maxevents, "EventPoll::wait returned {n} > buffer length {maxevents}");
        Ok(buf[..n].iter().map(|e| Ev(e.events().bits(), e.data())).collect())
    }
    fn user_event(&self, data: u64) -> Box<dyn Trigger> {
        Box::new(EventPoll::user_event(self, data).expect("EventPoll::user_event"))
    }
}

/// Which implementation a run exercises.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Backend {
    Kernel,
    Ours,
}

impl Backend {
    /// A fresh instance of this backend.
    pub fn new_ep(self) -> Box<dyn Ep> {
        match self {
            Backend::Kernel => Box::new(KernelEp::new().expect("epoll_create1")),
            Backend::Ours => Box::new(EventPoll::new().expect("EventPoll::new")),
        }
    }

    /// For ours: an instance charged to `owner`; for the kernel: a plain instance (the kernel's
    /// per-user limit cannot be lowered per test).
    pub fn new_ep_with_owner(self, owner: &Arc<WatchOwner>) -> Box<dyn Ep> {
        match self {
            Backend::Kernel => Box::new(KernelEp::new().expect("epoll_create1")),
            Backend::Ours => Box::new(EventPoll::with_owner(owner.clone()).expect("EventPoll::with_owner")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Traces.

/// The record of one run.
pub struct Trace {
    pub backend: Backend,
    lines: Vec<String>,
}

impl Trace {
    fn new(backend: Backend) -> Trace {
        Trace { backend, lines: Vec::new() }
    }

    pub fn new_ep(&self) -> Box<dyn Ep> {
        self.backend.new_ep()
    }

    pub fn is_kernel(&self) -> bool {
        self.backend == Backend::Kernel
    }

    /// Records an arbitrary observation.
    pub fn note(&mut self, label: &str, value: impl Debug) {
        self.lines.push(format!("{label}: {value:?}"));
    }

    /// Records a pre-rendered observation.
    pub fn line(&mut self, s: impl Into<String>) {
        self.lines.push(s.into());
    }

    /// `ctl`, recorded as `label -> Ok(())` / `label -> Err(ENAME)`; returns whether it succeeded.
    pub fn ctl(&mut self, ep: &dyn Ep, label: &str, op: CtlOp, fd: RawFd, ev: Option<(u32, u64)>) -> bool {
        let r = ep.ctl(op, fd, ev);
        let what = match ev {
            Some((b, d)) => format!("{op:?}({}, {})", bits_str(b), d),
            None => format!("{op:?}(None)"),
        };
        self.lines.push(format!("ctl {label} {what} -> {}", res_str(&r)));
        r.is_ok()
    }

    /// `wait`, recorded with every event (bits and data, in order). Errors are recorded and
    /// returned as an empty list.
    pub fn wait(&mut self, ep: &dyn Ep, label: &str, maxevents: usize, timeout_ms: i32) -> Vec<Ev> {
        let r = ep.wait(maxevents, timeout_ms);
        self.lines.push(format!("wait {label} (max {maxevents}, {timeout_ms} ms) -> {}", res_str(&r)));
        r.unwrap_or_default()
    }
}

static FD_LOCK: RwLock<()> = RwLock::new(());

fn verbose() -> bool {
    std::env::var_os("DIFF_VERBOSE").is_some()
}

fn run_one(backend: Backend, f: &dyn Fn(&mut Trace)) -> (Trace, Option<Box<dyn std::any::Any + Send>>) {
    let mut t = Trace::new(backend);
    let res = catch_unwind(AssertUnwindSafe(|| f(&mut t)));
    (t, res.err())
}

fn panic_msg(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic>".into()
    }
}

fn side_by_side(k: &Trace, o: &Trace) -> String {
    let mut s = String::new();
    let n = k.lines.len().max(o.lines.len());
    let mut first = None;
    for i in 0..n {
        let a = k.lines.get(i).map(String::as_str).unwrap_or("<missing>");
        let b = o.lines.get(i).map(String::as_str).unwrap_or("<missing>");
        let mark = if a == b { "  " } else { "!!" };
        if a != b && first.is_none() {
            first = Some(i);
        }
        let _ = writeln!(s, "{mark} kernel: {a}");
        if a != b {
            let _ = writeln!(s, "{mark} ours:   {b}");
        }
    }
    if let Some(i) = first {
        let _ = writeln!(s, "first divergence at step {i}");
    }
    s
}

fn compare(name: &str, f: &dyn Fn(&mut Trace)) {
    let (k, kp) = run_one(Backend::Kernel, f);
    if let Some(p) = kp {
        eprintln!("[{name}] kernel run panicked (the test itself is wrong); trace so far:\n{}", k.lines.join("\n"));
        resume_unwind(p);
    }
    let (o, op) = run_one(Backend::Ours, f);
    if verbose() {
        eprintln!("[{name}] traces:\n{}", side_by_side(&k, &o));
    }
    if let Some(p) = op {
        panic!("[{name}] EventPoll run panicked: {}\n{}", panic_msg(&*p), side_by_side(&k, &o));
    }
    if k.lines != o.lines {
        panic!("[{name}] EventPoll diverges from kernel epoll:\n{}", side_by_side(&k, &o));
    }
}

/// Runs `f` on the kernel, then on `EventPoll`, and asserts identical traces. Runs concurrently
/// with other differential tests.
pub fn differential(name: &str, f: impl Fn(&mut Trace)) {
    let _g = FD_LOCK.read().unwrap_or_else(|e| e.into_inner());
    compare(name, &f);
}

/// Like [`differential`], but alone in the process: for scenarios that depend on which
/// descriptor number the next `open` returns (close-and-reuse).
pub fn differential_exclusive(name: &str, f: impl Fn(&mut Trace)) {
    let _g = FD_LOCK.write().unwrap_or_else(|e| e.into_inner());
    compare(name, &f);
}

/// Takes the shared fd lock for a test that is not differential (user-space-only checks).
pub fn shared_guard() -> std::sync::RwLockReadGuard<'static, ()> {
    FD_LOCK.read().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Descriptor sources.

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn cvt_size(r: isize) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// A nonblocking AF_UNIX socketpair of `ty` (`libc::SOCK_STREAM` / `libc::SOCK_DGRAM`).
pub fn sockpair(ty: libc::c_int) -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    cvt(unsafe { libc::socketpair(libc::AF_UNIX, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) })
        .expect("socketpair");
    // SAFETY: fresh descriptors we own.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

pub fn stream_pair() -> (OwnedFd, OwnedFd) {
    sockpair(libc::SOCK_STREAM)
}

pub fn dgram_pair() -> (OwnedFd, OwnedFd) {
    sockpair(libc::SOCK_DGRAM)
}

/// `pipe2(O_NONBLOCK | O_CLOEXEC)`: (read end, write end).
pub fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) }).expect("pipe2");
    // SAFETY: fresh descriptors we own.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A nonblocking eventfd with counter `init`.
pub fn eventfd(init: u32) -> OwnedFd {
    // SAFETY: plain syscall.
    let fd = cvt(unsafe { libc::eventfd(init, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) }).expect("eventfd");
    // SAFETY: fresh descriptor we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A nonblocking eventfd with counter `init` at the lowest free number >= `at` (call right after
/// closing `at`, under [`differential_exclusive`], to reuse that number).
pub fn eventfd_at(at: RawFd, init: u32) -> OwnedFd {
    let e = eventfd(init);
    if e.as_raw_fd() == at {
        // The lowest free number was `at` itself.
        return e;
    }
    // SAFETY: plain syscall on a descriptor we own.
    let fd = cvt(unsafe { libc::fcntl(e.as_raw_fd(), libc::F_DUPFD_CLOEXEC, at) }).expect("F_DUPFD");
    // SAFETY: fresh descriptor we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// `dup(fd)` (close-on-exec).
pub fn dup(fd: RawFd) -> OwnedFd {
    // SAFETY: plain syscall.
    let d = cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) }).expect("dup");
    // SAFETY: fresh descriptor we own.
    unsafe { OwnedFd::from_raw_fd(d) }
}

/// A regular file in the temp dir, already unlinked.
pub fn temp_file() -> std::fs::File {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!("reactor-differential-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let f = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path).expect("temp file");
    let _ = std::fs::remove_file(&path);
    f
}

pub fn write_fd(fd: RawFd, bytes: &[u8]) -> io::Result<usize> {
    // SAFETY: bytes is a live buffer of bytes.len() bytes.
    cvt_size(unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) })
}

pub fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf is a live buffer of buf.len() bytes.
    cvt_size(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })
}

/// Writes `bytes`, panicking on error.
pub fn put(fd: &impl AsRawFd, bytes: &[u8]) {
    let n = write_fd(fd.as_raw_fd(), bytes).expect("write");
    assert_eq!(n, bytes.len(), "short write");
}

/// Reads until EAGAIN / EOF / error (bounded); returns the bytes read.
pub fn drain(fd: &impl AsRawFd) -> usize {
    let mut total = 0;
    let mut buf = [0u8; 65536];
    for _ in 0..10_000 {
        match read_fd(fd.as_raw_fd(), &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
    total
}

/// Writes until EAGAIN (bounded); returns the bytes written.
pub fn fill(fd: &impl AsRawFd) -> usize {
    let chunk = [0u8; 65536];
    let mut total = 0;
    for _ in 0..10_000 {
        match write_fd(fd.as_raw_fd(), &chunk) {
            Ok(n) if n > 0 => total += n,
            _ => break,
        }
    }
    total
}

/// Adds `v` to an eventfd counter.
pub fn efd_add(fd: &impl AsRawFd, v: u64) -> io::Result<()> {
    write_fd(fd.as_raw_fd(), &v.to_ne_bytes()).map(drop)
}

/// Reads (and resets) an eventfd counter; 0 when it was 0.
pub fn efd_take(fd: &impl AsRawFd) -> u64 {
    let mut b = [0u8; 8];
    match read_fd(fd.as_raw_fd(), &mut b) {
        Ok(8) => u64::from_ne_bytes(b),
        _ => 0,
    }
}

/// The `poll(2)` bits asked for by [`poll_bits`].
pub const POLL_ASK: libc::c_short = libc::POLLIN | libc::POLLPRI | libc::POLLOUT | libc::POLLRDHUP;

/// Current `poll(2)` revents of `fd` (IN, PRI, OUT, RDHUP asked; ERR, HUP, NVAL always).
pub fn poll_bits(fd: RawFd) -> u32 {
    poll_wait_bits(fd, POLL_ASK, 0)
}

/// `poll(2)` on one descriptor for `events`, up to `timeout_ms`.
pub fn poll_wait_bits(fd: RawFd, events: libc::c_short, timeout_ms: i32) -> u32 {
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // SAFETY: p is a live pollfd.
    let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    assert!(r >= 0, "poll: {}", io::Error::last_os_error());
    p.revents as u16 as u32
}

/// Waits (bounded by `timeout_ms`) until `fd` polls with any of `mask`; returns whether it did.
/// Used to let loopback TCP settle before a wait(0) so both backends see the same state.
pub fn poll_until(fd: RawFd, mask: u32, timeout_ms: u64) -> bool {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    loop {
        if poll_bits(fd) & mask != 0 {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A nonblocking TCP listener on 127.0.0.1, ephemeral port.
/// Sends `bytes` as urgent (out-of-band) data: `send(MSG_OOB)`.
pub fn socket_send_oob(fd: &impl AsRawFd, bytes: &[u8]) -> io::Result<usize> {
    // SAFETY: `bytes` is a live buffer of `bytes.len()` bytes for the duration of the call.
    let n = unsafe { libc::send(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), libc::MSG_OOB) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

pub fn tcp_listener() -> TcpListener {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.set_nonblocking(true).expect("nonblocking");
    l
}

/// A connected loopback TCP pair (client, server), both nonblocking.
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let c = TcpStream::connect(l.local_addr().unwrap()).expect("connect");
    let (s, _) = l.accept().expect("accept");
    c.set_nonblocking(true).unwrap();
    s.set_nonblocking(true).unwrap();
    c.set_nodelay(true).unwrap();
    s.set_nodelay(true).unwrap();
    (c, s)
}

/// SO_LINGER {on, 0}: closing sends RST.
pub fn set_linger0(fd: RawFd) {
    let l = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: l is a live linger struct of the size passed.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    })
    .expect("SO_LINGER");
}

pub fn shutdown_write(s: &TcpStream) {
    s.shutdown(Shutdown::Write).expect("shutdown");
}

/// Raw `shutdown(2)` on a socket descriptor.
pub fn shutdown_fd(fd: RawFd, how: libc::c_int) {
    // SAFETY: plain syscall.
    cvt(unsafe { libc::shutdown(fd, how) }).expect("shutdown");
}

/// A descriptor number that is certainly not open (beyond any sane RLIMIT_NOFILE).
pub const NEVER_OPEN_FD: RawFd = 1 << 29;

/// Sorted copy of events (for results whose order is legitimately unspecified).
pub fn sorted(mut v: Vec<Ev>) -> Vec<Ev> {
    v.sort_by_key(|e| (e.1, e.0));
    v
}

pub fn datas(v: &[Ev]) -> Vec<u64> {
    v.iter().map(|e| e.1).collect()
}
