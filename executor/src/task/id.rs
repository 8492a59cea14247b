//! Task identity: [`Id`], and [`id`] / [`try_id`], the id of the task being polled.
//!
//! The harness records the task's id in a thread-local while it polls the future and while it
//! drops it (so a destructor can ask too), restoring the previous value afterwards — a task
//! polled inside another's poll (a `block_on` in a blocking closure, a hand-driven future)
//! nests correctly.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// An opaque identifier of a task, unique among all tasks spawned during the life of the
/// process.
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq, Ord, PartialOrd)]
pub struct Id(pub(crate) u64);

impl Id {
    /// Returns a fresh id from a process-wide counter (starting at 1).
    pub(crate) fn next() -> Id {
        // Plain std atomic even under loom: ids only need uniqueness.
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Id(NEXT_ID.fetch_add(1, Ordering::Relaxed))
    }

    /// The raw value (used to pick an owner-list shard).
    pub(crate) fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

thread_local! {
    static CURRENT: Cell<Option<Id>> = const { Cell::new(None) };
}

/// The id of the task being polled (or dropped) on this thread.
///
/// ```
/// # let rt = executor::runtime::Builder::new_current_thread().build()?;
/// # rt.block_on(async {
/// let handle = executor::spawn(async { executor::task::id() });
/// let id = handle.id();
/// assert_eq!(handle.await.unwrap(), id);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// Outside a task (use [`try_id`] there), with a message naming the caller's line.
#[track_caller]
pub fn id() -> Id {
    try_id().expect("`task::id()` was called outside a task: no task is being polled on this thread (use `task::try_id()`)")
}

/// The id of the task being polled (or dropped) on this thread, `None` outside a task (in
/// `block_on`'s own future, for instance).
pub fn try_id() -> Option<Id> {
    CURRENT.try_with(Cell::get).ok().flatten()
}

/// Makes `id` the current task's id until dropped (which restores the previous one).
pub(super) struct IdGuard(Option<Id>);

impl IdGuard {
    pub(super) fn enter(id: Id) -> IdGuard {
        IdGuard(CURRENT.try_with(|c| c.replace(Some(id))).ok().flatten())
    }
}

impl Drop for IdGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_display_as_numbers() {
        let (a, b) = (Id::next(), Id::next());
        assert_ne!(a, b);
        assert_eq!(Id(3).to_string(), "3");
    }

    #[test]
    fn guards_nest_and_restore() {
        assert_eq!(try_id(), None);
        let outer = IdGuard::enter(Id(1));
        {
            let _inner = IdGuard::enter(Id(2));
            assert_eq!(id(), Id(2));
        }
        assert_eq!(id(), Id(1));
        drop(outer);
        assert_eq!(try_id(), None);
    }
}
