//! Medians, per-round ratios, the printed tables, `echo-results.md` and the SVG plots.
//!
//! Every figure is the median over rounds with its min-max; every ratio is the median of the
//! per-round ratios (both servers of a pair ran in the same round, back to back or nearly), so
//! a noisy round moves one ratio, not the whole column.

use crate::servers::{Kind, ALL};
use crate::{Config, Http, Memory, Sample, Workload};
use std::fmt::Write as _;
use std::path::Path;

pub struct Results {
    pub echo: Vec<(Workload, Vec<Vec<Sample>>)>,
    pub memory: Option<Memory>,
    pub http: Http,
    pub rounds: usize,
    pub duration: f64,
}

impl Results {
    pub fn new(cfg: &Config) -> Results {
        Results { echo: Vec::new(), memory: None, http: Vec::new(), rounds: cfg.rounds, duration: cfg.duration.as_secs_f64() }
    }
}

/// Median, min and max.
#[derive(Copy, Clone)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

pub fn spread(mut v: Vec<f64>) -> Option<Spread> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    Some(Spread { median, min: v[0], max: v[n - 1] })
}

/// The pairs compared, ours first: each peer runtime of the same flavor, then the raw-epoll
/// ceiling; hyper on ours against hyper on tokio (HTTP only).
const PAIRS: [(Kind, Kind); 8] = [
    (Kind::OursMt, Kind::TokioMt),
    (Kind::OursMt, Kind::SmolMt),
    (Kind::OursMt, Kind::RawEpoll),
    (Kind::OursCt, Kind::TokioCt),
    (Kind::OursCt, Kind::SmolCt),
    (Kind::OursCt, Kind::RawEpoll),
    (Kind::HyperOursMt, Kind::HyperTokioMt),
    (Kind::HyperOursCt, Kind::HyperTokioCt),
];

/// The two flavors a plot covers: (title, file suffix, servers).
const FLAVORS: [(&str, &str, [Kind; 4]); 2] = [
    ("multi-thread", "mt", [Kind::OursMt, Kind::TokioMt, Kind::SmolMt, Kind::RawEpoll]),
    ("current-thread", "ct", [Kind::OursCt, Kind::TokioCt, Kind::SmolCt, Kind::RawEpoll]),
];

/// A figure of a sample: msgs/s, p99 or CPU per message.
type Metric = fn(&Sample) -> Option<f64>;

const RATE: Metric = |s| Some(s.rate);
const P50: Metric = |s| Some(s.p50_us);
/// `None` where the load generator gave no usable tail (wrk prints 0 for some pipelined runs).
const P99: Metric = |s| (s.p99_us > 0.0).then_some(s.p99_us);
const CPU: Metric = |s| s.cpu_us;

fn of(rounds: &[Vec<Sample>], kind: Kind, f: Metric) -> Vec<f64> {
    rounds.iter().flat_map(|r| r.iter().filter(|s| s.kind == kind).filter_map(f)).collect()
}

/// Per-round ratios a/b of a figure.
fn ratios(rounds: &[Vec<Sample>], a: Kind, b: Kind, f: Metric) -> Option<Spread> {
    let v = rounds
        .iter()
        .filter_map(|r| {
            let x = r.iter().find(|s| s.kind == a).and_then(f)?;
            let y = r.iter().find(|s| s.kind == b).and_then(f)?;
            (y > 0.0).then(|| x / y)
        })
        .collect();
    spread(v)
}

fn fmt_num(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.0}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

fn fmt_us(x: f64) -> String {
    if x >= 1e4 {
        format!("{:.1} ms", x / 1e3)
    } else {
        format!("{x:.0} us")
    }
}

fn fmt_ratio(s: Option<Spread>) -> String {
    s.map_or("-".into(), |s| format!("{:.2}x ({:.2}-{:.2})", s.median, s.min, s.max))
}

fn fmt_bytes(s: Option<Spread>) -> String {
    s.map_or("-".into(), |s| format!("{:.0} ({:.0}-{:.0})", s.median, s.min, s.max))
}

struct Row {
    kind: Kind,
    rate: Spread,
    p50: Spread,
    /// `None` where the load generator gave no usable tail.
    p99: Option<Spread>,
    cpu: Option<Spread>,
}

impl Row {
    fn rate_text(&self) -> String {
        format!("{} ({}-{})", fmt_num(self.rate.median), fmt_num(self.rate.min), fmt_num(self.rate.max))
    }

    fn cpu_text(&self) -> String {
        self.cpu.map_or("-".into(), |c| format!("{:.2}", c.median))
    }
}

/// One row per server that ran, in [`ALL`]'s order.
fn rows(rounds: &[Vec<Sample>]) -> Vec<Row> {
    let mut kinds: Vec<Kind> = rounds.first().map(|r| r.iter().map(|s| s.kind).collect()).unwrap_or_default();
    kinds.sort_by_key(|k| ALL.iter().position(|x| x == k));
    kinds
        .into_iter()
        .filter_map(|k| {
            Some(Row {
                kind: k,
                rate: spread(of(rounds, k, RATE))?,
                p50: spread(of(rounds, k, P50))?,
                p99: spread(of(rounds, k, P99)),
                cpu: spread(of(rounds, k, CPU)),
            })
        })
        .collect()
}

/// The ratios of one pair of [`PAIRS`], ours / peer.
struct PairRatios {
    ours: Kind,
    peer: Kind,
    rate: Spread,
    p99: Option<Spread>,
    cpu: Option<Spread>,
}

/// The pairs of [`PAIRS`] that both ran.
fn pair_ratios(rounds: &[Vec<Sample>]) -> Vec<PairRatios> {
    PAIRS
        .into_iter()
        .filter_map(|(ours, peer)| {
            Some(PairRatios {
                ours,
                peer,
                rate: ratios(rounds, ours, peer, RATE)?,
                p99: ratios(rounds, ours, peer, P99),
                cpu: ratios(rounds, ours, peer, CPU),
            })
        })
        .collect()
}

/// What a rate counts: echoed messages or HTTP requests.
#[derive(Copy, Clone)]
struct Unit {
    /// The rate's column, `msgs/s`.
    rate: &'static str,
    /// One of them, `msg`.
    one: &'static str,
}

const MSGS: Unit = Unit { rate: "msgs/s", one: "msg" };
const REQS: Unit = Unit { rate: "req/s", one: "req" };

/// A table of servers and the ratio lines under it.
fn print_table(rounds: &[Vec<Sample>], unit: Unit) {
    println!(
        "{:<14} {:>24} {:>9} {:>9} {:>14}",
        "server",
        format!("{} (min-max)", unit.rate),
        "p50",
        "p99",
        format!("CPU us/{}", unit.one)
    );
    for r in rows(rounds) {
        println!(
            "{:<14} {:>24} {:>9} {:>9} {:>14}",
            r.kind.name(),
            r.rate_text(),
            fmt_us(r.p50.median),
            r.p99.map_or("-".into(), |p| fmt_us(p.median)),
            r.cpu_text()
        );
    }
    for p in pair_ratios(rounds) {
        println!(
            "{:>14} / {:<14} {} {:<20} p99 {:<20} CPU/{} {}",
            p.ours.name(),
            p.peer.name(),
            unit.rate,
            fmt_ratio(Some(p.rate)),
            fmt_ratio(p.p99),
            unit.one,
            fmt_ratio(p.cpu)
        );
    }
}

pub fn print_echo(rounds: &[Vec<Sample>]) {
    print_table(rounds, MSGS);
}

pub fn print_http(http: &Http) {
    for (label, rounds) in http {
        println!("-- {label}");
        print_table(rounds, REQS);
    }
}

/// Per-round ratios a/b of a memory figure (rounds paired by index).
fn memory_ratio(mem: &Memory, a: Kind, b: Kind, lean: bool) -> Option<Spread> {
    let pick = |k: Kind| mem.rows.iter().find(|r| r.kind == k).map(|r| if lean { &r.lean } else { &r.buffered });
    let (x, y) = (pick(a)?, pick(b)?);
    spread(x.iter().zip(y).filter(|(_, y)| **y > 0.0).map(|(x, y)| x / y).collect())
}

/// The memory pairs that both ran: ours against each peer of its flavor.
fn memory_pairs(mem: &Memory) -> Vec<(Kind, Kind)> {
    let ran = |k: Kind| mem.rows.iter().any(|r| r.kind == k);
    PAIRS.into_iter().filter(|&(a, b)| b != Kind::RawEpoll && ran(a) && ran(b)).collect()
}

fn buffered_label(mem: &Memory) -> String {
    format!("RSS with a {} B buffer", mem.buf)
}

pub fn print_memory(mem: &Memory) {
    let buffered = mem.buf > 0;
    println!(
        "{:<10} {:>28} {:>28}   (bytes per idle connection, {} open)",
        "server",
        if buffered { buffered_label(mem) } else { "-".into() },
        "runtime's own (idle-lean)",
        mem.conns
    );
    for r in &mem.rows {
        println!("{:<10} {:>28} {:>28}", r.kind.name(), fmt_bytes(spread(r.buffered.clone())), fmt_bytes(spread(r.lean.clone())));
    }
    for (a, b) in memory_pairs(mem) {
        println!(
            "{:>9} / {:<9} {:>28} {:>28}",
            a.name(),
            b.name(),
            if buffered { fmt_ratio(memory_ratio(mem, a, b, false)) } else { "-".into() },
            fmt_ratio(memory_ratio(mem, a, b, true))
        );
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok()))
        .map_or(String::new(), |kb| format!(", {:.0} GiB", kb / 1048576.0));
    format!("{cpu}, {cores} cores{mem}, Linux {kernel}")
}

/// The absolute table and the ratio table of one set of runs (echo workloads or wrk runs),
/// as markdown; `label` is the first column of every row.
fn md_tables(md: &mut String, unit: Unit, sets: &[(String, &Vec<Vec<Sample>>)]) {
    let _ = writeln!(md, "| workload | server | {} | p50 | p99 | CPU µs/{} |", unit.rate, unit.one);
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for (label, rounds) in sets {
        for r in rows(rounds) {
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} | {} |",
                r.kind.name(),
                r.rate_text(),
                fmt_us(r.p50.median),
                r.p99.map_or("-".into(), |p| fmt_us(p.median)),
                r.cpu_text()
            );
        }
    }
    let _ = writeln!(md, "\nRatios ours / peer, same flavor (higher {} is better, lower p99 and CPU are better):\n", unit.rate);
    let _ = writeln!(md, "| workload | ours / peer | {} | p99 | CPU/{} |", unit.rate, unit.one);
    let _ = writeln!(md, "|---|---|---|---|---|");
    for (label, rounds) in sets {
        for p in pair_ratios(rounds) {
            let _ = writeln!(
                md,
                "| {label} | {} / {} | {} | {} | {} |",
                p.ours.name(),
                p.peer.name(),
                fmt_ratio(Some(p.rate)),
                fmt_ratio(p.p99),
                fmt_ratio(p.cpu)
            );
        }
    }
}

/// Writes `echo-results.md` and, per flavor, `echo-msgs-per-sec-{mt,ct}.svg` and
/// `echo-cpu-per-msg-{mt,ct}.svg` into `dir`.
pub fn write(cfg: &Config, res: &Results, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let mut plots = Vec::new();
    for (title, suffix, kinds) in FLAVORS {
        let rate = dir.join(format!("echo-msgs-per-sec-{suffix}.svg"));
        if bars(res, &kinds, RATE, &format!("Echo, {title}: messages per second (higher is better)"), "msgs/s", &rate)? {
            plots.push(format!("![{title}: msgs/s per workload]({})", file_name(&rate)));
            written.push(rate);
        }
        let cpu = dir.join(format!("echo-cpu-per-msg-{suffix}.svg"));
        if bars(res, &kinds, CPU, &format!("Echo, {title}: server CPU per message (lower is better)"), "CPU µs per message", &cpu)? {
            plots.push(format!("![{title}: server CPU per message]({})", file_name(&cpu)));
            written.push(cpu);
        }
    }

    let mut md = String::new();
    let _ = writeln!(md, "# Echo benchmark: ours against tokio and smol\n");
    let _ = writeln!(
        md,
        "Machine: {}. Generated by `cargo bench -p runtime-benches --bench echo` ({} rounds, {:.1} s measured per run after {:.1} s \
         warm-up, servers alternating within a round and the order flipped every round; {} load-generator thread(s) on kernel \
         epoll in the driver process, each server a separate process with {} worker threads for the multi-thread runtimes and \
         {} per connection). Figures are medians over rounds (min-max); ratios are medians of the per-round ratios. CPU is the \
         server's utime+stime from /proc/PID/stat over the measured window divided by the messages echoed in it.\n",
        machine(),
        res.rounds,
        res.duration,
        cfg.warmup.as_secs_f64(),
        cfg.client_threads,
        cfg.workers,
        if cfg.buf == 0 { "the idle-lean handler".to_string() } else { format!("a {} B buffer", cfg.buf) }
    );
    for p in &plots {
        let _ = writeln!(md, "{p}\n");
    }
    if !res.echo.is_empty() {
        let _ = writeln!(md, "## Echo\n");
        let sets: Vec<(String, &Vec<Vec<Sample>>)> = res.echo.iter().map(|(w, r)| (w.label(), r)).collect();
        md_tables(&mut md, MSGS, &sets);
    }
    if let Some(mem) = &res.memory {
        let _ = writeln!(md, "\n## Memory per idle connection ({} connections open, VmRSS delta per connection)\n", mem.conns);
        let _ = writeln!(
            md,
            "Two figures per server: RSS growth with the usual handler and its buffer, and the runtime's own bytes: the \
             idle-lean handler (`--buf 0`) awaits `readable()` before it allocates a buffer, reads without waiting \
             (`try_read`) and frees the buffer before it waits again, so what remains per idle connection is the task and \
             the I/O registration (smol's lean handler works on the `Async<std::net::TcpStream>` inside \
             `smol::net::TcpStream`, which has no `readable()`).\n"
        );
        let buffered = if mem.buf > 0 { buffered_label(mem) } else { "-".into() };
        let _ = writeln!(md, "| server | {buffered} | runtime's own (idle-lean) |");
        let _ = writeln!(md, "|---|---|---|");
        for r in &mem.rows {
            let _ =
                writeln!(md, "| {} | {} | {} |", r.kind.name(), fmt_bytes(spread(r.buffered.clone())), fmt_bytes(spread(r.lean.clone())));
        }
        let _ = writeln!(md, "\n| ours / peer | {buffered} | runtime's own (idle-lean) |");
        let _ = writeln!(md, "|---|---|---|");
        for (a, b) in memory_pairs(mem) {
            let _ = writeln!(
                md,
                "| {} / {} | {} | {} |",
                a.name(),
                b.name(),
                if mem.buf > 0 { fmt_ratio(memory_ratio(mem, a, b, false)) } else { "-".into() },
                fmt_ratio(memory_ratio(mem, a, b, true))
            );
        }
    }
    if !res.http.is_empty() {
        let _ = writeln!(md, "\n## HTTP: wrk against the http-hello handler, and against hyper's HTTP/1 server on ours and on tokio\n");
        let sets: Vec<(String, &Vec<Vec<Sample>>)> = res.http.iter().map(|(l, r)| (l.clone(), r)).collect();
        md_tables(&mut md, REQS, &sets);
    }
    let md_path = dir.join("echo-results.md");
    std::fs::write(&md_path, md).map_err(|e| format!("writing {}: {e}", md_path.display()))?;
    println!("wrote {}", md_path.display());
    for p in written {
        println!("wrote {}", p.display());
    }
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// One color per runtime, the same in every plot: ours red, tokio blue, smol green, raw-epoll
/// grey (hyper's servers, HTTP only, are in no plot today: darker shades of their runtime's).
fn color(k: Kind) -> plotters::style::RGBColor {
    use plotters::style::RGBColor;
    match k {
        Kind::OursMt | Kind::OursCt => RGBColor(200, 30, 30),
        Kind::TokioMt | Kind::TokioCt => RGBColor(30, 90, 200),
        Kind::SmolMt | Kind::SmolCt => RGBColor(40, 150, 70),
        Kind::RawEpoll => RGBColor(110, 110, 110),
        Kind::HyperOursMt | Kind::HyperOursCt => RGBColor(130, 20, 20),
        Kind::HyperTokioMt | Kind::HyperTokioCt => RGBColor(20, 55, 130),
    }
}

/// A grouped bar chart of `metric` per echo workload, one bar per server of `kinds` (median,
/// with a min-max whisker). Returns false, writing nothing, when none of them has a figure.
fn bars(res: &Results, kinds: &[Kind], metric: Metric, caption: &str, y_desc: &str, path: &Path) -> Result<bool, String> {
    use plotters::prelude::*;
    // (workload label, per server (kind, spread)).
    let groups: Vec<(String, Vec<(Kind, Spread)>)> = res
        .echo
        .iter()
        .map(|(w, rounds)| (w.label(), kinds.iter().filter_map(|&k| Some((k, spread(of(rounds, k, metric))?))).collect()))
        .collect();
    let shown: Vec<Kind> = kinds.iter().copied().filter(|k| groups.iter().any(|(_, v)| v.iter().any(|(x, _)| x == k))).collect();
    if shown.is_empty() || shown == [Kind::RawEpoll] {
        return Ok(false);
    }
    let n = groups.len();
    let top = groups.iter().flat_map(|(_, v)| v.iter().map(|(_, s)| s.max)).fold(0.0, f64::max).max(1e-9);
    // Headroom above the tallest whisker for the legend.
    let ymax = top * 1.35;
    // Workload i is centered on x = i; its bars share 80 % of the unit width.
    let width = 0.8 / shown.len() as f64;
    let e = |e: DrawingAreaErrorKind<_>| format!("plotting {}: {e:?}", path.display());
    let root = SVGBackend::new(path, (960, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..ymax)
        .map_err(e)?;
    let labels: Vec<String> = groups.iter().map(|(l, _)| l.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc(format!("workload (connections x message size); {}", machine()))
        .y_desc(y_desc)
        .y_label_formatter(&|y| if top >= 100.0 { fmt_num(*y) } else { format!("{y:.2}") })
        .draw()
        .map_err(e)?;
    for (j, &k) in shown.iter().enumerate() {
        let c = color(k);
        let left = |i: usize| i as f64 - 0.4 + j as f64 * width;
        let mut bars = Vec::new();
        let mut whiskers = Vec::new();
        for (i, (_, v)) in groups.iter().enumerate() {
            let Some((_, s)) = v.iter().find(|(x, _)| *x == k) else { continue };
            bars.push(Rectangle::new([(left(i) + width * 0.05, 0.0), (left(i) + width * 0.95, s.median)], c.filled()));
            let mid = left(i) + width / 2.0;
            whiskers.push(PathElement::new(vec![(mid, s.min), (mid, s.max)], BLACK.stroke_width(1)));
        }
        chart.draw_series(bars).map_err(e)?.label(k.name()).legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
        chart.draw_series(whiskers).map_err(e)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(true)
}
