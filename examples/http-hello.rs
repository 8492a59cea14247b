//! A minimal HTTP/1.1 server: every request gets `200 OK` and a fixed body, on keep-alive
//! connections, pipelined requests included.
//!
//! ```text
//! cargo run --release --example http-hello                       # listens on 127.0.0.1:8080
//! cargo run --release --example http-hello -- --addr 127.0.0.1:0 --header-timeout 5
//! curl -i http://127.0.0.1:8080/                                 # HTTP/1.1 200 OK ... Hello, world!
//! wrk -t1 -c64 -d5s http://127.0.0.1:8080/
//! ```
//!
//! It prints the address it listens on and serves until Ctrl-C or SIGTERM. Everything already
//! read is answered in order with one write, which is what makes pipelining work;
//! `Connection: close` (or HTTP/1.0 without `Connection: keep-alive`) closes after the
//! response.
//!
//! Users copy example servers, so this one is strict where RFC 9112 asks (see [`http1`]):
//! anything whose framing a proxy could read differently — two `Content-Length`s that disagree,
//! `Content-Length: +5`, whitespace before a header's colon, `Content-Length` with
//! `Transfer-Encoding`, a missing or repeated `Host` — gets an error status and the connection
//! is closed; `HEAD` responses carry no body. And it does not let slow clients hold connections:
//! a request (head and body) must arrive within `--header-timeout` seconds (10 by default) of
//! the connection's start or of the previous response, else the connection is closed — with a
//! `408` if part of a request had arrived (a slowloris client), silently if it was idle.
//!
//! The benchmark (`benches/echo/`) runs this same request handling on tokio and smol for the
//! HTTP comparison.

use futures::future::{select, Either};
use runtime::io::{AsyncReadExt, AsyncWriteExt};
use runtime::net::{TcpListener, TcpStream};
use std::convert::Infallible;
use std::pin::pin;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: http-hello [--addr HOST:PORT] [--header-timeout SECS]   (defaults: 127.0.0.1:8080, 10 s)";

/// How long a request may take to arrive, by default.
const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

#[runtime::main]
async fn main() -> ExitCode {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut header_timeout = DEFAULT_HEADER_TIMEOUT;
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
            "--header-timeout" => match args.next().and_then(|v| v.parse::<f64>().ok()).and_then(|s| Duration::try_from_secs_f64(s).ok()) {
                Some(t) if !t.is_zero() => header_timeout = t,
                _ => {
                    eprintln!("http-hello: --header-timeout needs a positive number of seconds\n{USAGE}");
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
    let accept = pin!(accept_loop(&listener, header_timeout));
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

async fn accept_loop(listener: &TcpListener, header_timeout: Duration) -> Infallible {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                runtime::spawn(serve(stream, header_timeout));
            }
            Err(e) => {
                eprintln!("http-hello: accept: {e}");
                runtime::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// One connection: read what is there, answer every complete request in it with one write.
/// Each request must arrive within `header_timeout` of the connection's start or of the
/// previous response.
async fn serve(mut stream: TcpStream, header_timeout: Duration) {
    let _ = stream.set_nodelay(true);
    let mut conn = http1::Conn::new();
    let mut deadline = runtime::time::Instant::now() + header_timeout;
    loop {
        let n = match runtime::time::timeout_at(deadline, stream.read(conn.read_buf())).await {
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(n)) => n,
            Err(_elapsed) => {
                // Too slow: a partial request is told why (408); an idle connection just ends.
                if conn.has_partial_request() {
                    let _ = stream.write_all(conn.timed_out()).await;
                }
                let _ = stream.close().await;
                return;
            }
        };
        let keep_alive = conn.filled(n);
        if !conn.output().is_empty() {
            if stream.write_all(conn.output()).await.is_err() {
                return;
            }
            // Responses went out: the next request's time starts now.
            deadline = runtime::time::Instant::now() + header_timeout;
        }
        if !keep_alive {
            let _ = stream.close().await;
            return;
        }
    }
}

/// The request handling, independent of the runtime (the benchmark reuses it on tokio).
///
/// Strict HTTP/1.1 message framing (RFC 9112), so that this server and any proxy in front of it
/// always agree on where a request ends — the condition for request smuggling. Everything
/// below is answered with an error status and the connection is closed:
///
/// | request                                                              | response |
/// |----------------------------------------------------------------------|----------|
/// | a request line that is not `method SP target SP HTTP/x.y`, a method that is not a token | 400 |
/// | a version other than HTTP/1.0 and HTTP/1.1                           | 505 |
/// | a field name that is not a token, whitespace before the colon, obs-fold (a line starting with SP/HTAB), a control character in a value, a bare CR or LF | 400 |
/// | HTTP/1.1 without `Host`, or any request with more than one `Host` or an invalid one | 400 |
/// | `Content-Length` that is not `1*DIGIT` (`+5`, `-1`, ` 0x5`), or values that disagree (`5, 6` or two fields) | 400 |
/// | `Content-Length` together with `Transfer-Encoding`; `Transfer-Encoding` in HTTP/1.0, or whose last coding is not `chunked` | 400 |
/// | a transfer coding other than `chunked`                               | 501 |
/// | a head over 8 KiB                                                    | 431 |
/// | a body over 64 KiB                                                   | 413 |
///
/// `chunked` request bodies are decoded (and discarded); a `HEAD` request gets the headers of a
/// `GET` without the body, so pipelined responses stay in step.
pub mod http1 {
    /// The body of every `200 OK`.
    pub const BODY: &[u8] = b"Hello, world!\n";
    const MAX_HEAD: usize = 8 * 1024;
    const MAX_BODY: usize = 64 * 1024;
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

        /// Whether part of a request has been read and not answered yet.
        pub fn has_partial_request(&self) -> bool {
            self.len > 0
        }

        /// `n` bytes were read into [`read_buf`](Conn::read_buf): answers every complete request
        /// (see [`output`](Conn::output)). Returns false when the connection must close after
        /// the output is written.
        pub fn filled(&mut self, n: usize) -> bool {
            self.len += n;
            let mut at = 0;
            let mut keep_alive = true;
            while keep_alive && at < self.len {
                match parse(&self.input[at..self.len]) {
                    Ok(None) => break,
                    Ok(Some(req)) => {
                        at += req.len;
                        keep_alive = req.keep_alive;
                        respond_ok(&mut self.output, req.head, keep_alive);
                    }
                    Err(status) => {
                        respond_error(&mut self.output, status);
                        self.len = 0;
                        return false;
                    }
                }
            }
            self.input.copy_within(at..self.len, 0);
            self.len -= at;
            keep_alive
        }

        /// The responses produced by the last [`filled`](Conn::filled).
        pub fn output(&self) -> &[u8] {
            &self.output
        }

        /// The response to a request that did not arrive in time (the connection then closes).
        pub fn timed_out(&mut self) -> &[u8] {
            self.output.clear();
            respond_error(&mut self.output, Status::RequestTimeout);
            &self.output
        }
    }

    /// An error response: the connection closes after it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Status {
        /// 400: the request is malformed, or its framing ambiguous.
        BadRequest,
        /// 408: the request did not arrive within the server's timeout.
        RequestTimeout,
        /// 413: the body is over the limit.
        ContentTooLarge,
        /// 431: the head is over the limit.
        HeaderFieldsTooLarge,
        /// 501: a transfer coding the server does not implement.
        NotImplemented,
        /// 505: an HTTP version other than 1.0 and 1.1.
        VersionNotSupported,
    }

    impl Status {
        fn line(self) -> &'static str {
            match self {
                Status::BadRequest => "400 Bad Request",
                Status::RequestTimeout => "408 Request Timeout",
                Status::ContentTooLarge => "413 Content Too Large",
                Status::HeaderFieldsTooLarge => "431 Request Header Fields Too Large",
                Status::NotImplemented => "501 Not Implemented",
                Status::VersionNotSupported => "505 HTTP Version Not Supported",
            }
        }
    }

    fn respond_error(out: &mut Vec<u8>, status: Status) {
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.line().as_bytes());
        out.extend_from_slice(b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }

    fn respond_ok(out: &mut Vec<u8>, head_only: bool, keep_alive: bool) {
        out.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ");
        out.extend_from_slice(BODY.len().to_string().as_bytes());
        if keep_alive {
            out.extend_from_slice(b"\r\n\r\n");
        } else {
            out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
        }
        if !head_only {
            out.extend_from_slice(BODY);
        }
    }

    /// A complete request at the start of the buffer.
    struct Request {
        /// Its length, head and body.
        len: usize,
        keep_alive: bool,
        /// `HEAD`: the response has no body.
        head: bool,
    }

    /// How the body's length is known.
    enum Framing {
        None,
        Length(usize),
        Chunked,
    }

    /// `tchar` of RFC 9110 §5.6.2: what a method or a field name is made of.
    fn is_tchar(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
    }

    fn is_token(s: &[u8]) -> bool {
        !s.is_empty() && s.iter().all(|&b| is_tchar(b))
    }

    /// A field value's characters: visible ASCII, obs-text, SP and HTAB — no CR, LF, NUL or
    /// other control character.
    fn is_field_value(s: &[u8]) -> bool {
        s.iter().all(|&b| b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80)
    }

    /// Trims optional whitespace (SP, HTAB) at both ends.
    fn trim_ows(mut s: &[u8]) -> &[u8] {
        while let [b' ' | b'\t', rest @ ..] = s {
            s = rest;
        }
        while let [rest @ .., b' ' | b'\t'] = s {
            s = rest;
        }
        s
    }

    /// A line (without its CRLF) and what follows it.
    type Line<'a> = (&'a [u8], &'a [u8]);

    /// The next line of `buf` and the rest; `Ok(None)` if incomplete. A bare LF or CR is an
    /// error (RFC 9112 §2.2 allows rejecting them).
    fn line(buf: &[u8]) -> Result<Option<Line<'_>>, Status> {
        match buf.iter().position(|&b| b == b'\n' || b == b'\r') {
            None => Ok(None),
            Some(i) if buf[i] == b'\n' => Err(Status::BadRequest),
            Some(i) if i + 1 == buf.len() => Ok(None),
            Some(i) if buf[i + 1] == b'\n' => Ok(Some((&buf[..i], &buf[i + 2..]))),
            Some(_) => Err(Status::BadRequest),
        }
    }

    /// `Content-Length`: one or more `1*DIGIT`, comma-separated, all equal (RFC 9110 §8.6).
    fn content_length(value: &[u8]) -> Result<usize, Status> {
        let mut len = None;
        for part in value.split(|&b| b == b',') {
            let part = trim_ows(part);
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return Err(Status::BadRequest);
            }
            // Only digits: parse cannot fail except by overflow, which is over any limit.
            let n = std::str::from_utf8(part).ok().and_then(|s| s.parse::<u64>().ok()).ok_or(Status::ContentTooLarge)?;
            if len.is_some_and(|l| l != n) {
                return Err(Status::BadRequest);
            }
            len = Some(n);
        }
        let n = len.ok_or(Status::BadRequest)?;
        usize::try_from(n).ok().filter(|&n| n <= MAX_BODY).ok_or(Status::ContentTooLarge)
    }

    /// A `Host` value: an authority's characters (RFC 3986 reg-name, IP literal, port).
    fn is_host(value: &[u8]) -> bool {
        value.iter().all(|&b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%:[]".contains(&b))
    }

    /// Parses one request at the start of `buf`: `Ok(None)` while incomplete.
    fn parse(buf: &[u8]) -> Result<Option<Request>, Status> {
        let Some(head_len) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4) else {
            // A bare LF already read is an error now, not after the limit.
            if line(buf).is_err() && !buf.ends_with(b"\r") {
                return Err(Status::BadRequest);
            }
            return if buf.len() > MAX_HEAD { Err(Status::HeaderFieldsTooLarge) } else { Ok(None) };
        };
        if head_len > MAX_HEAD {
            return Err(Status::HeaderFieldsTooLarge);
        }
        let mut rest = &buf[..head_len];
        let Some((request_line, after)) = line(rest)? else { return Err(Status::BadRequest) };
        rest = after;
        let mut parts = request_line.split(|&b| b == b' ');
        let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(Status::BadRequest);
        };
        if !is_token(method) || target.is_empty() || !target.iter().all(|&b| (0x21..=0x7e).contains(&b)) {
            return Err(Status::BadRequest);
        }
        let http11 = match version {
            b"HTTP/1.1" => true,
            b"HTTP/1.0" => false,
            [b'H', b'T', b'T', b'P', b'/', major, b'.', minor] if major.is_ascii_digit() && minor.is_ascii_digit() => {
                return Err(Status::VersionNotSupported)
            }
            _ => return Err(Status::BadRequest),
        };
        let mut keep_alive = http11;
        let (mut hosts, mut length, mut codings): (usize, Option<usize>, Option<Vec<u8>>) = (0, None, None);
        loop {
            let Some((field, after)) = line(rest)? else { return Err(Status::BadRequest) };
            rest = after;
            if field.is_empty() {
                break;
            }
            // obs-fold and whitespace before the colon are both rejected (RFC 9112 §5.1, §5.2).
            let colon = field.iter().position(|&b| b == b':').ok_or(Status::BadRequest)?;
            let (name, value) = (&field[..colon], &field[colon + 1..]);
            if !is_token(name) || !is_field_value(value) {
                return Err(Status::BadRequest);
            }
            let value = trim_ows(value);
            if name.eq_ignore_ascii_case(b"host") {
                hosts += 1;
                if !is_host(value) {
                    return Err(Status::BadRequest);
                }
            } else if name.eq_ignore_ascii_case(b"content-length") {
                let n = content_length(value)?;
                // Two fields must agree like two values of one field.
                if length.is_some_and(|l| l != n) {
                    return Err(Status::BadRequest);
                }
                length = Some(n);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                let all = codings.get_or_insert_with(Vec::new);
                if !all.is_empty() {
                    all.push(b',');
                }
                all.extend_from_slice(value);
            } else if name.eq_ignore_ascii_case(b"connection") {
                for option in value.split(|&b| b == b',').map(trim_ows) {
                    if option.eq_ignore_ascii_case(b"close") {
                        keep_alive = false;
                    } else if option.eq_ignore_ascii_case(b"keep-alive") && !http11 {
                        keep_alive = true;
                    }
                }
            }
        }
        if hosts > 1 || (http11 && hosts == 0) {
            return Err(Status::BadRequest);
        }
        let framing = match (codings, length) {
            (None, None) => Framing::None,
            (None, Some(n)) => Framing::Length(n),
            // Both: a smuggling shape; an HTTP/1.0 recipient cannot trust the framing either.
            (Some(_), Some(_)) => return Err(Status::BadRequest),
            (Some(_), None) if !http11 => return Err(Status::BadRequest),
            (Some(codings), None) => {
                let list: Vec<&[u8]> = codings.split(|&b| b == b',').map(trim_ows).collect();
                let last = list.last().copied().unwrap_or_default();
                if !last.eq_ignore_ascii_case(b"chunked") {
                    return Err(Status::BadRequest);
                }
                if list.len() > 1 {
                    return Err(Status::NotImplemented);
                }
                Framing::Chunked
            }
        };
        let body = &buf[head_len..];
        let body_len = match framing {
            Framing::None => 0,
            Framing::Length(n) if body.len() < n => return Ok(None),
            Framing::Length(n) => n,
            Framing::Chunked => match chunked_len(body)? {
                Some(n) => n,
                None => return Ok(None),
            },
        };
        Ok(Some(Request { len: head_len + body_len, keep_alive, head: method == b"HEAD" }))
    }

    /// The length of a complete `chunked` body at the start of `buf` (chunks, last chunk,
    /// trailers, final CRLF); `Ok(None)` while incomplete.
    fn chunked_len(buf: &[u8]) -> Result<Option<usize>, Status> {
        let mut at = 0;
        let mut data = 0usize;
        loop {
            let Some((size_line, _)) = line(&buf[at..])? else { return incomplete(buf.len()) };
            at += size_line.len() + 2;
            // chunk-size [ ; extensions ]
            let size = size_line.split(|&b| b == b';').next().unwrap_or_default();
            if size.is_empty() || size.len() > 8 || !size.iter().all(u8::is_ascii_hexdigit) || !is_field_value(size_line) {
                return Err(Status::BadRequest);
            }
            let size =
                usize::from_str_radix(std::str::from_utf8(size).map_err(|_| Status::BadRequest)?, 16).map_err(|_| Status::BadRequest)?;
            data += size;
            if data > MAX_BODY {
                return Err(Status::ContentTooLarge);
            }
            if size == 0 {
                break;
            }
            if buf.len() < at + size + 2 {
                return incomplete(buf.len());
            }
            if &buf[at + size..at + size + 2] != b"\r\n" {
                return Err(Status::BadRequest);
            }
            at += size + 2;
        }
        // Trailer fields, then the empty line.
        loop {
            let Some((field, _)) = line(&buf[at..])? else { return incomplete(buf.len()) };
            at += field.len() + 2;
            if field.is_empty() {
                return Ok(Some(at));
            }
            let colon = field.iter().position(|&b| b == b':').ok_or(Status::BadRequest)?;
            if !is_token(&field[..colon]) || !is_field_value(&field[colon + 1..]) {
                return Err(Status::BadRequest);
            }
        }
    }

    /// Incomplete, unless the framing bytes alone are already past any body we accept.
    fn incomplete(read: usize) -> Result<Option<usize>, Status> {
        if read > MAX_BODY + MAX_HEAD {
            Err(Status::ContentTooLarge)
        } else {
            Ok(None)
        }
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

#[cfg(test)]
mod tests {
    use super::http1::Conn;

    /// Feeds `input` to a fresh connection in one read: (everything answered, keep-alive).
    fn answer(input: &[u8]) -> (String, bool) {
        let mut conn = Conn::new();
        let mut at = 0;
        let mut out = Vec::new();
        let mut keep_alive = true;
        // In reads of at most 4 KiB, as the server does.
        while at < input.len() && keep_alive {
            let buf = conn.read_buf();
            let n = buf.len().min(input.len() - at);
            buf[..n].copy_from_slice(&input[at..at + n]);
            at += n;
            keep_alive = conn.filled(n);
            out.extend_from_slice(conn.output());
        }
        (String::from_utf8(out).unwrap(), keep_alive)
    }

    /// The status line of every response in `out`.
    fn status_lines(out: &str) -> Vec<&str> {
        out.match_indices("HTTP/1.1 ").filter_map(|(i, _)| out[i..].split("\r\n").next()).collect()
    }

    #[test]
    fn well_formed_requests_are_answered_in_order_and_kept_alive() {
        let (out, ka) = answer(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nhost: a\r\nContent-Length: 2, 2\r\n\r\nzz");
        assert_eq!(status_lines(&out), ["HTTP/1.1 200 OK"; 3]);
        assert!(ka);
        // HTTP/1.0 needs no Host and closes unless asked not to.
        let (out, ka) = answer(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(status_lines(&out), ["HTTP/1.1 200 OK"]);
        assert!(!ka && out.contains("Connection: close"));
        let (_, ka) = answer(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert!(ka);
        let (_, ka) = answer(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        assert!(!ka);
    }

    #[test]
    fn request_smuggling_shapes_get_a_400_and_the_connection_closes() {
        for (what, request) in [
            (
                "two Content-Length that disagree",
                &b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"[..],
            ),
            ("a list that disagrees", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!"),
            ("a signed Content-Length", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello"),
            ("a non-decimal Content-Length", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello"),
            ("whitespace before the colon", b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 0\r\n\r\n"),
            ("an obs-fold line", b"GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  c\r\n\r\n"),
            (
                "Content-Length with Transfer-Encoding",
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            ),
            ("chunked not last", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            ("Transfer-Encoding in HTTP/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            ("no Host", b"GET / HTTP/1.1\r\n\r\n"),
            ("two Host", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            ("an invalid Host", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
            ("a bare LF", b"GET / HTTP/1.1\nHost: a\r\n\r\n"),
            ("a bare CR in a value", b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"),
            ("a method that is not a token", b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n"),
            ("two spaces in the request line", b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
            ("a bad chunk size", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n"),
        ] {
            let (out, ka) = answer(request);
            assert_eq!(status_lines(&out), ["HTTP/1.1 400 Bad Request"], "{what}: {out:?}");
            assert!(!ka && out.contains("Connection: close"), "{what}");
        }
    }

    #[test]
    fn other_errors_have_their_own_status() {
        let (out, _) = answer(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n");
        assert_eq!(status_lines(&out), ["HTTP/1.1 505 HTTP Version Not Supported"]);
        let (out, _) = answer(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(status_lines(&out), ["HTTP/1.1 501 Not Implemented"]);
        let (out, _) = answer(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 70000\r\n\r\n");
        assert_eq!(status_lines(&out), ["HTTP/1.1 413 Content Too Large"]);
        let long = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "a".repeat(9000));
        let (out, _) = answer(long.as_bytes());
        assert_eq!(status_lines(&out), ["HTTP/1.1 431 Request Header Fields Too Large"]);
    }

    #[test]
    fn chunked_bodies_are_skipped_and_head_responses_have_no_body() {
        let (out, ka) = answer(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assert!(ka);
        assert_eq!(status_lines(&out), ["HTTP/1.1 200 OK"; 3]);
        // The body appears twice (POST and GET), not after the HEAD response.
        assert_eq!(out.matches("Hello, world!").count(), 2);
        let head_response = out.split("HTTP/1.1 ").nth(2).unwrap();
        assert!(head_response.ends_with("\r\n\r\n"), "{head_response:?}");
    }

    #[test]
    fn a_request_split_across_reads_is_answered_once_complete() {
        let mut conn = Conn::new();
        for (part, expect_answer) in [(&b"GET / HT"[..], false), (b"TP/1.1\r\nHo", false), (b"st: a\r\n\r", false), (b"\n", true)] {
            let buf = conn.read_buf();
            buf[..part.len()].copy_from_slice(part);
            assert!(conn.filled(part.len()));
            assert_eq!(!conn.output().is_empty(), expect_answer);
            assert_eq!(conn.has_partial_request(), !expect_answer);
        }
    }

    /// A slowloris client: it never completes its head. The server answers 408 and closes
    /// when the header timeout passes; an idle connection is closed too.
    #[runtime::test]
    async fn slow_and_idle_connections_are_closed_after_the_header_timeout() {
        use runtime::io::{AsyncReadExt, AsyncWriteExt};
        use std::time::Duration;
        let listener = runtime::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        runtime::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                runtime::spawn(super::serve(stream, Duration::from_millis(100)));
            }
        });
        let mut slow = runtime::net::TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n").await.unwrap();
        let mut idle = runtime::net::TcpStream::connect(addr).await.unwrap();
        let bound = Duration::from_secs(10);
        let mut got = Vec::new();
        runtime::time::timeout(bound, slow.read_to_end(&mut got)).await.expect("the slow connection was never closed").unwrap();
        assert!(String::from_utf8(got).unwrap().starts_with("HTTP/1.1 408 Request Timeout\r\n"));
        let mut got = Vec::new();
        runtime::time::timeout(bound, idle.read_to_end(&mut got)).await.expect("the idle connection was never closed").unwrap();
        assert!(got.is_empty());
        // A client that keeps sending requests in time is served throughout.
        let mut busy = runtime::net::TcpStream::connect(addr).await.unwrap();
        for _ in 0..3 {
            runtime::time::sleep(Duration::from_millis(60)).await;
            busy.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
            let mut buf = [0u8; 256];
            let n = busy.read(&mut buf).await.unwrap();
            assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
        }
    }
}
