//! Medians, per-round ratios, the printed tables, `echo-results.md` and the SVG plot.

use crate::servers::Kind;
use crate::{Config, Http, Memory, Sample, Workload};
use std::fmt::Write as _;
use std::path::Path;

pub struct Results {
    pub echo: Vec<(Workload, Vec<Vec<Sample>>)>,
    pub memory: Memory,
    pub http: Http,
    pub rounds: usize,
    pub duration: f64,
}

impl Results {
    pub fn new(cfg: &Config) -> Results {
        Results { echo: Vec::new(), memory: Vec::new(), http: Vec::new(), rounds: cfg.rounds, duration: cfg.duration.as_secs_f64() }
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

/// The pairs compared: ours against tokio, same flavor; ours against the raw-epoll ceiling.
const PAIRS: [(Kind, Kind); 4] =
    [(Kind::OursMt, Kind::TokioMt), (Kind::OursCt, Kind::TokioCt), (Kind::OursMt, Kind::RawEpoll), (Kind::OursCt, Kind::RawEpoll)];

fn of(rounds: &[Vec<Sample>], kind: Kind, f: impl Fn(&Sample) -> Option<f64>) -> Vec<f64> {
    rounds.iter().flat_map(|r| r.iter().filter(|s| s.kind == kind).filter_map(&f)).collect()
}

/// Per-round ratios a/b of a figure.
fn ratios(rounds: &[Vec<Sample>], a: Kind, b: Kind, f: impl Fn(&Sample) -> Option<f64>) -> Option<Spread> {
    let v = rounds
        .iter()
        .filter_map(|r| {
            let x = r.iter().find(|s| s.kind == a).and_then(&f)?;
            let y = r.iter().find(|s| s.kind == b).and_then(&f)?;
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

struct Row {
    kind: Kind,
    rate: Spread,
    p50: Spread,
    p99: Spread,
    cpu: Option<Spread>,
}

fn rows(rounds: &[Vec<Sample>]) -> Vec<Row> {
    let mut kinds: Vec<Kind> = rounds.first().map(|r| r.iter().map(|s| s.kind).collect()).unwrap_or_default();
    kinds.sort_by_key(|k| crate::servers::ALL.iter().position(|x| x == k));
    kinds
        .into_iter()
        .filter_map(|k| {
            Some(Row {
                kind: k,
                rate: spread(of(rounds, k, |s| Some(s.rate)))?,
                p50: spread(of(rounds, k, |s| Some(s.p50_us)))?,
                p99: spread(of(rounds, k, |s| Some(s.p99_us)))?,
                cpu: spread(of(rounds, k, |s| s.cpu_us)),
            })
        })
        .collect()
}

pub fn print_workload(_cfg: &Config, _w: &Workload, rounds: &[Vec<Sample>]) {
    println!("{:<10} {:>24} {:>9} {:>9} {:>14}", "server", "msgs/s (min-max)", "p50", "p99", "CPU us/msg");
    for r in rows(rounds) {
        println!(
            "{:<10} {:>24} {:>9} {:>9} {:>14}",
            r.kind.name(),
            format!("{} ({}-{})", fmt_num(r.rate.median), fmt_num(r.rate.min), fmt_num(r.rate.max)),
            fmt_us(r.p50.median),
            fmt_us(r.p99.median),
            r.cpu.map_or("-".into(), |c| format!("{:.2}", c.median))
        );
    }
    for (a, b) in PAIRS {
        if ratios(rounds, a, b, |s| Some(s.rate)).is_none() {
            continue;
        }
        println!(
            "{:>9} / {:<9} msgs/s {:<20} p99 {:<20} CPU/msg {}",
            a.name(),
            b.name(),
            fmt_ratio(ratios(rounds, a, b, |s| Some(s.rate))),
            fmt_ratio(ratios(rounds, a, b, |s| Some(s.p99_us))),
            fmt_ratio(ratios(rounds, a, b, |s| s.cpu_us))
        );
    }
}

fn memory_ratio(mem: &Memory, a: Kind, b: Kind) -> Option<Spread> {
    let x = &mem.iter().find(|e| e.0 == a)?.1;
    let y = &mem.iter().find(|e| e.0 == b)?.1;
    spread(x.iter().zip(y).filter(|(_, y)| **y > 0.0).map(|(x, y)| x / y).collect())
}

pub fn print_memory(mem: &Memory) {
    for (k, v) in mem {
        if let Some(s) = spread(v.clone()) {
            println!("{:<10} {:>6.0} B per idle connection ({:.0}-{:.0})", k.name(), s.median, s.min, s.max);
        }
    }
    for (a, b) in &PAIRS[..2] {
        if let Some(r) = memory_ratio(mem, *a, *b) {
            println!("{:>9} / {:<9} {}", a.name(), b.name(), fmt_ratio(Some(r)));
        }
    }
}

fn http_ratio(rounds: &[Vec<crate::HttpSample>], a: Kind, b: Kind, f: impl Fn(&crate::HttpSample) -> Option<f64>) -> Option<Spread> {
    spread(
        rounds
            .iter()
            .filter_map(|r| {
                let x = r.iter().find(|s| s.kind == a).and_then(&f)?;
                let y = r.iter().find(|s| s.kind == b).and_then(&f)?;
                (y > 0.0).then(|| x / y)
            })
            .collect(),
    )
}

fn http_lines(label: &str, rounds: &[Vec<crate::HttpSample>], md: bool) -> String {
    let mut out = String::new();
    let mut kinds: Vec<Kind> = rounds.first().map(|r| r.iter().map(|s| s.kind).collect()).unwrap_or_default();
    kinds.sort_by_key(|k| crate::servers::ALL.iter().position(|x| x == k));
    for k in kinds {
        let f = |g: &dyn Fn(&crate::HttpSample) -> Option<f64>| {
            spread(rounds.iter().flat_map(|r| r.iter().filter(|s| s.kind == k).filter_map(g)).collect())
        };
        let (Some(rps), Some(p50), Some(p99)) = (f(&|s| Some(s.rps)), f(&|s| Some(s.p50_us)), f(&|s| Some(s.p99_us))) else { continue };
        let cpu = f(&|s| s.cpu_us).map_or("-".into(), |c| format!("{:.2}", c.median));
        let ratio = match k {
            Kind::OursMt => Some(Kind::TokioMt),
            Kind::OursCt => Some(Kind::TokioCt),
            _ => None,
        }
        .map(|b| {
            format!(
                "req/s {}, p99 {}, CPU {}",
                fmt_ratio(http_ratio(rounds, k, b, |s| Some(s.rps))),
                fmt_ratio(http_ratio(rounds, k, b, |s| Some(s.p99_us))),
                fmt_ratio(http_ratio(rounds, k, b, |s| s.cpu_us))
            )
        })
        .unwrap_or_default();
        let rate = format!("{} ({}-{})", fmt_num(rps.median), fmt_num(rps.min), fmt_num(rps.max));
        if md {
            let _ =
                writeln!(out, "| {label} | {} | {rate} | {} | {} | {cpu} | {ratio} |", k.name(), fmt_us(p50.median), fmt_us(p99.median));
        } else {
            let _ = writeln!(out, "{:<10} {:>24} {:>9} {:>9} {:>8}   {ratio}", k.name(), rate, fmt_us(p50.median), fmt_us(p99.median), cpu);
        }
    }
    out
}

pub fn print_http(http: &Http) {
    for (label, rounds) in http {
        println!("-- {label}");
        println!("{:<10} {:>24} {:>9} {:>9} {:>8}   ratio ours/tokio", "server", "req/s (min-max)", "p50", "p99", "CPU us/req");
        print!("{}", http_lines(label, rounds, false));
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

/// Writes `echo-results.md` and `echo-msgs-per-sec.svg` into `dir`.
pub fn write(cfg: &Config, res: &Results, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut md = String::new();
    let _ = writeln!(md, "# Echo benchmark: ours against tokio\n");
    let _ = writeln!(
        md,
        "Machine: {}. Generated by `cargo bench --bench echo` ({} rounds, {:.1} s measured per run after {:.1} s warm-up, \
         servers alternating within a round and the order flipped every round; {} load-generator thread(s) on kernel epoll in \
         the driver process, each server a separate process with {} worker threads for the multi-thread runtimes and a {} B \
         buffer per connection). Figures are medians over rounds (min-max); ratios are medians of the per-round ratios. \
         CPU is the server's utime+stime from /proc/PID/stat over the measured window divided by the messages echoed in it.\n",
        machine(),
        res.rounds,
        res.duration,
        cfg.warmup.as_secs_f64(),
        cfg.client_threads,
        cfg.workers,
        cfg.buf
    );
    let _ = writeln!(md, "![msgs/s against connections](echo-msgs-per-sec.svg)\n");
    let _ = writeln!(md, "## Echo\n");
    let _ = writeln!(
        md,
        "| workload | server | msgs/s | p50 | p99 | CPU µs/msg | ours/tokio (same flavor): msgs/s, p99, CPU/msg | CPU/msg vs raw-epoll |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    for (w, rounds) in &res.echo {
        for r in rows(rounds) {
            let vs_tokio = match r.kind {
                Kind::OursMt => Some(Kind::TokioMt),
                Kind::OursCt => Some(Kind::TokioCt),
                _ => None,
            }
            .map(|b| {
                format!(
                    "{}, {}, {}",
                    fmt_ratio(ratios(rounds, r.kind, b, |s| Some(s.rate))),
                    fmt_ratio(ratios(rounds, r.kind, b, |s| Some(s.p99_us))),
                    fmt_ratio(ratios(rounds, r.kind, b, |s| s.cpu_us))
                )
            })
            .unwrap_or_default();
            let vs_raw = if matches!(r.kind, Kind::OursMt | Kind::OursCt | Kind::TokioMt | Kind::TokioCt) {
                fmt_ratio(ratios(rounds, r.kind, Kind::RawEpoll, |s| s.cpu_us))
            } else {
                String::new()
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} ({}-{}) | {} | {} | {} | {} | {} |",
                w.label(),
                r.kind.name(),
                fmt_num(r.rate.median),
                fmt_num(r.rate.min),
                fmt_num(r.rate.max),
                fmt_us(r.p50.median),
                fmt_us(r.p99.median),
                r.cpu.map_or("-".into(), |c| format!("{:.2}", c.median)),
                vs_tokio,
                vs_raw
            );
        }
    }
    if !res.memory.is_empty() {
        let _ = writeln!(md, "\n## Memory: RSS per idle connection ({} connections open, VmRSS delta)\n", crate::IDLE_CONNS);
        let _ = writeln!(md, "| server | bytes per connection | ours/tokio (same flavor) |");
        let _ = writeln!(md, "|---|---|---|");
        for (k, v) in &res.memory {
            let Some(s) = spread(v.clone()) else { continue };
            let ratio = match k {
                Kind::OursMt => fmt_ratio(memory_ratio(&res.memory, Kind::OursMt, Kind::TokioMt)),
                Kind::OursCt => fmt_ratio(memory_ratio(&res.memory, Kind::OursCt, Kind::TokioCt)),
                _ => String::new(),
            };
            let _ = writeln!(md, "| {} | {:.0} ({:.0}-{:.0}) | {ratio} |", k.name(), s.median, s.min, s.max);
        }
    }
    if !res.http.is_empty() {
        let _ = writeln!(md, "\n## HTTP: wrk against the http-hello handler\n");
        let _ = writeln!(md, "| wrk | server | req/s | p50 | p99 | CPU µs/req | ours/tokio (same flavor) |");
        let _ = writeln!(md, "|---|---|---|---|---|---|---|");
        for (label, rounds) in &res.http {
            md.push_str(&http_lines(label, rounds, true));
        }
    }
    let md_path = dir.join("echo-results.md");
    std::fs::write(&md_path, md).map_err(|e| format!("writing {}: {e}", md_path.display()))?;
    let svg_path = dir.join("echo-msgs-per-sec.svg");
    plot(res, &svg_path)?;
    println!("wrote {} and {}", md_path.display(), svg_path.display());
    Ok(())
}

/// msgs/s against connections (64-byte messages, one in flight) for every server.
fn plot(res: &Results, path: &Path) -> Result<(), String> {
    use plotters::prelude::*;
    let points: Vec<(&Workload, &Vec<Vec<Sample>>)> =
        res.echo.iter().filter(|(w, _)| w.size == 64 && w.depth == 1).map(|(w, r)| (w, r)).collect();
    let kinds: Vec<Kind> =
        crate::servers::ALL.into_iter().filter(|k| points.iter().any(|(_, r)| !of(r, *k, |s| Some(s.rate)).is_empty())).collect();
    let series: Vec<(Kind, Vec<(f64, f64)>)> = kinds
        .iter()
        .map(|&k| {
            let mut pts: Vec<(f64, f64)> =
                points.iter().filter_map(|(w, r)| spread(of(r, k, |s| Some(s.rate))).map(|s| (w.conns as f64, s.median))).collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (k, pts)
        })
        .collect();
    let ymax = series.iter().flat_map(|(_, p)| p.iter().map(|p| p.1)).fold(0.0, f64::max).max(1.0) * 1.15;
    let xmax = series.iter().flat_map(|(_, p)| p.iter().map(|p| p.0)).fold(1.0, f64::max) * 1.5;
    let e = |e: DrawingAreaErrorKind<_>| format!("plotting {}: {e:?}", path.display());
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("Echo, 64 B messages: msgs/s vs connections ({})", machine()), ("sans-serif", 16))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((0.8f64..xmax).log_scale(), 0f64..ymax)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("connections (log scale)")
        .y_desc("messages per second")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| fmt_num(*y))
        .draw()
        .map_err(e)?;
    let colors = [RGBColor(200, 30, 30), RGBColor(30, 90, 200), RGBColor(240, 130, 40), RGBColor(60, 170, 220), RGBColor(90, 90, 90)];
    for (i, (k, pts)) in series.iter().enumerate() {
        let color = colors[crate::servers::ALL.iter().position(|x| x == k).unwrap_or(i) % colors.len()];
        let style = ShapeStyle::from(&color).stroke_width(2);
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), style))
            .map_err(e)?
            .label(k.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(e)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}
