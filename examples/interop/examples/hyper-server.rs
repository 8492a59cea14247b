//! An HTTP/1.1 server on hyper, on this runtime: `runtime::hyper::Io` puts each accepted
//! `TcpStream` under hyper, `runtime::hyper::Timer` drives the header-read timeout.
//!
//! ```text
//! cargo run -p interop --example hyper-server                        # 127.0.0.1:3000
//! cargo run -p interop --example hyper-server -- --addr 127.0.0.1:0  # any free port
//! curl http://127.0.0.1:3000/                                        # Hello, World!
//! curl --data-binary 'echo me' http://127.0.0.1:3000/echo            # echo me
//! ```
//!
//! Keep-alive and pipelining are hyper's. A client that does not finish sending its request
//! head within 10 s gets `408 Request Timeout` and is disconnected.

use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use runtime::hyper::{Io, Timer};
use runtime::net::TcpListener;
use std::time::Duration;

/// How long a client may take to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

#[runtime::main]
async fn main() -> std::io::Result<()> {
    let addr = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => "127.0.0.1:3000".to_owned(),
        [flag, addr] if flag == "--addr" => addr.clone(),
        _ => {
            eprintln!("usage: hyper-server [--addr HOST:PORT]   (default 127.0.0.1:3000)");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind(addr.as_str()).await?;
    println!("hyper-server listening on http://{}", listener.local_addr()?);
    serve(listener).await
}

/// Serves HTTP/1.1 on every connection `listener` accepts, one task each; returns only if
/// accepting fails.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        runtime::spawn(async move {
            let conn = http1::Builder::new()
                .timer(Timer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(Io::new(stream), service_fn(handle));
            if let Err(e) = conn.await {
                eprintln!("hyper-server: {peer}: {e}");
            }
        });
    }
}

type Body = BoxBody<Bytes, hyper::Error>;

/// `GET /`: a greeting; `POST /echo`: the request body, streamed back as it arrives; else 404.
async fn handle(request: Request<Incoming>) -> Result<Response<Body>, hyper::Error> {
    Ok(match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => Response::new(full("Hello, World!\n")),
        (&Method::POST, "/echo") => Response::new(request.into_body().boxed()),
        _ => {
            let mut not_found = Response::new(full("not found\n"));
            *not_found.status_mut() = StatusCode::NOT_FOUND;
            not_found
        }
    })
}

fn full(text: &'static str) -> Body {
    Full::new(Bytes::from_static(text.as_bytes())).map_err(|never| match never {}).boxed()
}
