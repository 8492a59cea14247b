//! The echo benchmark: our runtime against tokio and smol, with a raw-epoll server as the
//! ceiling.
//!
//! ```text
//! cargo bench -p runtime-benches --bench echo      # everything, 3 rounds (about 25 minutes on 2 cores)
//! cargo bench -p runtime-benches --bench echo -- --rounds 5 --duration 3
//! cargo bench -p runtime-benches --bench echo -- --workloads 1000x64 --servers ours-mt,tokio-mt,smol-mt --no-memory --no-http
//! benches/echo-ratios.sh --rounds 3                # the same, after installing wrk if it is missing
//! ```
//!
//! One binary plays three parts. As the driver (the default) it starts each server under test
//! as a child process of itself (`echo server --runtime KIND`, which binds 127.0.0.1:0 and prints
//! the port), runs the load generator against it on its own threads (kernel epoll, never the
//! runtime under test), reads the server's CPU time from `/proc/PID/stat`, and kills the server
//! by PID. Servers alternate within a round (ours-mt, tokio-mt, smol-mt, ours-ct, tokio-ct,
//! smol-ct, raw-epoll) and the order flips every round. Per workload it prints msgs/s, p50, p99
//! and server CPU per message, median over rounds with min-max, and the ratios ours/tokio and
//! ours/smol (same flavor) and ours/raw-epoll as the median of the per-round ratios. Then memory
//! per idle connection with 10 000 connections open (`--memory-conns`), twice: RSS with each
//! server's 4 KiB buffer, and the runtime's own bytes (the idle-lean handler, `--buf 0`); `wrk`
//! against the HTTP servers (`examples/http-hello.rs`'s request handling on every runtime, and
//! hyper's HTTP/1 server on ours through `runtime::hyper` and on tokio through hyper-util's
//! tokio glue, both flavors); and
//! `docs/bench/echo-results.md` with one msgs/s plot and one CPU-per-message plot per flavor
//! (`docs/bench/echo-{msgs-per-sec,cpu-per-msg}-{mt,ct}.svg`).
//!
//! `echo load --addr HOST:PORT ...` runs the load generator alone against any echo server;
//! `echo server --runtime KIND ...` runs one server. `--help` lists the options.

// The example's `main` and its runtime-specific `serve` are not used here, only `http1`.
#[allow(dead_code)]
#[path = "../../examples/http-hello.rs"]
mod http_hello;
mod loadgen;
mod report;
mod servers;
mod sys;

use servers::{Kind, Proto};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage:
  echo [OPTIONS]                      run the comparison (the driver)
  echo server --runtime KIND [--addr HOST:PORT] [--proto echo|http] [--buf BYTES|0] [--workers N]
  echo load --addr HOST:PORT [--conns N] [--size BYTES] [--depth N] [--duration SECS] [--warmup SECS]
            [--threads N] [--flood N] [--server-pid PID]

driver options:
  --rounds N            rounds, servers alternating within each (default 3)
  --duration SECS       measured seconds per run (default 2)
  --warmup SECS         unmeasured seconds before it (default 0.5)
  --workloads LIST      CONNSxSIZE[xDEPTH][+rstN],... (default 1x64,64x64,1000x64,64x4K,10000x64);
                        +rstN adds N peers that each send 1 MiB and reset, over and over
  --servers LIST        of ours-mt,tokio-mt,smol-mt,ours-ct,tokio-ct,smol-ct,raw-epoll,
                        hyper-ours-mt,hyper-tokio-mt,hyper-ours-ct,hyper-tokio-ct (default all;
                        raw-epoll serves only echo, the hyper-* servers only HTTP)
  --client-threads N    load-generator threads (default 1)
  --workers N           worker threads of the multi-thread runtimes (default 2)
  --buf BYTES           per-connection read buffer of every server (default 4096); 0: the
                        idle-lean handler (awaits readable, then allocates 4096 B per read)
  --memory-conns N      idle connections of the memory figures (default 10000)
  --no-memory           skip the memory per idle connection
  --no-http             skip wrk
  --out DIR             where the results and the plots go (default docs/bench)
  --no-write            print only";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("server") => server_main(&args[1..]),
        Some("load") => load_main(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => driver_main(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A tiny option parser: `--name value` pairs and bare flags.
struct Args<'a> {
    args: &'a [String],
    at: usize,
}

impl<'a> Args<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let a = self.args.get(self.at)?;
        self.at += 1;
        Some(a)
    }

    fn value(&mut self, name: &str) -> Result<&'a str, String> {
        self.next().ok_or(format!("{name} needs a value\n{USAGE}"))
    }

    fn num<T: std::str::FromStr>(&mut self, name: &str) -> Result<T, String> {
        let v = self.value(name)?;
        v.parse().map_err(|_| format!("{name}: {v:?} is not a valid number"))
    }

    fn secs(&mut self, name: &str) -> Result<Duration, String> {
        let s: f64 = self.num(name)?;
        if !(0.0..=3600.0).contains(&s) {
            return Err(format!("{name}: {s} is out of range (0 to 3600 seconds)"));
        }
        Ok(Duration::from_secs_f64(s))
    }
}

fn parse_size(s: &str) -> Option<usize> {
    let (num, mul) = match s.strip_suffix(['K', 'k']) {
        Some(n) => (n, 1024),
        None => (s, 1),
    };
    num.parse::<usize>().ok().and_then(|n| n.checked_mul(mul)).filter(|&n| n > 0)
}

fn server_main(args: &[String]) -> Result<(), String> {
    let mut a = Args { args, at: 0 };
    let (mut kind, mut addr, mut proto, mut buf, mut workers) = (None, "127.0.0.1:0".to_string(), Proto::Echo, 4096usize, 2usize);
    while let Some(arg) = a.next() {
        match arg {
            "--runtime" => {
                let v = a.value(arg)?;
                kind = Some(Kind::parse(v).ok_or(format!("--runtime: unknown runtime {v:?} ({})", Kind::choices()))?);
            }
            "--addr" => addr = a.value(arg)?.to_string(),
            "--proto" => {
                proto = match a.value(arg)? {
                    "echo" => Proto::Echo,
                    "http" => Proto::Http,
                    v => return Err(format!("--proto: {v:?} is neither echo nor http")),
                }
            }
            "--buf" => buf = a.num(arg)?,
            "--workers" => workers = a.num(arg)?,
            "--bench" => {}
            other => return Err(format!("server: unknown argument {other:?}\n{USAGE}")),
        }
    }
    let kind = kind.ok_or("server: --runtime is required")?;
    let addr: SocketAddr = addr.parse().map_err(|_| format!("--addr: {addr:?} is not HOST:PORT"))?;
    if workers == 0 {
        return Err("--workers must be at least 1".into());
    }
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes no pointers; it makes the kernel kill this server if
    // the driver that started it dies, so no server outlives a failed or interrupted run.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    servers::run(kind, addr, proto, buf, workers).map_err(|e| format!("{}: {e}", kind.name()))
}

fn load_main(args: &[String]) -> Result<(), String> {
    let mut a = Args { args, at: 0 };
    let mut spec = loadgen::Spec {
        addr: SocketAddr::from(([127, 0, 0, 1], 7000)),
        conns: 64,
        size: 64,
        depth: 1,
        warmup: Duration::from_millis(500),
        duration: Duration::from_secs(5),
        threads: 1,
        flood: 0,
        server_pid: None,
    };
    while let Some(arg) = a.next() {
        match arg {
            "--addr" => {
                let v = a.value(arg)?;
                spec.addr = v.parse().map_err(|_| format!("--addr: {v:?} is not HOST:PORT"))?;
            }
            "--conns" => spec.conns = a.num(arg)?,
            "--size" => {
                let v = a.value(arg)?;
                spec.size = parse_size(v).ok_or(format!("--size: {v:?} is not a size like 64 or 4K"))?;
            }
            "--depth" => spec.depth = a.num(arg)?,
            "--duration" => spec.duration = a.secs(arg)?,
            "--warmup" => spec.warmup = a.secs(arg)?,
            "--threads" => spec.threads = a.num(arg)?,
            "--flood" => spec.flood = a.num(arg)?,
            "--server-pid" => spec.server_pid = Some(a.num(arg)?),
            "--bench" => {}
            other => return Err(format!("load: unknown argument {other:?}\n{USAGE}")),
        }
    }
    let out = loadgen::run(&spec)?;
    println!(
        "{} conns x {} B x depth {}: {:.0} msgs/s, p50 {:.1} us, p99 {:.1} us, p99.9 {:.1} us{}{}",
        spec.conns,
        spec.size,
        spec.depth,
        out.rate(),
        out.hist.value_at_quantile(0.5) as f64 / 1e3,
        out.hist.value_at_quantile(0.99) as f64 / 1e3,
        out.hist.value_at_quantile(0.999) as f64 / 1e3,
        match out.server_cpu {
            Some(c) if out.msgs > 0 => format!(", server CPU {:.2} us/msg", c * 1e6 / out.msgs as f64),
            _ => String::new(),
        },
        if spec.flood > 0 { format!(", {} resets by {} flooding peers", out.resets, spec.flood) } else { String::new() }
    );
    Ok(())
}

/// A workload: connections × message size, messages in flight per connection, and flooding
/// peers that send 1 MiB and reset beside them.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Workload {
    pub conns: usize,
    pub size: usize,
    pub depth: usize,
    pub flood: usize,
}

impl Workload {
    fn parse(s: &str) -> Option<Workload> {
        let (s, flood) = match s.split_once("+rst") {
            Some((s, n)) => (s, n.parse().ok().filter(|&n| n > 0)?),
            None => (s, 0),
        };
        let parts: Vec<&str> = s.split('x').collect();
        let (c, sz, d) = match parts.as_slice() {
            [c, sz] => (c, sz, "1"),
            [c, sz, d] => (c, sz, *d),
            _ => return None,
        };
        let w = Workload { conns: c.parse().ok()?, size: parse_size(sz)?, depth: d.parse().ok()?, flood };
        (w.conns > 0 && w.depth > 0).then_some(w)
    }

    pub fn label(&self) -> String {
        let size = if self.size % 1024 == 0 { format!("{} KiB", self.size / 1024) } else { format!("{} B", self.size) };
        let conns = if self.conns >= 1000 { format!("{} {:03}", self.conns / 1000, self.conns % 1000) } else { self.conns.to_string() };
        let base = if self.depth == 1 { format!("{conns} x {size}") } else { format!("{conns} x {size}, {} in flight", self.depth) };
        match self.flood {
            0 => base,
            n => format!("{base} + {n} peers sending 1 MiB and resetting"),
        }
    }
}

pub struct Config {
    pub rounds: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub workloads: Vec<Workload>,
    pub servers: Vec<Kind>,
    pub client_threads: usize,
    pub workers: usize,
    /// Per-connection buffer; 0 selects the idle-lean handler.
    pub buf: usize,
    pub memory: bool,
    /// Idle connections held open for the memory figures.
    pub memory_conns: usize,
    pub http: bool,
    pub out: Option<std::path::PathBuf>,
}

fn driver_main(args: &[String]) -> Result<(), String> {
    let mut cfg = Config {
        rounds: 3,
        duration: Duration::from_secs(2),
        warmup: Duration::from_millis(500),
        workloads: ["1x64", "64x64", "1000x64", "64x4K", "10000x64"].iter().filter_map(|w| Workload::parse(w)).collect(),
        servers: servers::ALL.to_vec(),
        client_threads: 1,
        workers: 2,
        buf: 4096,
        memory: true,
        memory_conns: 10_000,
        http: true,
        // This package lives in `benches/`; the results go to the workspace's `docs/bench`.
        out: Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(std::path::Path::new(".")).join("docs/bench")),
    };
    // `cargo bench` passes --bench; `cargo test --benches` does not: then this is a smoke test.
    let smoke = args.is_empty();
    let mut a = Args { args, at: 0 };
    while let Some(arg) = a.next() {
        match arg {
            "--bench" => {}
            "--rounds" => cfg.rounds = a.num(arg)?,
            "--duration" => cfg.duration = a.secs(arg)?,
            "--warmup" => cfg.warmup = a.secs(arg)?,
            "--workloads" => {
                let v = a.value(arg)?;
                cfg.workloads = v
                    .split(',')
                    .map(|w| Workload::parse(w).ok_or(format!("--workloads: {w:?} is not CONNSxSIZE[xDEPTH], e.g. 1000x64 or 64x4Kx8")))
                    .collect::<Result<_, _>>()?;
            }
            "--servers" => {
                let v = a.value(arg)?;
                cfg.servers = v
                    .split(',')
                    .map(|s| Kind::parse(s).ok_or(format!("--servers: unknown server {s:?} ({})", Kind::choices())))
                    .collect::<Result<_, _>>()?;
            }
            "--client-threads" => cfg.client_threads = a.num(arg)?,
            "--workers" => cfg.workers = a.num(arg)?,
            "--buf" => cfg.buf = a.num(arg)?,
            "--memory-conns" => cfg.memory_conns = a.num(arg)?,
            "--no-memory" => cfg.memory = false,
            "--no-http" => cfg.http = false,
            "--out" => cfg.out = Some(a.value(arg)?.into()),
            "--no-write" => cfg.out = None,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if cfg.rounds == 0 || cfg.client_threads == 0 || cfg.workers == 0 || cfg.memory_conns == 0 || cfg.servers.is_empty() {
        return Err("--rounds, --client-threads, --workers, --memory-conns and --servers must be at least 1".into());
    }
    if smoke {
        println!(
            "echo: no --bench flag: smoke test (1 round, 4 x 64 B and 1 x 64 B beside 2 resetting peers, 0.2 s per server; a few HTTP requests to every HTTP server); `cargo bench -p runtime-benches --bench echo` runs the comparison"
        );
        cfg.rounds = 1;
        cfg.duration = Duration::from_millis(200);
        cfg.warmup = Duration::from_millis(50);
        cfg.workloads = vec![Workload { conns: 4, size: 64, depth: 2, flood: 0 }, Workload { conns: 1, size: 64, depth: 1, flood: 2 }];
        cfg.memory = false;
        cfg.http = false;
        cfg.out = None;
    }
    let limit = sys::raise_nofile().map_err(|e| format!("raising RLIMIT_NOFILE: {e}"))?;
    let most_conns = cfg.workloads.iter().map(|w| w.conns).chain(cfg.memory.then_some(cfg.memory_conns)).max().unwrap_or(0);
    if most_conns as u64 + 64 > limit {
        return Err(format!("{most_conns} connections need more than the {limit} file descriptors RLIMIT_NOFILE allows"));
    }
    let started = Instant::now();
    let mut results = report::Results::new(&cfg);
    if smoke {
        http_smoke(&cfg)?;
    }
    if !cfg.servers.iter().any(|k| k.speaks_echo()) {
        cfg.workloads.clear(); // only HTTP servers were asked for
    }
    for w in cfg.workloads.clone() {
        let samples = run_workload(&cfg, w)?;
        report::print_echo(&samples);
        results.echo.push((w, samples));
    }
    if cfg.memory {
        let memory = memory(&cfg)?;
        report::print_memory(&memory);
        results.memory = Some(memory);
    }
    if cfg.http {
        results.http = http(&cfg)?;
        report::print_http(&results.http);
    }
    println!("\ntotal {:.0} s", started.elapsed().as_secs_f64());
    if let Some(dir) = &cfg.out {
        report::write(&cfg, &results, dir)?;
    }
    Ok(())
}

/// A server child process, killed by PID (SIGKILL) and reaped when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub kind: Kind,
}

impl Server {
    /// Starts `kind` with a `buf`-byte buffer per connection (0: the idle-lean handler).
    fn start(kind: Kind, proto: Proto, buf: usize, cfg: &Config) -> Result<Server, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut child = Command::new(exe)
            .args(["server", "--runtime", kind.name(), "--addr", "127.0.0.1:0"])
            .args(["--proto", if proto == Proto::Http { "http" } else { "echo" }])
            .args(["--buf", &buf.to_string(), "--workers", &cfg.workers.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting the {} server: {e}", kind.name()))?;
        let mut line = String::new();
        let stdout = child.stdout.take();
        let read = stdout.map(|s| BufReader::new(s).read_line(&mut line));
        let mut server = Server { child, addr: SocketAddr::from(([127, 0, 0, 1], 0)), kind };
        match read {
            Some(Ok(n)) if n > 0 => {}
            _ => return Err(format!("the {} server exited before listening", kind.name())),
        }
        server.addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .ok_or(format!("the {} server printed {line:?}, not its address", kind.name()))?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One run's figures.
#[derive(Clone, Debug)]
pub struct Sample {
    pub kind: Kind,
    /// Messages (echo) or requests (HTTP) per second.
    pub rate: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Server CPU microseconds per message.
    pub cpu_us: Option<f64>,
}

/// The servers in this round's order: as given on odd rounds, reversed on even ones.
fn round_order(servers: &[Kind], round: usize) -> Vec<Kind> {
    let mut v = servers.to_vec();
    if round % 2 == 1 {
        v.reverse();
    }
    v
}

fn run_workload(cfg: &Config, w: Workload) -> Result<Vec<Vec<Sample>>, String> {
    println!(
        "\n== {} ({} rounds, {:.1} s + {:.1} s warm-up per run)",
        w.label(),
        cfg.rounds,
        cfg.duration.as_secs_f64(),
        cfg.warmup.as_secs_f64()
    );
    let servers: Vec<Kind> = cfg.servers.iter().copied().filter(|k| k.speaks_echo()).collect();
    let mut rounds = Vec::new();
    for r in 0..cfg.rounds {
        let mut samples = Vec::new();
        for kind in round_order(&servers, r) {
            let server = Server::start(kind, Proto::Echo, cfg.buf, cfg)?;
            let spec = loadgen::Spec {
                addr: server.addr,
                conns: w.conns,
                size: w.size,
                depth: w.depth,
                warmup: cfg.warmup,
                duration: cfg.duration,
                threads: cfg.client_threads,
                flood: w.flood,
                server_pid: Some(server.pid()),
            };
            let out = loadgen::run(&spec).map_err(|e| format!("{} against {}, round {}: {e}", w.label(), kind.name(), r + 1))?;
            drop(server);
            let s = Sample {
                kind,
                rate: out.rate(),
                p50_us: out.hist.value_at_quantile(0.5) as f64 / 1e3,
                p99_us: out.hist.value_at_quantile(0.99) as f64 / 1e3,
                cpu_us: out.server_cpu.filter(|_| out.msgs > 0).map(|c| c * 1e6 / out.msgs as f64),
            };
            eprintln!(
                "   round {} {:<14} {:>10.0} msgs/s  p50 {:>8.1} us  p99 {:>8.1} us  cpu {}{}",
                r + 1,
                kind.name(),
                s.rate,
                s.p50_us,
                s.p99_us,
                s.cpu_us.map_or("-".into(), |c| format!("{c:.2} us/msg")),
                if w.flood > 0 { format!("  {} resets", out.resets) } else { String::new() }
            );
            samples.push(s);
        }
        rounds.push(samples);
    }
    Ok(rounds)
}

/// Memory per idle connection, per server and round.
pub struct Memory {
    /// Idle connections held open.
    pub conns: usize,
    /// The buffer of the first figure (0: only the idle-lean figure was measured).
    pub buf: usize,
    pub rows: Vec<MemoryRow>,
}

/// One server's figures, one entry per round (`VmRSS` delta divided by the connections).
pub struct MemoryRow {
    pub kind: Kind,
    /// Bytes per connection with the usual handler and its `buf`-byte buffer.
    pub buffered: Vec<f64>,
    /// Bytes per connection with the idle-lean handler: the runtime's own (task + registration).
    pub lean: Vec<f64>,
}

fn memory(cfg: &Config) -> Result<Memory, String> {
    let n = cfg.memory_conns;
    println!(
        "\n== memory per idle connection, {n} connections open: RSS with a {} B buffer each, and the runtime's own (idle-lean handler)",
        cfg.buf
    );
    let kinds: Vec<Kind> = cfg.servers.iter().copied().filter(|k| k.speaks_echo() && *k != Kind::RawEpoll).collect();
    let mut out = Memory {
        conns: n,
        buf: cfg.buf,
        rows: kinds.iter().map(|&kind| MemoryRow { kind, buffered: Vec::new(), lean: Vec::new() }).collect(),
    };
    // The buffered figure first, then the lean one; with --buf 0 they are the same run.
    let bufs: &[usize] = if cfg.buf == 0 { &[0] } else { &[cfg.buf, 0] };
    for r in 0..cfg.rounds {
        for kind in round_order(&kinds, r) {
            for &buf in bufs {
                let per = idle_bytes_per_conn(cfg, kind, buf, r)?;
                if let Some(row) = out.rows.iter_mut().find(|e| e.kind == kind) {
                    if buf == 0 {
                        row.lean.push(per);
                    } else {
                        row.buffered.push(per);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Starts `kind` with a `buf`-byte buffer (0: idle-lean), opens `cfg.memory_conns` connections,
/// echoes once on each so every handler has run and is parked, and returns the VmRSS growth
/// per connection.
fn idle_bytes_per_conn(cfg: &Config, kind: Kind, buf: usize, round: usize) -> Result<f64, String> {
    let n = cfg.memory_conns;
    let server = Server::start(kind, Proto::Echo, buf, cfg)?;
    std::thread::sleep(Duration::from_millis(200));
    let before = sys::rss_bytes(server.pid()).ok_or("cannot read VmRSS")?;
    let mut conns = loadgen::connect_all(server.addr, n)?;
    // One 64-byte echo on every connection, so each server task has run and is parked in read.
    let msg = [0x5au8; 64];
    for c in &mut conns {
        c.write_all(&msg).map_err(|e| format!("memory: write: {e}"))?;
    }
    let mut back = [0u8; 64];
    for c in &mut conns {
        c.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
        c.read_exact(&mut back).map_err(|e| format!("memory: {} echo: {e}", kind.name()))?;
        if back != msg {
            return Err(format!("memory: {} echoed the wrong bytes", kind.name()));
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = sys::rss_bytes(server.pid()).ok_or("cannot read VmRSS")?;
    let per = (after as f64 - before as f64) / n as f64;
    eprintln!(
        "   round {} {:<14} {:<12} RSS {:.1} MiB -> {:.1} MiB: {per:.0} B per connection",
        round + 1,
        kind.name(),
        if buf == 0 { "idle-lean".to_string() } else { format!("{buf} B buffer") },
        before as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    Ok(per)
}

/// wrk's runs: (label, per round samples, each a [`Sample`] whose `rate` is requests/s and
/// `cpu_us` server CPU per request).
pub type Http = Vec<(String, Vec<Vec<Sample>>)>;

const HTTP_CONNS: usize = 64;
const PIPELINE: usize = 16;

fn http(cfg: &Config) -> Result<Http, String> {
    if Command::new("wrk").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        println!("\n== http: wrk is not installed (benches/echo-ratios.sh installs it with apt-get); skipped");
        return Ok(Vec::new());
    }
    let script = std::env::temp_dir().join(format!("echo-bench-pipeline-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        format!(
            "init = function(args)\n  local r = {{}}\n  for i = 1, {PIPELINE} do r[i] = wrk.format(nil, \"/\") end\n  req = table.concat(r)\nend\nrequest = function() return req end\n"
        ),
    )
    .map_err(|e| format!("writing the wrk script: {e}"))?;
    let kinds: Vec<Kind> = cfg.servers.iter().copied().filter(|k| k.speaks_http()).collect();
    let secs = cfg.duration.as_secs().max(2);
    let mut all = Vec::new();
    for (label, pipelined) in
        [(format!("keep-alive, {HTTP_CONNS} connections"), false), (format!("pipelined x{PIPELINE}, {HTTP_CONNS} connections"), true)]
    {
        println!("\n== http: wrk -t1 -c{HTTP_CONNS} -d{secs}s{} ({} rounds)", if pipelined { " -s pipeline.lua" } else { "" }, cfg.rounds);
        let mut rounds = Vec::new();
        for r in 0..cfg.rounds {
            let mut samples = Vec::new();
            for kind in round_order(&kinds, r) {
                let server = Server::start(kind, Proto::Http, cfg.buf, cfg)?;
                let cpu0 = sys::cpu_seconds(server.pid());
                let mut cmd = Command::new("wrk");
                cmd.args(["-t1", &format!("-c{HTTP_CONNS}"), &format!("-d{secs}s"), "--latency"]);
                if pipelined {
                    cmd.arg("-s").arg(&script);
                }
                let output = cmd.arg(format!("http://{}/", server.addr)).output().map_err(|e| format!("running wrk: {e}"))?;
                let cpu1 = sys::cpu_seconds(server.pid());
                drop(server);
                let text = String::from_utf8_lossy(&output.stdout).into_owned();
                let s = parse_wrk(kind, &text, cpu0.zip(cpu1).map(|(a, b)| b - a))
                    .ok_or(format!("could not read wrk's output against {}:\n{text}", kind.name()))?;
                eprintln!(
                    "   round {} {:<14} {:>10.0} req/s  p50 {:>8.1} us  p99 {:>8.1} us",
                    r + 1,
                    kind.name(),
                    s.rate,
                    s.p50_us,
                    s.p99_us
                );
                samples.push(s);
            }
            rounds.push(samples);
        }
        all.push((label, rounds));
    }
    let _ = std::fs::remove_file(&script);
    Ok(all)
}

/// The smoke test's HTTP part (no wrk): every HTTP server of `cfg.servers` answers two
/// keep-alive requests and then two pipelined ones on one connection, each with `200 OK` and
/// the http-hello body.
fn http_smoke(cfg: &Config) -> Result<(), String> {
    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
    let body = std::str::from_utf8(http_hello::http1::BODY).map_err(|e| e.to_string())?;
    for kind in cfg.servers.iter().copied().filter(|k| k.speaks_http()) {
        let server = Server::start(kind, Proto::Http, cfg.buf, cfg)?;
        let fail = |what: String| format!("http smoke test against {}: {what}", kind.name());
        let mut stream = std::net::TcpStream::connect(server.addr).map_err(|e| fail(format!("connect: {e}")))?;
        stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| fail(e.to_string()))?;
        let mut answered = 0;
        let mut text = String::new();
        for batch in [1, 1, 2] {
            stream.write_all(&REQUEST.repeat(batch)).map_err(|e| fail(format!("write: {e}")))?;
            answered += batch;
            // Read until every response so far has arrived whole (each ends with the body).
            let mut buf = [0u8; 4096];
            while text.matches(body).count() < answered {
                let n = stream.read(&mut buf).map_err(|e| fail(format!("read: {e} (after {text:?})")))?;
                if n == 0 {
                    return Err(fail(format!("the connection closed after {text:?}")));
                }
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
        if text.matches("HTTP/1.1 200 OK\r\n").count() != answered {
            return Err(fail(format!("expected {answered} responses 200 OK, got {text:?}")));
        }
        println!("   {:<14} answered {answered} requests (keep-alive and pipelined)", kind.name());
    }
    Ok(())
}

/// Reads requests/s, the latency distribution and the request count from wrk's report; a run
/// with socket errors or non-2xx answers fails.
fn parse_wrk(kind: Kind, text: &str, cpu: Option<f64>) -> Option<Sample> {
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        eprintln!("wrk reported errors against {}:\n{text}", kind.name());
        return None;
    }
    let dur = |s: &str| -> Option<f64> {
        let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
        let v: f64 = num.parse().ok()?;
        Some(match unit {
            "us" => v,
            "ms" => v * 1e3,
            "s" => v * 1e6,
            _ => return None,
        })
    };
    let mut rps = None;
    let (mut p50, mut p99, mut requests) = (None, None, None);
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["Requests/sec:", v] => rps = v.parse().ok(),
            ["50%", v] => p50 = dur(v),
            ["99%", v] => p99 = dur(v),
            [n, "requests", "in", ..] => requests = n.parse::<f64>().ok(),
            _ => {}
        }
    }
    let cpu_us = cpu.zip(requests).filter(|(_, n)| *n > 0.0).map(|(c, n)| c * 1e6 / n);
    Some(Sample { kind, rate: rps?, p50_us: p50?, p99_us: p99?, cpu_us })
}
