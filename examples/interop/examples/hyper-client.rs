//! An HTTP/1.1 client on hyper-util's `Client`, on this runtime: `runtime::hyper::HttpConnector`
//! opens the connections (name resolved on the blocking pool, IPv6 / IPv4 fallback, a connect
//! timeout), `Executor` and `Timer` run the connection pool.
//!
//! ```text
//! cargo run -p interop --example hyper-server &
//! cargo run -p interop --example hyper-client -- http://127.0.0.1:3000/
//! ```
//!
//! It prints the status line, the headers and the body, and exits with status 1 on an error.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Response, Uri};
use hyper_util::client::legacy::Client;
use runtime::hyper::{Executor, HttpConnector, Timer};
use std::process::ExitCode;
use std::time::Duration;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[runtime::main]
async fn main() -> ExitCode {
    let uri = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:3000/".to_owned());
    let uri: Uri = match uri.parse() {
        Ok(uri) => uri,
        Err(e) => {
            eprintln!("hyper-client: `{uri}` is not a URI: {e}\nusage: hyper-client [http://HOST:PORT/PATH]");
            return ExitCode::from(2);
        }
    };
    match fetch(uri).await {
        Ok(response) => {
            println!("{:?} {}", response.version(), response.status());
            for (name, value) in response.headers() {
                println!("{name}: {}", value.to_str().unwrap_or("<not text>"));
            }
            println!();
            print!("{}", String::from_utf8_lossy(response.body()));
            ExitCode::SUCCESS
        }
        Err(e) => {
            // hyper-util's error names the stage ("client error (Connect)"); its sources say why.
            let mut message = e.to_string();
            let mut source = e.source();
            while let Some(cause) = source {
                message += &format!(": {cause}");
                source = cause.source();
            }
            eprintln!("hyper-client: {message}");
            ExitCode::FAILURE
        }
    }
}

/// GETs `uri` and reads the whole body.
pub async fn fetch(uri: Uri) -> Result<Response<Bytes>, Error> {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(Duration::from_secs(10)));
    connector.set_nodelay(true);
    let client: Client<_, Empty<Bytes>> = Client::builder(Executor::new()).timer(Timer::new()).pool_timer(Timer::new()).build(connector);
    let (head, body) = client.get(uri).await?.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Response::from_parts(head, body))
}
