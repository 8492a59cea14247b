//! `reactor::EventPoll` against kernel epoll, side by side, same shapes, one run.
//!
//! Groups (each has a `kernel` function and one or more `eventpoll*` functions):
//!
//! * `ctl/add_del`: `ADD` + `DEL` of one eventfd.
//! * `ctl/mod`: `MOD` of a registered eventfd, alternating between two interests.
//! * `wait/one_ready_of_N/{kernel,eventpoll,eventpoll_harvest}/N`: N eventfds registered
//!   level-triggered for `IN`, exactly one of them kept readable; one `wait(0)` per iteration,
//!   which must report exactly one event. Time should not depend on N.
//! * `pingpong/socketpair`: one thread, a socketpair `(a, b)` both registered `IN | ET`; an
//!   iteration writes a byte on `a`, waits (b readable), reads `b`, writes on `b`, waits
//!   (a readable), reads `a`. `eventpoll_harvest` uses `EventPoll::harvest` instead of `wait`.
//!
//! Run: `cargo bench -p runtime-benches --bench eventpoll`; ratios: `benches/eventpoll-ratios.sh`.
//! N = 100_000 needs that many descriptors: the soft `RLIMIT_NOFILE` is raised (to the hard
//! limit, or past it when the process may); if still too low, N is capped and a note printed.

use criterion::{BenchmarkId, Criterion};
use runtime::reactor::{CtlOp, EpollEvent, EventPoll, Events};
use std::hint::black_box;
use std::os::fd::RawFd;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Thin libc helpers (the kernel side, and the descriptors both sides watch).

fn check(r: libc::c_int, what: &str) -> libc::c_int {
    assert!(r >= 0, "{what}: {}", std::io::Error::last_os_error());
    r
}

fn eventfd() -> RawFd {
    // SAFETY: plain system call.
    check(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) }, "eventfd")
}

fn eventfd_add(fd: RawFd, n: u64) {
    // SAFETY: writes 8 bytes from a live u64.
    let r = unsafe { libc::write(fd, (&n as *const u64).cast(), 8) };
    assert_eq!(r, 8, "eventfd write: {}", std::io::Error::last_os_error());
}

fn socketpair() -> (RawFd, RawFd) {
    let mut sv = [-1; 2];
    // SAFETY: sv has room for two descriptors.
    check(
        unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0, sv.as_mut_ptr()) },
        "socketpair",
    );
    (sv[0], sv[1])
}

fn close(fd: RawFd) {
    // SAFETY: the caller owns fd.
    unsafe { libc::close(fd) };
}

#[inline]
fn write1(fd: RawFd) {
    let b = 1u8;
    // SAFETY: writes one byte from a live u8.
    let r = unsafe { libc::write(fd, (&b as *const u8).cast(), 1) };
    debug_assert_eq!(r, 1);
    black_box(r);
}

#[inline]
fn read1(fd: RawFd) {
    let mut b = 0u8;
    // SAFETY: reads at most one byte into a live u8.
    let r = unsafe { libc::read(fd, (&mut b as *mut u8).cast(), 1) };
    debug_assert_eq!(r, 1);
    black_box(r);
}

/// A kernel epoll instance.
struct Kernel {
    epfd: RawFd,
    buf: Vec<libc::epoll_event>,
}

impl Kernel {
    fn new() -> Kernel {
        // SAFETY: plain system call.
        let epfd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }, "epoll_create1");
        Kernel { epfd, buf: vec![libc::epoll_event { events: 0, u64: 0 }; 64] }
    }

    #[inline]
    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, data: u64) {
        let mut ev = libc::epoll_event { events, u64: data };
        // SAFETY: ev is a live epoll_event.
        let r = unsafe { libc::epoll_ctl(self.epfd, op, fd, &mut ev) };
        debug_assert_eq!(r, 0, "epoll_ctl: {}", std::io::Error::last_os_error());
        black_box(r);
    }

    #[inline]
    fn wait(&mut self, timeout: i32) -> usize {
        // SAFETY: buf holds buf.len() entries.
        let n = unsafe { libc::epoll_wait(self.epfd, self.buf.as_mut_ptr(), self.buf.len() as i32, timeout) };
        assert!(n >= 0, "epoll_wait: {}", std::io::Error::last_os_error());
        n as usize
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        close(self.epfd);
    }
}

const IN: u32 = libc::EPOLLIN as u32;
const OUT: u32 = libc::EPOLLOUT as u32;
const ET: u32 = libc::EPOLLET as u32;

// ---------------------------------------------------------------------------------------------
// Descriptor limit

/// Raises the soft RLIMIT_NOFILE so that `want` more descriptors fit; returns the largest N
/// (of eventfds) that fits with some headroom.
fn raise_nofile(want: usize) -> usize {
    const HEADROOM: u64 = 256;
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: lim is a live rlimit.
    check(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, "getrlimit");
    let need = want as u64 + HEADROOM;
    if lim.rlim_cur < need {
        // First try past the hard limit (works with CAP_SYS_RESOURCE), then up to it.
        let wanted = libc::rlimit { rlim_cur: need, rlim_max: lim.rlim_max.max(need) };
        // SAFETY: wanted is a live rlimit.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } != 0 {
            let soft = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            // SAFETY: soft is a live rlimit.
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &soft) };
        }
        // SAFETY: lim is a live rlimit.
        check(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, "getrlimit");
    }
    let fit = lim.rlim_cur.saturating_sub(HEADROOM) as usize;
    if fit < want {
        eprintln!(
            "note: RLIMIT_NOFILE is {} (hard {}) and cannot be raised: one_ready_of_{want} is capped at N = {fit}",
            lim.rlim_cur, lim.rlim_max
        );
    }
    fit.min(want)
}

// ---------------------------------------------------------------------------------------------
// Benchmarks

/// Which side a block of a group measures.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Side {
    Kernel,
    Ours,
}

/// The order in which each group measures the two sides: kernel first, or ours first when
/// `EVENTPOLL_BENCH_REVERSE` is set, so that rounds can alternate A B / B A
/// (`benches/eventpoll-ratios.sh --rounds N` does).
fn sides() -> [Side; 2] {
    if std::env::var_os("EVENTPOLL_BENCH_REVERSE").is_some() {
        [Side::Ours, Side::Kernel]
    } else {
        [Side::Kernel, Side::Ours]
    }
}

fn bench_ctl(c: &mut Criterion) {
    let fd = eventfd();
    {
        let mut g = c.benchmark_group("ctl/add_del");
        for side in sides() {
            match side {
                Side::Kernel => {
                    let k = Kernel::new();
                    g.bench_function("kernel", |b| {
                        b.iter(|| {
                            k.ctl(libc::EPOLL_CTL_ADD, fd, IN, 1);
                            k.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0);
                        })
                    });
                }
                Side::Ours => {
                    let ep = EventPoll::new().unwrap();
                    g.bench_function("eventpoll", |b| {
                        b.iter(|| {
                            ep.ctl(CtlOp::Add, fd, Some(EpollEvent::new(Events::IN, 1))).unwrap();
                            ep.ctl(CtlOp::Del, fd, None).unwrap();
                        })
                    });
                }
            }
        }
        g.finish();
    }
    {
        // Two interests to alternate between; the eventfd is writable (OUT ready), not readable.
        let mut g = c.benchmark_group("ctl/mod");
        for side in sides() {
            let mut flip = false;
            match side {
                Side::Kernel => {
                    let k = Kernel::new();
                    k.ctl(libc::EPOLL_CTL_ADD, fd, IN, 1);
                    g.bench_function("kernel", |b| {
                        b.iter(|| {
                            flip = !flip;
                            k.ctl(libc::EPOLL_CTL_MOD, fd, if flip { OUT | ET } else { IN }, 2);
                        })
                    });
                }
                Side::Ours => {
                    let ep = EventPoll::new().unwrap();
                    ep.ctl(CtlOp::Add, fd, Some(EpollEvent::new(Events::IN, 1))).unwrap();
                    g.bench_function("eventpoll", |b| {
                        b.iter(|| {
                            flip = !flip;
                            let ev = if flip { Events::OUT | Events::ET } else { Events::IN };
                            ep.ctl(CtlOp::Mod, fd, Some(EpollEvent::new(ev, 2))).unwrap();
                        })
                    });
                }
            }
        }
        g.finish();
    }
    close(fd);
}

fn bench_wait(c: &mut Criterion) {
    let mut g = c.benchmark_group("wait/one_ready_of_N");
    for want in [10usize, 1_000, 100_000] {
        let n = raise_nofile(want);
        let fds: Vec<RawFd> = (0..n).map(|_| eventfd()).collect();
        // The ready one is in the middle of the registration order.
        let ready = fds[n / 2];
        eventfd_add(ready, 1);

        for side in sides() {
            match side {
                Side::Kernel => {
                    let mut k = Kernel::new();
                    for (i, &fd) in fds.iter().enumerate() {
                        k.ctl(libc::EPOLL_CTL_ADD, fd, IN, i as u64);
                    }
                    g.bench_with_input(BenchmarkId::new("kernel", n), &n, |b, _| {
                        b.iter(|| {
                            let got = k.wait(0);
                            assert_eq!(got, 1);
                        })
                    });
                }
                Side::Ours => {
                    let ep = EventPoll::new().unwrap();
                    for (i, &fd) in fds.iter().enumerate() {
                        ep.ctl(CtlOp::Add, fd, Some(EpollEvent::new(Events::IN, i as u64))).unwrap();
                    }
                    let mut buf = [EpollEvent::default(); 64];
                    g.bench_with_input(BenchmarkId::new("eventpoll", n), &n, |b, _| {
                        b.iter(|| {
                            let got = ep.wait(&mut buf, 0).unwrap();
                            assert_eq!(got, 1);
                            black_box(&buf[0]);
                        })
                    });
                    g.bench_with_input(BenchmarkId::new("eventpoll_harvest", n), &n, |b, _| {
                        b.iter(|| {
                            let got = ep.harvest(64, Some(Duration::ZERO), |ev, data| {
                                black_box((ev, data));
                            });
                            assert_eq!(got.unwrap(), 1);
                        })
                    });
                }
            }
        }
        for fd in fds {
            close(fd);
        }
    }
    g.finish();
}

fn bench_pingpong(c: &mut Criterion) {
    const A: u64 = 0xa;
    const B: u64 = 0xb;
    let mut g = c.benchmark_group("pingpong/socketpair");
    for side in sides() {
        let (a, b) = socketpair();
        match side {
            Side::Kernel => {
                let mut k = Kernel::new();
                k.ctl(libc::EPOLL_CTL_ADD, a, IN | ET, A);
                k.ctl(libc::EPOLL_CTL_ADD, b, IN | ET, B);
                g.bench_function("kernel", |bch| {
                    bch.iter(|| {
                        write1(a);
                        assert_eq!(k.wait(-1), 1);
                        assert_eq!({ k.buf[0].u64 }, B);
                        read1(b);
                        write1(b);
                        assert_eq!(k.wait(-1), 1);
                        assert_eq!({ k.buf[0].u64 }, A);
                        read1(a);
                    })
                });
            }
            Side::Ours => {
                let ep = EventPoll::new().unwrap();
                ep.ctl(CtlOp::Add, a, Some(EpollEvent::new(Events::IN | Events::ET, A))).unwrap();
                ep.ctl(CtlOp::Add, b, Some(EpollEvent::new(Events::IN | Events::ET, B))).unwrap();
                let mut buf = [EpollEvent::default(); 64];
                g.bench_function("eventpoll", |bch| {
                    bch.iter(|| {
                        write1(a);
                        assert_eq!(ep.wait(&mut buf, -1).unwrap(), 1);
                        assert_eq!(buf[0].data(), B);
                        read1(b);
                        write1(b);
                        assert_eq!(ep.wait(&mut buf, -1).unwrap(), 1);
                        assert_eq!(buf[0].data(), A);
                        read1(a);
                    })
                });
                let mut last = 0u64;
                g.bench_function("eventpoll_harvest", |bch| {
                    bch.iter(|| {
                        write1(a);
                        assert_eq!(ep.harvest(64, None, |_, d| last = d).unwrap(), 1);
                        assert_eq!(last, B);
                        read1(b);
                        write1(b);
                        assert_eq!(ep.harvest(64, None, |_, d| last = d).unwrap(), 1);
                        assert_eq!(last, A);
                        read1(a);
                    })
                });
            }
        }
        close(a);
        close(b);
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .configure_from_args();
    bench_ctl(&mut c);
    bench_wait(&mut c);
    bench_pingpong(&mut c);
    c.final_summary();
}
