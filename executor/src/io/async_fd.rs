//! [`AsyncFd`]: any file descriptor registered on the runtime's `EventPoll`.

use super::scheduled_io::{Direction, ReadyEvent, ScheduledIo, WaiterKey};
use super::{Interest, Ready};
use crate::loom::sync::Arc;
use crate::runtime::Handle;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
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
    /// Outside a runtime context.
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner` for `interest` on the current runtime (see [`new`](AsyncFd::new)).
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest_on(&Handle::current(), inner, interest)
    }

    /// Registers `inner` for `interest` on the runtime of `handle`.
    pub fn with_interest_on(handle: &Handle, inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        let fd = inner.as_raw_fd();
        let (token, io) = handle.driver().register(fd, interest)?;
        Ok(AsyncFd { handle: handle.clone(), io, token, fd, registered: true, inner: Some(inner) })
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
    /// several tasks.
    pub fn poll_read_ready<'a>(&'a self, cx: &mut Context<'_>) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let ev = ready!(self.io.poll_ready(cx, Direction::Read))?;
        Poll::Ready(Ok(AsyncFdReadyGuard { fd: self, event: Some(ev) }))
    }

    /// Polls for write readiness (one task at a time, as [`poll_read_ready`](AsyncFd::poll_read_ready)).
    pub fn poll_write_ready<'a>(&'a self, cx: &mut Context<'_>) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let ev = ready!(self.io.poll_ready(cx, Direction::Write))?;
        Poll::Ready(Ok(AsyncFdReadyGuard { fd: self, event: Some(ev) }))
    }

    /// Waits until the fd is readable (any number of tasks may wait at once).
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// Waits until the fd is writable (any number of tasks may wait at once).
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// Waits until some readiness of `interest` is reported.
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let ev = Readiness { io: &self.io, interest, key: None }.await?;
        Ok(AsyncFdReadyGuard { fd: self, event: Some(ev) })
    }

    /// Waits for `interest` and runs `f` until it returns something other than `WouldBlock`,
    /// clearing the readiness after each `WouldBlock`.
    pub async fn async_io<R>(&self, interest: Interest, mut f: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        loop {
            let ev = Readiness { io: &self.io, interest, key: None }.await?;
            match f(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_readiness(ev),
                res => return res,
            }
        }
    }

    /// Runs `f` now, without waiting; if it returns `WouldBlock`, clears the readiness observed
    /// before the call (readiness reported since is kept).
    ///
    /// Unlike tokio's `try_io`, `f` is called even if no readiness is recorded: the record is a
    /// hint, and a fd registered a moment ago may already be ready before the reactor says so.
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce(&T) -> io::Result<R>) -> io::Result<R> {
        let ev = self.io.readiness(interest)?;
        let res = f(self.get_ref());
        if let (Err(e), Some(ev)) = (&res, ev) {
            if e.kind() == io::ErrorKind::WouldBlock {
                self.io.clear_readiness(ev);
            }
        }
        res
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

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
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

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    /// The readiness observed.
    pub fn ready(&self) -> Ready {
        self.event.map_or(Ready::EMPTY, |ev| ev.ready)
    }

    /// Clears the observed readiness (not readiness reported since).
    pub fn clear_ready(&mut self) {
        if let Some(ev) = self.event.take() {
            self.fd.io.clear_readiness(ev);
        }
    }

    /// Clears only `ready` of the observed readiness.
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        if let Some(mut ev) = self.event {
            self.fd.io.retain_readiness(ev, ev.ready - ready);
            ev.ready = ev.ready - ready;
            self.event = (!ev.ready.is_empty()).then_some(ev);
        }
    }

    /// Keeps the readiness set (the default when the guard is dropped).
    pub fn retain_ready(&mut self) {
        self.event = None;
    }

    /// Runs `f`; on `WouldBlock` clears the readiness and returns `Err(TryIoError)`.
    pub fn try_io<R>(&mut self, f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>) -> Result<io::Result<R>, TryIoError> {
        match f(self.fd) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            res => Ok(res),
        }
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
