//! With the README's imports in scope (`runtime::io::{AsyncReadExt, AsyncWriteExt}`),
//! `stream.split()` is the stream's own borrowed, lock-free split — as in a tokio program —
//! and not a by-value `split` of an extension trait that would consume the stream.

use runtime::io::{AsyncReadExt, AsyncWriteExt};
use runtime::net::{tcp, unix, TcpListener, TcpStream, UnixStream};

#[runtime::test]
async fn tcp_stream_split_borrows_the_stream() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (mut server, _) = listener.accept().await.unwrap();

    let (mut reader, mut writer): (tcp::ReadHalf<'_>, tcp::WriteHalf<'_>) = server.split();
    client.write_all(b"ping").await.unwrap();
    let mut buf = [0; 4];
    reader.read_exact(&mut buf).await.unwrap();
    writer.write_all(&buf).await.unwrap();
    // The stream was only borrowed: it is still here.
    assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
    client.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
}

#[runtime::test]
async fn unix_stream_split_borrows_the_stream() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let (mut reader, _writer): (unix::ReadHalf<'_>, unix::WriteHalf<'_>) = a.split();
    b.write_all(b"pong").await.unwrap();
    let mut buf = [0; 4];
    reader.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"pong");
    a.write_all(b"!").await.unwrap();
}

/// The locking split of any reader-writer is `runtime::io::split` (tokio's `io::split`).
#[runtime::test]
async fn io_split_splits_any_reader_writer_behind_a_lock() {
    let (a, mut b) = UnixStream::pair().unwrap();
    let (mut reader, mut writer) = runtime::io::split(a);
    writer.write_all(b"half").await.unwrap();
    let mut buf = [0; 4];
    b.read_exact(&mut buf).await.unwrap();
    b.write_all(&buf).await.unwrap();
    reader.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"half");
    let a = reader.unsplit(writer);
    drop(a);
}
