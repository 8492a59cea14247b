//! The task dump ([`Handle::dump`](crate::runtime::Handle::dump)): every task of a runtime, its
//! spawn location, state, poll count, time since its last poll, and what it waits on.
//!
//! What a task waits on is not recorded by the task: it is read back from the resources, which
//! hold the task's waker anyway. A waker whose vtable is the tasks' own names its task
//! (`waker::task_of`), so the dump finds, with no bookkeeping on the hot path:
//!
//! ```text
//!   registry ── each ScheduledIo's waiters (reader, writer, readiness futures) ──▶ fd + interest
//!               (fd: the EventPoll registration whose data is the ScheduledIo's token)
//!   timers ──── each wheel's pending entries ───────────────────────────────────▶ deadline
//!   tasks ───── each task's trailer `joiner`: the task whose JoinHandle poll     ▶ JoinHandle
//!               registered the join waker (one relaxed store per such poll)          (task id)
//! ```
//!
//! Locks are taken one at a time — each owner-list shard, the registry (then each
//! registration's waiters, the dispatch's order), each timer wheel, the `EventPoll`'s — so a
//! dump never holds two of them in an order the runtime does not. It is a set of snapshots, not
//! one atomic picture: a task may change between the moment its line is read and the moment
//! its wait is.
//!
//! A waker the dump cannot name — a combinator's own (`FuturesUnordered`, `select!` over
//! wrapped wakers), `block_on`'s — leaves the wait unknown, and a task awaiting such a future
//! shows no wait reason.

use super::id::Id;
use super::raw::Header;
use super::{OwnedTasks, Schedule};
use crate::io::Interest;
use crate::runtime::metrics::clock;
use crate::time::Instant;
use std::collections::HashMap;
use std::fmt;
use std::os::fd::RawFd;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A snapshot of every task of a runtime ([`Handle::dump`](crate::runtime::Handle::dump)).
/// `Display` prints a table, one task a line.
///
/// ```
/// use std::time::Duration;
///
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     executor::spawn(executor::time::sleep(Duration::from_secs(3600)));
///     executor::task::yield_now().await; // let it poll once and register its timer
///     let dump = executor::Handle::current().dump();
///     let task = &dump.tasks()[0];
///     assert_eq!(task.polls(), 1);
///     assert!(matches!(task.waits()[0], executor::runtime::dump::WaitReason::Timer { .. }));
///     println!("{dump}");
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Dump {
    tasks: Vec<TaskDump>,
}

/// One task of a [`Dump`].
#[derive(Clone, Debug)]
pub struct TaskDump {
    id: Id,
    spawned_at: &'static Location<'static>,
    state: TaskState,
    polls: u32,
    since_last_poll: Option<Duration>,
    waits: Vec<WaitReason>,
}

/// Where a task is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Waiting for a wake-up.
    Idle,
    /// Woken: in a run queue.
    Scheduled,
    /// Being polled now.
    Running,
    /// Finished, and not yet released by its runtime.
    Complete,
}

/// What a task waits on: a resource that holds its waker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitReason {
    /// Readiness of a file descriptor registered on the reactor.
    Io {
        /// The descriptor.
        fd: RawFd,
        /// The directions awaited ([`Interest::READABLE`] for a read, [`Interest::WRITABLE`] for
        /// a write, a union for a `ready(..)` future).
        interest: Interest,
    },
    /// A timer (`sleep`, `timeout`, `interval`).
    Timer {
        /// When it fires (millisecond resolution).
        deadline: Instant,
    },
    /// The completion of another task, through its `JoinHandle`.
    Join {
        /// The awaited task.
        task: Id,
    },
}

impl TaskDump {
    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// Where it was spawned (the caller of `spawn`).
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// Its state.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How many times it was polled (wrapping at 2^32).
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// How long ago its latest poll began, from the coarse clock its worker publishes at each
    /// park, unpark and driver poll (`None` before the first poll).
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.since_last_poll
    }

    /// What it waits on (empty: nothing the dump can name).
    pub fn waits(&self) -> &[WaitReason] {
        &self.waits
    }
}

impl Dump {
    /// The tasks, by id.
    pub fn tasks(&self) -> &[TaskDump] {
        &self.tasks
    }

    /// The task with id `id`, if it is alive.
    pub fn task(&self, id: Id) -> Option<&TaskDump> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// Collects the dump of the tasks of `owned`, whose resources are `driver`'s.
    pub(crate) fn collect<S: Schedule>(owned: &OwnedTasks<S>, driver: &crate::driver::Driver) -> Dump {
        let now = std::time::Instant::now();
        let mut tasks = Vec::new();
        // (awaited task, joiner) pairs, resolved once every task is known.
        let mut joins = Vec::new();
        owned.for_each(|header: &Header| {
            let snapshot = header.state.load();
            let state = if snapshot.is_complete() {
                TaskState::Complete
            } else if snapshot.is_running() {
                TaskState::Running
            } else if snapshot.is_notified() {
                TaskState::Scheduled
            } else {
                TaskState::Idle
            };
            let polls = header.polls.load(Ordering::Relaxed);
            let since_last_poll = (polls > 0).then(|| clock::since(header.last_poll.load(Ordering::Relaxed), now));
            // SAFETY: the task is linked, so the list's reference keeps it live while the shard
            // lock is held; the vtable matches the allocation.
            let joiner = unsafe { (header.vtable.joiner)(NonNull::from(header)) };
            if joiner != 0 && state != TaskState::Complete {
                joins.push((header.id, joiner));
            }
            tasks.push(TaskDump { id: header.id, spawned_at: header.spawned_at, state, polls, since_last_poll, waits: Vec::new() });
        });
        tasks.sort_by_key(|t| t.id);
        let index: HashMap<Id, usize> = tasks.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
        let mut add = |id: Option<Id>, wait: WaitReason| {
            if let Some(&i) = id.and_then(|id| index.get(&id)) {
                if !tasks[i].waits.contains(&wait) {
                    tasks[i].waits.push(wait);
                }
            }
        };
        // Registration tokens are the data of the EventPoll's registrations.
        let fds: HashMap<u64, RawFd> = driver.eventpoll().fdinfo().registrations.iter().filter_map(|r| Some((r.data, r.fd?))).collect();
        driver.registry().for_each_waiter(|token, interest, waker| {
            if let Some(&fd) = fds.get(&token) {
                add(super::waker::task_of(waker), WaitReason::Io { fd, interest });
            }
        });
        driver.timers().for_each(|deadline, waker| add(super::waker::task_of(waker), WaitReason::Timer { deadline }));
        for (awaited, joiner) in joins {
            add(Some(Id(joiner)), WaitReason::Join { task: awaited });
        }
        Dump { tasks }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            TaskState::Idle => "idle",
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
            TaskState::Complete => "complete",
        })
    }
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitReason::Io { fd, interest } => {
                let mut dirs = Vec::new();
                if interest.is_readable() {
                    dirs.push("read");
                }
                if interest.is_writable() {
                    dirs.push("write");
                }
                if interest.is_priority() {
                    dirs.push("priority");
                }
                if dirs.is_empty() {
                    dirs.push("error");
                }
                write!(f, "fd {fd} {}", dirs.join("+"))
            }
            WaitReason::Timer { deadline } => match deadline.checked_duration_since(Instant::now()) {
                Some(left) => write!(f, "timer in {}", Millis(left)),
                None => f.write_str("timer due"),
            },
            WaitReason::Join { task } => write!(f, "join task {task}"),
        }
    }
}

/// A duration in the table's units.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let text = if ms < 10_000 { format!("{ms}ms") } else { format!("{}s", ms / 1000) };
        f.pad(&text)
    }
}

impl fmt::Display for TaskDump {
    /// One table line: id, state, polls, time since the last poll, spawn location, waits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let idle = self.since_last_poll.map_or_else(|| "-".to_string(), |d| Millis(d).to_string());
        let at = format!("{}:{}", self.spawned_at.file(), self.spawned_at.line());
        let waits: Vec<String> = self.waits.iter().map(ToString::to_string).collect();
        let waits = if waits.is_empty() { "-".to_string() } else { waits.join(", ") };
        write!(f, "{:>6}  {:<9}  {:>7}  {:>8}  {:<32}  {}", self.id, self.state, self.polls, idle, at, waits)
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:>6}  {:<9}  {:>7}  {:>8}  {:<32}  WAITS ON", "TASK", "STATE", "POLLS", "IDLE", "SPAWNED AT")?;
        for t in &self.tasks {
            writeln!(f, "{t}")?;
        }
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::raw::Header;

    #[test]
    fn the_dump_costs_the_header_16_bytes() {
        // 48 bytes before the dump (state, owner-list links, vtable, owner id, id); the spawn
        // location, poll count and last-poll tick add 16. The README's per-connection figure
        // counts on it.
        assert_eq!(std::mem::size_of::<Header>(), 64);
    }
}
