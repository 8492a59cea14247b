//! `EventPoll::metrics` counts exactly what a scripted sequence of calls did, and
//! `EventPoll::fdinfo` shows each registration's mode and state after `ctl` steps.

use reactor::{CtlOp, EpollEvent, EventPoll, Events, Mode, RegState};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

fn wait(ep: &EventPoll) -> Vec<EpollEvent> {
    let mut buf = [EpollEvent::default(); 16];
    let n = ep.wait(&mut buf, 0).unwrap();
    buf[..n].to_vec()
}

#[test]
fn metrics_count_a_scripted_sequence_exactly() {
    let ep = EventPoll::new().unwrap();
    let (a, a_peer) = UnixStream::pair().unwrap();
    let (b, b_peer) = UnixStream::pair().unwrap();
    ep.ctl(CtlOp::Add, a.as_raw_fd(), Some(EpollEvent::new(Events::IN, 1))).unwrap();
    ep.ctl(CtlOp::Add, b.as_raw_fd(), Some(EpollEvent::new(Events::IN | Events::ET, 2))).unwrap();
    let user = ep.user_event(3).unwrap();
    assert_eq!(ep.ctl(CtlOp::Add, a.as_raw_fd(), Some(EpollEvent::new(Events::IN, 1))).unwrap_err().raw_os_error(), Some(libc::EEXIST));
    let m = ep.metrics();
    assert_eq!((m.registrations, m.registrations_added), (3, 3), "a failed Add is not counted");
    assert_eq!((m.harvests, m.os_polls, m.user_triggers), (0, 0, 0));

    // Nothing ready: one OS poll, no harvest (nothing was queued).
    assert!(wait(&ep).is_empty());
    let m = ep.metrics();
    assert_eq!((m.os_polls, m.os_events, m.harvests), (1, 0, 0));

    // Both descriptors ready: one OS poll returning 2, one harvest of 2, the LT one re-queued.
    (&a_peer).write_all(b"x").unwrap();
    (&b_peer).write_all(b"x").unwrap();
    assert_eq!(wait(&ep).len(), 2);
    let m = ep.metrics();
    assert_eq!((m.os_polls, m.os_events, m.harvests, m.events_reported), (2, 2, 1, 2));
    assert_eq!(m.harvest_histogram, [0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(m.lt_requeues, 1);

    // A trigger: the user event and the still readable LT descriptor.
    user.trigger();
    user.trigger();
    let got = wait(&ep);
    assert_eq!(got.len(), 2, "{got:?}");
    let m = ep.metrics();
    assert_eq!((m.user_triggers, m.os_polls, m.harvests, m.events_reported, m.lt_requeues), (2, 3, 2, 4, 2));
    assert_eq!(m.harvest_histogram[2], 2);
    assert_eq!(m.overflow_uses, 0, "one thread: nothing arrives during a scan");

    drop(user);
    ep.ctl(CtlOp::Del, a.as_raw_fd(), None).unwrap();
    let m = ep.metrics();
    assert_eq!((m.registrations, m.registrations_added), (1, 3));
}

#[test]
fn a_counting_user_event_with_units_left_is_a_requeue() {
    let ep = EventPoll::new().unwrap();
    let sem = ep.user_semaphore(9).unwrap();
    for _ in 0..3 {
        sem.trigger();
    }
    let mut one = [EpollEvent::default(); 1];
    for _ in 0..3 {
        assert_eq!(ep.wait(&mut one, 0).unwrap(), 1);
    }
    let m = ep.metrics();
    assert_eq!((m.user_triggers, m.harvests, m.lt_requeues), (3, 3, 2));
    assert_eq!(m.os_polls, 0, "our list filled the one-slot buffer: the OS was not asked");
}

#[test]
fn fdinfo_shows_modes_and_states_after_ctl_steps() {
    let ep = EventPoll::new().unwrap();
    let (lt, lt_peer) = UnixStream::pair().unwrap();
    let (et, _et_peer) = UnixStream::pair().unwrap();
    let (one, one_peer) = UnixStream::pair().unwrap();
    let (excl, _excl_peer) = UnixStream::pair().unwrap();
    let (orphan, _orphan_peer) = UnixStream::pair().unwrap();
    ep.ctl(CtlOp::Add, lt.as_raw_fd(), Some(EpollEvent::new(Events::IN, 0x10))).unwrap();
    ep.ctl(CtlOp::Add, et.as_raw_fd(), Some(EpollEvent::new(Events::IN | Events::ET, 0x20))).unwrap();
    ep.ctl(CtlOp::Add, one.as_raw_fd(), Some(EpollEvent::new(Events::IN | Events::ONESHOT, 0x30))).unwrap();
    ep.ctl(CtlOp::Add, excl.as_raw_fd(), Some(EpollEvent::new(Events::IN | Events::EXCLUSIVE, 0x40))).unwrap();
    let orphan_fd = orphan.as_raw_fd();
    ep.ctl(CtlOp::Add, orphan_fd, Some(EpollEvent::new(Events::IN, 0x50))).unwrap();
    let first = ep.user_event(0x60).unwrap();
    let second = ep.user_semaphore(0x70).unwrap();

    let info = ep.fdinfo();
    assert_eq!(info.registrations.len(), 7);
    let r = info.get(lt.as_raw_fd()).unwrap();
    assert_eq!((r.mode, r.state, r.data, r.events), (Mode::Level, RegState::Idle, 0x10, Events::IN | Events::ERR | Events::HUP));
    assert_eq!(info.get(et.as_raw_fd()).unwrap().mode, Mode::Edge);
    assert_eq!(info.get(one.as_raw_fd()).unwrap().mode, Mode::OneShot);
    let r = info.get(excl.as_raw_fd()).unwrap();
    assert_eq!((r.mode, r.exclusive), (Mode::Level, true));

    // The ONESHOT item fires once: disarmed, its interest reduced to its flags.
    (&one_peer).write_all(b"x").unwrap();
    (&lt_peer).write_all(b"x").unwrap();
    assert_eq!(wait(&ep).len(), 2);
    let r = *ep.fdinfo().get(one.as_raw_fd()).unwrap();
    assert_eq!((r.state, r.events), (RegState::Disarmed, Events::ONESHOT));
    // `Mod` re-arms it.
    ep.ctl(CtlOp::Mod, one.as_raw_fd(), Some(EpollEvent::new(Events::IN | Events::ONESHOT, 0x31))).unwrap();
    let r = *ep.fdinfo().get(one.as_raw_fd()).unwrap();
    assert_eq!((r.state, r.data), (RegState::Idle, 0x31));

    // Triggered user events wait on the instance's ready list, in trigger order.
    second.trigger();
    first.trigger();
    let info = ep.fdinfo();
    let queued: Vec<_> =
        info.registrations.iter().filter(|r| matches!(r.state, RegState::Queued(_))).map(|r| (r.data, r.mode, r.state)).collect();
    assert_eq!(queued, vec![(0x70, Mode::Counting, RegState::Queued(0)), (0x60, Mode::Edge, RegState::Queued(1))]);

    // The number closed while a dup keeps the file open: `Mod` fails and the item is an orphan.
    let dup = orphan.try_clone().unwrap();
    drop(orphan);
    assert!(ep.ctl(CtlOp::Mod, orphan_fd, Some(EpollEvent::new(Events::IN, 0x51))).is_err());
    let info = ep.fdinfo();
    let r = info.registrations.iter().find(|r| r.data == 0x50).unwrap();
    assert_eq!(r.state, RegState::Orphan);

    // The text format: fdinfo's `tfd: events: data:` columns, then ours.
    let text = info.to_string();
    let expected = format!("tfd: {:8} events: 40000019 data: {:16x}  mode:ONESHOT state:idle", one.as_raw_fd(), 0x31);
    assert!(text.lines().any(|l| l == expected), "{text}");
    assert!(text.lines().next().unwrap().starts_with(&format!("tfd:     user events:       19 data: {:16x}", 0x70)), "{text}");
    assert!(text.contains("mode:COUNT state:queued rdpos:0"), "{text}");
    assert!(text.contains("mode:LT|EXCLUSIVE state:idle"), "{text}");
    drop(dup);
}
