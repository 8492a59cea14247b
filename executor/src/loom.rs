//! Synchronization primitives that are swapped for [loom]'s model-checked
//! versions when the crate is built with `RUSTFLAGS="--cfg loom"`.
//!
//! Code that must be model-checked imports its atomics, mutexes and
//! `UnsafeCell` from here instead of `std`. The std flavour wraps the std types
//! behind the same API as loom (`UnsafeCell::with`/`with_mut`, a `Mutex` whose
//! `lock` never reports poisoning), so both builds compile the same code.
//!
//! [loom]: https://docs.rs/loom

#[cfg(not(loom))]
mod imp {
    pub(crate) mod sync {
        pub(crate) use std::sync::Arc;

        /// `std::sync::Mutex` whose `lock` ignores poisoning: the data guarded
        /// here (intrusive list links, run queues) stays consistent across a
        /// panic because no user code runs while the lock is held.
        #[derive(Debug, Default)]
        pub(crate) struct Mutex<T>(std::sync::Mutex<T>);

        impl<T> Mutex<T> {
            pub(crate) const fn new(value: T) -> Self {
                Mutex(std::sync::Mutex::new(value))
            }

            pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, T> {
                self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
            }
        }

        /// `std::sync::RwLock` whose `read` / `write` ignore poisoning (as [`Mutex`]).
        #[derive(Debug, Default)]
        pub(crate) struct RwLock<T>(std::sync::RwLock<T>);

        pub(crate) type RwLockReadGuard<'a, T> = std::sync::RwLockReadGuard<'a, T>;

        impl<T> RwLock<T> {
            pub(crate) fn new(value: T) -> Self {
                RwLock(std::sync::RwLock::new(value))
            }

            pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, T> {
                self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner)
            }

            pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, T> {
                self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner)
            }
        }

        pub(crate) mod atomic {
            pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
        }
    }

    pub(crate) mod cell {
        /// `std::cell::UnsafeCell` with loom's closure-based access API.
        #[derive(Debug)]
        pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

        impl<T> UnsafeCell<T> {
            pub(crate) const fn new(value: T) -> Self {
                UnsafeCell(std::cell::UnsafeCell::new(value))
            }

            pub(crate) fn into_inner(self) -> T {
                self.0.into_inner()
            }

            /// Runs `f` with a shared raw pointer to the contents.
            pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
                f(self.0.get())
            }

            /// Runs `f` with a mutable raw pointer to the contents.
            pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
                f(self.0.get())
            }
        }
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) mod sync {
        pub(crate) use loom::sync::Arc;

        /// loom's `Mutex` whose `lock` ignores poisoning (same API as the std flavour).
        #[derive(Debug)]
        pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

        impl<T> Mutex<T> {
            pub(crate) fn new(value: T) -> Self {
                Mutex(loom::sync::Mutex::new(value))
            }

            pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
                self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
            }
        }

        /// loom's `RwLock` whose `read` / `write` ignore poisoning (same API as the std flavour).
        #[derive(Debug)]
        pub(crate) struct RwLock<T>(loom::sync::RwLock<T>);

        pub(crate) type RwLockReadGuard<'a, T> = loom::sync::RwLockReadGuard<'a, T>;

        impl<T> RwLock<T> {
            pub(crate) fn new(value: T) -> Self {
                RwLock(loom::sync::RwLock::new(value))
            }

            pub(crate) fn read(&self) -> loom::sync::RwLockReadGuard<'_, T> {
                self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner)
            }

            pub(crate) fn write(&self) -> loom::sync::RwLockWriteGuard<'_, T> {
                self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner)
            }
        }

        pub(crate) mod atomic {
            pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
        }
    }

    pub(crate) mod cell {
        pub(crate) use loom::cell::UnsafeCell;
    }
}

#[allow(unused_imports)]
pub(crate) use imp::{cell, sync};
