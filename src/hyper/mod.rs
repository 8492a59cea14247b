//! hyper on this runtime (feature `hyper`): what hyper-util's `rt::tokio` module and
//! `HttpConnector` give a tokio program, so hyper servers and clients — and axum, through
//! hyper — run here without glue code.
//!
//! | hyper needs | here | hyper-util's tokio piece |
//! |---|---|---|
//! | `rt::Executor` (HTTP/2, the client's connection tasks) | [`Executor`] | `TokioExecutor` |
//! | `rt::Timer` (`header_read_timeout`, keep-alive, pool idle) | [`Timer`] | `TokioTimer` |
//! | `rt::Read` + `rt::Write` | [`Io`] over a [`TcpStream`](crate::net::TcpStream) or [`UnixStream`](crate::net::UnixStream) | `TokioIo` |
//! | a connector for `client::legacy::Client` | [`HttpConnector`] | `HttpConnector` |
//!
//! Porting from tokio is a change of imports: `TokioIo::new(stream)` → `Io::new(stream)`,
//! `TokioExecutor::new()` → `Executor::new()`, `TokioTimer::new()` → `Timer::new()`.
//!
//! The feature turns on hyper's `http1`, `server` and `client` features and hyper-util's
//! `client-legacy` (never hyper-util's `tokio` feature, so no tokio runtime, driver or timer is
//! built); HTTP/2 is hyper's `http2` feature, enabled in your own `Cargo.toml` (feature
//! unification turns it on for this crate's hyper too), and [`Executor`] is what its builders
//! take. hyper itself always depends on tokio for its `sync` module, and hyper-util's legacy
//! client on tokio's `net` types; neither starts anything.
//!
//! # A server
//!
//! ```
//! use hyper::body::{Bytes, Incoming};
//! use hyper::server::conn::http1;
//! use hyper::{service::service_fn, Request, Response};
//! use http_body_util::Full;
//! use runtime::hyper::{Io, Timer};
//! use runtime::net::TcpListener;
//! use std::convert::Infallible;
//! use std::time::Duration;
//!
//! async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from("Hello, World!\n"))))
//! }
//!
//! # async fn serve() -> std::io::Result<()> {
//! let listener = TcpListener::bind("127.0.0.1:3000").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     runtime::spawn(async move {
//!         let conn = http1::Builder::new()
//!             .timer(Timer::new())                             // for header_read_timeout
//!             .header_read_timeout(Duration::from_secs(10))
//!             .serve_connection(Io::new(stream), service_fn(hello));
//!         if let Err(e) = conn.await {
//!             eprintln!("connection: {e}");
//!         }
//!     });
//! }
//! # }
//! ```
//!
//! A client is in [`HttpConnector`]'s docs; whole programs (an axum `Router` with graceful
//! shutdown among them) are the `hyper-server`, `hyper-client` and `axum-hello` examples in
//! `examples/interop/`.

mod connect;
mod executor;
mod io;
mod timer;

pub use connect::{Connecting, HttpConnector, HttpInfo};
pub use executor::Executor;
pub use io::{Io, Stream};
pub use timer::Timer;

#[cfg(test)]
mod tests;
