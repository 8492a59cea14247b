//! [`UnixDatagram`]: a Unix-domain datagram socket.

use super::{new_socket, sock_addr, SocketAddr, SEND_FLAGS};
use executor::io::unix::AsyncFd;
use executor::io::{Interest, Ready};
use socket2::SockRef;
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::task::{Context, Poll};

/// A Unix-domain datagram socket registered on the runtime's `EventPoll` (tokio's
/// `UnixDatagram`). Every operation takes `&self`; several tasks may use one socket.
///
/// ```
/// use net::UnixDatagram;
///
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"one").await?;
///     let mut buf = [0; 8];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"one");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixDatagram {
    io: AsyncFd<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to `path`.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if `path` exists, `InvalidInput` for a path with a NUL byte or too long.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let addr = sock_addr(path.as_ref())?;
        let socket = new_socket(socket2::Type::DGRAM)?;
        socket.bind(&addr)?;
        UnixDatagram::register(OwnedFd::from(socket).into())
    }

    /// Creates a socket bound to no address (it can send, and receive replies only once
    /// connected or if the peer sends to it through a pair).
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn unbound() -> io::Result<UnixDatagram> {
        let socket = new_socket(socket2::Type::DGRAM)?;
        UnixDatagram::register(OwnedFd::from(socket).into())
    }

    /// A pair of connected, unnamed sockets (`socketpair(2)`).
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Wraps a standard socket, switching it to non-blocking mode.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::register(socket)
    }

    pub(crate) fn register(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram { io: AsyncFd::new(socket)? })
    }

    /// Deregisters the socket and returns it as a standard socket, **still in non-blocking
    /// mode**.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.io.into_inner())
    }

    /// Connects the socket to the socket bound at `path`: [`send`](UnixDatagram::send) goes
    /// there and [`recv`](UnixDatagram::recv) receives only from there.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let addr = sock_addr(path.as_ref())?;
        SockRef::from(self.io.get_ref()).connect(&addr)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address (`NotConnected` if not connected).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down reading, writing or both (`shutdown(2)`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Waits for any readiness of `interest`, and returns what was reported.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        Ok(self.io.ready(interest).await?.ready())
    }

    /// Waits until the socket may be readable.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the socket may be writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for read readiness (one task at a time: a later call with another waker replaces
    /// the earlier one). The readiness stays set, for a `try_recv*` to act on.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_read_ready(cx).map_ok(|mut guard| guard.retain_ready())
    }

    /// Polls for write readiness (one task at a time).
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_write_ready(cx).map_ok(|mut guard| guard.retain_ready())
    }

    /// Runs `f` (a non-blocking operation on the socket) if readiness of `interest` is
    /// recorded, else returns `WouldBlock`; on `WouldBlock` from `f` clears that readiness.
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.io.try_io(interest, |_| f())
    }

    /// Waits for `interest` and runs `f` until it returns something other than `WouldBlock`.
    pub async fn async_io<R>(&self, interest: Interest, mut f: impl FnMut() -> io::Result<R>) -> io::Result<R> {
        self.io.async_io(interest, |_| f()).await
    }

    /// Sends `buf` as one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Interest::WRITABLE, |s| SockRef::from(s).send_with_flags(buf, SEND_FLAGS)).await
    }

    /// Sends to the connected peer now, or fails with `WouldBlock`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| SockRef::from(s).send_with_flags(buf, SEND_FLAGS))
    }

    /// Polls sending to the connected peer (one task at a time per direction).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::WRITABLE, |s| SockRef::from(s).send_with_flags(buf, SEND_FLAGS))
    }

    /// Receives one datagram from the connected peer into `buf` (the rest of a longer
    /// datagram is discarded).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.recv(buf)).await
    }

    /// Receives one datagram now, or fails with `WouldBlock`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.recv(buf))
    }

    /// Polls receiving one datagram (one task at a time per direction).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::READABLE, |s| s.recv(buf))
    }

    /// Sends `buf` as one datagram to the socket bound at `path`.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = sock_addr(path.as_ref())?;
        self.io.async_io(Interest::WRITABLE, |s| SockRef::from(s).send_to_with_flags(buf, &addr, SEND_FLAGS)).await
    }

    /// Sends to `path` now, or fails with `WouldBlock`.
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = sock_addr(path.as_ref())?;
        self.io.try_io(Interest::WRITABLE, |s| SockRef::from(s).send_to_with_flags(buf, &addr, SEND_FLAGS))
    }

    /// Polls sending `buf` as one datagram to the socket bound at `path` (one task at a time
    /// per direction).
    pub fn poll_send_to(&self, cx: &mut Context<'_>, buf: &[u8], path: impl AsRef<Path>) -> Poll<io::Result<usize>> {
        let addr = match sock_addr(path.as_ref()) {
            Ok(addr) => addr,
            Err(e) => return Poll::Ready(Err(e)),
        };
        self.io.poll_io(cx, Interest::WRITABLE, |s| SockRef::from(s).send_to_with_flags(buf, &addr, SEND_FLAGS))
    }

    /// Receives one datagram; returns its length and the sender's address.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.async_io(Interest::READABLE, |s| s.recv_from(buf)).await
    }

    /// Receives one datagram now, or fails with `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Polls receiving one datagram with its sender (one task at a time per direction).
    pub fn poll_recv_from(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Interest::READABLE, |s| s.recv_from(buf))
    }
}

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// [`UnixDatagram::from_std`].
    fn try_from(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
