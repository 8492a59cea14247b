//! `runtime::hyper` against real hyper servers and clients on loopback, on both flavors.

use super::{connect::connect_any, Executor, HttpConnector, HttpInfo, Io, Timer};
use crate::net::{TcpListener, TcpSocket, TcpStream, UnixStream};
use crate::time::timeout;
use crate::{Builder, Runtime};
use ::hyper::body::{Bytes, Incoming};
use ::hyper::rt::{Read, ReadBuf, Timer as _, Write};
use ::hyper::server::conn::http1;
use ::hyper::service::service_fn;
use ::hyper::{Request, Response, StatusCode, Uri};
use futures::io::{AsyncReadExt as _, AsyncWriteExt as _};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::io::{ErrorKind, IoSlice};
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// Every test's bound: a hang fails the test instead of the run.
const LIMIT: Duration = Duration::from_secs(20);

fn runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        ("current_thread", Builder::new_current_thread().enable_all().build().unwrap()),
        ("multi_thread", Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()),
    ]
}

/// Runs `test` (within [`LIMIT`]) on a current-thread and on a multi-thread runtime.
fn on_both_flavors<F, Fut>(test: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    for (flavor, rt) in runtimes() {
        rt.block_on(async { timeout(LIMIT, test()).await.unwrap_or_else(|_| panic!("{flavor}: the test did not finish in {LIMIT:?}")) });
    }
}

/// An HTTP/1 server on 127.0.0.1 answering `hello from <path>`, with a header-read timeout of
/// `header_timeout`; its address.
async fn serve(header_timeout: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    crate::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            crate::spawn(async move {
                let hello = service_fn(|req: Request<Incoming>| async move {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!("hello from {}", req.uri().path())))))
                });
                let conn =
                    http1::Builder::new().timer(Timer::new()).header_read_timeout(header_timeout).serve_connection(Io::new(stream), hello);
                let _ = conn.await;
            });
        }
    });
    addr
}

fn client(connector: HttpConnector) -> Client<HttpConnector, Empty<Bytes>> {
    Client::builder(Executor::new()).timer(Timer::new()).pool_timer(Timer::new()).build(connector)
}

async fn get(client: &Client<HttpConnector, Empty<Bytes>>, uri: &str) -> (StatusCode, String, Option<HttpInfo>) {
    let response = client.get(uri.parse::<Uri>().unwrap()).await.unwrap();
    let info = response.extensions().get::<HttpInfo>().copied();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap(), info)
}

#[test]
fn the_legacy_client_and_a_server_talk_through_the_connector_and_io() {
    on_both_flavors(|| async {
        let addr = serve(Duration::from_secs(10)).await;
        let client = client(HttpConnector::new());
        for path in ["/a", "/b"] {
            let (status, body, info) = get(&client, &format!("http://{addr}{path}")).await;
            assert_eq!((status, body.as_str()), (StatusCode::OK, format!("hello from {path}").as_str()));
            assert_eq!(info.expect("HttpInfo in the response's extensions").remote_addr(), addr);
        }
    });
}

#[test]
fn the_connector_resolves_a_host_name_on_the_blocking_pool() {
    on_both_flavors(|| async {
        let addr = serve(Duration::from_secs(10)).await;
        let (status, body, _) = get(&client(HttpConnector::new()), &format!("http://localhost:{}/named", addr.port())).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "hello from /named"));
    });
}

#[test]
fn the_connector_refuses_uris_it_cannot_dial_with_a_clear_error() {
    use tower_service::Service;
    on_both_flavors(|| async {
        let mut connector = HttpConnector::new();
        for (uri, why) in [("https://127.0.0.1/", "not `http`"), ("/relative", "no scheme")] {
            let uri = uri.parse::<Uri>().unwrap();
            let err = connector.call(uri).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            assert!(err.to_string().contains(why), "{err}");
        }
        // Without the scheme check, https goes to port 443 (nothing listens there: refused).
        connector.enforce_http(false);
        let err = connector.call("https://127.0.0.1/".parse().unwrap()).await.unwrap_err();
        assert!(err.to_string().contains("127.0.0.1:443"), "{err}");
    });
}

/// A listener whose accept queue is full: a further connect's SYN is dropped, so the connect
/// neither succeeds nor fails until the kernel gives up (minutes). Keep the returned values.
async fn unresponsive(addr: &str) -> Option<(TcpListener, TcpStream, SocketAddr)> {
    let addr: SocketAddr = addr.parse().unwrap();
    let socket = if addr.is_ipv6() { TcpSocket::new_v6() } else { TcpSocket::new_v4() }.ok()?;
    socket.bind(addr).ok()?; // no IPv6 loopback on this machine: the caller skips
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    // Backlog 0 holds one connection; this one fills the queue.
    let filler = TcpStream::connect(addr).await.unwrap();
    Some((listener, filler, addr))
}

#[test]
fn the_connect_timeout_ends_an_attempt_that_gets_no_answer() {
    on_both_flavors(|| async {
        let (_listener, _filler, addr) = unresponsive("127.0.0.1:0").await.unwrap();
        let err = connect_any(vec![addr], Some(Duration::from_millis(100)), None).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    });
}

#[test]
fn happy_eyeballs_tries_ipv4_alongside_an_ipv6_address_that_does_not_answer() {
    on_both_flavors(|| async {
        let Some((_listener, _filler, v6)) = unresponsive("[::1]:0").await else {
            eprintln!("no IPv6 loopback: skipped");
            return;
        };
        let ok = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let v4 = ok.local_addr().unwrap();
        // Without the fallback, the IPv6 attempt would hang for minutes (the test's LIMIT fails it).
        let stream = connect_any(vec![v6, v4], None, Some(Duration::from_millis(50))).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), v4);
    });
}

#[test]
fn happy_eyeballs_falls_back_at_once_when_the_preferred_family_is_refused() {
    on_both_flavors(|| async {
        let refused = {
            let l = std::net::TcpListener::bind("[::1]:0");
            let Ok(l) = l else {
                eprintln!("no IPv6 loopback: skipped");
                return;
            };
            l.local_addr().unwrap() // closed when `l` drops: connecting is refused
        };
        let ok = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let v4 = ok.local_addr().unwrap();
        // A delay longer than LIMIT: only falling back at once can pass.
        let stream = connect_any(vec![refused, v4], None, Some(LIMIT * 2)).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), v4);
        // Both families refused: both errors are in the message.
        drop(ok);
        let err = connect_any(vec![refused, v4], None, Some(LIMIT * 2)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert!(err.to_string().contains(&refused.to_string()) && err.to_string().contains(&v4.to_string()), "{err}");
    });
}

/// The timer drives hyper's `header_read_timeout`: a client that never finishes its request
/// head is disconnected (the test's LIMIT is far below hyper's 30 s default).
#[test]
fn header_read_timeout_closes_a_connection_whose_head_never_completes() {
    on_both_flavors(|| async {
        let addr = serve(Duration::from_millis(200)).await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap(); // no blank line
        let start = Instant::now();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await; // EOF (or a reset) once the server gives up
        assert!(start.elapsed() >= Duration::from_millis(200), "closed before the timeout");
        // hyper answers 408 Request Timeout before closing.
        assert!(rest.is_empty() || String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 408"), "{:?}", String::from_utf8_lossy(&rest));
    });
}

#[test]
fn timer_reset_moves_a_sleep_of_its_own_and_replaces_a_foreign_one() {
    struct Foreign;
    impl Future for Foreign {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
            std::task::Poll::Pending
        }
    }
    impl ::hyper::rt::Sleep for Foreign {}

    on_both_flavors(|| async {
        let timer = Timer::new();
        let mut ours = timer.sleep(Duration::from_secs(3600));
        timer.reset(&mut ours, Instant::now() + Duration::from_millis(5));
        ours.await;
        let mut foreign: Pin<Box<dyn ::hyper::rt::Sleep>> = Box::pin(Foreign);
        timer.reset(&mut foreign, Instant::now() + Duration::from_millis(5));
        foreign.await;
    });
}

#[test]
fn the_executor_runs_what_hyper_hands_it_as_a_task() {
    use ::hyper::rt::Executor as _;
    on_both_flavors(|| async {
        let (tx, rx) = crate::sync::oneshot::channel();
        Executor::new().execute(async move { tx.send(42).unwrap() });
        // A dropped future would drop `tx`: an error here.
        assert_eq!(rx.await, Ok(42));
    });
}

/// hyper's read buffer is handed out uninitialised: the read fills exactly what it received,
/// and the rest of the buffer is left as it was (not zeroed first).
#[test]
fn io_reads_into_hypers_buffer_without_touching_the_rest() {
    on_both_flavors(|| async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let mut io = Io::new(b);
        a.write_all(b"head").await.unwrap();
        // A recognisable pattern where the buffer is "uninitialised", so it can be read back.
        let mut storage = [MaybeUninit::new(0xAAu8); 64];
        let mut buf = ReadBuf::uninit(&mut storage);
        poll_fn(|cx| Pin::new(&mut io).poll_read(cx, buf.unfilled())).await.unwrap();
        assert_eq!(buf.filled(), b"head");
        // SAFETY: every byte of `storage` was initialised (to 0xAA) before the read.
        let after: Vec<u8> = storage[4..].iter().map(|b| unsafe { b.assume_init() }).collect();
        assert!(after.iter().all(|&b| b == 0xAA), "the read wrote past what it received: {after:?}");

        // End of file: a read that fills nothing.
        drop(a);
        let mut storage = [MaybeUninit::uninit(); 8];
        let mut buf = ReadBuf::uninit(&mut storage);
        poll_fn(|cx| Pin::new(&mut io).poll_read(cx, buf.unfilled())).await.unwrap();
        assert!(buf.filled().is_empty());
    });
}

#[test]
fn io_writes_are_vectored_and_shutdown_ends_the_stream() {
    on_both_flavors(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let mut b = listener.accept().await.unwrap().0;
        let mut io = Io::new(a);
        assert!(io.is_write_vectored());
        let bufs = [IoSlice::new(b"HTTP/1.1 200 OK\r\n\r\n"), IoSlice::new(b"body")];
        let n = poll_fn(|cx| Pin::new(&mut io).poll_write_vectored(cx, &bufs)).await.unwrap();
        assert_eq!(n, 23, "loopback takes both buffers in one call");
        poll_fn(|cx| Pin::new(&mut io).poll_shutdown(cx)).await.unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"HTTP/1.1 200 OK\r\n\r\nbody");
    });
}
