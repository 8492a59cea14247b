//! `Handle::dump` names what each task waits on — a read, a write, a timer, a `JoinHandle` —
//! with its spawn location, state and poll count, on both flavors.

use executor::io::unix::AsyncFd;
use executor::io::Interest;
use executor::runtime::dump::{Dump, TaskState, WaitReason};
use executor::runtime::{Builder, Runtime};
use executor::time::Instant;
use executor::Handle;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

fn runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        ("current_thread", Builder::new_current_thread().build().unwrap()),
        ("multi_thread", Builder::new_multi_thread().worker_threads(2).build().unwrap()),
    ]
}

/// Dumps (inside the runtime, so the current-thread flavor runs its tasks) until `done` holds;
/// bounded in rounds.
fn dump_until(rt: &Runtime, done: impl Fn(&Dump) -> bool) -> Dump {
    rt.block_on(async {
        for _ in 0..2000 {
            let dump = Handle::current().dump();
            if done(&dump) {
                return dump;
            }
            executor::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("the tasks never reached the expected waits:\n{}", Handle::current().dump());
    })
}

/// A socket whose send buffer is full: writing would block.
fn full_socket() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let chunk = [0u8; 65536];
    for _ in 0..10_000 {
        match (&a).write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return (a, b),
            Err(e) => panic!("{e}"),
        }
    }
    panic!("the send buffer never filled");
}

#[test]
fn the_dump_names_a_read_a_write_a_timer_and_a_join_handle() {
    for (flavor, rt) in runtimes() {
        let (r, _r_peer) = UnixStream::pair().unwrap();
        r.set_nonblocking(true).unwrap();
        let (w, _w_peer) = full_socket();
        let (r_fd, w_fd) = (r.as_raw_fd(), w.as_raw_fd());
        let _guard = rt.enter();
        let r = AsyncFd::new(r).unwrap();
        let w = AsyncFd::new(w).unwrap();

        let (reader, reader_line) = (rt.spawn(async move { drop(r.readable().await) }), line!());
        let writer = rt.spawn(async move { drop(w.writable().await) });
        let sleeper = rt.spawn(executor::time::sleep(Duration::from_secs(3600)));
        let stuck = rt.spawn(std::future::pending::<()>());
        let stuck_id = stuck.id();
        let joiner = rt.spawn(async move { stuck.await.ok() });
        let ids = [reader.id(), writer.id(), sleeper.id(), joiner.id()];

        let dump = dump_until(&rt, |d| ids.iter().all(|&id| d.task(id).is_some_and(|t| !t.waits().is_empty())));
        let waits = |id| dump.task(id).unwrap().waits().to_vec();
        assert_eq!(waits(reader.id()), vec![WaitReason::Io { fd: r_fd, interest: Interest::READABLE }], "{flavor}\n{dump}");
        assert_eq!(waits(writer.id()), vec![WaitReason::Io { fd: w_fd, interest: Interest::WRITABLE }], "{flavor}\n{dump}");
        assert_eq!(waits(joiner.id()), vec![WaitReason::Join { task: stuck_id }], "{flavor}\n{dump}");
        match waits(sleeper.id())[..] {
            [WaitReason::Timer { deadline }] => {
                let left = deadline - Instant::now();
                // The wheel keeps whole milliseconds from the runtime's start, rounded up.
                assert!(
                    left > Duration::from_secs(3500) && left <= Duration::from_secs(3600) + Duration::from_millis(1),
                    "{flavor}: {left:?}"
                );
            }
            ref other => panic!("{flavor}: {other:?}"),
        }
        assert!(dump.task(stuck_id).unwrap().waits().is_empty(), "{flavor}: `pending()` registers no waker");

        let t = dump.task(reader.id()).unwrap();
        assert_eq!((t.state(), t.polls()), (TaskState::Idle, 1), "{flavor}");
        assert!(t.since_last_poll().is_some(), "{flavor}");
        assert_eq!((t.spawned_at().file(), t.spawned_at().line()), (file!(), reader_line), "{flavor}");
        assert_eq!(dump.tasks().len(), 5, "{flavor}");

        // The table names each wait.
        let text = dump.to_string();
        assert!(text.starts_with("  TASK  STATE"), "{text}");
        for needle in [format!("fd {r_fd} read"), format!("fd {w_fd} write"), format!("join task {stuck_id}"), "timer in ".into()] {
            assert!(text.contains(&needle), "{flavor}: {needle:?} missing from\n{text}");
        }
        assert!(text.contains(&format!("{}:{reader_line}", file!())), "{text}");
        drop(_guard);
        rt.shutdown_background();
    }
}

#[test]
fn a_woken_task_is_scheduled_and_a_finished_one_leaves_the_dump() {
    let rt = Builder::new_current_thread().build().unwrap();
    let (tx, rx) = executor::sync::oneshot::channel::<()>();
    let waiting = rt.spawn(async move { rx.await.ok() });
    rt.block_on(executor::task::yield_now());
    assert_eq!(rt.handle().dump().task(waiting.id()).unwrap().state(), TaskState::Idle);
    tx.send(()).unwrap();
    // Woken from outside the runtime: queued, not yet run.
    assert_eq!(rt.handle().dump().task(waiting.id()).unwrap().state(), TaskState::Scheduled);
    let id = waiting.id();
    rt.block_on(waiting).unwrap();
    assert!(rt.handle().dump().task(id).is_none());
}
