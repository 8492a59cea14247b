//! The `hyper-client` example's `fetch`, against the `hyper-server` example on loopback.

#[allow(dead_code)] // its `main`
#[path = "../examples/hyper-client.rs"]
mod hyper_client;
#[allow(dead_code)]
#[path = "../examples/hyper-server.rs"]
mod hyper_server;
mod util;

use hyper::StatusCode;
use runtime::net::TcpListener;
use util::on_both_flavors;

#[test]
fn hyper_client_fetches_a_page_by_address_and_by_name() {
    on_both_flavors(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        runtime::spawn(hyper_server::serve(listener));
        for uri in [format!("http://{addr}/"), format!("http://localhost:{}/", addr.port())] {
            let response = hyper_client::fetch(uri.parse().unwrap()).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()["content-length"], "14");
            assert_eq!(&response.body()[..], b"Hello, World!\n");
        }
    });
}

#[test]
fn hyper_client_reports_a_refused_connection() {
    on_both_flavors(|| async {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let err = hyper_client::fetch(format!("http://{closed}/").parse().unwrap()).await.unwrap_err();
        // hyper-util's error says "client error (Connect)"; the connector's own is its source.
        let mut chain = err.to_string();
        let mut source = err.source();
        while let Some(e) = source {
            chain += &format!(": {e}");
            source = e.source();
        }
        assert!(chain.contains(&closed.to_string()) && chain.contains("refused"), "{chain}");
    });
}
