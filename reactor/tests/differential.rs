//! Kernel-differential tests: every scenario runs the same steps first on a kernel epoll
//! instance, then on `reactor::EventPoll`, with fresh descriptors each time, and asserts that the
//! two traces (ctl results with errnos, wait results with bits and data in order, notes) are
//! identical. The kernel run is the specification; nothing here hard-codes what `EventPoll`
//! should return, except the user-space-only checks at the end (the per-owner watch limit),
//! which the kernel cannot be configured for per test.
//!
//! Set `DIFF_VERBOSE=1` (with `--nocapture`) to print both traces of every scenario.
//!
//! Scenarios that depend on descriptor-number reuse (close without `Del`) run alone in the
//! process (`diff_exclusive!`); the others run concurrently.

mod util;

use reactor::{CtlOp, EpollEvent, EventPoll, Events, WatchOwner};
use std::io;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::{Duration, Instant};
use util::*;

/// A differential test: `fn name(t) { steps }` runs the steps on both backends.
macro_rules! diff {
    ($(#[$m:meta])* fn $name:ident($t:ident) $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() {
            differential(stringify!($name), |$t: &mut Trace| $body);
        }
    };
}

/// A differential test that must not run concurrently with others (descriptor-number reuse).
macro_rules! diff_exclusive {
    ($(#[$m:meta])* fn $name:ident($t:ident) $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() {
            differential_exclusive(stringify!($name), |$t: &mut Trace| $body);
        }
    };
}

fn fd(x: &impl AsRawFd) -> RawFd {
    x.as_raw_fd()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// =============================================================================================
// ctl errors

diff! { fn add_of_registered_fd_is_eexist(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN, 1)));
    t.ctl(&*ep, "b again", Add, fd(&b), Some((IN, 2)));
    t.ctl(&*ep, "b again, other flags", Add, fd(&b), Some((OUT | ET | ONESHOT, 3)));
    put(&a, b"x");
    // The failed adds left the first registration untouched.
    t.wait(&*ep, "data of the first add", 8, 0);
}}

diff! { fn mod_and_del_of_unregistered_fd_are_enoent(t) {
    let ep = t.new_ep();
    let (_a, b) = stream_pair();
    t.ctl(&*ep, "mod never added", Mod, fd(&b), Some((IN, 1)));
    t.ctl(&*ep, "del never added", Del, fd(&b), None);
    t.ctl(&*ep, "add", Add, fd(&b), Some((IN, 2)));
    t.ctl(&*ep, "del", Del, fd(&b), None);
    t.ctl(&*ep, "del again", Del, fd(&b), None);
    t.ctl(&*ep, "mod after del", Mod, fd(&b), Some((IN, 3)));
    t.ctl(&*ep, "re-add after del", Add, fd(&b), Some((OUT, 4)));
    t.wait(&*ep, "re-added", 8, 0);
}}

diff! { fn ctl_on_invalid_fd_is_ebadf(t) {
    let ep = t.new_ep();
    for (name, n) in [("-1", -1), ("never open", NEVER_OPEN_FD)] {
        t.ctl(&*ep, &format!("add {name}"), Add, n, Some((IN, 1)));
        t.ctl(&*ep, &format!("mod {name}"), Mod, n, Some((IN, 1)));
        t.ctl(&*ep, &format!("del {name}"), Del, n, None);
        t.ctl(&*ep, &format!("mod {name} exclusive"), Mod, n, Some((IN | EXCLUSIVE, 1)));
    }
}}

diff_exclusive! { fn ctl_on_closed_fd_number_is_ebadf(t) {
    let ep = t.new_ep();
    let e = eventfd(0);
    let n = fd(&e);
    drop(e);
    t.ctl(&*ep, "add closed", Add, n, Some((IN, 1)));
    t.ctl(&*ep, "mod closed", Mod, n, Some((IN, 1)));
    t.ctl(&*ep, "del closed", Del, n, None);
}}

diff! { fn ctl_on_unpollable_file_is_eperm(t) {
    let ep = t.new_ep();
    let file = temp_file();
    let devnull = std::fs::File::open("/dev/null").unwrap();
    let dir = std::fs::File::open(std::env::temp_dir()).unwrap();
    for (name, f) in [("regular file", &file), ("/dev/null", &devnull), ("directory", &dir)] {
        t.ctl(&*ep, &format!("add {name}"), Add, fd(f), Some((IN, 1)));
        t.ctl(&*ep, &format!("mod {name}"), Mod, fd(f), Some((IN, 1)));
        t.ctl(&*ep, &format!("del {name}"), Del, fd(f), None);
    }
}}

diff! { fn instance_added_to_itself_is_einval(t) {
    let ep = t.new_ep();
    let me = ep.as_raw_fd();
    t.ctl(&*ep, "add self", Add, me, Some((IN, 1)));
    t.ctl(&*ep, "mod self", Mod, me, Some((IN, 1)));
    t.ctl(&*ep, "del self", Del, me, None);
}}

diff! { fn exclusive_with_mod_is_einval(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    let (_c, d) = stream_pair();
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN, 1)));
    t.ctl(&*ep, "mod b exclusive", Mod, fd(&b), Some((IN | EXCLUSIVE, 2)));
    t.ctl(&*ep, "mod unregistered d exclusive", Mod, fd(&d), Some((IN | EXCLUSIVE, 3)));
    put(&a, b"x");
    t.wait(&*ep, "b unchanged", 8, 0);
}}

diff! { fn exclusive_with_oneshot_is_einval(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "exclusive|oneshot", Add, fd(&b), Some((IN | EXCLUSIVE | ONESHOT, 1)));
    t.ctl(&*ep, "not registered by the failed add", Del, fd(&b), None);
    t.ctl(&*ep, "exclusive alone", Add, fd(&b), Some((IN | EXCLUSIVE, 2)));
    put(&a, b"x");
    t.wait(&*ep, "exclusive registration", 8, 0);
}}

diff! { fn exclusive_on_nested_instance_is_einval(t) {
    let outer = t.new_ep();
    let inner = t.new_ep();
    t.ctl(&*outer, "inner exclusive", Add, inner.as_raw_fd(), Some((IN | EXCLUSIVE, 1)));
    t.ctl(&*outer, "inner plain", Add, inner.as_raw_fd(), Some((IN, 2)));
}}

diff! { fn exclusive_with_bits_other_than_in_out_err_hup_et_wakeup_is_einval(t) {
    let ep = t.new_ep();
    let (_a, b) = stream_pair();
    let extra = [0, OUT, ERR | HUP, ET, WAKEUP, RDHUP, PRI, RDNORM, WRNORM, RDBAND, WRBAND, MSG, ONESHOT, 0x0100_0000];
    for (i, x) in extra.into_iter().enumerate() {
        if t.ctl(&*ep, &format!("IN|EXCLUSIVE|{}", bits_str(x)), Add, fd(&b), Some((IN | EXCLUSIVE | x, i as u64))) {
            t.ctl(&*ep, "del", Del, fd(&b), None);
        }
    }
}}

diff! { fn mod_of_exclusive_registration_is_einval(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "b exclusive", Add, fd(&b), Some((IN | EXCLUSIVE, 1)));
    t.ctl(&*ep, "mod plain", Mod, fd(&b), Some((IN | OUT, 2)));
    t.ctl(&*ep, "mod exclusive", Mod, fd(&b), Some((IN | EXCLUSIVE, 3)));
    put(&a, b"x");
    t.wait(&*ep, "interest and data unchanged", 8, 0);
    t.ctl(&*ep, "del works", Del, fd(&b), None);
    t.wait(&*ep, "after del", 8, 0);
}}

diff! { fn add_or_mod_without_event_is_efault(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "add None", Add, fd(&b), None);
    t.ctl(&*ep, "mod None, unregistered", Mod, fd(&b), None);
    t.ctl(&*ep, "add None, fd -1 (EFAULT comes first)", Add, -1, None);
    t.ctl(&*ep, "mod None, fd -1", Mod, -1, None);
    t.ctl(&*ep, "add", Add, fd(&b), Some((IN, 1)));
    t.ctl(&*ep, "mod None, registered", Mod, fd(&b), None);
    put(&a, b"x");
    t.wait(&*ep, "registration unchanged", 8, 0);
    t.ctl(&*ep, "del None is fine", Del, fd(&b), None);
    t.ctl(&*ep, "del -1 None", Del, -1, None);
}}

diff! { fn ctl_errors_come_in_the_kernels_order(t) {
    let ep = t.new_ep();
    let (_a, b) = stream_pair();
    let file = temp_file();
    t.ctl(&*ep, "regular file with invalid exclusive flags", Add, fd(&file), Some((IN | EXCLUSIVE | ONESHOT, 1)));
    t.ctl(&*ep, "self with invalid exclusive flags", Add, ep.as_raw_fd(), Some((IN | EXCLUSIVE | ONESHOT, 1)));
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN, 1)));
    t.ctl(&*ep, "registered b with invalid exclusive flags", Add, fd(&b), Some((IN | EXCLUSIVE | ONESHOT, 2)));
    t.ctl(&*ep, "registered b with valid exclusive flags", Add, fd(&b), Some((IN | EXCLUSIVE, 3)));
    t.ctl(&*ep, "regular file, mod, exclusive", Mod, fd(&file), Some((IN | EXCLUSIVE, 1)));
}}

diff! { fn wait_with_zero_maxevents_is_einval(t) {
    let ep = t.new_ep();
    let e = eventfd(1);
    t.ctl(&*ep, "ready e", Add, fd(&e), Some((IN | ET, 1)));
    t.wait(&*ep, "maxevents 0, timeout 0", 0, 0);
    t.wait(&*ep, "maxevents 0, timeout -1 (must not block)", 0, -1);
    t.wait(&*ep, "the event was not consumed", 8, 0);
}}

// =============================================================================================
// ERR / HUP, readiness at ADD / MOD

diff! { fn err_and_hup_are_reported_even_if_not_asked(t) {
    let ep = t.new_ep();
    let (a1, b1) = stream_pair();
    let (a2, b2) = stream_pair();
    let (a3, b3) = dgram_pair();
    t.ctl(&*ep, "stream, interest 0", Add, fd(&b1), Some((0, 1)));
    t.ctl(&*ep, "stream, interest IN", Add, fd(&b2), Some((IN, 2)));
    t.ctl(&*ep, "dgram, interest 0", Add, fd(&b3), Some((0, 3)));
    t.wait(&*ep, "idle", 8, 0);
    drop(a1);
    t.wait(&*ep, "stream peer closed (interest 0)", 8, 0);
    drop(a2);
    t.wait(&*ep, "second stream peer closed (interest IN)", 8, 0);
    drop(a3);
    t.wait(&*ep, "dgram peer closed", 8, 0);
    t.wait(&*ep, "level-triggered: again", 8, 0);
}}

diff! { fn pipe_write_end_reports_err_when_reader_closed(t) {
    let ep = t.new_ep();
    let (r1, w1) = pipe();
    let (r2, w2) = pipe();
    t.ctl(&*ep, "w1 interest 0", Add, fd(&w1), Some((0, 1)));
    t.ctl(&*ep, "w2 interest OUT", Add, fd(&w2), Some((OUT, 2)));
    t.wait(&*ep, "w2 writable", 8, 0);
    drop(r1);
    t.wait(&*ep, "r1 closed", 8, 0);
    drop(r2);
    t.wait(&*ep, "r2 closed", 8, 0);
    t.ctl(&*ep, "w1 -> ET", Mod, fd(&w1), Some((ET, 3)));
    t.wait(&*ep, "ET after mod", 8, 0);
    t.wait(&*ep, "ET once", 8, 0);
}}

diff! { fn pipe_read_end_reports_hup_when_writer_closed(t) {
    let ep = t.new_ep();
    let (r, w) = pipe();
    t.ctl(&*ep, "r", Add, fd(&r), Some((IN | RDHUP, 1)));
    put(&w, b"x");
    t.wait(&*ep, "data", 8, 0);
    drop(w);
    t.wait(&*ep, "writer closed, data left", 8, 0);
    drain(&r);
    t.wait(&*ep, "writer closed, drained", 8, 0);
}}

diff! { fn ready_fd_at_add_is_reported_by_next_wait(t) {
    let ep = t.new_ep();
    let e = eventfd(1);
    let (a, b) = stream_pair();
    put(&a, b"x");
    let (_r, w) = pipe();
    t.ctl(&*ep, "ready eventfd ET", Add, fd(&e), Some((IN | ET, 1)));
    t.ctl(&*ep, "socket with data LT", Add, fd(&b), Some((IN, 2)));
    t.ctl(&*ep, "pipe writer ET", Add, fd(&w), Some((OUT | ET, 3)));
    t.wait(&*ep, "all three, in ADD order", 8, 0);
    t.wait(&*ep, "only the LT one again", 8, 0);
}}

diff! { fn ready_fd_at_mod_is_reported_by_next_wait(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    let (c, d) = stream_pair();
    t.ctl(&*ep, "b interest 0", Add, fd(&b), Some((0, 1)));
    put(&a, b"x");
    t.wait(&*ep, "data but not asked", 8, 0);
    t.ctl(&*ep, "b -> IN", Mod, fd(&b), Some((IN, 2)));
    t.wait(&*ep, "after mod", 8, 0);
    t.ctl(&*ep, "d ET", Add, fd(&d), Some((IN | ET, 3)));
    put(&c, b"y");
    t.wait(&*ep, "d edge", 8, 0);
    t.wait(&*ep, "d edge consumed", 8, 0);
    t.ctl(&*ep, "d re-mod, same ET interest", Mod, fd(&d), Some((IN | ET, 4)));
    t.wait(&*ep, "mod re-samples", 8, 0);
    t.ctl(&*ep, "d -> OUT|ET", Mod, fd(&d), Some((OUT | ET, 5)));
    t.wait(&*ep, "writable at mod", 8, 0);
    t.wait(&*ep, "once", 8, 0);
}}

diff! { fn add_of_ready_fd_then_del_before_wait_reports_nothing(t) {
    let ep = t.new_ep();
    let e = eventfd(1);
    let f = eventfd(1);
    t.ctl(&*ep, "e LT", Add, fd(&e), Some((IN, 1)));
    t.ctl(&*ep, "f ET", Add, fd(&f), Some((IN | ET, 2)));
    t.ctl(&*ep, "del e", Del, fd(&e), None);
    t.ctl(&*ep, "del f", Del, fd(&f), None);
    t.wait(&*ep, "nothing", 8, 0);
    t.ctl(&*ep, "re-add f LT", Add, fd(&f), Some((IN, 3)));
    t.wait(&*ep, "fresh registration", 8, 0);
}}

diff! { fn del_removes_an_already_queued_event(t) {
    let ep = t.new_ep();
    let e = eventfd(1);
    let f = eventfd(1);
    t.ctl(&*ep, "e LT", Add, fd(&e), Some((IN, 1)));
    t.ctl(&*ep, "f LT", Add, fd(&f), Some((IN, 2)));
    t.wait(&*ep, "both, re-queued", 8, 0);
    t.ctl(&*ep, "del e", Del, fd(&e), None);
    t.wait(&*ep, "only f", 8, 0);
    t.ctl(&*ep, "del f", Del, fd(&f), None);
    t.wait(&*ep, "nothing", 8, 0);
}}

diff! { fn mod_changes_interest_and_data_of_a_queued_event(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    put(&a, b"x");
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN, 1)));
    t.wait(&*ep, "queued", 8, 0);
    t.ctl(&*ep, "new data", Mod, fd(&b), Some((IN, 2)));
    t.wait(&*ep, "new data", 8, 0);
    t.ctl(&*ep, "OUT only", Mod, fd(&b), Some((OUT, 3)));
    t.wait(&*ep, "OUT only", 8, 0);
    t.ctl(&*ep, "interest 0", Mod, fd(&b), Some((0, 4)));
    t.wait(&*ep, "interest 0", 8, 0);
    t.ctl(&*ep, "back to IN|OUT", Mod, fd(&b), Some((IN | OUT, 5)));
    t.wait(&*ep, "IN|OUT", 8, 0);
    t.ctl(&*ep, "LT -> ET", Mod, fd(&b), Some((IN | OUT | ET, 6)));
    t.wait(&*ep, "ET after mod", 8, 0);
    t.wait(&*ep, "ET once", 8, 0);
    t.ctl(&*ep, "ET -> LT", Mod, fd(&b), Some((IN, 7)));
    t.wait(&*ep, "LT again", 8, 0);
    t.wait(&*ep, "LT again and again", 8, 0);
}}

diff! { fn requested_bits_are_reported_exactly(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    put(&a, b"x");
    shutdown_fd(fd(&a), libc::SHUT_WR);
    t.ctl(&*ep, "b", Add, fd(&b), Some((0, 0)));
    let all = IN | PRI | OUT | ERR | HUP | RDNORM | RDBAND | WRNORM | WRBAND | MSG | RDHUP;
    let masks = [
        0,
        IN,
        OUT,
        RDNORM,
        WRNORM,
        RDHUP,
        IN | RDNORM,
        OUT | WRNORM | WRBAND,
        PRI | RDBAND | MSG,
        all,
        IN | WAKEUP,
        all | 0x0400_0000,
    ];
    for (i, m) in masks.into_iter().enumerate() {
        t.ctl(&*ep, "", Mod, fd(&b), Some((m, i as u64 + 1)));
        t.wait(&*ep, &format!("interest {}", bits_str(m)), 8, 0);
    }
    shutdown_fd(fd(&b), libc::SHUT_WR);
    t.ctl(&*ep, "", Mod, fd(&b), Some((all, 99)));
    t.wait(&*ep, "both directions shut, all bits", 8, 0);
}}

// =============================================================================================
// More ready than fits

diff! { fn lt_more_ready_than_fit_are_reported_round_robin(t) {
    let ep = t.new_ep();
    let fds: Vec<_> = (0..5).map(|_| eventfd(1)).collect();
    for (i, e) in fds.iter().enumerate() {
        t.ctl(&*ep, &format!("e{i}"), Add, fd(e), Some((IN, i as u64)));
    }
    for _ in 0..7 {
        t.wait(&*ep, "max 1", 1, 0);
    }
    for _ in 0..5 {
        t.wait(&*ep, "max 2", 2, 0);
    }
    for _ in 0..3 {
        t.wait(&*ep, "max 3", 3, 0);
    }
    efd_take(&fds[2]);
    for _ in 0..4 {
        t.wait(&*ep, "max 2, e2 drained", 2, 0);
    }
}}

diff! { fn et_leftovers_are_delivered_by_the_next_wait(t) {
    let ep = t.new_ep();
    let fds: Vec<_> = (0..5).map(|_| eventfd(1)).collect();
    for (i, e) in fds.iter().enumerate() {
        t.ctl(&*ep, &format!("e{i}"), Add, fd(e), Some((IN | ET, i as u64)));
    }
    t.wait(&*ep, "max 2", 2, 0);
    t.wait(&*ep, "max 2", 2, 0);
    efd_add(&fds[0], 1).unwrap();
    t.wait(&*ep, "max 2 (e0 re-armed by a write)", 2, 0);
    t.wait(&*ep, "max 2", 2, 0);
    t.wait(&*ep, "max 2", 2, 0);
    // A leftover that was drained before the next wait is skipped, not reported empty.
    for e in &fds {
        efd_add(e, 1).unwrap();
    }
    t.wait(&*ep, "max 1", 1, 0);
    efd_take(&fds[1]);
    t.wait(&*ep, "max 2, e1 drained meanwhile", 2, 0);
    t.wait(&*ep, "rest", 8, 0);
}}

diff! { fn mixed_lt_et_oneshot_with_small_buffers_keep_kernel_order(t) {
    let ep = t.new_ep();
    let fds: Vec<_> = (0..6).map(|_| eventfd(1)).collect();
    let flags = [0, ET, 0, ET, ONESHOT, ONESHOT | ET];
    for (i, (e, f)) in fds.iter().zip(flags).enumerate() {
        t.ctl(&*ep, &format!("e{i}"), Add, fd(e), Some((IN | f, i as u64)));
    }
    for _ in 0..4 {
        t.wait(&*ep, "max 2", 2, 0);
    }
    efd_add(&fds[1], 1).unwrap();
    efd_add(&fds[4], 1).unwrap();
    t.ctl(&*ep, "re-arm e5", Mod, fd(&fds[5]), Some((IN | ONESHOT | ET, 55)));
    for _ in 0..4 {
        t.wait(&*ep, "max 3", 3, 0);
    }
}}

diff! { fn a_wait_with_room_for_more_than_a_thousand_events_reports_them_all(t) {
    // Linux fills whatever `maxevents` allows, in order, and re-queues LT items behind the
    // ones it did not reach.
    let fds: Vec<_> = (0..1100).map(|_| eventfd(1)).collect();
    let ep = t.new_ep();
    for (i, e) in fds.iter().enumerate() {
        ep.ctl(Add, fd(e), Some((IN, i as u64))).expect("Add");
    }
    let first = t.wait(&*ep, "max 2000", 2000, 0);
    t.note("first wait: count", first.len());
    let cut = ep.wait(1050, 0).expect("wait");
    t.note("max 1050: count, first and last data", (cut.len(), cut.first().map(|e| e.1), cut.last().map(|e| e.1)));
    let rest = ep.wait(2000, 0).expect("wait");
    t.note("max 2000: count, first and last data", (rest.len(), rest.first().map(|e| e.1), rest.last().map(|e| e.1)));
}}

diff! { fn a_woken_item_left_behind_by_a_maxevents_cut_keeps_its_place(t) {
    // A wake-up that leaves its item not ready (PRI asked, plain data arrived) queues it all
    // the same; a wait cut short by `maxevents` must not scan it early (and drop it): when it
    // becomes ready later it is reported from its old place, ahead of the LT item re-queued by
    // the cut wait. (Random differential seed 7195, shrunk.)
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    let (_c, d) = stream_pair();
    t.ctl(&*ep, "ep <- b PRI ONESHOT ET", Add, fd(&b), Some((PRI | ONESHOT | ET, 1)));
    t.ctl(&*ep, "ep <- d IN OUT (writable: queued)", Add, fd(&d), Some((IN | OUT, 2)));
    put(&a, &[0u8; 33]);
    t.wait(&*ep, "max 1: d; b woken but not ready, not reached", 1, 0);
    t.ctl(&*ep, "ep: Mod b RDHUP ONESHOT ET", Mod, fd(&b), Some((RDHUP | ONESHOT | ET, 3)));
    shutdown_fd(fd(&a), libc::SHUT_WR);
    t.wait(&*ep, "max 2: b from its place, then d", 2, 0);
}}

// =============================================================================================
// Level-triggered, edge-triggered, oneshot

diff! { fn lt_ready_fd_is_reported_every_wait(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN, 1)));
    put(&a, b"abc");
    for _ in 0..3 {
        t.wait(&*ep, "data there", 8, 0);
    }
    let mut one = [0u8; 1];
    read_fd(fd(&b), &mut one).unwrap();
    t.wait(&*ep, "partially read", 8, 0);
}}

diff! { fn lt_drained_fd_is_not_reported_again(t) {
    let ep = t.new_ep();
    let (r, w) = pipe();
    t.ctl(&*ep, "r", Add, fd(&r), Some((IN, 1)));
    put(&w, b"abc");
    t.wait(&*ep, "data", 8, 0);
    drain(&r);
    t.wait(&*ep, "drained", 8, 0);
    t.wait(&*ep, "still drained", 8, 0);
    put(&w, b"d");
    t.wait(&*ep, "new data", 8, 0);
}}

diff! { fn et_reports_once_per_write(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN | ET, 1)));
    put(&a, b"x");
    t.wait(&*ep, "first write", 8, 0);
    t.wait(&*ep, "no new write", 8, 0);
    put(&a, b"y");
    t.wait(&*ep, "second write (first not read)", 8, 0);
    t.wait(&*ep, "no new write", 8, 0);
    put(&a, b"z");
    put(&a, b"w");
    t.wait(&*ep, "two writes, one wait", 8, 0);
    t.wait(&*ep, "no new write", 8, 0);
}}

diff! { fn et_read_all_then_wait_gives_nothing(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN | ET, 1)));
    put(&a, b"x");
    drain(&b);
    t.wait(&*ep, "edge queued but data gone", 8, 0);
    put(&a, b"y");
    t.wait(&*ep, "new edge", 8, 0);
}}

diff! { fn et_in_out_combinations_on_a_stream_socket(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "b IN|OUT|ET", Add, fd(&b), Some((IN | OUT | ET, 1)));
    t.wait(&*ep, "writable at add", 8, 0);
    t.wait(&*ep, "once", 8, 0);
    put(&a, b"x");
    t.wait(&*ep, "peer wrote", 8, 0);
    t.wait(&*ep, "once", 8, 0);
    put(&b, b"y");
    t.wait(&*ep, "b wrote (own edge?)", 8, 0);
    drain(&a);
    t.wait(&*ep, "peer read what b wrote", 8, 0);
    let n = fill(&b);
    t.note("filled", n > 0);
    t.wait(&*ep, "b full", 8, 0);
    drain(&a);
    t.wait(&*ep, "peer drained: writable again", 8, 0);
    t.wait(&*ep, "once", 8, 0);
    drain(&b);
    t.wait(&*ep, "b drained its input", 8, 0);
}}

diff! { fn et_in_out_combinations_on_an_eventfd(t) {
    let ep = t.new_ep();
    let e = eventfd(0);
    t.ctl(&*ep, "e IN|OUT|ET", Add, fd(&e), Some((IN | OUT | ET, 1)));
    t.wait(&*ep, "writable", 8, 0);
    t.wait(&*ep, "once", 8, 0);
    efd_add(&e, 1).unwrap();
    t.wait(&*ep, "written", 8, 0);
    t.wait(&*ep, "once", 8, 0);
    efd_take(&e);
    t.wait(&*ep, "read", 8, 0);
    t.wait(&*ep, "once", 8, 0);
}}

diff! { fn oneshot_reports_once_until_mod_rearms(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "b oneshot", Add, fd(&b), Some((IN | ONESHOT, 1)));
    put(&a, b"x");
    t.wait(&*ep, "fires", 8, 0);
    t.wait(&*ep, "disarmed", 8, 0);
    put(&a, b"y");
    t.wait(&*ep, "disarmed despite new data", 8, 0);
    t.ctl(&*ep, "add while disarmed", Add, fd(&b), Some((IN, 9)));
    t.ctl(&*ep, "re-arm", Mod, fd(&b), Some((IN | ONESHOT, 2)));
    t.wait(&*ep, "ready at mod", 8, 0);
    t.wait(&*ep, "disarmed again", 8, 0);
    t.ctl(&*ep, "re-arm ET", Mod, fd(&b), Some((IN | ONESHOT | ET, 3)));
    t.wait(&*ep, "ready at mod", 8, 0);
    drain(&b);
    t.ctl(&*ep, "re-arm while not ready", Mod, fd(&b), Some((IN | ONESHOT, 4)));
    t.wait(&*ep, "nothing yet", 8, 0);
    put(&a, b"z");
    t.wait(&*ep, "fires on new data", 8, 0);
    t.wait(&*ep, "disarmed", 8, 0);
    t.ctl(&*ep, "to plain LT", Mod, fd(&b), Some((IN, 5)));
    t.wait(&*ep, "LT", 8, 0);
    t.wait(&*ep, "LT again", 8, 0);
}}

diff! { fn mod_of_ready_oneshot_fd_reports_at_once(t) {
    let ep = t.new_ep();
    let e = eventfd(1);
    t.ctl(&*ep, "e oneshot", Add, fd(&e), Some((IN | ONESHOT, 1)));
    t.wait(&*ep, "fires", 8, 0);
    t.wait(&*ep, "disarmed", 8, 0);
    t.ctl(&*ep, "re-arm, still ready", Mod, fd(&e), Some((IN | ONESHOT, 2)));
    t.wait(&*ep, "reported at once", 8, 0);
    t.ctl(&*ep, "re-arm OUT|ONESHOT|ET", Mod, fd(&e), Some((IN | OUT | ONESHOT | ET, 3)));
    t.wait(&*ep, "reported at once", 8, 0);
    t.wait(&*ep, "disarmed", 8, 0);
}}

diff! { fn oneshot_leftover_beyond_maxevents_still_fires_once(t) {
    let ep = t.new_ep();
    let fds: Vec<_> = (0..3).map(|_| eventfd(1)).collect();
    for (i, e) in fds.iter().enumerate() {
        t.ctl(&*ep, &format!("e{i} oneshot"), Add, fd(e), Some((IN | ONESHOT, i as u64)));
    }
    t.wait(&*ep, "max 1", 1, 0);
    t.wait(&*ep, "max 1", 1, 0);
    t.wait(&*ep, "max 1", 1, 0);
    t.wait(&*ep, "all disarmed", 8, 0);
}}

// =============================================================================================
// Timeouts

diff! { fn wait_zero_timeout_returns_immediately(t) {
    let ep = t.new_ep();
    let (_a, b) = stream_pair();
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN, 1)));
    let start = Instant::now();
    t.wait(&*ep, "nothing ready", 8, 0);
    t.note("returned within 1 s", start.elapsed() < Duration::from_secs(1));
}}

diff! { fn wait_timeout_blocks_then_returns_zero(t) {
    let ep = t.new_ep();
    let (_a, b) = stream_pair();
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN, 1)));
    let start = Instant::now();
    t.wait(&*ep, "50 ms, nothing ready", 8, 50);
    let el = start.elapsed();
    t.note("blocked at least ~45 ms", el >= ms(45));
    t.note("returned within 5 s", el < Duration::from_secs(5));
    let start = Instant::now();
    t.wait(&*ep, "empty instance, 30 ms", 8, 30);
    t.note("blocked at least ~25 ms", start.elapsed() >= ms(25));
}}

/// Blocks in `wait(timeout)` while another thread makes an eventfd ready after 20 ms. A rescue
/// eventfd (registered too) is written after 3 s if the wait has not returned, so a lost wake-up
/// shows up as a divergence instead of a hang.
fn wait_for_event_from_other_thread(t: &mut Trace, timeout_ms: i32) {
    let ep = t.new_ep();
    let e = eventfd(0);
    let rescue = eventfd(0);
    t.ctl(&*ep, "e", Add, fd(&e), Some((IN, 1)));
    t.ctl(&*ep, "rescue", Add, fd(&rescue), Some((IN, 99)));
    let done = AtomicBool::new(false);
    let start = Instant::now();
    thread::scope(|s| {
        s.spawn(|| {
            thread::sleep(ms(20));
            efd_add(&e, 1).unwrap();
            let deadline = Instant::now() + Duration::from_secs(3);
            while !done.load(SeqCst) && Instant::now() < deadline {
                thread::sleep(ms(5));
            }
            if !done.load(SeqCst) {
                efd_add(&rescue, 1).unwrap();
            }
        });
        t.wait(&*ep, &format!("timeout {timeout_ms}, writer after 20 ms"), 8, timeout_ms);
        done.store(true, SeqCst);
    });
    t.note("returned within 2 s", start.elapsed() < Duration::from_secs(2));
}

diff! { fn wait_infinite_returns_event_written_by_other_thread(t) {
    wait_for_event_from_other_thread(t, -1);
}}

diff! { fn wait_with_any_negative_timeout_blocks_until_event(t) {
    wait_for_event_from_other_thread(t, -7);
}}

diff! { fn wait_with_long_timeout_returns_early_on_event(t) {
    wait_for_event_from_other_thread(t, 5000);
}}

/// A thread blocks in wait; the main thread then makes a registration ready through `ctl`.
fn ctl_wakes_blocked_waiter(t: &mut Trace, use_mod: bool) {
    let ep = t.new_ep();
    let e = eventfd(1);
    let rescue = eventfd(0);
    t.ctl(&*ep, "rescue", Add, fd(&rescue), Some((IN, 99)));
    if use_mod {
        t.ctl(&*ep, "e, interest OUT-less 0", Add, fd(&e), Some((0, 1)));
    }
    let got = thread::scope(|s| {
        let h = s.spawn(|| ep.wait(8, 3000));
        thread::sleep(ms(50));
        if use_mod {
            t.ctl(&*ep, "mod ready e -> IN", Mod, fd(&e), Some((IN, 2)));
        } else {
            t.ctl(&*ep, "add ready e", Add, fd(&e), Some((IN, 2)));
        }
        let r = h.join().unwrap();
        if r.as_ref().map_or(true, |v| v.is_empty()) {
            let _ = efd_add(&rescue, 1);
        }
        r
    });
    t.line(format!("blocked waiter got: {}", res_str(&got)));
}

diff! { fn add_of_ready_fd_wakes_blocked_waiter(t) {
    ctl_wakes_blocked_waiter(t, false);
}}

diff! { fn mod_of_ready_fd_wakes_blocked_waiter(t) {
    ctl_wakes_blocked_waiter(t, true);
}}

diff! { fn wait_with_only_stale_events_blocks_until_timeout(t) {
    // A queued event whose readiness is gone before the harvest is dropped, and the wait goes
    // back to sleep for the rest of its timeout (ep_poll loops when ep_send_events found nothing).
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "b ET", Add, fd(&b), Some((IN | ET, 1)));
    put(&a, b"x");
    drain(&b);
    let start = Instant::now();
    t.wait(&*ep, "ET edge queued, data gone, 100 ms", 8, 100);
    t.note("blocked at least ~90 ms", start.elapsed() >= ms(90));
    t.ctl(&*ep, "b LT", Mod, fd(&b), Some((IN, 2)));
    put(&a, b"y");
    t.wait(&*ep, "LT reported and re-queued", 8, 0);
    drain(&b);
    let start = Instant::now();
    t.wait(&*ep, "LT re-queued, data gone, 100 ms", 8, 100);
    t.note("blocked at least ~90 ms", start.elapsed() >= ms(90));
}}

diff! { fn one_file_in_two_instances_and_under_two_numbers_is_reported_by_each(t) {
    let ep1 = t.new_ep();
    let ep2 = t.new_ep();
    let (a, b) = stream_pair();
    let b2 = dup(fd(&b));
    t.ctl(&*ep1, "ep1 <- b ET", Add, fd(&b), Some((IN | ET, 1)));
    t.ctl(&*ep2, "ep2 <- b ET", Add, fd(&b), Some((IN | ET, 2)));
    t.ctl(&*ep1, "ep1 <- dup of b ET", Add, fd(&b2), Some((IN | ET, 3)));
    put(&a, b"x");
    t.wait(&*ep1, "ep1", 8, 0);
    t.wait(&*ep2, "ep2", 8, 0);
    t.ctl(&*ep1, "ep1 del b", Del, fd(&b), None);
    put(&a, b"y");
    t.wait(&*ep1, "ep1 after del of b", 8, 0);
    t.wait(&*ep2, "ep2", 8, 0);
}}

// =============================================================================================
// Several threads waiting on one instance

/// N threads block in `wait` on one instance holding a `work` eventfd (`work_flags`) and a
/// level-triggered `release` eventfd. One write to `work`; 200 ms later, count the threads that
/// returned; then write `release` (LT: wake-ups chain until every sleeper returned) and count
/// which threads saw the work event. Counts are compared, not which thread got what.
fn waiters_woken_by_one_write(t: &mut Trace, work_flags: u32) {
    const N: usize = 4;
    let ep = t.new_ep();
    let work = eventfd(0);
    let release = eventfd(0);
    t.ctl(&*ep, "work", Add, fd(&work), Some((IN | work_flags, 1)));
    t.ctl(&*ep, "release (LT)", Add, fd(&release), Some((IN, 2)));
    let returned = AtomicUsize::new(0);
    let (early, results) = thread::scope(|s| {
        let hs: Vec<_> = (0..N)
            .map(|_| {
                s.spawn(|| {
                    let r = ep.wait(8, 3000);
                    returned.fetch_add(1, SeqCst);
                    r
                })
            })
            .collect();
        thread::sleep(ms(100));
        efd_add(&work, 1).unwrap();
        thread::sleep(ms(200));
        let early = returned.load(SeqCst);
        efd_add(&release, 1).unwrap();
        let results: Vec<io::Result<Vec<Ev>>> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        (early, results)
    });
    let errors = results.iter().filter(|r| r.is_err()).count();
    let ok: Vec<Vec<Ev>> = results.into_iter().filter_map(Result::ok).collect();
    t.note("threads returned within 200 ms of the write", early);
    t.note("threads that got the work event", ok.iter().filter(|v| v.iter().any(|e| e.1 == 1)).count());
    t.note("threads that got the release event", ok.iter().filter(|v| v.iter().any(|e| e.1 == 2)).count());
    t.note("threads that timed out empty", ok.iter().filter(|v| v.is_empty()).count());
    t.note("threads with errors", errors);
}

diff! { fn et_write_wakes_exactly_one_of_several_waiters(t) {
    waiters_woken_by_one_write(t, ET);
}}

diff! { fn lt_write_wakes_every_waiter(t) {
    waiters_woken_by_one_write(t, 0);
}}

diff! { fn exclusive_registration_wakes_one_of_several_instances(t) {
    const N: usize = 3;
    let eps: Vec<_> = (0..N).map(|_| t.new_ep()).collect();
    let work = eventfd(0);
    let releases: Vec<_> = (0..N).map(|_| eventfd(0)).collect();
    for (i, ep) in eps.iter().enumerate() {
        t.ctl(&**ep, &format!("work in ep{i}, exclusive"), Add, fd(&work), Some((IN | EXCLUSIVE, 1)));
        t.ctl(&**ep, &format!("release of ep{i}"), Add, fd(&releases[i]), Some((IN, 2)));
    }
    let returned = AtomicUsize::new(0);
    let (early, results) = thread::scope(|s| {
        let hs: Vec<_> = eps
            .iter()
            .map(|ep| {
                let returned = &returned;
                s.spawn(move || {
                    let r = ep.wait(8, 3000);
                    returned.fetch_add(1, SeqCst);
                    r
                })
            })
            .collect();
        thread::sleep(ms(100));
        efd_add(&work, 1).unwrap();
        thread::sleep(ms(200));
        let early = returned.load(SeqCst);
        for r in &releases {
            efd_add(r, 1).unwrap();
        }
        let results: Vec<Vec<Ev>> = hs.into_iter().map(|h| h.join().unwrap().unwrap_or_default()).collect();
        (early, results)
    });
    t.note("instances returned within 200 ms of the write", early);
    t.note("instances that got the work event", results.iter().filter(|v| v.iter().any(|e| e.1 == 1)).count());
}}

diff! { fn no_event_is_lost_under_concurrent_writes(t) {
    const FDS: usize = 4;
    const WRITERS: u64 = 2;
    const ROUNDS: u64 = 2000;
    let ep = t.new_ep();
    let fds: Vec<_> = (0..FDS).map(|_| eventfd(0)).collect();
    for (i, e) in fds.iter().enumerate() {
        t.ctl(&*ep, &format!("e{i} ET"), Add, fd(e), Some((IN | ET, i as u64)));
    }
    let expected = FDS as u64 * WRITERS * ROUNDS;
    let total = AtomicU64::new(0);
    let bad = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..WRITERS {
            s.spawn(|| {
                for r in 0..ROUNDS {
                    for e in &fds {
                        efd_add(e, 1).unwrap();
                    }
                    if r % 64 == 0 {
                        thread::yield_now();
                    }
                }
            });
        }
        for _ in 0..2 {
            s.spawn(|| {
                let deadline = Instant::now() + Duration::from_secs(5);
                while total.load(SeqCst) < expected && Instant::now() < deadline {
                    match ep.wait(2, 20) {
                        Ok(evs) => {
                            for ev in evs {
                                match fds.get(ev.1 as usize) {
                                    Some(e) if ev.0 == IN => {
                                        total.fetch_add(efd_take(e), SeqCst);
                                    }
                                    _ => {
                                        bad.fetch_add(1, SeqCst);
                                    }
                                }
                            }
                        }
                        Err(_) => {
                            bad.fetch_add(1, SeqCst);
                        }
                    }
                }
            });
        }
    });
    let total = total.load(SeqCst);
    t.note("counts read back == counts written", total == expected);
    if total != expected {
        t.note("read back", total);
    }
    t.note("unexpected events or errors", bad.load(SeqCst));
    t.wait(&*ep, "quiet afterwards", 8, 0);
}}

extern "C" fn ignore_signal(_: libc::c_int) {}

/// Installs a no-op SIGURG handler without SA_RESTART (SIGURG is otherwise unused here and
/// ignored by default, so this does not disturb other tests).
fn install_sigurg_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction with a valid handler and an empty mask is well-formed;
        // the handler is async-signal-safe (it does nothing).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = ignore_signal as extern "C" fn(libc::c_int) as usize;
            sa.sa_flags = 0;
            libc::sigemptyset(&mut sa.sa_mask);
            assert_eq!(libc::sigaction(libc::SIGURG, &sa, std::ptr::null_mut()), 0);
        }
    });
}

/// N threads block in `wait`; each gets a signal, 20 ms apart (handler installed, no SA_RESTART). Linux's
/// epoll_wait is never restarted: every interrupted waiter returns EINTR. A level-triggered
/// release eventfd ends the waits that were not interrupted.
fn signal_interrupts_waiters(t: &mut Trace, n: usize) {
    install_sigurg_handler();
    let ep = t.new_ep();
    let release = eventfd(0);
    t.ctl(&*ep, "release (LT)", Add, fd(&release), Some((IN, 2)));
    let tids = std::sync::Mutex::new(Vec::new());
    let returned = AtomicUsize::new(0);
    let (early, results) = thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    // SAFETY: plain libc call.
                    tids.lock().unwrap().push(unsafe { libc::pthread_self() });
                    let r = ep.wait(8, 3000);
                    returned.fetch_add(1, SeqCst);
                    r
                })
            })
            .collect();
        thread::sleep(ms(150));
        for &tid in tids.lock().unwrap().iter() {
            // SAFETY: the thread is alive (it is joined below, after the release).
            unsafe { libc::pthread_kill(tid, libc::SIGURG) };
            // Spaced: signals landing together on several EventPoll waiters can race with the
            // hand-over of the OS poll (a documented divergence, see the crate docs).
            thread::sleep(ms(20));
        }
        thread::sleep(ms(150));
        let early = returned.load(SeqCst);
        efd_add(&release, 1).unwrap();
        let results: Vec<io::Result<Vec<Ev>>> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        (early, results)
    });
    t.note("threads returned within 150 ms of the signal", early);
    t.note("threads with EINTR", results.iter().filter(|r| matches!(r, Err(e) if e.raw_os_error() == Some(libc::EINTR))).count());
    t.note("threads that got the release event", results.iter().filter(|r| matches!(r, Ok(v) if !v.is_empty())).count());
}

diff! { fn signal_interrupts_a_single_waiter_with_eintr(t) {
    signal_interrupts_waiters(t, 1);
}}

diff! { fn signal_interrupts_every_blocked_waiter_with_eintr(t) {
    signal_interrupts_waiters(t, 3);
}}

// =============================================================================================
// Nesting

diff! { fn nested_instance_is_readable_only_while_it_has_events(t) {
    let inner = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*inner, "inner <- b ET", Add, fd(&b), Some((IN | ET, 1)));
    let ifd = inner.as_raw_fd();
    let outer = t.new_ep();
    let outer_k = KernelEp::new().unwrap();
    t.ctl(&*outer, "outer (same backend) <- inner", Add, ifd, Some((IN, 10)));
    t.ctl(&outer_k, "outer (kernel) <- inner", Add, ifd, Some((IN, 20)));
    for round in 0..2 {
        t.note("poll(inner), idle", bits_str(poll_bits(ifd)));
        t.wait(&*outer, "outer, idle", 8, 0);
        t.wait(&outer_k, "kernel outer, idle", 8, 0);
        put(&a, b"x");
        t.note("poll(inner) after write", bits_str(poll_bits(ifd)));
        t.wait(&*outer, "outer after write", 8, 0);
        t.wait(&outer_k, "kernel outer after write", 8, 0);
        t.wait(&*inner, &format!("inner, round {round}"), 8, 0);
        t.note("poll(inner) after inner harvested the ET event", bits_str(poll_bits(ifd)));
        t.wait(&*outer, "outer after inner harvest", 8, 0);
        t.wait(&outer_k, "kernel outer after inner harvest", 8, 0);
    }
}}

diff! { fn nested_instance_with_drained_lt_fd_is_not_readable(t) {
    let inner = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*inner, "inner <- b LT", Add, fd(&b), Some((IN, 1)));
    let ifd = inner.as_raw_fd();
    let outer = t.new_ep();
    t.ctl(&*outer, "outer <- inner", Add, ifd, Some((IN, 10)));
    put(&a, b"x");
    t.wait(&*inner, "inner reports, LT re-queues", 8, 0);
    t.note("poll(inner) with data still there", bits_str(poll_bits(ifd)));
    t.wait(&*outer, "outer with data still there", 8, 0);
    drain(&b);
    t.note("poll(inner) after draining b without a wait", bits_str(poll_bits(ifd)));
    t.wait(&*outer, "outer after draining b", 8, 0);
    t.wait(&*inner, "inner after draining b", 8, 0);
    t.note("poll(inner) after inner wait", bits_str(poll_bits(ifd)));
    t.wait(&*outer, "outer after inner wait", 8, 0);
}}

diff! { fn nested_et_outer_sees_edges_only_from_new_inner_events(t) {
    let inner = t.new_ep();
    let e0 = eventfd(1);
    let e1 = eventfd(1);
    t.ctl(&*inner, "inner <- e0 ET", Add, fd(&e0), Some((IN | ET, 0)));
    t.ctl(&*inner, "inner <- e1 ET", Add, fd(&e1), Some((IN | ET, 1)));
    let outer = t.new_ep();
    t.ctl(&*outer, "outer <- inner ET", Add, inner.as_raw_fd(), Some((IN | ET, 10)));
    t.wait(&*outer, "outer: inner has events", 8, 0);
    t.wait(&*outer, "outer: ET, once", 8, 0);
    t.wait(&*inner, "inner max 8", 8, 0);
    t.wait(&*outer, "outer after inner emptied", 8, 0);
    efd_add(&e0, 1).unwrap();
    t.wait(&*outer, "outer after new inner event", 8, 0);
    t.wait(&*inner, "inner", 8, 0);
    t.wait(&*outer, "outer at end", 8, 0);
}}

diff! { fn nested_et_outer_gets_no_edge_from_a_harvest_that_leaves_inner_events(t) {
    // Linux's harvest puts leftovers and level-triggered items back without waking the
    // instance's watchers (`ep_done_scan` wakes its waiters only): an ET outer sees no new
    // edge, an LT one and poll(2) still see what is left.
    let inner = t.new_ep();
    let e0 = eventfd(1);
    let e1 = eventfd(1);
    t.ctl(&*inner, "inner <- e0 LT", Add, fd(&e0), Some((IN, 0)));
    t.ctl(&*inner, "inner <- e1 LT", Add, fd(&e1), Some((IN, 1)));
    let outer = t.new_ep();
    let outer_lt = t.new_ep();
    let outer_k = KernelEp::new().unwrap();
    t.ctl(&*outer, "outer <- inner ET", Add, inner.as_raw_fd(), Some((IN | ET, 10)));
    t.ctl(&*outer_lt, "outer <- inner LT", Add, inner.as_raw_fd(), Some((IN, 20)));
    t.ctl(&outer_k, "kernel outer <- inner ET", Add, inner.as_raw_fd(), Some((IN | ET, 30)));
    t.wait(&*outer, "outer: inner has events", 8, 0);
    t.wait(&outer_k, "kernel outer: inner has events", 8, 0);
    t.wait(&*inner, "inner max 1: e0, re-queued behind e1", 1, 0);
    t.note("poll(inner) after the harvest", bits_str(poll_bits(inner.as_raw_fd())));
    t.wait(&*outer, "ET outer after the harvest: no edge", 8, 0);
    t.wait(&outer_k, "kernel ET outer after the harvest: no edge", 8, 0);
    t.wait(&*outer_lt, "LT outer sees what is left", 8, 0);
    t.wait(&*inner, "inner max 1: e1", 1, 0);
    t.wait(&*outer, "ET outer after the second harvest: no edge", 8, 0);
    efd_take(&e0);
    efd_take(&e1);
    t.wait(&*inner, "inner: both drained", 8, 0);
    t.note("poll(inner) emptied", bits_str(poll_bits(inner.as_raw_fd())));
    t.wait(&*outer, "ET outer at end", 8, 0);
    t.wait(&*outer_lt, "LT outer at end", 8, 0);
    t.wait(&outer_k, "kernel outer at end", 8, 0);
}}

diff! { fn nested_et_item_consumed_by_the_inner_is_not_ready_for_the_outer(t) {
    // The outer samples the inner's ready list, not the inner's files: an ET event the inner
    // reported is gone although the socket is still readable; so is an LT item drained since.
    let inner = t.new_ep();
    let (a, b) = stream_pair();
    let (c, d) = stream_pair();
    t.ctl(&*inner, "inner <- d LT", Add, fd(&d), Some((IN, 2)));
    put(&c, b"x");
    t.ctl(&*inner, "inner <- b ET", Add, fd(&b), Some((IN | ET, 1)));
    let outer = t.new_ep();
    t.ctl(&*outer, "outer <- inner LT", Add, inner.as_raw_fd(), Some((IN, 10)));
    put(&a, b"x");
    t.wait(&*inner, "inner max 1: d, re-queued behind b", 1, 0);
    drain(&d);
    t.wait(&*inner, "inner max 1: b, its edge consumed", 1, 0);
    t.note("poll(b)", bits_str(poll_bits(fd(&b))));
    t.note("poll(inner): only the drained d is queued", bits_str(poll_bits(inner.as_raw_fd())));
    t.wait(&*outer, "outer after the inner consumed the edge", 8, 0);
    put(&a, b"y");
    t.wait(&*outer, "outer after a new edge", 8, 0);
    t.wait(&*outer, "LT outer again: the edge is still queued in the inner", 8, 0);
    t.wait(&*inner, "inner reports it", 8, 0);
    t.wait(&*outer, "outer at end", 8, 0);
}}

diff! { fn nested_oneshot_inner_item_that_fired_is_not_ready_for_the_outer(t) {
    let inner = t.new_ep();
    let (a, b) = stream_pair();
    let (c, d) = stream_pair();
    t.ctl(&*inner, "inner <- b ONESHOT", Add, fd(&b), Some((IN | ONESHOT, 1)));
    t.ctl(&*inner, "inner <- d LT", Add, fd(&d), Some((IN, 2)));
    let outer = t.new_ep();
    t.ctl(&*outer, "outer <- inner ET", Add, inner.as_raw_fd(), Some((IN | ET, 10)));
    put(&a, b"x");
    put(&c, b"x");
    t.wait(&*outer, "outer: inner items armed and ready", 8, 0);
    t.wait(&*inner, "inner max 1: b fires, disarmed", 1, 0);
    drain(&d);
    t.wait(&*outer, "outer: no edge from the inner's harvest", 8, 0);
    put(&a, b"y");
    t.note("poll(inner): a disarmed item and a drained one", bits_str(poll_bits(inner.as_raw_fd())));
    t.wait(&*outer, "outer: a disarmed item gets no wake-up", 8, 0);
    t.ctl(&*inner, "inner: Mod re-arms b (ready)", Mod, fd(&b), Some((IN | ONESHOT, 3)));
    t.wait(&*outer, "outer after the re-arm", 8, 0);
    t.wait(&*inner, "inner: fires again", 8, 0);
    t.wait(&*outer, "outer at end", 8, 0);
}}

diff! { fn outer_sample_drops_the_inners_not_ready_items_ahead_of_the_first_ready_one(t) {
    // `__ep_eventpoll_poll`: the scan of the inner's ready list drops each item found not
    // ready and stops at the first ready one, which keeps its place; the inner's own harvests
    // show the order that leaves.
    let inner = t.new_ep();
    let (a0, b0) = stream_pair();
    let (a1, b1) = stream_pair();
    let (a2, b2) = stream_pair();
    t.ctl(&*inner, "inner <- b0 ET", Add, fd(&b0), Some((IN | ET, 0)));
    t.ctl(&*inner, "inner <- b1 ET", Add, fd(&b1), Some((IN | ET, 1)));
    t.ctl(&*inner, "inner <- b2 ET", Add, fd(&b2), Some((IN | ET, 2)));
    let outer = t.new_ep();
    t.ctl(&*outer, "outer <- inner LT", Add, inner.as_raw_fd(), Some((IN, 10)));
    put(&a0, b"x");
    put(&a1, b"x");
    put(&a2, b"x");
    drain(&b0);
    t.wait(&*outer, "outer: b0 not ready, dropped; b1 ready", 8, 0);
    put(&a0, b"y");
    t.note("poll(inner)", bits_str(poll_bits(inner.as_raw_fd())));
    for i in 0..4 {
        t.wait(&*inner, &format!("inner max 1, #{i}: b0 queued again behind b1 and b2"), 1, 0);
    }
    t.wait(&*outer, "outer at end", 8, 0);
}}

diff! { fn nested_et_outer_gets_an_edge_for_every_inner_wakeup(t) {
    // Every wake-up of an inner item wakes the inner's watchers, even when the item is queued
    // already; the inner's LT re-queues and leftovers wake nobody.
    let inner = t.new_ep();
    let (a, b) = stream_pair();
    let (c, d) = stream_pair();
    t.ctl(&*inner, "inner <- b LT", Add, fd(&b), Some((IN, 1)));
    t.ctl(&*inner, "inner <- d LT", Add, fd(&d), Some((IN, 2)));
    let outer = t.new_ep();
    t.ctl(&*outer, "outer <- inner ET", Add, inner.as_raw_fd(), Some((IN | ET, 10)));
    put(&a, b"x");
    put(&c, b"x");
    t.wait(&*outer, "outer: first edge", 8, 0);
    t.wait(&*outer, "outer: ET, once", 8, 0);
    put(&a, b"y");
    t.wait(&*outer, "outer: a wake-up of a queued inner item is an edge", 8, 0);
    t.wait(&*inner, "inner max 1: b, re-queued behind d", 1, 0);
    t.wait(&*outer, "outer: no edge from the re-queue", 8, 0);
    t.wait(&*inner, "inner max 1: d", 1, 0);
    t.wait(&*outer, "outer: still none", 8, 0);
    drain(&b);
    t.wait(&*outer, "outer: a drain is no wake-up for IN", 8, 0);
    put(&c, b"z");
    t.wait(&*outer, "outer: a write to d is", 8, 0);
}}

diff! { fn nested_oneshot_outer_reports_once_until_mod(t) {
    let inner = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*inner, "inner <- b LT", Add, fd(&b), Some((IN, 1)));
    let outer = t.new_ep();
    t.ctl(&*outer, "outer <- inner ONESHOT", Add, inner.as_raw_fd(), Some((IN | ONESHOT, 10)));
    put(&a, b"x");
    t.wait(&*outer, "outer fires", 8, 0);
    t.wait(&*outer, "outer disarmed", 8, 0);
    put(&a, b"y");
    t.wait(&*outer, "outer disarmed, new inner wake-up", 8, 0);
    t.ctl(&*outer, "outer: Mod re-arms (inner ready)", Mod, inner.as_raw_fd(), Some((IN | ONESHOT, 11)));
    t.wait(&*outer, "outer fires again", 8, 0);
    drain(&b);
    t.ctl(&*outer, "outer: Mod re-arms (inner not ready)", Mod, inner.as_raw_fd(), Some((IN | ONESHOT | ET, 12)));
    t.wait(&*outer, "outer: nothing", 8, 0);
    put(&a, b"z");
    t.wait(&*outer, "outer fires on the next wake-up", 8, 0);
}}

diff! { fn nested_instance_reports_in_and_rdnorm_only_as_asked(t) {
    // The sample of an epoll file is IN | RDNORM, masked by the interest; its wake-ups carry
    // IN, so an interest without IN hears of none (only Add and Mod sample).
    let inner = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*inner, "inner <- b LT", Add, fd(&b), Some((IN, 1)));
    put(&a, b"x");
    let interests = [IN, OUT, RDNORM, IN | RDNORM | OUT | PRI | RDHUP, RDNORM | ET];
    let outers: Vec<_> = interests.iter().map(|_| t.new_ep()).collect();
    for (i, (o, &bits)) in outers.iter().zip(&interests).enumerate() {
        t.ctl(&**o, &format!("outer{i} <- ready inner, {}", bits_str(bits)), Add, inner.as_raw_fd(), Some((bits, i as u64)));
    }
    for (i, o) in outers.iter().enumerate() {
        t.wait(&**o, &format!("outer{i} after Add"), 8, 0);
    }
    drain(&b);
    for (i, o) in outers.iter().enumerate() {
        t.wait(&**o, &format!("outer{i} after drain"), 8, 0);
    }
    put(&a, b"y");
    for (i, o) in outers.iter().enumerate() {
        t.wait(&**o, &format!("outer{i} after a new wake-up"), 8, 0);
    }
}}

diff! { fn user_event_in_the_inner_is_a_wakeup_and_a_level_for_its_watchers(t) {
    // The kernel backend's user event is an eventfd registered IN | ET, triggered by a write.
    let inner = t.new_ep();
    let u = inner.user_event(5);
    let outer_et = t.new_ep();
    let outer_lt = t.new_ep();
    let outer_k = KernelEp::new().unwrap();
    t.ctl(&*outer_et, "ET outer <- inner", Add, inner.as_raw_fd(), Some((IN | ET, 10)));
    t.ctl(&*outer_lt, "LT outer <- inner", Add, inner.as_raw_fd(), Some((IN, 20)));
    t.ctl(&outer_k, "kernel ET outer <- inner", Add, inner.as_raw_fd(), Some((IN | ET, 30)));
    t.note("poll(inner), idle", bits_str(poll_bits(inner.as_raw_fd())));
    t.wait(&*outer_et, "ET outer, idle", 8, 0);
    u.trigger();
    t.note("poll(inner) after a trigger", bits_str(poll_bits(inner.as_raw_fd())));
    t.wait(&*outer_et, "ET outer after a trigger", 8, 0);
    t.wait(&*outer_et, "ET outer: once", 8, 0);
    t.wait(&*outer_lt, "LT outer after a trigger", 8, 0);
    t.wait(&outer_k, "kernel outer after a trigger", 8, 0);
    u.trigger();
    t.wait(&*outer_et, "ET outer: a second trigger is a second wake-up", 8, 0);
    t.wait(&outer_k, "kernel outer: likewise", 8, 0);
    t.wait(&*inner, "inner reports the user event once", 8, 0);
    t.note("poll(inner) after the report", bits_str(poll_bits(inner.as_raw_fd())));
    t.wait(&*outer_et, "ET outer at end", 8, 0);
    t.wait(&*outer_lt, "LT outer at end", 8, 0);
    t.wait(&outer_k, "kernel outer at end", 8, 0);
    u.trigger();
    let (a, b) = stream_pair();
    t.ctl(&*inner, "inner <- b (after the trigger)", Add, fd(&b), Some((IN, 1)));
    put(&a, b"x");
    t.wait(&*outer_lt, "LT outer: user event and descriptor", 8, 0);
    t.wait(&*inner, "inner max 1: the user event, triggered first", 1, 0);
    t.note("poll(inner), descriptor left", bits_str(poll_bits(inner.as_raw_fd())));
    t.wait(&*inner, "inner: the descriptor", 8, 0);
    drain(&b);
    t.wait(&*outer_lt, "LT outer: nothing ready", 8, 0);
    t.note("poll(inner), nothing ready", bits_str(poll_bits(inner.as_raw_fd())));
}}

diff! { fn user_events_left_by_a_maxevents_cut_keep_the_inner_readable_without_an_edge(t) {
    let inner = t.new_ep();
    let u0 = inner.user_event(0);
    let u1 = inner.user_event(1);
    let outer = t.new_ep();
    t.ctl(&*outer, "ET outer <- inner", Add, inner.as_raw_fd(), Some((IN | ET, 10)));
    u0.trigger();
    u1.trigger();
    t.wait(&*outer, "ET outer: two triggers, one edge", 8, 0);
    t.wait(&*inner, "inner max 1", 1, 0);
    t.note("poll(inner) with one user event left", bits_str(poll_bits(inner.as_raw_fd())));
    t.wait(&*outer, "ET outer: no edge from the harvest", 8, 0);
    t.wait(&*inner, "inner: the other", 8, 0);
    t.note("poll(inner) emptied", bits_str(poll_bits(inner.as_raw_fd())));
    t.wait(&*outer, "ET outer at end", 8, 0);
}}

diff! { fn handing_out_the_descriptor_costs_the_instance_no_event(t) {
    // Exposing an instance while a user event is queued must not leave anything behind in its
    // OS poller that a later wait would fetch in place of a descriptor event.
    let ep = t.new_ep();
    let u = ep.user_event(5);
    u.trigger();
    t.note("poll(ep) with a user event queued", bits_str(poll_bits(ep.as_raw_fd())));
    drop(u);
    t.note("poll(ep) after the user event is gone", bits_str(poll_bits(ep.as_raw_fd())));
    let (a, b) = stream_pair();
    t.ctl(&*ep, "ep <- b ET", Add, fd(&b), Some((IN | ET, 1)));
    put(&a, b"x");
    t.wait(&*ep, "max 1", 1, 0);
    t.wait(&*ep, "max 1 again", 1, 0);
}}

diff! { fn three_level_nesting_propagates_readiness(t) {
    let l0 = t.new_ep();
    let l1 = t.new_ep();
    let l2 = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*l0, "l0 <- b", Add, fd(&b), Some((IN, 1)));
    t.ctl(&*l1, "l1 <- l0", Add, l0.as_raw_fd(), Some((IN, 2)));
    t.ctl(&*l2, "l2 <- l1", Add, l1.as_raw_fd(), Some((IN, 3)));
    t.wait(&*l2, "idle", 8, 0);
    put(&a, b"x");
    t.wait(&*l2, "top after write", 8, 0);
    t.wait(&*l1, "middle after write", 8, 0);
    t.wait(&*l0, "bottom after write", 8, 0);
    drain(&b);
    t.wait(&*l0, "bottom after drain", 8, 0);
    t.wait(&*l1, "middle after drain", 8, 0);
    t.wait(&*l2, "top after drain", 8, 0);
}}

diff! { fn three_level_nesting_samples_each_level_at_its_own_ready_list(t) {
    let l0 = t.new_ep();
    let l1 = t.new_ep();
    let l2 = t.new_ep();
    let (a, b) = stream_pair();
    let (c, d) = stream_pair();
    t.ctl(&*l0, "l0 <- b ET", Add, fd(&b), Some((IN | ET, 1)));
    t.ctl(&*l0, "l0 <- d LT", Add, fd(&d), Some((IN, 5)));
    t.ctl(&*l1, "l1 <- l0 LT", Add, l0.as_raw_fd(), Some((IN, 2)));
    t.ctl(&*l2, "l2 <- l1 ET", Add, l1.as_raw_fd(), Some((IN | ET, 3)));
    let u = l0.user_event(4);
    put(&a, b"x");
    put(&c, b"x");
    t.wait(&*l2, "top after writes at the bottom", 8, 0);
    t.wait(&*l0, "bottom max 1: consumes b's edge", 1, 0);
    drain(&d);
    t.wait(&*l1, "middle: the bottom's list holds a drained d", 8, 0);
    t.wait(&*l2, "top: no edge", 8, 0);
    t.wait(&*l0, "bottom: nothing", 8, 0);
    put(&a, b"y");
    t.wait(&*l2, "top: an edge from the bottom", 8, 0);
    t.wait(&*l1, "middle", 8, 0);
    t.wait(&*l1, "middle, LT: again", 8, 0);
    t.wait(&*l0, "bottom", 8, 0);
    t.wait(&*l1, "middle after the bottom's harvest", 8, 0);
    u.trigger();
    t.wait(&*l2, "top: a trigger at the bottom is an edge", 8, 0);
    t.wait(&*l1, "middle sees the user event", 8, 0);
    t.wait(&*l0, "bottom reports it", 8, 0);
    t.wait(&*l1, "middle at end", 8, 0);
    t.wait(&*l2, "top at end", 8, 0);
}}

diff! { fn cycle_between_instances_is_eloop(t) {
    let a = t.new_ep();
    let b = t.new_ep();
    let c = t.new_ep();
    t.ctl(&*a, "a <- b", Add, b.as_raw_fd(), Some((IN, 1)));
    t.ctl(&*b, "b <- a (cycle)", Add, a.as_raw_fd(), Some((IN, 2)));
    t.ctl(&*b, "b <- c", Add, c.as_raw_fd(), Some((IN, 3)));
    t.ctl(&*c, "c <- a (cycle of 3)", Add, a.as_raw_fd(), Some((IN, 4)));
    t.ctl(&*a, "a <- b again", Add, b.as_raw_fd(), Some((IN, 5)));
    t.ctl(&*a, "a <- c (no cycle)", Add, c.as_raw_fd(), Some((IN, 6)));
}}

diff! { fn too_deep_chain_of_instances_is_eloop(t) {
    let up: Vec<_> = (0..7).map(|_| t.new_ep()).collect();
    for i in 0..6 {
        t.ctl(&*up[i + 1], &format!("bottom-up: e{} <- e{i}", i + 1), Add, up[i].as_raw_fd(), Some((IN, i as u64)));
    }
    let down: Vec<_> = (0..7).map(|_| t.new_ep()).collect();
    for i in 0..6 {
        t.ctl(&*down[i], &format!("top-down: e{i} <- e{}", i + 1), Add, down[i + 1].as_raw_fd(), Some((IN, i as u64)));
    }
    // A pollable file at the bottom of a long chain.
    let (_a, b) = stream_pair();
    t.ctl(&*up[0], "socket at the bottom of the bottom-up chain", Add, fd(&b), Some((IN, 9)));
    t.ctl(&*down[6], "socket at the bottom of the top-down chain", Add, fd(&b), Some((IN, 9)));
}}

// =============================================================================================
// Close without DEL

diff_exclusive! { fn lt_registration_closed_after_report_is_not_reported_for_reused_number(t) {
    let ep = t.new_ep();
    let e = eventfd(1);
    let n = fd(&e);
    t.ctl(&*ep, "e LT", Add, n, Some((IN, 111)));
    t.wait(&*ep, "e ready (LT: stays queued)", 8, 0);
    drop(e);
    let f = eventfd_at(n, 1);
    t.note("new eventfd reuses the number", fd(&f) == n);
    t.wait(&*ep, "after close and reuse (new file ready)", 8, 0);
    efd_add(&f, 1).unwrap();
    t.wait(&*ep, "after a write to the new file", 8, 0);
}}

diff_exclusive! { fn registration_closed_before_wait_is_not_reported_for_reused_number(t) {
    let ep = t.new_ep();
    let e = eventfd(1);
    let n = fd(&e);
    t.ctl(&*ep, "e LT, ready, never waited for", Add, n, Some((IN, 111)));
    drop(e);
    let f = eventfd_at(n, 1);
    t.note("new eventfd reuses the number", fd(&f) == n);
    t.wait(&*ep, "after close and reuse", 8, 0);
    efd_add(&f, 1).unwrap();
    t.wait(&*ep, "after a write to the new file", 8, 0);
}}

diff_exclusive! { fn et_registration_closed_is_not_reported_for_reused_number(t) {
    let ep = t.new_ep();
    let (_a, b) = stream_pair();
    let n = fd(&b);
    t.ctl(&*ep, "b ET", Add, n, Some((IN | OUT | ET, 111)));
    t.wait(&*ep, "b writable", 8, 0);
    drop(b);
    let f = eventfd_at(n, 1);
    t.note("new eventfd reuses the number", fd(&f) == n);
    t.wait(&*ep, "after close and reuse", 8, 0);
    efd_add(&f, 1).unwrap();
    t.wait(&*ep, "after a write to the new file", 8, 0);
}}

diff_exclusive! { fn ctl_after_close_and_reuse_matches_kernel(t) {
    let ep = t.new_ep();
    let e = eventfd(1);
    let n = fd(&e);
    t.ctl(&*ep, "e", Add, n, Some((IN, 111)));
    drop(e);
    t.ctl(&*ep, "mod of closed number", Mod, n, Some((IN, 112)));
    t.ctl(&*ep, "del of closed number", Del, n, None);
    t.ctl(&*ep, "add of closed number", Add, n, Some((IN, 113)));
    let f = eventfd_at(n, 1);
    t.note("new eventfd reuses the number", fd(&f) == n);
    t.ctl(&*ep, "mod before re-adding", Mod, n, Some((IN, 114)));
    t.ctl(&*ep, "del before re-adding", Del, n, None);
    t.ctl(&*ep, "add of the reused number", Add, n, Some((IN, 222)));
    t.wait(&*ep, "only the new registration", 8, 0);
    t.ctl(&*ep, "mod of the new registration", Mod, n, Some((IN, 223)));
    t.wait(&*ep, "new data", 8, 0);
    t.ctl(&*ep, "del of the new registration", Del, n, None);
    t.wait(&*ep, "nothing", 8, 0);
}}

diff_exclusive! { fn add_after_close_and_reuse_keeps_old_queued_event_out(t) {
    // The old registration was reported (LT, queued again) before the close; the new file is
    // added under the same number with new data: only the new data may ever be reported.
    let ep = t.new_ep();
    let e = eventfd(1);
    let n = fd(&e);
    t.ctl(&*ep, "e LT", Add, n, Some((IN, 111)));
    t.wait(&*ep, "e ready", 8, 0);
    drop(e);
    let f = eventfd_at(n, 1);
    t.note("new eventfd reuses the number", fd(&f) == n);
    t.ctl(&*ep, "add reused number", Add, n, Some((IN | ET, 222)));
    t.wait(&*ep, "new registration", 8, 0);
    t.wait(&*ep, "ET: once", 8, 0);
}}

diff_exclusive! { fn registration_outlives_close_while_a_dup_is_open(t) {
    // Linux keys a registration by (file, fd number) and drops it only when the *file* is
    // released: a dup keeps it alive, and it keeps reporting with the old data.
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    let n = fd(&b);
    t.ctl(&*ep, "b LT", Add, n, Some((IN, 5)));
    let b2 = dup(n);
    drop(b);
    put(&a, b"x");
    t.wait(&*ep, "data for the file (number closed, dup open)", 8, 0);
    t.ctl(&*ep, "del of the closed number", Del, n, None);
    t.ctl(&*ep, "add of the dup", Add, fd(&b2), Some((IN, 6)));
    t.wait(&*ep, "both registrations", 8, 0);
    drop(b2);
    t.wait(&*ep, "after the last reference is closed", 8, 0);
}}

// =============================================================================================
// TCP loopback

diff! { fn tcp_listener_is_readable_on_incoming_connection(t) {
    let ep = t.new_ep();
    let l = tcp_listener();
    t.ctl(&*ep, "listener", Add, fd(&l), Some((IN | OUT | RDHUP, 1)));
    t.wait(&*ep, "no connection", 8, 0);
    let _c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    t.note("connection arrived", poll_until(fd(&l), IN, 2000));
    t.wait(&*ep, "pending connection", 8, 0);
    t.wait(&*ep, "LT: again", 8, 0);
    let (_s, _) = l.accept().unwrap();
    t.wait(&*ep, "accepted", 8, 0);
    t.ctl(&*ep, "listener ET", Mod, fd(&l), Some((IN | ET, 2)));
    let _c2 = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    t.note("second connection arrived", poll_until(fd(&l), IN, 2000));
    t.wait(&*ep, "second pending connection, ET", 8, 0);
    t.wait(&*ep, "ET: once", 8, 0);
}}

diff! { fn tcp_stream_reports_in_on_data_and_rdhup_on_peer_shutdown(t) {
    let ep = t.new_ep();
    let (c, s) = tcp_pair();
    t.ctl(&*ep, "server stream", Add, fd(&s), Some((IN | OUT | RDHUP, 1)));
    t.wait(&*ep, "writable", 8, 0);
    put(&c, b"hello");
    t.note("data arrived", poll_until(fd(&s), IN, 2000));
    t.wait(&*ep, "data", 8, 0);
    t.note("bytes", drain(&s));
    t.wait(&*ep, "drained", 8, 0);
    shutdown_write(&c);
    t.note("FIN arrived", poll_until(fd(&s), RDHUP, 2000));
    t.wait(&*ep, "peer shut down writing", 8, 0);
    t.wait(&*ep, "LT: again", 8, 0);
    t.ctl(&*ep, "ET", Mod, fd(&s), Some((IN | OUT | RDHUP | ET, 2)));
    t.wait(&*ep, "ET after mod", 8, 0);
    t.wait(&*ep, "ET: once", 8, 0);
    shutdown_write(&s);
    t.note("both shut", poll_until(fd(&s), HUP, 2000));
    t.ctl(&*ep, "all bits LT", Mod, fd(&s), Some((IN | OUT | RDHUP | PRI | RDNORM | WRNORM, 3)));
    t.wait(&*ep, "both directions shut", 8, 0);
}}

diff! { fn tcp_urgent_data_reports_pri_with_in_edge_triggered(t) {
    let ep = t.new_ep();
    let (c, s) = tcp_pair();
    t.ctl(&*ep, "server stream", Add, fd(&s), Some((IN | OUT | RDHUP | PRI | ET, 1)));
    t.wait(&*ep, "writable", 8, 0);
    put(&c, b"abc");
    t.note("oob sent", socket_send_oob(&c, b"!"));
    put(&c, b"def");
    t.note("urgent data arrived", poll_until(fd(&s), PRI, 2000));
    t.wait(&*ep, "data and urgent data", 8, 0);
    t.wait(&*ep, "ET: once", 8, 0);
}}

/// `harvest` (the runtime's path) reports the kernel's bits too: IN is not hidden behind PRI.
#[test]
fn harvest_reports_in_alongside_pri_as_the_kernel_does() {
    let (c, s) = tcp_pair();
    let interest = IN | OUT | RDHUP | PRI | ET;
    let kernel = KernelEp::new().unwrap();
    kernel.ctl(CtlOp::Add, fd(&s), Some((interest, 1))).unwrap();
    let ep = EventPoll::new().unwrap();
    ep.ctl(CtlOp::Add, fd(&s), Some(EpollEvent::new(Events::from_bits_retain(interest), 1))).unwrap();
    let mut seen = Vec::new();
    ep.harvest(8, Some(Duration::ZERO), |_, _| {}).unwrap();
    kernel.wait(8, 0).unwrap();
    put(&c, b"abc");
    socket_send_oob(&c, b"!").unwrap();
    assert!(poll_until(fd(&s), PRI, 2000));
    ep.harvest(8, Some(Duration::ZERO), |ev, data| seen.push(Ev(ev.bits(), data))).unwrap();
    let expected = kernel.wait(8, 0).unwrap();
    assert!(expected.iter().all(|e| e.0 & IN != 0 && e.0 & PRI != 0), "the kernel reports IN and PRI: {expected:?}");
    assert_eq!(seen, expected);
}

diff! { fn tcp_reset_reports_err_and_hup(t) {
    let ep = t.new_ep();
    let (c, s) = tcp_pair();
    t.ctl(&*ep, "server stream", Add, fd(&s), Some((IN | OUT | RDHUP, 1)));
    t.wait(&*ep, "writable", 8, 0);
    set_linger0(fd(&c));
    drop(c);
    t.note("RST arrived", poll_until(fd(&s), ERR | HUP, 2000));
    t.wait(&*ep, "reset", 8, 0);
    t.wait(&*ep, "LT: again", 8, 0);
    let mut buf = [0u8; 16];
    let r = read_fd(fd(&s), &mut buf);
    t.note("read", res_str(&r));
    t.wait(&*ep, "after the error was consumed", 8, 0);
}}

diff! { fn tcp_refused_connect_reports_err_and_hup(t) {
    let port = tcp_listener().local_addr().unwrap().port(); // closed again at once
    // SAFETY: plain syscall.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    assert!(sock >= 0);
    // SAFETY: fresh descriptor we own.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(sock) };
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes([127, 0, 0, 1]) },
        sin_zero: [0; 8],
    };
    let ep = t.new_ep();
    // SAFETY: addr is a live sockaddr_in of the size passed.
    let r = unsafe {
        libc::connect(fd(&sock), (&addr as *const libc::sockaddr_in).cast(), std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t)
    };
    let _ = r;
    t.note("refused", poll_until(fd(&sock), ERR | HUP, 2000));
    t.ctl(&*ep, "refused socket", Add, fd(&sock), Some((IN | OUT | RDHUP | ET, 1)));
    t.wait(&*ep, "refused connect", 8, 0);
    t.wait(&*ep, "ET: once", 8, 0);
}}

// =============================================================================================
// Pipes, eventfds, datagram sockets

diff! { fn pipe_ends_report_in_out_and_hup(t) {
    let ep = t.new_ep();
    let (r, w) = pipe();
    t.ctl(&*ep, "read end", Add, fd(&r), Some((IN | OUT | RDHUP, 1)));
    t.ctl(&*ep, "write end", Add, fd(&w), Some((IN | OUT, 2)));
    t.wait(&*ep, "empty pipe", 8, 0);
    put(&w, b"x");
    t.wait(&*ep, "one byte", 8, 0);
    t.note("filled", fill(&w) > 0);
    t.wait(&*ep, "full", 8, 0);
    drain(&r);
    t.wait(&*ep, "drained", 8, 0);
    drop(w);
    t.wait(&*ep, "writer closed", 8, 0);
}}

diff! { fn pipe_et_out_edges_when_space_frees(t) {
    let ep = t.new_ep();
    let (r, w) = pipe();
    t.ctl(&*ep, "write end ET", Add, fd(&w), Some((OUT | ET, 1)));
    t.wait(&*ep, "writable", 8, 0);
    t.note("filled", fill(&w) > 0);
    t.wait(&*ep, "full", 8, 0);
    let mut small = [0u8; 100];
    read_fd(fd(&r), &mut small).unwrap();
    t.wait(&*ep, "100 bytes read from a full pipe", 8, 0);
    drain(&r);
    t.wait(&*ep, "drained", 8, 0);
    t.wait(&*ep, "once", 8, 0);
}}

diff! { fn eventfd_is_writable_until_its_counter_saturates(t) {
    let ep = t.new_ep();
    let e = eventfd(0);
    t.ctl(&*ep, "e", Add, fd(&e), Some((IN | OUT, 1)));
    t.wait(&*ep, "counter 0", 8, 0);
    efd_add(&e, 1).unwrap();
    t.wait(&*ep, "counter 1", 8, 0);
    efd_add(&e, u64::MAX - 2).unwrap();
    t.wait(&*ep, "counter at its maximum", 8, 0);
    efd_take(&e);
    t.wait(&*ep, "counter read", 8, 0);
}}

diff! { fn dgram_socketpair_bits(t) {
    let ep = t.new_ep();
    let (a, b) = dgram_pair();
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN | OUT | RDHUP, 1)));
    t.wait(&*ep, "idle", 8, 0);
    put(&a, b"x");
    put(&a, b"y");
    t.wait(&*ep, "two datagrams", 8, 0);
    let mut buf = [0u8; 8];
    read_fd(fd(&b), &mut buf).unwrap();
    t.wait(&*ep, "one read", 8, 0);
    drain(&b);
    t.wait(&*ep, "drained", 8, 0);
    shutdown_fd(fd(&b), libc::SHUT_RD);
    t.wait(&*ep, "own read side shut", 8, 0);
    drop(a);
    t.wait(&*ep, "peer closed", 8, 0);
}}

diff! { fn stream_socketpair_shutdown_bits(t) {
    let ep = t.new_ep();
    let (a, b) = stream_pair();
    t.ctl(&*ep, "b", Add, fd(&b), Some((IN | OUT | RDHUP | PRI, 1)));
    t.wait(&*ep, "idle", 8, 0);
    shutdown_fd(fd(&a), libc::SHUT_WR);
    t.wait(&*ep, "peer shut writing", 8, 0);
    shutdown_fd(fd(&b), libc::SHUT_WR);
    t.wait(&*ep, "both shut", 8, 0);
    drop(a);
    t.wait(&*ep, "peer closed", 8, 0);
}}

// =============================================================================================
// User-space-only: the per-owner watch limit (the kernel's max_user_watches cannot be lowered
// per test, so this asserts ours alone, with the errnos Linux documents for epoll_ctl(2)).

fn errno_of(r: io::Result<()>) -> Option<i32> {
    r.err().and_then(|e| e.raw_os_error())
}

#[test]
fn watch_owner_limit_makes_third_add_enospc() {
    let _g = shared_guard();
    let owner = WatchOwner::new(2);
    let ep = EventPoll::with_owner(owner.clone()).unwrap();
    let ev = |d| Some(reactor::EpollEvent::new(reactor::Events::IN, d));
    let (_a, b) = stream_pair();
    let (_c, d) = stream_pair();
    let (_e, f) = stream_pair();
    assert_eq!(errno_of(ep.ctl(CtlOp::Add, fd(&b), ev(1))), None);
    assert_eq!(errno_of(ep.ctl(CtlOp::Add, fd(&d), ev(2))), None);
    assert_eq!(owner.watches(), 2);
    assert_eq!(errno_of(ep.ctl(CtlOp::Add, fd(&f), ev(3))), Some(libc::ENOSPC), "third add");
    assert_eq!(owner.watches(), 2);
    // The failed add left nothing behind, here or in the OS poller.
    assert_eq!(errno_of(ep.ctl(CtlOp::Mod, fd(&f), ev(3))), Some(libc::ENOENT));
    assert_eq!(errno_of(ep.ctl(CtlOp::Del, fd(&f), None)), Some(libc::ENOENT));
    // Errors Linux detects before the limit keep their errno at the limit.
    assert_eq!(errno_of(ep.ctl(CtlOp::Add, fd(&b), ev(1))), Some(libc::EEXIST));
    assert_eq!(errno_of(ep.ctl(CtlOp::Add, fd(&temp_file()), ev(1))), Some(libc::EPERM));
    assert_eq!(errno_of(ep.ctl(CtlOp::Add, -1, ev(1))), Some(libc::EBADF));
    // Mod does not charge.
    assert_eq!(errno_of(ep.ctl(CtlOp::Mod, fd(&b), ev(11))), None);
    // Del refunds.
    assert_eq!(errno_of(ep.ctl(CtlOp::Del, fd(&b), None)), None);
    assert_eq!(owner.watches(), 1);
    assert_eq!(errno_of(ep.ctl(CtlOp::Add, fd(&f), ev(3))), None);
    assert_eq!(owner.watches(), 2);
    // The limit is per owner, across instances.
    let ep2 = EventPoll::with_owner(owner.clone()).unwrap();
    assert_eq!(errno_of(ep2.ctl(CtlOp::Add, fd(&b), ev(4))), Some(libc::ENOSPC), "second instance, same owner");
    let other = EventPoll::with_owner(WatchOwner::new(1)).unwrap();
    assert_eq!(errno_of(other.ctl(CtlOp::Add, fd(&b), ev(5))), None, "other owner");
    // Dropping an instance refunds its registrations.
    drop(ep);
    assert_eq!(owner.watches(), 0);
    assert_eq!(errno_of(ep2.ctl(CtlOp::Add, fd(&b), ev(4))), None);
    assert_eq!(owner.watches(), 1);
}

/// Documented divergence (crate docs, "user events and descriptor events in one wait"): Linux
/// reports in wake-up order (shown with the kernel backend's user event, an eventfd written at
/// the trigger); `EventPoll` reports triggered user events first.
#[test]
fn user_events_are_reported_ahead_of_descriptor_events_woken_before_them() {
    let _g = shared_guard();
    let mut got = Vec::new();
    for backend in [Backend::Kernel, Backend::Ours] {
        let ep = backend.new_ep();
        let (a, b) = stream_pair();
        ep.ctl(Add, fd(&b), Some((IN | ET, 1))).unwrap();
        put(&a, b"x");
        let u = ep.user_event(2);
        u.trigger();
        got.push(datas(&ep.wait(8, 0).unwrap()));
    }
    assert_eq!(got[0], vec![1, 2], "Linux: wake-up order");
    assert_eq!(got[1], vec![2, 1], "EventPoll: the user event first");
}

/// Documented divergence (crate docs, "a counting user event ... on an instance whose descriptor
/// was handed out"): a harvest that reports it, polls the OS and leaves units gives an ET watcher
/// one more edge; Linux's analogue (an `EFD_SEMAPHORE` eventfd, LT, one unit read per report)
/// gives none.
#[test]
fn a_counting_user_event_left_with_units_gives_an_et_watcher_an_edge_per_harvest() {
    let _g = shared_guard();
    // Linux.
    let inner = KernelEp::new().unwrap();
    // SAFETY: plain syscall; the result is checked and owned below.
    let sem = unsafe { libc::eventfd(0, libc::EFD_SEMAPHORE | libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    assert!(sem >= 0);
    // SAFETY: a fresh descriptor we own.
    let sem = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(sem) };
    inner.ctl(Add, fd(&sem), Some((IN, 7))).unwrap();
    let watcher = KernelEp::new().unwrap();
    watcher.ctl(Add, inner.as_raw_fd(), Some((IN | ET, 1))).unwrap();
    for _ in 0..3 {
        efd_add(&sem, 1).unwrap();
    }
    assert_eq!(datas(&watcher.wait(8, 0).unwrap()), vec![1]);
    assert_eq!(datas(&inner.wait(8, 0).unwrap()), vec![7]);
    let mut unit = [0u8; 8];
    assert_eq!(read_fd(sem.as_raw_fd(), &mut unit).unwrap(), 8);
    assert!(watcher.wait(8, 0).unwrap().is_empty(), "Linux: the LT re-queue wakes nobody");
    // EventPoll.
    let ep = EventPoll::new().unwrap();
    let sem = ep.user_semaphore(7).unwrap();
    let watcher = KernelEp::new().unwrap();
    watcher.ctl(Add, ep.as_raw_fd(), Some((IN | ET, 1))).unwrap();
    for _ in 0..3 {
        sem.trigger();
    }
    assert_eq!(datas(&watcher.wait(8, 0).unwrap()), vec![1]);
    let mut buf = [EpollEvent::default(); 8];
    assert_eq!(ep.wait(&mut buf, 0).unwrap(), 1, "one unit, two left");
    assert_eq!(datas(&watcher.wait(8, 0).unwrap()), vec![1], "the extra edge");
    assert_eq!(ep.wait(&mut buf[..1], 0).unwrap(), 1, "one unit; no room to poll the OS");
    assert!(watcher.wait(8, 0).unwrap().is_empty(), "no edge from a harvest that did not poll the OS");
    assert_ne!(poll_bits(ep.as_raw_fd()) & IN, 0, "a unit is left: readable");
    assert_eq!(ep.wait(&mut buf, 0).unwrap(), 1, "the last unit");
    assert!(watcher.wait(8, 0).unwrap().is_empty(), "none once no unit is left");
    assert_eq!(poll_bits(ep.as_raw_fd()) & IN, 0);
}

#[test]
fn watch_owner_limit_counts_user_events() {
    let _g = shared_guard();
    let owner = WatchOwner::new(1);
    let ep = EventPoll::with_owner(owner.clone()).unwrap();
    let ue = ep.user_event(7).unwrap();
    let (_a, b) = stream_pair();
    let ev = Some(reactor::EpollEvent::new(reactor::Events::IN, 1));
    assert_eq!(errno_of(ep.ctl(CtlOp::Add, fd(&b), ev)), Some(libc::ENOSPC));
    assert_eq!(errno_of(ep.user_event(8).map(drop)), Some(libc::ENOSPC));
    drop(ue);
    assert_eq!(owner.watches(), 0);
    assert_eq!(errno_of(ep.ctl(CtlOp::Add, fd(&b), ev)), None);
}

diff_exclusive! { fn watch_owner_refunds_registration_dropped_by_close_and_reuse(t) {
    // Differential part: the kernel accepts the re-add after close (its registration died at
    // close). Ours must also have refunded the stale one: with a limit of 1 the re-add must not
    // be ENOSPC.
    let owner = WatchOwner::new(1);
    let ep = t.backend.new_ep_with_owner(&owner);
    let e = eventfd(1);
    let n = fd(&e);
    t.ctl(&*ep, "e", Add, n, Some((IN, 1)));
    drop(e);
    let f = eventfd_at(n, 1);
    t.note("new eventfd reuses the number", fd(&f) == n);
    t.ctl(&*ep, "add reused number (limit 1 for ours)", Add, n, Some((IN, 2)));
    t.wait(&*ep, "new registration", 8, 0);
    if t.backend == Backend::Ours {
        assert_eq!(owner.watches(), 1, "stale registration refunded, new one charged");
    }
}}

diff_exclusive! { fn watch_owner_refunds_registration_of_closed_fd(t) {
    // Linux frees a registration, and its watch, when the file is closed. With a limit of 1 for
    // ours, an idle registration closed without Del must not keep the only watch charged: the
    // kernel accepts the next add of another file, so must ours.
    let owner = WatchOwner::new(1);
    let ep = t.backend.new_ep_with_owner(&owner);
    let e = eventfd(0);
    let g = eventfd(0);
    t.ctl(&*ep, "e (idle)", Add, fd(&e), Some((IN, 1)));
    drop(e);
    t.wait(&*ep, "after closing e without del", 8, 0);
    t.ctl(&*ep, "g, another file and number (limit 1 for ours)", Add, fd(&g), Some((IN, 2)));
    efd_add(&g, 1).unwrap();
    t.wait(&*ep, "g", 8, 0);
}}
