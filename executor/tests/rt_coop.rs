//! The cooperative budget: a task whose resources are always ready still yields, so the other
//! tasks, I/O and timers get their turn — on a current-thread runtime, where nothing else could
//! run otherwise.

use executor::io::unix::AsyncFd;
use executor::io::Interest;
use executor::runtime::Builder;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A non-blocking socket with `n` bytes waiting to be read (all written before any read).
fn socket_with_pending_bytes(n: usize) -> (UnixStream, UnixStream) {
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    let data = vec![7u8; n];
    let mut written = 0;
    while written < n {
        match b.write(&data[written..]) {
            Ok(k) => written += k,
            Err(e) => panic!("could not queue {n} bytes (queued {written}): {e}"),
        }
    }
    (a, b)
}

/// Reads one byte at a time until `stop` is set or the bytes run out; returns how many it read.
async fn read_bytewise(fd: &AsyncFd<UnixStream>, total: usize, stop: &AtomicBool) -> usize {
    let mut read = 0;
    while read < total && !stop.load(Ordering::SeqCst) {
        let mut byte = [0u8; 1];
        read += fd.async_io(Interest::READABLE, |mut s| s.read(&mut byte)).await.unwrap();
    }
    read
}

const PENDING: usize = 100_000;

#[test]
fn a_task_whose_socket_is_always_ready_lets_another_task_run() {
    let rt = Builder::new_current_thread().build().unwrap();
    let read = rt.block_on(async {
        let (a, _b) = socket_with_pending_bytes(PENDING);
        let fd = AsyncFd::new(a).unwrap();
        // The reactor has reported the bytes before the other task exists: from here on the
        // reader never has to wait.
        fd.readable().await.unwrap().retain_ready();
        let other_ran = Arc::new(AtomicBool::new(false));
        let flag = other_ran.clone();
        executor::spawn(async move { flag.store(true, Ordering::SeqCst) });
        read_bytewise(&fd, PENDING, &other_ran).await
    });
    // The other task ran while bytes were still pending: the reader yielded.
    assert!(read < PENDING, "the reader consumed all {PENDING} bytes before the other task ran");
}

#[test]
fn a_task_whose_socket_is_always_ready_lets_a_timer_fire() {
    let rt = Builder::new_current_thread().build().unwrap();
    let read = rt.block_on(async {
        let (a, _b) = socket_with_pending_bytes(PENDING);
        let fd = AsyncFd::new(a).unwrap();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        executor::spawn(async move {
            executor::time::sleep(Duration::from_millis(1)).await;
            flag.store(true, Ordering::SeqCst);
        });
        read_bytewise(&fd, PENDING, &fired).await
    });
    // 100 000 one-byte reads take far longer than 1 ms: the timer fired while bytes were pending.
    assert!(read < PENDING, "the reader consumed all {PENDING} bytes before a 1 ms timer fired");
}

#[test]
fn a_loop_of_ready_join_handles_yields_to_other_tasks() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let other_ran = Arc::new(AtomicBool::new(false));
        let flag = other_ran.clone();
        executor::spawn(async move { flag.store(true, Ordering::SeqCst) });
        let mut polls = 0;
        while !other_ran.load(Ordering::SeqCst) {
            // A pre-completed future that goes through the budget each time.
            executor::task::consume_budget().await;
            polls += 1;
            assert!(polls <= 10 * 128, "the other task never ran");
        }
    });
}

#[test]
fn a_join_set_with_more_finished_members_than_the_budget_drains_without_looping() {
    let rt = Builder::new_current_thread().build().unwrap();
    let sum = rt.block_on(async {
        let mut set = executor::task::JoinSet::new();
        for i in 0..1000u64 {
            set.spawn(async move { i });
        }
        // Let every member finish first, so each join_next finds finished handles.
        executor::task::yield_now().await;
        let mut sum = 0;
        while let Some(r) = set.join_next().await {
            sum += r.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..1000u64).sum::<u64>());
}
