//! A worker: its core (local queue, LIFO slot, tick counter, searching flag) and its loop.
//!
//! The core lives in the worker thread's context (a thread-local pointer to `Ctx`), so a task
//! woken on the worker thread is scheduled into it without a lock. No borrow of the core is held
//! while a task runs: the task's own wake-ups borrow it briefly.
//!
//! A task that yields is deferred (`runtime/defer.rs`): the worker wakes it after its next
//! driver poll — every `event_interval` ticks, or as soon as it has nothing else to run — and
//! it goes to the back of the local queue, behind what the driver woke.
//!
//! A core is not tied to a thread. It waits in its slot of `Shared::cores` until a thread runs
//! it: at launch, each worker thread takes its own; `block_in_place` hands the core of the
//! thread that is about to block to a thread of the blocking pool, so the worker's queue keeps
//! being served (as tokio does):
//!
//! ```text
//!  thread A, in a task: block_in_place(f)
//!    A's deferred tasks woken (into the core's queue); LIFO task moved to the local queue
//!    (stealable); core ──▶ cores[i]
//!    spawn_blocking(run(i)) ──▶ thread B: takes cores[i], rebinds parker i, runs worker i
//!    f() runs on A (not driving: it may block, or block_on)
//!    f returns: A takes cores[i] back if B has not taken it yet (B then finds the slot empty
//!    and returns); otherwise A finishes the task's poll, finds no core and leaves the loop
//! ```
//!
//! A worker index is served by at most one thread at a time: whoever took the core out of the
//! slot (a mutex). Parker `i` is bound to that thread before it parks. The defer list is the
//! thread's, not the core's: each thread running a worker has its own scope.

use super::stats::Stats;
use super::{Shared, Task_};
use crate::runtime::builder::Hooks;
use crate::runtime::context;
use crate::runtime::defer;
use crate::runtime::metrics::{clock, worker as counters};
use crate::runtime::Handle;
use crate::scheduler::queue::Local;
use std::cell::{Cell, RefCell, RefMut};
use std::sync::Arc;
use std::time::Duration;

/// Tasks taken from the LIFO slot in a row before the local queue gets a turn: bounds how long
/// two tasks that keep waking each other can hold a worker (the starvation of tokio#4941).
const MAX_LIFO_POLLS: u32 = 3;

pub(super) struct Core {
    index: usize,
    local: Local<Task_>,
    /// The task woken last on this worker: run next, for message-passing locality.
    lifo: Option<Task_>,
    lifo_polls: u32,
    tick: u32,
    searching: bool,
    /// The worker is inside its park: tasks its driver wakes are queued here without notifying
    /// (the worker looks at what it holds once it is back, see `park`).
    parked: bool,
    /// The worker is waking its deferred tasks: they go to the back of the local queue, as a
    /// yield does, not into the LIFO slot ahead of what the driver woke.
    waking_deferred: bool,
    rng: u32,
    /// The poll-time average behind the global queue interval.
    stats: Stats,
    global_interval: u32,
}

impl Core {
    /// The core of worker `index`, with its local queue; `global_queue_interval` as configured
    /// (`None`: self-tuned).
    pub(super) fn new(index: usize, local: Local<Task_>, global_queue_interval: Option<u32>) -> Box<Core> {
        let stats = Stats::new(global_queue_interval);
        let global_interval = stats.global_queue_interval();
        Box::new(Core {
            index,
            local,
            lifo: None,
            lifo_polls: 0,
            tick: 0,
            searching: false,
            parked: false,
            waking_deferred: false,
            rng: 0x9e37_79b9 ^ (index as u32).wrapping_mul(0x85eb_ca6b) | 1,
            stats,
            global_interval,
        })
    }

    pub(super) fn index(&self) -> usize {
        self.index
    }

    fn has_tasks(&self) -> bool {
        self.lifo.is_some() || !self.local.is_empty()
    }
}

struct Ctx {
    shared: Arc<Shared>,
    /// The runtime, for the blocking pool that `block_in_place` hands the core to.
    handle: Handle,
    /// The worker's core while this thread runs it; `None` once `block_in_place` gave it away.
    core: RefCell<Option<Box<Core>>>,
}

impl Ctx {
    /// The core. Only called while this thread holds it (the loop checks before each tick).
    fn core(&self) -> RefMut<'_, Core> {
        RefMut::map(self.core.borrow_mut(), |c| c.as_deref_mut().expect("the worker thread holds its core"))
    }

    fn has_core(&self) -> bool {
        self.core.borrow().is_some()
    }
}

thread_local! {
    static CURRENT: Cell<*const Ctx> = const { Cell::new(std::ptr::null()) };
}

/// Schedules `task`: into the LIFO slot (or, for a yield, the back of the local queue) of the
/// current worker if this thread is one of `shared`'s workers, else into the inject queue; then
/// wakes a parked worker if the task may need one.
pub(super) fn schedule(shared: &Arc<Shared>, task: Task_, is_yield: bool) {
    // Null while the thread's locals are destroyed: the task goes to the inject queue.
    let ctx = CURRENT.try_with(Cell::get).unwrap_or(std::ptr::null());
    // SAFETY: `CURRENT` points at the `Ctx` on the stack of this thread's `run`, and is reset
    // before `run` returns; it is only read on this thread.
    let ctx = unsafe { ctx.as_ref() };
    if let Some(ctx) = ctx.filter(|c| Arc::ptr_eq(&c.shared, shared)) {
        if let Some(core) = ctx.core.try_borrow_mut().ok().as_mut().and_then(|c| c.as_deref_mut()) {
            counters::add(&shared.metrics[core.index].local_schedule_count, 1);
            let spill = if is_yield || core.waking_deferred { Some(task) } else { core.lifo.replace(task) };
            if let Some(task) = spill {
                core.local.push_back_or_overflow(task, &**shared);
                if !core.parked {
                    shared.notify_parked();
                }
            }
            return;
        }
    }
    shared.push_inject(task);
    shared.notify_parked();
}

/// Runs worker `index` on this thread until shutdown, or until `block_in_place` gives its core
/// to another thread. Returns at once if the core is not in its slot (the thread that handed
/// it off took it back).
pub(super) fn run(shared: Arc<Shared>, index: usize, handle: Handle) {
    let Some(core) = shared.take_core(index) else { return };
    // A worker drives the runtime: `block_on` on it is refused like in a task.
    let _driving = context::enter_driving(true);
    crate::time::timers::set_thread_shard(index);
    let ctx = Ctx { shared, handle, core: RefCell::new(Some(core)) };
    CURRENT.with(|c| c.set(&ctx));
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(std::ptr::null()));
            // A blocking-pool thread that ran a worker goes back to choosing wheels round-robin.
            crate::time::timers::set_thread_shard(usize::MAX);
        }
    }
    let _reset = Reset;
    let _defer = defer::Scope::enter();
    let shared = &ctx.shared;
    let event_interval = shared.config.event_interval;
    let metrics = &shared.metrics[index];
    metrics.unparked();
    while !shared.shutdown.load(std::sync::atomic::Ordering::SeqCst) && ctx.has_core() {
        let tick = {
            let mut core = ctx.core();
            core.tick = core.tick.wrapping_add(1);
            core.tick
        };
        if tick % event_interval == 0 {
            maintenance(&ctx);
        }
        let task = next_task(&ctx).or_else(|| steal(&ctx));
        match task {
            Some(task) => {
                found_work(&ctx);
                ctx.core().stats.task_started();
                counters::add(&metrics.poll_count, 1);
                task.run();
            }
            // Only yielded tasks are left: poll the driver, then run them behind what it woke.
            None if !defer::is_empty() => maintenance(&ctx),
            None => park(&ctx),
        }
    }
    // Shutdown: drop what is queued here (the futures are dropped by `OwnedTasks`).
    let core = ctx.core.borrow_mut().take();
    drop(core);
}

/// What `block_in_place` does on a worker: hands this thread's core to a thread of the blocking
/// pool (see the module docs). Returns the guard that takes it back when dropped, or `None` if
/// this thread holds no core (not a worker, or its core was given away already).
pub(crate) fn hand_off_core() -> Option<ReclaimCore> {
    let ctx = CURRENT.with(Cell::get);
    // SAFETY: as in `schedule`: `CURRENT` points at the live `Ctx` of this thread's `run`.
    let ctx = unsafe { ctx.as_ref() }?;
    if !ctx.has_core() {
        return None;
    }
    // The tasks this thread deferred go to the core's queue first: the thread that takes the
    // core serves them; this thread's list may not be looked at until `f` returns.
    wake_deferred(ctx);
    let mut core = ctx.core.try_borrow_mut().ok()?.take()?;
    // Every task of the core must be stealable while no thread may run it yet.
    if let Some(task) = core.lifo.take() {
        core.local.push_back_or_overflow(task, &*ctx.shared);
    }
    let index = core.index;
    ctx.shared.put_core(core);
    let (shared, handle) = (ctx.shared.clone(), ctx.handle.clone());
    // If the pool refuses (shut down), the closure is dropped and the core waits for the
    // reclaim. The JoinHandle is not needed: the slot is the hand-off.
    drop(ctx.handle.spawn_blocking(move || run(shared, index, handle)));
    Some(ReclaimCore { index })
}

/// Takes the core handed off by [`hand_off_core`] back when dropped (also on unwind), if no
/// other thread took it yet.
pub(crate) struct ReclaimCore {
    index: usize,
}

impl Drop for ReclaimCore {
    fn drop(&mut self) {
        let ctx = CURRENT.with(Cell::get);
        // SAFETY: as in `schedule`; the guard lives inside a task polled by this thread's `run`.
        let Some(ctx) = (unsafe { ctx.as_ref() }) else { return };
        // The core may come back from a thread that ran it meanwhile (and handed it off in
        // turn): `take_core` makes this thread the one the worker's parker wakes again.
        if let Some(core) = ctx.shared.take_core(self.index) {
            *ctx.core.borrow_mut() = Some(core);
        }
    }
}

fn next_task(ctx: &Ctx) -> Option<Task_> {
    let shared = &ctx.shared;
    let mut core = ctx.core();
    if core.tick % core.global_interval == 0 {
        if let Some(task) = shared.pop_inject() {
            return Some(task);
        }
    }
    if core.lifo_polls < MAX_LIFO_POLLS {
        if let Some(task) = core.lifo.take() {
            core.lifo_polls += 1;
            return Some(task);
        }
    } else if let Some(task) = core.lifo.take() {
        // The LIFO slot had its turns: queue its task behind the others (stealable there).
        core.local.push_back_or_overflow(task, &**shared);
    }
    core.lifo_polls = 0;
    core.local.pop().or_else(|| shared.pop_inject())
}

/// Steals half of another worker's queue (or takes from the inject queue), as a searcher.
fn steal(ctx: &Ctx) -> Option<Task_> {
    let shared = &ctx.shared;
    let mut core = ctx.core();
    if !core.searching {
        if !shared.idle.try_start_searching() {
            return None;
        }
        core.searching = true;
    }
    let n = shared.remotes.len();
    // xorshift32: a different victim order per worker and per attempt.
    core.rng ^= core.rng << 13;
    core.rng ^= core.rng >> 17;
    core.rng ^= core.rng << 5;
    let start = core.rng as usize % n;
    for i in 0..n {
        let victim = (start + i) % n;
        if victim == core.index {
            continue;
        }
        let before = core.local.len();
        if let Some(task) = shared.remotes[victim].steal_into(&mut core.local) {
            let m = &shared.metrics[core.index];
            counters::add(&m.steal_operations, 1);
            counters::add(&m.steal_count, (core.local.len() - before + 1) as u64);
            return Some(task);
        }
    }
    drop(core);
    shared.pop_inject()
}

/// Leaves the searching state on finding work. The last searcher to find work wakes another
/// worker to search in its place if more work is queued (tokio and Go wake one whether or not
/// there is: a wasted wake-up, two context switches, whenever one task was all there was). A
/// task queued after the look is not missed: its notifier sees no searcher (this worker left
/// that state before looking) and wakes a worker itself.
fn found_work(ctx: &Ctx) {
    let mut core = ctx.core();
    if core.searching {
        core.searching = false;
        drop(core);
        if ctx.shared.idle.stop_searching() && ctx.shared.has_work() {
            ctx.shared.notify_parked();
        }
    }
}

/// Ends a batch of tasks: retunes the global queue interval from its poll times.
fn end_batch(ctx: &Ctx) {
    let mut core = ctx.core();
    core.stats.end_batch();
    core.global_interval = core.stats.global_queue_interval();
}

/// Wakes this worker's deferred (yielded) tasks, to the back of its local queue.
fn wake_deferred(ctx: &Ctx) {
    if defer::is_empty() {
        return;
    }
    ctx.core().waking_deferred = true;
    defer::wake();
    ctx.core().waking_deferred = false;
}

/// Serves I/O and timers even while the queues never empty: polls the driver without blocking,
/// unless another worker sleeps in it (that one serves them); then wakes the deferred tasks.
fn maintenance(ctx: &Ctx) {
    let shared = &ctx.shared;
    end_batch(ctx);
    // The coarse clock of the tasks' "last polled" (one clock read per `event_interval` ticks).
    clock::publish(std::time::Instant::now());
    if let Some(_driver) = shared.driver_lock.try_lock() {
        // Take no more I/O than the local queue has room for: the rest waits, in order, on the
        // EventPoll's ready list instead of overflowing to the inject queue out of order.
        let room = {
            let mut core = ctx.core();
            core.parked = true;
            core.local.remaining_slots()
        };
        let res = shared.driver.park(Some(Duration::ZERO), room);
        ctx.core().parked = false;
        if let Err(e) = res {
            panic!("runtime: the reactor failed: {e}");
        }
    }
    wake_deferred(ctx);
    let core = ctx.core();
    if !core.searching && !core.local.is_empty() {
        drop(core);
        shared.notify_parked();
    }
}

/// Parks until there is work for this worker (or shutdown), unless a last look finds some.
///
/// The worker sleeps in the driver if no other worker does, else on its own parker. It comes
/// back when a notifier takes it off the sleepers (it then searches), or when its own sleep in
/// the driver made tasks runnable here: it runs them, and wakes another worker only if it holds
/// more than it can start.
fn park(ctx: &Ctx) {
    let shared = &ctx.shared;
    end_batch(ctx);
    let metrics = &shared.metrics[ctx.core().index];
    metrics.parking();
    Hooks::run(&shared.config.hooks.thread_park);
    park_until_work(ctx);
    Hooks::run(&shared.config.hooks.thread_unpark);
    metrics.unparked();
}

fn park_until_work(ctx: &Ctx) {
    let shared = &ctx.shared;
    let index = {
        let mut core = ctx.core();
        if core.has_tasks() {
            return;
        }
        let searching = std::mem::take(&mut core.searching);
        let index = core.index;
        drop(core);
        shared.idle.park(index, searching);
        if shared.has_work() {
            // Queued while this worker was on its way (see `idle.rs`): somebody must take it.
            shared.notify_parked();
        }
        index
    };
    loop {
        if shared.shutdown.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        ctx.core().parked = true;
        shared.parkers[index].park(&shared.driver_lock, &shared.driver);
        let mut core = ctx.core();
        core.parked = false;
        if core.has_tasks() {
            // Woken by its own I/O or timers: no search, unless a notifier counted it as one.
            core.searching = !shared.idle.unpark_self(index);
            break;
        }
        if !shared.idle.is_parked(index) {
            core.searching = true;
            break;
        }
    }
    let core = ctx.core();
    if !core.searching && !core.local.is_empty() {
        drop(core);
        shared.notify_parked();
    }
}
