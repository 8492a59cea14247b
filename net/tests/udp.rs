//! `UdpSocket` over loopback, on both runtime flavors.

use executor::runtime::{Builder, Runtime};
use executor::time::timeout;
use net::UdpSocket;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A bound on every test body: a bug shows up as a failure, not a hung test run.
const LIMIT: Duration = Duration::from_secs(10);

fn runtimes() -> [Runtime; 2] {
    [
        Builder::new_current_thread().enable_all().build().unwrap(),
        Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
    ]
}

/// Runs `test` to completion on each runtime flavor, failing after `LIMIT`.
fn on_both<F, Fut>(test: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = io::Result<()>>,
{
    for rt in runtimes() {
        rt.block_on(async { timeout(LIMIT, test()).await.expect("the test timed out").unwrap() });
    }
}

#[test]
fn connected_sockets_exchange_datagrams_with_send_and_recv() {
    on_both(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        a.connect(b.local_addr()?).await?;
        b.connect(a.local_addr()?).await?;
        assert_eq!(a.peer_addr()?, b.local_addr()?);
        let mut buf = [0; 64];
        for i in 0..100u32 {
            assert_eq!(a.send(&i.to_be_bytes()).await?, 4);
            let n = b.recv(&mut buf).await?;
            assert_eq!(&buf[..n], i.to_be_bytes());
            b.send(b"ack").await?;
            let n = a.recv(&mut buf).await?;
            assert_eq!(&buf[..n], b"ack");
        }
        Ok(())
    });
}

#[test]
fn send_to_and_recv_from_report_the_sender() {
    on_both(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        assert_eq!(a.send_to(b"hello", b.local_addr()?).await?, 5);
        let mut buf = [0; 64];
        let (n, from) = b.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"hello"[..], a.local_addr()?));
        // A string address is resolved too.
        b.send_to(b"back", format!("127.0.0.1:{}", a.local_addr()?.port())).await?;
        let (n, from) = a.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"back"[..], b.local_addr()?));
        Ok(())
    });
}

#[test]
fn a_connected_socket_receives_only_from_its_peer() {
    on_both(|| async {
        let receiver = UdpSocket::bind("127.0.0.1:0").await?;
        let peer = UdpSocket::bind("127.0.0.1:0").await?;
        let stranger = UdpSocket::bind("127.0.0.1:0").await?;
        receiver.connect(peer.local_addr()?).await?;
        stranger.send_to(b"stranger", receiver.local_addr()?).await?;
        peer.send_to(b"peer", receiver.local_addr()?).await?;
        let mut buf = [0; 64];
        let n = receiver.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"peer");
        // The stranger's datagram was dropped by the kernel: nothing else is queued.
        assert_eq!(receiver.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        Ok(())
    });
}

#[test]
fn peek_from_leaves_the_datagram_for_recv_from() {
    on_both(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        a.send_to(b"first", b.local_addr()?).await?;
        a.send_to(b"second", b.local_addr()?).await?;
        let mut buf = [0; 64];
        for _ in 0..2 {
            let (n, from) = b.peek_from(&mut buf).await?;
            assert_eq!((&buf[..n], from), (&b"first"[..], a.local_addr()?));
        }
        let (n, _) = b.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"first");
        let (n, _) = b.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"second");
        Ok(())
    });
}

#[test]
fn peek_on_a_connected_socket_does_not_consume() {
    on_both(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await?;
        let b = UdpSocket::bind("127.0.0.1:0").await?;
        b.connect(a.local_addr()?).await?;
        a.send_to(b"x", b.local_addr()?).await?;
        let mut buf = [0; 8];
        assert_eq!(b.peek(&mut buf).await?, 1);
        assert_eq!(b.recv(&mut buf).await?, 1);
        assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        Ok(())
    });
}

#[test]
fn two_tasks_waiting_on_one_socket_each_receive_a_datagram() {
    on_both(|| async {
        let receiver = Arc::new(UdpSocket::bind("127.0.0.1:0").await?);
        let to = receiver.local_addr()?;
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let receiver = receiver.clone();
                executor::spawn(async move {
                    let mut buf = [0; 8];
                    let (n, _) = receiver.recv_from(&mut buf).await?;
                    Ok::<_, io::Error>(buf[..n].to_vec())
                })
            })
            .collect();
        // Let both tasks start waiting before anything arrives.
        executor::time::sleep(Duration::from_millis(20)).await;
        let sender = UdpSocket::bind("127.0.0.1:0").await?;
        sender.send_to(b"one", to).await?;
        sender.send_to(b"two", to).await?;
        let mut got = Vec::new();
        for t in tasks {
            got.push(t.await.unwrap()?);
        }
        got.sort();
        assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
        Ok(())
    });
}

#[test]
fn ipv6_loopback_sockets_exchange_datagrams() {
    on_both(|| async {
        let a = match UdpSocket::bind("[::1]:0").await {
            Ok(a) => a,
            // No IPv6 on this host (a container without it): nothing to test.
            Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => return Ok(()),
            Err(e) => return Err(e),
        };
        let b = UdpSocket::bind("[::1]:0").await?;
        assert!(a.local_addr()?.is_ipv6());
        a.send_to(b"v6", b.local_addr()?).await?;
        let mut buf = [0; 8];
        let (n, from) = b.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (&b"v6"[..], a.local_addr()?));
        Ok(())
    });
}

#[test]
fn try_recv_on_an_empty_socket_would_block() {
    on_both(|| async {
        let s = UdpSocket::bind("127.0.0.1:0").await?;
        let mut buf = [0; 8];
        assert_eq!(s.try_recv_from(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        assert_eq!(s.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        // Still usable afterwards: a datagram that arrives later is received.
        let t = UdpSocket::bind("127.0.0.1:0").await?;
        t.send_to(b"late", s.local_addr()?).await?;
        s.readable().await?;
        let (n, _) = s.try_recv_from(&mut buf)?;
        assert_eq!(&buf[..n], b"late");
        Ok(())
    });
}

#[test]
fn socket_options_round_trip() {
    on_both(|| async {
        let s = UdpSocket::bind("127.0.0.1:0").await?;
        s.set_broadcast(true)?;
        assert!(s.broadcast()?);
        s.set_ttl(42)?;
        assert_eq!(s.ttl()?, 42);
        assert!(s.take_error()?.is_none());
        assert_eq!(s.peer_addr().unwrap_err().kind(), io::ErrorKind::NotConnected);
        Ok(())
    });
}

#[test]
fn std_sockets_convert_both_ways() {
    on_both(|| async {
        let std_sock = std::net::UdpSocket::bind("127.0.0.1:0")?;
        let addr = std_sock.local_addr()?;
        let s = UdpSocket::from_std(std_sock)?;
        let back = s.into_std()?;
        assert_eq!(back.local_addr()?, addr);
        // Registering again after into_std works (the registration was removed).
        let s = UdpSocket::try_from(back)?;
        let other = UdpSocket::bind("127.0.0.1:0").await?;
        other.send_to(b"ok", addr).await?;
        let mut buf = [0; 4];
        assert_eq!(s.recv(&mut buf).await?, 2);
        Ok(())
    });
}

#[test]
fn unresolvable_or_unbindable_addresses_are_errors() {
    on_both(|| async {
        assert!(UdpSocket::bind("not an address").await.is_err());
        let empty: &[SocketAddr] = &[];
        assert_eq!(UdpSocket::bind(empty).await.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let s = UdpSocket::bind("127.0.0.1:0").await?;
        assert_eq!(s.send_to(b"x", empty).await.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        // Binding the same address twice (no SO_REUSEADDR) is AddrInUse.
        assert_eq!(UdpSocket::bind(s.local_addr()?).await.unwrap_err().kind(), io::ErrorKind::AddrInUse);
        Ok(())
    });
}

#[test]
fn the_socket_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<UdpSocket>();
}
