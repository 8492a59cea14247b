//! A worker: its core (local queue, LIFO slot, tick counter, searching flag) and its loop.
//!
//! The core lives in the worker thread's context (a thread-local pointer to `Ctx`), so a task
//! woken on the worker thread is scheduled into it without a lock. No borrow of the core is held
//! while a task runs: the task's own wake-ups borrow it briefly.
//!
//! A task that yields is deferred (`runtime/defer.rs`): the worker wakes it after its next
//! driver poll — every `event_interval` ticks, or as soon as it has nothing else to run — and
//! it goes to the back of the local queue, behind what the driver woke.

use super::stats::Stats;
use super::{Shared, Task_};
use crate::runtime::builder::Hooks;
use crate::runtime::defer;
use crate::runtime::metrics::{clock, worker as counters};
use crate::scheduler::queue::Local;
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Duration;

/// Tasks taken from the LIFO slot in a row before the local queue gets a turn: bounds how long
/// two tasks that keep waking each other can hold a worker (the starvation of tokio#4941).
const MAX_LIFO_POLLS: u32 = 3;

struct Core {
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
    fn has_tasks(&self) -> bool {
        self.lifo.is_some() || !self.local.is_empty()
    }
}

struct Ctx {
    shared: Arc<Shared>,
    core: RefCell<Core>,
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
        if let Ok(mut core) = ctx.core.try_borrow_mut() {
            let core = &mut *core;
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

/// The worker loop, until shutdown.
pub(super) fn run(shared: Arc<Shared>, index: usize, local: Local<Task_>) {
    crate::time::timers::set_thread_shard(index);
    let stats = Stats::new(shared.config.global_queue_interval);
    let global_interval = stats.global_queue_interval();
    let ctx = Ctx {
        shared,
        core: RefCell::new(Core {
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
        }),
    };
    CURRENT.with(|c| c.set(&ctx));
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(std::ptr::null()));
        }
    }
    let _reset = Reset;
    let _defer = defer::Scope::enter();
    let shared = &ctx.shared;
    let event_interval = shared.config.event_interval;
    let metrics = &shared.metrics[index];
    metrics.unparked();
    shared.parkers[index].bind_current_thread();
    while !shared.shutdown.load(std::sync::atomic::Ordering::SeqCst) {
        let tick = {
            let mut core = ctx.core.borrow_mut();
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
                ctx.core.borrow_mut().stats.task_started();
                counters::add(&metrics.poll_count, 1);
                task.run();
            }
            // Only yielded tasks are left: poll the driver, then run them behind what it woke.
            None if !defer::is_empty() => maintenance(&ctx),
            None => park(&ctx),
        }
    }
    // Shutdown: drop what is queued here (the futures are dropped by `OwnedTasks`).
    let mut core = ctx.core.borrow_mut();
    drop(core.lifo.take());
    while let Some(task) = core.local.pop() {
        drop(task);
    }
}

fn next_task(ctx: &Ctx) -> Option<Task_> {
    let shared = &ctx.shared;
    let mut core = ctx.core.borrow_mut();
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
    let mut core = ctx.core.borrow_mut();
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
    let mut core = ctx.core.borrow_mut();
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
    let mut core = ctx.core.borrow_mut();
    core.stats.end_batch();
    core.global_interval = core.stats.global_queue_interval();
}

/// Wakes this worker's deferred (yielded) tasks, to the back of its local queue.
fn wake_deferred(ctx: &Ctx) {
    if defer::is_empty() {
        return;
    }
    ctx.core.borrow_mut().waking_deferred = true;
    defer::wake();
    ctx.core.borrow_mut().waking_deferred = false;
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
            let mut core = ctx.core.borrow_mut();
            core.parked = true;
            core.local.remaining_slots()
        };
        let res = shared.driver.park(Some(Duration::ZERO), room);
        ctx.core.borrow_mut().parked = false;
        if let Err(e) = res {
            panic!("runtime: the reactor failed: {e}");
        }
    }
    wake_deferred(ctx);
    let core = ctx.core.borrow();
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
    let metrics = &shared.metrics[ctx.core.borrow().index];
    metrics.parking();
    Hooks::run(&shared.config.hooks.thread_park);
    park_until_work(ctx);
    Hooks::run(&shared.config.hooks.thread_unpark);
    metrics.unparked();
}

fn park_until_work(ctx: &Ctx) {
    let shared = &ctx.shared;
    let index = {
        let mut core = ctx.core.borrow_mut();
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
        ctx.core.borrow_mut().parked = true;
        shared.parkers[index].park(&shared.driver_lock, &shared.driver);
        let mut core = ctx.core.borrow_mut();
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
    let core = ctx.core.borrow();
    if !core.searching && !core.local.is_empty() {
        drop(core);
        shared.notify_parked();
    }
}
