//! The parts of tokio's `net` API that ports rely on beyond the basics: socket options before
//! connecting, `TryFrom` the std types, `peek_sender` and the `poll_*_ready` family of the
//! datagram sockets, `UnixSocket`, abstract addresses, `lookup_host`. Loopback only.

use executor::runtime::{Builder, Runtime};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use net::{lookup_host, TcpListener, TcpSocket, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixSocket, UnixStream};
use std::future::poll_fn;
use std::io;
use std::time::Duration;

fn rt() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

#[test]
fn tcp_socket_options_before_connecting() {
    rt().block_on(async {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_keepalive(true).unwrap();
        assert!(socket.keepalive().unwrap());
        socket.set_tos_v4(0x10).unwrap();
        assert_eq!(socket.tos_v4().unwrap(), 0x10);
        socket.set_zero_linger().unwrap();
        assert_eq!(socket.linger().unwrap(), Some(Duration::ZERO));
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(8).unwrap();
        let v6 = TcpSocket::new_v6().unwrap();
        v6.set_tclass_v6(0x20).unwrap();
        assert_eq!(v6.tclass_v6().unwrap(), 0x20);
        let client = TcpSocket::new_v4().unwrap().connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // A stream closed with zero linger resets the connection: the peer reads an error, not EOF.
        server.set_zero_linger().unwrap();
        assert_eq!(server.linger().unwrap(), Some(Duration::ZERO));
        drop(server);
        let mut client = client;
        let mut buf = [0u8; 1];
        let err = client.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        // A std stream back into a socket, to set options.
        let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let socket = TcpSocket::from_std_stream(std_stream);
        socket.set_nodelay(true).unwrap();
        assert!(socket.nodelay().unwrap());
    });
}

#[test]
fn std_sockets_convert_with_try_from() {
    rt().block_on(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::try_from(std_listener).unwrap();
        let std_client = std::net::TcpStream::connect(addr).unwrap();
        let mut client = TcpStream::try_from(std_client).unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"x").await.unwrap();
        let mut buf = [0u8; 1];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"x");
    });
}

#[test]
fn udp_peek_sender_and_the_poll_ready_family() {
    rt().block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        poll_fn(|cx| b.poll_send_ready(cx)).await.unwrap();
        assert!(matches!(a.try_peek_sender(), Err(e) if e.kind() == io::ErrorKind::WouldBlock));
        b.send(b"hello").await.unwrap();
        poll_fn(|cx| a.poll_recv_ready(cx)).await.unwrap();
        assert_eq!(a.peek_sender().await.unwrap(), b.local_addr().unwrap());
        assert_eq!(a.try_peek_sender().unwrap(), b.local_addr().unwrap());
        assert_eq!(poll_fn(|cx| a.poll_peek_sender(cx)).await.unwrap(), b.local_addr().unwrap());
        // Still queued: peek_sender consumed nothing.
        let mut buf = [0u8; 8];
        assert_eq!(a.recv_from(&mut buf).await.unwrap(), (5, b.local_addr().unwrap()));
        // try_peek / poll_peek on a connected socket.
        a.send_to(b"back", b.local_addr().unwrap()).await.unwrap();
        poll_fn(|cx| b.poll_recv_ready(cx)).await.unwrap();
        assert_eq!(b.try_peek(&mut buf).unwrap(), 4);
        assert_eq!(poll_fn(|cx| b.poll_peek(cx, &mut buf)).await.unwrap(), 4);
        assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
        b.set_tos_v4(0x10).unwrap();
        assert_eq!(b.tos_v4().unwrap(), 0x10);
    });
}

#[test]
fn unix_datagram_poll_ready_family_and_poll_send_to() {
    rt().block_on(async {
        let dir = tempdir("dgram");
        let a = UnixDatagram::bind(dir.join("a")).unwrap();
        let b = UnixDatagram::unbound().unwrap();
        poll_fn(|cx| b.poll_send_ready(cx)).await.unwrap();
        assert_eq!(poll_fn(|cx| b.poll_send_to(cx, b"ping", dir.join("a"))).await.unwrap(), 4);
        poll_fn(|cx| a.poll_recv_ready(cx)).await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(a.try_recv(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"ping");
        let err = poll_fn(|cx| b.poll_send_to(cx, b"x", "bad\0path")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        std::fs::remove_dir_all(dir).unwrap();
    });
}

fn tempdir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("runtime-net-surface-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn unix_socket_becomes_a_listener_a_stream_or_a_datagram_socket() {
    rt().block_on(async {
        let dir = tempdir("socket");
        let server = UnixSocket::new_stream().unwrap();
        server.bind(dir.join("srv")).unwrap();
        let listener = server.listen(4).unwrap();
        let client = UnixSocket::new_stream().unwrap();
        client.bind(dir.join("cli")).unwrap();
        let mut stream = client.connect(dir.join("srv")).await.unwrap();
        let (mut accepted, peer) = listener.accept().await.unwrap();
        assert_eq!(peer.as_pathname(), Some(dir.join("cli").as_path()));
        stream.write_all(b"u").await.unwrap();
        let mut buf = [0u8; 1];
        accepted.read_exact(&mut buf).await.unwrap();
        let d = UnixSocket::new_datagram().unwrap();
        d.bind(dir.join("dg")).unwrap();
        let d = d.datagram().unwrap();
        assert_eq!(d.local_addr().unwrap().as_pathname(), Some(dir.join("dg").as_path()));
        // The wrong kind is refused with a clear error.
        let err = UnixSocket::new_datagram().unwrap().listen(1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = UnixSocket::new_datagram().unwrap().connect(dir.join("srv")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = UnixSocket::new_stream().unwrap().datagram().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        std::fs::remove_dir_all(dir).unwrap();
    });
}

#[test]
fn bind_addr_and_connect_addr_take_std_addresses() {
    rt().block_on(async {
        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let name = format!("runtime-net-surface-{}", std::process::id());
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
            let listener = UnixListener::bind_addr(&addr).unwrap();
            let _client = UnixStream::connect_addr(&addr).await.unwrap();
            listener.accept().await.unwrap();
        }
        let dir = tempdir("addr");
        let addr = std::os::unix::net::SocketAddr::from_pathname(dir.join("p")).unwrap();
        let listener = UnixListener::bind_addr(&addr).unwrap();
        let _client = UnixStream::connect_addr(&addr).await.unwrap();
        listener.accept().await.unwrap();
        // An unnamed address cannot be connected to.
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let unnamed = a.local_addr().unwrap();
        assert_eq!(UnixStream::connect_addr(&unnamed).await.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        std::fs::remove_dir_all(dir).unwrap();
    });
}

#[test]
fn lookup_host_resolves_literals_and_names() {
    rt().block_on(async {
        let addrs: Vec<_> = lookup_host("127.0.0.1:8080").await.unwrap().collect();
        assert_eq!(addrs, ["127.0.0.1:8080".parse().unwrap()]);
        let addrs: Vec<_> = lookup_host(("localhost", 9)).await.unwrap().collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 9), "{addrs:?}");
        let Err(err) = lookup_host("no-port-given").await else { panic!("resolved an address without a port") };
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    });
}
