//! What an OS event says about an item: its epoll bits, recovered from `mio`'s accessors.
//!
//! The OS epoll behind an instance samples the file when it reports it (the kernel's
//! `ep_item_poll` inside the OS `epoll_wait`) and masks the result with the registration's
//! interest, which is the item's interest exactly. Those are the very bits Linux would report,
//! sampled within the same `wait` call; `mio` exposes them only through accessors
//! (`is_readable` = IN or PRI, `is_read_closed` = HUP, or IN with RDHUP, …). This module inverts
//! the accessors. When the interest makes the inversion ambiguous (it asks for RDNORM, RDBAND,
//! WRNORM, WRBAND or MSG; IN together with a PRI that is set; RDHUP without IN; HUP together
//! with RDHUP; OUT with ERR and RDHUP), the result is marked inexact and the harvest samples the
//! file with `poll(2)` instead.
//!
//! One fact about Linux files is relied on: a file that reports RDHUP also reports IN (every
//! socket family sets `EPOLLIN | EPOLLRDNORM | EPOLLRDHUP` together on receive shutdown, and no
//! other file reports RDHUP).

use crate::events::Events;

/// Bits that the accessors can never tell apart from others.
const OPAQUE: Events = Events::RDNORM.union(Events::RDBAND).union(Events::WRNORM).union(Events::WRBAND).union(Events::MSG);

/// The epoll bits of `ev` for an item whose interest is `interest`, and whether they are exact.
pub(crate) fn decode(ev: &mio::event::Event, interest: Events) -> (Events, bool) {
    let mut exact = !interest.intersects(OPAQUE);
    let mut bits = Events::empty();
    let pri = ev.is_priority();
    let readable = if pri {
        bits |= Events::PRI;
        // IN hides behind PRI in `is_readable`.
        if interest.contains(Events::IN) {
            exact = false;
        }
        false
    } else {
        ev.is_readable()
    };
    if readable {
        bits |= Events::IN;
    }
    let writable = ev.is_writable();
    if writable {
        bits |= Events::OUT;
    }
    let error = ev.is_error();
    if error {
        bits |= Events::ERR;
    }
    let read_closed = ev.is_read_closed();
    if !interest.contains(Events::RDHUP) {
        // RDHUP is not registered, so `is_read_closed` is HUP alone.
        if read_closed {
            bits |= Events::HUP;
        }
    } else if !interest.contains(Events::IN) {
        // RDHUP without IN is invisible to the accessors.
        exact = false;
    } else if !readable {
        // No IN, hence (see above) no RDHUP: `is_read_closed` is HUP alone.
        if read_closed {
            bits |= Events::HUP;
        }
    } else if writable && error {
        // `is_write_closed` is true whatever HUP is.
        exact = false;
    } else if ev.is_write_closed() {
        // HUP is set; whether RDHUP is too cannot be told.
        bits |= Events::HUP;
        exact = false;
    } else if read_closed {
        bits |= Events::RDHUP;
    }
    (bits, exact)
}
