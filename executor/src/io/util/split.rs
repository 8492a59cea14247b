//! [`split`]: a read half and a write half of any `AsyncRead + AsyncWrite`, usable from two
//! tasks at once.
//!
//! Both halves share the stream behind a mutex, locked for the length of one `poll_*` call
//! (the stream's own operations do not block): a read and a write never run at the same time
//! on the stream, but neither waits for the other's readiness, since each registers its own
//! waker with the stream (its read waker and its write waker). [`ReadHalf::unsplit`] gives the
//! stream back.

use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

/// The read half of a stream [`split`] in two.
pub struct ReadHalf<T> {
    inner: Arc<Inner<T>>,
}

/// The write half of a stream [`split`] in two.
pub struct WriteHalf<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    /// Never moved out while shared: pinned in the `Arc`'s allocation until `unsplit`, which
    /// requires `T: Unpin`.
    stream: Mutex<T>,
}

impl<T> Inner<T> {
    fn with<R>(&self, f: impl FnOnce(Pin<&mut T>) -> R) -> R {
        // A panic inside the stream's poll leaves it as the stream left it: not our invariant.
        let mut guard: MutexGuard<'_, T> = self.stream.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: the stream lives in the `Arc`'s allocation and is never moved out of it
        // while it may have been pinned: `unsplit` (the only way out) requires `T: Unpin`.
        let stream = unsafe { Pin::new_unchecked(&mut *guard) };
        f(stream)
    }
}

/// Splits `stream` into a read half and a write half, which can move to different tasks (as
/// tokio's `io::split`; works for any `AsyncRead + AsyncWrite`).
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let (a, mut b) = executor::io::duplex(64);
/// let (mut rd, mut wr) = executor::io::split(a);
/// let writer = executor::spawn(async move { wr.write_all(b"half").await.map(|()| wr) });
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"half");
/// let wr = writer.await.unwrap()?;
/// let _a = rd.unsplit(wr); // the whole stream again
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn split<T: AsyncRead + AsyncWrite>(stream: T) -> (ReadHalf<T>, WriteHalf<T>) {
    let inner = Arc::new(Inner { stream: Mutex::new(stream) });
    (ReadHalf { inner: inner.clone() }, WriteHalf { inner })
}

impl<T> ReadHalf<T> {
    /// Whether `other` is the write half of the same stream.
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Joins the halves back into the stream.
    ///
    /// # Panics
    ///
    /// If `wr` is not this half's pair.
    #[track_caller]
    pub fn unsplit(self, wr: WriteHalf<T>) -> T
    where
        T: Unpin,
    {
        assert!(self.is_pair_of(&wr), "`unsplit` of halves that were not split from the same stream");
        drop(wr);
        let inner = Arc::try_unwrap(self.inner).ok().expect("the two halves held the only references");
        inner.stream.into_inner().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> WriteHalf<T> {
    /// Whether `other` is the read half of the same stream.
    pub fn is_pair_of(&self, other: &ReadHalf<T>) -> bool {
        other.is_pair_of(self)
    }
}

impl<T: AsyncRead> AsyncRead for ReadHalf<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.inner.with(|s| s.poll_read(cx, buf))
    }

    fn poll_read_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &mut [IoSliceMut<'_>]) -> Poll<io::Result<usize>> {
        self.inner.with(|s| s.poll_read_vectored(cx, bufs))
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteHalf<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.inner.with(|s| s.poll_write(cx, buf))
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        self.inner.with(|s| s.poll_write_vectored(cx, bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.with(|s| s.poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.with(|s| s.poll_close(cx))
    }
}

impl<T> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("ReadHalf { .. }")
    }
}

impl<T> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("WriteHalf { .. }")
    }
}
