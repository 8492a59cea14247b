//! The `tokio-io` feature: every stream type implements tokio's `AsyncRead` / `AsyncWrite` on
//! this runtime (no tokio runtime is running: anything that needed one would panic), and
//! tokio-util's `Framed` codecs work on the streams as they are.

mod util;
use util::*;

use futures::{SinkExt, StreamExt};
use net::{TcpListener, TcpStream, UnixStream};
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::pin::Pin;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_util::codec::{Framed, LinesCodec};

/// A connected TCP pair: (client, server side).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Writes `msg` through `w` with tokio's traits and reads it back from `r`.
async fn send_through<W: AsyncWrite + Unpin, R: AsyncRead + Unpin>(w: &mut W, r: &mut R, msg: &[u8]) {
    w.write_all(msg).await.unwrap();
    w.flush().await.unwrap();
    let mut got = vec![0; msg.len()];
    r.read_exact(&mut got).await.unwrap();
    assert_eq!(got, msg);
}

#[test]
fn tcp_streams_and_their_halves_implement_tokios_traits() {
    on_both_flavors(|| async {
        let (mut a, mut b) = tcp_pair().await;
        send_through(&mut a, &mut b, b"stream to stream").await;
        send_through(&mut &b, &mut &a, b"&stream to &stream").await;

        let (mut ar, mut aw) = a.split();
        let (mut br, mut bw) = b.split();
        send_through(&mut aw, &mut br, b"borrowed halves").await;
        send_through(&mut bw, &mut ar, b"and back").await;

        let (mut ar, mut aw) = a.into_split();
        let (mut br, mut bw) = b.into_split();
        send_through(&mut aw, &mut br, b"owned halves").await;
        send_through(&mut bw, &mut ar, b"and back").await;

        // poll_shutdown is shutdown(Write): the peer reads end of file.
        aw.shutdown().await.unwrap();
        let mut rest = Vec::new();
        assert_eq!(br.read_to_end(&mut rest).await.unwrap(), 0);
    });
}

#[test]
fn unix_streams_and_their_halves_implement_tokios_traits() {
    on_both_flavors(|| async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        send_through(&mut a, &mut b, b"stream to stream").await;
        send_through(&mut &b, &mut &a, b"&stream to &stream").await;

        let (mut ar, mut aw) = a.split();
        let (mut br, mut bw) = b.split();
        send_through(&mut aw, &mut br, b"borrowed halves").await;
        send_through(&mut bw, &mut ar, b"and back").await;

        let (mut ar, mut aw) = a.into_split();
        let (mut br, mut bw) = b.into_split();
        send_through(&mut aw, &mut br, b"owned halves").await;
        send_through(&mut bw, &mut ar, b"and back").await;

        aw.shutdown().await.unwrap();
        let mut rest = Vec::new();
        assert_eq!(br.read_to_end(&mut rest).await.unwrap(), 0);
    });
}

/// A read into a `ReadBuf` over uninitialised memory initialises exactly the bytes it read:
/// nothing zeroed the rest of the buffer first.
#[test]
fn reads_fill_an_uninitialised_read_buf_without_zeroing_it() {
    on_both_flavors(|| async {
        let (mut a, mut b) = tcp_pair().await;
        let (mut u, mut v) = UnixStream::pair().unwrap();
        a.write_all(b"tcp").await.unwrap();
        u.write_all(b"unix").await.unwrap();
        for (reader, want) in [(&mut b as &mut (dyn AsyncRead + Unpin), &b"tcp"[..]), (&mut v, &b"unix"[..])] {
            let mut storage = [MaybeUninit::<u8>::uninit(); 4096];
            let mut buf = ReadBuf::uninit(&mut storage);
            std::future::poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, &mut buf)).await.unwrap();
            assert_eq!(buf.filled(), want);
            assert_eq!(buf.initialized().len(), want.len(), "the read initialised more than it read");
        }
    });
}

#[test]
fn vectored_writes_send_every_buffer_in_order() {
    on_both_flavors(|| async {
        let (mut a, mut b) = tcp_pair().await;
        let (mut u, mut v) = UnixStream::pair().unwrap();
        assert!(AsyncWrite::is_write_vectored(&a) && AsyncWrite::is_write_vectored(&u));
        let bufs = [IoSlice::new(b"one "), IoSlice::new(b"two "), IoSlice::new(b"three")];
        for (w, r) in [(&mut a as &mut (dyn AsyncWrite + Unpin), &mut b as &mut (dyn AsyncRead + Unpin)), (&mut u, &mut v)] {
            // Loopback takes 13 bytes in one call; a short write would still be a valid answer.
            let n = std::future::poll_fn(|cx| Pin::new(&mut *w).poll_write_vectored(cx, &bufs)).await.unwrap();
            let mut got = vec![0; n];
            r.read_exact(&mut got).await.unwrap();
            assert_eq!(got, &b"one two three"[..n]);
            assert!(n > b"one ".len(), "one system call should take more than the first buffer");
        }
    });
}

/// tokio-util's `Framed` with `LinesCodec` straight on the runtime's streams: a line server
/// answering each line in upper case.
#[test]
fn tokio_util_framed_lines_codec_works_on_the_runtimes_streams() {
    async fn uppercase_lines<T: AsyncRead + AsyncWrite + Unpin>(io: T) {
        let mut lines = Framed::new(io, LinesCodec::new());
        while let Some(line) = lines.next().await {
            lines.send(line.unwrap().to_uppercase()).await.unwrap();
        }
    }
    async fn ask<T: AsyncRead + AsyncWrite + Unpin>(io: T) {
        let mut lines = Framed::new(io, LinesCodec::new());
        for word in ["hello", "framed", "lines"] {
            lines.send(word).await.unwrap();
            assert_eq!(lines.next().await.unwrap().unwrap(), word.to_uppercase());
        }
    }
    on_both_flavors(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = executor::spawn(async move { uppercase_lines(listener.accept().await.unwrap().0).await });
        ask(TcpStream::connect(addr).await.unwrap()).await;
        server.abort();

        let (a, b) = UnixStream::pair().unwrap();
        let server = executor::spawn(uppercase_lines(b));
        ask(a).await;
        server.abort();
    });
}

/// A pending read is woken by data that arrives later (the readiness path, not only data that
/// was already there).
#[test]
fn a_pending_tokio_read_is_woken_when_data_arrives() {
    on_both_flavors(|| async {
        let (mut a, mut b) = tcp_pair().await;
        let mut buf = [0u8; 5];
        let mut read = std::pin::pin!(b.read_exact(&mut buf));
        assert!(futures::poll!(read.as_mut()).is_pending(), "nothing was sent yet");
        a.write_all(b"later").await.unwrap();
        read.await.unwrap();
        assert_eq!(&buf, b"later");
    });
}
