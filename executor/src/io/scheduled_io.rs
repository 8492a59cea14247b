//! The readiness of one registration and the tasks waiting for it.
//!
//! Each direction (read, write) has its own word:
//!
//! ```text
//!   63                                   8 7        6      0
//!  ┌──────────────────────────────────────┬──────────┬──────┐
//!  │ generation (56 bits)                 │ SHUTDOWN │ Ready│
//!  └──────────────────────────────────────┴──────────┴──────┘
//! ```
//!
//! The protocol that makes "readiness is cleared only when an operation returned WouldBlock,
//! and readiness that arrives in between is not lost" hold:
//!
//! * the reactor's dispatch ([`ScheduledIo::set_readiness`]) ORs the new bits in **and**
//!   increments the generation, in one CAS, then takes the waiters' wakers under the waiters'
//!   lock;
//! * an operation observes the word ([`ReadyEvent`] carries the generation), tries the system
//!   call, and on `WouldBlock` clears the bits only if the generation is still the one it saw
//!   ([`ScheduledIo::clear_readiness`]): an event dispatched in between bumped it, so the clear
//!   is skipped and the next poll sees the new readiness;
//! * a task that finds no readiness stores its waker under the waiters' lock and re-reads the
//!   word under that lock: either it sees the readiness, or the dispatch takes the lock after it
//!   and finds the waker.
//!
//! The generation is per direction and 56 bits wide: a read that observed generation `g` can
//! only be fooled into clearing fresh readiness if exactly 2^56 dispatches happened between its
//! observation and its clear (tokio's 8-bit tick shared by both directions wraps after 256,
//! the root of tokio#6133 and tokio#8054). The `loom` model below checks the protocol.

use super::ready::{Interest, Ready};
use crate::loom::sync::atomic::{AtomicU64, Ordering};
use crate::loom::sync::Mutex;
use crate::task::coop;
use std::io;
use std::task::{ready, Context, Poll, Waker};

const READY_MASK: u64 = 0x3f;
const SHUTDOWN: u64 = 0x80;
const GEN_SHIFT: u32 = 8;
const GEN_ONE: u64 = 1 << GEN_SHIFT;

/// Readiness that never clears: the closed halves (every operation completes at once).
const STICKY: Ready = Ready::from_bits(Ready::READ_CLOSED.bits() | Ready::WRITE_CLOSED.bits());

/// The readiness bits each direction's word keeps.
const READ_BITS: Ready =
    Ready::from_bits(Ready::READABLE.bits() | Ready::READ_CLOSED.bits() | Ready::PRIORITY.bits() | Ready::ERROR.bits());
const WRITE_BITS: Ready = Ready::from_bits(Ready::WRITABLE.bits() | Ready::WRITE_CLOSED.bits() | Ready::ERROR.bits());

/// Which word of a registration.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The direction an interest of a single kind waits on (priority data is read-side).
    pub(crate) fn of(interest: Interest) -> Direction {
        if interest.is_writable() && !interest.is_readable() && !interest.is_priority() {
            Direction::Write
        } else {
            Direction::Read
        }
    }
}

/// Readiness observed by a poll: what to act on, and the generations to clear it by.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    pub(crate) ready: Ready,
    read_gen: Option<u64>,
    write_gen: Option<u64>,
}

/// One registration's readiness words and waiters (tokio calls it the same).
pub(crate) struct ScheduledIo {
    read: AtomicU64,
    write: AtomicU64,
    waiters: Mutex<Waiters>,
}

#[derive(Default)]
struct Waiters {
    /// The waker of `poll_read_ready` (one reader at a time, as `AsyncRead`).
    reader: Option<Waker>,
    /// The waker of `poll_write_ready`.
    writer: Option<Waker>,
    /// The place of the first `readable()` / `writable()` / `ready()` future (key 0), inline:
    /// the common case — one task awaiting its socket — allocates nothing. Vacant while its
    /// mask is empty (a waiter's mask always holds `ERROR`), which keeps it 24 bytes.
    first: Waiter,
    /// The places of further such futures, any number of tasks (allocated on first use: most
    /// registrations never have two waiting futures, and this keeps `ScheduledIo` small).
    more: Option<Box<MoreWaiters>>,
}

/// Places beyond the first: key `i + 1` is `list[i]`; freed places are reused through `free`.
#[derive(Default)]
struct MoreWaiters {
    list: Vec<Option<Waiter>>,
    free: Vec<usize>,
}

impl Waiters {
    /// Stores a waiter; returns its key.
    fn insert(&mut self, waiter: Waiter) -> usize {
        debug_assert!(!waiter.mask.is_empty(), "an empty mask marks a vacant place");
        if self.first.mask.is_empty() {
            self.first = waiter;
            return 0;
        }
        let more = self.more.get_or_insert_with(Box::default);
        match more.free.pop() {
            Some(i) => {
                more.list[i] = Some(waiter);
                i + 1
            }
            None => {
                more.list.push(Some(waiter));
                more.list.len()
            }
        }
    }

    fn get_mut(&mut self, key: usize) -> Option<&mut Waiter> {
        match key {
            0 => (!self.first.mask.is_empty()).then_some(&mut self.first),
            k => self.more.as_mut()?.list.get_mut(k - 1)?.as_mut(),
        }
    }

    /// Frees the place `key`.
    fn remove(&mut self, key: usize) {
        match key {
            0 => self.first = Waiter::VACANT,
            k => {
                if let Some(more) = self.more.as_mut() {
                    if more.list.get_mut(k - 1).and_then(Option::take).is_some() {
                        more.free.push(k - 1);
                    }
                }
            }
        }
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Waiter> {
        let first = (!self.first.mask.is_empty()).then_some(&mut self.first);
        let more = self.more.as_mut().map(|m| m.list.iter_mut().flatten());
        first.into_iter().chain(more.into_iter().flatten())
    }
}

struct Waiter {
    mask: Ready,
    waker: Option<Waker>,
}

impl Waiter {
    const VACANT: Waiter = Waiter { mask: Ready::EMPTY, waker: None };
}

impl Default for Waiter {
    fn default() -> Waiter {
        Waiter::VACANT
    }
}

/// A waiter's place in the list (held by a readiness future, released on drop).
#[derive(Debug)]
pub(crate) struct WaiterKey(usize);

/// Wakers taken under a lock, to be woken after it is released.
pub(crate) type WakeList = Vec<Waker>;

fn gen(word: u64) -> u64 {
    word >> GEN_SHIFT
}

fn shutdown_error() -> io::Error {
    io::Error::other("the runtime this I/O resource was registered with has shut down")
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo { read: AtomicU64::new(0), write: AtomicU64::new(0), waiters: Mutex::new(Waiters::default()) }
    }

    fn word(&self, dir: Direction) -> &AtomicU64 {
        match dir {
            Direction::Read => &self.read,
            Direction::Write => &self.write,
        }
    }

    /// Adds reactor readiness (bumping each touched direction's generation) and moves the
    /// wakers of the waiters it satisfies to `wake`.
    pub(crate) fn set_readiness(&self, ready: Ready, wake: &mut WakeList) {
        let r = ready & READ_BITS;
        let w = ready & WRITE_BITS;
        for (dir, bits) in [(Direction::Read, r), (Direction::Write, w)] {
            if !bits.is_empty() {
                // One RMW: the bits and the generation move together.
                let _ = self.word(dir).fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                    Some((cur.wrapping_add(GEN_ONE) & !READY_MASK) | (cur & READY_MASK) | u64::from(bits.bits()))
                });
            }
        }
        self.take_wakers(ready, wake);
    }

    /// Marks both directions shut down (every poll fails from now on) and takes every waker.
    pub(crate) fn shutdown(&self, wake: &mut WakeList) {
        self.read.fetch_or(SHUTDOWN, Ordering::AcqRel);
        self.write.fetch_or(SHUTDOWN, Ordering::AcqRel);
        self.take_wakers(Ready::ALL, wake);
    }

    fn take_wakers(&self, ready: Ready, wake: &mut WakeList) {
        let mut w = self.waiters.lock();
        if ready.intersects(READ_BITS) {
            wake.extend(w.reader.take());
        }
        if ready.intersects(WRITE_BITS) {
            wake.extend(w.writer.take());
        }
        for waiter in w.iter_mut() {
            if waiter.mask.intersects(ready) {
                wake.extend(waiter.waker.take());
            }
        }
    }

    /// Calls `f` with each stored waker and the interest it waits for (the dump).
    pub(crate) fn for_each_waiter(&self, mut f: impl FnMut(Interest, &Waker)) {
        let mut w = self.waiters.lock();
        if let Some(waker) = &w.reader {
            f(Interest::READABLE, waker);
        }
        if let Some(waker) = &w.writer {
            f(Interest::WRITABLE, waker);
        }
        for waiter in w.iter_mut() {
            if let Some(waker) = &waiter.waker {
                f(Interest::of_ready(waiter.mask), waker);
            }
        }
    }

    /// The readiness satisfying `interest` now, if any.
    pub(crate) fn readiness(&self, interest: Interest) -> io::Result<Option<ReadyEvent>> {
        let mask = interest.mask();
        let mut ev = ReadyEvent { ready: Ready::EMPTY, read_gen: None, write_gen: None };
        for dir in [Direction::Read, Direction::Write] {
            let dir_mask = mask & if dir == Direction::Read { READ_BITS } else { WRITE_BITS };
            // Errors are recorded in both words; an interest in errors alone reads the read word.
            let wanted = match dir {
                Direction::Read => interest.is_readable() || interest.is_priority() || interest.is_error(),
                Direction::Write => interest.is_writable(),
            };
            if !wanted {
                continue;
            }
            let word = self.word(dir).load(Ordering::Acquire);
            if word & SHUTDOWN != 0 {
                return Err(shutdown_error());
            }
            let bits = Ready::from_bits((word & READY_MASK) as u8) & dir_mask;
            if !bits.is_empty() {
                ev.ready = ev.ready | bits;
                match dir {
                    Direction::Read => ev.read_gen = Some(gen(word)),
                    Direction::Write => ev.write_gen = Some(gen(word)),
                }
            }
        }
        Ok(if ev.ready.is_empty() { None } else { Some(ev) })
    }

    /// Clears the readiness `ev` observed, in each direction whose generation has not moved
    /// since (readiness dispatched after the observation stays). Closed halves stay set.
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        for (dir, observed) in [(Direction::Read, ev.read_gen), (Direction::Write, ev.write_gen)] {
            let Some(observed) = observed else { continue };
            let clear = u64::from((ev.ready - STICKY).bits());
            let _ = self.word(dir).fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                (gen(cur) == observed && cur & clear != 0).then_some(cur & !clear)
            });
        }
    }

    /// Clears the readiness `ev` observed after a short transfer on a stream socket (see
    /// `AsyncFd::poll_io_stream`), as [`clear_readiness`](Self::clear_readiness) does — unless
    /// urgent data is pending (`PRIORITY` recorded): a read stops at the urgent mark, so a short
    /// read then does not mean the socket was drained.
    pub(crate) fn clear_drained(&self, ev: ReadyEvent) {
        if ev.read_gen.is_some() && self.read.load(Ordering::Acquire) & u64::from(Ready::PRIORITY.bits()) != 0 {
            return;
        }
        self.clear_readiness(ev);
    }

    /// Keeps only `retain` of the readiness `ev` observed (see [`clear_readiness`](Self::clear_readiness)).
    pub(crate) fn retain_readiness(&self, mut ev: ReadyEvent, retain: Ready) {
        ev.ready = ev.ready - retain;
        self.clear_readiness(ev);
    }

    /// `poll_read_ready` / `poll_write_ready`: one slot per direction.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<ReadyEvent>> {
        let interest = match dir {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        };
        let coop = ready!(coop::poll_proceed(cx));
        if let Some(ev) = self.readiness(interest)? {
            coop.made_progress();
            return Poll::Ready(Ok(ev));
        }
        let mut w = self.waiters.lock();
        let slot = match dir {
            Direction::Read => &mut w.reader,
            Direction::Write => &mut w.writer,
        };
        match slot {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        // Re-check under the lock: a dispatch that set readiness before we stored the waker
        // is seen here; one after takes the lock after us and finds the waker.
        match self.readiness(interest)? {
            Some(ev) => {
                coop.made_progress();
                Poll::Ready(Ok(ev))
            }
            None => Poll::Pending,
        }
    }

    /// Polls for `interest` on behalf of a readiness future holding `key` (any number of tasks
    /// may wait at once, each with its own key). Takes no unit of the cooperative budget: the
    /// operation that follows the wait does (as in tokio).
    pub(crate) fn poll_waiter(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        key: &mut Option<WaiterKey>,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(ev) = self.readiness(interest)? {
            return Poll::Ready(Ok(ev));
        }
        let mut w = self.waiters.lock();
        let idx = match key {
            Some(WaiterKey(idx)) => *idx,
            None => {
                let idx = w.insert(Waiter { mask: interest.mask(), waker: None });
                *key = Some(WaiterKey(idx));
                idx
            }
        };
        if let Some(waiter) = w.get_mut(idx) {
            match &waiter.waker {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => waiter.waker = Some(cx.waker().clone()),
            }
        }
        match self.readiness(interest)? {
            Some(ev) => Poll::Ready(Ok(ev)),
            None => Poll::Pending,
        }
    }

    /// Releases a readiness future's place in the waiter list.
    pub(crate) fn remove_waiter(&self, key: WaiterKey) {
        self.waiters.lock().remove(key.0);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::test_util::WakeCount;
    use std::sync::Arc;

    fn counter() -> (Arc<WakeCount>, Waker) {
        WakeCount::new()
    }

    fn woken(c: &WakeCount) -> usize {
        c.get()
    }

    fn set(io: &ScheduledIo, ready: Ready) {
        let mut wake = Vec::new();
        io.set_readiness(ready, &mut wake);
        wake.into_iter().for_each(Waker::wake);
    }

    #[test]
    fn readiness_dispatched_between_observation_and_clear_survives_the_clear() {
        let io = ScheduledIo::new();
        set(&io, Ready::READABLE);
        let seen = io.readiness(Interest::READABLE).unwrap().unwrap();
        set(&io, Ready::READABLE); // new data arrives while the read is in flight
        io.clear_readiness(seen); // the read returned WouldBlock for the old data
        assert!(io.readiness(Interest::READABLE).unwrap().is_some());
        let again = io.readiness(Interest::READABLE).unwrap().unwrap();
        io.clear_readiness(again);
        assert!(io.readiness(Interest::READABLE).unwrap().is_none());
    }

    #[test]
    fn clearing_one_direction_leaves_the_other() {
        let io = ScheduledIo::new();
        set(&io, Ready::READABLE | Ready::WRITABLE);
        let r = io.readiness(Interest::READABLE).unwrap().unwrap();
        io.clear_readiness(r);
        assert!(io.readiness(Interest::READABLE).unwrap().is_none());
        assert!(io.readiness(Interest::WRITABLE).unwrap().unwrap().ready.is_writable());
    }

    #[test]
    fn write_readiness_does_not_move_the_read_generation() {
        let io = ScheduledIo::new();
        set(&io, Ready::READABLE);
        let r = io.readiness(Interest::READABLE).unwrap().unwrap();
        set(&io, Ready::WRITABLE); // unrelated direction
        io.clear_readiness(r);
        assert!(io.readiness(Interest::READABLE).unwrap().is_none());
    }

    #[test]
    fn closed_halves_are_sticky() {
        let io = ScheduledIo::new();
        set(&io, Ready::READABLE | Ready::READ_CLOSED);
        let r = io.readiness(Interest::READABLE).unwrap().unwrap();
        io.clear_readiness(r);
        let left = io.readiness(Interest::READABLE).unwrap().unwrap();
        assert_eq!(left.ready, Ready::READ_CLOSED);
    }

    #[test]
    fn a_reader_and_a_writer_are_woken_by_their_own_direction() {
        let io = ScheduledIo::new();
        let (rc, rw) = counter();
        let (wc, ww) = counter();
        assert!(io.poll_ready(&mut Context::from_waker(&rw), Direction::Read).is_pending());
        assert!(io.poll_ready(&mut Context::from_waker(&ww), Direction::Write).is_pending());
        set(&io, Ready::WRITABLE);
        assert_eq!((woken(&rc), woken(&wc)), (0, 1));
        set(&io, Ready::READABLE);
        assert_eq!((woken(&rc), woken(&wc)), (1, 1));
    }

    #[test]
    fn every_waiting_future_is_woken_and_a_dropped_one_is_forgotten() {
        let io = ScheduledIo::new();
        let (c1, w1) = counter();
        let (c2, w2) = counter();
        let (mut k1, mut k2) = (None, None);
        assert!(io.poll_waiter(&mut Context::from_waker(&w1), Interest::READABLE, &mut k1).is_pending());
        assert!(io.poll_waiter(&mut Context::from_waker(&w2), Interest::READABLE, &mut k2).is_pending());
        io.remove_waiter(k2.take().unwrap());
        set(&io, Ready::READABLE);
        assert_eq!((woken(&c1), woken(&c2)), (1, 0));
        io.remove_waiter(k1.take().unwrap());
        // The freed places are reused.
        let mut k3 = None;
        let (_c3, w3) = counter();
        assert!(io.poll_waiter(&mut Context::from_waker(&w3), Interest::WRITABLE, &mut k3).is_pending());
        assert!(matches!(k3, Some(WaiterKey(0 | 1))));
    }

    #[test]
    fn one_waiting_future_takes_the_inline_place_and_more_spill_over() {
        let io = ScheduledIo::new();
        let wakers: Vec<_> = (0..3).map(|_| counter()).collect();
        let mut keys: Vec<Option<WaiterKey>> = (0..3).map(|_| None).collect();
        for ((_, w), k) in wakers.iter().zip(keys.iter_mut()) {
            assert!(io.poll_waiter(&mut Context::from_waker(w), Interest::READABLE, k).is_pending());
        }
        assert!(matches!(keys[0], Some(WaiterKey(0))));
        assert_eq!(io.waiters.lock().more.as_ref().map(|m| m.list.len()), Some(2));
        // Freeing the inline place and waiting again reuses it; the others keep theirs.
        io.remove_waiter(keys[0].take().unwrap());
        let (c, w) = counter();
        let mut k = None;
        assert!(io.poll_waiter(&mut Context::from_waker(&w), Interest::READABLE, &mut k).is_pending());
        assert!(matches!(k, Some(WaiterKey(0))));
        set(&io, Ready::READABLE);
        assert_eq!(woken(&c), 1);
        assert!(wakers[1..].iter().all(|(c, _)| woken(c) == 1));
        assert_eq!(woken(&wakers[0].0), 0, "the freed place is forgotten");
    }

    #[test]
    fn shutdown_wakes_everyone_and_fails_every_poll() {
        let io = ScheduledIo::new();
        let (c, w) = counter();
        assert!(io.poll_ready(&mut Context::from_waker(&w), Direction::Read).is_pending());
        let mut wake = Vec::new();
        io.shutdown(&mut wake);
        wake.into_iter().for_each(Waker::wake);
        assert_eq!(woken(&c), 1);
        assert!(matches!(io.poll_ready(&mut Context::from_waker(&w), Direction::Write), Poll::Ready(Err(_))));
    }

    #[test]
    fn generation_wraps_without_touching_the_bits() {
        let io = ScheduledIo::new();
        io.read.store(!READY_MASK & !SHUTDOWN, Ordering::SeqCst);
        set(&io, Ready::READABLE);
        let ev = io.readiness(Interest::READABLE).unwrap().unwrap();
        assert_eq!(ev.read_gen, Some(0));
        assert!(ev.ready.is_readable());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use std::task::Wake;

    struct Flag(loom::sync::atomic::AtomicBool);

    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    /// A reader that got WouldBlock clears and parks while the reactor dispatches new
    /// readiness: the reader is either still ready (its clear was skipped) or woken.
    #[test]
    fn loom_no_lost_readiness_between_would_block_and_park() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            let mut w = Vec::new();
            io.set_readiness(Ready::READABLE, &mut w);
            let seen = io.readiness(Interest::READABLE).unwrap().unwrap();

            let reactor = {
                let io = io.clone();
                loom::thread::spawn(move || {
                    let mut wake = Vec::new();
                    io.set_readiness(Ready::READABLE, &mut wake);
                    wake.into_iter().for_each(Waker::wake);
                })
            };

            let flag = std::sync::Arc::new(Flag(loom::sync::atomic::AtomicBool::new(false)));
            let waker = Waker::from(flag.clone());
            io.clear_readiness(seen); // the read returned WouldBlock
            let pending = io.poll_ready(&mut Context::from_waker(&waker), Direction::Read).is_pending();
            reactor.join().unwrap();
            if pending {
                assert!(flag.0.load(Ordering::SeqCst), "readiness dispatched but the reader was never woken");
            }
            // Either way the new readiness is still there to be acted on.
            assert!(io.readiness(Interest::READABLE).unwrap().is_some());
        });
    }
}
