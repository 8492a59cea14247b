//! An echo client on the runtime: N concurrent connections, each sending messages and checking
//! every byte that comes back.
//!
//! ```text
//! cargo run --release --example echo-server &                  # in one terminal
//! cargo run --release --example echo-client -- --clients 100 --messages 1000 --size 64
//! ```
//!
//! Each client is a task: it connects to `--addr` (default 127.0.0.1:7000), writes a message of
//! `--size` bytes whose content depends on the client and the message number, reads the echo and
//! compares it byte for byte, `--messages` times, then closes. At the end it prints a summary:
//!
//! ```text
//! echo-client: 100 clients x 1000 messages x 64 B: 100000 messages echoed and verified in 1.23 s
//!   (81300 msgs/s, 10.4 MB/s), 0 failed clients
//! ```
//!
//! The exit status is 0 only if every client got every byte back intact.

use runtime::io::{AsyncReadExt, AsyncWriteExt};
use runtime::net::TcpStream;
use runtime::time::Instant;
use std::process::ExitCode;

const USAGE: &str = "usage: echo-client [--addr HOST:PORT] [--clients N] [--messages N] [--size BYTES]
  defaults: --addr 127.0.0.1:7000 --clients 10 --messages 1000 --size 64";

struct Options {
    addr: String,
    clients: usize,
    messages: usize,
    size: usize,
}

#[runtime::main]
async fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("echo-client: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    let start = Instant::now();
    let handles: Vec<_> = (0..opts.clients).map(|id| runtime::spawn(client(opts.addr.clone(), id, opts.messages, opts.size))).collect();
    let mut failed = 0usize;
    let mut echoed = 0u64;
    for (id, handle) in handles.into_iter().enumerate() {
        match handle.await {
            Ok(Ok(n)) => echoed += n,
            Ok(Err(e)) => {
                failed += 1;
                eprintln!("echo-client: client {id}: {e}");
            }
            Err(e) => {
                failed += 1;
                eprintln!("echo-client: client {id}: task failed: {e}");
            }
        }
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    println!(
        "echo-client: {} clients x {} messages x {} B: {} messages echoed and verified in {:.2} s\n  ({:.0} msgs/s, {:.1} MB/s), {} failed clients",
        opts.clients,
        opts.messages,
        opts.size,
        echoed,
        secs,
        echoed as f64 / secs,
        echoed as f64 * opts.size as f64 / secs / 1e6,
        failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One client: returns how many messages came back intact, or what went wrong.
async fn client(addr: String, id: usize, messages: usize, size: usize) -> Result<u64, String> {
    let mut stream = TcpStream::connect(addr.as_str()).await.map_err(|e| format!("connect to {addr}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let mut msg = vec![0u8; size];
    let mut echo = vec![0u8; size];
    for seq in 0..messages {
        for (i, b) in msg.iter_mut().enumerate() {
            *b = pattern(id, seq, i);
        }
        stream.write_all(&msg).await.map_err(|e| format!("write of message {seq}: {e}"))?;
        stream.read_exact(&mut echo).await.map_err(|e| format!("read of message {seq}: {e}"))?;
        if let Some(at) = msg.iter().zip(&echo).position(|(a, b)| a != b) {
            return Err(format!("message {seq}: byte {at} came back as {:#04x}, sent {:#04x}", echo[at], msg[at]));
        }
    }
    stream.close().await.map_err(|e| format!("close: {e}"))?;
    Ok(messages as u64)
}

/// The byte at `offset` of message `seq` of client `id`: differs between neighbouring clients,
/// messages and offsets, so a byte delivered to the wrong place shows up.
fn pattern(id: usize, seq: usize, offset: usize) -> u8 {
    (id.wrapping_mul(131) ^ seq.wrapping_mul(31) ^ offset.wrapping_mul(7) ^ (offset >> 8)) as u8
}

/// `Ok(None)` for `--help`.
fn parse_args() -> Result<Option<Options>, String> {
    let mut opts = Options { addr: "127.0.0.1:7000".to_string(), clients: 10, messages: 1000, size: 64 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let number = |name: &str, v: String| v.parse::<usize>().map_err(|_| format!("{name}: {v:?} is not a number"));
        match arg.as_str() {
            "--addr" => opts.addr = value("--addr")?,
            "--clients" => opts.clients = number("--clients", value("--clients")?)?,
            "--messages" => opts.messages = number("--messages", value("--messages")?)?,
            "--size" => opts.size = number("--size", value("--size")?)?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if opts.size == 0 {
        return Err("--size must be at least 1".into());
    }
    Ok(Some(opts))
}
