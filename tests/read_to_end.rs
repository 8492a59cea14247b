//! `runtime::io::AsyncReadExt::{read_to_end, read_to_string}`: the bytes, the errors, a drop
//! half-way, and that the room handed to the reader is zeroed once, not again after every
//! `Pending` (what made `futures`' version quadratic on a pipe).

use futures::io::AsyncRead;
use futures::task::noop_waker;
use runtime::io::AsyncReadExt;
use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};

/// Hands out `data` in `chunk`-byte reads, `Pending` before each one. It fills the whole slice
/// it is given with 0xAA before copying its bytes in, and records whether a slice it got after
/// a `Pending` had been zeroed again where it had left 0xAA.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    chunk: usize,
    pending_next: bool,
    /// Length of the slice of the previous call and whether it was marked.
    marked_tail: Option<usize>,
    rezeroed: bool,
    fail_at: Option<usize>,
}

impl Trickle {
    fn new(data: Vec<u8>, chunk: usize) -> Trickle {
        Trickle { data, at: 0, chunk, pending_next: true, marked_tail: None, rezeroed: false, fail_at: None }
    }
}

impl AsyncRead for Trickle {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if self.pending_next {
            self.pending_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.pending_next = true;
        if self.fail_at.is_some_and(|f| self.at >= f) {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset")));
        }
        // The room after what we filled last time is the same memory if nobody zeroed it.
        if let Some(prev_tail) = self.marked_tail {
            if prev_tail > 0 && !buf.is_empty() && buf[..prev_tail.min(buf.len())].iter().all(|&b| b == 0) {
                self.rezeroed = true;
            }
        }
        let n = self.chunk.min(self.data.len() - self.at).min(buf.len());
        buf.fill(0xAA);
        let at = self.at;
        buf[..n].copy_from_slice(&self.data[at..at + n]);
        self.at += n;
        self.marked_tail = Some(buf.len() - n);
        Poll::Ready(Ok(n))
    }
}

fn block_on<F: Future>(f: F) -> F::Output {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8 + 1).collect()
}

#[test]
fn read_to_end_appends_every_byte_across_pendings_and_zeroes_the_room_once() {
    let data = pattern(200_000);
    let mut r = Trickle::new(data.clone(), 1000);
    let mut buf = b"head".to_vec();
    let n = block_on(r.read_to_end(&mut buf)).unwrap();
    assert_eq!(n, data.len());
    assert_eq!(&buf[..4], b"head");
    assert_eq!(&buf[4..], &data[..]);
    assert!(!r.rezeroed, "the room past the data was zeroed again after a Pending");
}

#[test]
fn read_to_end_dropped_half_way_leaves_only_what_was_read() {
    let data = pattern(10_000);
    let mut r = Trickle::new(data.clone(), 100);
    let mut buf = Vec::new();
    {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut f = pin!(r.read_to_end(&mut buf));
        for _ in 0..11 {
            assert!(f.as_mut().poll(&mut cx).is_pending());
        }
    }
    assert!(r.at > 0);
    assert_eq!(buf, data[..r.at], "a drop left zeroed room or lost bytes");
}

#[test]
fn read_to_end_reports_an_error_with_what_was_read_kept() {
    let data = pattern(1000);
    let mut r = Trickle::new(data.clone(), 100);
    r.fail_at = Some(300);
    let mut buf = Vec::new();
    let err = block_on(r.read_to_end(&mut buf)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    assert!(r.at >= 300);
    assert_eq!(buf, data[..r.at]);
}

#[test]
fn read_to_string_appends_utf8_and_rejects_the_rest_leaving_the_string_as_it_was() {
    let text = "héllo wörld ".repeat(5000);
    let mut r = Trickle::new(text.clone().into_bytes(), 777);
    let mut s = String::from("> ");
    let n = block_on(r.read_to_string(&mut s)).unwrap();
    assert_eq!(n, text.len());
    assert_eq!(s, format!("> {text}"));

    let mut bad = b"fine, then ".to_vec();
    bad.push(0xFF);
    let mut r = Trickle::new(bad, 3);
    let mut s = String::from("kept");
    let err = block_on(r.read_to_string(&mut s)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert_eq!(s, "kept");
}

#[test]
fn read_to_string_dropped_half_way_leaves_the_string_as_it_was() {
    let mut r = Trickle::new(b"abcdefghij".repeat(100), 10);
    let mut s = String::from("kept");
    {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut f = pin!(r.read_to_string(&mut s));
        for _ in 0..7 {
            assert!(f.as_mut().poll(&mut cx).is_pending());
        }
    }
    assert_eq!(s, "kept");
}

#[test]
fn read_to_end_into_a_buffer_sized_for_the_stream_does_not_grow_it() {
    let data = pattern(300_000);
    let mut r = Trickle::new(data.clone(), 70_000);
    let mut buf = Vec::with_capacity(data.len());
    block_on(r.read_to_end(&mut buf)).unwrap();
    assert_eq!(buf, data);
    assert_eq!(buf.capacity(), data.len(), "the end of the stream was found by doubling the buffer");
}
