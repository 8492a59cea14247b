//! The synchronization primitives of the crate, from `std` or, under `--cfg loom`, from the
//! `loom` model checker (tokio's `loom/` shim): the same protocol code runs in both.

#[cfg(loom)]
pub(crate) use loom::{
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
        Arc, Mutex, MutexGuard,
    },
    thread::{self, Thread},
};

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicU32, Ordering},
    Arc, Mutex, MutexGuard,
};

/// Locks `m`, ignoring poisoning: every critical section of the reactor leaves its state
/// consistent before any call that could panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
