//! [`copy_bidirectional`]: two copies at once, between two streams — a proxy's loop.
//!
//! ```text
//!   a ──read──▶ buffer a→b ──write──▶ b      each direction: Running ─(reader at EOF, all
//!   a ◀──write── buffer b→a ◀──read── b      written)─▶ ShuttingDown: close the writer
//!                                            ─▶ Done(bytes); the call ends when both are Done
//! ```

use super::copy::CopyBuffer;
use super::DEFAULT_BUF_SIZE;
use futures_io::{AsyncRead, AsyncWrite};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

enum Transfer {
    Running(CopyBuffer),
    ShuttingDown(u64),
    Done(u64),
}

impl Transfer {
    /// Drives one direction; `Ready(bytes)` once the writer has been closed.
    fn poll<R, W>(&mut self, cx: &mut Context<'_>, reader: &mut R, writer: &mut W) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        loop {
            match self {
                Transfer::Running(buf) => {
                    let n = ready!(buf.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer)))?;
                    *self = Transfer::ShuttingDown(n);
                }
                Transfer::ShuttingDown(n) => {
                    ready!(Pin::new(&mut *writer).poll_close(cx))?;
                    *self = Transfer::Done(*n);
                }
                Transfer::Done(n) => return Poll::Ready(Ok(*n)),
            }
        }
    }
}

/// Copies `a` into `b` and `b` into `a` at once, until both have reached end of file; when one
/// side reaches it, the other side's write half is closed (`poll_close`: a TCP stream sends its
/// FIN). Returns `(bytes a → b, bytes b → a)` (tokio's `io::copy_bidirectional`). The first
/// error of either direction ends the call.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let (mut client, mut proxy_front) = executor::io::duplex(64);
/// let (mut proxy_back, mut server) = executor::io::duplex(64);
/// let proxy = executor::spawn(async move {
///     executor::io::copy_bidirectional(&mut proxy_front, &mut proxy_back).await
/// });
/// client.write_all(b"ping").await?;
/// client.close().await?; // end of the client's stream: the server's side sees EOF
/// let mut got = Vec::new();
/// server.read_to_end(&mut got).await?;
/// server.write_all(b"pong").await?;
/// drop(server);
/// let mut back = Vec::new();
/// client.read_to_end(&mut back).await?;
/// assert_eq!((got.as_slice(), back.as_slice()), (&b"ping"[..], &b"pong"[..]));
/// assert_eq!(proxy.await.unwrap()?, (4, 4));
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    copy_bidirectional_with_sizes(a, b, DEFAULT_BUF_SIZE, DEFAULT_BUF_SIZE).await
}

/// [`copy_bidirectional`] with the size of each direction's buffer.
pub async fn copy_bidirectional_with_sizes<A, B>(a: &mut A, b: &mut B, a_to_b_size: usize, b_to_a_size: usize) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut a_to_b = Transfer::Running(CopyBuffer::new(a_to_b_size));
    let mut b_to_a = Transfer::Running(CopyBuffer::new(b_to_a_size));
    poll_fn(|cx| {
        let forward = a_to_b.poll(cx, &mut *a, &mut *b)?;
        let backward = b_to_a.poll(cx, &mut *b, &mut *a)?;
        let forward = ready!(forward);
        let backward = ready!(backward);
        Poll::Ready(Ok((forward, backward)))
    })
    .await
}
