//! Unix signals: [`signal`] returns a [`Signal`] that completes each time a [`SignalKind`]
//! is delivered to the process (see the [design](super)).
//!
//! ```
//! use executor::signal::unix::{signal, SignalKind};
//!
//! let rt = executor::runtime::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let mut usr2 = signal(SignalKind::user_defined2())?;
//!     // SAFETY: raising a signal that has a handler installed (the line above).
//!     unsafe { libc::raise(libc::SIGUSR2) };
//!     usr2.recv().await;
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use crate::io::unix::AsyncFd;
use crate::io::Interest;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{ready, Context, Poll};

/// One past the highest signal number any supported platform uses (Linux: 64; FreeBSD: 128).
const SIGNALS: usize = 129;

/// Deliveries of each signal since its handler was installed (wrapping).
static COUNTS: [AtomicUsize; SIGNALS] = [const { AtomicUsize::new(0) }; SIGNALS];

/// Whether the handler of each signal is installed (written under `GLOBALS`).
static INSTALLED: [AtomicBool; SIGNALS] = [const { AtomicBool::new(false) }; SIGNALS];

/// Live listeners of each signal (changed under `GLOBALS`).
static LISTENERS: [AtomicUsize; SIGNALS] = [const { AtomicUsize::new(0) }; SIGNALS];

/// The delivery count of each signal when its last listener was dropped (written under
/// `GLOBALS`): deliveries after it reached no listener, and are the next listener's.
static UNCLAIMED_FROM: [AtomicUsize; SIGNALS] = [const { AtomicUsize::new(0) }; SIGNALS];

/// The descriptor the handler writes to (-1 until the notifier exists; never closed after).
static NOTIFY_WRITE: AtomicI32 = AtomicI32::new(-1);

/// The notifier, created by the first [`signal`] call (a failed creation is retried by the
/// next call); its descriptors stay open for the life of the process.
static GLOBALS: Mutex<Option<notify::Notifier>> = Mutex::new(None);

/// Signals that cannot be caught, or whose handler must not return (a synchronous fault).
const FORBIDDEN: [libc::c_int; 5] = [libc::SIGKILL, libc::SIGSTOP, libc::SIGILL, libc::SIGFPE, libc::SIGSEGV];

/// A kind of signal (a signal number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal number (checked by [`signal`]).
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    pub const fn as_raw_value(&self) -> libc::c_int {
        self.0
    }

    /// `SIGALRM`: a timer set by `alarm(2)` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGCHLD`: a child process changed state.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGHUP`: the terminal hung up (often: reload the configuration).
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGINT`: interrupt from the keyboard (Ctrl-C).
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGIO`: I/O is possible on a descriptor.
    pub const fn io() -> SignalKind {
        SignalKind(libc::SIGIO)
    }

    /// `SIGPIPE`: a write to a pipe with no reader.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGQUIT`: quit from the keyboard (Ctrl-\\).
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGTERM`: a request to terminate.
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGWINCH`: the terminal window changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<libc::c_int> for SignalKind {
    fn from(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }
}

impl From<SignalKind> for libc::c_int {
    fn from(kind: SignalKind) -> libc::c_int {
        kind.0
    }
}

/// A listener for one kind of signal (see [`signal`]).
pub struct Signal {
    /// This listener's own `dup` of the notifier's read end.
    io: AsyncFd<OwnedFd>,
    signum: usize,
    /// The signal's delivery count when this listener last completed (or was created).
    seen: usize,
}

/// Listens for `kind`: installs its process-wide handler on first use, and returns a listener
/// registered on the current runtime that completes for each delivery after this call — and
/// at once for a delivery that reached no listener, if no other listener of `kind` exists (see
/// the [design](super)).
///
/// # Errors
///
/// `InvalidInput` for a forbidden signal (`SIGKILL`, `SIGSTOP`, `SIGILL`, `SIGFPE`,
/// `SIGSEGV`) or a number that is not a signal; the error of `sigaction`, `eventfd`, `dup` or
/// the registration otherwise (for instance `EMFILE`).
///
/// # Panics
///
/// Outside a runtime context (the message names the caller's line).
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.0;
    let idx = match usize::try_from(signum) {
        Ok(idx) if idx > 0 && idx < SIGNALS => idx,
        _ => return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{signum} is not a signal number"))),
    };
    if FORBIDDEN.contains(&signum) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("signal {signum} cannot be listened for")));
    }
    let fd = {
        let mut globals = GLOBALS.lock().unwrap_or_else(PoisonError::into_inner);
        let notifier = match &mut *globals {
            Some(n) => n,
            empty => {
                let n = notify::Notifier::new()?;
                NOTIFY_WRITE.store(n.write_fd(), Ordering::SeqCst);
                empty.insert(n)
            }
        };
        if !INSTALLED[idx].load(Ordering::SeqCst) {
            install(signum)?;
            INSTALLED[idx].store(true, Ordering::SeqCst);
        }
        dup_cloexec(notifier.read_fd())?
    };
    let io = AsyncFd::with_interest(fd, Interest::READABLE)?;
    // Counted only once nothing can fail (a listener never returned claims nothing), in one
    // critical section with the choice of `seen`: the first listener since the last one was
    // dropped takes the deliveries nobody saw; the others start from now (earlier deliveries
    // are their elders').
    let seen = {
        let _globals = GLOBALS.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = if LISTENERS[idx].load(Ordering::SeqCst) == 0 {
            UNCLAIMED_FROM[idx].load(Ordering::SeqCst)
        } else {
            COUNTS[idx].load(Ordering::SeqCst)
        };
        LISTENERS[idx].fetch_add(1, Ordering::SeqCst);
        seen
    };
    Ok(Signal { io, signum: idx, seen })
}

impl Signal {
    /// Waits for the next delivery of the signal. `None` if the runtime this listener was
    /// created on has shut down.
    ///
    /// Cancel safe: dropping the future loses no delivery.
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery of the signal (`Ready(None)`: the runtime has shut down).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        loop {
            let now = COUNTS[self.signum].load(Ordering::SeqCst);
            if now != self.seen {
                self.seen = now;
                return Poll::Ready(Some(()));
            }
            let Ok(mut guard) = ready!(self.io.poll_read_ready(cx)) else { return Poll::Ready(None) };
            // Drain the shared notifier, then clear the readiness observed before the drain (a
            // write since keeps it set) and look at the counter again.
            notify::drain(guard.get_inner().as_raw_fd());
            guard.clear_ready();
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        let _globals = GLOBALS.lock().unwrap_or_else(PoisonError::into_inner);
        if LISTENERS[self.signum].fetch_sub(1, Ordering::SeqCst) == 1 {
            // Deliveries from now on reach no listener: they are kept for the next one.
            UNCLAIMED_FROM[self.signum].store(COUNTS[self.signum].load(Ordering::SeqCst), Ordering::SeqCst);
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("signum", &self.signum).finish()
    }
}

/// The signal handler: async-signal-safe (atomics and `write(2)`, `errno` preserved).
extern "C" fn handler(signum: libc::c_int) {
    let saved = errno::get();
    if let Some(count) = usize::try_from(signum).ok().and_then(|i| COUNTS.get(i)) {
        count.fetch_add(1, Ordering::SeqCst);
    }
    let fd = NOTIFY_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        notify::wake(fd);
    }
    errno::set(saved);
}

/// Installs [`handler`] for `signum` (`SA_RESTART`, nothing blocked while it runs).
fn install(signum: libc::c_int) -> io::Result<()> {
    // SAFETY: an all-zero `sigaction` is a valid value (no handler, no flags, empty mask); the
    // fields that matter are set below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `action.sa_mask` is a live, writable `sigset_t`.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: `action` is a fully initialized `sigaction` whose handler is an `extern "C"`
    // function of the right signature that only does async-signal-safe work; the old action
    // is not asked for (null).
    if unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `fcntl(F_DUPFD_CLOEXEC)`: a new close-on-exec descriptor for the same open file.
fn dup_cloexec(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: `fd` is open (the notifier's descriptors are never closed); F_DUPFD_CLOEXEC only
    // creates a new descriptor.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` was just returned by fcntl: an open descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// Saving and restoring `errno` around the handler's system call.
mod errno {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "emscripten"))]
    fn location() -> *mut libc::c_int {
        // SAFETY: returns the calling thread's errno address; no preconditions.
        unsafe { libc::__errno_location() }
    }

    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    fn location() -> *mut libc::c_int {
        // SAFETY: returns the calling thread's errno address; no preconditions.
        unsafe { libc::__error() }
    }

    #[cfg(any(target_os = "openbsd", target_os = "netbsd"))]
    fn location() -> *mut libc::c_int {
        // SAFETY: returns the calling thread's errno address; no preconditions.
        unsafe { libc::__errno() }
    }

    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "emscripten",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "openbsd",
        target_os = "netbsd"
    )))]
    fn location() -> *mut libc::c_int {
        std::ptr::null_mut()
    }

    pub(super) fn get() -> libc::c_int {
        let p = location();
        if p.is_null() {
            return 0;
        }
        // SAFETY: `p` is this thread's errno, valid for the thread's life.
        unsafe { *p }
    }

    pub(super) fn set(value: libc::c_int) {
        let p = location();
        if !p.is_null() {
            // SAFETY: as in `get`.
            unsafe { *p = value };
        }
    }
}

/// Linux: one non-blocking eventfd, read and written through the same file.
#[cfg(target_os = "linux")]
mod notify {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    pub(super) struct Notifier {
        fd: OwnedFd,
    }

    impl Notifier {
        pub(super) fn new() -> io::Result<Notifier> {
            // SAFETY: eventfd takes plain integers and returns a new descriptor or -1.
            let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
            if fd == -1 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` was just returned by eventfd: open, and owned by nothing else.
            Ok(Notifier { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
        }

        pub(super) fn read_fd(&self) -> RawFd {
            self.fd.as_raw_fd()
        }

        pub(super) fn write_fd(&self) -> RawFd {
            self.fd.as_raw_fd()
        }
    }

    /// Adds 1 to the eventfd (async-signal-safe; a full counter, EAGAIN, is already readable).
    pub(super) fn wake(fd: RawFd) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 on the stack to a descriptor that stays open.
        unsafe { libc::write(fd, (&one as *const u64).cast::<libc::c_void>(), 8) };
    }

    /// Resets the eventfd's counter (EAGAIN: it was already 0).
    pub(super) fn drain(fd: RawFd) {
        let mut buf: u64 = 0;
        // SAFETY: reads at most 8 bytes into a live u64 on the stack.
        unsafe { libc::read(fd, (&mut buf as *mut u64).cast::<libc::c_void>(), 8) };
    }
}

/// Other Unix systems: a non-blocking pipe (the handler writes a byte; drain reads them all).
#[cfg(not(target_os = "linux"))]
mod notify {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    pub(super) struct Notifier {
        read: OwnedFd,
        write: OwnedFd,
    }

    fn set_flags(fd: RawFd) -> io::Result<()> {
        // SAFETY: fcntl on an open descriptor with integer arguments.
        let ok = unsafe {
            let fl = libc::fcntl(fd, libc::F_GETFL);
            fl != -1
                && libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) != -1
                && libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) != -1
        };
        if ok {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    impl Notifier {
        pub(super) fn new() -> io::Result<Notifier> {
            let mut fds = [0 as libc::c_int; 2];
            // SAFETY: `fds` is a live array of two ints for pipe to fill.
            if unsafe { libc::pipe(fds.as_mut_ptr()) } == -1 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: both were just returned by pipe: open, and owned by nothing else.
            let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
            set_flags(read.as_raw_fd())?;
            set_flags(write.as_raw_fd())?;
            Ok(Notifier { read, write })
        }

        pub(super) fn read_fd(&self) -> RawFd {
            self.read.as_raw_fd()
        }

        pub(super) fn write_fd(&self) -> RawFd {
            self.write.as_raw_fd()
        }
    }

    /// Writes one byte (async-signal-safe; a full pipe, EAGAIN, is already readable).
    pub(super) fn wake(fd: RawFd) {
        let one: u8 = 1;
        // SAFETY: writes 1 byte from a live u8 on the stack to a descriptor that stays open.
        unsafe { libc::write(fd, (&one as *const u8).cast::<libc::c_void>(), 1) };
    }

    /// Reads until the pipe is empty (bounded by the pipe's capacity).
    pub(super) fn drain(fd: RawFd) {
        let mut buf = [0u8; 256];
        // SAFETY: reads at most `buf.len()` bytes into a live stack buffer.
        while unsafe { libc::read(fd, buf.as_mut_ptr().cast::<libc::c_void>(), buf.len()) } > 0 {}
    }
}
