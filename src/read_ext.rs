//! [`AsyncReadExt`]: the `futures` read extension methods under `runtime::io`, without the
//! by-value `split` that shadows the streams' own (the locking split is `runtime::io::split`).

use futures::io::{AsyncRead, Chain, Read, ReadExact, ReadToEnd, ReadToString, ReadVectored, Take};
use std::io::IoSliceMut;

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
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        futures::io::AsyncReadExt::read_to_end(self, buf)
    }

    /// Reads UTF-8 to end of file, appending to `buf`: how many bytes (`InvalidData` if it is
    /// not UTF-8).
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        futures::io::AsyncReadExt::read_to_string(self, buf)
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
