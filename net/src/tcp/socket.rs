//! [`TcpSocket`]: a TCP socket configured before it connects or listens.

use super::{TcpListener, TcpStream};
use socket2::{Domain, Socket, Type};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

/// A TCP socket not yet connected or listening, to set options that must precede
/// `connect` / `listen` (`SO_REUSEPORT`, buffer sizes, binding a client to a local address).
///
/// ```
/// use net::TcpSocket;
///
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseaddr(true)?;
///     socket.bind("127.0.0.1:0".parse().unwrap())?;
///     let listener = socket.listen(128)?;
///     let _client = TcpSocket::new_v4()?.connect(listener.local_addr()?).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (non-blocking, close-on-exec).
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket (non-blocking, close-on-exec).
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        Ok(TcpSocket { inner: Socket::new(domain, Type::STREAM.nonblocking().cloexec(), None)? })
    }

    /// A `TcpSocket` of a std stream (made non-blocking), to set options before it is handed
    /// to the runtime again ([`connect`](TcpSocket::connect) is meant for a fresh socket).
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        let inner = Socket::from(stream);
        // Only fails on a descriptor that is not open, which an owned stream cannot be.
        let _ = inner.set_nonblocking(true);
        TcpSocket { inner }
    }

    /// Sets `SO_KEEPALIVE`: the kernel probes an idle connection and reports it broken if the
    /// peer is gone.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// `SO_KEEPALIVE`.
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `IP_TOS` (the IPv4 type-of-service byte) of packets sent from this socket.
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.inner.set_tos(tos)
    }

    /// `IP_TOS`.
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.inner.tos()
    }

    /// Sets `IPV6_TCLASS` (the IPv6 traffic class) of packets sent from this (IPv6) socket.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "macos"))]
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        self.inner.set_tclass_v6(tclass)
    }

    /// `IPV6_TCLASS`.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "macos"))]
    pub fn tclass_v6(&self) -> io::Result<u32> {
        self.inner.tclass_v6()
    }

    /// Sets `SO_REUSEADDR`.
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// `SO_REUSEADDR`.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`.
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// `SO_REUSEPORT`.
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `SO_SNDBUF`.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// `SO_SNDBUF`.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner.send_buffer_size().map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_RCVBUF`.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// `SO_RCVBUF`.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner.recv_buffer_size().map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_LINGER`.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(linger)
    }

    /// Sets `SO_LINGER` to zero: closing the socket resets the connection (an `RST` instead of
    /// a `FIN`) and discards unsent data, so it leaves no `TIME_WAIT` behind.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.inner.set_linger(Some(Duration::ZERO))
    }

    /// `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// Sets `TCP_NODELAY`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }

    /// `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// Binds the socket to `addr`.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()?.as_socket().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an internet address"))
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Connects to `addr` and registers the stream on the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_socket(self.inner, addr).await
    }

    /// Listens with a backlog of `backlog` connections and registers the listener on the
    /// current runtime ([`TcpListener::bind`] uses 1024).
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        TcpListener::new(self.inner.into())
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket").field("fd", &self.as_raw_fd()).finish()
    }
}
