//! [`File`]: a `std::fs::File` whose reads, writes and seeks run on the blocking pool, one
//! bounded chunk at a time.
//!
//! The state machine (one operation in flight at most):
//!
//! ```text
//!              poll_read: buffered bytes? copy them out, Ready
//!   Idle(buf) ─── else: spawn_blocking(read ≤ min(len, max_buf_size) into buf) ──▶ Busy
//!       │         poll_write: copy ≤ max_buf_size of the caller's bytes into buf,
//!       │                     spawn_blocking(seek back over unread bytes; write_all) ──▶ Busy,
//!       │                     and return Ready(n) at once (write-behind)
//!       │         poll_seek:  drop unread bytes (adjusting a relative seek),
//!       │                     spawn_blocking(seek) ──▶ Busy
//!   Busy(op) ── the op completes: buf comes back ──▶ Idle(buf); each poll_* takes the result
//!               it needs (a read's bytes, a seek's position) and goes on from Idle; a write's
//!               error is kept and returned by the next write, flush, seek or `sync_all`
//! ```
//!
//! So a large `read` or `write_all` is a series of blocking calls of at most `max_buf_size`
//! bytes (2 MiB by default, as tokio): each ties up a pool thread briefly, memory stays
//! bounded, and dropping the future stops at a chunk boundary. A write the caller was told
//! succeeded is never lost: if the runtime shuts down before the pool ran it, the operation
//! writes when it is dropped (`PendingWrite`), as tokio's "mandatory" blocking writes do.

use super::buf::Buf;
use super::{asyncify, join_failed, OpenOptions};
use crate::sync::Mutex;
use crate::task::{spawn_blocking, JoinHandle};
use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};
use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::{poll_fn, Future};
use std::io::{self, Seek, SeekFrom};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// The largest chunk one blocking operation reads or writes, by default (tokio's value).
const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

/// An open file, read and written asynchronously: `tokio::fs::File`.
///
/// It implements the runtime's [`AsyncRead`], [`AsyncWrite`] and [`AsyncSeek`] (use
/// `runtime::io::{AsyncReadExt, AsyncWriteExt, AsyncSeekExt}`). Each operation runs on the
/// blocking pool in chunks of at most [`max_buf_size`](File::max_buf_size) bytes.
///
/// Writes are *write-behind*: `poll_write` hands the bytes to the pool and returns at once, so
/// an error surfaces at the next write, `flush`, seek or [`sync_all`](File::sync_all). Flush
/// (or `sync_all`) before relying on the data being in the file; a write is never lost, even if
/// the runtime shuts down first. Errors are the `io::Error`s of `std::fs`.
///
/// ```
/// use executor::fs::File;
/// use futures_io::{AsyncRead, AsyncWrite};
/// # use std::future::poll_fn;
/// # use std::pin::Pin;
///
/// # let dir = std::env::temp_dir().join(format!("fs-file-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("hello.txt");
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let mut file = File::create(&path).await?;
///     let n = poll_fn(|cx| Pin::new(&mut file).poll_write(cx, b"hello")).await?;
///     assert_eq!(n, 5);
///     poll_fn(|cx| Pin::new(&mut file).poll_flush(cx)).await?;
///     file.sync_all().await?;
///
///     let mut file = File::open(&path).await?;
///     let mut buf = [0u8; 16];
///     let n = poll_fn(|cx| Pin::new(&mut file).poll_read(cx, &mut buf)).await?;
///     assert_eq!(&buf[..n], b"hello");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// (Through the facade, `runtime::io::AsyncReadExt::read_to_end` and friends do the polling.)
pub struct File {
    std: Arc<std::fs::File>,
    inner: Mutex<Inner>,
    max_buf_size: usize,
}

struct Inner {
    state: State,
    /// The error of a write that failed after `poll_write` returned: reported by the next
    /// write, flush, seek or `sync_all`.
    last_write_err: Option<io::Error>,
}

enum State {
    /// No operation in flight; the buffer (always `Some` between calls) may hold bytes read
    /// ahead and not consumed yet.
    Idle(Option<Buf>),
    Busy(JoinHandle<(Operation, Buf)>),
}

enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    /// The result and the position asked for (a later seek to another position must not take
    /// this result for its own).
    Seek(io::Result<u64>, SeekFrom),
    SetLen(io::Result<()>),
}

/// A write handed to the blocking pool (with the seek back over bytes read ahead). If the pool
/// drops it without running it — the runtime shut down first — it writes when dropped.
struct PendingWrite {
    std: Arc<std::fs::File>,
    seek: Option<SeekFrom>,
    buf: Option<Buf>,
}

impl PendingWrite {
    fn run(mut self) -> (Operation, Buf) {
        let mut buf = self.buf.take().expect("a pending write runs once");
        let res = write(&self.std, self.seek, &mut buf);
        (Operation::Write(res), buf)
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        if let Some(mut buf) = self.buf.take() {
            // Nobody to report an error to: the caller was told the write succeeded.
            let _ = write(&self.std, self.seek, &mut buf);
        }
    }
}

fn write(std: &std::fs::File, seek: Option<SeekFrom>, buf: &mut Buf) -> io::Result<()> {
    if let Some(seek) = seek {
        (&*std).seek(seek)?;
    }
    buf.write_to(&mut &*std)
}

impl File {
    /// Opens a file for reading (`std::fs::File::open` on the blocking pool).
    ///
    /// # Errors
    ///
    /// Those of `std::fs::File::open` (`NotFound`, `PermissionDenied`, …).
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        asyncify(move || std::fs::File::open(path)).await.map(File::from_std)
    }

    /// Opens a file for writing, creating it or truncating it (`std::fs::File::create`).
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        asyncify(move || std::fs::File::create(path)).await.map(File::from_std)
    }

    /// Creates a new file for reading and writing; `AlreadyExists` if there is one
    /// (`std::fs::File::create_new`).
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        asyncify(move || std::fs::File::create_new(path)).await.map(File::from_std)
    }

    /// An [`OpenOptions`] builder.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open `std::fs::File`.
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner { state: State::Idle(Some(Buf::default())), last_write_err: None }),
            max_buf_size: DEFAULT_MAX_BUF_SIZE,
        }
    }

    /// Flushes the data and metadata to the device (`fsync`), after the operation in flight.
    ///
    /// # Errors
    ///
    /// The error of an earlier write that had not been reported yet, or that of `fsync`.
    pub async fn sync_all(&self) -> io::Result<()> {
        self.after_inflight().await?;
        let std = self.std.clone();
        asyncify(move || std.sync_all()).await
    }

    /// Flushes the data to the device (`fdatasync`), after the operation in flight.
    ///
    /// # Errors
    ///
    /// As [`sync_all`](File::sync_all).
    pub async fn sync_data(&self) -> io::Result<()> {
        self.after_inflight().await?;
        let std = self.std.clone();
        asyncify(move || std.sync_data()).await
    }

    /// Truncates or extends the file to `size` bytes, after the operation in flight. The
    /// cursor does not move (bytes read ahead are given back first).
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        if let Some(e) = inner.last_write_err.take() {
            return Err(e);
        }
        let mut buf = inner.idle_buf();
        let seek = (!buf.is_empty()).then(|| SeekFrom::Current(buf.discard_read()));
        let std = self.std.clone();
        // In the state, not in this future: if the caller gives up, the next operation waits.
        inner.state = State::Busy(spawn_blocking(move || {
            let res = match seek {
                Some(seek) => (&*std).seek(seek).and_then(|_| std.set_len(size)),
                None => std.set_len(size),
            };
            (Operation::SetLen(res), buf)
        }));
        match poll_fn(|cx| inner.poll_busy(cx)).await? {
            Some(Operation::SetLen(res)) => res,
            _ => unreachable!("the set_len just started is the operation in flight"),
        }
    }

    /// The file's metadata, after the operation in flight (so a size includes what was
    /// written).
    pub async fn metadata(&self) -> io::Result<Metadata> {
        self.after_inflight().await?;
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// A new `File` for the same open file (`dup`): it shares the cursor.
    pub async fn try_clone(&self) -> io::Result<File> {
        self.after_inflight().await?;
        let std = self.std.clone();
        asyncify(move || std.try_clone()).await.map(File::from_std)
    }

    /// Changes the file's permissions (`fchmod`).
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        asyncify(move || std.set_permissions(perm)).await
    }

    /// The `std::fs::File`, once the operation in flight has completed.
    pub async fn into_std(mut self) -> std::fs::File {
        self.inner.get_mut().complete_inflight().await;
        Arc::try_unwrap(self.std).expect("no blocking operation holds the file once it completed")
    }

    /// The `std::fs::File` if no operation holds it, else the `File` back.
    #[allow(clippy::result_large_err, reason = "tokio's signature: the `File` itself comes back")]
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        if let State::Busy(_) = self.inner.get_mut().state {
            return Err(self);
        }
        match Arc::try_unwrap(self.std) {
            Ok(std) => Ok(std),
            Err(std) => Err(File { std, inner: self.inner, max_buf_size: self.max_buf_size }),
        }
    }

    /// The largest chunk one blocking read or write moves (2 MiB by default).
    pub fn max_buf_size(&self) -> usize {
        self.max_buf_size
    }

    /// Sets the largest chunk one blocking read or write moves.
    ///
    /// # Panics
    ///
    /// If `max_buf_size` is 0.
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(max_buf_size > 0, "max_buf_size cannot be 0");
        self.max_buf_size = max_buf_size;
    }

    /// Waits for the operation in flight; returns an unreported write error.
    async fn after_inflight(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        inner.last_write_err.take().map_or(Ok(()), Err)
    }
}

impl Inner {
    async fn complete_inflight(&mut self) {
        poll_fn(|cx| self.poll_complete_inflight(cx)).await
    }

    /// Waits for the operation in flight, keeping a write's error for later.
    fn poll_complete_inflight(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.poll_busy(cx) {
            Poll::Ready(Ok(Some(Operation::Write(Err(e))))) | Poll::Ready(Err(e)) => {
                self.last_write_err = Some(e);
                Poll::Ready(())
            }
            Poll::Ready(Ok(_)) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        }
    }

    /// If an operation is in flight, waits for it and returns its result (the state is then
    /// `Idle`); `Ok(None)` if none was. `Err` if the pool did not run it (the runtime shut down).
    fn poll_busy(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<Operation>>> {
        let State::Busy(handle) = &mut self.state else { return Poll::Ready(Ok(None)) };
        let res = ready!(Pin::new(handle).poll(cx));
        Poll::Ready(match res {
            Ok((op, buf)) => {
                self.state = State::Idle(Some(buf));
                Ok(Some(op))
            }
            Err(e) => {
                self.state = State::Idle(Some(Buf::default()));
                Err(join_failed(e))
            }
        })
    }

    fn idle_buf(&mut self) -> Buf {
        match &mut self.state {
            State::Idle(cell) => cell.take().expect("an idle file holds its buffer"),
            State::Busy(_) => unreachable!("an operation is in flight"),
        }
    }
}

impl AsyncRead for File {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, dst: &mut [u8]) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        loop {
            match ready!(inner.poll_busy(cx))? {
                None => {}
                Some(Operation::Read(res)) => {
                    let State::Idle(Some(buf)) = &mut inner.state else { unreachable!("just completed") };
                    return Poll::Ready(res.map(|_| buf.copy_to(dst)));
                }
                Some(Operation::Write(Err(e))) => inner.last_write_err = Some(e),
                // A write that is done, or a seek or set_len whose caller gave up: on to the read.
                Some(Operation::Write(Ok(()))) | Some(Operation::Seek(..)) | Some(Operation::SetLen(_)) => {}
            }
            let mut buf = inner.idle_buf();
            if !buf.is_empty() || dst.is_empty() {
                let n = buf.copy_to(dst);
                inner.state = State::Idle(Some(buf));
                return Poll::Ready(Ok(n));
            }
            let std = me.std.clone();
            let chunk = dst.len().min(me.max_buf_size);
            inner.state = State::Busy(spawn_blocking(move || {
                let res = buf.read_from(&mut &*std, chunk);
                (Operation::Read(res), buf)
            }));
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, src: &[u8]) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        if let Some(e) = inner.last_write_err.take() {
            return Poll::Ready(Err(e));
        }
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        match ready!(inner.poll_busy(cx))? {
            Some(Operation::Write(res)) => res?,
            // Bytes read ahead are given back below (a seek before the write); an abandoned
            // seek or set_len stands.
            Some(Operation::Read(_)) | Some(Operation::Seek(..)) | Some(Operation::SetLen(_)) | None => {}
        }
        let mut buf = inner.idle_buf();
        let seek = (!buf.is_empty()).then(|| SeekFrom::Current(buf.discard_read()));
        let n = buf.copy_from(src, me.max_buf_size);
        let op = PendingWrite { std: me.std.clone(), seek, buf: Some(buf) };
        inner.state = State::Busy(spawn_blocking(move || op.run()));
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let inner = self.get_mut().inner.get_mut();
        ready!(inner.poll_complete_inflight(cx));
        Poll::Ready(inner.last_write_err.take().map_or(Ok(()), Err))
    }

    /// Flushes (the file is closed when the `File` is dropped).
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    /// Seeks after the operation in flight. Bytes read ahead are dropped (a relative seek
    /// counts from the position the reader is at). A seek abandoned before it completed still
    /// takes effect; a later `poll_seek` to the same position completes with its result.
    fn poll_seek(self: Pin<&mut Self>, cx: &mut Context<'_>, pos: SeekFrom) -> Poll<io::Result<u64>> {
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        loop {
            match ready!(inner.poll_busy(cx))? {
                Some(Operation::Seek(res, asked)) if asked == pos => return Poll::Ready(res),
                Some(Operation::Write(Err(e))) => return Poll::Ready(Err(e)),
                _ => {}
            }
            if let Some(e) = inner.last_write_err.take() {
                return Poll::Ready(Err(e));
            }
            let mut buf = inner.idle_buf();
            let mut target = pos;
            if let SeekFrom::Current(offset) = &mut target {
                *offset += buf.discard_read();
            } else {
                buf.discard_read();
            }
            let std = me.std.clone();
            inner.state = State::Busy(spawn_blocking(move || (Operation::Seek((&*std).seek(target), pos), buf)));
        }
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std.as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl FromRawFd for File {
    /// # Safety
    ///
    /// `fd` is an open file descriptor that the `File` may own (as
    /// `std::fs::File::from_raw_fd`).
    unsafe fn from_raw_fd(fd: RawFd) -> File {
        // SAFETY: forwarded to the caller.
        File::from_std(unsafe { std::fs::File::from_raw_fd(fd) })
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("std", &self.std).field("max_buf_size", &self.max_buf_size).finish_non_exhaustive()
    }
}
