//! Interoperability with tokio over loopback: a tokio client against our server, and our
//! client against a tokio server, each byte-exact. Tokio runs on its own thread.

use executor::runtime::Builder;
use executor::time::timeout;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use net::{TcpListener, TcpStream};
use std::time::Duration;

const TOTAL: usize = 16 * 1024 * 1024;
const LIMIT: Duration = Duration::from_secs(60);

/// A transfer's bytes: not periodic in any power of two.
fn payload() -> Vec<u8> {
    (0..TOTAL as u64).map(|i| ((i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) ^ (i / 251)) as u8).collect()
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn a_tokio_client_gets_back_exactly_what_it_sent_to_our_server() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = rt.spawn(async move {
        let (stream, _) = listener.accept().await?;
        let (mut r, mut w) = stream.into_split();
        futures::io::copy(&mut r, &mut w).await?;
        w.close().await
    });

    let client = std::thread::spawn(move || {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        tokio_runtime().block_on(async move {
            tokio::time::timeout(LIMIT, async move {
                let data = payload();
                let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                let (mut r, mut w) = stream.into_split();
                let writer = tokio::spawn(async move {
                    w.write_all(&data).await.unwrap();
                    w.shutdown().await.unwrap();
                    data
                });
                let mut back = Vec::new();
                r.read_to_end(&mut back).await.unwrap();
                (back, writer.await.unwrap())
            })
            .await
            .expect("the tokio client did not finish in time")
        })
    });
    let (back, sent) = client.join().unwrap();
    assert_eq!(back.len(), sent.len());
    assert!(back == sent, "the echo differs from what was sent");
    rt.block_on(async { timeout(LIMIT, server).await.expect("server finished").unwrap() }).unwrap();
}

#[test]
fn our_client_gets_back_exactly_what_it_sent_to_a_tokio_server() {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        tokio_runtime().block_on(async move {
            tokio::time::timeout(LIMIT, async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let (stream, _) = listener.accept().await.unwrap();
                let (mut r, mut w) = stream.into_split();
                tokio::io::copy(&mut r, &mut w).await.unwrap();
                tokio::io::AsyncWriteExt::shutdown(&mut w).await.unwrap();
            })
            .await
            .expect("the tokio server did not finish in time")
        })
    });
    let addr = addr_rx.recv_timeout(LIMIT).unwrap();

    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        timeout(LIMIT, async {
            let data = payload();
            let (mut r, mut w) = TcpStream::connect(addr).await.unwrap().into_split();
            let writer = executor::spawn(async move {
                w.write_all(&data).await.unwrap();
                w.close().await.unwrap();
                data
            });
            let mut back = Vec::new();
            r.read_to_end(&mut back).await.unwrap();
            let sent = writer.await.unwrap();
            assert_eq!(back.len(), sent.len());
            assert!(back == sent, "the echo differs from what was sent");
        })
        .await
        .expect("our client did not finish in time")
    });
    server.join().unwrap();
}
