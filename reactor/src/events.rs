//! The epoll vocabulary: event bits ([`Events`]), the event record ([`EpollEvent`]) and the
//! control operations ([`CtlOp`]), with Linux's numeric values so that traces taken from
//! [`EventPoll`](crate::EventPoll) and from kernel epoll compare bit for bit.

use std::fmt;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Not};

/// A set of epoll event bits, with the values of `<sys/epoll.h>`.
///
/// The low bits are *readiness* bits (what a file reports through its `poll` method); the high
/// bits are *flags* that change how a registration behaves ([`Events::ET`], [`Events::ONESHOT`],
/// [`Events::EXCLUSIVE`], [`Events::WAKEUP`]). Unknown bits are retained, as the kernel retains them.
///
/// ```
/// use reactor::Events;
/// let interest = Events::IN | Events::ET;
/// assert!(interest.contains(Events::IN));
/// assert_eq!(interest.bits(), 0x8000_0001);
/// assert_eq!(Events::from_bits_retain(0x8000_0001), interest);
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct Events(u32);

impl Events {
    /// Data other than high-priority data can be read (`EPOLLIN`).
    pub const IN: Events = Events(0x001);
    /// High-priority data can be read, e.g. TCP urgent data (`EPOLLPRI`).
    pub const PRI: Events = Events(0x002);
    /// Writing will not block (`EPOLLOUT`).
    pub const OUT: Events = Events(0x004);
    /// An error condition; always reported, whether asked for or not (`EPOLLERR`).
    pub const ERR: Events = Events(0x008);
    /// Hang-up; always reported, whether asked for or not (`EPOLLHUP`).
    pub const HUP: Events = Events(0x010);
    /// Normal data can be read (`EPOLLRDNORM`).
    pub const RDNORM: Events = Events(0x040);
    /// Priority-band data can be read (`EPOLLRDBAND`).
    pub const RDBAND: Events = Events(0x080);
    /// Normal data can be written (`EPOLLWRNORM`).
    pub const WRNORM: Events = Events(0x100);
    /// Priority-band data can be written (`EPOLLWRBAND`).
    pub const WRBAND: Events = Events(0x200);
    /// Unused by Linux files; accepted and reported if a file ever sets it (`EPOLLMSG`).
    pub const MSG: Events = Events(0x400);
    /// The peer closed its writing half of a stream socket (`EPOLLRDHUP`).
    pub const RDHUP: Events = Events(0x2000);
    /// Exclusive wake-up when several instances watch the same file (`EPOLLEXCLUSIVE`).
    pub const EXCLUSIVE: Events = Events(1 << 28);
    /// Hold a wake lock while the event is pending (`EPOLLWAKEUP`); accepted and ignored.
    pub const WAKEUP: Events = Events(1 << 29);
    /// Disable the registration after one report until `CtlOp::Mod` re-arms it (`EPOLLONESHOT`).
    pub const ONESHOT: Events = Events(1 << 30);
    /// Edge-triggered: report once per new readiness (`EPOLLET`).
    pub const ET: Events = Events(1 << 31);

    /// The readiness bits a file's `poll` can report (everything but the flags).
    pub(crate) const READINESS: Events = Events(0x001 | 0x002 | 0x004 | 0x008 | 0x010 | 0x040 | 0x080 | 0x100 | 0x200 | 0x400 | 0x2000);
    /// The kernel's `EP_PRIVATE_BITS`: what a ONESHOT registration keeps after it fired.
    pub(crate) const PRIVATE: Events = Events(Self::WAKEUP.0 | Self::ONESHOT.0 | Self::ET.0 | Self::EXCLUSIVE.0);

    /// The empty set.
    pub const fn empty() -> Events {
        Events(0)
    }

    /// Builds a set from raw bits, keeping bits this type has no name for.
    pub const fn from_bits_retain(bits: u32) -> Events {
        Events(bits)
    }

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set in `self`.
    pub const fn contains(self, other: Events) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether `self` and `other` share a bit.
    pub const fn intersects(self, other: Events) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The bits of both (`|` in a `const` context).
    pub const fn union(self, other: Events) -> Events {
        Events(self.0 | other.0)
    }

    /// `self` without the bits of `other`.
    pub const fn difference(self, other: Events) -> Events {
        Events(self.0 & !other.0)
    }
}

impl BitOr for Events {
    type Output = Events;
    fn bitor(self, rhs: Events) -> Events {
        Events(self.0 | rhs.0)
    }
}

impl BitOrAssign for Events {
    fn bitor_assign(&mut self, rhs: Events) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Events {
    type Output = Events;
    fn bitand(self, rhs: Events) -> Events {
        Events(self.0 & rhs.0)
    }
}

impl BitAndAssign for Events {
    fn bitand_assign(&mut self, rhs: Events) {
        self.0 &= rhs.0;
    }
}

impl Not for Events {
    type Output = Events;
    fn not(self) -> Events {
        Events(!self.0)
    }
}

const NAMES: [(Events, &str); 15] = [
    (Events::IN, "IN"),
    (Events::PRI, "PRI"),
    (Events::OUT, "OUT"),
    (Events::ERR, "ERR"),
    (Events::HUP, "HUP"),
    (Events::RDNORM, "RDNORM"),
    (Events::RDBAND, "RDBAND"),
    (Events::WRNORM, "WRNORM"),
    (Events::WRBAND, "WRBAND"),
    (Events::MSG, "MSG"),
    (Events::RDHUP, "RDHUP"),
    (Events::EXCLUSIVE, "EXCLUSIVE"),
    (Events::WAKEUP, "WAKEUP"),
    (Events::ONESHOT, "ONESHOT"),
    (Events::ET, "ET"),
];

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
                rest &= !flag.0;
            }
        }
        if rest != 0 {
            if !first {
                f.write_str(" | ")?;
            }
            write!(f, "{rest:#x}")?;
            first = false;
        }
        if first {
            f.write_str("(empty)")?;
        }
        Ok(())
    }
}

/// One event: what happened (or, given to `ctl`, what to watch for) and the caller's `data`.
///
/// The counterpart of the kernel's `struct epoll_event`.
///
/// ```
/// use reactor::{EpollEvent, Events};
/// let ev = EpollEvent::new(Events::IN | Events::ET, 7);
/// assert_eq!((ev.events().bits(), ev.data()), (0x8000_0001, 7));
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default, Debug)]
pub struct EpollEvent {
    events: Events,
    data: u64,
}

impl EpollEvent {
    /// An event with the given bits and user data.
    pub const fn new(events: Events, data: u64) -> EpollEvent {
        EpollEvent { events, data }
    }

    /// The event bits.
    pub const fn events(&self) -> Events {
        self.events
    }

    /// The user data given at registration.
    pub const fn data(&self) -> u64 {
        self.data
    }
}

/// The operation of [`EventPoll::ctl`](crate::EventPoll::ctl): `EPOLL_CTL_ADD`, `_MOD`, `_DEL`.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum CtlOp {
    /// Register a file descriptor (`EPOLL_CTL_ADD`).
    Add,
    /// Change the interest and data of a registration (`EPOLL_CTL_MOD`).
    Mod,
    /// Remove a registration (`EPOLL_CTL_DEL`); the event argument is ignored.
    Del,
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn bits_match_linux_headers() {
        let pairs = [
            (Events::IN, libc::EPOLLIN),
            (Events::PRI, libc::EPOLLPRI),
            (Events::OUT, libc::EPOLLOUT),
            (Events::ERR, libc::EPOLLERR),
            (Events::HUP, libc::EPOLLHUP),
            (Events::RDNORM, libc::EPOLLRDNORM),
            (Events::RDBAND, libc::EPOLLRDBAND),
            (Events::WRNORM, libc::EPOLLWRNORM),
            (Events::WRBAND, libc::EPOLLWRBAND),
            (Events::MSG, libc::EPOLLMSG),
            (Events::RDHUP, libc::EPOLLRDHUP),
            (Events::EXCLUSIVE, libc::EPOLLEXCLUSIVE),
            (Events::WAKEUP, libc::EPOLLWAKEUP),
            (Events::ONESHOT, libc::EPOLLONESHOT),
            (Events::ET, libc::EPOLLET),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours.bits(), theirs as u32, "{ours:?}");
        }
    }

    #[test]
    fn debug_names_every_bit_and_keeps_unknown_ones() {
        assert_eq!(format!("{:?}", Events::IN | Events::ET), "IN | ET");
        assert_eq!(format!("{:?}", Events::from_bits_retain(0x1_0000)), "0x10000");
        assert_eq!(format!("{:?}", Events::empty()), "(empty)");
    }

    #[test]
    fn set_operations() {
        let e = Events::IN | Events::OUT;
        assert!(e.contains(Events::IN) && !e.contains(Events::IN | Events::ERR));
        assert!(e.intersects(Events::OUT | Events::HUP));
        assert_eq!(e & Events::OUT, Events::OUT);
        assert_eq!(e.difference(Events::IN), Events::OUT);
        assert!((e & !e).is_empty());
    }
}
