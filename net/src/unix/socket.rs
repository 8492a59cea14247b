//! [`UnixSocket`]: a Unix-domain socket configured before it becomes a listener, a stream or a
//! datagram socket.

use super::{new_socket, sock_addr, UnixDatagram, UnixListener, UnixStream};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;

/// A Unix-domain socket that is not yet listening, connected or registered (tokio's
/// `UnixSocket`): bind it (for instance a client to its own path) before turning it into a
/// [`UnixListener`] ([`listen`](UnixSocket::listen)), a [`UnixStream`]
/// ([`connect`](UnixSocket::connect)) or a [`UnixDatagram`] ([`datagram`](UnixSocket::datagram)).
///
/// ```
/// use net::UnixSocket;
///
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let dir = std::env::temp_dir().join(format!("runtime-unixsocket-doc-{}", std::process::id()));
///     std::fs::create_dir_all(&dir)?;
///     let server = UnixSocket::new_stream()?;
///     server.bind(dir.join("server"))?;
///     let listener = server.listen(16)?;
///     let client = UnixSocket::new_stream()?;
///     client.bind(dir.join("client"))?; // the server sees this path as the peer
///     let _stream = client.connect(dir.join("server")).await?;
///     let (_, peer) = listener.accept().await?;
///     assert_eq!(peer.as_pathname(), Some(dir.join("client").as_path()));
///     std::fs::remove_dir_all(&dir)?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixSocket {
    inner: socket2::Socket,
}

impl UnixSocket {
    /// A new stream socket (non-blocking, close-on-exec).
    pub fn new_stream() -> io::Result<UnixSocket> {
        Ok(UnixSocket { inner: new_socket(socket2::Type::STREAM)? })
    }

    /// A new datagram socket (non-blocking, close-on-exec).
    pub fn new_datagram() -> io::Result<UnixSocket> {
        Ok(UnixSocket { inner: new_socket(socket2::Type::DGRAM)? })
    }

    fn is_stream(&self) -> io::Result<bool> {
        Ok(self.inner.r#type()? == socket2::Type::STREAM)
    }

    /// Binds the socket to `path` (a filesystem path, or on Linux `"\0name"` in the abstract
    /// namespace).
    ///
    /// # Errors
    ///
    /// `AddrInUse` if `path` exists, `InvalidInput` for a path with a NUL byte or too long.
    pub fn bind(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.inner.bind(&sock_addr(path.as_ref())?)
    }

    /// Listens with a backlog of `backlog` connections and registers the listener on the
    /// current runtime.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a datagram socket; the error of `listen(2)` otherwise.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn listen(self, backlog: u32) -> io::Result<UnixListener> {
        if !self.is_stream()? {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "listen cannot be called on a datagram socket"));
        }
        UnixListener::listen_socket(self.inner, libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX))
    }

    /// Connects to the listener at `path` and registers the stream on the current runtime (see
    /// [`UnixStream::connect`]).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a datagram socket; otherwise as [`UnixStream::connect`].
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub async fn connect(self, path: impl AsRef<Path>) -> io::Result<UnixStream> {
        if !self.is_stream()? {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "connect cannot be called on a datagram socket"));
        }
        let addr = sock_addr(path.as_ref())?;
        UnixStream::connect_socket(self.inner, &addr).await
    }

    /// Registers the (datagram) socket on the current runtime.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a stream socket.
    ///
    /// # Panics
    ///
    /// Outside a runtime context.
    pub fn datagram(self) -> io::Result<UnixDatagram> {
        if self.is_stream()? {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "datagram cannot be called on a stream socket"));
        }
        UnixDatagram::register(OwnedFd::from(self.inner).into())
    }
}

impl AsRawFd for UnixSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for UnixSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl fmt::Debug for UnixSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixSocket").field("fd", &self.as_raw_fd()).finish()
    }
}
