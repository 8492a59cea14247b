//! [`UCred`]: the credentials of a Unix-domain socket's peer.

use std::io;
use std::os::fd::BorrowedFd;

/// The credentials of the process at the other end of a [`UnixStream`](super::UnixStream)
/// (see [`peer_cred`](super::UnixStream::peer_cred)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UCred {
    uid: libc::uid_t,
    gid: libc::gid_t,
    pid: Option<libc::pid_t>,
}

impl UCred {
    /// The peer's effective user id.
    pub fn uid(&self) -> libc::uid_t {
        self.uid
    }

    /// The peer's effective group id.
    pub fn gid(&self) -> libc::gid_t {
        self.gid
    }

    /// The peer's process id, where the platform reports it.
    pub fn pid(&self) -> Option<libc::pid_t> {
        self.pid
    }

    /// `SO_PEERCRED` of the socket `fd`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub(crate) fn of(fd: BorrowedFd<'_>) -> io::Result<UCred> {
        use std::os::fd::AsRawFd;
        let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: `fd` is a live descriptor for the call; `cred` is a writable `ucred` on the
        // stack and `len` holds its exact size, so the kernel writes at most that many bytes.
        let res = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PEERCRED,
                (&mut cred as *mut libc::ucred).cast::<libc::c_void>(),
                &mut len,
            )
        };
        if res == -1 {
            return Err(io::Error::last_os_error());
        }
        if len as usize != std::mem::size_of::<libc::ucred>() {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "SO_PEERCRED returned a short ucred"));
        }
        Ok(UCred { uid: cred.uid, gid: cred.gid, pid: (cred.pid != 0).then_some(cred.pid) })
    }

    /// Peer credentials are read with `SO_PEERCRED`, which this platform lacks.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    pub(crate) fn of(_fd: BorrowedFd<'_>) -> io::Result<UCred> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "peer credentials are only implemented on Linux and Android"))
    }
}
