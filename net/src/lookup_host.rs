//! [`lookup_host`]: resolve a host name to socket addresses.

use crate::addr::ToSocketAddrs;
use std::io;
use std::net::SocketAddr;

/// Resolves `host` (`"example.com:443"`, `("localhost", 80)`, a literal address…) to the
/// socket addresses it names, in the resolver's order (tokio's `net::lookup_host`). A literal
/// address resolves at once; a host name is looked up with the system resolver
/// (`getaddrinfo`) on the runtime's blocking pool, so the calling task's thread keeps running
/// other tasks meanwhile.
///
/// ```
/// let rt = executor::runtime::Builder::new_current_thread().build()?;
/// rt.block_on(async {
///     let addrs: Vec<_> = net::lookup_host("127.0.0.1:80").await?.collect();
///     assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
///     assert!(net::lookup_host("localhost:80").await?.all(|a| a.ip().is_loopback()));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
///
/// The resolver's error (an unknown host, an address without a port: `InvalidInput`).
///
/// # Panics
///
/// For a host name, outside a runtime context.
pub async fn lookup_host<T: ToSocketAddrs>(host: T) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(crate::addr::sealed::Sealed::resolve(&host).addrs().await?.into_iter())
}
