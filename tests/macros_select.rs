//! `runtime::select!`: tokio's syntax and semantics (preconditions, patterns that disable a
//! branch, `else`, `biased;`, random start, handlers in the enclosing function), on both
//! flavors.

use runtime::sync::{mpsc, oneshot};
use runtime::time::{sleep, Duration};
use std::future::{pending, poll_fn, ready, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

fn on_both_flavors<F: Future<Output = ()>>(test: impl Fn() -> F) {
    runtime::Builder::new_current_thread().build().unwrap().block_on(test());
    runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap().block_on(test());
}

/// Adds one to its counter when dropped.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn the_first_to_complete_wins_and_the_others_are_dropped_before_the_handler() {
    on_both_flavors(|| async {
        let drops = Arc::new(AtomicUsize::new(0));
        let probe = DropCount(drops.clone());
        let value = runtime::select! {
            _ = async move { let _p = probe; pending::<()>().await } => unreachable!(),
            v = async { sleep(Duration::from_millis(1)).await; 7 } => {
                assert_eq!(drops.load(Ordering::SeqCst), 1, "the losing future is dropped first");
                v * 6
            }
        };
        assert_eq!(value, 42);
    });
}

#[test]
fn a_pattern_that_does_not_match_disables_its_branch() {
    on_both_flavors(|| async {
        let (tx, rx) = oneshot::channel::<u32>();
        drop(tx);
        let got = runtime::select! {
            Ok(v) = rx => v,                          // Err(RecvError): disabled, not matched
            Some(v) = async { sleep(Duration::from_millis(2)).await; Some(5) } => v,
        };
        assert_eq!(got, 5);
    });
}

#[test]
fn all_branches_disabled_takes_else_or_panics() {
    on_both_flavors(|| async {
        let v = runtime::select! {
            Some(x) = ready(None::<u32>) => x,
            Ok(x) = ready(Err::<u32, ()>(())) => x,
            else => 99,
        };
        assert_eq!(v, 99);
        let off = false;
        let v = runtime::select! {
            _ = ready(()), if off => 1,
            else => 2,
        };
        assert_eq!(v, 2);
    });
    let rt = runtime::Builder::new_current_thread().build().unwrap();
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            runtime::select! {
                Some(x) = ready(None::<u32>) => x,
            }
        })
    }))
    .unwrap_err();
    assert_eq!(err.downcast_ref::<&str>().copied(), Some("all branches are disabled and there is no else branch"));
}

#[test]
fn a_false_precondition_still_builds_the_future_but_never_polls_it() {
    on_both_flavors(|| async {
        let built = AtomicUsize::new(0);
        let never_poll = || {
            built.fetch_add(1, Ordering::SeqCst);
            poll_fn(|_| -> Poll<u32> { panic!("a disabled branch was polled") })
        };
        let enabled = false;
        let v = runtime::select! {
            v = never_poll(), if enabled => v,
            v = async { 3 } => v,
        };
        assert_eq!(v, 3);
        assert_eq!(built.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn biased_polls_in_order_and_the_default_starts_at_random() {
    on_both_flavors(|| async {
        for _ in 0..200 {
            let first = runtime::select! {
                biased;
                _ = ready(()) => 0,
                _ = ready(()) => 1,
            };
            assert_eq!(first, 0);
        }
        let mut wins = [0u32; 2];
        for _ in 0..2000 {
            let w = runtime::select! {
                _ = ready(()) => 0,
                _ = ready(()) => 1,
            };
            wins[w] += 1;
        }
        // Each starts first about half the time; 300 of 2000 is far outside any fair run.
        assert!(wins[0] > 300 && wins[1] > 300, "{wins:?}");
    });
}

#[test]
fn handlers_run_in_the_enclosing_function() {
    async fn first_even(mut rx: mpsc::Receiver<u32>) -> Result<u32, String> {
        let mut seen = 0;
        loop {
            runtime::select! {
                Some(v) = rx.recv() => {
                    seen += 1;
                    if v % 2 == 1 {
                        continue;
                    }
                    if v == 100 {
                        return Err("hundred".into());
                    }
                    break Ok(v + seen * 1000);
                }
                else => {
                    let r: Result<u32, String> = Err("closed".into());
                    r?;
                }
            }
        }
    }
    on_both_flavors(|| async {
        let (tx, rx) = mpsc::channel(8);
        for v in [1, 3, 4] {
            tx.send(v).await.unwrap();
        }
        assert_eq!(first_even(rx).await, Ok(3004));
        let (tx, rx) = mpsc::channel(8);
        tx.send(100).await.unwrap();
        assert_eq!(first_even(rx).await, Err("hundred".into()));
        let (tx, rx) = mpsc::channel::<u32>(8);
        drop(tx);
        assert_eq!(first_even(rx).await, Err("closed".into()));
    });
}

#[test]
fn mut_and_ref_bindings_and_block_handlers_without_commas() {
    on_both_flavors(|| async {
        let s = runtime::select! {
            Some(mut s) = async { Some(String::from("a")) } => {
                s.push('b');
                s
            }
            (ref a, mut b) = async { (1, 2) } => {
                b += *a;
                b.to_string()
            }
        };
        assert!(s == "ab" || s == "3", "{s}");
    });
}

#[test]
fn a_future_kept_across_iterations_and_borrows_released_for_the_handler() {
    on_both_flavors(|| async {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let mut deadline = pin!(sleep(Duration::from_millis(30)));
        let sender = runtime::spawn(async move {
            for i in 0..5 {
                tx.send(i).unwrap();
                sleep(Duration::from_millis(1)).await;
            }
            // Keep the channel open past the deadline.
            sleep(Duration::from_secs(3600)).await;
        });
        let mut got = Vec::new();
        loop {
            runtime::select! {
                biased;
                Some(v) = rx.recv() => got.push(v),
                _ = &mut deadline => break,
            }
        }
        // `rx` was borrowed by the losing future only: usable again.
        assert!(rx.try_recv().is_err());
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        sender.abort();
    });
}

#[test]
fn a_select_loop_over_an_always_ready_channel_lets_other_tasks_run() {
    on_both_flavors(|| async {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let flag = Arc::new(AtomicBool::new(false));
        let other = {
            let flag = flag.clone();
            runtime::spawn(async move { flag.store(true, Ordering::SeqCst) })
        };
        let mut n = 0u64;
        while !flag.load(Ordering::SeqCst) {
            tx.send(()).unwrap();
            runtime::select! {
                Some(()) = rx.recv() => n += 1,
            }
            assert!(n < 10_000_000, "the other task never ran");
        }
        other.await.unwrap();
    });
}

#[test]
fn sixty_four_branches() {
    on_both_flavors(|| async {
        let v = runtime::select! {
            biased;
            _ = pending::<()>() => 0, _ = pending::<()>() => 1, _ = pending::<()>() => 2, _ = pending::<()>() => 3,
            _ = pending::<()>() => 4, _ = pending::<()>() => 5, _ = pending::<()>() => 6, _ = pending::<()>() => 7,
            _ = pending::<()>() => 8, _ = pending::<()>() => 9, _ = pending::<()>() => 10, _ = pending::<()>() => 11,
            _ = pending::<()>() => 12, _ = pending::<()>() => 13, _ = pending::<()>() => 14, _ = pending::<()>() => 15,
            _ = pending::<()>() => 16, _ = pending::<()>() => 17, _ = pending::<()>() => 18, _ = pending::<()>() => 19,
            _ = pending::<()>() => 20, _ = pending::<()>() => 21, _ = pending::<()>() => 22, _ = pending::<()>() => 23,
            _ = pending::<()>() => 24, _ = pending::<()>() => 25, _ = pending::<()>() => 26, _ = pending::<()>() => 27,
            _ = pending::<()>() => 28, _ = pending::<()>() => 29, _ = pending::<()>() => 30, _ = pending::<()>() => 31,
            _ = pending::<()>() => 32, _ = pending::<()>() => 33, _ = pending::<()>() => 34, _ = pending::<()>() => 35,
            _ = pending::<()>() => 36, _ = pending::<()>() => 37, _ = pending::<()>() => 38, _ = pending::<()>() => 39,
            _ = pending::<()>() => 40, _ = pending::<()>() => 41, _ = pending::<()>() => 42, _ = pending::<()>() => 43,
            _ = pending::<()>() => 44, _ = pending::<()>() => 45, _ = pending::<()>() => 46, _ = pending::<()>() => 47,
            _ = pending::<()>() => 48, _ = pending::<()>() => 49, _ = pending::<()>() => 50, _ = pending::<()>() => 51,
            _ = pending::<()>() => 52, _ = pending::<()>() => 53, _ = pending::<()>() => 54, _ = pending::<()>() => 55,
            _ = pending::<()>() => 56, _ = pending::<()>() => 57, _ = pending::<()>() => 58, _ = pending::<()>() => 59,
            _ = pending::<()>() => 60, _ = pending::<()>() => 61, _ = pending::<()>() => 62, _ = ready(()) => 63,
        };
        assert_eq!(v, 63);
    });
}
