//! [`duplex`]: an in-memory, bidirectional byte stream — two pipes, one per direction.
//!
//! Each pipe is a bounded buffer under a mutex, with the waker of its reader and of its writer:
//!
//! ```text
//!   DuplexStream A                                   DuplexStream B
//!     write ──▶ pipe A→B [ bytes ≤ max ] ──▶ read
//!     read  ◀── pipe B→A [ bytes ≤ max ] ◀── write
//!
//!   write: room? copy, wake the reader : store the writer's waker, Pending
//!   read:  bytes? copy, wake the writer : closed? EOF : store the reader's waker, Pending
//!   close (or drop) of A: pipe A→B closed (B reads EOF once drained); drop of A also closes
//!   pipe B→A (B's writes fail with BrokenPipe)
//! ```
//!
//! Every check and the waker it stores happen under the pipe's lock, and every change that can
//! end a wait (bytes, room, close) takes the lock and wakes the stored waker: a wake-up is
//! never lost (the `loom` model below checks a writer blocked on a full pipe against a reader,
//! and a reader against a close).

use crate::loom::sync::{Arc, Mutex};
use crate::task::coop;
use futures_io::{AsyncRead, AsyncWrite};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

/// One direction: bytes written and not yet read, at most `max`.
struct Pipe {
    buffer: VecDeque<u8>,
    max: usize,
    /// No more bytes will come (the writer closed or was dropped), or nobody will read them
    /// (the reader was dropped): reads drain then see EOF, writes fail.
    closed: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

impl Pipe {
    fn new(max: usize) -> Pipe {
        Pipe { buffer: VecDeque::new(), max, closed: false, read_waker: None, write_waker: None }
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if !self.buffer.is_empty() {
            let n = buf.len().min(self.buffer.len());
            for (dst, src) in buf.iter_mut().zip(self.buffer.drain(..n)) {
                *dst = src;
            }
            if let Some(w) = self.write_waker.take() {
                w.wake();
            }
            return Poll::Ready(Ok(n));
        }
        if self.closed || buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        store(&mut self.read_waker, cx);
        Poll::Pending
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = self.max - self.buffer.len();
        if room == 0 {
            store(&mut self.write_waker, cx);
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        self.buffer.extend(&buf[..n]);
        if let Some(w) = self.read_waker.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn close(&mut self) {
        self.closed = true;
        for w in [self.read_waker.take(), self.write_waker.take()].into_iter().flatten() {
            w.wake();
        }
    }
}

fn store(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// One end of a [`duplex`] stream: implements `AsyncRead` and `AsyncWrite`.
pub struct DuplexStream {
    read: Arc<Mutex<Pipe>>,
    write: Arc<Mutex<Pipe>>,
}

/// An in-memory stream: two connected ends, each buffering at most `max_buf_size` bytes per
/// direction (a write waits while its direction is full), as tokio's `io::duplex`. Closing an
/// end (`poll_close`) makes the other end read end of file once the bytes are drained;
/// dropping it also makes the other end's writes fail with `BrokenPipe`.
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// # executor::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let (mut a, mut b) = executor::io::duplex(8);
/// a.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Panics
///
/// If `max_buf_size` is 0.
#[track_caller]
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    assert!(max_buf_size > 0, "the buffer size of a duplex stream must be greater than 0");
    let one = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    let two = Arc::new(Mutex::new(Pipe::new(max_buf_size)));
    (DuplexStream { read: one.clone(), write: two.clone() }, DuplexStream { read: two, write: one })
}

impl AsyncRead for DuplexStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let unit = ready!(coop::poll_proceed(cx));
        let res = ready!(self.read.lock().poll_read(cx, buf));
        unit.made_progress();
        Poll::Ready(res)
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let unit = ready!(coop::poll_proceed(cx));
        let res = ready!(self.write.lock().poll_write(cx, buf));
        unit.made_progress();
        Poll::Ready(res)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.write.lock().close();
        Poll::Ready(Ok(()))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        // The peer reads EOF once drained, and its writes fail: nobody reads them any more.
        self.write.lock().close();
        self.read.lock().close();
    }
}

impl fmt::Debug for DuplexStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("DuplexStream { .. }")
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// Counts wake-ups, and unparks the modelled thread that waits on it.
    struct Flag {
        woken: AtomicUsize,
        thread: loom::thread::Thread,
    }

    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.woken.fetch_add(1, Ordering::SeqCst);
            self.thread.unpark();
        }
    }

    /// Polls `f` until it is ready, parking between polls: loom reports a deadlock if a
    /// wake-up can be lost.
    fn block_on<R>(mut f: impl FnMut(&mut Context<'_>) -> Poll<R>) -> R {
        let flag = std::sync::Arc::new(Flag { woken: AtomicUsize::new(0), thread: loom::thread::current() });
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut seen = 0;
        loop {
            if let Poll::Ready(r) = f(&mut cx) {
                return r;
            }
            while flag.woken.load(Ordering::SeqCst) == seen {
                loom::thread::park();
            }
            seen = flag.woken.load(Ordering::SeqCst);
        }
    }

    /// A writer blocked on a full one-byte pipe and a reader that empties it: both finish,
    /// whatever the interleaving (a waker stored after the room check, or a wake outside the
    /// lock before the store, would strand one of them).
    #[test]
    fn loom_a_writer_waiting_for_room_is_woken_by_the_reader() {
        loom::model(|| {
            let pipe = Arc::new(Mutex::new(Pipe::new(1)));
            let writer = {
                let pipe = pipe.clone();
                loom::thread::spawn(move || {
                    for b in [1u8, 2] {
                        block_on(|cx| pipe.lock().poll_write(cx, &[b])).unwrap();
                    }
                })
            };
            let mut got = Vec::new();
            while got.len() < 2 {
                let mut buf = [0u8; 1];
                let n = block_on(|cx| pipe.lock().poll_read(cx, &mut buf)).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            writer.join().unwrap();
            assert_eq!(got, [1, 2]);
        });
    }

    /// A reader waiting on an empty pipe sees the close of the other thread: EOF.
    #[test]
    fn loom_a_reader_waiting_for_bytes_is_woken_by_a_close() {
        loom::model(|| {
            let pipe = Arc::new(Mutex::new(Pipe::new(4)));
            let closer = {
                let pipe = pipe.clone();
                loom::thread::spawn(move || pipe.lock().close())
            };
            let mut buf = [0u8; 1];
            assert_eq!(block_on(|cx| pipe.lock().poll_read(cx, &mut buf)).unwrap(), 0);
            closer.join().unwrap();
        });
    }
}
