//! [`Io`]: the runtime's streams as hyper's `rt::Read` / `rt::Write`.

use crate::net::{TcpStream, UnixStream};
use ::hyper::rt::{Read, ReadBufCursor, Write};
use futures::io::AsyncWrite;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A stream of this runtime as hyper's I/O ([`Read`] and [`Write`]); hyper-util's `TokioIo`,
/// here. Give it to `serve_connection`, or get it from [`HttpConnector`](super::HttpConnector).
///
/// - **Reads go straight into hyper's buffer**, which hyper hands out uninitialised: one
///   `read(2)` into it, nothing zeroed and nothing copied (the stream's
///   [`poll_read_uninit`](TcpStream::poll_read_uninit)).
/// - **Writes are vectored**: `is_write_vectored` is `true`, so hyper sends a response's
///   head and body in one `sendmsg(2)` instead of copying them into one buffer.
/// - `poll_shutdown` shuts the write direction down (`shutdown(Write)`); `poll_flush` has
///   nothing to do (no user-space buffer).
#[derive(Debug)]
pub struct Io<T> {
    inner: T,
}

impl<T> Io<T> {
    /// Wraps a stream.
    pub fn new(inner: T) -> Io<T> {
        Io { inner }
    }

    /// The stream.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The stream, mutably.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// The runtime's streams that [`Io`] puts under hyper: [`TcpStream`] and [`UnixStream`]
/// (sealed).
pub trait Stream: AsyncWrite + Unpin + sealed::Sealed {
    /// Polls a read into uninitialised memory; on `Ok(n)` the first `n` bytes of `buf` are
    /// initialised (the streams' own `poll_read_uninit`).
    fn poll_read_uninit(&self, cx: &mut Context<'_>, buf: &mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>>;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! stream {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}

        impl Stream for $ty {
            fn poll_read_uninit(&self, cx: &mut Context<'_>, buf: &mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>> {
                <$ty>::poll_read_uninit(self, cx, buf)
            }
        }
    )*};
}

stream!(TcpStream, UnixStream);

impl<T: Stream> Read for Io<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, mut buf: ReadBufCursor<'_>) -> Poll<io::Result<()>> {
        // SAFETY: `as_mut` requires that no initialised byte is de-initialised through the
        // slice. It goes only to `poll_read_uninit`, where `read(2)` writes received bytes into
        // it; nothing writes an uninitialised value.
        let n = ready!(self.inner.poll_read_uninit(cx, unsafe { buf.as_mut() }))?;
        // SAFETY: `advance(n)` requires `n` more initialised bytes after the filled part:
        // `poll_read_uninit` returned `Ok(n)`, so the kernel wrote the first `n` bytes of the
        // slice `as_mut` returned, which starts at the filled mark; `n` is at most that slice's
        // length, so the mark stays inside the buffer.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: Stream> Write for Io<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    /// `sendmsg(2)`: one system call for all the buffers.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
