//! tokio's `AsyncRead` / `AsyncWrite` for every stream type (the `tokio-io` feature), beside
//! the `futures` traits they already implement, so tokio-util's codecs and other code written
//! against tokio's traits take them as they are: no compat wrapper, no tokio runtime.
//!
//! Reads go straight into the unfilled, possibly uninitialised part of tokio's `ReadBuf`
//! (`poll_read_uninit`: `read(2)`, nothing zeroed); writes, flush and shutdown are the `futures`
//! implementations (`poll_shutdown` is `poll_close`: `shutdown(Write)`).

use crate::tcp::{self, TcpStream};
#[cfg(unix)]
use crate::unix::{self, UnixStream};
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::ReadBuf;

/// Fills `buf` with what `read` reads into its unfilled part.
fn poll_read_buf(buf: &mut ReadBuf<'_>, read: impl FnOnce(&mut [MaybeUninit<u8>]) -> Poll<io::Result<usize>>) -> Poll<io::Result<()>> {
    // SAFETY: `unfilled_mut` requires that no initialised byte is de-initialised through the
    // slice. It goes only to `read`, which is always a stream's `poll_read_uninit`: `read(2)`
    // writes bytes into it and never writes uninitialised values.
    let n = ready!(read(unsafe { buf.unfilled_mut() }))?;
    // SAFETY: `poll_read_uninit` returned `Ok(n)`, so the kernel wrote the first `n` bytes of
    // the unfilled part (`n` is at most its length).
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// `tokio::io::AsyncRead` for each `type => |value| the stream it reads from`.
macro_rules! tokio_read {
    ($($ty:ty => |$s:ident| $stream:expr),* $(,)?) => {$(
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
                let $s = &*self;
                poll_read_buf(buf, |unfilled| $stream.poll_read_uninit(cx, unfilled))
            }
        }
    )*};
}

/// `tokio::io::AsyncWrite` for each type, forwarding to its `futures_io::AsyncWrite`.
macro_rules! tokio_write {
    ($($ty:ty),* $(,)?) => {$(
        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            /// `sendmsg(2)`: one system call for all the buffers.
            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_close(self, cx)
            }
        }
    )*};
}

tokio_read! {
    TcpStream => |s| s,
    &TcpStream => |s| s,
    tcp::ReadHalf<'_> => |s| AsRef::<TcpStream>::as_ref(s),
    tcp::OwnedReadHalf => |s| AsRef::<TcpStream>::as_ref(s),
}
tokio_write!(TcpStream, &TcpStream, tcp::WriteHalf<'_>, tcp::OwnedWriteHalf);

#[cfg(unix)]
tokio_read! {
    UnixStream => |s| s,
    &UnixStream => |s| s,
    unix::ReadHalf<'_> => |s| AsRef::<UnixStream>::as_ref(s),
    unix::OwnedReadHalf => |s| AsRef::<UnixStream>::as_ref(s),
}
#[cfg(unix)]
tokio_write!(UnixStream, &UnixStream, unix::WriteHalf<'_>, unix::OwnedWriteHalf);
