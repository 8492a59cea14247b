//! Linux system calls: `epoll_wait(2)` / `epoll_ctl(2)` on the OS poller, `poll(2)` to sample
//! readiness, the eventfd of the level signal, futexes for the wait queue, and an
//! `EPOLL_CTL_ADD` probe (or `kcmp(2)`) to tell whether a descriptor number still names the
//! registered file.

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

pub(crate) use libc::epoll_event as OsEvent;
pub(crate) use libc::pollfd as PollFd;

/// An empty OS event (for initialising event buffers).
pub(crate) const NO_EVENT: OsEvent = OsEvent { events: 0, u64: 0 };

/// `epoll_wait(2)` on the OS epoll instance `epfd`: fills `events` from the front and returns
/// how many. `None` blocks; a timeout is rounded up to whole milliseconds (so a short one never
/// turns into a busy poll). A signal handler interrupting the wait is `EINTR`
/// (`ErrorKind::Interrupted`), as for Linux's own `epoll_wait`.
///
/// The OS's bits come back exactly as the kernel's `ep_send_events` wrote them: the very bits
/// Linux's epoll reports for the registered interest (mio's `Event` accessors merge some of
/// them, e.g. IN hides behind PRI in `is_readable`).
pub(crate) fn epoll_wait(epfd: RawFd, events: &mut [OsEvent], timeout: Option<std::time::Duration>) -> io::Result<usize> {
    let ms = match timeout {
        None => -1,
        Some(t) => {
            let ms = t.as_millis() + u128::from(t.subsec_nanos() % 1_000_000 != 0);
            ms.min(i32::MAX as u128) as libc::c_int
        }
    };
    let max = events.len().min(i32::MAX as usize) as libc::c_int;
    syscall!(epoll_wait(epfd, events.as_mut_ptr(), max, ms)).map(|n| n as usize)
}

/// `EPOLL_CTL_*` on the OS epoll instance `epfd`, with `data` carried back in its events.
pub(crate) fn epoll_ctl(epfd: RawFd, op: libc::c_int, fd: RawFd, bits: u32, data: u64) -> io::Result<()> {
    let mut ev = libc::epoll_event { events: bits, u64: data };
    syscall!(epoll_ctl(epfd, op, fd, &mut ev)).map(drop)
}

pub(crate) const CTL_ADD: libc::c_int = libc::EPOLL_CTL_ADD;
pub(crate) const CTL_MOD: libc::c_int = libc::EPOLL_CTL_MOD;
pub(crate) const CTL_DEL: libc::c_int = libc::EPOLL_CTL_DEL;

/// `EPOLLIN`, level-triggered: the OS registration of the instance's level signal.
#[cfg(not(loom))]
pub(crate) const EPOLLIN: u32 = libc::EPOLLIN as u32;

/// A nonblocking, close-on-exec eventfd whose counter starts at 0.
#[cfg(not(loom))]
pub(crate) fn eventfd() -> io::Result<std::os::fd::OwnedFd> {
    let fd = syscall!(eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC))?;
    // SAFETY: `fd` was just returned by eventfd(2); nothing else owns it.
    Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
}

/// Adds 1 to the counter of eventfd `fd`: the eventfd is readable, and every waiter on it (an
/// epoll registration of it included) gets one wake-up. Fails only if the counter would overflow
/// (after 2^64 - 2 additions without a read), which leaves it readable anyway.
#[cfg(not(loom))]
pub(crate) fn eventfd_add(fd: RawFd) {
    let one = 1u64.to_ne_bytes();
    let _ = syscall!(write(fd, one.as_ptr().cast(), one.len()));
}

/// Resets the counter of eventfd `fd` to 0 (it is no longer readable); no wake-up.
#[cfg(not(loom))]
pub(crate) fn eventfd_reset(fd: RawFd) {
    let mut buf = [0u8; 8];
    // EAGAIN (already 0) is the only failure of a read of a nonblocking eventfd.
    let _ = syscall!(read(fd, buf.as_mut_ptr().cast(), buf.len()));
}

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

/// Whether a descriptor number still names the file registered under it.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Identity {
    /// `fd` still names the file registered under `fd` in the OS epoll instance.
    Same,
    /// The registered file was closed, or `fd` now names another file.
    Changed,
    /// The kernel cannot tell (out of watches and kcmp unavailable, e.g. filtered by seccomp).
    Unknown,
}

/// Every registration of the OS epoll instance `epfd` as (target fd, data), read from
/// `/proc/self/fdinfo/<epfd>` (lines `tfd: <fd> events: <hex> data: <hex> ...`). O(registrations):
/// used only on the rare paths that must know whether a registration outlived its number.
pub(crate) fn registrations(epfd: RawFd) -> io::Result<Vec<(RawFd, u64)>> {
    let text = std::fs::read_to_string(format!("/proc/self/fdinfo/{epfd}"))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some("tfd:") {
            continue;
        }
        let fd = words.next().and_then(|w| w.parse::<RawFd>().ok());
        let data = words.skip_while(|w| *w != "data:").nth(1).and_then(|w| u64::from_str_radix(w, 16).ok());
        if let (Some(fd), Some(data)) = (fd, data) {
            out.push((fd, data));
        }
    }
    Ok(out)
}

#[repr(C)]
struct KcmpEpollSlot {
    efd: u32,
    tfd: u32,
    toff: u32,
}

const KCMP_EPOLL_TFD: libc::c_long = 7;

/// The data of the probe registration of [`registered_identity`]: never an item's token
/// (its generation half is `u32::MAX`, and item generations stay below it) nor the wake token.
pub(crate) const PROBE_DATA: u64 = u64::MAX - 1;

/// Whether descriptor `fd` of this process is the very file registered as target `fd` in the
/// OS epoll instance `epfd`.
///
/// The OS epoll keys its registrations by (file, fd) in a red-black tree, so an
/// `EPOLL_CTL_ADD` of `fd` is an O(log n) probe: `EEXIST` means this (file, fd) pair is the
/// registered one; success means the number now names another file (the probe registration is
/// deleted at once; an OS event harvested for it meanwhile carries [`PROBE_DATA`], which names
/// no item, and the caller holds the instance's `mtx`, which every `ctl` takes too, so no
/// registration of the new file can race with the probe); `EBADF` means it is closed; `EPERM` / `ELOOP` / `EINVAL` mean
/// another file that cannot be (or be so) registered. Only when the probe cannot tell (out of
/// watches or memory) does this fall back to `kcmp(KCMP_EPOLL_TFD)` (Linux 4.13+), which is
/// exact but O(n) in the kernel: it walks the tree to the n-th registration.
pub(crate) fn registered_identity(epfd: RawFd, fd: RawFd) -> Identity {
    match epoll_ctl(epfd, CTL_ADD, fd, 0, PROBE_DATA) {
        Ok(()) => {
            let _ = epoll_ctl(epfd, CTL_DEL, fd, 0, 0);
            Identity::Changed
        }
        Err(e) => match e.raw_os_error() {
            Some(libc::EEXIST) => Identity::Same,
            Some(libc::EBADF | libc::EPERM | libc::ELOOP | libc::EINVAL) => Identity::Changed,
            _ => kcmp_identity(epfd, fd),
        },
    }
}

/// [`registered_identity`] by `kcmp(KCMP_EPOLL_TFD)`.
fn kcmp_identity(epfd: RawFd, fd: RawFd) -> Identity {
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

#[cfg(not(loom))]
/// Sleeps while `*word == expected`, at most `timeout` (`FUTEX_WAIT_PRIVATE`).
///
/// With a timeout, a signal handler that runs during the sleep makes the call fail with `EINTR`
/// (the kernel's `-ERESTART_RESTARTBLOCK`), never restarted, even with `SA_RESTART`: the same
/// as `epoll_wait(2)`, which is what a waiter parked here stands in for. `EAGAIN` (the word
/// already changed) and `ETIMEDOUT` come back as errors too; callers re-check the word.
pub(crate) fn futex_wait(word: &std::sync::atomic::AtomicU32, expected: u32, timeout: std::time::Duration) -> io::Result<()> {
    let ts =
        libc::timespec { tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t, tv_nsec: timeout.subsec_nanos() as libc::c_long };
    // SAFETY: `word` is a live, aligned 32-bit atomic for the duration of the call and `ts` a
    // valid timespec on the stack; FUTEX_WAIT only reads both.
    let res = unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG, expected, &ts as *const libc::timespec)
    };
    if res == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(not(loom))]
/// Wakes one thread sleeping in [`futex_wait`] on `word`.
pub(crate) fn futex_wake(word: &std::sync::atomic::AtomicU32) {
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE does not access user memory.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1);
    }
}

/// The system-wide default watch limit, `/proc/sys/fs/epoll/max_user_watches`.
pub(crate) fn max_user_watches() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/fs/epoll/max_user_watches").ok()?.trim().parse().ok()
}

pub(crate) use libc::{EBADF, EFAULT, EINTR, EINVAL, ENOENT, ENOSPC};

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, IntoRawFd};
    use std::os::unix::net::UnixStream;

    fn os_epoll() -> std::os::fd::OwnedFd {
        // SAFETY: epoll_create1 takes no pointers; a non-negative result is a new descriptor we own.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(fd >= 0);
        // SAFETY: `fd` was just returned by epoll_create1 and is owned by nobody else.
        unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }
    }

    fn registered_fds(epfd: RawFd) -> Vec<RawFd> {
        registrations(epfd).unwrap().into_iter().map(|(fd, _)| fd).collect()
    }

    #[test]
    fn the_probe_confirms_the_registered_file_and_leaves_no_registration_behind() {
        let ep = os_epoll();
        let (a, _b) = UnixStream::pair().unwrap();
        epoll_ctl(ep.as_raw_fd(), CTL_ADD, a.as_raw_fd(), libc::EPOLLIN as u32, 1).unwrap();
        assert_eq!(registered_identity(ep.as_raw_fd(), a.as_raw_fd()), Identity::Same);
        assert_eq!(registered_fds(ep.as_raw_fd()), vec![a.as_raw_fd()]);
    }

    #[test]
    fn the_probe_sees_a_closed_number_and_a_number_reused_by_another_file() {
        let ep = os_epoll();
        let (a, _b) = UnixStream::pair().unwrap();
        let keep = a.try_clone().unwrap(); // keeps the registered file open after `a` closes
        let fd = a.as_raw_fd();
        epoll_ctl(ep.as_raw_fd(), CTL_ADD, fd, libc::EPOLLIN as u32, 1).unwrap();
        drop(a);
        assert_eq!(registered_identity(ep.as_raw_fd(), fd), Identity::Changed);
        // Another socket now takes the number: a different file.
        let (c, _d) = UnixStream::pair().unwrap();
        let c = c.into_raw_fd();
        // SAFETY: dup2 onto `fd`, a number nobody else uses (it was closed above).
        assert_eq!(unsafe { libc::dup2(c, fd) }, fd);
        assert_eq!(registered_identity(ep.as_raw_fd(), fd), Identity::Changed);
        // The probe's own registration of the new file is gone again: only the old one is left.
        assert_eq!(registered_fds(ep.as_raw_fd()), vec![fd]);
        // A regular file (which epoll refuses, EPERM) under the number is another file too.
        let file = std::fs::File::open("/proc/self/status").unwrap();
        // SAFETY: dup2 onto our own `fd` (the dup of `c` is replaced and closed atomically).
        assert_eq!(unsafe { libc::dup2(file.as_raw_fd(), fd) }, fd);
        assert_eq!(registered_identity(ep.as_raw_fd(), fd), Identity::Changed);
        // SAFETY: `fd` and `c` are ours and no longer used.
        unsafe {
            libc::close(fd);
            libc::close(c);
        }
        drop(keep);
    }
}
