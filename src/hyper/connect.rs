//! [`HttpConnector`]: TCP connections for hyper-util's legacy `Client`, with the name resolved
//! on the blocking pool, IPv6 / IPv4 fallback ("happy eyeballs") and a connect timeout.

use super::Io;
use crate::net::{TcpStream, UnixStream};
use futures::future::{select, Either};
use hyper_util::client::legacy::connect::{Connected, Connection};
use std::fmt;
use std::future::Future;
use std::io::{self, ErrorKind};
use std::net::{IpAddr, SocketAddr};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// How long the preferred address family gets before the other one is tried alongside it.
/// RFC 8305 recommends 250 ms; 300 ms is hyper-util's `HttpConnector` default, kept so a port
/// from it behaves the same.
const HAPPY_EYEBALLS_DELAY: Duration = Duration::from_millis(300);

/// Opens TCP connections to `http://` URIs for hyper-util's legacy
/// [`Client`](hyper_util::client::legacy::Client): a `tower_service::Service<Uri>` answering
/// [`Io<TcpStream>`](Io). hyper-util's `HttpConnector`, here.
///
/// 1. **The URI**: `http://host[:port]` (port 80 by default). Another scheme is an
///    `InvalidInput` error unless [`enforce_http(false)`](HttpConnector::enforce_http) (then
///    `https` defaults to port 443, and TLS is the caller's layer on top).
/// 2. **The name** is resolved with the system resolver (`getaddrinfo`, which blocks) on the
///    runtime's blocking pool; an IP literal is not resolved.
/// 3. **The addresses** are tried in the resolver's order, grouped by family: the family of the
///    first address is preferred. If its attempts have not connected within the happy-eyeballs
///    delay (300 ms, [`set_happy_eyeballs_timeout`](HttpConnector::set_happy_eyeballs_timeout)),
///    the other family's addresses are tried alongside, and the first connection wins (RFC 8305's
///    idea, as hyper-util does it). When the preferred family fails outright, the other is tried
///    at once.
/// 4. **The connect timeout** ([`set_connect_timeout`](HttpConnector::set_connect_timeout),
///    none by default) is divided evenly among the addresses, so one unreachable address cannot
///    use it all up; an attempt that runs out fails with `TimedOut`.
///
/// The response carries [`HttpInfo`] (the connection's addresses) in its extensions.
///
/// ```
/// use http_body_util::{BodyExt, Empty};
/// use hyper::body::Bytes;
/// use hyper_util::client::legacy::Client;
/// use runtime::hyper::{Executor, HttpConnector, Timer};
/// use std::time::Duration;
///
/// # async fn get() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let mut connector = HttpConnector::new();
/// connector.set_connect_timeout(Some(Duration::from_secs(5)));
/// let client: Client<_, Empty<Bytes>> = Client::builder(Executor::new()).timer(Timer::new()).pool_timer(Timer::new()).build(connector);
/// let response = client.get("http://127.0.0.1:3000/".parse()?).await?;
/// println!("{}: {:?}", response.status(), response.into_body().collect().await?.to_bytes());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct HttpConnector {
    config: Arc<Config>,
}

#[derive(Clone, Debug)]
struct Config {
    connect_timeout: Option<Duration>,
    happy_eyeballs_timeout: Option<Duration>,
    nodelay: bool,
    enforce_http: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config { connect_timeout: None, happy_eyeballs_timeout: Some(HAPPY_EYEBALLS_DELAY), nodelay: false, enforce_http: true }
    }
}

impl HttpConnector {
    /// A connector with the defaults: no connect timeout, a 300 ms happy-eyeballs delay,
    /// Nagle's algorithm on (`TCP_NODELAY` off), `http://` only.
    pub fn new() -> HttpConnector {
        HttpConnector::default()
    }

    /// Bounds each connection: the time is divided evenly among the addresses the name
    /// resolved to. `None` (the default): no bound but the kernel's own.
    pub fn set_connect_timeout(&mut self, timeout: Option<Duration>) {
        Arc::make_mut(&mut self.config).connect_timeout = timeout;
    }

    /// How long the preferred address family gets before the other is tried alongside it.
    /// `None`: every address is tried in turn, one at a time.
    pub fn set_happy_eyeballs_timeout(&mut self, delay: Option<Duration>) {
        Arc::make_mut(&mut self.config).happy_eyeballs_timeout = delay;
    }

    /// Sets `TCP_NODELAY` on every connection (off by default).
    pub fn set_nodelay(&mut self, nodelay: bool) {
        Arc::make_mut(&mut self.config).nodelay = nodelay;
    }

    /// Whether URIs must be `http://` (the default). Off, any scheme connects (`https`
    /// to port 443 by default) — for a TLS connector layered on this one.
    pub fn enforce_http(&mut self, enforce: bool) {
        Arc::make_mut(&mut self.config).enforce_http = enforce;
    }
}

impl tower_service::Service<::hyper::Uri> for HttpConnector {
    type Response = Io<TcpStream>;
    type Error = io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: ::hyper::Uri) -> Connecting {
        let config = self.config.clone();
        Connecting(Box::pin(async move { connect(&config, &dst).await }))
    }
}

/// The future of a connection by [`HttpConnector`].
pub struct Connecting(Pin<Box<dyn Future<Output = io::Result<Io<TcpStream>>> + Send>>);

impl Future for Connecting {
    type Output = io::Result<Io<TcpStream>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for Connecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Connecting")
    }
}

/// The addresses of a connection made by [`HttpConnector`], in each response's extensions
/// (`response.extensions().get::<HttpInfo>()`); hyper-util's `HttpInfo`, here.
#[derive(Clone, Copy, Debug)]
pub struct HttpInfo {
    remote_addr: SocketAddr,
    local_addr: SocketAddr,
}

impl HttpInfo {
    /// The server's address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Connection for Io<TcpStream> {
    fn connected(&self) -> Connected {
        let connected = Connected::new();
        match (self.inner().peer_addr(), self.inner().local_addr()) {
            (Ok(remote_addr), Ok(local_addr)) => connected.extra(HttpInfo { remote_addr, local_addr }),
            _ => connected,
        }
    }
}

/// For a connector of the caller's own that dials Unix sockets.
impl Connection for Io<UnixStream> {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

async fn connect(config: &Config, dst: &::hyper::Uri) -> io::Result<Io<TcpStream>> {
    let (host, port) = host_and_port(dst, config.enforce_http)?;
    let addrs = resolve(host, port).await?;
    let stream = connect_any(addrs, config.connect_timeout, config.happy_eyeballs_timeout).await?;
    if config.nodelay {
        stream.set_nodelay(true)?;
    }
    Ok(Io::new(stream))
}

/// The host (an IPv6 literal without its brackets) and port to connect to for `dst`.
fn host_and_port(dst: &::hyper::Uri, enforce_http: bool) -> io::Result<(String, u16)> {
    let invalid = |why: String| io::Error::new(ErrorKind::InvalidInput, format!("cannot connect to `{dst}`: {why}"));
    let scheme = dst.scheme_str();
    match scheme {
        Some("http") => {}
        Some(other) if enforce_http => {
            return Err(invalid(format!("the scheme is `{other}`, not `http` (see HttpConnector::enforce_http)")))
        }
        None if enforce_http => return Err(invalid("the URI has no scheme (expected `http://`)".into())),
        _ => {}
    }
    let host = dst.host().filter(|h| !h.is_empty()).ok_or_else(|| invalid("the URI has no host".into()))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let port = match dst.port_u16() {
        Some(port) => port,
        None if scheme == Some("https") => 443,
        None => 80,
    };
    Ok((host.to_owned(), port))
}

/// The addresses `host` names: an IP literal at once, a name through `getaddrinfo` on the
/// blocking pool (it blocks).
async fn resolve(host: String, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let lookup = crate::spawn_blocking(move || {
        let addrs: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            .map_err(|e| io::Error::new(e.kind(), format!("cannot resolve `{host}`: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(io::Error::new(ErrorKind::NotFound, format!("`{host}` resolved to no address")));
        }
        Ok(addrs)
    });
    lookup.await.map_err(|e| io::Error::other(format!("address resolution did not complete: {e}")))?
}

/// Connects to one of `addrs`: the first address's family first, the other family alongside
/// once `happy_eyeballs` has passed (or at once when the first family fails).
pub(super) async fn connect_any(
    addrs: Vec<SocketAddr>,
    timeout: Option<Duration>,
    happy_eyeballs: Option<Duration>,
) -> io::Result<TcpStream> {
    // `addrs` is never empty (`resolve` refuses that), so the division is by at least 1.
    let per_address = timeout.map(|t| t / u32::try_from(addrs.len()).unwrap_or(u32::MAX));
    let first_is_v6 = addrs.first().is_some_and(SocketAddr::is_ipv6);
    let (preferred, fallback): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|a| a.is_ipv6() == first_is_v6);
    let Some(delay) = happy_eyeballs.filter(|_| !fallback.is_empty()) else {
        return connect_in_turn(preferred.into_iter().chain(fallback).collect(), per_address).await;
    };

    let mut preferred = pin!(connect_in_turn(preferred, per_address));
    let fallback = connect_in_turn(fallback, per_address);
    match select(preferred.as_mut(), pin!(crate::time::sleep(delay))).await {
        Either::Left((Ok(stream), _)) => Ok(stream),
        // The preferred family failed before the delay: the other one is the only chance.
        Either::Left((Err(first), _)) => fallback.await.map_err(|second| both(first, second)),
        // Still connecting: race the two families; the first connection wins.
        Either::Right(((), _)) => match select(preferred, pin!(fallback)).await {
            Either::Left((Ok(stream), _)) | Either::Right((Ok(stream), _)) => Ok(stream),
            Either::Left((Err(first), fallback)) => fallback.await.map_err(|second| both(first, second)),
            Either::Right((Err(second), preferred)) => preferred.await.map_err(|first| both(first, second)),
        },
    }
}

/// Both families' errors in one, with the preferred family's kind.
fn both(first: io::Error, second: io::Error) -> io::Error {
    io::Error::new(first.kind(), format!("{first}; {second}"))
}

/// Tries each address in order, each within `per_address`; the last error if none connects.
async fn connect_in_turn(addrs: Vec<SocketAddr>, per_address: Option<Duration>) -> io::Result<TcpStream> {
    let mut last = io::Error::new(ErrorKind::InvalidInput, "no address to connect to");
    for addr in addrs {
        let attempt = match per_address {
            Some(limit) => crate::time::timeout(limit, TcpStream::connect(addr))
                .await
                .unwrap_or_else(|_| Err(io::Error::new(ErrorKind::TimedOut, format!("timed out after {limit:?}")))),
            None => TcpStream::connect(addr).await,
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) => last = io::Error::new(e.kind(), format!("connect to {addr}: {e}")),
        }
    }
    Err(last)
}
