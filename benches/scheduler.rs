//! The scheduler against tokio's, side by side in one run, in the shapes of tokio's own
//! `benches/rt_*.rs`:
//!
//! * `spawn_many`: 10 000 tasks spawned from inside the runtime, all awaited.
//! * `yield_many`: 200 tasks each yielding 1 000 times.
//! * `ping_pong`: 1 000 round trips between two tasks through `futures` oneshot channels (the
//!   same channel type on both runtimes).
//! * `chained_spawn`: a task spawns the next, 1 000 deep.
//! * `timer`: 100 000 sleeps of 1 ms created and completed.
//!
//! Both flavors: `current_thread/*` and `multi_thread/*` (2 workers on each side). The work is
//! started from the `block_on` future, which on the multi-thread flavors runs outside the
//! workers (spawns go through the inject queue), the same on both runtimes.
//! Run: `cargo bench --bench scheduler`; ratios: `benches/scheduler-ratios.sh`.

use criterion::Criterion;
use futures::channel::oneshot;
use std::time::Duration;

const SPAWN: usize = 10_000;
const YIELD_TASKS: usize = 200;
const YIELDS: usize = 1_000;
const PINGS: usize = 1_000;
const CHAIN: usize = 1_000;
const TIMERS: usize = 100_000;

/// One runtime under test: how to block on a future and spawn a task, with its JoinHandle
/// awaited as `Result<T, _>`.
macro_rules! shapes {
    ($g:expr, $name:literal, $rt:expr, $spawn:path, $yield_now:path, $sleep:path) => {{
        let rt = $rt;
        $g.bench_function(concat!("spawn_many/", $name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let hs: Vec<_> = (0..SPAWN).map(|i| $spawn(async move { i })).collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                })
            })
        });
        $g.bench_function(concat!("yield_many/", $name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let hs: Vec<_> = (0..YIELD_TASKS)
                        .map(|_| {
                            $spawn(async {
                                for _ in 0..YIELDS {
                                    $yield_now().await;
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                })
            })
        });
        $g.bench_function(concat!("ping_pong/", $name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    for _ in 0..PINGS {
                        let (ping_tx, ping_rx) = oneshot::channel::<()>();
                        let (pong_tx, pong_rx) = oneshot::channel::<()>();
                        $spawn(async move {
                            ping_rx.await.unwrap();
                            pong_tx.send(()).unwrap();
                        });
                        ping_tx.send(()).unwrap();
                        pong_rx.await.unwrap();
                    }
                })
            })
        });
        $g.bench_function(concat!("chained_spawn/", $name), |b| {
            fn chain(n: usize, done: oneshot::Sender<()>) {
                if n == 0 {
                    done.send(()).unwrap();
                } else {
                    drop($spawn(async move { chain(n - 1, done) }));
                }
            }
            b.iter(|| {
                rt.block_on(async {
                    let (tx, rx) = oneshot::channel();
                    $spawn(async move { chain(CHAIN, tx) });
                    rx.await.unwrap();
                })
            })
        });
        $g.bench_function(concat!("timer/", $name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let hs: Vec<_> = (0..TIMERS).map(|_| $spawn(async { $sleep(Duration::from_millis(1)).await })).collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                })
            })
        });
    }};
}

/// One flavor: both runtimes built by the given builders, measured in alternating order across
/// rounds (`SCHEDULER_BENCH_REVERSE` puts ours first).
fn flavor(c: &mut Criterion, group: &str, ours: runtime::Builder, tokio_builder: tokio::runtime::Builder) {
    let (mut ours, mut tokio_builder) = (ours, tokio_builder);
    let mut g = c.benchmark_group(group);
    let reverse = std::env::var_os("SCHEDULER_BENCH_REVERSE").is_some();
    for side in if reverse { ["ours", "tokio"] } else { ["tokio", "ours"] } {
        if side == "ours" {
            shapes!(g, "ours", ours.enable_all().build().unwrap(), runtime::spawn, runtime::task::yield_now, runtime::time::sleep);
        } else {
            shapes!(g, "tokio", tokio_builder.enable_all().build().unwrap(), tokio::spawn, tokio::task::yield_now, tokio::time::sleep);
        }
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args();
    flavor(&mut c, "current_thread", runtime::Builder::new_current_thread(), tokio::runtime::Builder::new_current_thread());
    let (mut ours, mut theirs) = (runtime::Builder::new_multi_thread(), tokio::runtime::Builder::new_multi_thread());
    ours.worker_threads(2);
    theirs.worker_threads(2);
    flavor(&mut c, "multi_thread", ours, theirs);
    c.final_summary();
}
