//! `Handle::metrics` counts exactly what a scripted workload did, on both flavors: tasks
//! spawned and completed, polls, parks (against the park hook's own count) and the events the
//! reactor harvested.

use executor::io::unix::AsyncFd;
use executor::runtime::{Builder, Runtime, RuntimeMetrics};
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Both flavors, each with the count of its park hook's calls.
fn runtimes() -> Vec<(&'static str, Runtime, Arc<AtomicU64>)> {
    let hook = |p: &Arc<AtomicU64>| {
        let p = p.clone();
        move || {
            p.fetch_add(1, Ordering::SeqCst);
        }
    };
    let (a, b) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    vec![
        ("current_thread", Builder::new_current_thread().on_thread_park(hook(&a)).build().unwrap(), a),
        ("multi_thread", Builder::new_multi_thread().worker_threads(2).on_thread_park(hook(&b)).build().unwrap(), b),
    ]
}

fn sum(m: &RuntimeMetrics, f: impl Fn(&RuntimeMetrics, usize) -> u64) -> u64 {
    (0..m.num_workers()).map(|w| f(m, w)).sum()
}

/// The runtime's last task is released just after its JoinHandle is woken: wait (bounded) for
/// the count to settle.
fn until_no_task_alive(m: &RuntimeMetrics) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while m.num_alive_tasks() != 0 {
        assert!(Instant::now() < deadline, "tasks still alive after 5 s");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn tasks_and_polls_are_counted_exactly() {
    for (flavor, rt, _) in runtimes() {
        let m = rt.handle().metrics();
        assert_eq!(m.num_workers(), if flavor == "current_thread" { 1 } else { 2 }, "{flavor}");
        rt.block_on(async {
            let tasks: Vec<_> = (0..10)
                .map(|i| {
                    executor::spawn(async move {
                        if i % 2 == 0 {
                            // Polled twice.
                            executor::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        until_no_task_alive(&m);
        assert_eq!(m.spawned_tasks_count(), 10, "{flavor}");
        assert_eq!(m.completed_tasks_count(), 10, "{flavor}");
        assert_eq!(sum(&m, RuntimeMetrics::worker_poll_count), 15, "{flavor}");
        assert_eq!(m.global_queue_depth(), 0, "{flavor}");
        assert_eq!(sum(&m, |m, w| m.worker_local_queue_depth(w) as u64), 0, "{flavor}");
        // An aborted task completes too (its JoinHandle sees the cancellation).
        let stuck = rt.spawn(std::future::pending::<()>());
        stuck.abort();
        assert!(rt.block_on(stuck).unwrap_err().is_cancelled());
        until_no_task_alive(&m);
        assert_eq!((m.spawned_tasks_count(), m.completed_tasks_count()), (11, 11), "{flavor}");
    }
}

#[test]
fn parks_match_the_park_hook_and_busy_time_accrues() {
    for (flavor, rt, parks) in runtimes() {
        let m = rt.handle().metrics();
        rt.block_on(async {
            executor::spawn(async {
                executor::time::sleep(Duration::from_millis(20)).await;
            })
            .await
            .unwrap();
        });
        until_no_task_alive(&m);
        // Let the workers settle in their parks: counts are read while nothing moves.
        let deadline = Instant::now() + Duration::from_secs(5);
        while sum(&m, RuntimeMetrics::worker_park_count) != parks.load(Ordering::SeqCst) {
            assert!(
                Instant::now() < deadline,
                "{flavor}: parks do not settle: {} vs hook {}",
                sum(&m, RuntimeMetrics::worker_park_count),
                parks.load(Ordering::SeqCst)
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let p = sum(&m, RuntimeMetrics::worker_park_count);
        assert!(p >= 1, "{flavor}: the sleep parked a worker");
        assert_eq!(p, parks.load(Ordering::SeqCst), "{flavor}: one count per park, as the hook sees them");
        let busy: Duration = (0..m.num_workers()).map(|w| m.worker_total_busy_duration(w)).sum();
        assert!(busy > Duration::ZERO, "{flavor}");
    }
}

#[test]
fn harvested_events_are_counted_exactly_on_the_current_thread_flavor() {
    let rt = Builder::new_current_thread().build().unwrap();
    let m = rt.handle().metrics();
    let before = m.eventpoll();
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    rt.block_on(async {
        let fd = AsyncFd::new(a).unwrap();
        b.write_all(b"x").unwrap();
        // First poll: no readiness known yet; the park harvests the one event and wakes us
        // (from the driving thread itself: no trigger).
        let mut guard = fd.readable().await.unwrap();
        guard.retain_ready();
    });
    let after = m.eventpoll();
    assert_eq!(after.registrations_added - before.registrations_added, 1);
    assert_eq!(after.harvests - before.harvests, 1);
    assert_eq!(after.events_reported - before.events_reported, 1);
    assert_eq!(after.harvest_histogram[1] - before.harvest_histogram[1], 1);
    assert_eq!(after.user_triggers - before.user_triggers, 0);
    assert_eq!(m.worker_park_count(0), 1);
}

#[test]
#[should_panic(expected = "worker index 2 is out of range: the runtime has 2 worker(s)")]
fn a_worker_index_out_of_range_is_named() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.handle().metrics().worker_poll_count(2);
}
