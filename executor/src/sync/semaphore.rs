//! [`Semaphore`]: a fair counting semaphore, and its permits.

use super::batch_semaphore::{self as ll, TryAcquire};
use std::fmt;
use std::sync::Arc;

/// A counting semaphore: a pool of permits that tasks acquire and release.
///
/// Fair: acquires are served in the order they were requested; a large request at the head of
/// the queue is not starved by smaller ones behind it (they wait for it), and `try_acquire`
/// never takes permits that a queued waiter is owed.
///
/// ```
/// use executor::sync::Semaphore;
/// use std::sync::Arc;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let sem = Arc::new(Semaphore::new(2));
/// let mut tasks = Vec::new();
/// for i in 0..6 {
///     let permit = sem.clone().acquire_owned().await.unwrap(); // at most 2 run at once
///     tasks.push(executor::spawn(async move {
///         let _permit = permit;
///         i * 10
///     }));
/// }
/// let mut sum = 0;
/// for t in tasks {
///     sum += t.await.unwrap();
/// }
/// assert_eq!(sum, 150);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Semaphore {
    ll: ll::Semaphore,
}

/// Error of [`Semaphore::acquire`]: the semaphore was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

/// Error of [`Semaphore::try_acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was closed.
    Closed,
    /// Not enough permits are available now.
    NoPermits,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => write!(f, "semaphore closed"),
            TryAcquireError::NoPermits => write!(f, "no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

impl TryAcquireError {
    /// Whether the semaphore was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, TryAcquireError::Closed)
    }

    /// Whether there were not enough permits.
    pub fn is_no_permits(&self) -> bool {
        matches!(self, TryAcquireError::NoPermits)
    }
}

impl From<TryAcquire> for TryAcquireError {
    fn from(e: TryAcquire) -> Self {
        match e {
            TryAcquire::Closed => TryAcquireError::Closed,
            TryAcquire::NoPermits => TryAcquireError::NoPermits,
        }
    }
}

/// Permits of a [`Semaphore`], borrowed from it; released when dropped.
#[must_use = "the permits are released at once if the permit is not kept"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: u32,
}

/// Permits of a [`Semaphore`] held through an `Arc`; released when dropped.
#[must_use = "the permits are released at once if the permit is not kept"]
#[derive(Debug)]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: u32,
}

impl Semaphore {
    /// The most permits a semaphore can hold (`usize::MAX >> 3`, as tokio).
    pub const MAX_PERMITS: usize = ll::MAX_PERMITS;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub fn new(permits: usize) -> Semaphore {
        Semaphore { ll: ll::Semaphore::new(permits) }
    }

    /// A semaphore with `permits` permits, in a `const` context (a `static`).
    ///
    /// ```
    /// static LIMIT: executor::sync::Semaphore = executor::sync::Semaphore::const_new(4);
    /// assert_eq!(LIMIT.available_permits(), 4);
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(permits: usize) -> Semaphore {
        Semaphore { ll: ll::Semaphore::const_new(permits) }
    }

    /// The permits available now.
    pub fn available_permits(&self) -> usize {
        self.ll.available_permits()
    }

    /// Adds `n` permits (to the queued acquires first, oldest first).
    ///
    /// # Panics
    ///
    /// If the total would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    pub fn add_permits(&self, n: usize) {
        self.ll.release(n);
    }

    /// Removes up to `n` of the available permits for good; returns how many were removed.
    pub fn forget_permits(&self, n: usize) -> usize {
        self.ll.forget_permits(n)
    }

    /// Waits for one permit.
    ///
    /// # Cancel safety
    ///
    /// Acquires are served in request order; dropping this future loses its place in the
    /// queue, and any permit already assigned to it goes to the next waiter. No permit is
    /// lost.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.ll.acquire(1).await.map_err(|_| AcquireError(()))?;
        Ok(SemaphorePermit { sem: self, permits: 1 })
    }

    /// Waits for `n` permits at once (cancel safety as [`acquire`](Self::acquire)).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.ll.acquire(n as usize).await.map_err(|_| AcquireError(()))?;
        Ok(SemaphorePermit { sem: self, permits: n })
    }

    /// Takes one permit if one is available now.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if none is (or waiters are queued),
    /// [`TryAcquireError::Closed`] if the semaphore is closed.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.ll.try_acquire(1)?;
        Ok(SemaphorePermit { sem: self, permits: 1 })
    }

    /// Takes `n` permits if they are available now (errors as [`try_acquire`](Self::try_acquire)).
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.ll.try_acquire(n as usize)?;
        Ok(SemaphorePermit { sem: self, permits: n })
    }

    /// Waits for one permit held through the `Arc` (cancel safety as
    /// [`acquire`](Self::acquire)).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Waits for `n` permits held through the `Arc` (cancel safety as
    /// [`acquire`](Self::acquire)).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    pub async fn acquire_many_owned(self: Arc<Self>, n: u32) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.ll.acquire(n as usize).await.map_err(|_| AcquireError(()))?;
        Ok(OwnedSemaphorePermit { sem: self, permits: n })
    }

    /// Takes one permit held through the `Arc`, if one is available now.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Takes `n` permits held through the `Arc`, if they are available now.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    pub fn try_acquire_many_owned(self: Arc<Self>, n: u32) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.ll.try_acquire(n as usize)?;
        Ok(OwnedSemaphorePermit { sem: self, permits: n })
    }

    /// Closes the semaphore: pending and future acquires fail with [`AcquireError`]. Permits
    /// already held stay valid, and releasing them still adds to
    /// [`available_permits`](Self::available_permits).
    pub fn close(&self) {
        self.ll.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.ll.is_closed()
    }
}

impl<'a> SemaphorePermit<'a> {
    /// Keeps the permits out of the semaphore for good (the semaphore shrinks).
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Moves `other`'s permits into this one.
    ///
    /// # Panics
    ///
    /// If the two permits belong to different semaphores.
    pub fn merge(&mut self, mut other: SemaphorePermit<'a>) {
        assert!(std::ptr::eq(self.sem, other.sem), "merging permits from different semaphore instances");
        self.permits += other.permits;
        other.permits = 0;
    }

    /// Splits `n` permits off into a new permit; `None` if this one holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<SemaphorePermit<'a>> {
        let n = u32::try_from(n).ok()?;
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(SemaphorePermit { sem: self.sem, permits: n })
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good (the semaphore shrinks).
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Moves `other`'s permits into this one.
    ///
    /// # Panics
    ///
    /// If the two permits belong to different semaphores.
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(Arc::ptr_eq(&self.sem, &other.sem), "merging permits from different semaphore instances");
        self.permits += other.permits;
        other.permits = 0;
    }

    /// Splits `n` permits off into a new permit; `None` if this one holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(n).ok()?;
        if n > self.permits {
            return None;
        }
        self.permits -= n;
        Some(OwnedSemaphorePermit { sem: self.sem.clone(), permits: n })
    }

    /// The semaphore the permits belong to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.add_permits(self.permits as usize);
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.add_permits(self.permits as usize);
    }
}
