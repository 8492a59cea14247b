//! TCP: [`TcpListener`], [`TcpStream`], [`TcpSocket`] and a stream's split halves.
//!
//! Sockets are created with `socket2`, non-blocking and close-on-exec, and registered on the
//! runtime's `EventPoll` through [`AsyncFd`](executor::io::unix::AsyncFd) (edge-triggered).
//! Every operation follows the same protocol: wait for readiness, run the system call, and
//! clear the readiness only if the call returned `WouldBlock`, so an edge is never lost.
//!
//! ```
//! use futures::io::{AsyncReadExt, AsyncWriteExt};
//! use net::{TcpListener, TcpStream};
//!
//! let rt = executor::runtime::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = executor::spawn(async move {
//!         let (mut s, _peer) = listener.accept().await?;
//!         let mut buf = [0; 4];
//!         s.read_exact(&mut buf).await?;
//!         s.write_all(&buf).await?;
//!         Ok::<(), std::io::Error>(())
//!     });
//!     let mut c = TcpStream::connect(addr).await?;
//!     c.write_all(b"ping").await?;
//!     let mut buf = [0; 4];
//!     c.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"ping");
//!     server.await.unwrap()
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod listener;
mod socket;
mod split;
mod split_owned;
mod stream;

pub use listener::{Incoming, TcpListener};
pub use socket::TcpSocket;
pub use split::{ReadHalf, WriteHalf};
pub use split_owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
pub use stream::TcpStream;
