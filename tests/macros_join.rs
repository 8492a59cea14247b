//! `runtime::join!` and `runtime::try_join!`: every output in order, concurrently on one task,
//! rotating fairness (or `biased;`), early drop of finished futures, short-circuit on `Err`;
//! on both flavors.

use runtime::time::{sleep, Duration, Instant};
use std::future::{pending, poll_fn, Future};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

fn on_both_flavors<F: Future<Output = ()>>(test: impl Fn() -> F) {
    runtime::Builder::new_current_thread().build().unwrap().block_on(test());
    runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap().block_on(test());
}

struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pending `n` times (waking itself each time), recording its name in `log` at every poll.
fn pends(name: &'static str, n: usize, log: Arc<Mutex<Vec<&'static str>>>) -> impl Future<Output = &'static str> {
    let mut left = n;
    poll_fn(move |cx| {
        log.lock().unwrap().push(name);
        if left == 0 {
            return Poll::Ready(name);
        }
        left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}

#[test]
fn join_returns_every_output_in_order_running_them_concurrently() {
    let rt = runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
    rt.block_on(async {
        let start = Instant::now();
        let (a, b, c) = runtime::join!(
            async {
                sleep(Duration::from_secs(3)).await;
                'a'
            },
            async {
                sleep(Duration::from_secs(1)).await;
                2u8
            },
            async { "c" },
        );
        assert_eq!((a, b, c), ('a', 2, "c"));
        assert_eq!(start.elapsed(), Duration::from_secs(3), "one after the other would take 4 s");
    });
    on_both_flavors(|| async {
        assert_eq!(runtime::join!(async { 1 }), (1,));
        let () = runtime::join!();
        let () = runtime::join!(biased;);
        let (x, y) = runtime::join!(runtime::spawn(async { 5 }), async { 6 });
        assert_eq!((x.unwrap(), y), (5, 6));
    });
}

#[test]
fn a_finished_future_is_dropped_before_the_others_finish() {
    on_both_flavors(|| async {
        let drops = Arc::new(AtomicUsize::new(0));
        let probe = DropCount(drops.clone());
        let watcher = drops.clone();
        let ((), seen) = runtime::join!(
            async move {
                let _p = probe;
            },
            async move {
                runtime::task::yield_now().await;
                watcher.load(Ordering::SeqCst)
            },
        );
        assert_eq!(seen, 1, "the first future was still alive while the second ran");
    });
}

#[test]
fn unbiased_join_rotates_the_first_polled_and_biased_keeps_the_order() {
    on_both_flavors(|| async {
        let log = Arc::new(Mutex::new(Vec::new()));
        runtime::join!(pends("a", 4, log.clone()), pends("b", 4, log.clone()));
        let firsts: Vec<_> = log.lock().unwrap().chunks(2).map(|c| c[0]).collect();
        assert_eq!(firsts, ["a", "b", "a", "b", "a"], "the first polled rotates: {:?}", log.lock().unwrap());

        let log = Arc::new(Mutex::new(Vec::new()));
        runtime::join!(biased; pends("a", 4, log.clone()), pends("b", 4, log.clone()));
        let firsts: Vec<_> = log.lock().unwrap().chunks(2).map(|c| c[0]).collect();
        assert_eq!(firsts, ["a"; 5]);
    });
}

#[test]
fn try_join_returns_all_oks_or_the_first_error_at_once() {
    on_both_flavors(|| async {
        let ok: Result<(u8, &str), String> = runtime::try_join!(async { Ok(1) }, async { Ok("two") });
        assert_eq!(ok, Ok((1, "two")));

        let drops = Arc::new(AtomicUsize::new(0));
        let probe = DropCount(drops.clone());
        let err: Result<((), u8), &str> = runtime::try_join!(
            async move {
                let _p = probe;
                pending::<Result<(), &str>>().await
            },
            async {
                sleep(Duration::from_millis(1)).await;
                Err("failed")
            },
        );
        assert_eq!(err, Err("failed"));
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the pending future was dropped on the error");

        let empty: Result<(), ()> = runtime::try_join!();
        assert_eq!(empty, Ok(()));
        let biased: Result<(u8,), ()> = runtime::try_join!(biased; async { Ok(3) });
        assert_eq!(biased, Ok((3,)));
    });
}
