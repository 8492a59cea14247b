//! Seeing inside an instance: counters ([`EventPoll::metrics`]) and a registration table in the
//! format of `/proc/PID/fdinfo/N` of an epoll ([`EventPoll::fdinfo`]).
//!
//! Cost when nobody looks: the counters are plain integers in the state `ep->lock` protects
//! (`Counters`), bumped inside critical sections that already run — a trigger, an OS poll, a
//! harvest's report —, so counting adds no atomic, no lock and no system call. Reading them
//! takes that lock once.
//!
//! ```text
//!  UserEvent::trigger ─────────── user_triggers += 1            (under lock)
//!  State::queue while a scan runs ─ overflow_uses += 1          (under lock)
//!  poll_os ─────────────────────── os_polls += 1, os_events += n (under lock, after epoll_wait)
//!  send_events ─────────────────── harvests += 1, histogram[log2(reported)] += 1,
//!                                  lt_requeues += LT items reported (under lock, scan end)
//!  ctl(Add) / user_event ───────── registrations_added += 1     (under lock)
//! ```

use crate::events::Events;
use crate::item::{Item, Source};
use std::fmt;
use std::os::fd::RawFd;

/// Buckets of the events-per-harvest histogram: `0`, `1`, `2..=3`, `4..=7`, …, `128..`.
pub const HARVEST_BUCKETS: usize = 9;

/// The counters an instance keeps under its `lock` (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counters {
    pub(crate) registrations_added: u64,
    pub(crate) harvests: u64,
    pub(crate) events_reported: u64,
    pub(crate) histogram: [u64; HARVEST_BUCKETS],
    pub(crate) os_polls: u64,
    pub(crate) os_events: u64,
    pub(crate) user_triggers: u64,
    pub(crate) overflow_uses: u64,
    pub(crate) lt_requeues: u64,
}

impl Counters {
    /// Records the end of a scan that reported `reported` events.
    pub(crate) fn harvested(&mut self, reported: usize) {
        self.harvests += 1;
        self.events_reported += reported as u64;
        self.histogram[bucket(reported)] += 1;
    }
}

/// The histogram bucket of a harvest that reported `n` events.
fn bucket(n: usize) -> usize {
    match n {
        0 => 0,
        n => ((usize::BITS - n.leading_zeros()) as usize).min(HARVEST_BUCKETS - 1),
    }
}

/// What an [`EventPoll`](crate::EventPoll) counted since it was created
/// ([`EventPoll::metrics`](crate::EventPoll::metrics)).
///
/// ```
/// use reactor::{EventPoll, EpollEvent};
/// let ep = EventPoll::new()?;
/// let ev = ep.user_event(1)?;
/// ev.trigger();
/// let mut buf = [EpollEvent::default(); 4];
/// assert_eq!(ep.wait(&mut buf, 0)?, 1);
/// let m = ep.metrics();
/// assert_eq!((m.user_triggers, m.harvests, m.events_reported), (1, 1, 1));
/// assert_eq!(m.harvest_histogram[1], 1); // one harvest of exactly one event
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventPollMetrics {
    /// Registrations now (descriptors, orphans included, and user events).
    pub registrations: u64,
    /// Registrations ever added (`Add`s that succeeded, user events created).
    pub registrations_added: u64,
    /// Scans of the ready list (`ep_send_events`): one per wait that found something queued.
    pub harvests: u64,
    /// Events the harvests reported.
    pub events_reported: u64,
    /// Harvests by events reported: bucket 0 counts empty harvests (everything sampled was not
    /// ready any more), bucket `b >= 1` harvests of `2^(b-1) ..= 2^b - 1` events, the last one
    /// everything from 128 up.
    pub harvest_histogram: [u64; HARVEST_BUCKETS],
    /// `epoll_wait` calls on the OS epoll.
    pub os_polls: u64,
    /// Events those calls returned (wake-ups of the instance's own eventfd included).
    pub os_events: u64,
    /// [`UserEvent::trigger`](crate::UserEvent::trigger) calls.
    pub user_triggers: u64,
    /// Items that became ready while a harvest ran and went to the overflow list.
    pub overflow_uses: u64,
    /// Level-triggered items reported and left queued (a descriptor the OS put back at the tail
    /// of its ready list, a counting user event with units left).
    pub lt_requeues: u64,
}

impl EventPollMetrics {
    pub(crate) fn new(c: &Counters, registrations: usize) -> EventPollMetrics {
        EventPollMetrics {
            registrations: registrations as u64,
            registrations_added: c.registrations_added,
            harvests: c.harvests,
            events_reported: c.events_reported,
            harvest_histogram: c.histogram,
            os_polls: c.os_polls,
            os_events: c.os_events,
            user_triggers: c.user_triggers,
            overflow_uses: c.overflow_uses,
            lt_requeues: c.lt_requeues,
        }
    }

    /// The lower bound of histogram bucket `b` (events per harvest).
    pub fn bucket_start(b: usize) -> u64 {
        match b {
            0 => 0,
            b => 1 << (b - 1),
        }
    }
}

/// How a registration reports ([`RegistrationInfo::mode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Level-triggered: reported while ready.
    Level,
    /// Edge-triggered (`EPOLLET`): reported once per new readiness.
    Edge,
    /// `EPOLLONESHOT`: reported once, then disarmed until `Mod`.
    OneShot,
    /// A counting user event ([`EventPoll::user_semaphore`](crate::EventPoll::user_semaphore)).
    Counting,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Level => "LT",
            Mode::Edge => "ET",
            Mode::OneShot => "ONESHOT",
            Mode::Counting => "COUNT",
        })
    }
}

/// Where a registration is in the ready-list state machine ([`RegistrationInfo::state`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegState {
    /// On the instance's own ready list, at this position (0 = reported first). Descriptor
    /// readiness the OS has not handed over yet sits on the OS epoll's list, which the instance
    /// does not see: such an item shows as [`Idle`](RegState::Idle).
    Queued(usize),
    /// Armed, not on the instance's ready list.
    Idle,
    /// A ONESHOT registration that fired: silent until `Mod` re-arms it.
    Disarmed,
    /// Its descriptor number was closed while another descriptor keeps the file open: out of
    /// the interest table, still reporting the old file (epoll(7), Q6).
    Orphan,
}

impl fmt::Display for RegState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegState::Queued(_) => f.write_str("queued"),
            RegState::Idle => f.write_str("idle"),
            RegState::Disarmed => f.write_str("disarmed"),
            RegState::Orphan => f.write_str("orphan"),
        }
    }
}

/// One registration, as `/proc/PID/fdinfo` shows an epoll's `tfd` lines, plus our fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistrationInfo {
    /// The registered descriptor (`tfd`); `None` for a user event.
    pub fd: Option<RawFd>,
    /// The interest and flags as given to `ctl` (with `ERR | HUP`); a fired ONESHOT keeps only
    /// its flags, as in the kernel.
    pub events: Events,
    /// The caller's data.
    pub data: u64,
    /// How it reports.
    pub mode: Mode,
    /// Given `EPOLLEXCLUSIVE`.
    pub exclusive: bool,
    /// Where it is in the ready-list state machine.
    pub state: RegState,
}

impl RegistrationInfo {
    pub(crate) fn new(item: &Item, queued: Option<usize>) -> RegistrationInfo {
        let events = item.events;
        let user = item.source() == Source::User;
        let mode = if events.contains(Events::ONESHOT) {
            Mode::OneShot
        } else if events.contains(Events::ET) {
            Mode::Edge
        } else if user {
            Mode::Counting
        } else {
            Mode::Level
        };
        let state = if item.orphan {
            RegState::Orphan
        } else if let Some(pos) = queued {
            RegState::Queued(pos)
        } else if !item.is_armed() {
            RegState::Disarmed
        } else {
            RegState::Idle
        };
        let fd = match item.source() {
            Source::Fd(fd) => Some(fd),
            Source::User => None,
        };
        RegistrationInfo { fd, events, data: item.data, mode, exclusive: events.contains(Events::EXCLUSIVE), state }
    }
}

impl fmt::Display for RegistrationInfo {
    /// `tfd: %8d events: %8x data: %16llx` as Linux prints it, then `mode:`, `state:` and, for a
    /// queued item, `rdpos:` (a user event prints `tfd:     user`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fd {
            Some(fd) => write!(f, "tfd: {fd:8}")?,
            None => write!(f, "tfd: {:>8}", "user")?,
        }
        write!(f, " events: {:8x} data: {:16x}  mode:{}", self.events.bits(), self.data, self.mode)?;
        if self.exclusive {
            f.write_str("|EXCLUSIVE")?;
        }
        write!(f, " state:{}", self.state)?;
        if let RegState::Queued(pos) = self.state {
            write!(f, " rdpos:{pos}")?;
        }
        Ok(())
    }
}

/// Every registration of an instance ([`EventPoll::fdinfo`](crate::EventPoll::fdinfo)):
/// queued items first, in ready-list order, then the others by descriptor (user events last).
/// `Display` prints one `tfd:` line each, as `/proc/PID/fdinfo/N` of an epoll does.
///
/// ```
/// use reactor::{CtlOp, EpollEvent, EventPoll, Events, RegState};
/// use std::os::fd::AsRawFd;
/// let ep = EventPoll::new()?;
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// ep.ctl(CtlOp::Add, a.as_raw_fd(), Some(EpollEvent::new(Events::IN | Events::ET, 0x2a)))?;
/// let info = ep.fdinfo();
/// assert_eq!(info.registrations[0].state, RegState::Idle);
/// let line = info.to_string();
/// assert!(line.starts_with(&format!("tfd: {:8} events: 80000019 data:", a.as_raw_fd())), "{line}");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FdInfo {
    /// The registrations.
    pub registrations: Vec<RegistrationInfo>,
}

impl FdInfo {
    pub(crate) fn sort(&mut self) {
        self.registrations.sort_by_key(|r| match r.state {
            RegState::Queued(pos) => (0, pos as i64),
            _ => (1, r.fd.map_or(i64::MAX, i64::from)),
        });
    }

    /// The registration of `fd` in the interest table (an orphan of the same number comes
    /// after it, if any).
    pub fn get(&self, fd: RawFd) -> Option<&RegistrationInfo> {
        self.registrations.iter().find(|r| r.fd == Some(fd) && r.state != RegState::Orphan)
    }
}

impl fmt::Display for FdInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.registrations {
            writeln!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn harvest_buckets_are_powers_of_two() {
        let b: Vec<usize> = [0, 1, 2, 3, 4, 7, 8, 127, 128, 100_000].into_iter().map(bucket).collect();
        assert_eq!(b, vec![0, 1, 2, 2, 3, 3, 4, 7, 8, 8]);
        for i in 1..HARVEST_BUCKETS {
            assert_eq!(bucket(EventPollMetrics::bucket_start(i) as usize), i);
        }
    }
}
