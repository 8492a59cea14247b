//! # net — sockets on the reactor's `EventPoll`
//!
//! TCP, UDP and Unix-domain sockets whose readiness is harvested from the runtime's
//! `EventPoll` (edge-triggered registrations through [`executor::io::unix::AsyncFd`]) and whose
//! waiting tasks are woken by the executor. Sockets are created and configured with `socket2`;
//! streams implement the `futures` I/O traits (`AsyncRead`, `AsyncWrite`), and with the
//! `tokio-io` feature tokio's as well (so tokio-util's codecs take them as they are).
#![deny(missing_docs)]

mod addr;
mod lookup_host;
mod read_uninit;
pub mod tcp;
#[cfg(feature = "tokio-io")]
mod tokio_io;
mod udp;
#[cfg(unix)]
pub mod unix;

pub use addr::ToSocketAddrs;
pub use lookup_host::lookup_host;
// TCP re-exports (owned by the TCP work):
pub use tcp::{TcpListener, TcpSocket, TcpStream};
// UDP re-exports (owned by the UDP work):
pub use udp::UdpSocket;
// Unix re-exports (owned by the Unix work):
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixSocket, UnixStream};
