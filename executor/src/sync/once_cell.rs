//! [`OnceCell`]: a value set at most once, with an asynchronous initialiser.
//!
//! The right to initialise is the single permit of a
//! [`batch_semaphore`](super::batch_semaphore): initialisers queue for it in FIFO order. The
//! one that holds it writes the value, publishes it (`value_set`, `Release`) and **closes** the
//! semaphore, so every queued and later initialiser fails its acquire and reads the value
//! instead. An initialiser that fails, panics or is dropped releases the permit to the next.

use super::batch_semaphore::{self as ll, TryAcquire};
use crate::loom::cell::UnsafeCell;
use crate::loom::sync::atomic::{AtomicBool, Ordering};
use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;

/// A cell written at most once, readable without locking afterwards.
///
/// ```
/// use executor::sync::OnceCell;
/// static CONFIG: OnceCell<String> = OnceCell::const_new();
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let v = CONFIG.get_or_init(|| async { "loaded".to_string() }).await;
/// assert_eq!(v, "loaded");
/// // Later initialisers find the value.
/// assert_eq!(CONFIG.get_or_init(|| async { unreachable!() }).await, "loaded");
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct OnceCell<T> {
    /// `true` once `value` is initialised (and then until `take`).
    value_set: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
    /// One permit: the right to initialise. Closed once the value is set.
    semaphore: ll::Semaphore,
}

// SAFETY: the `T` moves with the cell.
unsafe impl<T: Send> Send for OnceCell<T> {}
// SAFETY: `&OnceCell` hands out `&T` to any thread (`T: Sync`) and lets any thread write the
// value once (`T: Send`); the write happens before `value_set` is published.
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}

/// Error of [`OnceCell::set`]: the value is given back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell was already set.
    AlreadyInitializedError(T),
    /// An initialiser is running.
    InitializingError(T),
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => write!(f, "AlreadyInitializedError"),
            SetError::InitializingError(_) => write!(f, "InitializingError"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

impl<T> SetError<T> {
    /// Whether the cell was already set.
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether an initialiser was running.
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

/// Releases the initialisation permit unless the value was set (the initialiser failed,
/// panicked or was dropped).
struct InitGuard<'a>(&'a ll::Semaphore);

impl Drop for InitGuard<'_> {
    fn drop(&mut self) {
        self.0.release(1);
    }
}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell { value_set: AtomicBool::new(false), value: UnsafeCell::new(MaybeUninit::uninit()), semaphore: ll::Semaphore::new(1) }
    }

    /// An empty cell, in a `const` context (a `static`).
    #[cfg(not(loom))]
    pub const fn const_new() -> OnceCell<T> {
        OnceCell {
            value_set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            semaphore: ll::Semaphore::const_new(1),
        }
    }

    /// A cell holding `value` if it is `Some`.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        match value {
            Some(v) => OnceCell::from(v),
            None => OnceCell::new(),
        }
    }

    /// A cell holding `value`, in a `const` context.
    #[cfg(not(loom))]
    pub const fn const_new_with(value: T) -> OnceCell<T> {
        OnceCell {
            value_set: AtomicBool::new(true),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            semaphore: ll::Semaphore::const_new(0),
        }
    }

    /// Whether the value is set.
    pub fn initialized(&self) -> bool {
        self.value_set.load(Ordering::Acquire)
    }

    /// # Safety
    /// The value must be initialised (`value_set` observed `true` with `Acquire`, or `&mut`).
    unsafe fn get_unchecked(&self) -> &T {
        // SAFETY: the caller guarantees the value is initialised; it is never written again
        // while shared (only `take`/`into_inner`, through `&mut self`, move it out).
        self.value.with(|p| unsafe { (*p).assume_init_ref() })
    }

    /// The value, if set.
    pub fn get(&self) -> Option<&T> {
        if self.initialized() {
            // SAFETY: `value_set` was observed `true` with `Acquire`.
            Some(unsafe { self.get_unchecked() })
        } else {
            None
        }
    }

    /// The value, if set, through the exclusive borrow.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if self.initialized() {
            // SAFETY: the value is initialised and `&mut self` excludes every other borrow.
            Some(self.value.with_mut(|p| unsafe { (*p).assume_init_mut() }))
        } else {
            None
        }
    }

    /// Writes the value and closes the initialisation semaphore. The caller holds its permit.
    fn set_value(&self, value: T, permit: InitGuard<'_>) -> &T {
        // SAFETY: the caller holds the only initialisation permit and the value is not set
        // (the semaphore is closed once it is), so no other thread reads or writes the cell.
        self.value.with_mut(|p| unsafe { (*p).write(value) });
        self.value_set.store(true, Ordering::Release);
        self.semaphore.close();
        std::mem::forget(permit);
        // SAFETY: just initialised.
        unsafe { self.get_unchecked() }
    }

    /// Sets the value if the cell is empty and no initialiser is running.
    ///
    /// # Errors
    ///
    /// [`SetError`] with the value if the cell is set or being initialised.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        match self.semaphore.try_acquire(1) {
            Ok(()) => {
                self.set_value(value, InitGuard(&self.semaphore));
                Ok(())
            }
            Err(TryAcquire::Closed) => Err(SetError::AlreadyInitializedError(value)),
            Err(TryAcquire::NoPermits) => Err(SetError::InitializingError(value)),
        }
    }

    /// The value, running `f` to set it if the cell is empty. Concurrent callers queue: one
    /// runs its initialiser, the others wait and get its value.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while `f`'s future runs drops that future and lets the next
    /// waiting caller initialise.
    ///
    /// # Panics
    ///
    /// If `f`'s future panics, the panic propagates and the next caller initialises.
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self.get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(f().await) }).await {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// The value, running `f` to set it if the cell is empty; an `Err` from `f` is returned
    /// and the next caller tries (cancel safety as [`get_or_init`](Self::get_or_init)).
    ///
    /// # Errors
    ///
    /// The error of `f`, when this call ran the initialiser and it failed.
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        match self.semaphore.acquire(1).await {
            Ok(()) => {
                let permit = InitGuard(&self.semaphore);
                // The semaphore is closed once the value is set, so holding the permit means
                // it is not set.
                let value = f().await?;
                Ok(self.set_value(value, permit))
            }
            Err(ll::Closed) => {
                debug_assert!(self.initialized());
                // SAFETY: the semaphore is closed only after the value is published; the
                // acquire observed the close through the semaphore's `Acquire` load.
                Ok(unsafe { self.get_unchecked() })
            }
        }
    }

    /// The value, consuming the cell.
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        if !self.initialized() {
            return None;
        }
        self.value_set.store(false, Ordering::Relaxed);
        self.semaphore = ll::Semaphore::new(1);
        // SAFETY: the value was initialised and `value_set` is now false, so it is read out
        // exactly once (`&mut self` excludes every other access).
        Some(self.value.with_mut(|p| unsafe { (*p).assume_init_read() }))
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        if self.initialized() {
            // SAFETY: initialised, and this is the last access.
            self.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        let s = ll::Semaphore::new_closed();
        OnceCell { value_set: AtomicBool::new(true), value: UnsafeCell::new(MaybeUninit::new(value)), semaphore: s }
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> Self {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell").field("value", &self.get()).finish()
    }
}
