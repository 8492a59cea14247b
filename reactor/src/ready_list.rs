//! The ready list (`ep->rdllist`), the transfer list a harvest works on (`txlist`) and the
//! overflow list (`ep->ovflist`) — the part of the kernel's ready list this crate keeps itself;
//! the rest is the OS epoll's (see "Where the ready list lives" in `eventpoll.rs`).
//!
//! All three are intrusive: the links live in the items (see [`Links`]), so queueing an item
//! never allocates. An item is on at most one of the ready and transfer lists (one set of
//! links, like the kernel's single `rdllink`), and independently on the overflow list.
//!
//! ```text
//!  OS event / UserEvent::trigger                harvest (ep_send_events)
//!  ─────────────────────────────                ────────────────────────
//!   scan inactive:  rdllist.push_back(item)      start:  txlist = rdllist.take()
//!   scan active:    ovflist.push(item)                   ovflist.active = true
//!                                                 each:   pop txlist → poll → report
//!                                                         counting user event with units
//!                                                         left → rdllist.push_back
//!                                                 done:   rdllist = txlist ++ ovflist ++ rdllist
//!                                                         ovflist.active = false
//! ```

use crate::item::{Items, Links, NIL, OVF_UNACTIVE, UNLINKED};

/// A doubly linked list of item indices.
#[derive(Debug)]
pub(crate) struct List {
    head: u32,
    tail: u32,
    len: usize,
}

impl List {
    pub(crate) const fn new() -> List {
        List { head: NIL, tail: NIL, len: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends an unlinked item (`list_add_tail`).
    pub(crate) fn push_back(&mut self, items: &mut Items, index: u32) {
        debug_assert!(!items[index].is_linked(), "item {index} is already linked");
        items[index].links = Links { prev: self.tail, next: NIL };
        if self.tail == NIL {
            self.head = index;
        } else {
            items[self.tail].links.next = index;
        }
        self.tail = index;
        self.len += 1;
    }

    /// Unlinks the first item (`list_del_init` of the head).
    pub(crate) fn pop_front(&mut self, items: &mut Items) -> Option<u32> {
        if self.head == NIL {
            return None;
        }
        let index = self.head;
        self.unlink(items, index);
        Some(index)
    }

    /// Unlinks `index`, which must be on this list (`list_del_init`).
    pub(crate) fn unlink(&mut self, items: &mut Items, index: u32) {
        let Links { prev, next } = items[index].links;
        debug_assert!(prev != UNLINKED, "item {index} is not linked");
        if prev == NIL {
            self.head = next;
        } else {
            items[prev].links.next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            items[next].links.prev = prev;
        }
        items[index].links = Links { prev: UNLINKED, next: UNLINKED };
        self.len -= 1;
    }

    /// Moves every item of `self` out into the returned list, in O(1) (`list_splice_init`).
    pub(crate) fn take(&mut self) -> List {
        std::mem::replace(self, List::new())
    }

    /// Puts all of `front` before the items of `self`, in O(1) (`list_splice`).
    pub(crate) fn splice_front(&mut self, items: &mut Items, front: List) {
        if front.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = front;
            return;
        }
        items[front.tail].links.next = self.head;
        items[self.head].links.prev = front.tail;
        self.head = front.head;
        self.len += front.len;
    }
}

/// The overflow list: items that became ready while a harvest was running outside the lock.
///
/// Unlike the kernel's LIFO `ovflist` (which `ep_done_scan` reverses again with `list_add`), this
/// one is kept in arrival order, which is the order the kernel ends up putting them back in.
#[derive(Debug)]
pub(crate) struct OvfList {
    head: u32,
    tail: u32,
    active: bool,
}

impl OvfList {
    pub(crate) const fn new() -> OvfList {
        OvfList { head: NIL, tail: NIL, active: false }
    }

    /// Whether a harvest is running (the kernel's `ep->ovflist != EP_UNACTIVE_PTR`).
    pub(crate) fn is_active(&self) -> bool {
        self.active
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    pub(crate) fn activate(&mut self) {
        debug_assert!(!self.active && self.head == NIL);
        self.active = true;
    }

    /// Chains an item unless it is already chained (`chain_epi_lockless`).
    pub(crate) fn push(&mut self, items: &mut Items, index: u32) {
        if items[index].ovf_next != OVF_UNACTIVE {
            return;
        }
        items[index].ovf_next = NIL;
        if self.tail == NIL {
            self.head = index;
        } else {
            items[self.tail].ovf_next = index;
        }
        self.tail = index;
    }

    /// Removes `index` from the chain if it is on it (a registration deleted mid-harvest).
    pub(crate) fn remove(&mut self, items: &mut Items, index: u32) {
        if items[index].ovf_next == OVF_UNACTIVE {
            return;
        }
        let mut prev = NIL;
        let mut cur = self.head;
        while cur != NIL {
            let next = items[cur].ovf_next;
            if cur == index {
                if prev == NIL {
                    self.head = next;
                } else {
                    items[prev].ovf_next = next;
                }
                if self.tail == index {
                    self.tail = prev;
                }
                break;
            }
            prev = cur;
            cur = next;
        }
        items[index].ovf_next = OVF_UNACTIVE;
    }

    /// Ends the scan: moves the chained items that are not on a list, in arrival order, into a
    /// new list and deactivates the overflow list (first half of `ep_done_scan`).
    pub(crate) fn finish(&mut self, items: &mut Items) -> List {
        let mut out = List::new();
        let mut cur = self.head;
        while cur != NIL {
            let next = items[cur].ovf_next;
            items[cur].ovf_next = OVF_UNACTIVE;
            if !items[cur].is_linked() {
                out.push_back(items, cur);
            }
            cur = next;
        }
        *self = OvfList::new();
        out
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::events::Events;
    use crate::item::{Item, Source};

    fn items(n: u32) -> (Items, Vec<u32>) {
        let mut items = Items::new();
        let idx = (0..n).map(|i| items.insert(Item::new(Source::Fd(i as i32), Events::IN, i as u64)).0).collect();
        (items, idx)
    }

    fn collect(list: &mut List, items: &mut Items) -> Vec<u32> {
        std::iter::from_fn(|| list.pop_front(items)).collect()
    }

    #[test]
    fn fifo_order_and_unlink_from_the_middle() {
        let (mut items, i) = items(4);
        let mut l = List::new();
        for &x in &i {
            l.push_back(&mut items, x);
        }
        l.unlink(&mut items, i[1]);
        assert!(!items[i[1]].is_linked());
        assert_eq!(l.len(), 3);
        assert_eq!(collect(&mut l, &mut items), vec![i[0], i[2], i[3]]);
        assert!(l.is_empty());
    }

    #[test]
    fn done_scan_order_is_leftovers_then_overflow_then_requeued() {
        let (mut items, i) = items(6);
        let mut rdl = List::new();
        let mut tx = List::new();
        let mut ovf = OvfList::new();
        ovf.activate();
        tx.push_back(&mut items, i[0]);
        tx.push_back(&mut items, i[1]);
        rdl.push_back(&mut items, i[2]); // LT re-queued during the scan
        ovf.push(&mut items, i[4]);
        ovf.push(&mut items, i[3]);
        ovf.push(&mut items, i[4]); // already chained: ignored
        ovf.push(&mut items, i[2]); // linked: stays where it is
        let mut front = ovf.finish(&mut items);
        assert!(!ovf.is_active());
        rdl.splice_front(&mut items, front.take());
        rdl.splice_front(&mut items, tx);
        assert_eq!(collect(&mut rdl, &mut items), vec![i[0], i[1], i[4], i[3], i[2]]);
        assert!(items[i[5]].ovf_next == OVF_UNACTIVE);
    }

    #[test]
    fn overflow_remove_keeps_the_chain_intact() {
        let (mut items, i) = items(3);
        let mut ovf = OvfList::new();
        ovf.activate();
        for &x in &i {
            ovf.push(&mut items, x);
        }
        ovf.remove(&mut items, i[2]);
        ovf.remove(&mut items, i[0]);
        ovf.push(&mut items, i[0]);
        let mut l = ovf.finish(&mut items);
        assert_eq!(collect(&mut l, &mut items), vec![i[1], i[0]]);
    }
}
