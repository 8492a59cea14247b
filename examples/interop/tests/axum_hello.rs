//! The `axum-hello` example's `serve` and routes, against clients on loopback: answers, then a
//! graceful shutdown that lets a request in flight finish.

#[allow(dead_code)] // its `main`
#[path = "../examples/axum-hello.rs"]
mod axum_hello;
mod util;

use axum::routing::get;
use hyper::StatusCode;
use runtime::io::{AsyncReadExt, AsyncWriteExt};
use runtime::net::{TcpListener, TcpStream};
use runtime::sync::{oneshot, Notify};
use std::sync::Arc;
use util::{on_both_flavors, Http};

#[test]
fn axum_hello_routes_answer() {
    on_both_flavors(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = runtime::spawn(axum_hello::serve(listener, axum_hello::app(), async move {
            let _ = stopped.await;
        }));
        let http = Http::new();
        assert_eq!(http.get(addr, "/").await, (StatusCode::OK, "Hello, World!\n".into()));
        assert_eq!(http.get(addr, "/hello/ferris").await, (StatusCode::OK, "Hello, ferris!\n".into()));
        assert_eq!(http.get(addr, "/nope").await.0, StatusCode::NOT_FOUND);
        drop(http); // its pooled connection would otherwise be drained too
        stop.send(()).unwrap();
        assert_eq!(server.await.unwrap().unwrap(), 0);
    });
}

/// On shutdown: the listener closes, an idle keep-alive connection is closed, and a request
/// in flight gets its whole response before its connection closes; `serve` then returns 0
/// (every connection finished).
#[test]
fn axum_hello_shuts_down_gracefully() {
    on_both_flavors(|| async {
        let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let (s, r) = (started.clone(), release.clone());
        let app = axum_hello::app().route(
            "/slow",
            get(move || async move {
                s.notify_one();
                r.notified().await;
                "finished\n"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = runtime::spawn(axum_hello::serve(listener, app, async move {
            let _ = stopped.await;
        }));

        // An idle keep-alive connection (one request answered, then nothing).
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut head = [0u8; 12];
        idle.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");

        // A request in flight.
        let mut busy = TcpStream::connect(addr).await.unwrap();
        busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        started.notified().await;

        stop.send(()).unwrap();
        // The idle connection is closed without waiting for the busy one.
        let mut rest = Vec::new();
        idle.read_to_end(&mut rest).await.unwrap();
        assert!(!String::from_utf8_lossy(&rest).contains("HTTP/1.1"), "no second response: {rest:?}");
        // The listener is gone: nothing more is accepted.
        assert!(TcpStream::connect(addr).await.is_err(), "a connection was accepted after the shutdown");

        release.notify_one();
        let mut answer = String::new();
        busy.read_to_string(&mut answer).await.unwrap(); // complete, then closed
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("finished\n"), "{answer}");
        assert_eq!(server.await.unwrap().unwrap(), 0, "a connection was still open after the drain");
    });
}
