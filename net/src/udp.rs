//! [`UdpSocket`]: a UDP socket on the runtime's `EventPoll`.
//!
//! The socket is created with `socket2` (non-blocking, close-on-exec) and registered
//! edge-triggered through [`AsyncFd`]. Every operation takes `&self`: any number of tasks may
//! send and receive on one socket at once (share it with an `Arc`); each waits for readiness
//! as one of the registration's waiters, tries the system call, and clears the readiness only
//! when the call returned `WouldBlock`.

use crate::addr::{each_addr, first_addr, resolve, ToSocketAddrs};
use executor::io::unix::AsyncFd;
use executor::io::{Interest, Ready};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

/// A UDP socket registered on the runtime's `EventPoll` (tokio's `UdpSocket`).
///
/// Unlike a stream there is no "connection": [`bind`](UdpSocket::bind) a socket and
/// [`send_to`](UdpSocket::send_to) / [`recv_from`](UdpSocket::recv_from) any peer, or
/// [`connect`](UdpSocket::connect) it to one peer and use [`send`](UdpSocket::send) /
/// [`recv`](UdpSocket::recv) (datagrams from other addresses are then dropped by the kernel).
///
/// ```
/// use net::UdpSocket;
///
/// let rt = executor::runtime::Builder::new_current_thread().enable_all().build()?;
/// rt.block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    io: AsyncFd<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Creates a socket bound to `addr` (the first of its addresses that can be bound).
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `addr` resolves to nothing; otherwise the error of the last address
    /// tried (`AddrInUse`, `AddrNotAvailable`, ...).
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        each_addr(&addr, |a| async move { UdpSocket::bind_one(a) }).await
    }

    fn bind_one(addr: SocketAddr) -> io::Result<UdpSocket> {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        UdpSocket::register(socket.into())
    }

    fn register(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket { io: AsyncFd::new(socket)? })
    }

    /// Wraps a standard socket, switching it to non-blocking mode.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::register(socket)
    }

    /// Deregisters the socket and returns it as a standard socket, **still in non-blocking
    /// mode** (call `set_nonblocking(false)` to block).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.io.into_inner())
    }

    /// Connects the socket to `addr` (the first of its addresses that the kernel accepts):
    /// [`send`](UdpSocket::send) goes there and [`recv`](UdpSocket::recv) receives only from
    /// there.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let sock = self.io.get_ref();
        let mut last = None;
        for a in resolve(&addr).await? {
            match sock.connect(a) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "could not resolve to any address")))
    }

    /// The local address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the connected peer (`NotConnected` if not connected).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Waits for any readiness of `interest`, and returns what was reported. The readiness
    /// stays set: the next `try_*` call tries the system call and clears it on `WouldBlock`.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        let guard = self.io.ready(interest).await?;
        Ok(guard.ready())
    }

    /// Waits until the socket may be readable (then use [`try_recv`](UdpSocket::try_recv) or
    /// [`try_recv_from`](UdpSocket::try_recv_from)).
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the socket may be writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for read readiness (one task at a time: a later call with another waker replaces
    /// the earlier one; [`readable`](UdpSocket::readable) serves any number of tasks). The
    /// readiness stays set, for a `try_recv*` to act on.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_read_ready(cx).map_ok(|mut guard| guard.retain_ready())
    }

    /// Polls for write readiness (one task at a time, as
    /// [`poll_recv_ready`](UdpSocket::poll_recv_ready)).
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_write_ready(cx).map_ok(|mut guard| guard.retain_ready())
    }

    /// Sends `buf` to the connected peer; returns the bytes sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.async_io(Interest::WRITABLE, |s| s.send(buf)).await
    }

    /// Sends `buf` to the connected peer now, or fails with `WouldBlock`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| s.send(buf))
    }

    /// Polls sending `buf` to the connected peer (one task at a time per direction).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::WRITABLE, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer into `buf`; returns its length (the rest
    /// of a datagram longer than `buf` is discarded).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.recv(buf)).await
    }

    /// Receives one datagram from the connected peer now, or fails with `WouldBlock`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.recv(buf))
    }

    /// Polls receiving one datagram from the connected peer (one task at a time per direction).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::READABLE, |s| s.recv(buf))
    }

    /// Sends `buf` to `target` (its first address); returns the bytes sent.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `target` resolves to nothing.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = first_addr(&target).await?;
        self.io.async_io(Interest::WRITABLE, |s| s.send_to(buf, target)).await
    }

    /// Sends `buf` to `target` now, or fails with `WouldBlock`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| s.send_to(buf, target))
    }

    /// Polls sending `buf` to `target` (one task at a time per direction).
    pub fn poll_send_to(&self, cx: &mut Context<'_>, buf: &[u8], target: SocketAddr) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::WRITABLE, |s| s.send_to(buf, target))
    }

    /// Receives one datagram into `buf`; returns its length and sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.async_io(Interest::READABLE, |s| s.recv_from(buf)).await
    }

    /// Receives one datagram now, or fails with `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Polls receiving one datagram (one task at a time per direction).
    pub fn poll_recv_from(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Copies the next datagram into `buf` without removing it from the queue; returns its
    /// length and sender.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.async_io(Interest::READABLE, |s| s.peek_from(buf)).await
    }

    /// Copies the next datagram now without removing it, or fails with `WouldBlock`.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.try_io(Interest::READABLE, |s| s.peek_from(buf))
    }

    /// Polls peeking at the next datagram (one task at a time per direction).
    pub fn poll_peek_from(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Interest::READABLE, |s| s.peek_from(buf))
    }

    /// Copies the next datagram from the connected peer into `buf` without removing it.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.peek(buf)).await
    }

    /// Copies the next datagram from the connected peer now without removing it, or fails with
    /// `WouldBlock`.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |s| s.peek(buf))
    }

    /// Polls peeking at the next datagram from the connected peer (one task at a time per
    /// direction).
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::READABLE, |s| s.peek(buf))
    }

    /// The sender of the next datagram, without removing it (or reading any of it).
    ///
    /// ```
    /// use net::UdpSocket;
    ///
    /// let rt = executor::runtime::Builder::new_current_thread().build()?;
    /// rt.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"hi", b.local_addr()?).await?;
    ///     assert_eq!(b.peek_sender().await?, a.local_addr()?);
    ///     let mut buf = [0; 2];
    ///     assert_eq!(b.recv_from(&mut buf).await?, (2, a.local_addr()?)); // still queued
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.async_io(Interest::READABLE, peek_sender).await
    }

    /// Polls for the sender of the next datagram (one task at a time per direction).
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(cx, Interest::READABLE, peek_sender)
    }

    /// The sender of the next datagram now, or `WouldBlock`.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.try_io(Interest::READABLE, peek_sender)
    }

    /// Runs `f` (a non-blocking operation on the socket) now; on `WouldBlock` clears the
    /// readiness of `interest` so the next wait is for fresh readiness.
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.io.try_io(interest, |_| f())
    }

    /// Waits for `interest` and runs `f` until it returns something other than `WouldBlock`.
    pub async fn async_io<R>(&self, interest: Interest, mut f: impl FnMut() -> io::Result<R>) -> io::Result<R> {
        self.io.async_io(interest, |_| f()).await
    }

    /// Sets `IP_TOS` (the IPv4 type-of-service byte) of datagrams sent from this socket.
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_tos(tos)
    }

    /// `IP_TOS`.
    pub fn tos_v4(&self) -> io::Result<u32> {
        SockRef::from(self.io.get_ref()).tos()
    }

    /// Sets `IPV6_TCLASS` (the IPv6 traffic class) of datagrams sent from this (IPv6) socket.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "macos"))]
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_tclass_v6(tclass)
    }

    /// `IPV6_TCLASS`.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "macos"))]
    pub fn tclass_v6(&self) -> io::Result<u32> {
        SockRef::from(self.io.get_ref()).tclass_v6()
    }

    /// Sets `SO_BROADCAST` (may send to a broadcast address).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets `IP_TTL` (the time-to-live of outgoing IPv4 datagrams).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_MULTICAST_LOOP` (whether IPv4 multicast sent is looped back).
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// `IP_MULTICAST_LOOP`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_TTL`.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// `IP_MULTICAST_TTL`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// `IPV6_MULTICAST_LOOP`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address `interface`
    /// (`0.0.0.0`: the system's choice).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv4 multicast group (see [`join_multicast_v4`](UdpSocket::join_multicast_v4)).
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on interface index `interface` (0: any).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Takes the pending socket error (`SO_ERROR`), e.g. an ICMP "port unreachable" reported
    /// for a connected socket.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// `recvfrom(MSG_PEEK | MSG_TRUNC)` into nothing: the next datagram's sender, left queued.
fn peek_sender(socket: &std::net::UdpSocket) -> io::Result<SocketAddr> {
    let addr = SockRef::from(socket).peek_sender()?;
    addr.as_socket().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "the sender is not an internet address"))
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket").field("local", &self.local_addr().ok()).field("fd", &self.as_raw_fd()).finish()
    }
}
