//! A child's exit as readiness, and reaping without leaving zombies.
//!
//! ```text
//!  spawn ── pidfd_open(pid) ──▶ AsyncFd (READABLE) on the runtime's EventPoll
//!        │  (ENOSYS / EPERM, or the test switch: SIGCHLD listener, runtime::signal)
//!        ▼
//!  poll_wait: waitpid(pid, WNOHANG) ── exited ──▶ Ready(status): the pid is reaped, the
//!        │                                        pidfd / listener dropped
//!        └── still running ──▶ wait for readiness (pidfd readable = exited; SIGCHLD = some
//!                               child changed state), then waitpid again
//! ```
//!
//! The watch exists before the first `waitpid`, so an exit is never missed: an exit before the
//! `waitpid` is seen by it; one after it makes the pidfd readable (or delivers a SIGCHLD
//! counted by the listener) and wakes the task.
//!
//! **Orphans.** A [`Reaper`] dropped before its child was reaped must not leave a zombie:
//!
//! ```text
//!  drop: waitpid(WNOHANG) ── exited ──▶ done
//!        └── running ──▶ a task on the child's runtime awaits the exit and reaps it
//!                        └── that task dropped first (the runtime shut down) ──▶ ORPHANS
//!  ORPHANS: waitpid(WNOHANG) on each, at every `Command::spawn` (any runtime)
//! ```
//!
//! So a child is reaped as soon as it exits while its runtime runs, and otherwise at the next
//! spawn — as tokio, whose orphan queue is reaped on SIGCHLD by a runtime's driver. No thread is
//! started for any of this.

use crate::io::unix::AsyncFd;
use crate::io::Interest;
use crate::runtime::Handle;
use crate::signal::unix::{signal, Signal, SignalKind};
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::pin::Pin;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{ready, Context, Poll};

/// Children dropped before they were reaped whose reaper task could not run (their runtime
/// shut down): reaped by [`reap_orphans`].
static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// Whether `pidfd_open(2)` works here: [`UNKNOWN`] until the first spawn finds out.
static PIDFD: AtomicU8 = AtomicU8::new(UNKNOWN);
const UNKNOWN: u8 = 0;
const AVAILABLE: u8 = 1;
const UNAVAILABLE: u8 = 2;

/// Test switch: watch exits with SIGCHLD even where pidfds work.
static FORCE_SIGCHLD: AtomicBool = AtomicBool::new(false);

/// Makes children spawned from now on signal their exit through SIGCHLD instead of a pidfd
/// (`true`), or back (`false`): the fallback of kernels without `pidfd_open(2)`, for tests.
#[doc(hidden)]
pub fn __force_sigchld_fallback(force: bool) {
    FORCE_SIGCHLD.store(force, Ordering::SeqCst);
}

/// What tells that one child exited.
enum Watch {
    /// A pidfd: readable once the process has exited (Linux ≥ 5.3).
    Pidfd(AsyncFd<OwnedFd>),
    /// A SIGCHLD listener, created before the first `waitpid`.
    Sigchld(Signal),
}

impl Watch {
    /// Starts watching `pid` (a child of this process that was not reaped) on `handle`'s
    /// runtime.
    fn new(handle: &Handle, pid: u32) -> io::Result<Watch> {
        if !FORCE_SIGCHLD.load(Ordering::SeqCst) && PIDFD.load(Ordering::Relaxed) != UNAVAILABLE {
            match pidfd_open(pid) {
                Ok(fd) => {
                    PIDFD.store(AVAILABLE, Ordering::Relaxed);
                    return Ok(Watch::Pidfd(AsyncFd::with_interest_on(handle, fd, Interest::READABLE)?));
                }
                // No such system call, or a sandbox that refuses it.
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EPERM)) => {
                    PIDFD.store(UNAVAILABLE, Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        let _ctx = handle.enter();
        Ok(Watch::Sigchld(signal(SignalKind::child())?))
    }

    /// Waits for a sign that the child may have exited; an error if the runtime shut down.
    fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Watch::Pidfd(fd) => {
                let mut guard = ready!(fd.poll_read_ready(cx))?;
                // Readable only once the process exited, so `waitpid` finds it next; cleared
                // (against the generation seen) in case it did not, so the next edge wakes us.
                guard.clear_ready();
                Poll::Ready(Ok(()))
            }
            Watch::Sigchld(sig) => match ready!(sig.poll_recv(cx)) {
                Some(()) => Poll::Ready(Ok(())),
                None => Poll::Ready(Err(runtime_gone())),
            },
        }
    }
}

fn runtime_gone() -> io::Error {
    io::Error::other("the runtime the child process was spawned on has shut down: its exit can no longer be awaited")
}

/// `pidfd_open(2)` (no libc wrapper in every libc: the raw system call).
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `pidfd_open` takes a pid and a flags word and returns a new descriptor or -1; it
    // touches no memory of ours. Its descriptors are close-on-exec.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// A running child and what watches its exit.
struct Live {
    child: std::process::Child,
    watch: Watch,
    handle: Handle,
}

impl Live {
    fn poll_exit(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Poll::Ready(Ok(status));
            }
            ready!(self.watch.poll_changed(cx))?;
        }
    }
}

/// A child process until it is reaped: its exit status once known, and the guarantee that it
/// is reaped even if dropped first (see the module docs).
pub(super) struct Reaper {
    /// `None` once reaped: `status` holds the exit status.
    live: Option<Live>,
    status: Option<ExitStatus>,
    kill_on_drop: bool,
}

impl Reaper {
    /// Watches `child` (spawned, not reaped, its pipes taken) on `handle`'s runtime. On error
    /// the child is killed and reaped (nobody could wait for it).
    pub(super) fn new(handle: &Handle, mut child: std::process::Child, kill_on_drop: bool) -> io::Result<Reaper> {
        match Watch::new(handle, child.id()) {
            Ok(watch) => Ok(Reaper { live: Some(Live { child, watch, handle: handle.clone() }), status: None, kill_on_drop }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    /// The OS pid, while the child is not reaped.
    pub(super) fn id(&self) -> Option<u32> {
        self.live.as_ref().map(|l| l.child.id())
    }

    pub(super) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status {
            return Poll::Ready(Ok(status));
        }
        let live = self.live.as_mut().expect("a child without a status is live");
        let status = ready!(live.poll_exit(cx))?;
        self.reaped(status);
        Poll::Ready(Ok(status))
    }

    pub(super) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let live = self.live.as_mut().expect("a child without a status is live");
        let status = live.child.try_wait()?;
        if let Some(status) = status {
            self.reaped(status);
        }
        Ok(status)
    }

    /// Sends `SIGKILL`, unless the child was reaped (then its pid may be another process's).
    pub(super) fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.live {
            Some(live) => live.child.kill(),
            None => Err(io::Error::new(io::ErrorKind::InvalidInput, "invalid argument: can't kill an exited process")),
        }
    }

    fn reaped(&mut self, status: ExitStatus) {
        self.status = Some(status);
        // Deregisters the pidfd (or drops the listener) now, not at the `Child`'s drop.
        self.live = None;
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        let Some(mut live) = self.live.take() else { return };
        if self.kill_on_drop {
            let _ = live.child.kill();
        }
        if let Ok(Some(_)) = live.child.try_wait() {
            return;
        }
        let handle = live.handle.clone();
        // A closed runtime drops the task at once: `Orphan`'s drop queues the child then.
        drop(handle.spawn(Orphan(Some(live))));
    }
}

/// The task that reaps a dropped child once it exits (the [`Reaper`]'s drop spawns it).
struct Orphan(Option<Live>);

impl Future for Orphan {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let live = self.0.as_mut().expect("polled after completion");
        // Reaped: done. An error: the runtime shut down (the drop queues the child if it still
        // runs) or `waitpid` failed (the child is not ours to reap any more).
        if ready!(live.poll_exit(cx)).is_ok() {
            self.0 = None;
        }
        Poll::Ready(())
    }
}

impl Drop for Orphan {
    fn drop(&mut self) {
        if let Some(mut live) = self.0.take() {
            if let Ok(None) = live.child.try_wait() {
                ORPHANS.lock().unwrap_or_else(PoisonError::into_inner).push(live.child);
            }
        }
    }
}

/// Reaps every queued orphan that has exited (see the module docs).
pub(super) fn reap_orphans() {
    let mut orphans = ORPHANS.lock().unwrap_or_else(PoisonError::into_inner);
    // Kept: the ones still running (`Ok(None)`); an error means the pid is not ours any more.
    orphans.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
}

/// Waits for `reaper`'s child to exit (the `async` form of [`Reaper::poll_wait`]).
pub(super) async fn wait(reaper: &mut Reaper) -> io::Result<ExitStatus> {
    poll_fn(|cx| reaper.poll_wait(cx)).await
}
