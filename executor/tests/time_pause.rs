//! Paused time: `time::pause`, `advance`, `resume`, `Builder::start_paused`, and auto-advance
//! of an idle current-thread runtime to its next timer (tokio's semantics). Multi-thread
//! runtimes refuse to pause, as tokio's do.

use executor::runtime::{Builder, Runtime};
use executor::task::{spawn, spawn_blocking};
use executor::time::{self, advance, interval, sleep, sleep_until, timeout, Duration, Instant};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

fn paused() -> Runtime {
    Builder::new_current_thread().start_paused(true).build().unwrap()
}

/// The message of a caught panic.
fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>().cloned().or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

#[test]
fn a_ten_second_sleep_completes_at_once_and_exactly_ten_seconds_later_in_virtual_time() {
    let real = std::time::Instant::now();
    paused().block_on(async {
        let start = Instant::now();
        sleep(Duration::from_secs(10)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    });
    assert!(real.elapsed() < Duration::from_secs(5), "slept for real: {:?}", real.elapsed());
}

#[test]
fn a_timeout_around_a_future_that_never_completes_elapses_without_waiting() {
    let real = std::time::Instant::now();
    paused().block_on(async {
        let start = Instant::now();
        let res = timeout(Duration::from_secs(10), std::future::pending::<()>()).await;
        assert!(res.is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    });
    assert!(real.elapsed() < Duration::from_secs(5));
}

#[test]
fn timers_of_many_tasks_fire_in_deadline_order_each_at_its_instant() {
    paused().block_on(async {
        let base = Instant::now();
        let fired = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = [30u64, 10, 3600, 20, 1]
            .into_iter()
            .map(|secs| {
                let fired = fired.clone();
                spawn(async move {
                    sleep_until(base + Duration::from_secs(secs)).await;
                    fired.lock().unwrap().push((secs, Instant::now() - base));
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let fired = fired.lock().unwrap().clone();
        let expected: Vec<_> = [1u64, 10, 20, 30, 3600].into_iter().map(|s| (s, Duration::from_secs(s))).collect();
        assert_eq!(fired, expected);
    });
}

#[test]
fn an_interval_ticks_on_its_exact_schedule() {
    paused().block_on(async {
        let start = Instant::now();
        let mut every = interval(Duration::from_millis(250));
        for n in 0..8u32 {
            let at = every.tick().await;
            assert_eq!(at - start, Duration::from_millis(250) * n);
            assert_eq!(Instant::now(), at);
        }
    });
}

#[test]
fn pause_freezes_now_and_advance_moves_it_by_exactly_the_duration() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        time::pause();
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(Instant::now(), t0, "frozen while real time passes");
        advance(Duration::from_millis(1500)).await;
        assert_eq!(Instant::now(), t0 + Duration::from_millis(1500));
    });
}

#[test]
fn advance_past_a_pending_sleep_completes_it() {
    paused().block_on(async {
        let sleeper = spawn(sleep(Duration::from_secs(5)));
        executor::task::yield_now().await; // the sleeper registers its timer
        advance(Duration::from_secs(5)).await;
        // `advance` does not wait for the sleeper; awaiting it needs no further time.
        let before = Instant::now();
        sleeper.await.unwrap();
        assert_eq!(Instant::now(), before);
    });
}

#[test]
fn resume_continues_from_the_advanced_instant_instead_of_going_back() {
    paused().block_on(async {
        let start = Instant::now();
        advance(Duration::from_secs(10)).await;
        time::resume();
        let resumed = Instant::now();
        assert!(resumed - start >= Duration::from_secs(10));
        assert!(resumed - start < Duration::from_secs(11));
        // Running again: a short real sleep completes in real time.
        sleep(Duration::from_millis(5)).await;
        assert!(Instant::now() > resumed);
        // And it can be paused again.
        time::pause();
        advance(Duration::from_secs(10)).await;
        assert!(Instant::now() - start >= Duration::from_secs(20));
    });
}

#[test]
fn a_pending_blocking_closure_inhibits_auto_advance() {
    // Without the inhibition the 10 s timeout would expire in virtual time at once, while the
    // closure still runs for real.
    paused().block_on(async {
        let start = Instant::now();
        let done = timeout(
            Duration::from_secs(10),
            spawn_blocking(|| {
                std::thread::sleep(Duration::from_millis(50));
                7
            }),
        )
        .await;
        assert_eq!(done.expect("auto-advance fired the timeout during a blocking closure").unwrap(), 7);
        assert!(start.elapsed() < Duration::from_secs(10));
        // Done: auto-advance works again.
        sleep(Duration::from_secs(10)).await;
    });
}

#[test]
fn instant_now_outside_a_runtime_is_real_time() {
    let rt = paused();
    let frozen = rt.block_on(async { Instant::now() });
    std::thread::sleep(Duration::from_millis(5));
    assert!(Instant::now() > frozen, "outside the runtime, the clock of no runtime applies");
    rt.block_on(async move {
        assert_eq!(Instant::now(), frozen, "still frozen inside");
    });
}

#[test]
fn pausing_twice_panics() {
    let msg = panic_message(|| {
        paused().block_on(async { time::pause() });
    });
    assert!(msg.contains("time is already frozen"), "{msg}");
}

#[test]
fn advance_and_resume_need_paused_time() {
    let rt = Builder::new_current_thread().build().unwrap();
    let msg = panic_message(|| rt.block_on(advance(Duration::from_secs(1))));
    assert!(msg.contains("time is not frozen"), "{msg}");
    let msg = panic_message(|| rt.block_on(async { time::resume() }));
    assert!(msg.contains("time is not frozen"), "{msg}");
}

#[test]
fn pause_outside_a_runtime_panics() {
    let msg = panic_message(time::pause);
    assert!(msg.contains("outside the runtime"), "{msg}");
}

#[test]
fn pause_on_the_multi_thread_runtime_panics() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let msg = panic_message(|| rt.block_on(async { time::pause() }));
    assert!(msg.contains("requires the `current_thread` runtime"), "{msg}");
    let msg = panic_message(|| {
        rt.block_on(async { spawn(async { time::pause() }).await.map_err(|e| std::panic::resume_unwind(e.into_panic())) }).unwrap();
    });
    assert!(msg.contains("requires the `current_thread` runtime"), "{msg}");
    // Timers on the multi-thread runtime keep real time.
    rt.block_on(async {
        let real = std::time::Instant::now();
        sleep(Duration::from_millis(20)).await;
        assert!(real.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn start_paused_on_a_multi_thread_builder_panics() {
    let msg = panic_message(|| drop(Builder::new_multi_thread().start_paused(true).build()));
    assert!(msg.contains("requires the `current_thread` runtime"), "{msg}");
}

#[test]
fn an_unpaused_runtime_sleeps_in_real_time() {
    let rt = Builder::new_current_thread().build().unwrap();
    let real = std::time::Instant::now();
    rt.block_on(async { sleep(Duration::from_millis(30)).await });
    assert!(real.elapsed() >= Duration::from_millis(30));
}
