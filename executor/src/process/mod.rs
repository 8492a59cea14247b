//! Child processes, at tokio's paths: [`Command`] spawns a [`Child`] whose exit is awaited
//! and whose pipes ([`ChildStdin`], [`ChildStdout`], [`ChildStderr`]) are read and written
//! asynchronously — all on the runtime's `EventPoll`, with no helper thread.
//!
//! * **Spawning** is `std::process::Command::spawn` (fork/exec, with std's errors: a missing
//!   program is `NotFound`). The parent's pipe ends are switched to non-blocking mode and
//!   registered on the reactor.
//! * **Exit as readiness**: a pidfd (`pidfd_open(2)`, Linux ≥ 5.3) is registered for each child;
//!   it becomes readable when the child exits, which wakes the task in
//!   [`Child::wait`]. Where pidfds are unavailable (`ENOSYS`), a `SIGCHLD` listener of
//!   [`signal`](crate::signal) does the same job (the handler is then installed process-wide).
//!   See `reap.rs`:
//!
//! ```text
//!  child exits ──▶ pidfd readable ──▶ EventPoll ──▶ driver wakes the task in wait()
//!                  (or SIGCHLD ──▶ signal handler ──▶ eventfd ──▶ EventPoll ──▶ …)
//!  wait(): waitpid(pid, WNOHANG) ── exited? ──▶ the status; else wait for the next readiness
//! ```
//!
//! * **No zombie**: a [`Child`] dropped before it was reaped is reaped by a task on its runtime
//!   as soon as it exits (or, if that runtime has shut down, at the next spawn). It is not
//!   killed unless [`Command::kill_on_drop`] says so.
//! * A [`Child`]'s futures belong to the runtime it was spawned on: after that runtime shut
//!   down, `wait` fails at once instead of hanging.
//!
//! ```
//! use executor::process::Command;
//! use futures_io::AsyncWrite;
//! # use std::future::poll_fn;
//! # use std::pin::Pin;
//! use std::process::Stdio;
//!
//! let rt = executor::runtime::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let out = Command::new("echo").arg("hello").output().await?;
//!     assert!(out.status.success());
//!     assert_eq!(out.stdout, b"hello\n");
//!
//!     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
//!     let mut stdin = child.stdin.take().unwrap();
//!     poll_fn(|cx| Pin::new(&mut stdin).poll_write(cx, b"through cat")).await?;
//!     drop(stdin); // cat sees end-of-file
//!     let out = child.wait_with_output().await?;
//!     assert_eq!(out.stdout, b"through cat");
//!
//!     let status = Command::new("sh").args(["-c", "exit 3"]).status().await?;
//!     assert_eq!(status.code(), Some(3));
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! (Through the facade, `runtime::io::{AsyncReadExt, AsyncWriteExt}` give the pipes
//! `read_to_end`, `write_all` and friends.)

mod pipe;
mod reap;

pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
#[doc(hidden)]
pub use reap::__force_sigchld_fallback;

use crate::runtime::Handle;
use futures_io::AsyncRead;
use reap::Reaper;
use std::ffi::OsStr;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::pin::{pin, Pin};
use std::process::{ExitStatus, Output, Stdio};
use std::task::Poll;

/// A process builder: `std::process::Command` whose `spawn`, `status` and `output` are
/// asynchronous, plus [`kill_on_drop`](Command::kill_on_drop) (`tokio::process::Command`).
///
/// The builder methods are std's; see [the module docs](self) for an example.
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
}

impl Command {
    /// A command running `program` (looked up in `PATH` if it has no `/`), as
    /// `std::process::Command::new`.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// The `std::process::Command` inside.
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The `std::process::Command` inside, mutably (for options this type does not forward).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The `std::process::Command` inside (`kill_on_drop` is lost).
    pub fn into_std(self) -> std::process::Command {
        self.std
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable of the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables of the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input (inherited by default; `Stdio::piped()` gives
    /// [`Child::stdin`]).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output (inherited by default; `Stdio::piped()` gives
    /// [`Child::stdout`]).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error (inherited by default; `Stdio::piped()` gives
    /// [`Child::stderr`]).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether a [`Child`] dropped before it exited is sent `SIGKILL` (default `false`: it
    /// keeps running, and is reaped when it exits). Applies to the futures of
    /// [`status`](Command::status) and [`output`](Command::output) too.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Whether [`kill_on_drop`](Command::kill_on_drop) is set.
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// The child's user id (`setuid`).
    pub fn uid(&mut self, id: u32) -> &mut Command {
        self.std.uid(id);
        self
    }

    /// The child's group id (`setgid`).
    pub fn gid(&mut self, id: u32) -> &mut Command {
        self.std.gid(id);
        self
    }

    /// The child's `argv[0]` (the program name it sees).
    pub fn arg0(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg0(arg);
        self
    }

    /// The child's process group (`setpgid`; 0: a new group led by the child).
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// Runs `f` in the child after `fork` and before `exec` (`CommandExt::pre_exec`).
    ///
    /// # Safety
    ///
    /// As `std::os::unix::process::CommandExt::pre_exec`: `f` runs in a copy of a
    /// multi-threaded process, so it may only call async-signal-safe functions.
    pub unsafe fn pre_exec<F>(&mut self, f: F) -> &mut Command
    where
        F: FnMut() -> io::Result<()> + Send + Sync + 'static,
    {
        // SAFETY: forwarded to the caller.
        unsafe { self.std.pre_exec(f) };
        self
    }

    /// The program.
    pub fn get_program(&self) -> &OsStr {
        self.std.get_program()
    }

    /// The arguments (not the program).
    pub fn get_args(&self) -> std::process::CommandArgs<'_> {
        self.std.get_args()
    }

    /// The environment changes.
    pub fn get_envs(&self) -> std::process::CommandEnvs<'_> {
        self.std.get_envs()
    }

    /// The working directory, if set.
    pub fn get_current_dir(&self) -> Option<&Path> {
        self.std.get_current_dir()
    }

    /// Starts the child on the current runtime.
    ///
    /// # Errors
    ///
    /// std's spawn errors (`NotFound` for a missing program, `PermissionDenied`, …), or the
    /// failure to register its pipes or exit watch (`EMFILE`, …; the child is then killed and
    /// reaped).
    ///
    /// # Panics
    ///
    /// Outside a runtime context (the message names the caller's line).
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        let handle = Handle::current();
        reap::reap_orphans();
        let mut std = self.std.spawn()?;
        let (stdin, stdout, stderr) = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        // The watch first: once it exists, every failure path reaps the child.
        let reaper = Reaper::new(&handle, std, self.kill_on_drop)?;
        let mut child = Child { stdin: None, stdout: None, stderr: None, reaper };
        let pipes = (|| {
            child.stdin = stdin.map(|p| ChildStdin::new(&handle, p)).transpose()?;
            child.stdout = stdout.map(|p| ChildStdout::new(&handle, p)).transpose()?;
            child.stderr = stderr.map(|p| ChildStderr::new(&handle, p)).transpose()?;
            Ok::<(), io::Error>(())
        })();
        match pipes {
            Ok(()) => Ok(child),
            Err(e) => {
                // Nobody could talk to it: killed, and reaped by the drop's orphan task.
                let _ = child.start_kill();
                Err(e)
            }
        }
    }

    /// Runs the command to completion and returns its exit status (stdin, stdout and stderr
    /// inherited unless set; pipes asked for are closed at once).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn) and [`Child::wait`].
    #[track_caller]
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> {
        let child = self.spawn();
        async move {
            let mut child = child?;
            // Nobody would read or write them: the child must not block on a full pipe.
            drop((child.stdin.take(), child.stdout.take(), child.stderr.take()));
            child.wait().await
        }
    }

    /// Runs the command to completion, collecting its stdout and stderr (both piped, whatever
    /// was set, as tokio does; stdin inherited unless set).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn) and [`Child::wait_with_output`].
    #[track_caller]
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> {
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = self.spawn();
        async move { child?.wait_with_output().await }
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command { std, kill_on_drop: false }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command").field("std", &self.std).field("kill_on_drop", &self.kill_on_drop).finish()
    }
}

/// A spawned child process (`tokio::process::Child`).
///
/// Its exit is awaited with [`wait`](Child::wait) (cancel safe). Dropped before it was reaped,
/// it is not killed (unless [`Command::kill_on_drop`]) and is reaped when it exits: no zombie
/// is left.
pub struct Child {
    /// The child's stdin, if it was `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
    reaper: Reaper,
}

impl Child {
    /// The OS process id, or `None` once the child was reaped (a status was returned).
    pub fn id(&self) -> Option<u32> {
        self.reaper.id()
    }

    /// Sends `SIGKILL` without waiting for the exit (then [`wait`](Child::wait) to reap it).
    ///
    /// # Errors
    ///
    /// `InvalidInput` once the child was reaped; the error of `kill(2)` otherwise.
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.reaper.start_kill()
    }

    /// Sends `SIGKILL` and waits for the child to exit.
    ///
    /// # Errors
    ///
    /// As [`start_kill`](Child::start_kill) and [`wait`](Child::wait).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Waits for the child to exit and returns its status; stdin is closed first (so a child
    /// reading it to its end can finish). Cancel safe: a dropped call loses nothing, and the
    /// status is kept for later calls.
    ///
    /// # Errors
    ///
    /// If the runtime the child was spawned on has shut down (at once), or `waitpid` fails.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        reap::wait(&mut self.reaper).await
    }

    /// The exit status if the child has exited (reaping it), `None` if it still runs; never
    /// waits.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.reaper.try_wait()
    }

    /// Closes stdin, then reads stdout and stderr to their ends (the pipes that were set up)
    /// while waiting for the exit.
    ///
    /// # Errors
    ///
    /// The first error of reading either pipe or of [`wait`](Child::wait).
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let mut stdout_pipe = self.stdout.take();
        let mut stderr_pipe = self.stderr.take();
        let mut out = pin!(read_to_end(stdout_pipe.as_mut()));
        let mut err = pin!(read_to_end(stderr_pipe.as_mut()));
        let (mut stdout, mut stderr, mut status) = (None, None, None);
        poll_fn(|cx| {
            if stdout.is_none() {
                if let Poll::Ready(res) = out.as_mut().poll(cx) {
                    stdout = Some(res?);
                }
            }
            if stderr.is_none() {
                if let Poll::Ready(res) = err.as_mut().poll(cx) {
                    stderr = Some(res?);
                }
            }
            if status.is_none() {
                if let Poll::Ready(res) = self.reaper.poll_wait(cx) {
                    status = Some(res?);
                }
            }
            if stdout.is_some() && stderr.is_some() && status.is_some() {
                Poll::Ready(Ok::<(), io::Error>(()))
            } else {
                Poll::Pending
            }
        })
        .await?;
        let status = status.expect("the poll completes only once the status is known");
        Ok(Output { status, stdout: stdout.unwrap_or_default(), stderr: stderr.unwrap_or_default() })
    }
}

/// Everything `pipe` yields until end-of-file (nothing if there is no pipe).
async fn read_to_end<R: AsyncRead + Unpin>(pipe: Option<&mut R>) -> io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let Some(pipe) = pipe else { return Ok(data) };
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        match poll_fn(|cx| Pin::new(&mut *pipe).poll_read(cx, &mut chunk)).await {
            Ok(0) => return Ok(data),
            Ok(n) => data.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish_non_exhaustive()
    }
}
