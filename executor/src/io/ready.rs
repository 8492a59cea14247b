//! [`Interest`] (what a registration waits for) and [`Ready`] (what the reactor reported).

use reactor::Events;
use std::fmt;
use std::ops;

/// The readiness a registration waits for: readable, writable, priority, or a union.
///
/// ```
/// use executor::io::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable() && !both.is_priority());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Readable: data to read, a peer that closed, or a pending connection.
    pub const READABLE: Interest = Interest(0b001);
    /// Writable: room in the send buffer, or a connection that completed.
    pub const WRITABLE: Interest = Interest(0b010);
    /// Priority (urgent / out-of-band) data: `EPOLLPRI`.
    pub const PRIORITY: Interest = Interest(0b100);
    /// Errors only: `EPOLLERR`, which the OS reports whatever the interest (so every interest
    /// is also woken by an error); alone, it waits for nothing else.
    pub const ERROR: Interest = Interest(0b1000);

    /// Whether the interest includes readable.
    pub const fn is_readable(self) -> bool {
        self.0 & Self::READABLE.0 != 0
    }

    /// Whether the interest includes writable.
    pub const fn is_writable(self) -> bool {
        self.0 & Self::WRITABLE.0 != 0
    }

    /// Whether the interest includes priority.
    pub const fn is_priority(self) -> bool {
        self.0 & Self::PRIORITY.0 != 0
    }

    /// Whether the interest includes errors.
    ///
    /// ```
    /// use executor::io::Interest;
    ///
    /// assert!(Interest::ERROR.is_error());
    /// assert!((Interest::READABLE | Interest::ERROR).is_error());
    /// assert!(!Interest::WRITABLE.is_error());
    /// ```
    pub const fn is_error(self) -> bool {
        self.0 & Self::ERROR.0 != 0
    }

    /// The union of two interests.
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// The interest without `other`; `None` if nothing is left.
    ///
    /// ```
    /// use executor::io::Interest;
    ///
    /// let both = Interest::READABLE | Interest::WRITABLE;
    /// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
    /// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
    /// ```
    #[must_use]
    pub const fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        if left == 0 {
            None
        } else {
            Some(Interest(left))
        }
    }

    /// The `EventPoll` interest bits of the registration (always edge-triggered).
    pub(crate) fn to_events(self) -> Events {
        let mut ev = Events::ET;
        if self.is_readable() {
            ev = ev.union(Events::IN).union(Events::RDHUP);
        }
        if self.is_writable() {
            ev = ev.union(Events::OUT);
        }
        if self.is_priority() {
            ev = ev.union(Events::PRI);
        }
        if self.is_error() {
            ev = ev.union(Events::ERR);
        }
        ev
    }

    /// The readiness that satisfies this interest.
    pub(crate) fn mask(self) -> Ready {
        let mut r = Ready::ERROR;
        if self.is_readable() {
            r = r | Ready::READABLE | Ready::READ_CLOSED;
        }
        if self.is_writable() {
            r = r | Ready::WRITABLE | Ready::WRITE_CLOSED;
        }
        if self.is_priority() {
            r = r | Ready::PRIORITY | Ready::READ_CLOSED;
        }
        r
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [(Self::READABLE, "READABLE"), (Self::WRITABLE, "WRITABLE"), (Self::PRIORITY, "PRIORITY"), (Self::ERROR, "ERROR")];
        let mut first = true;
        for (bit, name) in names {
            if self.0 & bit.0 != 0 {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("(empty)")?;
        }
        Ok(())
    }
}

/// Readiness reported by the reactor for a registration.
///
/// `READ_CLOSED` and `WRITE_CLOSED` are sticky: once the peer closed (or the socket hung up) a
/// registration stays read- or write-closed, because every later operation in that direction
/// completes at once (end of file, `EPIPE`) instead of blocking.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ready(u8);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// `EPOLLIN`: readable.
    pub const READABLE: Ready = Ready(0b0000_0001);
    /// `EPOLLOUT`: writable.
    pub const WRITABLE: Ready = Ready(0b0000_0010);
    /// `EPOLLRDHUP` or `EPOLLHUP`: the read half is closed.
    pub const READ_CLOSED: Ready = Ready(0b0000_0100);
    /// `EPOLLHUP`: the write half is closed.
    pub const WRITE_CLOSED: Ready = Ready(0b0000_1000);
    /// `EPOLLPRI`: priority data.
    pub const PRIORITY: Ready = Ready(0b0001_0000);
    /// `EPOLLERR`: an error is pending on the socket (the next operation reports it).
    pub const ERROR: Ready = Ready(0b0010_0000);
    /// Every readiness bit.
    pub const ALL: Ready = Ready(0b0011_1111);

    /// The readiness an `EventPoll` event reports.
    pub fn from_events(ev: Events) -> Ready {
        let mut r = Ready::EMPTY;
        if ev.contains(Events::IN) {
            r = r | Ready::READABLE;
        }
        if ev.contains(Events::OUT) {
            r = r | Ready::WRITABLE;
        }
        if ev.contains(Events::PRI) {
            r = r | Ready::PRIORITY;
        }
        if ev.contains(Events::RDHUP) {
            r = r | Ready::READ_CLOSED;
        }
        if ev.contains(Events::HUP) {
            r = r | Ready::READ_CLOSED | Ready::WRITE_CLOSED;
        }
        if ev.contains(Events::ERR) {
            r = r | Ready::ERROR;
        }
        r
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether `READABLE` is set.
    pub const fn is_readable(self) -> bool {
        self.0 & Self::READABLE.0 != 0
    }

    /// Whether `WRITABLE` is set.
    pub const fn is_writable(self) -> bool {
        self.0 & Self::WRITABLE.0 != 0
    }

    /// Whether `READ_CLOSED` is set.
    pub const fn is_read_closed(self) -> bool {
        self.0 & Self::READ_CLOSED.0 != 0
    }

    /// Whether `WRITE_CLOSED` is set.
    pub const fn is_write_closed(self) -> bool {
        self.0 & Self::WRITE_CLOSED.0 != 0
    }

    /// Whether `PRIORITY` is set.
    pub const fn is_priority(self) -> bool {
        self.0 & Self::PRIORITY.0 != 0
    }

    /// Whether `ERROR` is set.
    pub const fn is_error(self) -> bool {
        self.0 & Self::ERROR.0 != 0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Ready) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether some bit of `other` is set.
    pub const fn intersects(self, other: Ready) -> bool {
        self.0 & other.0 != 0
    }

    pub(crate) const fn bits(self) -> u8 {
        self.0
    }

    pub(crate) const fn from_bits(bits: u8) -> Ready {
        Ready(bits & Self::ALL.0)
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;

    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;

    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Self::READABLE, "READABLE"),
            (Self::WRITABLE, "WRITABLE"),
            (Self::READ_CLOSED, "READ_CLOSED"),
            (Self::WRITE_CLOSED, "WRITE_CLOSED"),
            (Self::PRIORITY, "PRIORITY"),
            (Self::ERROR, "ERROR"),
        ];
        let mut first = true;
        for (bit, name) in names {
            if self.intersects(bit) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("EMPTY")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangup_closes_both_directions_and_rdhup_only_reading() {
        let hup = Ready::from_events(Events::HUP);
        assert!(hup.is_read_closed() && hup.is_write_closed() && !hup.is_readable());
        let rdhup = Ready::from_events(Events::IN.union(Events::RDHUP));
        assert!(rdhup.is_readable() && rdhup.is_read_closed() && !rdhup.is_write_closed());
    }

    #[test]
    fn interest_maps_to_edge_triggered_epoll_bits() {
        let ev = (Interest::READABLE | Interest::WRITABLE).to_events();
        assert!(ev.contains(Events::ET.union(Events::IN).union(Events::OUT).union(Events::RDHUP)));
        assert!(!ev.contains(Events::PRI));
        assert!(Interest::PRIORITY.to_events().contains(Events::PRI));
    }

    #[test]
    fn errors_satisfy_every_interest_and_closed_only_its_direction() {
        assert!(Interest::READABLE.mask().is_error() && Interest::WRITABLE.mask().is_error());
        assert!(!Interest::READABLE.mask().is_write_closed());
        assert!(!Interest::WRITABLE.mask().is_read_closed());
    }
}
