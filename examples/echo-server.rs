//! A TCP echo server on `#[runtime::main]`: one task per connection, every byte echoed back.
//!
//! ```text
//! cargo run --release --example echo-server                        # listens on 127.0.0.1:7000
//! cargo run --release --example echo-server -- --addr 127.0.0.1:0  # any free port
//! ```
//!
//! It prints `echo-server listening on 127.0.0.1:7000`, then serves until Ctrl-C (SIGINT) or
//! SIGTERM, when it prints how many connections it served and exits with status 0. Errors from
//! `accept` (for example running out of file descriptors) are logged and the server keeps going.
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

const USAGE: &str = "usage: echo-server [--addr HOST:PORT]   (default 127.0.0.1:7000)";

#[runtime::main]
async fn main() -> ExitCode {
    let addr = match parse_args() {
        Ok(Some(addr)) => addr,
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
    let accept_loop = pin!(accept_loop(&listener, served.clone()));
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
async fn accept_loop(listener: &TcpListener, served: Arc<AtomicU64>) -> Infallible {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                served.fetch_add(1, Ordering::Relaxed);
                runtime::spawn(echo(stream));
            }
            Err(e) => {
                eprintln!("echo-server: accept: {e}");
                // Typically EMFILE: give connections a moment to close before trying again.
                runtime::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// Echoes until the peer closes its side or an I/O error ends the connection.
async fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// `Ok(None)` for `--help`.
fn parse_args() -> Result<Option<String>, String> {
    let mut addr = "127.0.0.1:7000".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = args.next().ok_or("--addr needs a value")?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(addr))
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
