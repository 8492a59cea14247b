//! TCP over real loopback sockets: listener, stream, halves, readiness, errors.

mod util;
use util::*;

use executor::io::Interest;
use executor::runtime::Builder;
use executor::time::timeout;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures::StreamExt;
use net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use net::{TcpListener, TcpSocket, TcpStream};
use std::io::{self, ErrorKind, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// A connected pair: (client, server side).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, peer) = listener.accept().await.unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    (client, server)
}

/// Echoes every connection `listener` accepts (each on its own task) until the peer closes.
fn spawn_echo_server(listener: TcpListener) {
    executor::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            executor::spawn(async move {
                let (mut r, mut w) = stream.into_split();
                futures::io::copy(&mut r, &mut w).await.expect("echo");
                w.close().await.expect("shutdown(Write)");
            });
        }
    });
}

/// The pattern byte at offset `i` of a transfer: not periodic in any power of two.
fn pattern_byte(i: u64) -> u8 {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((x >> 56) ^ (i / 251)) as u8
}

/// The pattern, repeating every `PERIOD` bytes (a prime, so it never lines up with buffers).
const PERIOD: usize = 1_048_573;

fn pattern() -> Arc<Vec<u8>> {
    Arc::new((0..PERIOD as u64 * 2).map(|i| pattern_byte(i % PERIOD as u64)).collect())
}

/// The pattern bytes for `[offset, offset + len)`, `len <= PERIOD`.
fn expected(pattern: &[u8], offset: u64, len: usize) -> &[u8] {
    let start = (offset % PERIOD as u64) as usize;
    &pattern[start..start + len]
}

#[test]
fn echo_of_100_mb_is_byte_exact() {
    const TOTAL: u64 = 100 * 1024 * 1024;
    let pattern = pattern();
    on_both_flavors(|| {
        let pattern = pattern.clone();
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spawn_echo_server(listener);
            let (mut r, mut w) = TcpStream::connect(addr).await.unwrap().into_split();
            let writer = {
                let pattern = pattern.clone();
                executor::spawn(async move {
                    let mut sent = 0u64;
                    while sent < TOTAL {
                        let len = (TOTAL - sent).min(192 * 1024 + 17) as usize;
                        w.write_all(expected(&pattern, sent, len)).await.unwrap();
                        sent += len as u64;
                    }
                    w.close().await.unwrap();
                })
            };
            let mut buf = vec![0u8; 256 * 1024];
            let mut received = 0u64;
            loop {
                let n = r.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                assert!(received + n as u64 <= TOTAL, "more bytes came back than were sent");
                if buf[..n] != *expected(&pattern, received, n) {
                    let at = (0..n).find(|&i| buf[i] != pattern_byte((received + i as u64) % PERIOD as u64)).unwrap();
                    panic!("byte {} differs", received + at as u64);
                }
                received += n as u64;
            }
            assert_eq!(received, TOTAL);
            writer.await.unwrap();
        }
    });
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit.
fn raise_fd_limit() {
    // SAFETY: `getrlimit` / `setrlimit` read and write the `rlimit` we pass by pointer.
    unsafe {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
}

#[test]
fn a_thousand_connections_echo_at_once() {
    const CONNS: usize = 1000;
    raise_fd_limit();
    on_both_flavors(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        spawn_echo_server(listener);
        // All connections are open before any echoes, so they are all in flight together.
        let mut streams = Vec::with_capacity(CONNS);
        for _ in 0..CONNS {
            streams.push(TcpStream::connect(addr).await.unwrap());
        }
        let clients: Vec<_> = streams
            .into_iter()
            .enumerate()
            .map(|(id, mut s)| {
                executor::spawn(async move {
                    let msg: Vec<u8> = (0..4096u32).map(|i| (i as usize * 7 + id) as u8).collect();
                    s.write_all(&msg).await.unwrap();
                    s.close().await.unwrap();
                    let mut back = Vec::new();
                    s.read_to_end(&mut back).await.unwrap();
                    assert!(back == msg, "connection {id} got back other bytes");
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
    });
}

#[test]
fn half_close_lets_the_peer_read_eof_and_still_write_back() {
    on_both_flavors(|| async {
        let (mut client, mut server) = pair().await;
        client.write_all(b"request").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"request");
        server.write_all(b"response").await.unwrap();
        server.close().await.unwrap();
        let mut back = Vec::new();
        client.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"response");
    });
}

#[test]
fn closing_with_linger_zero_resets_the_peer() {
    on_both_flavors(|| async {
        let (mut client, server) = pair().await;
        server.set_linger(Some(Duration::ZERO)).unwrap();
        assert_eq!(server.linger().unwrap(), Some(Duration::ZERO));
        drop(server);
        let mut buf = [0u8; 16];
        let err = client.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
        // Later operations fail too; none panics or hangs.
        let err = client.write_all(b"after the reset").await.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset), "{err:?}");
    });
}

/// An address nothing listens on (a port bound a moment ago and released).
fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    on_both_flavors(|| async {
        let err = TcpStream::connect(closed_port()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        let err = TcpSocket::new_v4().unwrap().connect(closed_port()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn connect_tries_each_address_in_order() {
    on_current_thread(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap();
        let addrs = [closed_port(), open];
        let client = TcpStream::connect(&addrs[..]).await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), open);
        let err = TcpStream::connect([closed_port(), closed_port()]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn bind_and_connect_report_bad_addresses_as_errors() {
    on_current_thread(async {
        assert!(TcpListener::bind("not an address").await.is_err());
        assert!(TcpListener::bind(&[][..] as &[SocketAddr]).await.is_err());
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let err = TcpListener::bind(taken.local_addr().unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        assert!(TcpStream::connect("127.0.0.1").await.is_err());
        // An IPv4 socket cannot connect to an IPv6 address.
        assert!(TcpSocket::new_v4().unwrap().connect("[::1]:1".parse().unwrap()).await.is_err());
    });
}

#[test]
fn bind_tries_each_address_until_one_binds() {
    on_current_thread(async {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addrs = [taken.local_addr().unwrap(), "127.0.0.1:0".parse().unwrap()];
        let listener = TcpListener::bind(&addrs[..]).await.unwrap();
        assert_ne!(listener.local_addr().unwrap(), taken.local_addr().unwrap());
    });
}

#[test]
fn one_task_reads_while_another_writes_on_the_same_socket() {
    const TOTAL: usize = 8 * 1024 * 1024;
    let pattern = pattern();
    on_both_flavors(|| {
        let pattern = pattern.clone();
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            spawn_echo_server(listener);
            let stream = Arc::new(TcpStream::connect(addr).await.unwrap());
            // The reader starts first and waits for data while the writer fills the socket:
            // both directions are waited on by two tasks at once.
            let reader = {
                let (stream, pattern) = (stream.clone(), pattern.clone());
                executor::spawn(async move {
                    let mut got = vec![0u8; TOTAL];
                    (&*stream).read_exact(&mut got).await.unwrap();
                    for (off, chunk) in got.chunks(PERIOD).enumerate() {
                        assert!(chunk == expected(&pattern, (off * PERIOD) as u64, chunk.len()), "chunk {off} differs");
                    }
                })
            };
            let writer = {
                let (stream, pattern) = (stream.clone(), pattern.clone());
                executor::spawn(async move {
                    let mut sent = 0;
                    while sent < TOTAL {
                        let len = (TOTAL - sent).min(100_003);
                        (&*stream).write_all(expected(&pattern, sent as u64, len)).await.unwrap();
                        sent += len;
                    }
                })
            };
            writer.await.unwrap();
            reader.await.unwrap();
        }
    });
}

#[test]
fn borrowed_halves_read_and_write_concurrently() {
    on_both_flavors(|| async {
        let (mut client, mut server) = pair().await;
        // `TcpStream::split`, not `futures::io::AsyncReadExt::split` (which takes the stream by value).
        let (mut r, mut w) = TcpStream::split(&mut client);
        assert_eq!(r.peer_addr().unwrap(), w.peer_addr().unwrap());
        let echo = async {
            let mut buf = [0u8; 5];
            server.read_exact(&mut buf).await.unwrap();
            server.write_all(&buf).await.unwrap();
        };
        let write = async { w.write_all(b"hello").await.unwrap() };
        let read = async {
            let mut buf = [0u8; 5];
            r.read_exact(&mut buf).await.unwrap();
            buf
        };
        let ((), (), got) = futures::join!(echo, write, read);
        assert_eq!(&got, b"hello");
    });
}

#[test]
fn owned_halves_move_to_tasks_and_reunite() {
    on_both_flavors(|| async {
        let (client, mut server) = pair().await;
        let (mut r, mut w) = client.into_split();
        let writer = executor::spawn(async move {
            w.write_all(b"ping").await.unwrap();
            w
        });
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        server.write_all(b"pong").await.unwrap();
        let reader = executor::spawn(async move {
            let mut buf = [0u8; 4];
            r.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"pong");
            r
        });
        let (w, r) = (writer.await.unwrap(), reader.await.unwrap());
        let mut client = r.reunite(w).expect("halves of one stream reunite");
        // Reuniting did not shut anything down: the stream still works both ways.
        client.write_all(b"again").await.unwrap();
        let mut buf = [0u8; 5];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");
    });
}

#[test]
fn reuniting_halves_of_different_streams_is_an_error() {
    on_current_thread(async {
        let (a, _a_peer) = pair().await;
        let (b, _b_peer) = pair().await;
        let (ar, aw) = a.into_split();
        let (br, bw) = b.into_split();
        let err = ar.reunite(bw).unwrap_err();
        assert!(!err.to_string().is_empty());
        let (ar, bw) = (err.0, err.1);
        let err = aw.reunite(br).unwrap_err();
        let (br, aw) = (err.0, err.1);
        // The halves given back still reunite with their own.
        ar.reunite(aw).unwrap();
        bw.reunite(br).unwrap();
    });
}

#[test]
fn dropping_the_owned_write_half_shuts_down_writing_and_forget_does_not() {
    on_current_thread(async {
        let (client, mut server) = pair().await;
        let (r, w): (OwnedReadHalf, OwnedWriteHalf) = client.into_split();
        drop(w);
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert!(got.is_empty(), "the peer reads end of file");
        drop(r);

        let (client, mut server) = pair().await;
        let (r, w) = client.into_split();
        w.forget();
        // Not shut down: the peer does not see end of file while the read half lives.
        let mut buf = [0u8; 1];
        assert_eq!(server.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        drop(r);
        assert_eq!(server.read(&mut buf).await.unwrap(), 0, "closing the socket ends the stream");
    });
}

#[test]
fn ipv6_loopback_binds_accepts_and_connects() {
    on_both_flavors(|| async {
        let listener = TcpListener::bind("[::1]:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert!(peer.ip().is_loopback());
        client.write_all(b"v6").await.unwrap();
        let mut buf = [0u8; 2];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"v6");
        let err = TcpStream::connect(("::1", closed_port().port())).await;
        assert!(err.is_err());
    });
}

#[test]
fn accept_skips_nothing_on_normal_use() {
    const CLIENTS: u32 = 200;
    on_both_flavors(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients = executor::spawn(async move {
            let mut held = Vec::new();
            for id in 0..CLIENTS {
                let mut s = TcpStream::connect(addr).await.unwrap();
                s.write_all(&id.to_be_bytes()).await.unwrap();
                held.push(s);
            }
            held
        });
        let mut seen = vec![false; CLIENTS as usize];
        for _ in 0..CLIENTS {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut id = [0u8; 4];
            s.read_exact(&mut id).await.unwrap();
            let id = u32::from_be_bytes(id) as usize;
            assert!(!seen[id], "connection {id} accepted twice");
            seen[id] = true;
        }
        assert!(seen.iter().all(|&s| s));
        drop(clients.await.unwrap());
    });
}

#[test]
fn several_tasks_accept_on_one_listener() {
    const CLIENTS: usize = 64;
    on_both_flavors(|| async {
        let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        let acceptors: Vec<_> = (0..4)
            .map(|_| {
                let listener = listener.clone();
                executor::spawn(async move {
                    let mut n = 0;
                    for _ in 0..CLIENTS / 4 {
                        let (mut s, _) = listener.accept().await.unwrap();
                        s.write_all(b"x").await.unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let mut held = Vec::new();
        for _ in 0..CLIENTS {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let mut b = [0u8; 1];
            s.read_exact(&mut b).await.unwrap();
            held.push(s);
        }
        let mut total = 0;
        for a in acceptors {
            total += a.await.unwrap();
        }
        assert_eq!(total, CLIENTS);
    });
}

#[test]
fn incoming_yields_each_connection() {
    on_both_flavors(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients = executor::spawn(async move {
            let mut held = Vec::new();
            for _ in 0..10 {
                held.push(TcpStream::connect(addr).await.unwrap());
            }
            held
        });
        let accepted: Vec<TcpStream> = listener.incoming().take(10).map(Result::unwrap).collect().await;
        let clients = clients.await.unwrap();
        let mut peers: Vec<_> = accepted.iter().map(|s| s.peer_addr().unwrap()).collect();
        let mut locals: Vec<_> = clients.iter().map(|s| s.local_addr().unwrap()).collect();
        peers.sort();
        locals.sort();
        assert_eq!(peers, locals);
        let (_s, _) = futures::future::join(std::future::poll_fn(|cx| listener.poll_accept(cx)), TcpStream::connect(addr)).await;
    });
}

#[test]
fn try_read_would_block_until_data_arrives_then_readable_reports_it() {
    on_both_flavors(|| async {
        let (client, server) = pair().await;
        let mut buf = [0u8; 8];
        assert_eq!(server.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        assert_eq!(server.try_read_vectored(&mut [IoSliceMut::new(&mut buf)]).unwrap_err().kind(), ErrorKind::WouldBlock);
        client.writable().await.unwrap();
        assert_eq!(client.try_write(b"abc").unwrap(), 3);
        assert_eq!(client.try_write_vectored(&[IoSlice::new(b"de"), IoSlice::new(b"f")]).unwrap(), 3);
        // Readiness does not clear until a read would block, so the loop ends after the data.
        let mut got = Vec::new();
        for _ in 0..100 {
            server.readable().await.unwrap();
            match server.try_read(&mut buf) {
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.len() == 6 {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, b"abcdef");
        let ready = server.ready(Interest::READABLE | Interest::WRITABLE).await.unwrap();
        assert!(ready.is_writable());
        assert_eq!(server.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        drop(client);
        server.readable().await.unwrap();
        assert_eq!(server.try_read(&mut buf).unwrap(), 0, "end of file once the peer closed");
    });
}

#[test]
fn try_write_would_block_when_the_send_buffer_is_full_then_writable_after_the_peer_reads() {
    on_both_flavors(|| async {
        let (client, mut server) = pair().await;
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0usize;
        let mut blocked = false;
        for _ in 0..100_000 {
            match client.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    blocked = true;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(blocked, "the send buffer never filled");
        let drain = async {
            let mut buf = vec![0u8; sent];
            server.read_exact(&mut buf).await.unwrap();
            assert!(buf.iter().all(|&b| b == 7));
        };
        let wait = async { client.writable().await.unwrap() };
        futures::join!(drain, wait);
        assert!(client.try_write(b"more").unwrap() > 0);
    });
}

#[test]
fn peek_sees_data_without_consuming_it() {
    on_both_flavors(|| async {
        let (mut client, mut server) = pair().await;
        client.write_all(b"peekaboo").await.unwrap();
        let mut buf = [0u8; 4];
        let n = server.peek(&mut buf).await.unwrap();
        assert!(n > 0 && buf[..n] == b"peek"[..n]);
        let mut all = [0u8; 8];
        server.read_exact(&mut all).await.unwrap();
        assert_eq!(&all, b"peekaboo");
    });
}

#[test]
fn vectored_reads_and_writes_carry_every_byte_in_order() {
    on_both_flavors(|| async {
        let (mut client, mut server) = pair().await;
        let parts: [&[u8]; 3] = [b"one ", b"two ", b"three"];
        let slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
        let n = client.write_vectored(&slices).await.unwrap();
        assert!(n > 0);
        let all: Vec<u8> = parts.concat();
        client.write_all(&all[n..]).await.unwrap();
        client.close().await.unwrap();
        let (mut a, mut b) = ([0u8; 6], [0u8; 7]);
        let mut got = 0;
        while got < 13 {
            let k = {
                let mut bufs = [IoSliceMut::new(&mut a[got.min(6)..]), IoSliceMut::new(&mut b[got.saturating_sub(6)..])];
                server.read_vectored(&mut bufs).await.unwrap()
            };
            assert!(k > 0, "early end of file");
            got += k;
        }
        assert_eq!([&a[..], &b[..]].concat(), all);
    });
}

#[test]
fn socket_options_round_trip() {
    on_current_thread(async {
        let (client, _server) = pair().await;
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
        client.set_ttl(42).unwrap();
        assert_eq!(client.ttl().unwrap(), 42);
        client.set_linger(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(client.linger().unwrap(), Some(Duration::from_secs(3)));
        client.set_linger(None).unwrap();
        assert_eq!(client.linger().unwrap(), None);
        assert!(client.take_error().unwrap().is_none());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.set_ttl(33).unwrap();
        assert_eq!(listener.ttl().unwrap(), 33);
        assert!(format!("{client:?}").contains("TcpStream"));
        assert!(format!("{listener:?}").contains("TcpListener"));
    });
}

#[test]
fn std_conversions_keep_the_socket_working() {
    on_both_flavors(|| async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let addr = listener.local_addr().unwrap();
        let std_client = std::net::TcpStream::connect(addr).unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut client = TcpStream::from_std(std_client).unwrap();
        client.write_all(b"std").await.unwrap();
        let std_server = server.into_std().unwrap();
        std_server.set_nonblocking(false).unwrap();
        let mut buf = [0u8; 3];
        std::io::Read::read_exact(&mut &std_server, &mut buf).unwrap();
        assert_eq!(&buf, b"std");
        let mut server = TcpStream::from_std(std_server).unwrap();
        server.write_all(b"back").await.unwrap();
        let mut buf = [0u8; 4];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"back");
        let listener = TcpListener::from_std(listener.into_std().unwrap()).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);
    });
}

#[test]
fn tcp_socket_binds_listens_and_connects() {
    on_current_thread(async {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        assert!(socket.reuseaddr().unwrap());
        socket.set_reuseport(true).unwrap();
        assert!(socket.reuseport().unwrap());
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = socket.local_addr().unwrap();
        let listener = socket.listen(16).unwrap();
        assert_eq!(listener.local_addr().unwrap(), addr);
        let client = TcpSocket::new_v4().unwrap();
        client.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let local = client.local_addr().unwrap();
        let client = client.connect(addr).await.unwrap();
        assert_eq!(client.local_addr().unwrap(), local);
        let (_s, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, local);
        let v6 = TcpSocket::new_v6().unwrap();
        v6.bind("[::1]:0".parse().unwrap()).unwrap();
        assert!(v6.local_addr().unwrap().is_ipv6());
    });
}

#[test]
fn a_task_waiting_to_read_is_woken_by_the_peer_closing_and_the_runtime_drops_with_sockets_alive() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let (client, server) = rt.block_on(pair());
    let client = Arc::new(client);
    let waiter = {
        let client = client.clone();
        rt.spawn(async move {
            let mut buf = [0u8; 1];
            (&*client).read(&mut buf).await
        })
    };
    drop(server);
    let res: io::Result<usize> = rt.block_on(async { timeout(LIMIT, waiter).await.expect("woken").unwrap() });
    assert_eq!(res.unwrap(), 0);
    drop(rt);
    drop(client);
}

/// A read that stops short at an urgent (out-of-band) mark has not drained the socket: the
/// short-read shortcut (clearing readiness without a `WouldBlock`) must not apply, or the bytes
/// after the mark wait for an edge that never comes.
#[test]
fn a_read_stopped_short_by_urgent_data_does_not_strand_the_bytes_after_it() {
    use std::io::Write;
    on_both_flavors(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        (&client).write_all(b"abc").unwrap();
        socket2::SockRef::from(&client).send_out_of_band(b"!").unwrap();
        (&client).write_all(b"def").unwrap();
        // The urgent byte has arrived (and so has everything sent before it).
        server.ready(Interest::PRIORITY).await.unwrap();
        let mut buf = [0u8; 64];
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"abc", "the read stops at the urgent mark");
        let n =
            timeout(Duration::from_secs(10), server.read(&mut buf)).await.expect("the bytes after the urgent mark were stranded").unwrap();
        assert_eq!(&buf[..n], b"def");
    });
}
