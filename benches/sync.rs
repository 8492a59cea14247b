//! `runtime::sync` against `tokio::sync`, side by side in one run, the same shapes on both
//! (after tokio's own `benches/sync_*.rs`):
//!
//! * `mpsc_bounded_1to1` / `mpsc_bounded_8to1`: 100 000 `u64`s through a channel of capacity
//!   128, from one producer task or from 8 (12 500 each), to one consumer.
//! * `mpsc_unbounded_1to1` / `mpsc_unbounded_8to1`: the same through an unbounded channel.
//! * `mutex_contended`: 8 tasks each locking a shared `Mutex<u64>` 1 000 times (an increment
//!   per lock, a yield every 10 locks so the tasks interleave).
//! * `semaphore_contended`: 16 tasks each acquiring one of 4 permits 500 times.
//!
//! Each runtime is multi-thread with 2 workers; the work is started from the `block_on`
//! future (outside the workers), the same on both. The order alternates between runs
//! (`STD_BENCH_REVERSE`). Run: `cargo bench -p runtime-benches --bench sync`; ratios:
//! `benches/std-ratios.sh`.

use criterion::Criterion;

const MESSAGES: u64 = 100_000;
const CAPACITY: usize = 128;
const PRODUCERS: u64 = 8;
const LOCKERS: usize = 8;
const LOCKS: usize = 1_000;
const ACQUIRERS: usize = 16;
const PERMITS: usize = 4;
const ACQUIRES: usize = 500;

/// Every shape for one runtime: `sync` is the runtime's `sync` module, `spawn` its spawn
/// function, `yield_now` its yield.
macro_rules! shapes {
    ($g:expr, $name:literal, rt = $rt:expr, sync = $($sync:ident)::+, spawn = $spawn:path, yield_now = $yield_now:path $(,)?) => {{
        use std::sync::Arc;
        use $($sync)::+ as sync;
        let rt = $rt;
        for producers in [1, PRODUCERS] {
            let shape = if producers == 1 { "1to1" } else { "8to1" };
            $g.bench_function(format!("mpsc_bounded_{shape}/{}", $name), |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let (tx, mut rx) = sync::mpsc::channel::<u64>(CAPACITY);
                        for p in 0..producers {
                            let tx = tx.clone();
                            drop($spawn(async move {
                                for i in 0..MESSAGES / producers {
                                    tx.send(p + i).await.unwrap();
                                }
                            }));
                        }
                        drop(tx);
                        let mut n = 0;
                        while rx.recv().await.is_some() {
                            n += 1;
                        }
                        assert_eq!(n, MESSAGES);
                    })
                })
            });
            $g.bench_function(format!("mpsc_unbounded_{shape}/{}", $name), |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let (tx, mut rx) = sync::mpsc::unbounded_channel::<u64>();
                        for p in 0..producers {
                            let tx = tx.clone();
                            drop($spawn(async move {
                                for i in 0..MESSAGES / producers {
                                    tx.send(p + i).unwrap();
                                }
                            }));
                        }
                        drop(tx);
                        let mut n = 0;
                        while rx.recv().await.is_some() {
                            n += 1;
                        }
                        assert_eq!(n, MESSAGES);
                    })
                })
            });
        }
        $g.bench_function(concat!("mutex_contended/", $name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let m = Arc::new(sync::Mutex::new(0u64));
                    let hs: Vec<_> = (0..LOCKERS)
                        .map(|_| {
                            let m = m.clone();
                            $spawn(async move {
                                for i in 0..LOCKS {
                                    *m.lock().await += 1;
                                    if i % 10 == 0 {
                                        $yield_now().await;
                                    }
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                    assert_eq!(*m.lock().await, (LOCKERS * LOCKS) as u64);
                })
            })
        });
        $g.bench_function(concat!("semaphore_contended/", $name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let s = Arc::new(sync::Semaphore::new(PERMITS));
                    let hs: Vec<_> = (0..ACQUIRERS)
                        .map(|_| {
                            let s = s.clone();
                            $spawn(async move {
                                for _ in 0..ACQUIRES {
                                    let _permit = s.acquire().await.unwrap();
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                    assert_eq!(s.available_permits(), PERMITS);
                })
            })
        });
    }};
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sync");
    let reverse = std::env::var_os("STD_BENCH_REVERSE").is_some();
    for side in if reverse { ["ours", "tokio"] } else { ["tokio", "ours"] } {
        match side {
            "ours" => shapes!(
                g,
                "ours",
                rt = runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
                sync = runtime::sync,
                spawn = runtime::spawn,
                yield_now = runtime::task::yield_now,
            ),
            _ => shapes!(
                g,
                "tokio",
                rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
                sync = tokio::sync,
                spawn = tokio::spawn,
                yield_now = tokio::task::yield_now,
            ),
        }
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
