//! [`Mutex`]: an asynchronous, fair mutual-exclusion lock whose guard can be held across
//! `.await`. A one-permit [`batch_semaphore`](super::batch_semaphore) guards an `UnsafeCell`.

use super::batch_semaphore as ll;
use crate::loom::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// An asynchronous mutex. `lock` waits its turn in a FIFO queue; the guard may be held across
/// `.await` points and sent to other tasks.
///
/// Unlike `std::sync::Mutex` it is never poisoned: a panic while the guard is held releases
/// the lock.
///
/// ```
/// use executor::sync::Mutex;
/// use std::sync::Arc;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let count = Arc::new(Mutex::new(0));
/// let tasks: Vec<_> = (0..10)
///     .map(|_| {
///         let count = count.clone();
///         executor::spawn(async move {
///             let mut n = count.lock().await;
///             executor::task::yield_now().await; // held across an await
///             *n += 1;
///         })
///     })
///     .collect();
/// for t in tasks {
///     t.await.unwrap();
/// }
/// assert_eq!(*count.lock().await, 10);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Mutex<T> {
    /// One permit: holding it is the right to touch `c`.
    s: ll::Semaphore,
    c: UnsafeCell<T>,
}

// SAFETY: the mutex hands out `&mut T` to one holder at a time; moving it moves the `T`.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: a `&Mutex<T>` only gives access to `T` through the single permit, so only one thread
// touches the `T` at a time (it may be another than the creator's: `T: Send`).
unsafe impl<T: Send> Sync for Mutex<T> {}

/// Error of [`Mutex::try_lock`] and the `try_` methods of [`RwLock`](super::RwLock): the lock
/// is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(pub(super) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "operation would block")
    }
}

impl std::error::Error for TryLockError {}

/// The lock of a [`Mutex`], held until dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T> {
    lock: &'a Mutex<T>,
    /// `Send` iff `T: Send`, `Sync` iff `T: Sync`, like the `&mut T` it stands for.
    _marker: PhantomData<&'a mut T>,
}

/// The lock of a [`Mutex`] held through an `Arc` (no lifetime), held until dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T> {
    lock: Arc<Mutex<T>>,
    /// `Sync` only if `T: Sync` (the `Arc<Mutex<T>>` alone would be `Sync` for `T: Send`).
    _marker: PhantomData<T>,
}

/// A [`MutexGuard`] narrowed to a part of the value by [`MutexGuard::map`].
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    s: &'a ll::Semaphore,
    /// Points into the locked value; valid while the permit of `s` is held.
    data: *mut T,
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is an exclusive borrow of a `T` (the lock's permit travels with it).
unsafe impl<T: ?Sized + Send> Send for MappedMutexGuard<'_, T> {}
// SAFETY: `&MappedMutexGuard` only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MappedMutexGuard<'_, T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex { s: ll::Semaphore::new(1), c: UnsafeCell::new(value) }
    }

    /// An unlocked mutex, in a `const` context (a `static`).
    ///
    /// ```
    /// static COUNT: executor::sync::Mutex<u32> = executor::sync::Mutex::const_new(0);
    /// assert_eq!(*COUNT.try_lock().unwrap(), 0);
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Mutex<T> {
        Mutex { s: ll::Semaphore::const_new(1), c: UnsafeCell::new(value) }
    }

    /// Waits for the lock.
    ///
    /// # Cancel safety
    ///
    /// Locks are granted in request order. Dropping this future loses its place in the queue;
    /// if the lock had already been handed to it, it passes to the next waiter.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.acquire().await;
        MutexGuard { lock: self, _marker: PhantomData }
    }

    async fn acquire(&self) {
        // The semaphore of a mutex is never closed.
        self.s.acquire(1).await.unwrap_or_else(|_| unreachable!("a Mutex's semaphore is never closed"));
    }

    /// Waits for the lock, blocking the thread (for synchronous code).
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a runtime (inside `block_on` or a task): it would
    /// stall the tasks that could release the lock.
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        super::block_on(self.lock())
    }

    /// Waits for the lock, held through the `Arc` (cancel safety as [`lock`](Self::lock)).
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.acquire().await;
        OwnedMutexGuard { lock: self, _marker: PhantomData }
    }

    /// [`lock_owned`](Self::lock_owned), blocking the thread (panics as
    /// [`blocking_lock`](Self::blocking_lock)).
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        super::block_on(self.lock_owned())
    }

    /// Takes the lock if it is free and nobody is queued for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held (or waiters are queued).
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.s.try_acquire(1) {
            Ok(()) => Ok(MutexGuard { lock: self, _marker: PhantomData }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// [`try_lock`](Self::try_lock), held through the `Arc`.
    ///
    /// # Errors
    ///
    /// As [`try_lock`](Self::try_lock).
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.s.try_acquire(1) {
            Ok(()) => Ok(OwnedMutexGuard { lock: self, _marker: PhantomData }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// The value, through the exclusive borrow (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard exists (each borrows the mutex).
        self.c.with_mut(|p| unsafe { &mut *p })
    }

    /// The value, consuming the mutex.
    pub fn into_inner(self) -> T {
        self.c.into_inner()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<'a, T> MutexGuard<'a, T> {
    /// Narrows the guard to a part of the value.
    pub fn map<U: ?Sized, F: FnOnce(&mut T) -> &mut U>(mut this: Self, f: F) -> MappedMutexGuard<'a, U> {
        let data: *mut U = f(&mut *this);
        let s = &this.lock.s;
        std::mem::forget(this);
        MappedMutexGuard { s, data, _marker: PhantomData }
    }

    /// Narrows the guard if `f` returns `Some`; gives the guard back otherwise.
    ///
    /// # Errors
    ///
    /// The original guard if `f` returned `None`.
    pub fn try_map<U: ?Sized, F: FnOnce(&mut T) -> Option<&mut U>>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self> {
        let data: *mut U = match f(&mut *this) {
            Some(data) => data,
            None => return Err(this),
        };
        let s = &this.lock.s;
        std::mem::forget(this);
        Ok(MappedMutexGuard { s, data, _marker: PhantomData })
    }

    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no `&mut T` exists elsewhere.
        self.lock.c.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit, and `&mut self` makes this borrow
        // the only one through the guard.
        self.lock.c.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.s.release(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no `&mut T` exists elsewhere.
        self.lock.c.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as `MutexGuard::deref_mut`.
        self.lock.c.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.s.release(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further.
    pub fn map<U: ?Sized, F: FnOnce(&mut T) -> &mut U>(mut this: Self, f: F) -> MappedMutexGuard<'a, U> {
        let data: *mut U = f(&mut *this);
        let s = this.s;
        std::mem::forget(this);
        MappedMutexGuard { s, data, _marker: PhantomData }
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` points into the locked value and the guard still holds the permit.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as `deref`; `&mut self` makes this the only borrow through the guard.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.s.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
