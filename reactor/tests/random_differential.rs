//! Seeded randomized differential test: `reactor::EventPoll` against kernel epoll.
//!
//! Two worlds are driven by the same random sequence of operations:
//!
//! * world K: two kernel epoll instances (`epoll_create1` / `epoll_ctl` / `epoll_wait` via libc);
//! * world R: two `reactor::EventPoll`s.
//!
//! Each world owns its own `PAIRS` socketpairs (AF_UNIX, nonblocking, cloexec), so the two are
//! independent; operations name endpoints and instances by index, never by descriptor number.
//! Every operation's result (success / errno, byte counts, and for waits the list of
//! `(events, data)` in the order reported) is recorded in a per-world trace, and the traces must
//! be equal step by step. Everything is single-threaded and `wait` never blocks, so the kernel's
//! answers are deterministic.
//!
//! Two kinds of programs:
//!
//! * flat (`random_ops_*`): ctl / I/O / waits on instance `e0` only;
//! * nested (`random_nested_ops_*`): both instances, and ctl steps that add, change and remove
//!   one instance inside the other, in both directions (the reverse of an existing nesting must
//!   fail with `ELOOP`, an instance inside itself with `EINVAL`), with waits on both — so a wait
//!   of the outer instance samples the inner one (the kernel's `__ep_eventpoll_poll`).
//!
//! Every program ends with a level-triggered snapshot of both instances: each one changes every
//! registration it may hold (the endpoints and the other instance) to level-triggered
//! `IN | OUT | RDHUP | PRI` and waits with room for all, so whatever readiness or ready-list
//! state the program left behind shows, in order.
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
//! * `REACTOR_FUZZ_UNORDERED=1`: waits always get `maxevents` = all targets and their events
//!   are compared as sets: finds failures other than ready-list order;
//! * `REACTOR_FUZZ_NO_ONESHOT=1`: strip ONESHOT from generated interests (to look for other
//!   failure classes while a ONESHOT one is open; the same seed then yields other operations).

use reactor::{CtlOp, EpollEvent, EventPoll, Events};
use std::fmt;
use std::os::fd::RawFd;

/// Socketpairs per world; endpoint `e` is side `e % 2` of pair `e / 2`, its peer is `e ^ 1`.
const PAIRS: usize = 4;
const ENDPOINTS: usize = PAIRS * 2;
/// What one instance can hold: every endpoint and the other instance.
const TARGETS: usize = ENDPOINTS + 1;
/// The interest of the closing snapshot.
const SNAPSHOT_INTEREST: u32 = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLPRI) as u32;
/// The data of the closing snapshot's registration of target `t` is `SNAPSHOT_DATA + t`.
const SNAPSHOT_DATA: u64 = 0x5eed_0000;

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

/// What a ctl step names.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Target {
    /// Endpoint `e`.
    End(usize),
    /// The world's other instance (nesting).
    Other,
    /// The instance itself (`EINVAL`).
    Itself,
}

impl Target {
    /// All targets an instance may hold, in the snapshot's order.
    fn all() -> impl Iterator<Item = Target> {
        (0..ENDPOINTS).map(Target::End).chain(std::iter::once(Target::Other))
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Target::End(e) => write!(f, "ep{e}"),
            Target::Other => write!(f, "<other instance>"),
            Target::Itself => write!(f, "<itself>"),
        }
    }
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Op {
    /// `epoll_ctl(e<inst>, op, target, {interest, data})`.
    Ctl { inst: usize, op: CtlOp, target: Target, interest: u32, data: u64 },
    /// `send(endpoint, len bytes, MSG_DONTWAIT | MSG_NOSIGNAL)`: makes the peer readable.
    Write { ep: usize, len: usize },
    /// `recv(endpoint, up to len bytes, MSG_DONTWAIT)`.
    Read { ep: usize, len: usize },
    /// `shutdown(endpoint, SHUT_WR)`: the peer sees RDHUP (and HUP once both sides are shut).
    Shutdown { ep: usize },
    /// `epoll_wait(e<inst>, maxevents, timeout 0)`.
    Wait { inst: usize, maxevents: usize },
    /// The closing snapshot of `e<inst>`: `Mod` of every target to level-triggered
    /// [`SNAPSHOT_INTEREST`] (ENOENT where none is registered), then a wait with room for all.
    Snapshot { inst: usize },
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Ctl { inst, op, target, interest, data } => {
                write!(f, "e{inst}.Ctl({op:?}, {target:?}")?;
                if op != CtlOp::Del {
                    write!(f, ", {:?}, data={data:#x}", Events::from_bits_retain(interest))?;
                }
                write!(f, ")")
            }
            Op::Write { ep, len } => write!(f, "Write(ep{ep} -> ep{}, {len})", ep ^ 1),
            Op::Read { ep, len } => write!(f, "Read(ep{ep}, {len})"),
            Op::Shutdown { ep } => write!(f, "Shutdown(ep{ep}, WR)"),
            Op::Wait { inst, maxevents } => write!(f, "e{inst}.Wait(max={maxevents}, timeout=0)"),
            Op::Snapshot { inst } => write!(f, "e{inst}.Snapshot(all LT, then wait)"),
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

/// The `maxevents` of a generated wait.
fn random_maxevents(rng: &mut Rng) -> usize {
    if unordered() {
        TARGETS
    } else {
        rng.range(1, 8) as usize
    }
}

/// The closing snapshot of both instances.
fn snapshot() -> [Op; 2] {
    [Op::Snapshot { inst: 0 }, Op::Snapshot { inst: 1 }]
}

/// A flat program: instance `e0` and the endpoints only (the same operations for a seed as
/// before nesting existed), then the closing snapshot.
fn gen_ops(seed: u64, steps: usize) -> Vec<Op> {
    let mut rng = Rng::new(seed);
    let no_oneshot = std::env::var_os("REACTOR_FUZZ_NO_ONESHOT").is_some();
    let mut shut = [false; ENDPOINTS];
    let mut ops = Vec::with_capacity(steps + 2);
    while ops.len() < steps {
        let ep = rng.below(ENDPOINTS as u64) as usize;
        let (inst, target) = (0, Target::End(ep));
        let op = match rng.below(100) {
            0..=11 => Op::Ctl { inst, op: CtlOp::Add, target, interest: random_interest(&mut rng, no_oneshot), data: rng.next() },
            12..=21 => Op::Ctl { inst, op: CtlOp::Mod, target, interest: random_interest(&mut rng, no_oneshot), data: rng.next() },
            22..=26 => Op::Ctl { inst, op: CtlOp::Del, target, interest: 0, data: 0 },
            27..=46 => Op::Write { ep, len: rng.range(1, 48) as usize },
            47..=61 => Op::Read { ep, len: rng.range(1, 96) as usize },
            62..=64 => {
                if shut[ep] {
                    continue;
                }
                shut[ep] = true;
                Op::Shutdown { ep }
            }
            _ => Op::Wait { inst, maxevents: random_maxevents(&mut rng) },
        };
        ops.push(op);
    }
    ops.extend(snapshot());
    ops
}

/// A nested program: both instances, ctl steps on endpoints and on the other instance (either
/// direction, so one instance may end up inside the other and the reverse is refused), waits
/// on both, then the closing snapshot.
fn gen_nested_ops(seed: u64, steps: usize) -> Vec<Op> {
    let mut rng = Rng::new(seed ^ 0x0e57_ed00);
    let no_oneshot = std::env::var_os("REACTOR_FUZZ_NO_ONESHOT").is_some();
    let mut shut = [false; ENDPOINTS];
    let mut ops = Vec::with_capacity(steps + 2);
    while ops.len() < steps {
        let inst = rng.below(2) as usize;
        let ep = rng.below(ENDPOINTS as u64) as usize;
        let target = match rng.below(16) {
            0..=2 => Target::Other,
            3 if rng.chance(1, 4) => Target::Itself,
            _ => Target::End(ep),
        };
        let op = match rng.below(100) {
            0..=13 => Op::Ctl { inst, op: CtlOp::Add, target, interest: random_interest(&mut rng, no_oneshot), data: rng.next() },
            14..=23 => Op::Ctl { inst, op: CtlOp::Mod, target, interest: random_interest(&mut rng, no_oneshot), data: rng.next() },
            24..=28 => Op::Ctl { inst, op: CtlOp::Del, target, interest: 0, data: 0 },
            29..=46 => Op::Write { ep, len: rng.range(1, 48) as usize },
            47..=60 => Op::Read { ep, len: rng.range(1, 96) as usize },
            61..=63 => {
                if shut[ep] {
                    continue;
                }
                shut[ep] = true;
                Op::Shutdown { ep }
            }
            _ => Op::Wait { inst, maxevents: random_maxevents(&mut rng) },
        };
        ops.push(op);
    }
    ops.extend(snapshot());
    ops
}

// ---------------------------------------------------------------------------------------------
// Traces

#[derive(Clone, PartialEq, Eq)]
enum Rec {
    Unit(Result<(), i32>),
    Bytes(Result<usize, i32>),
    Events(Result<Vec<(u32, u64)>, i32>),
    /// The closing snapshot: the result of each target's `Mod`, then the wait.
    Snapshot(Vec<Result<(), i32>>, Result<Vec<(u32, u64)>, i32>),
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

fn fmt_events(f: &mut fmt::Formatter<'_>, evs: &Result<Vec<(u32, u64)>, i32>) -> fmt::Result {
    match evs {
        Ok(evs) => {
            write!(f, "{} event(s) [", evs.len())?;
            for (i, (bits, data)) in evs.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "({:?}, data={data:#x})", Events::from_bits_retain(*bits))?;
            }
            write!(f, "]")
        }
        Err(e) => write!(f, "Err({})", errname(*e)),
    }
}

impl fmt::Debug for Rec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rec::Unit(Ok(())) => write!(f, "Ok"),
            Rec::Bytes(Ok(n)) => write!(f, "Ok({n})"),
            Rec::Events(evs) => fmt_events(f, evs),
            Rec::Snapshot(mods, evs) => {
                write!(f, "Mod:")?;
                for (t, r) in Target::all().zip(mods) {
                    match r {
                        Ok(()) => write!(f, " {t:?} Ok")?,
                        Err(e) => write!(f, " {t:?} {}", errname(*e))?,
                    }
                }
                write!(f, "; wait: ")?;
                fmt_events(f, evs)
            }
            Rec::Unit(Err(e)) | Rec::Bytes(Err(e)) => write!(f, "Err({})", errname(*e)),
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
    /// The descriptor another instance nests.
    fn fd(&self) -> RawFd;
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

    fn fd(&self) -> RawFd {
        self.epfd
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

    fn fd(&self) -> RawFd {
        use std::os::fd::AsRawFd;
        self.ep.as_raw_fd()
    }
}

/// One world: two epoll instances and the socketpairs.
struct World<E: Epoll> {
    eps: [E; 2],
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

/// Sorts the events of a wait under `REACTOR_FUZZ_UNORDERED`.
fn maybe_sorted(mut res: Result<Vec<(u32, u64)>, i32>) -> Result<Vec<(u32, u64)>, i32> {
    if unordered() {
        if let Ok(evs) = &mut res {
            evs.sort_unstable();
        }
    }
    res
}

impl<E: Epoll> World<E> {
    fn new(eps: [E; 2], ty: libc::c_int) -> World<E> {
        World { eps, fds: socketpairs(ty) }
    }

    /// The descriptor `target` names for instance `inst`.
    fn fd(&self, inst: usize, target: Target) -> RawFd {
        match target {
            Target::End(e) => self.fds[e],
            Target::Other => self.eps[1 - inst].fd(),
            Target::Itself => self.eps[inst].fd(),
        }
    }

    fn apply(&mut self, op: &Op) -> Rec {
        match *op {
            Op::Ctl { inst, op, target, interest, data } => Rec::Unit(self.eps[inst].ctl(op, self.fd(inst, target), interest, data)),
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
            Op::Wait { inst, maxevents } => Rec::Events(maybe_sorted(self.eps[inst].wait(maxevents))),
            Op::Snapshot { inst } => {
                let mods = Target::all()
                    .enumerate()
                    .map(|(i, t)| self.eps[inst].ctl(CtlOp::Mod, self.fd(inst, t), SNAPSHOT_INTEREST, SNAPSHOT_DATA + i as u64))
                    .collect();
                Rec::Snapshot(mods, maybe_sorted(self.eps[inst].wait(TARGETS)))
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
            (Rec::Snapshot(km, k), Rec::Snapshot(om, o)) if km == om && k.is_ok() && o.is_ok() => {
                let (mut ks, mut os) = (k.clone().unwrap(), o.clone().unwrap());
                ks.sort_unstable();
                os.sort_unstable();
                if ks == os {
                    "closing snapshot: ordering only"
                } else {
                    "closing snapshot: different events"
                }
            }
            (Rec::Snapshot(..), Rec::Snapshot(..)) => "closing snapshot: different ctl results",
            (Rec::Unit(_), Rec::Unit(_)) => "ctl / shutdown: different result",
            _ => "socket I/O: different result",
        }
    }
}

/// Runs `ops` in both worlds; `Err` at the first step whose results differ.
fn run(ops: &[Op], ty: libc::c_int) -> Result<(), Mismatch> {
    // The reactor world is created first so that, if anything, descriptor numbers differ
    // between the worlds (they must not matter).
    let reactor = || Reactor { ep: EventPoll::new().expect("EventPoll::new") };
    let mut ours = World::new([reactor(), reactor()], ty);
    let mut kernel = World::new([Kernel::new(), Kernel::new()], ty);
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

/// Which programs a fuzz test generates.
#[derive(Copy, Clone)]
enum Programs {
    Flat,
    Nested,
}

impl Programs {
    fn generate(self, seed: u64, steps: usize) -> Vec<Op> {
        match self {
            Programs::Flat => gen_ops(seed, steps),
            Programs::Nested => gen_nested_ops(seed, steps),
        }
    }

    fn test_name(self) -> &'static str {
        match self {
            Programs::Flat => "random_ops",
            Programs::Nested => "random_nested_ops",
        }
    }
}

fn report(seed: u64, steps: usize, ty: libc::c_int, programs: Programs, ops: &[Op], m: &Mismatch, shrunk: bool) -> String {
    use fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "\n==== EventPoll diverged from kernel epoll ({}, {}) ====", type_name(ty), programs.test_name());
    let _ = writeln!(s, "    REACTOR_FUZZ_SEED={seed} to replay (REACTOR_FUZZ_STEPS={steps})");
    let _ =
        writeln!(s, "    first divergence at step {} of the {} operation list below", m.step, if shrunk { "shrunk" } else { "generated" });
    let _ = writeln!(s, "    kind: {}", m.kind());
    let _ = writeln!(s, "    endpoints: ep(2p) and ep(2p+1) are the two ends of socketpair p; e0 and e1 are the instances\n");
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

fn fuzz(ty: libc::c_int, programs: Programs) {
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
        let ops = programs.generate(seed, steps);
        if let Err(m) = run(&ops, ty) {
            failing.push((seed, m.step));
            if first_report.is_none() || report_all {
                let mut text = report(seed, steps, ty, programs, &ops, &m, false);
                if !no_shrink {
                    let small = shrink(ops.clone(), ty);
                    if let Err(sm) = run(&small, ty) {
                        text = report(seed, steps, ty, programs, &small, &sm, true);
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
            "{text}\n{} of {} seeds failed ({}, {}), as seed@first-diverging-step: {}\n\
             Replay one with REACTOR_FUZZ_SEED=<seed> cargo test -p eventpoll-reactor --test random_differential {}\n",
            failing.len(),
            seeds.len(),
            type_name(ty),
            programs.test_name(),
            list.join(" "),
            programs.test_name(),
        );
    }
}

#[test]
fn random_ops_stream_socketpairs_match_kernel_epoll() {
    fuzz(libc::SOCK_STREAM, Programs::Flat);
}

#[test]
fn random_ops_dgram_socketpairs_match_kernel_epoll() {
    fuzz(libc::SOCK_DGRAM, Programs::Flat);
}

#[test]
fn random_ops_seqpacket_socketpairs_match_kernel_epoll() {
    fuzz(libc::SOCK_SEQPACKET, Programs::Flat);
}

#[test]
fn random_nested_ops_stream_socketpairs_match_kernel_epoll() {
    fuzz(libc::SOCK_STREAM, Programs::Nested);
}

#[test]
fn random_nested_ops_dgram_socketpairs_match_kernel_epoll() {
    fuzz(libc::SOCK_DGRAM, Programs::Nested);
}

#[test]
fn random_nested_ops_seqpacket_socketpairs_match_kernel_epoll() {
    fuzz(libc::SOCK_SEQPACKET, Programs::Nested);
}

/// The harness itself: two kernel worlds driven by the same operations must agree (this is what
/// makes a divergence of EventPoll meaningful: the kernel side is deterministic).
#[test]
fn kernel_against_itself_is_deterministic() {
    for ty in [libc::SOCK_STREAM, libc::SOCK_DGRAM, libc::SOCK_SEQPACKET] {
        for programs in [Programs::Flat, Programs::Nested] {
            for seed in 0..50 {
                let ops = programs.generate(seed, 60);
                let mut a = World::new([Kernel::new(), Kernel::new()], ty);
                let mut b = World::new([Kernel::new(), Kernel::new()], ty);
                for (i, op) in ops.iter().enumerate() {
                    assert_eq!(a.apply(op), b.apply(op), "{} seed {seed} step {i}: {op:?}", type_name(ty));
                }
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
    assert_eq!(gen_nested_ops(7, 60), gen_nested_ops(7, 60));
}
