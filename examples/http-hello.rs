//! A minimal HTTP/1.1 server: every request gets `200 OK` and a fixed body, on keep-alive
//! connections, pipelined requests included.
//!
//! ```text
//! cargo run --release --example http-hello                       # listens on 127.0.0.1:8080
//! cargo run --release --example http-hello -- --addr 127.0.0.1:0
//! curl -i http://127.0.0.1:8080/                                 # HTTP/1.1 200 OK ... Hello, world!
//! wrk -t1 -c64 -d5s http://127.0.0.1:8080/
//! ```
//!
//! It prints the address it listens on and serves until Ctrl-C or SIGTERM. Requests are parsed
//! just enough to be correct for `wrk`, `curl` and browsers: the head ends at `\r\n\r\n`, a
//! `Content-Length` body is skipped, `Connection: close` (or HTTP/1.0 without
//! `Connection: keep-alive`) closes after the response, and everything already read is answered
//! in order with one write, which is what makes pipelining work. Malformed requests, heads over
//! 8 KiB, bodies over 64 KiB and chunked request bodies get a `400` and the connection is closed. The benchmark
//! (`benches/echo/`) runs this same request handling on tokio and smol for the HTTP comparison.

use futures::future::{select, Either};
use runtime::io::{AsyncReadExt, AsyncWriteExt};
use runtime::net::{TcpListener, TcpStream};
use std::convert::Infallible;
use std::pin::pin;
use std::process::ExitCode;

const USAGE: &str = "usage: http-hello [--addr HOST:PORT]   (default 127.0.0.1:8080)";

#[runtime::main]
async fn main() -> ExitCode {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => match args.next() {
                Some(a) => addr = a,
                None => {
                    eprintln!("http-hello: --addr needs a value\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("http-hello: unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let listener = match TcpListener::bind(addr.as_str()).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("http-hello: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("http-hello listening on http://{local}/"),
        Err(_) => println!("http-hello listening on http://{addr}/"),
    }
    let accept = pin!(accept_loop(&listener));
    let shutdown = pin!(shutdown_signal());
    match select(accept, shutdown).await {
        Either::Left((never, _)) => match never {},
        Either::Right((Ok(signal), _)) => {
            println!("http-hello: {signal}: shutting down");
            ExitCode::SUCCESS
        }
        Either::Right((Err(e), _)) => {
            eprintln!("http-hello: cannot listen for SIGINT/SIGTERM: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn accept_loop(listener: &TcpListener) -> Infallible {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                runtime::spawn(serve(stream));
            }
            Err(e) => {
                eprintln!("http-hello: accept: {e}");
                runtime::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// One connection: read what is there, answer every complete request in it with one write.
async fn serve(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut conn = http1::Conn::new();
    loop {
        let n = match stream.read(conn.read_buf()).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let keep_alive = conn.filled(n);
        if !conn.output().is_empty() && stream.write_all(conn.output()).await.is_err() {
            return;
        }
        if !keep_alive {
            let _ = stream.close().await;
            return;
        }
    }
}

/// The request handling, independent of the runtime (the benchmark reuses it on tokio).
pub mod http1 {
    /// The body of every `200 OK`.
    pub const BODY: &[u8] = b"Hello, world!\n";
    const MAX_HEAD: usize = 8 * 1024;
    const MAX_REQUEST: usize = 64 * 1024;
    const READ_CHUNK: usize = 4096;

    /// A connection's buffers: bytes read but not yet parsed, and responses not yet written.
    pub struct Conn {
        input: Vec<u8>,
        len: usize,
        output: Vec<u8>,
    }

    impl Default for Conn {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Conn {
        /// Empty buffers.
        pub fn new() -> Conn {
            Conn { input: vec![0; READ_CHUNK], len: 0, output: Vec::with_capacity(READ_CHUNK) }
        }

        /// Where the next read goes (at least 4 KiB of room).
        pub fn read_buf(&mut self) -> &mut [u8] {
            self.output.clear();
            if self.input.len() - self.len < READ_CHUNK {
                self.input.resize(self.len + READ_CHUNK, 0);
            }
            &mut self.input[self.len..]
        }

        /// `n` bytes were read into [`read_buf`](Conn::read_buf): answers every complete request
        /// (see [`output`](Conn::output)). Returns false when the connection must close after
        /// the output is written.
        pub fn filled(&mut self, n: usize) -> bool {
            self.len += n;
            let mut at = 0;
            let mut keep_alive = true;
            while keep_alive {
                match parse(&self.input[at..self.len]) {
                    Parsed::Incomplete => break,
                    Parsed::Request { len, keep_alive: ka } => {
                        at += len;
                        keep_alive = ka;
                        respond_ok(&mut self.output, ka);
                    }
                    Parsed::Bad => {
                        self.output.extend_from_slice(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        return false;
                    }
                }
            }
            self.input.copy_within(at..self.len, 0);
            self.len -= at;
            if self.len > MAX_REQUEST && keep_alive {
                // The unparsed rest is already longer than any request we accept.
                self.output.extend_from_slice(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                return false;
            }
            keep_alive
        }

        /// The responses produced by the last [`filled`](Conn::filled).
        pub fn output(&self) -> &[u8] {
            &self.output
        }
    }

    enum Parsed {
        Incomplete,
        Request { len: usize, keep_alive: bool },
        Bad,
    }

    fn respond_ok(out: &mut Vec<u8>, keep_alive: bool) {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ");
        out.extend_from_slice(BODY.len().to_string().as_bytes());
        if keep_alive {
            out.extend_from_slice(b"\r\n\r\n");
        } else {
            out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        }
        out.extend_from_slice(BODY);
    }

    /// Parses one request at the start of `buf`.
    fn parse(buf: &[u8]) -> Parsed {
        let Some(head_len) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4) else {
            return if buf.len() > MAX_HEAD { Parsed::Bad } else { Parsed::Incomplete };
        };
        let Ok(head) = std::str::from_utf8(&buf[..head_len - 4]) else { return Parsed::Bad };
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or("").split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (request_line.next(), request_line.next(), request_line.next(), request_line.next())
        else {
            return Parsed::Bad;
        };
        if method.is_empty() || target.is_empty() {
            return Parsed::Bad;
        }
        let mut keep_alive = match version {
            "HTTP/1.1" => true,
            "HTTP/1.0" => false,
            _ => return Parsed::Bad,
        };
        let mut body_len = 0usize;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { return Parsed::Bad };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                match value.parse::<usize>() {
                    Ok(n) if n <= MAX_REQUEST => body_len = n,
                    _ => return Parsed::Bad,
                }
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Parsed::Bad; // chunked request bodies are not supported
            } else if name.eq_ignore_ascii_case("connection") {
                if value.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if value.eq_ignore_ascii_case("keep-alive") {
                    keep_alive = true;
                }
            }
        }
        let Some(len) = head_len.checked_add(body_len) else { return Parsed::Bad };
        if buf.len() < len {
            return Parsed::Incomplete;
        }
        Parsed::Request { len, keep_alive }
    }
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
