//! Seeded randomized differential test: `reactor::EventPoll` against kernel epoll.
//!
//! Two worlds are driven by the same random sequence of operations:
//!
//! * world K: a kernel epoll instance (`epoll_create1` / `epoll_ctl` / `epoll_wait` via libc);
//! * world R: a `reactor::EventPoll`.
//!
//! Each world owns its own `PAIRS` socketpairs (AF_UNIX, nonblocking, cloexec), so the two are
//! independent; operations name endpoints by index, never by descriptor number. Every operation's
//! result (success / errno, byte counts, and for waits the list of `(events, data)`) is recorded
//! in a per-world trace, and the traces must be equal step by step. Everything is
//! single-threaded and `wait` never blocks, so the kernel's answers are deterministic.
//!
//! On a mismatch the test shrinks the operation list (greedy removal while it still fails) and
//! panics with the seed, the first diverging step, the shrunk operation list and both traces.
//!
//! Environment:
//!
//! * `REACTOR_FUZZ_SEED=<n>`: run only seed `n` (replay a failure);
//! * `REACTOR_FUZZ_ITERS=<n>`: number of seeds (default 200; seeds are `BASE..BASE+n`);
//! * `REACTOR_FUZZ_BASE=<n>`: first seed (default 0);
//! * `REACTOR_FUZZ_STEPS=<n>`: operations per seed (default 60);
//! * `REACTOR_FUZZ_NO_SHRINK=1`: report the unshrunk failure;
//! * `REACTOR_FUZZ_REPORT_ALL=1`: shrink and print every failing seed, not only the first;
//! * `REACTOR_FUZZ_UNORDERED=1`: waits always get `maxevents` = all endpoints and their events
//!   are compared as sets: finds failures other than ready-list order;
//! * `REACTOR_FUZZ_NO_ONESHOT=1`: strip ONESHOT from generated interests (to look for other
//!   failure classes while a ONESHOT one is open; the same seed then yields other operations).

use reactor::{CtlOp, EpollEvent, EventPoll, Events};
use std::fmt;
use std::os::fd::RawFd;

/// Socketpairs per world; endpoint `e` is side `e % 2` of pair `e / 2`, its peer is `e ^ 1`.
const PAIRS: usize = 4;
const ENDPOINTS: usize = PAIRS * 2;

// ---------------------------------------------------------------------------------------------
// PRNG

/// splitmix64: tiny, seedable, good enough to drive a fuzzer.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5eed_f00d_ea11_da7a)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }

    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

// ---------------------------------------------------------------------------------------------
// Operations

#[derive(Copy, Clone, PartialEq, Eq)]
enum Op {
    /// `epoll_ctl(op, endpoint, {interest, data})`.
    Ctl { op: CtlOp, ep: usize, interest: u32, data: u64 },
    /// `send(endpoint, len bytes, MSG_DONTWAIT | MSG_NOSIGNAL)`: makes the peer readable.
    Write { ep: usize, len: usize },
    /// `recv(endpoint, up to len bytes, MSG_DONTWAIT)`.
    Read { ep: usize, len: usize },
    /// `shutdown(endpoint, SHUT_WR)`: the peer sees RDHUP (and HUP once both sides are shut).
    Shutdown { ep: usize },
    /// `epoll_wait(maxevents, timeout 0)`.
    Wait { maxevents: usize },
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Ctl { op, ep, interest, data } => {
                write!(f, "Ctl({op:?}, ep{ep}")?;
                if op != CtlOp::Del {
                    write!(f, ", {:?}, data={data:#x}", Events::from_bits_retain(interest))?;
                }
                write!(f, ")")
            }
            Op::Write { ep, len } => write!(f, "Write(ep{ep} -> ep{}, {len})", ep ^ 1),
            Op::Read { ep, len } => write!(f, "Read(ep{ep}, {len})"),
            Op::Shutdown { ep } => write!(f, "Shutdown(ep{ep}, WR)"),
            Op::Wait { maxevents } => write!(f, "Wait(max={maxevents}, timeout=0)"),
        }
    }
}

/// Interest bits: a subset of {IN, OUT, RDHUP, PRI} (possibly empty) × one of the modes
/// {LT, ET, ONESHOT, ET|ONESHOT}; rarely EXCLUSIVE as well (exercises EINVAL paths).
fn random_interest(rng: &mut Rng, no_oneshot: bool) -> u32 {
    let mut bits = 0u32;
    for b in [libc::EPOLLIN, libc::EPOLLOUT, libc::EPOLLRDHUP, libc::EPOLLPRI] {
        if rng.chance(1, 2) {
            bits |= b as u32;
        }
    }
    bits |= match rng.below(4) {
        0 => 0,
        1 => libc::EPOLLET as u32,
        2 => libc::EPOLLONESHOT as u32,
        _ => (libc::EPOLLET | libc::EPOLLONESHOT) as u32,
    };
    if rng.chance(1, 32) {
        bits |= libc::EPOLLEXCLUSIVE as u32;
    }
    if no_oneshot {
        bits &= !(libc::EPOLLONESHOT as u32);
    }
    bits
}

/// `REACTOR_FUZZ_UNORDERED=1`: every wait has room for all endpoints and its events are compared
/// as a set, so a difference in ready-list order alone cannot fail the run.
fn unordered() -> bool {
    std::env::var_os("REACTOR_FUZZ_UNORDERED").is_some()
}

fn gen_ops(seed: u64, steps: usize) -> Vec<Op> {
    let mut rng = Rng::new(seed);
    let no_oneshot = std::env::var_os("REACTOR_FUZZ_NO_ONESHOT").is_some();
    let unordered = unordered();
    let mut shut = [false; ENDPOINTS];
    let mut ops = Vec::with_capacity(steps);
    while ops.len() < steps {
        let ep = rng.below(ENDPOINTS as u64) as usize;
        let op = match rng.below(100) {
            0..=11 => Op::Ctl { op: CtlOp::Add, ep, interest: random_interest(&mut rng, no_oneshot), data: rng.next() },
            12..=21 => Op::Ctl { op: CtlOp::Mod, ep, interest: random_interest(&mut rng, no_oneshot), data: rng.next() },
            22..=26 => Op::Ctl { op: CtlOp::Del, ep, interest: 0, data: 0 },
            27..=46 => Op::Write { ep, len: rng.range(1, 48) as usize },
            47..=61 => Op::Read { ep, len: rng.range(1, 96) as usize },
            62..=64 => {
                if shut[ep] {
                    continue;
                }
                shut[ep] = true;
                Op::Shutdown { ep }
            }
            _ if unordered => Op::Wait { maxevents: ENDPOINTS },
            _ => Op::Wait { maxevents: rng.range(1, 8) as usize },
        };
        ops.push(op);
    }
    ops
}

// ---------------------------------------------------------------------------------------------
// Traces

#[derive(Clone, PartialEq, Eq)]
enum Rec {
    Unit(Result<(), i32>),
    Bytes(Result<usize, i32>),
    Events(Result<Vec<(u32, u64)>, i32>),
}

fn errname(e: i32) -> String {
    let name = match e {
        libc::EAGAIN => "EAGAIN",
        libc::EBADF => "EBADF",
        libc::EEXIST => "EEXIST",
        libc::ENOENT => "ENOENT",
        libc::EINVAL => "EINVAL",
        libc::EPERM => "EPERM",
        libc::EPIPE => "EPIPE",
        libc::ENOTCONN => "ENOTCONN",
        libc::ECONNRESET => "ECONNRESET",
        libc::EFAULT => "EFAULT",
        libc::ELOOP => "ELOOP",
        libc::ENOSPC => "ENOSPC",
        _ => return format!("errno {e}"),
    };
    name.to_string()
}

impl fmt::Debug for Rec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rec::Unit(Ok(())) => write!(f, "Ok"),
            Rec::Bytes(Ok(n)) => write!(f, "Ok({n})"),
            Rec::Events(Ok(evs)) => {
                write!(f, "{} event(s) [", evs.len())?;
                for (i, (bits, data)) in evs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "({:?}, data={data:#x})", Events::from_bits_retain(*bits))?;
                }
                write!(f, "]")
            }
            Rec::Unit(Err(e)) | Rec::Bytes(Err(e)) | Rec::Events(Err(e)) => write!(f, "Err({})", errname(*e)),
        }
    }
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn io_errno(e: std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or_else(|| panic!("io::Error without an errno: {e:?}"))
}

// ---------------------------------------------------------------------------------------------
// Worlds

/// What the two worlds differ in: how `ctl` and `wait` reach an epoll.
trait Epoll {
    fn ctl(&self, op: CtlOp, fd: RawFd, interest: u32, data: u64) -> Result<(), i32>;
    fn wait(&self, maxevents: usize) -> Result<Vec<(u32, u64)>, i32>;
}

struct Kernel {
    epfd: RawFd,
}

impl Kernel {
    fn new() -> Kernel {
        // SAFETY: plain system call.
        let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(epfd >= 0, "epoll_create1: {}", std::io::Error::last_os_error());
        Kernel { epfd }
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        // SAFETY: we own epfd.
        unsafe { libc::close(self.epfd) };
    }
}

impl Epoll for Kernel {
    fn ctl(&self, op: CtlOp, fd: RawFd, interest: u32, data: u64) -> Result<(), i32> {
        let kop = match op {
            CtlOp::Add => libc::EPOLL_CTL_ADD,
            CtlOp::Mod => libc::EPOLL_CTL_MOD,
            CtlOp::Del => libc::EPOLL_CTL_DEL,
        };
        let mut ev = libc::epoll_event { events: interest, u64: data };
        // SAFETY: ev is a valid epoll_event for the duration of the call.
        let r = unsafe { libc::epoll_ctl(self.epfd, kop, fd, &mut ev) };
        if r == 0 {
            Ok(())
        } else {
            Err(last_errno())
        }
    }

    fn wait(&self, maxevents: usize) -> Result<Vec<(u32, u64)>, i32> {
        let mut buf = vec![libc::epoll_event { events: 0, u64: 0 }; maxevents];
        // SAFETY: buf holds maxevents entries.
        let n = unsafe { libc::epoll_wait(self.epfd, buf.as_mut_ptr(), maxevents as i32, 0) };
        if n < 0 {
            return Err(last_errno());
        }
        Ok(buf[..n as usize].iter().map(|e| (e.events, e.u64)).collect())
    }
}

struct Reactor {
    ep: EventPoll,
}

impl Epoll for Reactor {
    fn ctl(&self, op: CtlOp, fd: RawFd, interest: u32, data: u64) -> Result<(), i32> {
        let ev = match op {
            CtlOp::Del => None,
            _ => Some(EpollEvent::new(Events::from_bits_retain(interest), data)),
        };
        self.ep.ctl(op, fd, ev).map_err(io_errno)
    }

    fn wait(&self, maxevents: usize) -> Result<Vec<(u32, u64)>, i32> {
        let mut buf = vec![EpollEvent::default(); maxevents];
        let n = self.ep.wait(&mut buf, 0).map_err(io_errno)?;
        Ok(buf[..n].iter().map(|e| (e.events().bits(), e.data())).collect())
    }
}

/// One world: an epoll and its socketpairs.
struct World<E: Epoll> {
    epoll: E,
    fds: [RawFd; ENDPOINTS],
}

fn socketpairs(ty: libc::c_int) -> [RawFd; ENDPOINTS] {
    let mut fds = [-1; ENDPOINTS];
    for p in 0..PAIRS {
        let mut sv = [-1; 2];
        // SAFETY: sv has room for two descriptors.
        let r = unsafe { libc::socketpair(libc::AF_UNIX, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0, sv.as_mut_ptr()) };
        assert_eq!(r, 0, "socketpair: {}", std::io::Error::last_os_error());
        fds[2 * p] = sv[0];
        fds[2 * p + 1] = sv[1];
    }
    fds
}

impl<E: Epoll> World<E> {
    fn new(epoll: E, ty: libc::c_int) -> World<E> {
        World { epoll, fds: socketpairs(ty) }
    }

    fn apply(&mut self, op: &Op) -> Rec {
        match *op {
            Op::Ctl { op, ep, interest, data } => Rec::Unit(self.epoll.ctl(op, self.fds[ep], interest, data)),
            Op::Write { ep, len } => {
                let buf = [0xabu8; 256];
                // SAFETY: buf holds at least len bytes.
                let r = unsafe { libc::send(self.fds[ep], buf.as_ptr().cast(), len, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) };
                Rec::Bytes(if r < 0 { Err(last_errno()) } else { Ok(r as usize) })
            }
            Op::Read { ep, len } => {
                let mut buf = [0u8; 256];
                // SAFETY: buf has room for len bytes.
                let r = unsafe { libc::recv(self.fds[ep], buf.as_mut_ptr().cast(), len, libc::MSG_DONTWAIT) };
                Rec::Bytes(if r < 0 { Err(last_errno()) } else { Ok(r as usize) })
            }
            Op::Shutdown { ep } => {
                // SAFETY: plain system call on a descriptor we own.
                let r = unsafe { libc::shutdown(self.fds[ep], libc::SHUT_WR) };
                Rec::Unit(if r < 0 { Err(last_errno()) } else { Ok(()) })
            }
            Op::Wait { maxevents } => {
                let mut res = self.epoll.wait(maxevents);
                if unordered() {
                    if let Ok(evs) = &mut res {
                        evs.sort_unstable();
                    }
                }
                Rec::Events(res)
            }
        }
    }
}

impl<E: Epoll> Drop for World<E> {
    fn drop(&mut self) {
        for &fd in &self.fds {
            // SAFETY: we own these descriptors.
            unsafe { libc::close(fd) };
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running, shrinking, reporting

struct Mismatch {
    step: usize,
    kernel: Vec<Rec>,
    ours: Vec<Rec>,
}

impl Mismatch {
    /// A coarse classification of the diverging step, to tell failure classes apart.
    fn kind(&self) -> &'static str {
        match (&self.kernel[self.step], &self.ours[self.step]) {
            (Rec::Events(Ok(k)), Rec::Events(Ok(o))) => {
                let (mut ks, mut os) = (k.clone(), o.clone());
                ks.sort_unstable();
                os.sort_unstable();
                if ks == os {
                    "ordering only (same events, different order)"
                } else if k.len() != o.len() {
                    "different number of events"
                } else {
                    "different events (bits or data)"
                }
            }
            (Rec::Events(_), Rec::Events(_)) => "wait: success vs error, or different errno",
            (Rec::Unit(_), Rec::Unit(_)) => "ctl / shutdown: different result",
            _ => "socket I/O: different result",
        }
    }
}

/// Runs `ops` in both worlds; `Err` at the first step whose results differ.
fn run(ops: &[Op], ty: libc::c_int) -> Result<(), Mismatch> {
    // The reactor world is created first so that, if anything, descriptor numbers differ
    // between the worlds (they must not matter).
    let mut ours = World::new(Reactor { ep: EventPoll::new().expect("EventPoll::new") }, ty);
    let mut kernel = World::new(Kernel::new(), ty);
    let mut tk = Vec::with_capacity(ops.len());
    let mut to = Vec::with_capacity(ops.len());
    for (step, op) in ops.iter().enumerate() {
        let rk = kernel.apply(op);
        let ro = ours.apply(op);
        let same = rk == ro;
        tk.push(rk);
        to.push(ro);
        if !same {
            return Err(Mismatch { step, kernel: tk, ours: to });
        }
    }
    Ok(())
}

/// Greedy shrink: drop chunks, then single operations, while the run still fails.
fn shrink(mut ops: Vec<Op>, ty: libc::c_int) -> Vec<Op> {
    // Nothing after the first mismatch matters.
    if let Err(m) = run(&ops, ty) {
        ops.truncate(m.step + 1);
    }
    let mut chunk = ops.len() / 2;
    while chunk >= 1 {
        let mut i = 0;
        while i < ops.len() {
            let mut cand = ops.clone();
            let end = (i + chunk).min(cand.len());
            cand.drain(i..end);
            match run(&cand, ty) {
                Err(m) => {
                    cand.truncate(m.step + 1);
                    ops = cand;
                }
                Ok(()) => i += chunk,
            }
        }
        chunk /= 2;
    }
    ops
}

fn type_name(ty: libc::c_int) -> &'static str {
    match ty {
        libc::SOCK_STREAM => "SOCK_STREAM",
        libc::SOCK_DGRAM => "SOCK_DGRAM",
        libc::SOCK_SEQPACKET => "SOCK_SEQPACKET",
        _ => "?",
    }
}

fn report(seed: u64, steps: usize, ty: libc::c_int, ops: &[Op], m: &Mismatch, shrunk: bool) -> String {
    use fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "\n==== EventPoll diverged from kernel epoll ({}) ====", type_name(ty));
    let _ = writeln!(s, "    REACTOR_FUZZ_SEED={seed} to replay (REACTOR_FUZZ_STEPS={steps})");
    let _ =
        writeln!(s, "    first divergence at step {} of the {} operation list below", m.step, if shrunk { "shrunk" } else { "generated" });
    let _ = writeln!(s, "    kind: {}", m.kind());
    let _ = writeln!(s, "    endpoints: ep(2p) and ep(2p+1) are the two ends of socketpair p\n");
    let _ = writeln!(s, "  step | op | kernel | EventPoll");
    for (i, op) in ops.iter().enumerate().take(m.step + 1) {
        let mark = if i == m.step { "  <== MISMATCH" } else { "" };
        let _ = writeln!(s, "  {i:>4} | {op:?}\n       |   kernel:    {:?}\n       |   EventPoll: {:?}{mark}", m.kernel[i], m.ours[i]);
    }
    s
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")))
}

fn fuzz(ty: libc::c_int) {
    let steps = env_u64("REACTOR_FUZZ_STEPS").unwrap_or(60) as usize;
    let seeds: Vec<u64> = match env_u64("REACTOR_FUZZ_SEED") {
        Some(seed) => vec![seed],
        None => {
            let base = env_u64("REACTOR_FUZZ_BASE").unwrap_or(0);
            let iters = env_u64("REACTOR_FUZZ_ITERS").unwrap_or(200);
            (base..base + iters).collect()
        }
    };
    let no_shrink = std::env::var_os("REACTOR_FUZZ_NO_SHRINK").is_some();
    let report_all = std::env::var_os("REACTOR_FUZZ_REPORT_ALL").is_some();
    let mut failing = Vec::new();
    let mut first_report = None;
    for &seed in &seeds {
        let ops = gen_ops(seed, steps);
        if let Err(m) = run(&ops, ty) {
            failing.push((seed, m.step));
            if first_report.is_none() || report_all {
                let mut text = report(seed, steps, ty, &ops, &m, false);
                if !no_shrink {
                    let small = shrink(ops.clone(), ty);
                    if let Err(sm) = run(&small, ty) {
                        text = report(seed, steps, ty, &small, &sm, true);
                        text.push_str(&format!("\n  (shrunk from {} to {} operations)\n", m.step + 1, small.len()));
                    }
                }
                if first_report.is_none() {
                    first_report = Some(text);
                } else {
                    eprintln!("{text}");
                }
            }
        }
    }
    if let Some(text) = first_report {
        let list: Vec<String> = failing.iter().map(|(s, step)| format!("{s}@{step}")).collect();
        panic!(
            "{text}\n{} of {} seeds failed ({}), as seed@first-diverging-step: {}\n\
             Replay one with REACTOR_FUZZ_SEED=<seed> cargo test -p reactor --test random_differential\n",
            failing.len(),
            seeds.len(),
            type_name(ty),
            list.join(" ")
        );
    }
}

#[test]
fn random_ops_stream_socketpairs_match_kernel_epoll() {
    fuzz(libc::SOCK_STREAM);
}

#[test]
fn random_ops_dgram_socketpairs_match_kernel_epoll() {
    fuzz(libc::SOCK_DGRAM);
}

#[test]
fn random_ops_seqpacket_socketpairs_match_kernel_epoll() {
    fuzz(libc::SOCK_SEQPACKET);
}

/// The harness itself: two kernel worlds driven by the same operations must agree (this is what
/// makes a divergence of EventPoll meaningful: the kernel side is deterministic).
#[test]
fn kernel_against_itself_is_deterministic() {
    for ty in [libc::SOCK_STREAM, libc::SOCK_DGRAM, libc::SOCK_SEQPACKET] {
        for seed in 0..50 {
            let ops = gen_ops(seed, 60);
            let mut a = World::new(Kernel::new(), ty);
            let mut b = World::new(Kernel::new(), ty);
            for (i, op) in ops.iter().enumerate() {
                assert_eq!(a.apply(op), b.apply(op), "{} seed {seed} step {i}: {op:?}", type_name(ty));
            }
        }
    }
}

#[test]
fn prng_is_stable() {
    // Seeds must replay the same operations across runs and machines.
    let mut r = Rng::new(0);
    let v: Vec<u64> = (0..3).map(|_| r.next()).collect();
    let mut r2 = Rng::new(0);
    let v2: Vec<u64> = (0..3).map(|_| r2.next()).collect();
    assert_eq!(v, v2);
    assert_eq!(gen_ops(7, 60), gen_ops(7, 60));
}
