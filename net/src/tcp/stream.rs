//! [`TcpStream`]: a connected TCP socket implementing the `futures` I/O traits.

use super::split::{split, ReadHalf, WriteHalf};
use super::split_owned::{split_owned, OwnedReadHalf, OwnedWriteHalf};
use crate::addr::{each_addr, ToSocketAddrs};
use crate::read_uninit::read_uninit;
use executor::io::unix::AsyncFd;
use executor::io::{Interest, Ready};
use futures_io::{AsyncRead, AsyncWrite};
use socket2::{Domain, SockRef, Socket, Type};
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A TCP connection registered on the runtime's `EventPoll`.
///
/// `TcpStream` and `&TcpStream` implement [`AsyncRead`] and [`AsyncWrite`], so one task can
/// read while another writes (through an `Arc<TcpStream>`, [`split`](TcpStream::split) or
/// [`into_split`](TcpStream::into_split)). `poll_close` shuts the write direction down
/// (`shutdown(Write)`); `poll_flush` does nothing (there is no user-space buffer).
///
/// Writes use `MSG_NOSIGNAL`: writing to a connection the peer reset returns `BrokenPipe` (or
/// `ConnectionReset`) instead of raising `SIGPIPE`.
pub struct TcpStream {
    pub(crate) io: AsyncFd<std::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`.
    ///
    /// If `addr` resolves to several addresses, each is tried in order until one connects; the
    /// error of the last one is returned if none does (`ConnectionRefused` for a closed port).
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(&addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM.nonblocking().cloexec(), None)?;
        TcpStream::connect_socket(socket, addr).await
    }

    /// Starts a non-blocking connect of `socket` (non-blocking, unconnected) and waits for it.
    pub(crate) async fn connect_socket(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let stream = TcpStream::new(socket.into())?;
        // Writable means the handshake finished, one way or the other: `SO_ERROR` says which.
        // A wake-up before that (no error, not yet connected) clears the readiness and waits on.
        loop {
            let mut guard = stream.io.writable().await?;
            if let Some(e) = stream.take_error()? {
                return Err(e);
            }
            match stream.peer_addr() {
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
                    // Hung up without an error to report: waiting on could not end (the closed
                    // half is sticky readiness).
                    if guard.ready().is_write_closed() {
                        return Err(e);
                    }
                    guard.clear_ready();
                }
                Err(e) => return Err(e),
            }
        }
        Ok(stream)
    }

    /// Registers a non-blocking std stream.
    pub(crate) fn new(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        // PRIORITY: pending urgent data must be seen (see `poll_read_priv`).
        Ok(TcpStream { io: AsyncFd::with_interest(stream, Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY)? })
    }

    /// Wraps a connected std stream, putting it in non-blocking mode (unlike tokio, which
    /// requires the caller to), and registers it on the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::new(stream)
    }

    /// Deregisters the stream and returns it as a std stream, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
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

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the read, write or both directions (`shutdown(2)`). After
    /// `shutdown(Shutdown::Write)` the peer reads end of file and may still send.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes closing the socket reset the connection
    /// (the peer gets `ConnectionReset`).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.io.get_ref()).linger()
    }

    /// Sets `SO_LINGER` to zero: dropping the stream resets the connection (an `RST` instead of
    /// a `FIN`) and discards unsent data.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.set_linger(Some(Duration::ZERO))
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Waits for readiness of `interest` and returns what was reported. The readiness is kept:
    /// it is cleared only when a `try_*` operation returns `WouldBlock`.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        let guard = self.io.ready(interest).await?;
        Ok(guard.ready())
    }

    /// Waits until the stream is readable (data, end of file or an error). Any number of tasks
    /// may wait at once.
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until the stream is writable. Any number of tasks may wait at once.
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Polls for read readiness (one task at a time, like `poll_read`).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_read_ready(cx).map_ok(drop)
    }

    /// Polls for write readiness (one task at a time, like `poll_write`).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_write_ready(cx).map_ok(drop)
    }

    /// Reads now, without waiting: `WouldBlock` if no data is available (the readiness is
    /// then cleared), `Ok(0)` at end of file.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |mut s| s.read(buf))
    }

    /// Reads into several buffers now (`readv`), without waiting (see [`try_read`](Self::try_read)).
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.io.try_io(Interest::READABLE, |mut s| s.read_vectored(bufs))
    }

    /// Writes now, without waiting: `WouldBlock` if the send buffer is full (the readiness is
    /// then cleared).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |mut s| s.write(buf))
    }

    /// Writes several buffers now (`sendmsg`), without waiting (see [`try_write`](Self::try_write)).
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_io(Interest::WRITABLE, |s| SockRef::from(s).send_vectored(bufs))
    }

    /// Runs `f` now if the stream may be ready for `interest`, clearing the readiness if `f`
    /// returns `WouldBlock` (for system calls this type does not wrap).
    pub fn try_io<R>(&self, interest: Interest, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.io.try_io(interest, |_| f())
    }

    /// Waits for `interest` and runs `f` until it returns something other than `WouldBlock`.
    pub async fn async_io<R>(&self, interest: Interest, mut f: impl FnMut() -> io::Result<R>) -> io::Result<R> {
        self.io.async_io(interest, |_| f()).await
    }

    /// Receives data without removing it from the receive queue (`MSG_PEEK`), waiting until
    /// some is available. `Ok(0)` at end of file.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.async_io(Interest::READABLE, |s| s.peek(buf)).await
    }

    /// Polls a `peek` (one task at a time, sharing the read direction's slot with `poll_read`).
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Interest::READABLE, |s| s.peek(buf))
    }

    /// Splits the stream into a borrowed read half and write half, usable from two tasks of
    /// one scope (e.g. with `futures::join!`).
    ///
    /// With `runtime::io::AsyncReadExt` in scope (it has no `split`, like tokio's),
    /// `stream.split()` is this method. `futures::io::AsyncReadExt` has a by-value `split`
    /// (halves behind a lock) that method resolution finds first: with that trait in scope,
    /// write `TcpStream::split(&mut stream)`.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split(self)
    }

    /// Splits the stream into owned halves that can move to different tasks.
    /// [`OwnedReadHalf::reunite`] puts them back together. Dropping the write half shuts the
    /// write direction down (unless it was [`forget`](OwnedWriteHalf::forget)-ed).
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split_owned(self)
    }

    // The transfers below are `poll_io_stream`: a short read or write clears the readiness
    // without the `WouldBlock` of one more system call (the socket is registered with
    // `PRIORITY`, so pending urgent data turns that off).

    pub(crate) fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.io.poll_io_stream(cx, Interest::READABLE, len, |mut s| s.read(buf))
    }

    pub(crate) fn poll_read_vectored_priv(&self, cx: &mut Context<'_>, bufs: &mut [IoSliceMut<'_>]) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.io.poll_io_stream(cx, Interest::READABLE, len, |mut s| s.read_vectored(bufs))
    }

    /// Polls a read into uninitialised memory (`read(2)` straight into `buf`, nothing zeroes it
    /// first), one task at a time like `poll_read`, whose slot it shares. On `Ok(n)` the first
    /// `n` bytes of `buf` are initialised; `Ok(0)` is end of file. For buffers that are handed
    /// out uninitialised: hyper's read buffer (`runtime::hyper`), tokio's `ReadBuf` (the
    /// `tokio-io` feature).
    pub fn poll_read_uninit(&self, cx: &mut Context<'_>, buf: &mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.io.poll_io_stream(cx, Interest::READABLE, len, |s| read_uninit(s.as_fd(), &mut *buf))
    }

    pub(crate) fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        // std's `write` on a socket is `send(MSG_NOSIGNAL)`.
        self.io.poll_io_stream(cx, Interest::WRITABLE, buf.len(), |mut s| s.write(buf))
    }

    pub(crate) fn poll_write_vectored_priv(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        // `sendmsg(MSG_NOSIGNAL)`: `writev` would raise SIGPIPE on a reset connection.
        let len = bufs.iter().map(|b| b.len()).sum();
        self.io.poll_io_stream(cx, Interest::WRITABLE, len, |s| SockRef::from(s).send_vectored(bufs))
    }

    pub(crate) fn shutdown_write(&self) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// [`TcpStream::from_std`].
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &mut [IoSliceMut<'_>]) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_priv(cx, bufs)
    }
}

impl AsyncWrite for TcpStream {
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
        self.shutdown_write()
    }
}

impl AsyncRead for &TcpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &mut [IoSliceMut<'_>]) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_priv(cx, bufs)
    }
}

impl AsyncWrite for &TcpStream {
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
        self.shutdown_write()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("fd", &self.as_raw_fd())
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}
