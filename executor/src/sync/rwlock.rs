//! [`RwLock`]: an asynchronous, fair reader-writer lock. A reader takes one permit of a
//! [`batch_semaphore`](super::batch_semaphore) of `max_readers` permits, a writer takes all of
//! them; the semaphore's FIFO queue makes it fair (a queued writer holds back later readers,
//! so writers are never starved).

use super::batch_semaphore as ll;
use super::mutex::TryLockError;
use crate::loom::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// The default and largest number of concurrent readers (tokio's value).
const MAX_READS: u32 = u32::MAX >> 3;

/// An asynchronous reader-writer lock: any number of readers, or one writer, in FIFO order.
///
/// ```
/// use executor::sync::RwLock;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().await;
///     let r2 = lock.read().await; // readers share
///     assert_eq!(*r1 + *r2, 10);
///     assert!(lock.try_write().is_err());
/// }
/// *lock.write().await += 1;
/// assert_eq!(*lock.read().await, 6);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RwLock<T> {
    /// The number of permits of `s`: what a writer takes.
    mr: u32,
    /// `mr` permits: a reader holds one, a writer all.
    s: ll::Semaphore,
    c: UnsafeCell<T>,
}

// SAFETY: moving the lock moves the `T`.
unsafe impl<T: Send> Send for RwLock<T> {}
// SAFETY: writers get `&mut T` on one thread at a time (`T: Send`), readers share `&T` across
// threads (`T: Sync`).
unsafe impl<T: Send + Sync> Sync for RwLock<T> {}

/// A read lock of a [`RwLock`] (or a part of the value, after [`map`](Self::map)).
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    s: &'a ll::Semaphore,
    /// Valid while the permit is held.
    data: *const T,
    _marker: PhantomData<&'a T>,
}

// SAFETY: the guard stands for a `&T`: sending it shares the `T` with another thread.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as for `Send`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

/// The write lock of a [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T> {
    lock: &'a RwLock<T>,
    _marker: PhantomData<&'a mut T>,
}

/// A [`RwLockWriteGuard`] narrowed to a part of the value.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    s: &'a ll::Semaphore,
    permits: u32,
    /// Valid while the permits are held.
    data: *mut T,
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard stands for a `&mut T` (the permits travel with it).
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: `&RwLockMappedWriteGuard` gives `&T` only.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockMappedWriteGuard<'_, T> {}

/// A read lock held through an `Arc`.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T> {
    lock: Arc<RwLock<T>>,
}

/// The write lock held through an `Arc`.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T> {
    lock: Arc<RwLock<T>>,
}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    pub fn new(value: T) -> RwLock<T> {
        RwLock::with_max_readers(value, MAX_READS)
    }

    /// An unlocked lock that admits at most `max_reads` readers at once.
    ///
    /// # Panics
    ///
    /// If `max_reads` is 0 or more than `u32::MAX >> 3`.
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        assert!(max_reads <= MAX_READS, "a RwLock may not be created with more than {MAX_READS} readers");
        assert!(max_reads > 0, "a RwLock needs at least one reader");
        RwLock { mr: max_reads, s: ll::Semaphore::new(max_reads as usize), c: UnsafeCell::new(value) }
    }

    /// An unlocked lock, in a `const` context.
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> RwLock<T> {
        RwLock { mr: MAX_READS, s: ll::Semaphore::const_new(MAX_READS as usize), c: UnsafeCell::new(value) }
    }

    /// An unlocked lock admitting `max_reads` readers, in a `const` context.
    #[cfg(not(loom))]
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        assert!(max_reads <= MAX_READS && max_reads > 0, "max_reads out of range");
        RwLock { mr: max_reads, s: ll::Semaphore::const_new(max_reads as usize), c: UnsafeCell::new(value) }
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard { s: &self.s, data: self.c.with(|p| p), _marker: PhantomData }
    }

    /// Waits for a read lock: behind any queued writer (FIFO), alongside other readers.
    ///
    /// # Cancel safety
    ///
    /// Dropping this future loses its place in the queue; nothing else is lost.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.s.acquire(1).await.unwrap_or_else(|_| unreachable!("a RwLock's semaphore is never closed"));
        self.read_guard()
    }

    /// Waits for the write lock (cancel safety as [`read`](Self::read); permits it was
    /// assigned while queued go to the next waiter).
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.s.acquire(self.mr as usize).await.unwrap_or_else(|_| unreachable!("a RwLock's semaphore is never closed"));
        RwLockWriteGuard { lock: self, _marker: PhantomData }
    }

    /// [`read`](Self::read), blocking the thread.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a runtime.
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        super::block_on(self.read())
    }

    /// [`write`](Self::write), blocking the thread.
    ///
    /// # Panics
    ///
    /// If called on a thread that drives a runtime.
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        super::block_on(self.write())
    }

    /// A read lock, if one is available now.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if a writer holds the lock or is queued.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.s.try_acquire(1).map_err(|_| TryLockError(()))?;
        Ok(self.read_guard())
    }

    /// The write lock, if it is free now.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if any reader or writer holds the lock or is queued.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.s.try_acquire(self.mr as usize).map_err(|_| TryLockError(()))?;
        Ok(RwLockWriteGuard { lock: self, _marker: PhantomData })
    }

    /// [`read`](Self::read), held through the `Arc`.
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.s.acquire(1).await.unwrap_or_else(|_| unreachable!("a RwLock's semaphore is never closed"));
        OwnedRwLockReadGuard { lock: self }
    }

    /// [`write`](Self::write), held through the `Arc`.
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.s.acquire(self.mr as usize).await.unwrap_or_else(|_| unreachable!("a RwLock's semaphore is never closed"));
        OwnedRwLockWriteGuard { lock: self }
    }

    /// [`try_read`](Self::try_read), held through the `Arc`.
    ///
    /// # Errors
    ///
    /// As [`try_read`](Self::try_read).
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.s.try_acquire(1).map_err(|_| TryLockError(()))?;
        Ok(OwnedRwLockReadGuard { lock: self })
    }

    /// [`try_write`](Self::try_write), held through the `Arc`.
    ///
    /// # Errors
    ///
    /// As [`try_write`](Self::try_write).
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.s.try_acquire(self.mr as usize).map_err(|_| TryLockError(()))?;
        Ok(OwnedRwLockWriteGuard { lock: self })
    }

    /// The value, through the exclusive borrow.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard exists (each borrows the lock).
        self.c.with_mut(|p| unsafe { &mut *p })
    }

    /// The value, consuming the lock.
    pub fn into_inner(self) -> T {
        self.c.into_inner()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// Narrows the guard to a part of the value.
    pub fn map<U: ?Sized, F: FnOnce(&T) -> &U>(this: Self, f: F) -> RwLockReadGuard<'a, U> {
        let data: *const U = f(&*this);
        let s = this.s;
        std::mem::forget(this);
        RwLockReadGuard { s, data, _marker: PhantomData }
    }

    /// Narrows the guard if `f` returns `Some`.
    ///
    /// # Errors
    ///
    /// The original guard if `f` returned `None`.
    pub fn try_map<U: ?Sized, F: FnOnce(&T) -> Option<&U>>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self> {
        let data: *const U = match f(&*this) {
            Some(data) => data,
            None => return Err(this),
        };
        let s = this.s;
        std::mem::forget(this);
        Ok(RwLockReadGuard { s, data, _marker: PhantomData })
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` points into the value and the guard holds a read permit: no writer
        // holds all the permits, so no `&mut T` exists.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.s.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<'a, T> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without letting a writer in between (queued
    /// readers get the permits released).
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        lock.s.release(lock.mr as usize - 1);
        lock.read_guard()
    }

    /// Narrows the guard to a part of the value.
    pub fn map<U: ?Sized, F: FnOnce(&mut T) -> &mut U>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U> {
        let data: *mut U = f(&mut *this);
        let lock = this.lock;
        std::mem::forget(this);
        RwLockMappedWriteGuard { s: &lock.s, permits: lock.mr, data, _marker: PhantomData }
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit: no other guard exists.
        self.lock.c.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit, and `&mut self` makes this the only borrow.
        self.lock.c.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.s.release(self.lock.mr as usize);
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized> Deref for RwLockMappedWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` points into the value and the guard holds every permit.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockMappedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as `deref`; `&mut self` makes this the only borrow.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for RwLockMappedWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.s.release(self.permits as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockMappedWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit: no writer, no `&mut T`.
        self.lock.c.with(|p| unsafe { &*p })
    }
}

impl<T> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.s.release(1);
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> OwnedRwLockWriteGuard<T> {
    /// Turns the write lock into a read lock without letting a writer in between.
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is moved out once and the
        // write guard's `Drop` (which would release every permit) does not run.
        let lock = unsafe { std::ptr::read(&this.lock) };
        lock.s.release(lock.mr as usize - 1);
        OwnedRwLockReadGuard { lock }
    }
}

impl<T> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit.
        self.lock.c.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit; `&mut self` makes this the only borrow.
        self.lock.c.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.s.release(self.lock.mr as usize);
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
