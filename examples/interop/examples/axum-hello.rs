//! An axum `Router` served through hyper on this runtime, with a graceful shutdown on Ctrl-C.
//!
//! `axum::serve` needs a tokio runtime; serving a `Router` is a few lines of hyper instead:
//! each accepted `TcpStream` goes under hyper as a `runtime::hyper::Io`, and hyper-util's
//! `TowerToHyperService` turns the router (a tower `Service`) into hyper's kind of service.
//!
//! ```text
//! cargo run -p interop --example axum-hello                          # 127.0.0.1:3001
//! curl http://127.0.0.1:3001/                                        # Hello, World!
//! curl http://127.0.0.1:3001/hello/ferris                            # Hello, ferris!
//! ```
//!
//! On Ctrl-C it stops accepting, lets every connection finish the request it is serving (idle
//! keep-alive connections are closed at once), waits up to 10 s for them, and exits.

use axum::extract::Path;
use axum::routing::get;
use axum::Router;
use futures::future::{select, Either};
use hyper::server::conn::http1;
use hyper_util::service::TowerToHyperService;
use runtime::hyper::{Io, Timer};
use runtime::net::TcpListener;
use runtime::sync::watch;
use std::future::Future;
use std::pin::pin;
use std::time::Duration;

/// How long a client may take to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a shutdown waits for connections to finish their requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

#[runtime::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:3001").await?;
    println!("axum-hello listening on http://{}", listener.local_addr()?);
    let ctrl_c = async {
        if let Err(e) = runtime::signal::ctrl_c().await {
            eprintln!("axum-hello: cannot listen for Ctrl-C ({e}); stop it another way");
            std::future::pending::<()>().await;
        }
        println!("axum-hello: Ctrl-C: shutting down");
    };
    let unfinished = serve(listener, app(), ctrl_c).await?;
    println!("axum-hello: stopped ({unfinished} connection(s) cut off)");
    Ok(())
}

/// The routes.
pub fn app() -> Router {
    Router::new().route("/", get(|| async { "Hello, World!\n" })).route("/hello/{name}", get(hello))
}

async fn hello(Path(name): Path<String>) -> String {
    format!("Hello, {name}!\n")
}

/// Serves `app` on `listener` until `shutdown` completes, then shuts down gracefully: no new
/// connection is accepted, each open one finishes the request it is serving and closes. Returns
/// how many connections were still open when [`DRAIN_TIMEOUT`] ran out (0: all finished).
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) -> std::io::Result<usize> {
    // Every connection task holds a receiver: `send` tells them all to stop, and `closed`
    // completes once every one of them has dropped its receiver (finished).
    let (stop, stopping) = watch::channel(());
    let accept = async {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("axum-hello: accept: {e}");
                    // Typically EMFILE: give connections a moment to close before trying again.
                    runtime::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let service = TowerToHyperService::new(app.clone());
            let mut stopping = stopping.clone();
            runtime::spawn(async move {
                let conn = http1::Builder::new()
                    .timer(Timer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .serve_connection(Io::new(stream), service);
                let mut conn = pin!(conn);
                let result = match select(conn.as_mut(), pin!(stopping.changed())).await {
                    Either::Left((result, _)) => result,
                    Either::Right(_) => {
                        // Finish the request in flight (if any), then close.
                        conn.as_mut().graceful_shutdown();
                        conn.await
                    }
                };
                if let Err(e) = result {
                    eprintln!("axum-hello: {peer}: {e}");
                }
                drop(stopping);
            });
        }
    };
    match select(pin!(accept), pin!(shutdown)).await {
        Either::Left((never, _)) => never,
        Either::Right(((), _)) => {}
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(());
    let drained = runtime::time::timeout(DRAIN_TIMEOUT, stop.closed()).await.is_ok();
    Ok(if drained { 0 } else { stop.receiver_count() })
}
