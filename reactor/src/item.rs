//! `Item`, the kernel's `struct epitem`: one registration, and `Items`, the generation-tagged slab
//! that owns them.
//!
//! An item is named by its slab index everywhere inside the reactor (ready list links, the
//! interest table) and, towards the OS, by a [`Token`]: index plus generation. The generation is
//! bumped when a slot is freed, so an OS event that was already harvested for a registration that
//! has since been removed can never be mistaken for an event of the slot's next tenant (tokio's
//! `registration_set.rs` defers frees for the same reason).

use crate::events::Events;
use std::os::fd::RawFd;

/// Sentinel for "not on any list" in [`Links::prev`] (the kernel's `list_empty(&epi->rdllink)`).
pub(crate) const UNLINKED: u32 = u32::MAX;
/// End of a list.
pub(crate) const NIL: u32 = u32::MAX - 1;
/// Sentinel for "not on the overflow list" (the kernel's `EP_UNACTIVE_PTR`).
pub(crate) const OVF_UNACTIVE: u32 = u32::MAX;

/// Index-based links of the ready list / transfer list (the kernel's `rdllink`).
#[derive(Copy, Clone, Debug)]
pub(crate) struct Links {
    pub(crate) prev: u32,
    pub(crate) next: u32,
}

/// What an item watches.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Source {
    /// A file descriptor registered in the OS poller.
    Fd(RawFd),
    /// A user-space event source ([`UserEvent`](crate::UserEvent)); no descriptor, no syscall.
    User,
}

/// One registration (`struct epitem`). 40 bytes; see the crate docs for the full budget.
#[derive(Debug)]
pub(crate) struct Item {
    /// Interest and flags as given to `ctl` plus ERR | HUP (`epi->event.events`).
    pub(crate) events: Events,
    /// The caller's data (`epi->event.data`).
    pub(crate) data: u64,
    /// Ready list / transfer list membership (`epi->rdllink`).
    pub(crate) links: Links,
    /// Overflow list link (`epi->next`), [`OVF_UNACTIVE`] when not on it.
    pub(crate) ovf_next: u32,
    /// The readiness the latest OS event reported (the kernel's exact bits), or IN for a
    /// triggered user event.
    pub(crate) hint: Events,
    /// For a descriptor, the sequence number of the last OS poll that delivered an event for
    /// this item: proof that the registered file was still open then. For a counting user event
    /// ([`EventPoll::user_semaphore`](crate::EventPoll::user_semaphore)), the units not yet
    /// delivered.
    pub(crate) seen: u32,
    /// The watched file descriptor, or -1 for a user-space source.
    fd: RawFd,
    /// The descriptor number was closed or reused while the OS registration lives on (a dup
    /// keeps the file open): the item is out of the interest table and reports what the OS
    /// reports for the old file, as Linux does (epoll(7), Q6).
    pub(crate) orphan: bool,
}

impl Item {
    pub(crate) fn new(source: Source, events: Events, data: u64) -> Item {
        let fd = match source {
            Source::Fd(fd) => fd,
            Source::User => -1,
        };
        Item {
            events,
            data,
            links: Links { prev: UNLINKED, next: UNLINKED },
            ovf_next: OVF_UNACTIVE,
            hint: Events::empty(),
            seen: 0,
            fd,
            orphan: false,
        }
    }

    pub(crate) fn source(&self) -> Source {
        if self.fd < 0 {
            Source::User
        } else {
            Source::Fd(self.fd)
        }
    }

    /// Whether the item is on the ready list or the transfer list (`ep_is_linked`).
    pub(crate) fn is_linked(&self) -> bool {
        self.links.prev != UNLINKED
    }

    /// Whether the item may still report: a fired ONESHOT keeps only private bits.
    pub(crate) fn is_armed(&self) -> bool {
        !self.events.difference(Events::PRIVATE).is_empty()
    }
}

/// The name of an item towards the OS: `generation << 32 | index`.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) struct Token(pub(crate) u64);

impl Token {
    /// The token of the instance's own wake-up eventfd; never an item's (generations are < 2^32-1).
    pub(crate) const WAKE: Token = Token(u64::MAX);
    /// The token of the instance's level signal (`exposure.rs`); never an item's either.
    pub(crate) const SIGNAL: Token = Token(u64::MAX - 2);

    fn new(index: u32, gen: u32) -> Token {
        Token((gen as u64) << 32 | index as u64)
    }

    fn split(self) -> (u32, u32) {
        (self.0 as u32, (self.0 >> 32) as u32)
    }
}

enum Slot {
    Full { gen: u32, item: Item },
    Free { gen: u32, next_free: u32 },
}

/// The slab of items.
pub(crate) struct Items {
    slots: Vec<Slot>,
    free: u32,
    len: usize,
}

impl Items {
    pub(crate) fn new() -> Items {
        Items { slots: Vec::new(), free: NIL, len: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Stores `item`, returning its index and token.
    pub(crate) fn insert(&mut self, item: Item) -> (u32, Token) {
        self.len += 1;
        if self.free != NIL {
            let index = self.free;
            let slot = &mut self.slots[index as usize];
            let Slot::Free { gen, next_free } = *slot else { unreachable!("free list points at a full slot") };
            self.free = next_free;
            *slot = Slot::Full { gen, item };
            (index, Token::new(index, gen))
        } else {
            let index = self.slots.len() as u32;
            assert!(index < NIL, "reactor: more than 2^32 - 2 registrations");
            self.slots.push(Slot::Full { gen: 0, item });
            (index, Token::new(index, 0))
        }
    }

    /// Frees slot `index`; the next tenant gets a new generation.
    pub(crate) fn remove(&mut self, index: u32) -> Item {
        let slot = &mut self.slots[index as usize];
        let gen = match slot {
            Slot::Full { gen, .. } => gen.wrapping_add(1) % (u32::MAX - 1),
            Slot::Free { .. } => panic!("reactor: double free of item {index}"),
        };
        let old = std::mem::replace(slot, Slot::Free { gen, next_free: self.free });
        self.free = index;
        self.len -= 1;
        match old {
            Slot::Full { item, .. } => item,
            Slot::Free { .. } => unreachable!(),
        }
    }

    /// The item a token names, if it is still the same registration.
    pub(crate) fn resolve(&mut self, token: Token) -> Option<(u32, &mut Item)> {
        let (index, want) = token.split();
        match self.slots.get_mut(index as usize) {
            Some(Slot::Full { gen, item }) if *gen == want => Some((index, item)),
            _ => None,
        }
    }

    /// Indices of all items (rare paths only: it allocates).
    pub(crate) fn indices(&self) -> Vec<u32> {
        (0..self.slots.len() as u32).filter(|&i| matches!(self.slots[i as usize], Slot::Full { .. })).collect()
    }

    pub(crate) fn token(&self, index: u32) -> Token {
        match &self.slots[index as usize] {
            Slot::Full { gen, .. } => Token::new(index, *gen),
            Slot::Free { .. } => panic!("reactor: token of free item {index}"),
        }
    }
}

impl std::ops::Index<u32> for Items {
    type Output = Item;
    fn index(&self, index: u32) -> &Item {
        match &self.slots[index as usize] {
            Slot::Full { item, .. } => item,
            Slot::Free { .. } => panic!("reactor: use of free item {index}"),
        }
    }
}

impl std::ops::IndexMut<u32> for Items {
    fn index_mut(&mut self, index: u32) -> &mut Item {
        match &mut self.slots[index as usize] {
            Slot::Full { item, .. } => item,
            Slot::Free { .. } => panic!("reactor: use of free item {index}"),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn item_fits_the_kernels_epitem_budget() {
        // The figures the crate docs state: a 40-byte item in a 48-byte slab slot, plus 4 bytes
        // in the interest table, within the kernel's 128-byte bound on `struct epitem`.
        assert_eq!(std::mem::size_of::<Item>(), 40);
        assert_eq!(std::mem::size_of::<Slot>(), 48);
        assert!(std::mem::size_of::<Slot>() + std::mem::size_of::<u32>() <= 128);
    }

    #[test]
    fn stale_token_does_not_resolve_after_reuse() {
        let mut items = Items::new();
        let (i, t) = items.insert(Item::new(Source::Fd(3), Events::IN, 1));
        items.remove(i);
        let (j, t2) = items.insert(Item::new(Source::Fd(3), Events::IN, 2));
        assert_eq!(i, j);
        assert_ne!(t, t2);
        assert!(items.resolve(t).is_none());
        assert_eq!(items.resolve(t2).map(|(_, it)| it.data), Some(2));
        assert!(items.resolve(Token::WAKE).is_none());
    }
}
