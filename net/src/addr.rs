//! [`ToSocketAddrs`]: what `bind`, `connect` and `send_to` accept.
//!
//! Like tokio's: a `SocketAddr`, an `(IpAddr, u16)`, a `"host:port"` string, a slice of
//! addresses… Literal addresses resolve at once; a host name is resolved with the system
//! resolver (`getaddrinfo`, which blocks) on the runtime's blocking pool, so the worker thread
//! keeps running tasks meanwhile.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Types that resolve to one or more socket addresses (sealed: implemented for the same types
/// as `std::net::ToSocketAddrs`).
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    use super::*;

    /// The resolution, hidden from users.
    pub trait Sealed {
        #[doc(hidden)]
        fn resolve(&self) -> Resolve;
    }
}

/// A resolution in progress: either already done, or a host-name lookup on the blocking pool.
#[doc(hidden)]
pub enum Resolve {
    Done(io::Result<Vec<SocketAddr>>),
    Lookup(String),
}

impl Resolve {
    /// The addresses, in the order the resolver gave them.
    pub(crate) async fn addrs(self) -> io::Result<Vec<SocketAddr>> {
        match self {
            Resolve::Done(res) => res,
            Resolve::Lookup(host) => {
                let lookup = executor::task::spawn_blocking(move || std::net::ToSocketAddrs::to_socket_addrs(&host).map(Iterator::collect));
                match lookup.await {
                    Ok(res) => res,
                    Err(e) => Err(io::Error::other(format!("address resolution did not complete: {e}"))),
                }
            }
        }
    }
}

/// Resolves `addr` to every address it names (an error if it names none).
pub(crate) async fn resolve<A: ToSocketAddrs + ?Sized>(addr: &A) -> io::Result<Vec<SocketAddr>> {
    let addrs = addr.resolve().addrs().await?;
    if addrs.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "could not resolve to any address"));
    }
    Ok(addrs)
}

/// Runs `op` on each address in order until one succeeds; the last error otherwise.
pub(crate) async fn each_addr<A, T, F, Fut>(addr: &A, mut op: F) -> io::Result<T>
where
    A: ToSocketAddrs + ?Sized,
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for a in resolve(addr).await? {
        match op(a).await {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "could not resolve to any address")))
}

/// Resolves `addr` to its first address (for `send_to`).
pub(crate) async fn first_addr<A: ToSocketAddrs + ?Sized>(addr: &A) -> io::Result<SocketAddr> {
    Ok(resolve(addr).await?[0])
}

fn done<T: std::net::ToSocketAddrs + ?Sized>(addr: &T) -> Resolve {
    Resolve::Done(addr.to_socket_addrs().map(Iterator::collect))
}

macro_rules! literal {
    ($($t:ty),*) => {$(
        impl ToSocketAddrs for $t {}
        impl sealed::Sealed for $t {
            fn resolve(&self) -> Resolve {
                done(self)
            }
        }
    )*};
}

literal!(SocketAddr, SocketAddrV4, SocketAddrV6, (IpAddr, u16), (Ipv4Addr, u16), (Ipv6Addr, u16));

impl ToSocketAddrs for [SocketAddr] {}
impl sealed::Sealed for [SocketAddr] {
    fn resolve(&self) -> Resolve {
        Resolve::Done(Ok(self.to_vec()))
    }
}

impl<const N: usize> ToSocketAddrs for [SocketAddr; N] {}
impl<const N: usize> sealed::Sealed for [SocketAddr; N] {
    fn resolve(&self) -> Resolve {
        Resolve::Done(Ok(self.to_vec()))
    }
}

impl ToSocketAddrs for str {}
impl sealed::Sealed for str {
    fn resolve(&self) -> Resolve {
        // A literal "ip:port" needs no resolver.
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return Resolve::Done(Ok(vec![addr]));
        }
        Resolve::Lookup(self.to_owned())
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl sealed::Sealed for (&str, u16) {
    fn resolve(&self) -> Resolve {
        let (host, port) = *self;
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Resolve::Done(Ok(vec![SocketAddr::new(ip, port)]));
        }
        Resolve::Lookup(format!("{host}:{port}"))
    }
}

impl ToSocketAddrs for (String, u16) {}
impl sealed::Sealed for (String, u16) {
    fn resolve(&self) -> Resolve {
        (self.0.as_str(), self.1).resolve()
    }
}

impl ToSocketAddrs for String {}
impl sealed::Sealed for String {
    fn resolve(&self) -> Resolve {
        self.as_str().resolve()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {
    fn resolve(&self) -> Resolve {
        (**self).resolve()
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        executor::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn literal_addresses_resolve_without_a_lookup() {
        assert!(matches!("127.0.0.1:80".resolve(), Resolve::Done(Ok(ref v)) if v.len() == 1));
        assert!(matches!(("::1", 80).resolve(), Resolve::Done(Ok(ref v)) if v[0].is_ipv6()));
    }

    #[test]
    fn host_names_resolve_on_the_blocking_pool() {
        let addrs = block_on(resolve("localhost:80")).unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
    }

    #[test]
    fn a_malformed_address_is_an_error_not_a_panic() {
        assert!(block_on(resolve("no port here")).is_err());
        assert!(block_on(resolve(&[][..] as &[SocketAddr])).is_err());
    }
}
