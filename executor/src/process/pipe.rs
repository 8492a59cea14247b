//! [`ChildStdin`], [`ChildStdout`], [`ChildStderr`]: the parent's ends of a child's pipes, in
//! non-blocking mode and registered on the runtime's `EventPoll` (edge-triggered), read and
//! written like sockets: operate until `EAGAIN`, then wait for the next edge.
//!
//! Setting `O_NONBLOCK` on the parent's end changes nothing for the child: the two ends of a
//! pipe are separate open file descriptions.

use crate::io::unix::AsyncFd;
use crate::io::Interest;
use crate::runtime::Handle;
use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};

/// One end of a pipe on the reactor. A `File` only because `&File` does `read(2)` /
/// `write(2)` on any descriptor without `unsafe`.
struct Pipe(AsyncFd<File>);

impl Pipe {
    fn new(handle: &Handle, fd: OwnedFd, interest: Interest) -> io::Result<Pipe> {
        set_nonblocking(&fd, true)?;
        Ok(Pipe(AsyncFd::with_interest_on(handle, File::from(fd), interest)?))
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.0.poll_io(cx, Interest::READABLE, |mut f| retry_eintr(|| f.read(buf)))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.0.poll_io(cx, Interest::WRITABLE, |mut f| retry_eintr(|| f.write(buf)))
    }

    fn poll_write_vectored(&self, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.0.poll_io(cx, Interest::WRITABLE, |mut f| retry_eintr(|| f.write_vectored(bufs)))
    }

    /// The descriptor, deregistered and back in blocking mode.
    fn into_owned_fd(self) -> io::Result<OwnedFd> {
        let fd = OwnedFd::from(self.0.into_inner());
        set_nonblocking(&fd, false)?;
        Ok(fd)
    }
}

fn retry_eintr<R>(mut f: impl FnMut() -> io::Result<R>) -> io::Result<R> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            res => return res,
        }
    }
}

fn set_nonblocking(fd: &OwnedFd, on: bool) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: `F_GETFL` / `F_SETFL` on a descriptor we own read and set its status flags; no
    // memory is passed.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = if on { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK };
        if libc::fcntl(fd, libc::F_SETFL, flags) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// What the three pipe types share: construction, descriptor access, conversion.
macro_rules! pipe_type {
    ($(#[$doc:meta])* $name:ident, $std:ty, $interest:expr) => {
        $(#[$doc])*
        pub struct $name(Pipe);

        impl $name {
            pub(super) fn new(handle: &Handle, std: $std) -> io::Result<$name> {
                Pipe::new(handle, OwnedFd::from(std), $interest).map($name)
            }

            #[doc = concat!("Wraps a `", stringify!($std), "` (registered on the current runtime, in non-blocking mode).")]
            ///
            /// # Panics
            ///
            /// Outside a runtime context.
            #[track_caller]
            pub fn from_std(std: $std) -> io::Result<$name> {
                $name::new(&Handle::current(), std)
            }

            /// The pipe's descriptor, deregistered from the reactor and in blocking mode again
            /// (to hand to another process, for instance).
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                self.0.into_owned_fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.0 .0.as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.0 .0.as_fd()
            }
        }

        /// The pipe as another child's stdin, stdout or stderr (in blocking mode again).
        impl TryFrom<$name> for Stdio {
            type Error = io::Error;

            fn try_from(pipe: $name) -> io::Result<Stdio> {
                pipe.into_owned_fd().map(Stdio::from)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_raw_fd()).finish()
            }
        }
    };
}

pipe_type!(
    /// The child's standard input, written by the parent ([`Child::stdin`](super::Child::stdin)).
    ///
    /// Implements the runtime's `AsyncWrite`. Dropping it closes the pipe: the child reads
    /// end-of-file. (As in tokio, `close` / `poll_close` only flushes, which is a no-op: drop it
    /// to close.)
    ChildStdin,
    std::process::ChildStdin,
    Interest::WRITABLE
);
pipe_type!(
    /// The child's standard output, read by the parent ([`Child::stdout`](super::Child::stdout)).
    ///
    /// Implements the runtime's `AsyncRead`; a read returns 0 once the child (and every
    /// process it shared the pipe with) closed it.
    ChildStdout,
    std::process::ChildStdout,
    Interest::READABLE
);
pipe_type!(
    /// The child's standard error, read by the parent ([`Child::stderr`](super::Child::stderr)).
    ///
    /// Implements the runtime's `AsyncRead`, as [`ChildStdout`].
    ChildStderr,
    std::process::ChildStderr,
    Interest::READABLE
);

impl AsyncWrite for ChildStdin {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.0.poll_write(cx, buf)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.0.poll_write_vectored(cx, bufs)
    }

    /// Nothing is buffered: always ready.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Flushes (a no-op); the pipe is closed when the `ChildStdin` is dropped, as tokio's.
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.0.poll_read(cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.0.poll_read(cx, buf)
    }
}

/// tokio's `AsyncRead` / `AsyncWrite` on the pipes (the `tokio-io` feature), beside the
/// `futures` traits: code written against tokio's traits takes them as they are.
#[cfg(feature = "tokio-io")]
mod tokio_io {
    use super::{ChildStderr, ChildStdin, ChildStdout};
    use std::io;
    use std::pin::Pin;
    use std::task::{ready, Context, Poll};
    use tokio::io::ReadBuf;

    macro_rules! tokio_read {
        ($($ty:ty),*) => {$(
            impl tokio::io::AsyncRead for $ty {
                fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
                    // Zeroed once per buffer by tokio's `ReadBuf` (no uninitialised read).
                    let n = ready!(self.0.poll_read(cx, buf.initialize_unfilled()))?;
                    buf.advance(n);
                    Poll::Ready(Ok(()))
                }
            }
        )*};
    }

    tokio_read!(ChildStdout, ChildStderr);

    impl tokio::io::AsyncWrite for ChildStdin {
        fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            self.0.poll_write(cx, buf)
        }

        fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
            self.0.poll_write_vectored(cx, bufs)
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        /// As tokio's: nothing to shut down; drop the `ChildStdin` to close the pipe.
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }
}
