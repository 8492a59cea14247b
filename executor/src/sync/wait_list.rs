//! The waiter queue every primitive of this module shares: a FIFO of waiting futures kept in a
//! slab, plus the batch of wakers to wake once the lock that guards it is released.
//!
//! ```text
//!   slots: [ Used(A) | Free ─┐ | Used(B) | Used(C) | Free ─▶ NIL ]
//!            ▲               └──────────────────────▶
//!   head ────┘  A ⇄ B ⇄ C ◀── tail          (prev/next are slot indices)
//! ```
//!
//! * A waiting future **owns** its slot through a [`Key`] (not `Clone`): only the owner frees
//!   the slot ([`WaitList::remove`]), from its poll that observes the outcome or from its `Drop`.
//! * A notifier only **unlinks** a node ([`WaitList::pop_front`]) after writing the outcome into
//!   it; the slot stays allocated until its owner has read that outcome. So an index held by a
//!   future always names its own node: no generation tag is needed.
//! * The list lives inside the primitive's mutex; every method here runs under that lock.
//!
//! tokio links its waiters intrusively (the node lives in the pinned future). A slab trades
//! that for no `unsafe` at all and one amortised allocation: a slot freed by one waiter is
//! reused by the next, so a primitive in steady state allocates nothing.

use std::fmt;
use std::task::Waker;

const NIL: usize = usize::MAX;

/// A waiter's node. `value` is the primitive's per-waiter state (permits still needed,
/// "notified", …), written by notifiers under the lock and read by the owner.
pub(crate) struct Node<T> {
    pub(crate) waker: Option<Waker>,
    pub(crate) value: T,
    linked: bool,
    prev: usize,
    next: usize,
}

impl<T> Node<T> {
    /// Stores `waker` unless the stored one already wakes the same task.
    pub(crate) fn set_waker(&mut self, waker: &Waker) {
        match &self.waker {
            Some(w) if w.will_wake(waker) => {}
            _ => self.waker = Some(waker.clone()),
        }
    }
}

enum Slot<T> {
    Free { next_free: usize },
    Used(Node<T>),
}

/// The right to a slot of a [`WaitList`]; exactly one exists per used slot.
#[derive(PartialEq, Eq)]
pub(crate) struct Key(usize);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({})", self.0)
    }
}

/// A FIFO of waiters in a slab (see the module docs).
pub(crate) struct WaitList<T> {
    slots: Vec<Slot<T>>,
    /// The oldest linked node, or `NIL`.
    head: usize,
    /// The newest linked node, or `NIL`.
    tail: usize,
    /// The first free slot, or `NIL`; free slots chain through `next_free`.
    free: usize,
    /// Linked nodes (unlinked-but-owned ones are not counted).
    len: usize,
}

impl<T> WaitList<T> {
    pub(crate) const fn new() -> WaitList<T> {
        WaitList { slots: Vec::new(), head: NIL, tail: NIL, free: NIL, len: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues a new waiter at the back; the returned key is its owner's.
    pub(crate) fn push_back(&mut self, waker: Option<Waker>, value: T) -> Key {
        let node = Node { waker, value, linked: true, prev: self.tail, next: NIL };
        let idx = if self.free == NIL {
            self.slots.push(Slot::Used(node));
            self.slots.len() - 1
        } else {
            let idx = self.free;
            let Slot::Free { next_free } = self.slots[idx] else { unreachable!("free chain points at a used slot") };
            self.free = next_free;
            self.slots[idx] = Slot::Used(node);
            idx
        };
        if self.tail == NIL {
            self.head = idx;
        } else {
            self.node_mut(self.tail).next = idx;
        }
        self.tail = idx;
        self.len += 1;
        Key(idx)
    }

    fn node_mut(&mut self, idx: usize) -> &mut Node<T> {
        match &mut self.slots[idx] {
            Slot::Used(node) => node,
            Slot::Free { .. } => unreachable!("a key or link points at a free slot"),
        }
    }

    fn node(&self, idx: usize) -> &Node<T> {
        match &self.slots[idx] {
            Slot::Used(node) => node,
            Slot::Free { .. } => unreachable!("a key or link points at a free slot"),
        }
    }

    /// The owner's node.
    pub(crate) fn get_mut(&mut self, key: &Key) -> &mut Node<T> {
        self.node_mut(key.0)
    }

    /// Whether the owner's node is still queued (no notifier has taken it).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_linked(&self, key: &Key) -> bool {
        self.node(key.0).linked
    }

    fn unlink(&mut self, idx: usize) {
        let (prev, next) = {
            let node = self.node_mut(idx);
            debug_assert!(node.linked);
            node.linked = false;
            (std::mem::replace(&mut node.prev, NIL), std::mem::replace(&mut node.next, NIL))
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.node_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.node_mut(next).prev = prev;
        }
        self.len -= 1;
    }

    /// Frees the owner's slot (unlinking it if a notifier has not) and returns its node.
    pub(crate) fn remove(&mut self, key: Key) -> Node<T> {
        let idx = key.0;
        if self.node(idx).linked {
            self.unlink(idx);
        }
        let slot = std::mem::replace(&mut self.slots[idx], Slot::Free { next_free: self.free });
        self.free = idx;
        match slot {
            Slot::Used(node) => node,
            Slot::Free { .. } => unreachable!("a key points at a free slot"),
        }
    }

    /// The oldest queued node.
    pub(crate) fn front_mut(&mut self) -> Option<&mut Node<T>> {
        (self.head != NIL).then(|| self.node_mut(self.head))
    }

    /// Unlinks the oldest queued node and returns it for the notifier to write the outcome
    /// into; its slot stays with its owner.
    pub(crate) fn pop_front(&mut self) -> Option<&mut Node<T>> {
        let idx = self.head;
        if idx == NIL {
            return None;
        }
        self.unlink(idx);
        Some(self.node_mut(idx))
    }

    /// Like [`pop_front`](Self::pop_front), from the newest end.
    pub(crate) fn pop_back(&mut self) -> Option<&mut Node<T>> {
        let idx = self.tail;
        if idx == NIL {
            return None;
        }
        self.unlink(idx);
        Some(self.node_mut(idx))
    }
}

impl<T> fmt::Debug for WaitList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList").field("len", &self.len).finish_non_exhaustive()
    }
}

/// How many wakers a notifier collects before it releases the lock to wake them (tokio's
/// `WakeList` size: enough to amortise the lock, small enough to live on the stack).
pub(crate) const BATCH: usize = 32;

/// Wakers taken under a lock, woken after it is released. The first [`BATCH`] live inline;
/// [`push`](Self::push) spills beyond that (only `notify_waiters`-style "wake everyone" paths
/// go past it; the semaphore flushes at `BATCH`). Wakers still held when the list is dropped
/// are woken then, so a panicking waker does not strand the ones after it.
pub(crate) struct WakeList {
    inline: [Option<Waker>; BATCH],
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    pub(crate) fn new() -> WakeList {
        WakeList { inline: [const { None }; BATCH], len: 0, spill: Vec::new() }
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        if self.len < BATCH {
            self.inline[self.len] = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    /// The inline batch is full: release the lock and [`wake_all`](Self::wake_all).
    pub(crate) fn is_full(&self) -> bool {
        self.len == BATCH
    }

    /// Wakes every collected waker (call with no lock held).
    pub(crate) fn wake_all(&mut self) {
        while self.len > 0 {
            self.len -= 1;
            if let Some(w) = self.inline[self.len].take() {
                w.wake();
            }
        }
        while let Some(w) = self.spill.pop() {
            w.wake();
        }
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        self.wake_all();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_and_removal_from_the_middle() {
        let mut list = WaitList::new();
        let a = list.push_back(None, 'a');
        let b = list.push_back(None, 'b');
        let c = list.push_back(None, 'c');
        assert_eq!(list.remove(b).value, 'b');
        assert_eq!(list.pop_front().map(|n| n.value), Some('a'));
        assert!(!list.is_linked(&a));
        assert!(list.is_linked(&c));
        assert_eq!(list.pop_front().map(|n| n.value), Some('c'));
        assert!(list.is_empty() && list.pop_front().is_none());
        list.remove(a);
        list.remove(c);
    }

    #[test]
    fn freed_slots_are_reused() {
        let mut list = WaitList::new();
        for round in 0..100 {
            let k = list.push_back(None, round);
            let j = list.push_back(None, round);
            list.remove(k);
            list.remove(j);
        }
        assert_eq!(list.slots.len(), 2);
    }

    #[test]
    fn pop_back_takes_the_newest() {
        let mut list = WaitList::new();
        let a = list.push_back(None, 1);
        let b = list.push_back(None, 2);
        assert_eq!(list.pop_back().map(|n| n.value), Some(2));
        assert_eq!(list.front_mut().map(|n| n.value), Some(1));
        list.remove(a);
        list.remove(b);
        assert!(list.is_empty());
    }
}
