//! A hierarchical timing wheel with millisecond resolution: the data structure behind the
//! runtime's timers (`sleep`, `timeout`, `interval`).
//!
//! Inspired by tokio's `runtime/time/wheel` (levels of 64 slots, per-level occupancy bitmaps) and
//! by G. Varghese and A. Lauck, "Hashed and Hierarchical Timing Wheels: Data Structures for the
//! Efficient Implementation of a Timer Facility" (SOSP '87; IEEE/ACM ToN 1997). This code is
//! written from scratch: entries live in a slab and are linked by index, so no `unsafe` is needed.
//!
//! The wheel is single-threaded (`&mut self`). The runtime can shard it: one `Wheel` per worker,
//! each under its own lock, with the driver parking until the minimum of the shards'
//! [`Wheel::next_expiration`]. A [`TimerKey`] does not name its shard; the caller keeps that.
//!
//! # Layout
//!
//! Times are `u64` milliseconds since the runtime's epoch. The wheel has been advanced to
//! `elapsed` (E). A pending deadline D > E in the same 2^36 ms *era* as E (`D >> 36 == E >> 36`)
//! is stored at the level of the most significant 6-bit digit in which D and E differ, in the
//! slot numbered by D's digit at that level:
//!
//! ```text
//!  deadline bits   63 ......... 36 | 35..30 | 29..24 | 23..18 | 17..12 | 11..6 | 5..0
//!                  era (overflow)  | level 5| level 4| level 3| level 2|level 1|level 0
//!
//!  level  slot spans   level spans   slots (occupied: u64, bit s <=> slot s non-empty)
//!    0       1 ms          64 ms     [ 0| 1| 2| .. |63]   slot 2: head ─▶ e ⇄ e ⇄ e ◀─ tail
//!    1      64 ms         4.1 s      [ 0| 1| 2| .. |63]
//!    2     4.1 s          4.4 min    [ 0| 1| 2| .. |63]
//!    3     4.4 min        4.7 h      [ 0| 1| 2| .. |63]
//!    4     4.7 h         12.4 d      [ 0| 1| 2| .. |63]
//!    5    12.4 d          2.18 y     [ 0| 1| 2| .. |63]
//!  due        D <= E: one list, fired at the next poll (stably sorted by deadline first)
//!  overflow   D in a later era than E: one unordered list (see "Beyond the top level")
//!
//!  slab  Vec<Entry<T>>  [ e0 | e1 | e2 | ... ]   free list threaded through `next`
//!  Entry<T> = { deadline: u64, value: Option<T>, prev, next, generation: u32, level, slot: u8 }
//! ```
//!
//! Every list is an intrusive doubly linked list of slab indices (`u32`, `NIL` = `u32::MAX`), so
//! insert, remove and reset are O(1) and a pending timer costs one slab entry and nothing else:
//! `size_of::<Entry<T>>()` is `22 + size_of::<Option<T>>()` rounded up to 8, i.e. 24 bytes
//! for `T = ()` and 40 bytes for `T = Waker` (asserted by a test). A [`TimerKey`] is the slab
//! index plus the entry's generation, bumped whenever an entry is freed, so a stale key never
//! touches the entry that reuses its slot (until the same slot has been reused 2^32 times).
//!
//! # Cascade
//!
//! D and E agree on every digit above D's level L, and D's level-L digit is the larger one. So all
//! level-L entries lie inside the level-(L+1) slot that currently contains E, i.e. before every
//! entry of level L+1: the earliest occupied slot of the whole wheel is the lowest set bit of the
//! lowest non-empty level, found in O(levels) with `trailing_zeros`. `poll(now)` repeatedly takes
//! that slot while its start is `<= now`, moves E to the start, and re-places the slot's entries
//! relative to the new E: an entry whose deadline is the slot start is due and fires, any other
//! now shares the level-L digit with E and lands in a strictly lower level. A level-0 slot holds
//! a single deadline (its start), so everything in it fires. Each entry cascades at most once per
//! level, so `poll` costs O(levels) per processed slot plus O(1) per fired or cascaded entry.
//!
//! # Ordering
//!
//! Invariant: an entry's list is a pure function of (E, D). So at any moment all entries with
//! the same deadline sit in the same list; lists are only appended to, and a cascade moves a list
//! front to back; entries fire exactly when E reaches their deadline and E only grows. Hence
//! entries fire in deadline order, never before their deadline, and ties fire in insertion order
//! (a `reset` counts as a re-insertion, even to the same deadline). Entries inserted with a
//! deadline `<= elapsed` fire at the next poll, before everything else, sorted by deadline (stable).
//!
//! # Beyond the top level
//!
//! The six levels resolve 36 bits: 2^36 ms ≈ 2.18 years, one *era*. A deadline in a later era
//! than E goes to the overflow list (O(1) insert and remove like everywhere else). When the wheel
//! (due list and levels) is empty and `poll` reaches a later era, the overflow list is scanned for
//! its earliest era, E jumps to that era's start and the era's entries are re-placed into the
//! levels (re-cascaded). The scan is O(overflow entries), paid once per era that holds overflow
//! entries: in practice once per 2.18 years, and only for deadlines that far away (say
//! `sleep(Duration::MAX)`). `u64::MAX` is a valid deadline. A cached lower bound of the earliest
//! overflow era (exact after each scan, lowered by inserts) lets `next_expiration` point at that
//! era rather than at the next one.
//!
//! Unlike tokio, which parks such deadlines in the top level and re-cascades them every rotation,
//! the levels here never wrap: every slot at level L starts after E within E's level-(L+1) slot.
//! That keeps the slot start a plain `base + slot << 6L` and lets one `poll` jump any number of
//! eras at once instead of stepping through 2.18-year rotations.

// Part of the API (reset, deadline, get_mut, len, ...) is not used by the timer driver yet.
#![allow(dead_code)]

use std::fmt;

/// Bits of a deadline resolved by one level.
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// Mask of one level's digit.
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Levels of the wheel.
const LEVELS: usize = 6;
/// Bits resolved by all levels: an era is `1 << ERA_BITS` ms (≈ 2.18 years).
const ERA_BITS: u32 = SLOT_BITS * LEVELS as u32;

/// The null slab index.
const NIL: u32 = u32::MAX;
/// List tag of the due list (deadline <= elapsed).
const DUE: u8 = LEVELS as u8;
/// List tag of the overflow list (deadline in a later era).
const OVERFLOW: u8 = LEVELS as u8 + 1;
/// List tag of a vacant slab entry.
const VACANT: u8 = u8::MAX;

/// The handle of a timer in a [`Wheel`]: slab index plus generation. A key whose timer fired
/// or was removed is stale: every operation on it is a no-op that reports failure, even after
/// the slab slot is reused.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) struct TimerKey {
    index: u32,
    generation: u32,
}

/// One slab entry: a pending timer, or a vacant slot on the free list.
struct Entry<T> {
    deadline: u64,
    /// `None` iff vacant.
    value: Option<T>,
    prev: u32,
    /// Next in the entry's list; for a vacant entry, next on the free list.
    next: u32,
    /// Bumped when the entry is freed.
    generation: u32,
    /// `0..LEVELS`, `DUE`, `OVERFLOW` or `VACANT`.
    level: u8,
    /// Slot within `level` (0 for the due and overflow lists).
    slot: u8,
}

/// Head and tail of an intrusive list of slab indices.
#[derive(Copy, Clone)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List { head: NIL, tail: NIL };

/// One level: 64 slots and their occupancy bitmap.
struct Level {
    /// Bit `s` is set iff `slots[s]` is non-empty.
    occupied: u64,
    slots: [List; SLOTS],
}

/// A hierarchical timing wheel of `T`s keyed by `u64` millisecond deadlines. See the module docs.
pub(crate) struct Wheel<T> {
    /// The time the wheel has been advanced to.
    elapsed: u64,
    entries: Vec<Entry<T>>,
    /// Head of the free list of vacant entries.
    free: u32,
    /// Pending entries.
    len: usize,
    levels: [Level; LEVELS],
    due: List,
    overflow: List,
    /// A lower bound of the eras (`deadline >> ERA_BITS`) in the overflow list: exact after each
    /// scan, lowered by inserts, possibly stale-low after removals; `u64::MAX` when it is empty.
    overflow_era: u64,
    /// Reused buffer for sorting the due list.
    scratch: Vec<u32>,
}

impl<T> Default for Wheel<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Wheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel").field("elapsed", &self.elapsed).field("len", &self.len).finish_non_exhaustive()
    }
}

/// The level of a deadline in the current era, strictly after `elapsed`: the most significant
/// 6-bit digit in which they differ.
fn level_for(elapsed: u64, deadline: u64) -> usize {
    debug_assert!(deadline > elapsed && deadline >> ERA_BITS == elapsed >> ERA_BITS);
    let masked = (elapsed ^ deadline) | SLOT_MASK;
    let significant = 63 - masked.leading_zeros();
    (significant / SLOT_BITS) as usize
}

impl<T> Wheel<T> {
    /// An empty wheel at elapsed = 0 ms.
    pub(crate) fn new() -> Self {
        const LEVEL: Level = Level { occupied: 0, slots: [EMPTY; SLOTS] };
        Wheel {
            elapsed: 0,
            entries: Vec::new(),
            free: NIL,
            len: 0,
            levels: [LEVEL; LEVELS],
            due: EMPTY,
            overflow: EMPTY,
            overflow_era: u64::MAX,
            scratch: Vec::new(),
        }
    }

    /// The time the wheel has been advanced to by [`Wheel::poll`].
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Calls `f` with each pending timer's deadline and value, in slab order. O(entries).
    pub(crate) fn for_each(&self, mut f: impl FnMut(u64, &T)) {
        for entry in &self.entries {
            if let Some(value) = &entry.value {
                f(entry.deadline, value);
            }
        }
    }

    /// Pending timers.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether no timer is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a timer firing at `deadline` (ms). O(1). A deadline `<= elapsed` fires at the next
    /// poll. Allocates only when the slab grows (amortized).
    ///
    /// # Panics
    ///
    /// If `u32::MAX - 1` timers are already pending.
    pub(crate) fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        let index = match self.free {
            NIL => {
                assert!(self.entries.len() < NIL as usize, "timing wheel: too many pending timers");
                self.entries.push(Entry { deadline, value: Some(value), prev: NIL, next: NIL, generation: 0, level: VACANT, slot: 0 });
                (self.entries.len() - 1) as u32
            }
            index => {
                let e = &mut self.entries[index as usize];
                self.free = e.next;
                e.deadline = deadline;
                e.value = Some(value);
                index
            }
        };
        self.len += 1;
        self.link(index);
        TimerKey { index, generation: self.entries[index as usize].generation }
    }

    /// Cancels a pending timer and returns its value. O(1). `None` if the key is stale (the timer
    /// fired or was removed).
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<T> {
        let index = self.index_of(key)?;
        self.unlink(index);
        Some(self.release(index).1)
    }

    /// Moves a pending timer to `deadline` (earlier or later), keeping its key. O(1). For the
    /// tie order it counts as a re-insertion. `false` if the key is stale.
    pub(crate) fn reset(&mut self, key: TimerKey, deadline: u64) -> bool {
        let Some(index) = self.index_of(key) else { return false };
        self.unlink(index);
        self.entries[index as usize].deadline = deadline;
        self.link(index);
        true
    }

    /// The deadline of a pending timer; `None` if the key is stale.
    pub(crate) fn deadline(&self, key: TimerKey) -> Option<u64> {
        self.index_of(key).map(|i| self.entries[i as usize].deadline)
    }

    /// The value of a pending timer (e.g. to swap a waker in place); `None` if the key is stale.
    pub(crate) fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        let index = self.index_of(key)?;
        self.entries[index as usize].value.as_mut()
    }

    /// When to poll next: a **lower bound** of the earliest pending deadline, in O(levels).
    ///
    /// `None` iff the wheel is empty. Otherwise `Some(t)` with
    /// `elapsed <= t <= max(elapsed, earliest deadline)`:
    /// - `t == elapsed` if some timer is already due (deadline `<= elapsed`);
    /// - `t` is **exact** (the earliest deadline) when the earliest timer is in level 0, i.e.
    ///   within the current 64 ms-aligned window;
    /// - otherwise `t` is the start of the earliest occupied slot, where it cascades (or, for
    ///   timers only in the overflow list, the start of the earliest era holding one: exact
    ///   unless some were removed since the last scan). Polling at `t` either fires or cascades,
    ///   after which the bound is tighter: the earliest timer is reached after at most
    ///   `LEVELS + 1` such polls (tokio's wheel wakes at slot starts the same way).
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        if self.due.head != NIL {
            return Some(self.elapsed);
        }
        if let Some((_, _, start)) = self.next_slot() {
            return Some(start);
        }
        if self.overflow.head != NIL {
            // Overflow entries are in a later era, so `elapsed` is not in the last one: no overflow.
            let next_era = (self.elapsed >> ERA_BITS) + 1;
            return Some(next_era.max(self.overflow_era) << ERA_BITS);
        }
        None
    }

    /// Advances the wheel to `now`, calling `f` with every timer whose deadline is `<= now`, in
    /// deadline order (ties in insertion order), each exactly once and never before its deadline.
    /// Fired keys are stale by the time `f` sees them.
    ///
    /// Time never goes backwards: a `now` below `elapsed` is treated as `elapsed` (it fires only
    /// timers already due, i.e. inserted or reset to a deadline `<= elapsed`).
    ///
    /// Cost: O(levels) per processed slot plus O(1) per fired or cascaded timer (see the module
    /// docs for eras beyond the top level). If `f` panics, the wheel stays consistent: the timers
    /// not yet fired stay pending and fire at the next poll.
    pub(crate) fn poll(&mut self, now: u64, mut f: impl FnMut(TimerKey, T)) {
        let now = now.max(self.elapsed);
        loop {
            self.fire_due(&mut f);
            match self.next_slot() {
                Some((level, slot, start)) if start <= now => {
                    self.elapsed = start;
                    self.cascade(level, slot);
                }
                Some(_) => break,
                None => {
                    if !self.enter_next_era(now) {
                        break;
                    }
                }
            }
        }
        self.elapsed = now;
    }

    /// The slab index of a live key.
    fn index_of(&self, key: TimerKey) -> Option<u32> {
        let e = self.entries.get(key.index as usize)?;
        (e.generation == key.generation && e.value.is_some()).then_some(key.index)
    }

    /// The list (level and slot) an entry with `deadline` belongs in, relative to `elapsed`.
    fn place(&self, deadline: u64) -> (u8, u8) {
        if deadline <= self.elapsed {
            (DUE, 0)
        } else if deadline >> ERA_BITS != self.elapsed >> ERA_BITS {
            (OVERFLOW, 0)
        } else {
            let level = level_for(self.elapsed, deadline);
            (level as u8, ((deadline >> (SLOT_BITS * level as u32)) & SLOT_MASK) as u8)
        }
    }

    fn list_mut(&mut self, level: u8, slot: u8) -> &mut List {
        match level {
            DUE => &mut self.due,
            OVERFLOW => &mut self.overflow,
            level => &mut self.levels[level as usize].slots[slot as usize],
        }
    }

    /// Appends an unlinked entry to the list its deadline belongs in.
    fn link(&mut self, index: u32) {
        let (level, slot) = self.place(self.entries[index as usize].deadline);
        let list = self.list_mut(level, slot);
        let tail = list.tail;
        list.tail = index;
        if tail == NIL {
            list.head = index;
        } else {
            self.entries[tail as usize].next = index;
        }
        let e = &mut self.entries[index as usize];
        e.prev = tail;
        e.next = NIL;
        e.level = level;
        e.slot = slot;
        if (level as usize) < LEVELS {
            self.levels[level as usize].occupied |= 1 << slot;
        } else if level == OVERFLOW {
            self.overflow_era = self.overflow_era.min(self.entries[index as usize].deadline >> ERA_BITS);
        }
    }

    /// Takes a linked entry out of its list.
    fn unlink(&mut self, index: u32) {
        let Entry { prev, next, level, slot, .. } = self.entries[index as usize];
        if prev == NIL {
            self.list_mut(level, slot).head = next;
        } else {
            self.entries[prev as usize].next = next;
        }
        if next == NIL {
            self.list_mut(level, slot).tail = prev;
        } else {
            self.entries[next as usize].prev = prev;
        }
        if (level as usize) < LEVELS && self.levels[level as usize].slots[slot as usize].head == NIL {
            self.levels[level as usize].occupied &= !(1 << slot);
        } else if level == OVERFLOW && self.overflow.head == NIL {
            self.overflow_era = u64::MAX;
        }
    }

    /// Frees an unlinked entry: bumps its generation and returns its key and value.
    fn release(&mut self, index: u32) -> (TimerKey, T) {
        let e = &mut self.entries[index as usize];
        let key = TimerKey { index, generation: e.generation };
        let value = e.value.take().expect("timing wheel: releasing a vacant entry");
        e.generation = e.generation.wrapping_add(1);
        e.level = VACANT;
        e.next = self.free;
        self.free = index;
        self.len -= 1;
        (key, value)
    }

    /// The earliest occupied slot: (level, slot, start time). All level-L entries precede all
    /// level-(L+1) entries, so it is the lowest set bit of the lowest non-empty level.
    fn next_slot(&self) -> Option<(usize, u8, u64)> {
        let (level, l) = self.levels.iter().enumerate().find(|(_, l)| l.occupied != 0)?;
        let slot = l.occupied.trailing_zeros();
        let shift = SLOT_BITS * level as u32;
        let base = self.elapsed & !((1u64 << (shift + SLOT_BITS)) - 1);
        let start = base + ((slot as u64) << shift);
        debug_assert!(start > self.elapsed);
        Some((level, slot as u8, start))
    }

    /// Re-places the entries of a slot whose start `elapsed` has reached: into the due list if
    /// their deadline is the slot start, else into a lower level. Keeps list order.
    fn cascade(&mut self, level: usize, slot: u8) {
        loop {
            let index = self.levels[level].slots[slot as usize].head;
            if index == NIL {
                break;
            }
            self.unlink(index);
            self.link(index);
            debug_assert!(self.entries[index as usize].level == DUE || (self.entries[index as usize].level as usize) < level);
        }
    }

    /// Fires the due list, stably sorted by deadline.
    fn fire_due(&mut self, f: &mut impl FnMut(TimerKey, T)) {
        if self.due.head == NIL {
            return;
        }
        let mut order = std::mem::take(&mut self.scratch);
        order.clear();
        let (mut sorted, mut last) = (true, 0);
        let mut index = self.due.head;
        while index != NIL {
            let e = &self.entries[index as usize];
            sorted &= e.deadline >= last;
            last = e.deadline;
            order.push(index);
            index = e.next;
        }
        if !sorted {
            order.sort_by_key(|&i| self.entries[i as usize].deadline);
        }
        for &index in &order {
            self.unlink(index);
            let (key, value) = self.release(index);
            f(key, value);
        }
        order.clear();
        self.scratch = order;
    }

    /// With the due list and levels empty: if `now` is in a later era than `elapsed` and some
    /// overflow entry's era is `<= now`'s, jumps `elapsed` to the start of the earliest such era
    /// and re-places that era's entries. Returns whether it did.
    fn enter_next_era(&mut self, now: u64) -> bool {
        debug_assert!(self.due.head == NIL && self.levels.iter().all(|l| l.occupied == 0));
        let now_era = now >> ERA_BITS;
        if self.overflow.head == NIL || now_era == self.elapsed >> ERA_BITS || self.overflow_era > now_era {
            return false;
        }
        // The cached bound may be stale-low after removals: find the exact earliest era.
        let mut era = u64::MAX;
        let mut index = self.overflow.head;
        while index != NIL {
            let e = &self.entries[index as usize];
            era = era.min(e.deadline >> ERA_BITS);
            index = e.next;
        }
        self.overflow_era = era;
        if era > now_era {
            return false;
        }
        debug_assert!(era > self.elapsed >> ERA_BITS);
        self.elapsed = era << ERA_BITS;
        let (mut rest, mut index) = (u64::MAX, self.overflow.head);
        while index != NIL {
            let Entry { next, deadline, .. } = self.entries[index as usize];
            if deadline >> ERA_BITS == era {
                self.unlink(index);
                self.link(index);
            } else {
                rest = rest.min(deadline >> ERA_BITS);
            }
            index = next;
        }
        self.overflow_era = rest;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// splitmix64: a tiny deterministic PRNG for the randomized tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// Uniform in `0..2^b` for `b` uniform in `0..bits`: spreads over all magnitudes.
        fn log_uniform(&mut self, bits: u64) -> u64 {
            let b = self.below(bits);
            self.below(1 << b)
        }
    }

    /// Prints the seed if the test panics while it is alive.
    struct SeedGuard(u64);

    impl Drop for SeedGuard {
        fn drop(&mut self) {
            if std::thread::panicking() {
                eprintln!("randomized test failed with seed {:#x}", self.0);
            }
        }
    }

    const ERA: u64 = 1 << ERA_BITS;

    impl<T> Wheel<T> {
        /// Checks every structural invariant. O(entries + slots).
        fn check(&self) {
            let mut seen = 0;
            let mut check_list = |list: List, level: u8, slot: u8| {
                let (mut prev, mut index) = (NIL, list.head);
                while index != NIL {
                    let e = &self.entries[index as usize];
                    assert!(e.value.is_some(), "vacant entry linked");
                    assert_eq!((e.level, e.slot), (level, slot), "entry tagged with the wrong list");
                    assert_eq!((level, slot), self.place(e.deadline), "entry {index} (deadline {}) misplaced", e.deadline);
                    assert_eq!(e.prev, prev, "broken prev link");
                    seen += 1;
                    prev = index;
                    index = e.next;
                }
                assert_eq!(list.tail, prev, "broken tail");
            };
            for (level, l) in self.levels.iter().enumerate() {
                for (slot, list) in l.slots.iter().enumerate() {
                    assert_eq!(l.occupied & (1 << slot) != 0, list.head != NIL, "occupancy bit of level {level} slot {slot}");
                    check_list(*list, level as u8, slot as u8);
                }
            }
            check_list(self.due, DUE, 0);
            check_list(self.overflow, OVERFLOW, 0);
            let mut era = u64::MAX;
            let mut index = self.overflow.head;
            while index != NIL {
                era = era.min(self.entries[index as usize].deadline >> ERA_BITS);
                index = self.entries[index as usize].next;
            }
            if era != u64::MAX {
                assert!(self.overflow_era <= era && self.overflow_era > self.elapsed >> ERA_BITS, "overflow era bound");
            }
            assert_eq!(seen, self.len);
            let mut vacant = 0;
            let mut index = self.free;
            while index != NIL {
                let e = &self.entries[index as usize];
                assert!(e.value.is_none() && e.level == VACANT);
                vacant += 1;
                index = e.next;
            }
            assert_eq!(vacant + self.len, self.entries.len());
        }
    }

    /// Polls to `now` and returns the fired values.
    fn fire<T>(wheel: &mut Wheel<T>, now: u64) -> Vec<T> {
        let mut out = Vec::new();
        wheel.poll(now, |_, v| out.push(v));
        wheel.check();
        out
    }

    /// Drives the wheel by `next_expiration` only, as a timer driver would, recording
    /// `(fire time, value)` and checking nothing fires before its deadline.
    fn drive(wheel: &mut Wheel<u64>, deadlines: &BTreeMap<u64, u64>) -> Vec<(u64, u64)> {
        let mut fired = Vec::new();
        while let Some(t) = wheel.next_expiration() {
            assert!(t >= wheel.elapsed());
            let before = fired.len();
            wheel.poll(t, |_, v| fired.push((t, v)));
            wheel.check();
            for &(t, v) in &fired[before..] {
                assert_eq!(t, deadlines[&v], "value {v} fired at {t}");
            }
        }
        fired
    }

    #[test]
    fn fires_exactly_at_the_deadline_never_early() {
        for deadline in [1, 2, 5, 63, 64, 65, 100, 127, 128, 1000, 4095, 4096, 4097, 5000, 9000] {
            let mut wheel = Wheel::new();
            wheel.insert(deadline, deadline);
            for now in 0..deadline {
                assert!(fire(&mut wheel, now).is_empty(), "{deadline} fired early at {now}");
            }
            assert_eq!(fire(&mut wheel, deadline), [deadline]);
            assert!(wheel.is_empty());
            assert_eq!(wheel.next_expiration(), None);
        }
    }

    #[test]
    fn fires_at_the_deadline_when_polled_in_one_jump_or_just_before() {
        let mut wheel = Wheel::new();
        wheel.poll(777, |_, _: u64| unreachable!());
        for delta in [1, 63, 64, 4095, 4096, 1 << 18, (1 << 30) + 3, ERA - 1, ERA, 5 * ERA + 9] {
            let deadline = wheel.elapsed() + delta;
            wheel.insert(deadline, deadline);
            assert!(fire(&mut wheel, deadline - 1).is_empty());
            assert_eq!(fire(&mut wheel, deadline), [deadline]);
        }
    }

    #[test]
    fn past_deadlines_fire_at_the_next_poll_in_deadline_order() {
        let mut wheel = Wheel::new();
        wheel.poll(1000, |_, _: u64| unreachable!());
        for d in [900, 1000, 5, 900, 0, 999] {
            wheel.insert(d, d);
        }
        wheel.insert(1001, 1001);
        assert_eq!(wheel.next_expiration(), Some(1000));
        // The same `now`, and even an earlier one, fires what is due, but nothing else.
        assert_eq!(fire(&mut wheel, 10), [0, 5, 900, 900, 999, 1000]);
        assert_eq!(wheel.elapsed(), 1000);
        assert_eq!(fire(&mut wheel, 1001), [1001]);
    }

    #[test]
    fn many_past_deadlines_fire_sorted_ties_in_insertion_order() {
        let mut rng = Rng(7);
        let mut wheel = Wheel::new();
        wheel.poll(1 << 20, |_, _: (u64, u64)| {});
        let mut expected: Vec<_> = (0..1000).map(|i| (rng.below(1 << 20) & !0xffff, i)).collect();
        for &(d, i) in &expected {
            wheel.insert(d, (d, i));
        }
        expected.sort();
        assert_eq!(fire(&mut wheel, 0), expected);
    }

    #[test]
    fn zero_deadline_fires_at_the_first_poll() {
        let mut wheel = Wheel::new();
        let key = wheel.insert(0, "zero");
        assert_eq!(wheel.deadline(key), Some(0));
        assert_eq!(wheel.next_expiration(), Some(0));
        assert_eq!(fire(&mut wheel, 0), ["zero"]);
        assert_eq!(wheel.elapsed(), 0);
    }

    #[test]
    fn smaller_now_never_moves_time_backwards() {
        let mut wheel = Wheel::new();
        wheel.poll(5000, |_, _: u64| {});
        wheel.insert(5001, 1);
        assert!(fire(&mut wheel, 3).is_empty());
        assert_eq!(wheel.elapsed(), 5000);
        assert_eq!(fire(&mut wheel, 5001), [1]);
    }

    #[test]
    fn random_deadlines_fire_in_deadline_order_ties_in_insertion_order() {
        let mut rng = Rng(0x5eed);
        let mut wheel = Wheel::new();
        let mut expected = Vec::new();
        for i in 0..5000u64 {
            // Few distinct deadlines so there are many ties, spread over all levels.
            let deadline = match rng.below(3) {
                0 => rng.below(64),
                1 => rng.below(64) * 4096,
                _ => rng.below(40) << (rng.below(40) as u32),
            };
            wheel.insert(deadline, (deadline, i));
            expected.push((deadline, i));
        }
        expected.sort(); // (deadline, insertion index)
        let mut fired = Vec::new();
        let mut now = 0;
        while !wheel.is_empty() {
            now += 1 + rng.log_uniform(45);
            wheel.poll(now, |_, v| {
                assert!(v.0 <= now);
                fired.push(v);
            });
        }
        assert_eq!(fired, expected);
    }

    #[test]
    fn remove_before_fire_returns_the_value_and_it_never_fires() {
        let mut wheel = Wheel::new();
        let keys: Vec<_> = (0..100u64).map(|i| wheel.insert(i * 97, i)).collect();
        for (i, &key) in keys.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
            assert_eq!(wheel.remove(key), Some(i as u64));
            assert_eq!(wheel.deadline(key), None);
        }
        wheel.check();
        assert_eq!(wheel.len(), 66);
        let fired = fire(&mut wheel, u64::MAX);
        assert_eq!(fired, (0..100).filter(|i| i % 3 != 0).collect::<Vec<_>>());
        assert!(wheel.is_empty());
    }

    #[test]
    fn stale_keys_are_rejected_and_never_touch_the_entry_reusing_the_slot() {
        let mut wheel = Wheel::new();
        let fired_key = wheel.insert(10, "fired");
        let mut seen = None;
        wheel.poll(10, |k, v| seen = Some((k, v)));
        assert_eq!(seen, Some((fired_key, "fired")));
        let removed_key = wheel.insert(20, "removed");
        assert_eq!(removed_key.index, fired_key.index, "the slab slot is reused");
        assert_eq!(wheel.remove(removed_key), Some("removed"));

        let live = wheel.insert(30, "live");
        assert_eq!(live.index, fired_key.index);
        for stale in [fired_key, removed_key] {
            assert_ne!(stale, live);
            assert_eq!(wheel.remove(stale), None);
            assert!(!wheel.reset(stale, 11));
            assert_eq!(wheel.deadline(stale), None);
            assert!(wheel.get_mut(stale).is_none());
        }
        assert_eq!(wheel.remove(removed_key), None, "double remove");
        assert_eq!(wheel.deadline(live), Some(30));
        assert_eq!(wheel.len(), 1);
        assert!(fire(&mut wheel, 29).is_empty());
        assert_eq!(fire(&mut wheel, 30), ["live"]);
        assert_eq!(wheel.remove(live), None);
    }

    #[test]
    fn get_mut_swaps_the_value_in_place() {
        let mut wheel = Wheel::new();
        let key = wheel.insert(5, 1);
        *wheel.get_mut(key).unwrap() = 2;
        assert!(wheel.reset(key, 7));
        assert_eq!(fire(&mut wheel, 7), [2]);
    }

    #[test]
    fn reset_earlier_and_later_across_levels() {
        let mut wheel = Wheel::new();
        wheel.poll(100, |_, _: u64| {});
        let cases: [(u64, u64); 8] = [
            (100 + 300_000, 100 + 10),          // level 3 -> level 0
            (100 + 5, 100 + 70_000_000),        // level 0 -> level 4
            (100 + 4000, 100 + 4000 + ERA),     // level 1/2 -> overflow
            (100 + 3 * ERA, 100 + 200),         // overflow -> level 1
            (100 + 50, 100 + 2_000_000_000),    // level 0 -> level 5
            (100 + 2_000_000_000, 100 + 4097),  // level 5 -> level 2
            (100 + 1000, 50),                   // level 1 -> the past (due)
            (100 + 64 * 64 * 64 * 64, 100 + 1), // level 4 -> level 0
        ];
        let mut deadlines = BTreeMap::new();
        for (i, &(first, _)) in cases.iter().enumerate() {
            wheel.insert(first, i as u64);
        }
        let keys: Vec<_> = cases.iter().enumerate().map(|(i, &(first, _))| (wheel.insert(first, 100 + i as u64), i)).collect();
        for &(key, i) in &keys {
            assert!(wheel.reset(key, cases[i].1));
            assert_eq!(wheel.deadline(key), Some(cases[i].1));
            deadlines.insert(100 + i as u64, cases[i].1.max(100));
            deadlines.insert(i as u64, cases[i].0);
        }
        wheel.check();
        let fired = drive(&mut wheel, &deadlines);
        assert_eq!(fired.len(), 16);
        // Fired in deadline order, and the resets at the exact new deadlines (checked by `drive`).
        assert!(fired.windows(2).all(|w| w[0].0 <= w[1].0));
        // Reset twice: back and forth across levels, and to the same deadline (moves to the back).
        let a = wheel.insert(wheel.elapsed() + 10, 1);
        let b = wheel.insert(wheel.elapsed() + 10, 2);
        assert!(wheel.reset(a, wheel.elapsed() + 10_000_000));
        assert!(wheel.reset(a, wheel.elapsed() + 10));
        let deadline = wheel.elapsed() + 10;
        assert!(wheel.reset(b, deadline));
        assert_eq!(fire(&mut wheel, deadline), [1, 2]);
    }

    #[test]
    fn cascades_through_every_level_and_beyond_the_top() {
        let deadlines: Vec<u64> = vec![
            63,
            64,
            65,
            4095,
            4096,
            4097,
            64 * 64 * 64,
            64 * 64 * 64 + 1,
            64 * 64 * 64 * 64 - 1,
            64 * 64 * 64 * 64 * 64,
            64 * 64 * 64 * 64 * 64 + 7,
            ERA - 1,
            ERA,     // beyond the top level
            ERA + 1, // beyond the top level
            3 * ERA + 12345,
            1 << 50,
            u64::MAX - 1,
            u64::MAX,
        ];
        // Each alone: not a millisecond early, fires exactly at its deadline.
        for &d in &deadlines {
            let mut wheel = Wheel::new();
            let key = wheel.insert(d, d);
            assert!(fire(&mut wheel, d - 1).is_empty(), "{d} fired early");
            assert_eq!(wheel.deadline(key), Some(d), "{d} lost");
            assert_eq!(fire(&mut wheel, d), [d]);
        }
        // All together, in one jump, and from an unaligned start.
        for start in [0, 1, 4000, ERA - 3] {
            let mut wheel = Wheel::new();
            wheel.poll(start, |_, _: u64| {});
            for &d in deadlines.iter().rev() {
                wheel.insert(d.saturating_add(start), d.saturating_add(start));
            }
            wheel.check();
            let mut sorted: Vec<_> = deadlines.iter().map(|d| d.saturating_add(start)).collect();
            sorted.sort();
            assert_eq!(fire(&mut wheel, u64::MAX), sorted);
        }
        // All together, driven by next_expiration: each fires at exactly its deadline.
        let mut wheel = Wheel::new();
        let mut map = BTreeMap::new();
        for &d in &deadlines {
            wheel.insert(d, d);
            map.insert(d, d);
        }
        let fired = drive(&mut wheel, &map);
        assert_eq!(fired.iter().map(|&(_, v)| v).collect::<Vec<_>>(), deadlines);
    }

    #[test]
    fn a_jump_across_many_eras_fires_overflow_timers_in_order() {
        let mut wheel = Wheel::new();
        let mut expected = Vec::new();
        for era in [40u64, 2, 7, 2, 1000, 7] {
            for low in [5, 0, ERA - 1, 64] {
                let d = era * ERA + low;
                wheel.insert(d, d);
                expected.push(d);
            }
        }
        expected.sort();
        // Stop inside an era that holds overflow timers, then go on.
        let mid = 7 * ERA + 64;
        let first = fire(&mut wheel, mid);
        assert_eq!(first, expected.iter().copied().filter(|&d| d <= mid).collect::<Vec<_>>());
        let rest = fire(&mut wheel, u64::MAX);
        assert_eq!([first, rest].concat(), expected);
    }

    #[test]
    fn next_expiration_bounds_the_true_minimum_after_random_ops() {
        for seed in 0..20u64 {
            let _guard = SeedGuard(seed);
            let mut rng = Rng(seed);
            let mut wheel = Wheel::new();
            let mut model: BTreeMap<(u64, u64), u64> = BTreeMap::new();
            let mut keys: Vec<(TimerKey, (u64, u64))> = Vec::new();
            for step in 0..600u64 {
                match rng.below(10) {
                    0..=4 => {
                        let d = wheel.elapsed().saturating_sub(3) + rng.log_uniform(40);
                        keys.push((wheel.insert(d, step), (d, step)));
                        model.insert((d, step), step);
                    }
                    5 | 6 if !keys.is_empty() => {
                        let (key, id) = keys.swap_remove(rng.below(keys.len() as u64) as usize);
                        assert_eq!(wheel.remove(key), model.remove(&id));
                    }
                    _ => {
                        let now = wheel.elapsed() + rng.log_uniform(38);
                        wheel.poll(now, |_, v| {
                            let ((d, _), id) = model.pop_first().unwrap();
                            assert_eq!((v, d <= now), (id, true));
                        });
                        keys.retain(|(_, id)| model.contains_key(id));
                    }
                }
                let elapsed = wheel.elapsed();
                match (wheel.next_expiration(), model.keys().next()) {
                    (None, None) => {}
                    (Some(t), Some(&(min, _))) => {
                        assert!(elapsed <= t && t <= min.max(elapsed), "bound {t} for min {min} at {elapsed}");
                        if min <= elapsed || (min >> SLOT_BITS == elapsed >> SLOT_BITS) {
                            assert_eq!(t, min.max(elapsed), "not exact in level 0");
                        }
                        // Polling at the bound converges on the true minimum within LEVELS + 1
                        // polls, firing nothing on the way (probed on a wheel holding only it).
                        let mut probe = Wheel::new();
                        probe.poll(elapsed, |_, _: ()| {});
                        probe.insert(min, ());
                        let mut polls = 0;
                        while probe.next_expiration() != Some(min.max(elapsed)) {
                            let t = probe.next_expiration().unwrap();
                            assert!(fire(&mut probe, t).is_empty());
                            polls += 1;
                        }
                        assert!(polls <= LEVELS + 1, "{polls} polls to reach {min} from {elapsed}");
                    }
                    (t, min) => panic!("next_expiration {t:?} but minimum {min:?}"),
                }
                assert_eq!(wheel.len(), model.len());
            }
            wheel.check();
        }
    }

    /// One randomized run against a `BTreeMap<(deadline, seq)>` reference.
    fn model_run(seed: u64, ops: usize) {
        let _guard = SeedGuard(seed);
        let mut rng = Rng(seed);
        let mut wheel: Wheel<u64> = Wheel::new();
        let mut model: BTreeMap<(u64, u64), u64> = BTreeMap::new(); // (deadline, seq) -> id
        let mut live: Vec<(u64, TimerKey, (u64, u64))> = Vec::new(); // (id, key, model key)
        let mut stale: Vec<TimerKey> = Vec::new();
        let mut seq = 0;
        let mut hot: Vec<u64> = vec![0]; // recently used deadlines, to produce ties
        let mut pick_deadline = |rng: &mut Rng, elapsed: u64| -> u64 {
            // Saturating: driving by `next_expiration` may reach the last era.
            let d = match rng.below(24) {
                0 | 1 => elapsed.saturating_sub(rng.below(100)),       // past or now
                2..=7 => elapsed.saturating_add(rng.below(64)),        // level 0 / 1
                8..=11 => elapsed.saturating_add(rng.log_uniform(37)), // any level
                12 | 13 => elapsed.saturating_add(rng.below(4 * ERA)), // beyond the top
                14 | 15 => {
                    // Slot boundaries of every level.
                    let align = 1u64 << (SLOT_BITS * rng.below(LEVELS as u64 + 1) as u32);
                    (elapsed / align).saturating_add(rng.below(3)).saturating_mul(align).saturating_add(rng.below(2))
                }
                16 => u64::MAX - rng.below(2),
                _ => hot[rng.below(hot.len() as u64) as usize], // ties
            };
            if hot.len() < 16 {
                hot.push(d);
            } else {
                hot[rng.below(16) as usize] = d;
            }
            d
        };
        let mut id = 0;
        for op in 0..ops {
            let elapsed = wheel.elapsed();
            match rng.below(40) {
                0..=19 => {
                    let d = pick_deadline(&mut rng, elapsed);
                    id += 1;
                    seq += 1;
                    let key = wheel.insert(d, id);
                    assert_eq!(wheel.deadline(key), Some(d));
                    model.insert((d, seq), id);
                    live.push((id, key, (d, seq)));
                }
                20..=22 if !live.is_empty() => {
                    let (id, key, mk) = live.swap_remove(rng.below(live.len() as u64) as usize);
                    assert_eq!(model.remove(&mk), Some(id));
                    assert_eq!(wheel.remove(key), Some(id));
                    stale.push(key);
                }
                23..=28 if !live.is_empty() => {
                    let i = rng.below(live.len() as u64) as usize;
                    let d = pick_deadline(&mut rng, elapsed);
                    seq += 1;
                    let (id, key, mk) = &mut live[i];
                    assert_eq!(model.remove(mk), Some(*id));
                    *mk = (d, seq);
                    model.insert(*mk, *id);
                    assert!(wheel.reset(*key, d));
                    assert_eq!(wheel.deadline(*key), Some(d));
                }
                29 if !stale.is_empty() => {
                    let key = stale[rng.below(stale.len() as u64) as usize];
                    match rng.below(3) {
                        0 => assert_eq!(wheel.remove(key), None),
                        1 => assert!(!wheel.reset(key, elapsed.saturating_add(1))),
                        _ => assert_eq!(wheel.deadline(key), None),
                    }
                }
                _ => {
                    // Calm phases (small steps: hundreds of timers pile up across all levels)
                    // alternate with wild ones (steps of any size, up to several eras).
                    let now = match if op % 1250 < 1000 { rng.below(40) } else { rng.below(64) } {
                        0..=3 => elapsed.saturating_sub(rng.below(50)),
                        4..=34 => elapsed.saturating_add(rng.below(20)),
                        35..=39 => wheel.next_expiration().unwrap_or(elapsed).min(elapsed + (1 << 16)),
                        40..=55 => elapsed.saturating_add(rng.log_uniform(26)),
                        56..=58 => elapsed.saturating_add(rng.log_uniform(37)),
                        59 => elapsed.saturating_add(rng.below(3 * ERA)),
                        // As a driver would (capped: it may point at a far era).
                        _ => wheel.next_expiration().unwrap_or(elapsed).min(elapsed.saturating_add(4 * ERA)),
                    };
                    let horizon = now.max(elapsed);
                    let mut fired = Vec::new();
                    wheel.poll(now, |key, v| fired.push((key, v)));
                    let mut expected = Vec::new();
                    while let Some(entry) = model.first_entry() {
                        if entry.key().0 > horizon {
                            break;
                        }
                        expected.push(entry.remove());
                    }
                    assert_eq!(fired.iter().map(|&(_, v)| v).collect::<Vec<_>>(), expected, "fire sequence up to {now}");
                    for (key, v) in fired {
                        let i = live.iter().position(|&(id, _, _)| id == v).unwrap();
                        assert_eq!(live.swap_remove(i).1, key, "fired with the wrong key");
                        stale.push(key);
                    }
                    assert_eq!(wheel.elapsed(), horizon);
                }
            }
            if stale.len() > 64 {
                stale.drain(..32);
            }
            assert_eq!(wheel.len(), model.len());
            wheel.check();
            let elapsed = wheel.elapsed();
            if let (Some(t), Some(&(min, _))) = (wheel.next_expiration(), model.keys().next()) {
                assert!(elapsed <= t && t <= min.max(elapsed));
            } else {
                assert_eq!(wheel.next_expiration().is_none(), model.is_empty());
            }
        }
        // Drain: everything left fires in model order.
        let mut fired = Vec::new();
        wheel.poll(u64::MAX, |_, v| fired.push(v));
        assert_eq!(fired, model.into_values().collect::<Vec<_>>());
        assert!(wheel.is_empty());
        wheel.check();
    }

    #[test]
    fn randomized_model_matches_btreemap_reference() {
        let base = 0x7133_5eed_0000u64;
        let seeds = if cfg!(debug_assertions) { 24 } else { 200 };
        for seed in base..base + seeds {
            model_run(seed, 3000);
        }
    }

    #[test]
    fn a_panicking_callback_leaves_the_wheel_consistent() {
        let mut wheel = Wheel::new();
        for d in [3, 5, 5, 70, 4100, 4100, 9000] {
            wheel.insert(d, d);
        }
        wheel.insert(1, 1);
        let mut fired = Vec::new();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wheel.poll(10_000, |_, v| {
                if v == 4100 && fired.contains(&70) && !fired.contains(&4100) {
                    fired.push(v);
                    panic!("callback panics");
                }
                fired.push(v);
            })
        }));
        assert!(result.is_err());
        wheel.check();
        wheel.poll(10_000, |_, v| fired.push(v));
        assert_eq!(fired, [1, 3, 5, 5, 70, 4100, 4100, 9000]);
        assert!(wheel.is_empty());
    }

    #[test]
    fn a_million_inserts_then_removes() {
        let n = 1_000_000;
        let mut rng = Rng(42);
        let mut wheel = Wheel::new();
        let keys: Vec<_> = (0..n).map(|i| wheel.insert(rng.log_uniform(40), i)).collect();
        assert_eq!(wheel.len(), n as usize);
        for (i, key) in keys.into_iter().enumerate() {
            assert_eq!(wheel.remove(key), Some(i as u32));
        }
        assert!(wheel.is_empty());
        assert_eq!(wheel.next_expiration(), None);
        wheel.check();
        // The slab is reused, not grown.
        let capacity = wheel.entries.len();
        for i in 0..n {
            wheel.insert(i as u64, i);
        }
        assert_eq!(wheel.entries.len(), capacity);
    }

    #[test]
    fn entries_are_small() {
        assert_eq!(std::mem::size_of::<Entry<()>>(), 24);
        assert_eq!(std::mem::size_of::<Entry<std::task::Waker>>(), 40);
        assert_eq!(std::mem::size_of::<TimerKey>(), 8);
    }

    #[test]
    fn len_and_is_empty_track_pending_timers() {
        let mut wheel = Wheel::new();
        assert!(wheel.is_empty());
        let a = wheel.insert(10, ());
        wheel.insert(20, ());
        assert_eq!(wheel.len(), 2);
        wheel.remove(a);
        assert_eq!(wheel.len(), 1);
        wheel.poll(20, |_, _| {});
        assert!(wheel.is_empty());
        assert_eq!(wheel.elapsed(), 20);
    }
}
