//! The scheduler against tokio's and smol's, side by side in one run, in the shapes of tokio's
//! own `benches/rt_*.rs`:
//!
//! * `spawn_many`: 10 000 tasks spawned from inside the runtime, all awaited.
//! * `yield_many`: 200 tasks each yielding 1 000 times.
//! * `ping_pong`: 1 000 round trips between two tasks through `futures` oneshot channels (the
//!   same channel type on every runtime).
//! * `chained_spawn`: a task spawns the next, 1 000 deep.
//! * `timer`: 100 000 sleeps of 1 ms created and completed.
//!
//! Both flavors: `current_thread/*` and `multi_thread/*`. Multi-thread is 2 workers for ours
//! and tokio, and one static `smol::Executor` run by 2 threads for smol; current-thread is
//! smol's `LocalExecutor`. The work is started from the `block_on` future, which on the
//! multi-thread flavors runs outside the workers (spawns go through the shared queue), the same
//! on every runtime.
//! Run: `cargo bench -p runtime-benches --bench scheduler`; ratios:
//! `benches/scheduler-ratios.sh`.

use criterion::Criterion;
use futures::channel::oneshot;
use std::future::Future;
use std::time::Duration;

const SPAWN: usize = 10_000;
const YIELD_TASKS: usize = 200;
const YIELDS: usize = 1_000;
const PINGS: usize = 1_000;
const CHAIN: usize = 1_000;
const TIMERS: usize = 100_000;

/// One runtime under test: `rt` has `block_on(&self, future)`; `spawn` returns a handle that
/// `join` turns into the task's output once awaited (`Result::unwrap` for tokio's and our
/// `JoinHandle`, the output itself for smol's `Task`); `detach` spawns a task nobody awaits
/// (dropping a smol `Task` would cancel it).
macro_rules! shapes {
    ($g:expr, $name:literal, rt = $rt:expr, spawn = $spawn:path, join = $join:path, detach = $detach:path,
     yield_now = $yield_now:path, sleep = $sleep:path $(,)?) => {{
        let rt = $rt;
        $g.bench_function(concat!("spawn_many/", $name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let hs: Vec<_> = (0..SPAWN).map(|i| $spawn(async move { i })).collect();
                    for h in hs {
                        $join(h.await);
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
                        $join(h.await);
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
                        $detach(async move {
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
                    $detach(async move { chain(n - 1, done) });
                }
            }
            b.iter(|| {
                rt.block_on(async {
                    let (tx, rx) = oneshot::channel();
                    $detach(async move { chain(CHAIN, tx) });
                    rx.await.unwrap();
                })
            })
        });
        $g.bench_function(concat!("timer/", $name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let hs: Vec<_> = (0..TIMERS)
                        .map(|_| {
                            $spawn(async {
                                $sleep(Duration::from_millis(1)).await;
                            })
                        })
                        .collect();
                    for h in hs {
                        $join(h.await);
                    }
                })
            })
        });
    }};
}

/// Spawn-and-forget for the runtimes whose dropped handle detaches.
fn detach_ours(task: impl Future<Output = ()> + Send + 'static) {
    drop(runtime::spawn(task));
}

/// As [`detach_ours`], on tokio.
fn detach_tokio(task: impl Future<Output = ()> + Send + 'static) {
    drop(tokio::spawn(task));
}

/// smol, the way its users run a multi-thread pool: one executor shared by `threads` threads,
/// each in `block_on(executor.run(..))` (which also drives async-io's reactor while idle).
/// The threads stop when this is dropped.
mod smol_shared {
    use std::future::Future;

    static EXECUTOR: smol::Executor<'static> = smol::Executor::new();

    /// The running threads and the channel whose closing stops them.
    pub struct Pool {
        stop: Option<smol::channel::Sender<()>>,
        threads: Vec<std::thread::JoinHandle<()>>,
    }

    impl Pool {
        pub fn start(threads: usize) -> Pool {
            let (stop, stopped) = smol::channel::bounded::<()>(1);
            let threads = (0..threads)
                .map(|i| {
                    let stopped = stopped.clone();
                    std::thread::Builder::new()
                        .name(format!("smol-worker-{i}"))
                        .spawn(move || {
                            let _ = smol::block_on(EXECUTOR.run(stopped.recv()));
                        })
                        .expect("spawning a smol worker thread")
                })
                .collect();
            Pool { stop: Some(stop), threads }
        }

        /// Runs `future` on the calling thread; its spawns go to the pool.
        pub fn block_on<F: Future>(&self, future: F) -> F::Output {
            smol::block_on(future)
        }
    }

    impl Drop for Pool {
        fn drop(&mut self) {
            drop(self.stop.take());
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
        }
    }

    pub fn spawn<T: Send + 'static>(task: impl Future<Output = T> + Send + 'static) -> smol::Task<T> {
        EXECUTOR.spawn(task)
    }

    pub fn detach(task: impl Future<Output = ()> + Send + 'static) {
        EXECUTOR.spawn(task).detach();
    }
}

/// smol's single-threaded flavor: a `LocalExecutor` run by `block_on` on the calling thread.
mod smol_local {
    use std::future::Future;

    thread_local! {
        static EXECUTOR: smol::LocalExecutor<'static> = const { smol::LocalExecutor::new() };
    }

    /// Runs `future` and, while it waits, the tasks it spawned.
    pub struct Local;

    impl Local {
        pub fn block_on<F: Future>(&self, future: F) -> F::Output {
            EXECUTOR.with(|ex| smol::block_on(ex.run(future)))
        }
    }

    pub fn spawn<T: 'static>(task: impl Future<Output = T> + 'static) -> smol::Task<T> {
        EXECUTOR.with(|ex| ex.spawn(task))
    }

    pub fn detach(task: impl Future<Output = ()> + 'static) {
        EXECUTOR.with(|ex| ex.spawn(task).detach());
    }
}

/// How smol runs a flavor.
enum Smol {
    Local,
    Shared { threads: usize },
}

/// One flavor: the three runtimes, measured in alternating order across rounds (tokio, smol,
/// ours; `SCHEDULER_BENCH_REVERSE` makes it ours, smol, tokio).
fn flavor(c: &mut Criterion, group: &str, mut ours: runtime::Builder, mut tokio_builder: tokio::runtime::Builder, smol: Smol) {
    let mut g = c.benchmark_group(group);
    let reverse = std::env::var_os("SCHEDULER_BENCH_REVERSE").is_some();
    for side in if reverse { ["ours", "smol", "tokio"] } else { ["tokio", "smol", "ours"] } {
        match side {
            "ours" => shapes!(
                g,
                "ours",
                rt = ours.enable_all().build().unwrap(),
                spawn = runtime::spawn,
                join = Result::unwrap,
                detach = detach_ours,
                yield_now = runtime::task::yield_now,
                sleep = runtime::time::sleep,
            ),
            "tokio" => shapes!(
                g,
                "tokio",
                rt = tokio_builder.enable_all().build().unwrap(),
                spawn = tokio::spawn,
                join = Result::unwrap,
                detach = detach_tokio,
                yield_now = tokio::task::yield_now,
                sleep = tokio::time::sleep,
            ),
            _ => match smol {
                Smol::Local => shapes!(
                    g,
                    "smol",
                    rt = smol_local::Local,
                    spawn = smol_local::spawn,
                    join = std::convert::identity,
                    detach = smol_local::detach,
                    yield_now = smol::future::yield_now,
                    sleep = smol::Timer::after,
                ),
                Smol::Shared { threads } => shapes!(
                    g,
                    "smol",
                    rt = smol_shared::Pool::start(threads),
                    spawn = smol_shared::spawn,
                    join = std::convert::identity,
                    detach = smol_shared::detach,
                    yield_now = smol::future::yield_now,
                    sleep = smol::Timer::after,
                ),
            },
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
    flavor(&mut c, "current_thread", runtime::Builder::new_current_thread(), tokio::runtime::Builder::new_current_thread(), Smol::Local);
    let (mut ours, mut theirs) = (runtime::Builder::new_multi_thread(), tokio::runtime::Builder::new_multi_thread());
    ours.worker_threads(2);
    theirs.worker_threads(2);
    flavor(&mut c, "multi_thread", ours, theirs, Smol::Shared { threads: 2 });
    c.final_summary();
}
