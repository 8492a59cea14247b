//! [`TcpListener`]: a listening socket whose `accept` never spins when descriptors run out.

use super::TcpStream;
use crate::addr::{each_addr, ToSocketAddrs};
use executor::io::unix::AsyncFd;
use executor::io::Interest;
use executor::time::{sleep, Sleep};
use futures_core::Stream;
use socket2::{Domain, SockAddr, Socket, Type};
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, RawFd};
use std::pin::{pin, Pin};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

/// The backlog of a listener made by [`TcpListener::bind`].
const BACKLOG: i32 = 1024;

/// The first back-off after `accept` failed for lack of descriptors or memory.
const BACKOFF_MIN: Duration = Duration::from_millis(5);
/// The longest back-off (the delay doubles from [`BACKOFF_MIN`] up to this).
const BACKOFF_MAX: Duration = Duration::from_millis(500);

/// A TCP socket listening for connections, registered on the runtime's `EventPoll`.
///
/// ```
/// use net::{TcpListener, TcpStream};
///
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     let (_server, peer) = listener.accept().await?;
///     assert_eq!(peer, client.local_addr()?);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Accept errors
///
/// [`accept`](TcpListener::accept), [`poll_accept`](TcpListener::poll_accept) and
/// [`incoming`](TcpListener::incoming) absorb two kinds of errors instead of returning them:
///
/// * errors that concern only the connection being accepted (`ECONNABORTED`, `EPROTO`,
///   `EPERM` from a firewall, `EINTR`, and the pending network errors Linux's `accept(2)` says
///   to treat like `EAGAIN`): that connection is skipped and the next one accepted;
/// * resource exhaustion (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`): the connection stays in the
///   backlog and the listener keeps its readiness (no new edge would come for it); the accept
///   waits until a descriptor registered on this runtime is released or a back-off timer fires
///   (5 ms, doubling up to 500 ms; back to 5 ms after a successful accept or a released
///   descriptor), whichever is first, then
///   retries. The task sleeps meanwhile: no busy loop.
///
/// Every other error is returned.
pub struct TcpListener {
    io: AsyncFd<std::net::TcpListener>,
    /// The back-off of `poll_accept` (the `accept` future keeps its own).
    backoff: Mutex<Backoff>,
}

/// Back-off state after a resource-exhaustion error.
struct Backoff {
    /// The next delay.
    delay: Duration,
    /// The wait in progress: the timer, and the release count read before the failed accept.
    wait: Option<(Pin<Box<Sleep>>, u64)>,
}

impl Backoff {
    fn new() -> Backoff {
        Backoff { delay: BACKOFF_MIN, wait: None }
    }

    /// Starts a wait of the current delay.
    fn start(&mut self, released_since: u64) {
        self.wait = Some((Box::pin(sleep(self.delay)), released_since));
    }

    fn reset(&mut self) {
        self.delay = BACKOFF_MIN;
        self.wait = None;
    }
}

/// The delay of the next back-off: doubled after the timer fired, back to the shortest after a
/// descriptor was released (the runtime signals a release just before the descriptor is closed,
/// so the retry it wakes may still fail; the next one should come soon).
fn next_delay(delay: Duration, released: bool) -> Duration {
    if released {
        BACKOFF_MIN
    } else {
        (delay * 2).min(BACKOFF_MAX)
    }
}

/// What an accept system call's error means for the accept loop.
enum AcceptError {
    /// Only this connection failed: try the next one.
    Skip,
    /// Out of descriptors or memory: back off, then retry.
    Exhausted,
    /// Return it.
    Fatal(io::Error),
}

fn classify(e: io::Error) -> AcceptError {
    match e.raw_os_error() {
        Some(
            libc::ECONNABORTED
            | libc::EINTR
            | libc::EPROTO
            | libc::EPERM
            // accept(2): "Linux accept() passes already-pending network errors on the new
            // socket as an error code from accept() ... should treat them like EAGAIN".
            | libc::ENETDOWN
            | libc::ENOPROTOOPT
            | libc::EHOSTDOWN
            | libc::ENONET
            | libc::EHOSTUNREACH
            | libc::EOPNOTSUPP
            | libc::ENETUNREACH,
        ) => AcceptError::Skip,
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => AcceptError::Exhausted,
        _ if e.kind() == io::ErrorKind::ConnectionAborted => AcceptError::Skip,
        _ => AcceptError::Fatal(e),
    }
}

/// `accept4(SOCK_NONBLOCK | SOCK_CLOEXEC)`: one system call for a non-blocking, close-on-exec
/// connection and its peer address.
fn accept4(listener: &std::net::TcpListener) -> io::Result<(std::net::TcpStream, SocketAddr)> {
    let fd = listener.as_raw_fd();
    // SAFETY: `try_init` hands us a zeroed `sockaddr_storage` and its length to fill in;
    // `accept4` writes at most `*len` bytes there and sets `*len` to the address's length, which
    // is what `try_init` expects of the closure. `fd` is the listener's open descriptor,
    // borrowed for the call.
    let (res, addr) = unsafe {
        SockAddr::try_init(|storage, len| {
            let new = libc::accept4(fd, storage.cast(), len, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
            if new < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(new)
            }
        })
    }?;
    // SAFETY: `accept4` succeeded, so `res` is a new descriptor that nothing else owns.
    let stream = unsafe { std::net::TcpStream::from_raw_fd(res) };
    match addr.as_socket() {
        Some(peer) => Ok((stream, peer)),
        // Not an internet address: the connection went away before we learnt its peer; the
        // caller skips it (the stream is closed here).
        None => Err(io::Error::new(io::ErrorKind::ConnectionAborted, "accepted a connection without a peer address")),
    }
}

impl TcpListener {
    /// Creates a listener bound to `addr` (`SO_REUSEADDR`, backlog 1024).
    ///
    /// If `addr` resolves to several addresses, each is tried in order until one binds; the
    /// error of the last one is returned if none does.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(&addr, |a| async move { TcpListener::bind_addr(a) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM.nonblocking().cloexec(), None)?;
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(BACKLOG)?;
        TcpListener::new(socket.into())
    }

    /// Registers a non-blocking std listener.
    pub(crate) fn new(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener { io: AsyncFd::with_interest(listener, Interest::READABLE)?, backoff: Mutex::new(Backoff::new()) })
    }

    /// Wraps a listening std socket, putting it in non-blocking mode (unlike tokio, which
    /// requires the caller to), and registers it on the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::new(listener)
    }

    /// Deregisters the listener and returns it as a std listener, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_inner())
    }

    /// Accepts a connection: the stream (registered on the current runtime) and the peer's
    /// address.
    ///
    /// Errors concerning only the connection being accepted are skipped and resource
    /// exhaustion (`EMFILE`, `ENFILE`, …) is waited out without spinning (see the
    /// [type-level docs](TcpListener#accept-errors)). Any number of tasks may accept on one
    /// listener at once.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut delay = BACKOFF_MIN;
        loop {
            let mut since = self.io.released_count();
            let res = self
                .io
                .async_io(Interest::READABLE, |l| {
                    since = self.io.released_count();
                    accept4(l)
                })
                .await;
            match res.map_err(classify) {
                Ok((stream, peer)) => return Ok((TcpStream::new(stream)?, peer)),
                Err(AcceptError::Skip) => continue,
                Err(AcceptError::Fatal(e)) => return Err(e),
                Err(AcceptError::Exhausted) => {
                    let mut timer = pin!(sleep(delay));
                    let released = poll_fn(|cx| {
                        if self.io.poll_fd_released(cx, since).is_ready() {
                            Poll::Ready(true)
                        } else if timer.as_mut().poll(cx).is_ready() {
                            Poll::Ready(false)
                        } else {
                            Poll::Pending
                        }
                    })
                    .await;
                    delay = next_delay(delay, released);
                }
            }
        }
    }

    /// Polls for a connection (one task at a time: a later call with another waker replaces
    /// the earlier one; use [`accept`](TcpListener::accept) from several tasks). Errors are
    /// handled as by `accept`.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let mut backoff = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some((timer, since)) = backoff.wait.as_mut() {
                let released = self.io.poll_fd_released(cx, *since).is_ready();
                if !released && timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                backoff.wait = None;
                backoff.delay = next_delay(backoff.delay, released);
            }
            let mut since = self.io.released_count();
            let res = std::task::ready!(self.io.poll_io(cx, Interest::READABLE, |l| {
                since = self.io.released_count();
                accept4(l)
            }));
            match res.map_err(classify) {
                Ok((stream, peer)) => {
                    backoff.reset();
                    return Poll::Ready(TcpStream::new(stream).map(|s| (s, peer)));
                }
                Err(AcceptError::Skip) => continue,
                Err(AcceptError::Fatal(e)) => return Poll::Ready(Err(e)),
                Err(AcceptError::Exhausted) => backoff.start(since),
            }
        }
    }

    /// A stream of accepted connections (the peer addresses dropped), through
    /// [`poll_accept`](TcpListener::poll_accept).
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `IP_TTL`, the time-to-live of packets sent from accepted sockets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener").field("fd", &self.as_raw_fd()).field("addr", &self.local_addr().ok()).finish()
    }
}

/// The accepted connections of a [`TcpListener`], from [`TcpListener::incoming`]. It never
/// ends; an error item is one `accept` would have returned.
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<TcpStream>>> {
        let (stream, _) = std::task::ready!(self.listener.poll_accept(cx))?;
        Poll::Ready(Some(Ok(stream)))
    }
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming").field("listener", self.listener).finish()
    }
}
