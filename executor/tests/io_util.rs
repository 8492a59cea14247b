//! The runtime's I/O utilities: `duplex`, `copy`, `copy_buf`, `copy_bidirectional`, `split`,
//! `empty`, `repeat`, `sink` — and that each takes part in the cooperative budget.

use executor::io::{copy, copy_bidirectional, copy_buf, duplex, empty, repeat, sink, split};
use executor::runtime::{Builder, Runtime};
use futures::io::{AsyncReadExt, AsyncWriteExt, BufReader, Cursor};
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio_test::{assert_pending, assert_ready, task};

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

fn flavors() -> [Runtime; 2] {
    [current_thread(), Builder::new_multi_thread().worker_threads(2).build().unwrap()]
}

#[test]
fn duplex_carries_bytes_both_ways_and_waits_while_full() {
    let (mut a, mut b) = duplex(4);
    let mut w = task::spawn(async { a.write(b"abcdef").await });
    // Only 4 bytes fit.
    assert_eq!(assert_ready!(w.poll()).unwrap(), 4);
    drop(w);
    let mut w = task::spawn(async { a.write(b"ef").await });
    assert_pending!(w.poll());
    let mut buf = [0u8; 3];
    let mut r = task::spawn(async { b.read(&mut buf).await });
    assert_eq!(assert_ready!(r.poll()).unwrap(), 3);
    drop(r);
    assert_eq!(&buf, b"abc");
    assert!(w.is_woken(), "a read that made room wakes the blocked writer");
    assert_eq!(assert_ready!(w.poll()).unwrap(), 2);
    drop(w);
    // And the other direction.
    let mut w = task::spawn(async { b.write(b"back").await });
    assert_eq!(assert_ready!(w.poll()).unwrap(), 4);
    drop(w);
    let mut buf = [0u8; 4];
    let mut r = task::spawn(async { a.read_exact(&mut buf).await });
    assert_ready!(r.poll()).unwrap();
    drop(r);
    assert_eq!(&buf, b"back");
}

#[test]
fn duplex_close_gives_eof_after_the_bytes_and_a_dropped_end_breaks_the_pipe() {
    let rt = current_thread();
    rt.block_on(async {
        let (mut a, mut b) = duplex(64);
        a.write_all(b"last").await.unwrap();
        a.close().await.unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last");
        // A reader waiting on an empty pipe is woken by the peer's drop: EOF.
        let reader = executor::spawn(async move {
            let mut buf = [0u8; 1];
            let n = a.read(&mut buf).await.unwrap();
            (n, a)
        });
        executor::task::yield_now().await;
        drop(b);
        let (n, mut a) = reader.await.unwrap();
        assert_eq!(n, 0);
        let err = a.write(b"x").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    });
}

#[test]
fn copy_and_copy_buf_move_every_byte_and_flush() {
    let rt = current_thread();
    rt.block_on(async {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = Cursor::new(data.clone());
        let mut writer = Cursor::new(Vec::new());
        assert_eq!(copy(&mut reader, &mut writer).await.unwrap(), data.len() as u64);
        assert_eq!(writer.into_inner(), data);
        let mut reader = BufReader::with_capacity(1000, Cursor::new(data.clone()));
        let mut writer = Cursor::new(Vec::new());
        assert_eq!(copy_buf(&mut reader, &mut writer).await.unwrap(), data.len() as u64);
        assert_eq!(writer.into_inner(), data);
        // From a duplex whose writer sends in pieces, through a pipe that is smaller than the data.
        let (mut tx, mut rx) = duplex(1000);
        let sender = {
            let data = data.clone();
            executor::spawn(async move {
                for chunk in data.chunks(7777) {
                    tx.write_all(chunk).await.unwrap();
                }
            })
        };
        let mut out = Cursor::new(Vec::new());
        let copied = executor::spawn(async move { copy(&mut rx, &mut out).await.map(|n| (n, out.into_inner())) });
        sender.await.unwrap();
        let (n, out) = copied.await.unwrap().unwrap();
        assert_eq!((n, out == data), (data.len() as u64, true));
    });
}

#[test]
fn copy_bidirectional_proxies_both_ways_and_propagates_each_close_on_both_flavors() {
    for rt in flavors() {
        rt.block_on(async {
            let (mut client, mut front) = duplex(256);
            let (mut back, mut server) = duplex(256);
            let proxy = executor::spawn(async move { copy_bidirectional(&mut front, &mut back).await });
            let up: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
            let down: Vec<u8> = (0..7_000u32).map(|i| (i * 3) as u8).collect();
            let server_task = {
                let (up, down) = (up.clone(), down.clone());
                executor::spawn(async move {
                    let mut got = Vec::new();
                    server.read_to_end(&mut got).await.unwrap(); // ends when the client closes
                    assert!(got == up);
                    server.write_all(&down).await.unwrap();
                    server.close().await.unwrap();
                })
            };
            client.write_all(&up).await.unwrap();
            client.close().await.unwrap();
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.unwrap();
            assert!(got == down);
            server_task.await.unwrap();
            assert_eq!(proxy.await.unwrap().unwrap(), (up.len() as u64, down.len() as u64));
        });
    }
}

#[test]
fn split_halves_work_from_two_tasks_and_unsplit_on_both_flavors() {
    for rt in flavors() {
        rt.block_on(async {
            let (a, mut peer) = duplex(16);
            let (mut rd, mut wr) = split(a);
            assert!(rd.is_pair_of(&wr) && wr.is_pair_of(&rd));
            let writer = executor::spawn(async move {
                for i in 0..100u8 {
                    wr.write_all(&[i; 10]).await.unwrap();
                }
                wr
            });
            let reader = executor::spawn(async move {
                let mut buf = [0u8; 1000];
                rd.read_exact(&mut buf).await.unwrap();
                (buf.iter().enumerate().all(|(i, b)| *b == (i / 10) as u8), rd)
            });
            // The peer echoes everything back.
            let mut buf = [0u8; 1000];
            peer.read_exact(&mut buf).await.unwrap();
            peer.write_all(&buf).await.unwrap();
            let wr = writer.await.unwrap();
            let (ok, rd) = reader.await.unwrap();
            assert!(ok);
            let _whole = rd.unsplit(wr);
        });
    }
    // Halves of different streams are refused.
    let (a, _) = duplex(1);
    let (b, _) = duplex(1);
    let (rd, _) = split(a);
    let (_, wr) = split(b);
    assert!(!rd.is_pair_of(&wr));
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(rd.unsplit(wr)))).unwrap_err();
    assert!(err.downcast_ref::<&str>().is_some_and(|m| m.contains("not split from the same stream")));
}

/// On a current-thread runtime, loops on `op` (an operation that is always ready) until another
/// task has run; returns how many operations that took (bounded: a source that never yields
/// makes the loop give up after 100 000).
fn operations_before_another_task_runs<F, Fut>(op: F) -> usize
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    current_thread().block_on(async {
        let other_ran = Arc::new(AtomicBool::new(false));
        let flag = other_ran.clone();
        executor::spawn(async move { flag.store(true, Ordering::SeqCst) });
        let mut n = 0;
        while !other_ran.load(Ordering::SeqCst) && n < 100_000 {
            op().await;
            n += 1;
        }
        n
    })
}

#[test]
fn looping_on_always_ready_utilities_yields_to_other_tasks() {
    let bound = 2 * 128;
    let repeat_reads = operations_before_another_task_runs(|| async {
        let mut buf = [0u8; 8];
        repeat(1).read_exact(&mut buf).await.unwrap();
    });
    assert!(repeat_reads <= bound, "repeat: {repeat_reads} reads before the other task ran");
    let empty_reads = operations_before_another_task_runs(|| async {
        let mut buf = Vec::new();
        empty().read_to_end(&mut buf).await.unwrap();
    });
    assert!(empty_reads <= bound, "empty: {empty_reads}");
    let sink_writes = operations_before_another_task_runs(|| async {
        sink().write_all(b"x").await.unwrap();
    });
    assert!(sink_writes <= bound, "sink: {sink_writes}");
    // A copy from a source that never ends is one long operation: it yields inside.
    let copies = operations_before_another_task_runs(|| async {
        let mut source = repeat(0).take(1 << 30);
        let mut sink = sink();
        let copy = copy(&mut source, &mut sink);
        // Bounded: give up on the copy once the other task ran (the copy must have yielded).
        let _ = executor::time::timeout(std::time::Duration::from_millis(50), copy).await;
    });
    assert!(copies <= 1, "copy: the other task ran only after {copies} copies");
    // A duplex whose peer has plenty of data.
    let (mut tx, mut rx) = duplex(1 << 20);
    futures::executor::block_on(tx.write_all(&vec![0u8; 1 << 20])).unwrap();
    let rx = executor::sync::Mutex::new(&mut rx);
    let duplex_reads = operations_before_another_task_runs(|| async {
        let mut buf = [0u8; 1];
        rx.lock().await.read_exact(&mut buf).await.unwrap();
    });
    assert!(duplex_reads <= bound, "duplex: {duplex_reads}");
}
