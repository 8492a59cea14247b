//! The `hyper-server` example's `serve`, against a client on loopback.

#[allow(dead_code)] // its `main`
#[path = "../examples/hyper-server.rs"]
mod hyper_server;
mod util;

use hyper::{Method, StatusCode};
use runtime::io::{AsyncReadExt, AsyncWriteExt};
use runtime::net::{TcpListener, TcpStream};
use util::{on_both_flavors, Http};

async fn start() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    runtime::spawn(hyper_server::serve(listener));
    addr
}

#[test]
fn hyper_server_greets_echoes_and_answers_404() {
    on_both_flavors(|| async {
        let addr = start().await;
        let http = Http::new();
        assert_eq!(http.get(addr, "/").await, (StatusCode::OK, "Hello, World!\n".into()));
        assert_eq!(http.send(addr, Method::POST, "/echo", "echo me").await, (StatusCode::OK, "echo me".into()));
        assert_eq!(http.get(addr, "/nope").await.0, StatusCode::NOT_FOUND);
    });
}

#[test]
fn hyper_server_answers_pipelined_requests_on_one_connection_in_order() {
    on_both_flavors(|| async {
        let addr = start().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\npingGET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap(); // the server closes after the third
        let statuses: Vec<_> = answer.match_indices("HTTP/1.1 ").map(|(i, _)| &answer[i + 9..i + 12]).collect();
        assert_eq!(statuses, ["200", "200", "404"], "{answer}");
        let (greeting, echo) = (answer.find("Hello, World!\n").unwrap(), answer.find("\r\n\r\nping").unwrap());
        assert!(greeting < echo, "{answer}");
    });
}
