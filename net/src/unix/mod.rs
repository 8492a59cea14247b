//! Unix-domain sockets: [`UnixListener`], [`UnixStream`] (with its borrowed and owned halves)
//! and [`UnixDatagram`], registered edge-triggered on the runtime's `EventPoll` through
//! [`AsyncFd`](executor::io::unix::AsyncFd).
//!
//! Paths are filesystem paths; on Linux a path whose first byte is NUL (`"\0name"`) names an
//! address in the abstract namespace (nothing is created on disk). A filesystem path with a
//! NUL byte, or a path too long for `sun_path`, is an `InvalidInput` error.
//!
//! Sockets are created non-blocking and close-on-exec. Stream writes use `send(2)` /
//! `sendmsg(2)` with `MSG_NOSIGNAL` (Linux), so writing to a stream whose peer is gone is a
//! `BrokenPipe` error and never raises `SIGPIPE`.

mod datagram;
mod listener;
mod socket;
mod split;
mod stream;
mod ucred;

pub use datagram::UnixDatagram;
pub use listener::{Incoming, UnixListener};
pub use socket::UnixSocket;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use std::os::unix::net::SocketAddr;
pub use stream::UnixStream;
pub use ucred::UCred;

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The `sockaddr_un` for `path` (abstract if it starts with NUL), refusing interior NULs.
pub(crate) fn sock_addr(path: &Path) -> io::Result<socket2::SockAddr> {
    let bytes = path.as_os_str().as_bytes();
    if bytes.first().is_some_and(|&b| b != 0) && bytes.contains(&0) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "a Unix socket path must not contain an interior NUL byte"));
    }
    socket2::SockAddr::unix(path)
}

/// The `sockaddr_un` of a std address: its path, or (Linux) its abstract name; an unnamed
/// address is `InvalidInput` (nothing can be bound or connected to there).
pub(crate) fn sock_addr_of(addr: &SocketAddr) -> io::Result<socket2::SockAddr> {
    if let Some(path) = addr.as_pathname() {
        return sock_addr(path);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        if let Some(name) = addr.as_abstract_name() {
            let mut bytes = Vec::with_capacity(name.len() + 1);
            bytes.push(0);
            bytes.extend_from_slice(name);
            return sock_addr(Path::new(std::ffi::OsStr::from_bytes(&bytes)));
        }
    }
    Err(io::Error::new(io::ErrorKind::InvalidInput, "an unnamed Unix socket address cannot be bound or connected to"))
}

/// `send(2)` flags of every send: no `SIGPIPE` when the peer is gone or the socket is shut
/// down for writing (the call fails with `EPIPE` instead).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) const SEND_FLAGS: libc::c_int = 0;

/// A new non-blocking, close-on-exec Unix socket of type `ty`.
pub(crate) fn new_socket(ty: socket2::Type) -> io::Result<socket2::Socket> {
    let socket = socket2::Socket::new(socket2::Domain::UNIX, ty, None)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}
