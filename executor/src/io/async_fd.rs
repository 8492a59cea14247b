//! [`AsyncFd`]: any file descriptor registered on the runtime's `EventPoll`.
//!
//! Budget (as tokio): waiting for readiness ([`AsyncFd::ready`], `readable`, `writable`) takes
//! no unit of the task's cooperative budget; the operations do — [`AsyncFd::async_io`] and the
//! `poll_*` methods take one unit each time they complete.

use super::scheduled_io::{Direction, ReadyEvent, ScheduledIo, WaiterKey};
use super::{Interest, Ready};
use crate::loom::sync::Arc;
use crate::runtime::Handle;
use crate::task::coop;
use std::error::Error;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A file descriptor registered on the current runtime's `EventPoll` (edge-triggered), with
/// readiness tracked per direction.
///
/// The fd must be in non-blocking mode. Readiness is a hint that the next operation may
/// succeed: operate, and clear the readiness only when the operation returns
/// [`WouldBlock`](io::ErrorKind::WouldBlock) ([`AsyncFdReadyGuard::try_io`] does both).
/// Readiness the reactor reports between the operation and the clear is kept (a 56-bit
/// generation per direction), so a wake-up is never lost.
///
/// Dropping the `AsyncFd` (or [`into_inner`](AsyncFd::into_inner)) deletes the registration
/// from the `EventPoll` **before** the inner value is dropped (and its fd closed), so no event
/// for this fd can reach a later registration that reuses the number.
///
/// ```
/// use executor::io::unix::AsyncFd;
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
///
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (a, mut b) = UnixStream::pair()?;
///     a.set_nonblocking(true)?;
///     let a = AsyncFd::new(a)?;
///     b.write_all(b"ping")?;
///     let mut buf = [0; 4];
///     let n = a.async_io(executor::io::Interest::READABLE, |mut s| s.read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct AsyncFd<T: AsRawFd> {
    handle: Handle,
    io: Arc<ScheduledIo>,
    token: u64,
    fd: RawFd,
    registered: bool,
    inner: Option<T>,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner` for readable and writable readiness on the current runtime.
    ///
    /// # Errors
    ///
    /// What `EventPoll::ctl` reports: `EPERM` for a file that cannot be polled (a regular
    /// file), `EEXIST` if the fd is already registered on this runtime, `ENOSPC` past the
    /// watch limit; an error if the runtime has shut down.
    ///
    /// # Panics
    ///
    /// Outside a runtime context (the message names the caller's line).
    #[track_caller]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner` for `interest` on the current runtime (see [`new`](AsyncFd::new)).
    #[track_caller]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest_on(&Handle::current(), inner, interest)
    }

    /// Registers `inner` for `interest` on the runtime of `handle`.
    pub fn with_interest_on(handle: &Handle, inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        AsyncFd::try_with_interest_on(handle, inner, interest).map_err(|e| e.into_parts().1)
    }

    /// As [`new`](AsyncFd::new), but a failure hands `inner` back (with the error).
    ///
    /// ```
    /// use executor::io::unix::AsyncFd;
    ///
    /// let rt = executor::runtime::Builder::new_current_thread().build()?;
    /// let _ctx = rt.enter();
    /// // A regular file cannot be polled: EPERM, and the file comes back.
    /// let file = std::fs::File::open("Cargo.toml")?;
    /// let (file, err) = AsyncFd::try_new(file).unwrap_err().into_parts();
    /// assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    /// assert!(file.metadata()?.is_file());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    #[track_caller]
    pub fn try_new(inner: T) -> Result<AsyncFd<T>, AsyncFdTryNewError<T>> {
        AsyncFd::try_with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// As [`with_interest`](AsyncFd::with_interest), but a failure hands `inner` back.
    #[track_caller]
    pub fn try_with_interest(inner: T, interest: Interest) -> Result<AsyncFd<T>, AsyncFdTryNewError<T>> {
        AsyncFd::try_with_interest_on(&Handle::current(), inner, interest)
    }

    fn try_with_interest_on(handle: &Handle, inner: T, interest: Interest) -> Result<AsyncFd<T>, AsyncFdTryNewError<T>> {
        let fd = inner.as_raw_fd();
        match handle.driver().register(fd, interest) {
            Ok((token, io)) => Ok(AsyncFd { handle: handle.clone(), io, token, fd, registered: true, inner: Some(inner) }),
            Err(cause) => Err(AsyncFdTryNewError { inner, cause }),
        }
    }

    /// The inner value.
    pub fn get_ref(&self) -> &T {
        self.inner.as_ref().expect("AsyncFd holds its value until dropped")
    }

    /// The inner value, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.as_mut().expect("AsyncFd holds its value until dropped")
    }

    /// Deregisters the fd and returns the inner value (still open).
    pub fn into_inner(mut self) -> T {
        self.deregister();
        self.inner.take().expect("AsyncFd holds its value until dropped")
    }

    fn deregister(&mut self) {
        if std::mem::replace(&mut self.registered, false) {
            self.handle.driver().deregister(self.fd, self.token);
        }
    }

    /// Polls for read readiness. One task at a time: a later call with another waker replaces
    /// the earlier waker (as `AsyncRead::poll_read`); use [`readable`](AsyncFd::readable) for
    /// several tasks. Takes a unit of the task's budget when ready.
    pub fn poll_read_ready<'a>(&'a self, cx: &mut Context<'_>) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let ev = ready!(self.io.poll_ready(cx, Direction::Read))?;
        Poll::Ready(Ok(AsyncFdReadyGuard { fd: self, event: Some(ev) }))
    }

    /// [`poll_read_ready`](AsyncFd::poll_read_ready) whose guard gives `&mut` access.
    pub fn poll_read_ready_mut<'a>(&'a mut self, cx: &mut Context<'_>) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let ev = ready!(self.io.poll_ready(cx, Direction::Read))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard { fd: self, event: Some(ev) }))
    }

    /// Polls for write readiness (one task at a time, as [`poll_read_ready`](AsyncFd::poll_read_ready)).
    pub fn poll_write_ready<'a>(&'a self, cx: &mut Context<'_>) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let ev = ready!(self.io.poll_ready(cx, Direction::Write))?;
        Poll::Ready(Ok(AsyncFdReadyGuard { fd: self, event: Some(ev) }))
    }

    /// [`poll_write_ready`](AsyncFd::poll_write_ready) whose guard gives `&mut` access.
    pub fn poll_write_ready_mut<'a>(&'a mut self, cx: &mut Context<'_>) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let ev = ready!(self.io.poll_ready(cx, Direction::Write))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard { fd: self, event: Some(ev) }))
    }

    /// Waits until the fd is readable (any number of tasks may wait at once).
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// [`readable`](AsyncFd::readable) whose guard gives `&mut` access.
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until the fd is writable (any number of tasks may wait at once).
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// [`writable`](AsyncFd::writable) whose guard gives `&mut` access.
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Waits until some readiness of `interest` is reported. Takes no unit of the task's
    /// cooperative budget (as tokio): the operation that follows does.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let ev = Readiness { io: &self.io, interest, key: None }.await?;
        Ok(AsyncFdReadyGuard { fd: self, event: Some(ev) })
    }

    /// [`ready`](AsyncFd::ready) whose guard gives `&mut` access to the `AsyncFd` and its value.
    ///
    /// ```
    /// use executor::io::{unix::AsyncFd, Interest};
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    ///
    /// let rt = executor::runtime::Builder::new_current_thread().build()?;
    /// rt.block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     a.set_nonblocking(true)?;
    ///     let mut a = AsyncFd::new(a)?;
    ///     b.write_all(b"hi")?;
    ///     let mut guard = a.ready_mut(Interest::READABLE).await?;
    ///     let mut buf = [0; 2];
    ///     let n = guard.try_io(|fd| fd.get_mut().read(&mut buf)).unwrap()?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ready_mut(&mut self, interest: Interest) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let ev = Readiness { io: &self.io, interest, key: None }.await?;
        Ok(AsyncFdReadyMutGuard { fd: self, event: Some(ev) })
    }

    /// Waits for `interest` and runs `f` until it returns something other than `WouldBlock`,
    /// clearing the readiness after each `WouldBlock`. Each completed call takes a unit of the
    /// task's budget.
    pub async fn async_io<R>(&self, interest: Interest, mut f: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = &*self.io;
        let inner = self.inner.as_ref().expect("AsyncFd holds its value until dropped");
        async_io(io, interest, || f(inner)).await
    }

    /// [`async_io`](AsyncFd::async_io) whose closure gets `&mut` access to the value.
    pub async fn async_io_mut<R>(&mut self, interest: Interest, mut f: impl FnMut(&mut T) -> io::Result<R>) -> io::Result<R> {
        let io = &*self.io;
        let inner = self.inner.as_mut().expect("AsyncFd holds its value until dropped");
        async_io(io, interest, || f(inner)).await
    }

    /// Runs `f` now, without waiting, if readiness of `interest` is recorded — else returns
    /// `WouldBlock` without calling it (as tokio). If `f` returns `WouldBlock`, the readiness
    /// observed before the call is cleared (readiness reported since is kept).
    ///
    /// A descriptor registered a moment ago has no readiness recorded until the driver has
    /// polled once, even if the OS has data for it: await [`readable`](AsyncFd::readable) /
    /// [`writable`](AsyncFd::writable) first, or use [`async_io`](AsyncFd::async_io).
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        try_io(&self.io, interest, || f(self.get_ref()))
    }

    /// [`try_io`](AsyncFd::try_io) whose closure gets `&mut` access to the value.
    pub fn try_io_mut<R>(&mut self, interest: Interest, f: impl FnOnce(&mut T) -> io::Result<R>) -> io::Result<R> {
        let inner = self.inner.as_mut().expect("AsyncFd holds its value until dropped");
        try_io(&self.io, interest, || f(inner))
    }

    /// The poll form of [`async_io`](AsyncFd::async_io) for one direction (`READABLE` or
    /// `WRITABLE`), for `AsyncRead` / `AsyncWrite` implementations: one task per direction.
    pub fn poll_io<R>(&self, cx: &mut Context<'_>, interest: Interest, mut f: impl FnMut(&T) -> io::Result<R>) -> Poll<io::Result<R>> {
        let dir = Direction::of(interest);
        loop {
            let ev = ready!(self.io.poll_ready(cx, dir))?;
            match f(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_readiness(ev),
                res => return Poll::Ready(res),
            }
        }
    }

    /// [`poll_io`](AsyncFd::poll_io) for a transfer of up to `len` bytes on a **stream socket**
    /// (`f` returns how many bytes it moved). A transfer that moves some bytes but fewer than
    /// `len` means the kernel's buffer was drained (read) or filled (write), so the readiness
    /// observed is cleared at once instead of by the `WouldBlock` of one more system call (an
    /// edge arriving meanwhile is kept: the generation check). The registration must include
    /// [`Interest::PRIORITY`] for reads, so that pending urgent data — where a read stops short
    /// of the urgent mark with more data queued — turns this off.
    ///
    /// Only for files where a short transfer means drained / full: TCP sockets (not datagram
    /// sockets, and not Unix stream sockets with `SO_PASSCRED`, whose reads stop at a change of
    /// sender).
    pub fn poll_io_stream(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        len: usize,
        mut f: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let dir = Direction::of(interest);
        loop {
            let ev = ready!(self.io.poll_ready(cx, dir))?;
            match f(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_readiness(ev),
                Ok(n) if 0 < n && n < len => {
                    self.io.clear_drained(ev);
                    return Poll::Ready(Ok(n));
                }
                res => return Poll::Ready(res),
            }
        }
    }

    /// Ready once the fd of any `AsyncFd` of this runtime was closed (by its drop) after `since` (a value of
    /// [`released_count`](AsyncFd::released_count)): a descriptor was freed. Used to back off
    /// from `EMFILE` until descriptors are available again.
    pub fn poll_fd_released(&self, cx: &mut Context<'_>, since: u64) -> Poll<()> {
        self.handle.driver().registry().poll_released(cx, since)
    }

    /// How many `AsyncFd`s of this runtime have closed their fd so far (see
    /// [`poll_fd_released`](AsyncFd::poll_fd_released)).
    pub fn released_count(&self) -> u64 {
        self.handle.driver().registry().released()
    }
}

/// The loop of `async_io`: wait for readiness (no budget), take a unit, operate, clear on
/// `WouldBlock` and wait again.
async fn async_io<R>(io: &ScheduledIo, interest: Interest, mut f: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        let ev = Readiness { io, interest, key: None }.await?;
        let unit = poll_fn(coop::poll_proceed).await;
        match f() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => io.clear_readiness(ev),
            res => {
                unit.made_progress();
                return res;
            }
        }
    }
}

/// The body of `try_io`: operate only if readiness is recorded; clear it on `WouldBlock`.
fn try_io<R>(io: &ScheduledIo, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
    let Some(ev) = io.readiness(interest)? else {
        return Err(io::ErrorKind::WouldBlock.into());
    };
    let res = f();
    if matches!(&res, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
        io.clear_readiness(ev);
    }
    res
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl<T: AsRawFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: `fd` is the inner value's descriptor, open for as long as the `AsyncFd`
        // holds the value (it is dropped only in `drop` / `into_inner`, which end the borrow).
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}

impl<T: AsRawFd> Drop for AsyncFd<T> {
    fn drop(&mut self) {
        // Delete the registration first; the inner value (and its fd) is dropped after, and
        // only then are the tasks waiting for a free descriptor told.
        let registered = self.registered;
        self.deregister();
        drop(self.inner.take());
        if registered {
            self.handle.driver().registry().notify_released();
        }
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd").field("inner", &self.inner).finish()
    }
}

/// Readiness observed on an [`AsyncFd`]: act on it, then clear it if the operation would block.
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    fd: &'a AsyncFd<T>,
    event: Option<ReadyEvent>,
}

/// The error of [`AsyncFdReadyGuard::try_io`] when the operation returned `WouldBlock` (the
/// readiness was cleared; wait again).
#[derive(Debug)]
pub struct TryIoError(());

/// The error of [`AsyncFd::try_new`] and [`AsyncFd::try_with_interest`]: the value that could
/// not be registered, and why.
pub struct AsyncFdTryNewError<T> {
    inner: T,
    cause: io::Error,
}

impl<T> AsyncFdTryNewError<T> {
    /// The value, and the registration's error.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Display for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> fmt::Debug for AsyncFdTryNewError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.cause, f)
    }
}

impl<T> Error for AsyncFdTryNewError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdTryNewError<T>> for io::Error {
    fn from(e: AsyncFdTryNewError<T>) -> io::Error {
        e.cause
    }
}

/// The readiness a guard observed, for both guards.
fn observed(event: &Option<ReadyEvent>) -> Ready {
    event.map_or(Ready::EMPTY, |ev| ev.ready)
}

/// Clears `ready` of the readiness observed (all of it: `Ready::ALL`), keeping what the reactor
/// reported since; the guard forgets what it cleared.
fn clear_observed(io: &ScheduledIo, event: &mut Option<ReadyEvent>, ready: Ready) {
    if let Some(mut ev) = *event {
        io.retain_readiness(ev, ev.ready - ready);
        ev.ready = ev.ready - ready;
        *event = (!ev.ready.is_empty()).then_some(ev);
    }
}

/// The result of a guard's `try_io`: a `WouldBlock` clears the observed readiness.
fn guard_try_io<R>(io: &ScheduledIo, event: &mut Option<ReadyEvent>, res: io::Result<R>) -> Result<io::Result<R>, TryIoError> {
    match res {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            clear_observed(io, event, Ready::ALL);
            Err(TryIoError(()))
        }
        res => Ok(res),
    }
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// The readiness observed.
    pub fn ready(&self) -> Ready {
        observed(&self.event)
    }

    /// Clears the observed readiness (not readiness reported since).
    pub fn clear_ready(&mut self) {
        clear_observed(&self.fd.io, &mut self.event, Ready::ALL);
    }

    /// Clears only `ready` of the observed readiness.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear_observed(&self.fd.io, &mut self.event, ready);
    }

    /// Keeps the readiness set (the default when the guard is dropped).
    pub fn retain_ready(&mut self) {
        self.event = None;
    }

    /// Runs `f`; on `WouldBlock` clears the readiness and returns `Err(TryIoError)`.
    pub fn try_io<R>(&mut self, f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>) -> Result<io::Result<R>, TryIoError> {
        let res = f(self.fd);
        guard_try_io(&self.fd.io, &mut self.event, res)
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.fd
    }

    /// The `AsyncFd`'s inner value.
    pub fn get_inner(&self) -> &'a T {
        self.fd.get_ref()
    }
}

impl<T: AsRawFd> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard").field("ready", &self.ready()).finish()
    }
}

/// Readiness observed on an [`AsyncFd`] borrowed mutably ([`AsyncFd::ready_mut`] and its
/// siblings): as [`AsyncFdReadyGuard`], with `&mut` access to the `AsyncFd` and its value.
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    fd: &'a mut AsyncFd<T>,
    event: Option<ReadyEvent>,
}

impl<T: AsRawFd> AsyncFdReadyMutGuard<'_, T> {
    /// The readiness observed.
    pub fn ready(&self) -> Ready {
        observed(&self.event)
    }

    /// Clears the observed readiness (not readiness reported since).
    pub fn clear_ready(&mut self) {
        clear_observed(&self.fd.io, &mut self.event, Ready::ALL);
    }

    /// Clears only `ready` of the observed readiness.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear_observed(&self.fd.io, &mut self.event, ready);
    }

    /// Keeps the readiness set (the default when the guard is dropped).
    pub fn retain_ready(&mut self) {
        self.event = None;
    }

    /// Runs `f`; on `WouldBlock` clears the readiness and returns `Err(TryIoError)`.
    pub fn try_io<R>(&mut self, f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>) -> Result<io::Result<R>, TryIoError> {
        let res = f(self.fd);
        guard_try_io(&self.fd.io, &mut self.event, res)
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.fd
    }

    /// The `AsyncFd`, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.fd
    }

    /// The `AsyncFd`'s inner value.
    pub fn get_inner(&self) -> &T {
        self.fd.get_ref()
    }

    /// The `AsyncFd`'s inner value, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.fd.get_mut()
    }
}

impl<T: AsRawFd> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard").field("ready", &self.ready()).finish()
    }
}

/// Waits for readiness as one of any number of waiters of a registration.
struct Readiness<'a> {
    io: &'a ScheduledIo,
    interest: Interest,
    key: Option<WaiterKey>,
}

impl Future for Readiness<'_> {
    type Output = io::Result<ReadyEvent>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        let this = self.get_mut();
        let res = ready!(this.io.poll_waiter(cx, this.interest, &mut this.key));
        if let Some(key) = this.key.take() {
            this.io.remove_waiter(key);
        }
        Poll::Ready(res)
    }
}

impl Drop for Readiness<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.io.remove_waiter(key);
        }
    }
}
