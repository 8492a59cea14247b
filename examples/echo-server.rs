//! A TCP echo server on `#[runtime::main]`: one task per connection, every byte echoed back.
//!
//! ```text
//! cargo run --release --example echo-server                        # listens on 127.0.0.1:7000
//! cargo run --release --example echo-server -- --addr 127.0.0.1:0  # any free port
//! cargo run --release --example echo-server -- --idle-timeout 30   # close silent connections
//! ```
//!
//! It prints `echo-server listening on 127.0.0.1:7000`, then serves until Ctrl-C (SIGINT) or
//! SIGTERM, when it prints how many connections it served and exits with status 0. Errors from
//! `accept` (for example running out of file descriptors) are logged and the server keeps going.
//! With `--idle-timeout SECS`, a connection that sends nothing for that long is closed, so idle
//! or abandoned peers cannot hold descriptors for ever (off by default: an echo server's peers
//! may legitimately stay quiet).
//! Try it with `nc 127.0.0.1 7000`, or load it with the `echo-client` example:
//!
//! ```text
//! cargo run --release --example echo-client -- --clients 100 --messages 1000
//! ```

use futures::future::{select, Either};
use runtime::io::{AsyncReadExt, AsyncWriteExt};
use runtime::net::{TcpListener, TcpStream};
use std::convert::Infallible;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: echo-server [--addr HOST:PORT] [--idle-timeout SECS]   (default 127.0.0.1:7000, no idle timeout)";

/// What the command line asks for.
struct Args {
    addr: String,
    idle_timeout: Option<Duration>,
}

#[runtime::main]
async fn main() -> ExitCode {
    let Args { addr, idle_timeout } = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("echo-server: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(addr.as_str()).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("echo-server: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("echo-server listening on {local}"),
        Err(_) => println!("echo-server listening on {addr}"),
    }

    let served = Arc::new(AtomicU64::new(0));
    let accept_loop = pin!(accept_loop(&listener, served.clone(), idle_timeout));
    let shutdown = pin!(shutdown_signal());
    match select(accept_loop, shutdown).await {
        Either::Left((never, _)) => match never {},
        Either::Right((Ok(signal), _)) => {
            println!("echo-server: {signal}: shutting down after {} connection(s)", served.load(Ordering::Relaxed));
            ExitCode::SUCCESS
        }
        Either::Right((Err(e), _)) => {
            eprintln!("echo-server: cannot listen for SIGINT/SIGTERM: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Accepts forever, one task per connection; accept errors are logged and the loop goes on.
async fn accept_loop(listener: &TcpListener, served: Arc<AtomicU64>, idle_timeout: Option<Duration>) -> Infallible {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                served.fetch_add(1, Ordering::Relaxed);
                runtime::spawn(echo(stream, idle_timeout));
            }
            Err(e) => {
                eprintln!("echo-server: accept: {e}");
                // Typically EMFILE: give connections a moment to close before trying again.
                runtime::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Echoes until the peer closes its side, an I/O error ends the connection, or the peer sends
/// nothing for `idle_timeout`.
async fn echo(mut stream: TcpStream, idle_timeout: Option<Duration>) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 4096];
    loop {
        let read = match idle_timeout {
            Some(idle) => match runtime::time::timeout(idle, stream.read(&mut buf)).await {
                Ok(read) => read,
                Err(_elapsed) => {
                    let _ = stream.close().await;
                    return;
                }
            },
            None => stream.read(&mut buf).await,
        };
        let n = match read {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// `Ok(None)` for `--help`.
fn parse_args() -> Result<Option<Args>, String> {
    let mut parsed = Args { addr: "127.0.0.1:7000".to_string(), idle_timeout: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => parsed.addr = args.next().ok_or("--addr needs a value")?,
            "--idle-timeout" => {
                let secs = args.next().and_then(|v| v.parse::<f64>().ok()).and_then(|s| Duration::try_from_secs_f64(s).ok());
                match secs {
                    Some(t) if !t.is_zero() => parsed.idle_timeout = Some(t),
                    _ => return Err("--idle-timeout needs a positive number of seconds".to_string()),
                }
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(parsed))
}

/// Completes at the first SIGINT (Ctrl-C) or SIGTERM, both received through the runtime.
async fn shutdown_signal() -> std::io::Result<&'static str> {
    let mut terminate = runtime::signal::unix::signal(runtime::signal::unix::SignalKind::terminate())?;
    let interrupt = pin!(runtime::signal::ctrl_c());
    let terminated = pin!(terminate.recv());
    match select(interrupt, terminated).await {
        Either::Left((result, _)) => result.map(|()| "SIGINT"),
        Either::Right(_) => Ok("SIGTERM"),
    }
}

#[cfg(test)]
mod tests {
    use runtime::io::{AsyncReadExt, AsyncWriteExt};
    use runtime::net::{TcpListener, TcpStream};
    use std::time::Duration;

    /// A server on a free loopback port whose connections have `idle_timeout`.
    async fn server(idle_timeout: Option<Duration>) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        runtime::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                runtime::spawn(super::echo(stream, idle_timeout));
            }
        });
        addr
    }

    #[runtime::test]
    async fn an_idle_connection_is_closed_after_the_idle_timeout_and_a_busy_one_is_not() {
        let addr = server(Some(Duration::from_millis(100))).await;
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let mut busy = TcpStream::connect(addr).await.unwrap();
        for i in 0..5u8 {
            runtime::time::sleep(Duration::from_millis(40)).await;
            busy.write_all(&[i]).await.unwrap();
            let mut b = [0u8; 1];
            busy.read_exact(&mut b).await.unwrap();
            assert_eq!(b, [i]);
        }
        let mut rest = Vec::new();
        runtime::time::timeout(Duration::from_secs(10), idle.read_to_end(&mut rest))
            .await
            .expect("the idle connection stayed open")
            .unwrap();
        assert!(rest.is_empty());
    }

    #[runtime::test]
    async fn without_the_option_an_idle_connection_stays_open() {
        let addr = server(None).await;
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let mut b = [0u8; 1];
        assert!(runtime::time::timeout(Duration::from_millis(300), idle.read(&mut b)).await.is_err(), "closed without an idle timeout");
        idle.write_all(b"x").await.unwrap();
        idle.read_exact(&mut b).await.unwrap();
        assert_eq!(&b, b"x");
    }
}
