//! [`copy`] and [`copy_buf`]: move every byte of a reader into a writer.
//!
//! The buffer's state machine ([`CopyBuffer`], shared with `copy_bidirectional`):
//!
//! ```text
//!   buffer empty, reader open ──▶ (one budget unit) read ──▶ n bytes: buf[0..n]
//!                                                       └──▶ 0: reader done
//!   bytes in the buffer ───────▶ write until they are all out (0 written: WriteZero)
//!   reader pending ────────────▶ flush what was written (a buffered writer must not sit on it)
//!   reader done, buffer empty ─▶ flush, then Ready(total)
//! ```

use super::DEFAULT_BUF_SIZE;
use crate::task::coop;
use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The buffer of one copy direction and where it stands.
pub(super) struct CopyBuffer {
    buf: Box<[u8]>,
    /// `buf[pos..cap]` is read but not yet written.
    pos: usize,
    cap: usize,
    /// Bytes written so far.
    amt: u64,
    read_done: bool,
    /// Bytes were written since the last flush.
    need_flush: bool,
}

impl CopyBuffer {
    pub(super) fn new(size: usize) -> CopyBuffer {
        CopyBuffer { buf: vec![0; size.max(1)].into_boxed_slice(), pos: 0, cap: 0, amt: 0, read_done: false, need_flush: false }
    }

    /// Copies until the reader is at end of file and everything is written and flushed;
    /// returns the bytes copied.
    pub(super) fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            if self.pos == self.cap && !self.read_done {
                // One unit per read: a copy between always-ready ends still yields.
                let unit = ready!(coop::poll_proceed(cx));
                match reader.as_mut().poll_read(cx, &mut self.buf) {
                    Poll::Ready(Ok(0)) => self.read_done = true,
                    Poll::Ready(Ok(n)) => {
                        self.pos = 0;
                        self.cap = n;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        // Nothing to read for now: make what was written visible.
                        if self.need_flush {
                            ready!(writer.as_mut().poll_flush(cx))?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                }
                unit.made_progress();
            }
            while self.pos < self.cap {
                let n = ready!(writer.as_mut().poll_write(cx, &self.buf[self.pos..self.cap]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::WriteZero, "the writer accepted 0 bytes")));
                }
                self.pos += n;
                self.amt += n as u64;
                self.need_flush = true;
            }
            if self.read_done {
                ready!(writer.as_mut().poll_flush(cx))?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.amt));
            }
        }
    }
}

/// Copies `reader` into `writer` until the reader is at end of file, then flushes; returns
/// the number of bytes copied (tokio's `io::copy`, with tokio's signature). On an error the
/// bytes already copied are lost to the caller (the count is not returned).
///
/// ```
/// use futures::io::Cursor;
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let mut reader: &[u8] = b"hello";
/// let mut writer = Cursor::new(Vec::new());
/// let n = executor::io::copy(&mut reader, &mut writer).await?;
/// assert_eq!((n, writer.into_inner()), (5, b"hello".to_vec()));
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = CopyBuffer::new(DEFAULT_BUF_SIZE);
    poll_fn(|cx| buf.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer))).await
}

/// Copies a buffered reader into `writer` through the reader's own buffer (no second buffer),
/// then flushes; returns the number of bytes copied (tokio's `io::copy_buf`).
///
/// ```
/// use futures::io::{BufReader, Cursor};
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let mut reader = BufReader::new(&b"buffered"[..]);
/// let mut writer = Cursor::new(Vec::new());
/// assert_eq!(executor::io::copy_buf(&mut reader, &mut writer).await?, 8);
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn copy_buf<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut amt = 0u64;
    poll_fn(|cx| loop {
        let mut reader = Pin::new(&mut *reader);
        let writer = Pin::new(&mut *writer);
        // One unit per round (dropped, i.e. given back, if the round is pending).
        let unit = ready!(coop::poll_proceed(cx));
        let buf = ready!(reader.as_mut().poll_fill_buf(cx))?;
        if buf.is_empty() {
            ready!(writer.poll_flush(cx))?;
            unit.made_progress();
            return Poll::Ready(Ok(amt));
        }
        let n = ready!(writer.poll_write(cx, buf))?;
        if n == 0 {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::WriteZero, "the writer accepted 0 bytes")));
        }
        reader.consume(n);
        amt += n as u64;
        unit.made_progress();
    })
    .await
}
