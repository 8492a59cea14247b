//! Linux system calls: `epoll_ctl(2)` on the OS poller, `poll(2)` to sample readiness, and
//! `kcmp(2)` to tell whether a descriptor number still names the registered file.

use std::io;
use std::os::fd::RawFd;
use std::sync::OnceLock;

/// Turns a libc call returning -1 on error into an `io::Result` (mio's `syscall!`).
macro_rules! syscall {
    ($fn: ident ( $($arg: expr),* $(,)* ) ) => {{
        // SAFETY: every call site passes plain integers or pointers to live, correctly sized
        // buffers owned by the caller for the duration of the call.
        let res = unsafe { libc::$fn($($arg, )*) };
        if res == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(res)
        }
    }};
}

pub(crate) use libc::pollfd as PollFd;

/// `EPOLL_CTL_*` on the OS epoll instance `epfd`, with `data` carried back in its events.
pub(crate) fn epoll_ctl(epfd: RawFd, op: libc::c_int, fd: RawFd, bits: u32, data: u64) -> io::Result<()> {
    let mut ev = libc::epoll_event { events: bits, u64: data };
    syscall!(epoll_ctl(epfd, op, fd, &mut ev)).map(drop)
}

pub(crate) const CTL_ADD: libc::c_int = libc::EPOLL_CTL_ADD;
pub(crate) const CTL_MOD: libc::c_int = libc::EPOLL_CTL_MOD;
pub(crate) const CTL_DEL: libc::c_int = libc::EPOLL_CTL_DEL;

/// The `poll(2)` bits that ask for every readiness bit a file can report (the kernel's
/// `ep_item_poll` sees the full `vfs_poll` mask; `poll(2)` filters by what is asked).
pub(crate) const POLL_ALL: libc::c_short = libc::POLLIN
    | libc::POLLPRI
    | libc::POLLOUT
    | libc::POLLRDNORM
    | libc::POLLRDBAND
    | libc::POLLWRNORM
    | libc::POLLWRBAND
    | 0x400 // POLLMSG (not in libc)
    | libc::POLLRDHUP;

/// `POLLNVAL`: the descriptor number is not open.
pub(crate) const POLL_NVAL: u32 = libc::POLLNVAL as u32;

/// Samples the current readiness of every entry without blocking; `revents` is filled in.
pub(crate) fn poll_now(fds: &mut [PollFd]) -> io::Result<()> {
    loop {
        match syscall!(poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0)) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// What `kcmp(2)` says about a descriptor number and the registration made under it.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Identity {
    /// `fd` still names the file registered under `fd` in the OS epoll instance.
    Same,
    /// The registered file was closed, or `fd` now names another file.
    Changed,
    /// The kernel cannot tell (kcmp unavailable, e.g. filtered by seccomp).
    Unknown,
}

#[repr(C)]
struct KcmpEpollSlot {
    efd: u32,
    tfd: u32,
    toff: u32,
}

const KCMP_EPOLL_TFD: libc::c_long = 7;

/// Whether descriptor `fd` of this process is the very file registered as target `fd` in the
/// OS epoll instance `epfd` (`kcmp(KCMP_EPOLL_TFD)`, Linux 4.13+).
pub(crate) fn registered_identity(epfd: RawFd, fd: RawFd) -> Identity {
    static PID: OnceLock<libc::pid_t> = OnceLock::new();
    let pid = *PID.get_or_init(|| std::process::id() as libc::pid_t);
    let slot = KcmpEpollSlot { efd: epfd as u32, tfd: fd as u32, toff: 0 };
    // SAFETY: kcmp reads a `kcmp_epoll_slot` through the last argument, which points at `slot`,
    // alive and correctly laid out (`repr(C)`, three u32) for the duration of the call.
    let res = unsafe { libc::syscall(libc::SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, fd as libc::c_ulong, &slot as *const KcmpEpollSlot) };
    match res {
        0 => Identity::Same,
        r if r > 0 => Identity::Changed,
        _ => match io::Error::last_os_error().raw_os_error() {
            Some(libc::ENOENT) | Some(libc::EBADF) => Identity::Changed,
            _ => Identity::Unknown,
        },
    }
}

/// The system-wide default watch limit, `/proc/sys/fs/epoll/max_user_watches`.
pub(crate) fn max_user_watches() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/fs/epoll/max_user_watches").ok()?.trim().parse().ok()
}

pub(crate) use libc::{EFAULT, EINVAL, ENOENT, ENOSPC};
