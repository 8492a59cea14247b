//! [`AsyncReadExt`]: the `futures` read extension methods under `runtime::io`, without the
//! by-value `split` that shadows the streams' own (the locking split is `runtime::io::split`).

use futures::io::{AsyncRead, Chain, Read, ReadExact, ReadVectored, Take};
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Read methods for every [`AsyncRead`](futures::io::AsyncRead): `futures`' `AsyncReadExt`
/// (same futures, same behaviour), minus its `split`.
///
/// # Why not `futures::io::AsyncReadExt` itself
///
/// That trait's `split(self)` takes the stream **by value** and locks the two halves. Method
/// resolution tries by-value receivers before `&mut` ones, so with it in scope
/// `stream.split()` on a [`TcpStream`](crate::net::TcpStream) or
/// [`UnixStream`](crate::net::UnixStream) is that `split`, not the stream's own borrowed,
/// lock-free `split(&mut self)` — what a tokio user means by `stream.split()`. Like tokio's
/// `AsyncReadExt`, this trait has no `split`, so the stream's own is found; the locking split
/// of any reader-writer is the free function [`split`](crate::io::split) (tokio's `tokio::io::split`).
///
/// ```
/// use runtime::io::{AsyncReadExt, AsyncWriteExt};
/// use runtime::net::UnixStream;
///
/// # runtime::Runtime::new().unwrap().block_on(async {
/// let (mut a, mut b) = UnixStream::pair()?;
/// let (mut reader, mut writer) = a.split();                  // borrowed halves, no lock
/// writer.write_all(b"ping").await?;
/// b.read_exact(&mut [0; 4]).await?;
/// b.write_all(b"pong").await?;
/// let mut buf = [0; 4];
/// reader.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"pong");
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
///
/// Importing this trait together with `futures::io::AsyncReadExt` makes `read` & co.
/// ambiguous: pick one per module.
pub trait AsyncReadExt: AsyncRead {
    /// Reads from `self`, then from `next` once `self` reaches end of file.
    fn chain<R: AsyncRead>(self, next: R) -> Chain<Self, R>
    where
        Self: Sized,
    {
        futures::io::AsyncReadExt::chain(self, next)
    }

    /// Reads some bytes into `buf`: how many (`0` at end of file).
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        futures::io::AsyncReadExt::read(self, buf)
    }

    /// Reads some bytes into `bufs`, in order: how many.
    fn read_vectored<'a>(&'a mut self, bufs: &'a mut [IoSliceMut<'a>]) -> ReadVectored<'a, Self>
    where
        Self: Unpin,
    {
        futures::io::AsyncReadExt::read_vectored(self, bufs)
    }

    /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the stream ends first.
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        futures::io::AsyncReadExt::read_exact(self, buf)
    }

    /// Reads to end of file, appending to `buf`: how many bytes.
    ///
    /// Linear in what it reads, however often the reader is not ready: each byte of `buf`'s
    /// spare capacity is zeroed once (`futures`' version zeroes the whole spare capacity again
    /// after every `Pending`, quadratic on a pipe or socket that delivers a large stream in
    /// small pieces). Dropped before it completes, it leaves `buf` holding what was read.
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        let filled = buf.len();
        ReadToEnd { reader: self, buf, start: filled, filled }
    }

    /// Reads UTF-8 to end of file, appending to `buf`: how many bytes. If what was read is not
    /// UTF-8, `InvalidData` and `buf` is left as it was (as `std`'s). Linear as
    /// [`read_to_end`](AsyncReadExt::read_to_end); dropped before it completes, it leaves
    /// `buf` as it was.
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        let bytes = std::mem::take(buf).into_bytes();
        let start = bytes.len();
        ReadToString { reader: self, string: buf, bytes, start, filled: start, done: false }
    }

    /// Reads at most `limit` bytes, then reports end of file.
    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized,
    {
        futures::io::AsyncReadExt::take(self, limit)
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

/// Room zeroed at a time while the spare capacity lasts, at least (then as much as is filled, so
/// the room doubles): memory is zeroed just before a read fills it, not all up front.
const MIN_ROOM: usize = 64 * 1024;

/// Reads into `buf[*filled..]` until end of file, growing `buf` with zeroed bytes (each byte of
/// capacity is zeroed once, shortly before it is read into). While it runs `buf.len()` may
/// exceed `*filled` (zeroed room for the next read); on `Ready` — end of file or an error —
/// `buf` is cut back to `*filled`.
fn poll_read_to_end<R: AsyncRead + Unpin + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    filled: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    loop {
        if *filled == buf.len() {
            if buf.len() == buf.capacity() {
                // No spare capacity: a small probe first, so that a buffer sized exactly for the
                // stream is not doubled just to learn that the stream has ended (as std's).
                let mut probe = [0u8; 32];
                match ready!(Pin::new(&mut *reader).poll_read(cx, &mut probe)) {
                    Ok(0) => return Poll::Ready(Ok(())),
                    Ok(n) => {
                        buf.extend_from_slice(&probe[..n]);
                        *filled += n;
                        continue;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            let room = (buf.capacity() - buf.len()).min(MIN_ROOM.max(buf.len()));
            buf.resize(buf.len() + room, 0);
        }
        match ready!(Pin::new(&mut *reader).poll_read(cx, &mut buf[*filled..])) {
            Ok(0) => {
                buf.truncate(*filled);
                return Poll::Ready(Ok(()));
            }
            Ok(n) => *filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(*filled);
                return Poll::Ready(Err(e));
            }
        }
    }
}

/// The future of [`AsyncReadExt::read_to_end`].
#[must_use = "futures do nothing unless polled"]
pub struct ReadToEnd<'a, R: ?Sized> {
    reader: &'a mut R,
    buf: &'a mut Vec<u8>,
    /// `buf.len()` when the read began.
    start: usize,
    /// Bytes of `buf` that hold data (the rest, if any, is zeroed room).
    filled: usize,
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(poll_read_to_end(this.reader, this.buf, &mut this.filled, cx))?;
        Poll::Ready(Ok(this.filled - this.start))
    }
}

impl<R: ?Sized> Drop for ReadToEnd<'_, R> {
    fn drop(&mut self) {
        // Dropped while pending: no zeroed room is left behind as if it were data.
        self.buf.truncate(self.filled);
    }
}

/// The future of [`AsyncReadExt::read_to_string`].
#[must_use = "futures do nothing unless polled"]
pub struct ReadToString<'a, R: ?Sized> {
    reader: &'a mut R,
    /// Emptied while the read runs (its bytes are the start of `bytes`); set when it ends.
    string: &'a mut String,
    bytes: Vec<u8>,
    /// The original string's length.
    start: usize,
    filled: usize,
    done: bool,
}

impl<R: ?Sized> ReadToString<'_, R> {
    /// Gives `string` its original contents back (what was read is dropped).
    fn restore(&mut self) {
        let mut bytes = std::mem::take(&mut self.bytes);
        bytes.truncate(self.start);
        // The first `start` bytes are the original string's: UTF-8.
        *self.string = String::from_utf8(bytes).unwrap_or_default();
        self.done = true;
    }
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = ready!(poll_read_to_end(this.reader, &mut this.bytes, &mut this.filled, cx)) {
            this.restore();
            return Poll::Ready(Err(e));
        }
        let read = this.filled - this.start;
        // The original prefix is whole characters, so the whole is UTF-8 iff what was read is.
        match String::from_utf8(std::mem::take(&mut this.bytes)) {
            Ok(string) => {
                *this.string = string;
                this.done = true;
                Poll::Ready(Ok(read))
            }
            Err(e) => {
                this.bytes = e.into_bytes();
                this.restore();
                Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, "stream did not contain valid UTF-8")))
            }
        }
    }
}

impl<R: ?Sized> Drop for ReadToString<'_, R> {
    fn drop(&mut self) {
        if !self.done {
            self.restore();
        }
    }
}
