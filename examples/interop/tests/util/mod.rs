//! What every example test shares: both flavors, a time bound, an HTTP client.

#![allow(dead_code)] // each test file uses its own part

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use runtime::hyper::{Executor, HttpConnector, Timer};
use runtime::time::timeout;
use runtime::{Builder, Runtime};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

/// Every test's bound: a hang fails the test instead of the run.
pub const LIMIT: Duration = Duration::from_secs(30);

fn runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        ("current_thread", Builder::new_current_thread().enable_all().build().unwrap()),
        ("multi_thread", Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()),
    ]
}

/// Runs `test` (within [`LIMIT`]) on a current-thread and on a multi-thread runtime.
pub fn on_both_flavors<F, Fut>(test: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    for (flavor, rt) in runtimes() {
        rt.block_on(async { timeout(LIMIT, test()).await.unwrap_or_else(|_| panic!("{flavor}: the test did not finish in {LIMIT:?}")) });
    }
}

/// An HTTP/1 client on the runtime (hyper-util's legacy `Client` over `HttpConnector`).
pub struct Http(Client<HttpConnector, Full<Bytes>>);

impl Http {
    pub fn new() -> Http {
        Http(Client::builder(Executor::new()).timer(Timer::new()).pool_timer(Timer::new()).build(HttpConnector::new()))
    }

    /// Sends `method path` with `body` to `addr`: the status and the body as text.
    pub async fn send(&self, addr: SocketAddr, method: Method, path: &str, body: &'static str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
        let response = self.0.request(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    pub async fn get(&self, addr: SocketAddr, path: &str) -> (StatusCode, String) {
        self.send(addr, Method::GET, path, "").await
    }
}
