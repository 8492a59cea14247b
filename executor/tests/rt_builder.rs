//! `Builder`'s thread callbacks and scheduler knobs, on both flavors.

use executor::runtime::Builder;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
struct Counts {
    start: AtomicUsize,
    stop: AtomicUsize,
    park: AtomicUsize,
    unpark: AtomicUsize,
}

fn with_hooks(builder: &mut Builder, counts: &Arc<Counts>) -> executor::Runtime {
    let (a, b, c, d) = (counts.clone(), counts.clone(), counts.clone(), counts.clone());
    builder
        .on_thread_start(move || {
            a.start.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_stop(move || {
            b.stop.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_park(move || {
            c.park.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_unpark(move || {
            d.unpark.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap()
}

#[test]
fn thread_callbacks_run_for_workers_and_blocking_threads() {
    let counts = Arc::new(Counts::default());
    let rt = with_hooks(Builder::new_multi_thread().worker_threads(2), &counts);
    rt.block_on(async {
        executor::spawn(async { executor::time::sleep(Duration::from_millis(5)).await }).await.unwrap();
        executor::task::spawn_blocking(|| ()).await.unwrap();
    });
    drop(rt);
    let c = &*counts;
    // Two workers and one blocking thread started and stopped.
    assert_eq!((c.start.load(Ordering::SeqCst), c.stop.load(Ordering::SeqCst)), (3, 3));
    // Workers went idle (and woke up) at least once.
    assert!(c.park.load(Ordering::SeqCst) >= 1);
    assert!(c.unpark.load(Ordering::SeqCst) >= 1);
}

#[test]
fn park_callbacks_run_on_the_current_thread_runtime_and_may_spawn() {
    let counts = Arc::new(Counts::default());
    let spawned = Arc::new(AtomicUsize::new(0));
    let s = spawned.clone();
    let c = counts.clone();
    let rt = Builder::new_current_thread()
        .on_thread_park(move || {
            // The first park spawns the task the block_on waits for: it runs instead of sleeping.
            if c.park.fetch_add(1, Ordering::SeqCst) == 0 {
                let s = s.clone();
                executor::spawn(async move { s.fetch_add(1, Ordering::SeqCst) });
            }
        })
        .build()
        .unwrap();
    rt.block_on(async {
        while spawned.load(Ordering::SeqCst) == 0 {
            executor::time::sleep(Duration::from_millis(1)).await;
        }
    });
    assert!(counts.park.load(Ordering::SeqCst) >= 1);
    // No thread was started by a current-thread runtime without blocking work.
    assert_eq!(counts.start.load(Ordering::SeqCst), 0);
}

#[test]
fn small_event_and_global_queue_intervals_still_run_everything_on_both_flavors() {
    for builder in [
        Builder::new_current_thread().event_interval(1).global_queue_interval(1),
        Builder::new_multi_thread().worker_threads(2).event_interval(2).global_queue_interval(3),
    ] {
        let rt = builder.build().unwrap();
        let sum = rt.block_on(async {
            let tasks: Vec<_> = (0..200u64)
                .map(|i| {
                    executor::spawn(async move {
                        executor::task::yield_now().await;
                        i
                    })
                })
                .collect();
            let mut sum = 0;
            for t in tasks {
                sum += t.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..200).sum::<u64>());
    }
}
