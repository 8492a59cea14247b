//! [`UnixStream`]: a connected Unix-domain stream socket.

use super::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use super::{new_socket, sock_addr, sock_addr_of, SocketAddr, UCred, SEND_FLAGS};
use crate::read_uninit::read_uninit;
use executor::io::unix::AsyncFd;
use executor::io::{Interest, Ready};
use futures_io::{AsyncRead, AsyncWrite};
use socket2::SockRef;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The longest pause between two `connect` attempts to a listener whose backlog is full.
const CONNECT_BACKOFF_MAX: Duration = Duration::from_millis(50);

/// A Unix-domain stream socket registered on the runtime's `EventPoll` (tokio's `UnixStream`).
///
/// Implements [`AsyncRead`] and [`AsyncWrite`], for the stream and for `&UnixStream` (one task
/// may read while another writes). Reads use `read(2)` / `readv(2)`; writes `send(2)` /
/// `sendmsg(2)` (without `SIGPIPE`). [`poll_close`](AsyncWrite::poll_close) shuts the write
/// half down (the peer reads end of file).
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use net::UnixStream;
///
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"hello").await?;
///     a.close().await?;
///     let mut got = Vec::new();
///     b.read_to_end(&mut got).await?;
///     assert_eq!(got, b"hello");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    io: AsyncFd<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the listener at `path`.
    ///
    /// If the listener's backlog is full (`EAGAIN` from a non-blocking `connect`), the
    /// connection is retried after a short pause (at most 50 ms, doubling from 1 ms) until the
    /// listener accepts or goes away — as a blocking `connect` would wait; wrap the call in a
    /// timeout to bound it.
    ///
    /// # Errors
    ///
    /// `NotFound` if nothing is bound at `path`, `ConnectionRefused` if the socket there is not
    /// listening, `InvalidInput` for a path with a NUL byte or too long.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = sock_addr(path.as_ref())?;
        UnixStream::connect_socket(new_socket(socket2::Type::STREAM)?, &addr).await
    }

    /// Connects to the listener at `addr` (a path or, on Linux, an abstract name; see
    /// [`connect`](UnixStream::connect)).
    ///
    /// # Errors
    ///
    /// As [`connect`](UnixStream::connect); `InvalidInput` for an unnamed address.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        let addr = sock_addr_of(addr)?;
        UnixStream::connect_socket(new_socket(socket2::Type::STREAM)?, &addr).await
    }

    /// Connects `socket` (a fresh non-blocking stream socket) to `addr` and registers it.
    pub(crate) async fn connect_socket(socket: socket2::Socket, addr: &socket2::SockAddr) -> io::Result<UnixStream> {
        let mut pause = Duration::from_millis(1);
        loop {
            match socket.connect(addr) {
                Ok(()) => return UnixStream::register(OwnedFd::from(socket).into()),
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    executor::time::sleep(pause).await;
                    pause = (pause * 2).min(CONNECT_BACKOFF_MAX);
                }
                Err(e) => return Err(e),
            }
        }
        // In progress (not what Linux does for Unix sockets, but allowed): wait for writable,
        // then read the outcome.
        let stream = UnixStream::register(OwnedFd::from(socket).into())?;
        stream.io.writable().await?.retain_ready();
        match stream.take_error()? {
            Some(e) => Err(e),
            None => Ok(stream),
        }
    }

    /// A pair of connected streams (`socketpair(2)`).
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a standard stream, switching it to non-blocking mode.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::register(stream)
    }

    pub(crate) fn register(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream { io: AsyncFd::new(stream)? })
    }

    /// Deregisters the stream and returns it as a standard stream, **still in non-blocking
    /// mode**.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.io.into_inner())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The credentials of the peer process (`SO_PEERCRED`: as of `connect` or `socketpair`).
    pub fn peer_cred(&self) -> io::Result<UCred> {
        UCred::of(self.io.get_ref().as_fd())
    }

    /// Takes the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the read half, the write half or both (`shutdown(2)`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Waits for any readiness of `interest`, and returns what was reported (it stays set
    /// until a `try_*` call would block).
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        Ok(self.io.ready(interest).await?.ready())
    }

    /// Waits until the stream may be readable (data, end of file or an error).
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the stream may be writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Reads now into `buf`, or fails with `WouldBlock` (0: end of file, or an empty `buf`).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |mut s| s.read(buf))
    }

    /// Reads now into `bufs` (`readv(2)`), or fails with `WouldBlock`.
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |mut s| s.read_vectored(bufs))
    }

    /// Writes now from `buf`, or fails with `WouldBlock`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| send(s, buf))
    }

    /// Writes now from `bufs` (`sendmsg(2)`), or fails with `WouldBlock`.
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| send_vectored(s, bufs))
    }

    /// Polls for read readiness (one task at a time: a later waker replaces an earlier one).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_read_ready(cx).map_ok(|mut g| g.retain_ready())
    }

    /// Polls for write readiness (one task at a time).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_write_ready(cx).map_ok(|mut g| g.retain_ready())
    }

    /// Borrowed read and write halves, usable by two tasks at once (see [`ReadHalf`]).
    ///
    /// With `runtime::io::AsyncReadExt` in scope (it has no `split`, like tokio's),
    /// `stream.split()` is this method. `futures::AsyncReadExt` has a by-value `split` (halves
    /// behind a lock) that method resolution finds first: with that trait in scope, write
    /// `UnixStream::split(&mut stream)`.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Owned read and write halves; [`OwnedReadHalf::reunite`] puts them back together.
    /// Dropping the write half shuts the write direction down.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }

    pub(crate) fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::READABLE, |mut s| s.read(buf))
    }

    pub(crate) fn poll_read_vectored_priv(&self, cx: &mut Context<'_>, bufs: &mut [IoSliceMut<'_>]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::READABLE, |mut s| s.read_vectored(bufs))
    }

    /// Polls a read into uninitialised memory (`read(2)` straight into `buf`, nothing zeroes it
    /// first), one task at a time like `poll_read`, whose slot it shares. On `Ok(n)` the first
    /// `n` bytes of `buf` are initialised; `Ok(0)` is end of file. For buffers that are handed
    /// out uninitialised: hyper's read buffer (`runtime::hyper`), tokio's `ReadBuf` (the
    /// `tokio-io` feature).
    pub fn poll_read_uninit(&self, cx: &mut Context<'_>, buf: &mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::READABLE, |s| read_uninit(s.as_fd(), &mut *buf))
    }

    pub(crate) fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::WRITABLE, |s| send(s, buf))
    }

    pub(crate) fn poll_write_vectored_priv(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::WRITABLE, |s| send_vectored(s, bufs))
    }

    /// `poll_close`: shut the write half down. A peer that is already gone is not an error.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self.shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            res => res,
        }
    }
}

fn send(s: &std::os::unix::net::UnixStream, buf: &[u8]) -> io::Result<usize> {
    SockRef::from(s).send_with_flags(buf, SEND_FLAGS)
}

fn send_vectored(s: &std::os::unix::net::UnixStream, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    SockRef::from(s).send_vectored_with_flags(bufs, SEND_FLAGS)
}

impl AsyncRead for UnixStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &mut [IoSliceMut<'_>]) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_priv(cx, bufs)
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}

impl AsyncRead for &UnixStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &mut [IoSliceMut<'_>]) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_priv(cx, bufs)
    }
}

impl AsyncWrite for &UnixStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write())
    }
}

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// [`UnixStream::from_std`].
    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
