//! `top` for a program running on this runtime: attaches to its inspector socket
//! (`runtime::inspect::serve`) and shows a live terminal view of its workers, its reactor and
//! its tasks, refreshed each second (plain ANSI; no TUI crate).
//!
//! ```text
//! cargo run --release --example echo-server -- --inspect /tmp/echo.sock
//! cargo run --release --example top -- /tmp/echo.sock            # live, Ctrl-C to quit
//! cargo run --release --example top -- /tmp/echo.sock --once     # one frame, no ANSI
//! ```
//!
//! Rates (polls/s, harvests/s, …) are the difference of two samples one second apart, so
//! `--once` takes two samples before it prints. The protocol is in `runtime::inspect`'s docs.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: top SOCKET [--once] [--tasks N]   (N: task rows shown, default 20)";

struct Args {
    socket: String,
    once: bool,
    tasks: usize,
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("top: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("top: {}: {e}", args.socket);
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> std::io::Result<()> {
    let mut conn = Connection::open(&args.socket)?;
    let mut previous = conn.sample()?;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let current = conn.sample()?;
        let frame = render(args, &previous, &current);
        if args.once {
            print!("{frame}");
            return Ok(());
        }
        // Home, clear, frame.
        print!("\x1b[H\x1b[2J{frame}");
        std::io::stdout().flush()?;
        previous = current;
    }
}

/// One connection to the inspector.
struct Connection {
    reader: BufReader<UnixStream>,
}

impl Connection {
    fn open(path: &str) -> std::io::Result<Connection> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        Ok(Connection { reader: BufReader::new(stream) })
    }

    /// Sends `command`, returns the reply's lines (up to the lone `.`).
    fn request(&mut self, command: &str) -> std::io::Result<Vec<String>> {
        self.reader.get_mut().write_all(format!("{command}\n").as_bytes())?;
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the inspector closed the connection"));
            }
            let line = line.trim_end_matches('\n');
            if line == "." {
                return Ok(lines);
            }
            lines.push(line.to_string());
        }
    }

    fn sample(&mut self) -> std::io::Result<Sample> {
        let metrics = self.request("metrics")?;
        let dump = self.request("dump")?;
        let fdinfo = self.request("fdinfo")?;
        Ok(Sample { at: Instant::now(), metrics: Metrics::parse(&metrics), dump, fdinfo })
    }
}

struct Sample {
    at: Instant,
    metrics: Metrics,
    dump: Vec<String>,
    fdinfo: Vec<String>,
}

/// The `metrics` reply: `key value` facts and one `worker i key value …` line per worker.
#[derive(Default)]
struct Metrics {
    facts: HashMap<String, String>,
    workers: Vec<HashMap<String, u64>>,
}

impl Metrics {
    fn parse(lines: &[String]) -> Metrics {
        let mut m = Metrics::default();
        for line in lines {
            if let Some(rest) = line.strip_prefix("worker ") {
                let mut words = rest.split(' ').skip(1);
                let mut fields = HashMap::new();
                while let (Some(k), Some(v)) = (words.next(), words.next()) {
                    fields.insert(k.to_string(), v.parse().unwrap_or(0));
                }
                m.workers.push(fields);
            } else if let Some((key, value)) = line.rsplit_once(' ').filter(|_| !line.contains("histogram")) {
                m.facts.insert(key.to_string(), value.to_string());
            } else if let Some(h) = line.strip_prefix("reactor harvest_histogram ") {
                m.facts.insert("reactor harvest_histogram".to_string(), h.to_string());
            }
        }
        m
    }

    fn get(&self, key: &str) -> u64 {
        self.facts.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    fn text(&self, key: &str) -> &str {
        self.facts.get(key).map_or("?", String::as_str)
    }
}

fn render(args: &Args, prev: &Sample, cur: &Sample) -> String {
    let secs = cur.at.duration_since(prev.at).as_secs_f64().max(1e-3);
    let rate = |a: u64, b: u64| b.saturating_sub(a) as f64 / secs;
    let (p, c) = (&prev.metrics, &cur.metrics);
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("runtime top — {} — {}, {} worker(s)   (refresh 1 s)", args.socket, c.text("flavor"), c.get("workers")));
    line(format!(
        "tasks: {} alive, {} spawned ({:.0}/s), {} completed   global queue: {}",
        c.get("alive_tasks"),
        c.get("spawned_tasks"),
        rate(p.get("spawned_tasks"), c.get("spawned_tasks")),
        c.get("completed_tasks"),
        c.get("global_queue_depth")
    ));
    line(String::new());
    line(format!(
        "{:>6}  {:>10}  {:>8}  {:>8}  {:>6}  {:>7}  {:>12}",
        "WORKER", "POLLS/s", "PARKS/s", "STEALS/s", "BUSY", "LOCAL Q", "POLLS"
    ));
    for (i, w) in c.workers.iter().enumerate() {
        let before = p.workers.get(i);
        let field = |m: Option<&HashMap<String, u64>>, k: &str| m.and_then(|m| m.get(k)).copied().unwrap_or(0);
        let busy = rate(field(before, "busy_ns"), field(Some(w), "busy_ns")) / 1e9 * 100.0;
        line(format!(
            "{:>6}  {:>10.0}  {:>8.0}  {:>8.0}  {:>5.1}%  {:>7}  {:>12}",
            i,
            rate(field(before, "polls"), field(Some(w), "polls")),
            rate(field(before, "parks"), field(Some(w), "parks")),
            rate(field(before, "steals"), field(Some(w), "steals")),
            busy.min(100.0),
            field(Some(w), "local_queue_depth"),
            field(Some(w), "polls"),
        ));
    }
    line(String::new());
    let r = |k: &str| rate(p.get(&format!("reactor {k}")), c.get(&format!("reactor {k}")));
    let harvests = r("harvests");
    let events = r("events_reported");
    line(format!(
        "REACTOR  registrations {}   harvests/s {:.0}   events/s {:.0} ({:.1} per harvest)   OS polls/s {:.0}   triggers/s {:.0}",
        c.get("reactor registrations"),
        harvests,
        events,
        if harvests > 0.0 { events / harvests } else { 0.0 },
        r("os_polls"),
        r("user_triggers")
    ));
    let labels = ["0", "1", "2-3", "4-7", "8-15", "16-31", "32-63", "64-127", "128+"];
    let hist: Vec<String> = c.text("reactor harvest_histogram").split(' ').zip(labels).map(|(n, label)| format!("{label}:{n}")).collect();
    line(format!(
        "         events per harvest {}   overflow uses {}   LT re-queues {}",
        hist.join(" "),
        c.get("reactor overflow_uses"),
        c.get("reactor lt_requeues")
    ));
    line(String::new());
    // The dump's header, then its busiest rows.
    let mut rows: Vec<&String> = cur.dump.iter().skip(1).collect();
    let polls = |row: &str| row.split_whitespace().nth(2).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0);
    rows.sort_by_key(|row| std::cmp::Reverse(polls(row)));
    line(format!("TASKS ({} shown of {}, by polls)", rows.len().min(args.tasks), rows.len()));
    if let Some(header) = cur.dump.first() {
        line(header.clone());
    }
    for row in rows.iter().take(args.tasks) {
        line((*row).clone());
    }
    line(String::new());
    line(format!("REGISTRATIONS ({} shown of {})", cur.fdinfo.len().min(10), cur.fdinfo.len()));
    for reg in cur.fdinfo.iter().take(10) {
        line(reg.clone());
    }
    out
}

/// `Ok(None)` for `--help`.
fn parse_args() -> Result<Option<Args>, String> {
    let mut socket = None;
    let mut once = false;
    let mut tasks = 20;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--once" => once = true,
            "--tasks" => tasks = args.next().and_then(|v| v.parse().ok()).ok_or("--tasks needs a number")?,
            "-h" | "--help" => return Ok(None),
            other if other.starts_with('-') => return Err(format!("unknown argument {other:?}")),
            path if socket.is_none() => socket = Some(path.to_string()),
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    Ok(Some(Args { socket: socket.ok_or("the inspector's socket path is missing")?, once, tasks }))
}
