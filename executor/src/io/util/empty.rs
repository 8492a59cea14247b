//! [`empty`], [`repeat`] and [`sink`]: always-ready readers and writers that take part in the
//! cooperative budget (a task looping on them still yields).

use crate::task::coop;
use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Takes a unit of the budget for an operation that always completes.
fn proceed(cx: &mut Context<'_>) -> Poll<()> {
    coop::poll_proceed(cx).map(|unit| unit.made_progress())
}

/// `AsyncWrite` for a writer that takes every byte and keeps none ([`Empty`], [`Sink`]): each
/// write takes a unit of the budget.
macro_rules! discarding_writer {
    ($t:ty) => {
        impl AsyncWrite for $t {
            fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
                ready!(proceed(cx));
                Poll::Ready(Ok(buf.len()))
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
    };
}

/// A reader that is always at end of file, and a writer that accepts and drops everything
/// ([`empty`]).
#[derive(Default)]
pub struct Empty(());

/// A reader at end of file (and a writer that drops everything), as tokio's `io::empty`.
///
/// ```
/// use futures::io::AsyncReadExt;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let mut buf = Vec::new();
/// executor::io::empty().read_to_end(&mut buf).await?;
/// assert!(buf.is_empty());
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn empty() -> Empty {
    Empty(())
}

impl AsyncRead for Empty {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, _buf: &mut [u8]) -> Poll<io::Result<usize>> {
        ready!(proceed(cx));
        Poll::Ready(Ok(0))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(proceed(cx));
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _amt: usize) {}
}

discarding_writer!(Empty);

impl fmt::Debug for Empty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Empty { .. }")
    }
}

/// A reader that yields one byte for ever ([`repeat`]).
#[derive(Debug)]
pub struct Repeat {
    byte: u8,
}

/// A reader that fills every buffer with `byte`, for ever, as tokio's `io::repeat`.
///
/// ```
/// use futures::io::AsyncReadExt;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let mut buf = [0u8; 3];
/// executor::io::repeat(7).read_exact(&mut buf).await?;
/// assert_eq!(buf, [7, 7, 7]);
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        ready!(proceed(cx));
        buf.fill(self.byte);
        Poll::Ready(Ok(buf.len()))
    }
}

/// A writer that accepts and drops everything ([`sink`]).
#[derive(Default)]
pub struct Sink(());

/// A writer that accepts and drops everything, as tokio's `io::sink`.
///
/// ```
/// use futures::io::AsyncWriteExt;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let n = executor::io::sink().write(b"gone").await?;
/// assert_eq!(n, 4);
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sink() -> Sink {
    Sink(())
}

discarding_writer!(Sink);

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sink { .. }")
    }
}
