//! [`UnixListener`]: a Unix-domain socket accepting stream connections.

use super::{new_socket, sock_addr, sock_addr_of, SocketAddr, UnixStream};
use executor::io::unix::AsyncFd;
use executor::time::{sleep, Sleep};
use futures_core::Stream;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// The listen backlog of [`UnixListener::bind`].
const BACKLOG: libc::c_int = 1024;

/// How long `accept` pauses after running out of file descriptors, unless a descriptor of this
/// runtime is released sooner.
const EXHAUSTED_PAUSE: Duration = Duration::from_millis(100);

/// A Unix-domain listening socket registered on the runtime's `EventPoll` (tokio's
/// `UnixListener`).
///
/// [`accept`](UnixListener::accept) may be awaited by several tasks at once. Connections
/// aborted before they were accepted (`ECONNABORTED`, `EPROTO`) and interrupted calls are
/// skipped. When the process or system is out of file descriptors (`EMFILE`, `ENFILE`) or
/// memory (`ENOBUFS`, `ENOMEM`), `accept` does not spin: it keeps the pending readiness and
/// retries once a descriptor registered on this runtime is released or after 100 ms,
/// whichever comes first.
///
/// Dropping the listener does not remove the socket file from the filesystem.
///
/// ```
/// use net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("net-doc-listener-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("sock");
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let client = UnixStream::connect(&path).await?;
///     let (server, _addr) = listener.accept().await?;
///     assert_eq!(server.peer_cred()?.pid(), Some(std::process::id() as i32));
///     drop(client);
///     Ok::<(), std::io::Error>(())
/// })?;
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    io: AsyncFd<std::os::unix::net::UnixListener>,
    /// The back-off of [`poll_accept`](UnixListener::poll_accept) (`accept` keeps its own).
    poll_backoff: Mutex<Backoff>,
}

impl UnixListener {
    /// Creates a socket bound to `path` and listening.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if `path` exists (even a stale socket file: remove it first),
    /// `InvalidInput` for a path with a NUL byte or too long, `NotFound` /
    /// `PermissionDenied` for an unusable directory.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::bind_sock(&sock_addr(path.as_ref())?)
    }

    /// Creates a socket bound to `addr` (a path or, on Linux, an abstract name) and listening.
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    ///
    /// let rt = executor::runtime::Builder::new_current_thread().build()?;
    /// rt.block_on(async {
    ///     let name = format!("runtime-doc-{}", std::process::id());
    ///     let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
    ///     let listener = net::UnixListener::bind_addr(&addr)?;
    ///     let _client = net::UnixStream::connect_addr(&addr).await?;
    ///     let _server = listener.accept().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`bind`](UnixListener::bind); `InvalidInput` for an unnamed address.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::bind_sock(&sock_addr_of(addr)?)
    }

    fn bind_sock(addr: &socket2::SockAddr) -> io::Result<UnixListener> {
        let socket = new_socket(socket2::Type::STREAM)?;
        socket.bind(addr)?;
        UnixListener::listen_socket(socket, BACKLOG)
    }

    /// Makes `socket` (a bound, non-blocking stream socket) listen and registers it.
    pub(crate) fn listen_socket(socket: socket2::Socket, backlog: libc::c_int) -> io::Result<UnixListener> {
        socket.listen(backlog)?;
        UnixListener::register(OwnedFd::from(socket).into())
    }

    /// Wraps a standard listener, switching it to non-blocking mode.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::register(listener)
    }

    fn register(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener { io: AsyncFd::new(listener)?, poll_backoff: Mutex::new(Backoff::default()) })
    }

    /// Deregisters the listener and returns it as a standard listener, **still in
    /// non-blocking mode**.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Waits for a connection and accepts it: the connected stream and the peer's address
    /// (usually unnamed). Any number of tasks may wait at once.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let mut backoff = Backoff::default();
        loop {
            poll_fn(|cx| backoff.poll_wait(cx, &self.io)).await;
            let released = self.io.released_count();
            let mut guard = self.io.readable().await?;
            let Ok(res) = guard.try_io(|fd| fd.get_ref().accept()) else { continue };
            match classify(res) {
                Step::Accepted(res) => return res,
                Step::Skip => {}
                Step::Exhausted => {
                    guard.retain_ready();
                    backoff.arm(released);
                }
            }
        }
    }

    /// Polls for a connection (one task at a time: a later waker replaces an earlier one; use
    /// [`accept`](UnixListener::accept) from several tasks).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let mut backoff = self.poll_backoff.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            ready!(backoff.poll_wait(cx, &self.io));
            let released = self.io.released_count();
            let mut guard = ready!(self.io.poll_read_ready(cx))?;
            let Ok(res) = guard.try_io(|fd| fd.get_ref().accept()) else { continue };
            match classify(res) {
                Step::Accepted(res) => return Poll::Ready(res),
                Step::Skip => {}
                Step::Exhausted => {
                    guard.retain_ready();
                    backoff.arm(released);
                }
            }
        }
    }

    /// The accepted connections as a [`Stream`] (never ends; items are errors `accept` would
    /// return).
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }
}

/// What to do after one `accept(2)`.
enum Step {
    /// Return this.
    Accepted(io::Result<(UnixStream, SocketAddr)>),
    /// Try again at once (the readiness is kept).
    Skip,
    /// Out of descriptors or memory: keep the readiness and pause.
    Exhausted,
}

fn classify(res: io::Result<(std::os::unix::net::UnixStream, SocketAddr)>) -> Step {
    match res {
        Ok((stream, addr)) => Step::Accepted(UnixStream::from_std(stream).map(|s| (s, addr))),
        Err(e) => match e.raw_os_error() {
            Some(libc::ECONNABORTED | libc::EPROTO | libc::EINTR) => Step::Skip,
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => Step::Exhausted,
            _ => Step::Accepted(Err(e)),
        },
    }
}

/// The pause after `accept` ran out of descriptors: until the runtime releases one (the
/// `released_count` seen before the failed call moved) or a short timer fires.
#[derive(Default)]
struct Backoff {
    armed: Option<(u64, Pin<Box<Sleep>>)>,
}

impl Backoff {
    fn arm(&mut self, released: u64) {
        self.armed = Some((released, Box::pin(sleep(EXHAUSTED_PAUSE))));
    }

    fn poll_wait<T: AsRawFd>(&mut self, cx: &mut Context<'_>, io: &AsyncFd<T>) -> Poll<()> {
        if let Some((since, timer)) = &mut self.armed {
            // Poll both so that both wakers are registered.
            let released = io.poll_fd_released(cx, *since).is_ready();
            let elapsed = timer.as_mut().poll(cx).is_ready();
            if !released && !elapsed {
                return Poll::Pending;
            }
            self.armed = None;
        }
        Poll::Ready(())
    }
}

/// The connections of a [`UnixListener`] as a [`Stream`] (see [`UnixListener::incoming`]).
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a UnixListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<UnixStream>>> {
        self.listener.poll_accept(cx).map(|res| Some(res.map(|(stream, _)| stream)))
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// [`UnixListener::from_std`].
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener").field("local", &self.local_addr().ok()).field("fd", &self.as_raw_fd()).finish()
    }
}
