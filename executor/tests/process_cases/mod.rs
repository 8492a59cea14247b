//! The `process` tests, shared by `process.rs` (exits watched through pidfds) and
//! `process_sigchld.rs` (through the SIGCHLD fallback): `process_tests!(setup)` defines every
//! test, each calling `setup` first and running on both flavors.

use executor::process::{Child, Command};
use executor::runtime::{Builder, Runtime};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use std::future::Future;
use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub fn flavors() -> [Runtime; 2] {
    [Builder::new_current_thread().build().unwrap(), Builder::new_multi_thread().worker_threads(2).build().unwrap()]
}

/// `pid`'s state and parent from `/proc/<pid>/stat`, `None` if there is no such process.
fn stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid …": the name may hold spaces and parentheses; the last ')' ends it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Whether `pid` is a child of this process that exited and was not reaped.
pub fn is_our_zombie(pid: u32) -> bool {
    stat(pid).is_some_and(|(state, ppid)| state == 'Z' && ppid == std::process::id())
}

/// Whether `pid` is a child of this process (running or a zombie).
pub fn is_our_child(pid: u32) -> bool {
    stat(pid).is_some_and(|(_, ppid)| ppid == std::process::id())
}

/// Drives the runtime (sleeping in it) until `done` holds; panics after 10 s.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting until {what}");
        executor::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub async fn a_16_mib_round_trip_through_cat() {
    let data = bytes(16 << 20, 42);
    let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let writer = {
        let data = data.clone();
        executor::spawn(async move {
            stdin.write_all(&data).await.unwrap();
            // Dropped here: cat reads end-of-file and exits.
        })
    };
    // A loop of reads, not `read_to_end`: the `futures` one zeroes the Vec's spare capacity
    // again after every `Pending`, quadratic in debug builds for 16 MiB.
    let mut back = Vec::with_capacity(data.len());
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match stdout.read(&mut chunk).await.unwrap() {
            0 => break,
            n => back.extend_from_slice(&chunk[..n]),
        }
    }
    writer.await.unwrap();
    assert_eq!(back.len(), data.len(), "cat gave back a different number of bytes");
    if let Some(i) = back.iter().zip(&data).position(|(a, b)| a != b) {
        panic!("byte {i} differs: {} instead of {}", back[i], data[i]);
    }
    assert!(child.wait().await.unwrap().success());
}

pub async fn exit_codes_and_signals_are_reported() {
    for code in [0, 1, 7, 255] {
        let status = Command::new("sh").args(["-c", &format!("exit {code}")]).status().await.unwrap();
        assert_eq!(status.code(), Some(code));
        assert_eq!(status.signal(), None);
    }
    let status = Command::new("sh").args(["-c", "kill -TERM $$"]).status().await.unwrap();
    assert_eq!((status.code(), status.signal()), (None, Some(libc::SIGTERM)));
}

pub async fn kill_ends_a_running_child_and_a_reaped_one_cannot_be_killed() {
    let mut child = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id().unwrap();
    assert!(child.try_wait().unwrap().is_none(), "sleep 30 has not exited yet");
    child.kill().await.unwrap();
    assert_eq!(child.try_wait().unwrap().and_then(|s| s.signal()), Some(libc::SIGKILL));
    assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGKILL), "the status is kept");
    assert_eq!(child.id(), None, "no pid once reaped");
    assert_eq!(child.start_kill().unwrap_err().kind(), ErrorKind::InvalidInput);
    assert!(!is_our_child(pid), "the child was reaped");
}

pub async fn five_hundred_concurrent_children_all_exit_and_none_is_left_a_zombie() {
    let mut children: Vec<Child> = (0..500).map(|_| Command::new("true").stdin(Stdio::null()).spawn().unwrap()).collect();
    let pids: Vec<u32> = children.iter().map(|c| c.id().unwrap()).collect();
    let waits: Vec<_> = children.drain(..).map(|mut child| executor::spawn(async move { child.wait().await.unwrap().success() })).collect();
    let mut seen = 0;
    for w in waits {
        assert!(w.await.unwrap(), "a child failed");
        seen += 1;
    }
    assert_eq!(seen, 500);
    let zombies: Vec<u32> = pids.into_iter().filter(|&pid| is_our_zombie(pid)).collect();
    assert!(zombies.is_empty(), "zombies left: {zombies:?}");
}

pub async fn a_dropped_child_is_reaped_when_it_exits_and_not_killed() {
    // Exits by itself after a moment: reaped by the runtime, not left a zombie.
    let child = Command::new("sh").args(["-c", "sleep 0.3"]).spawn().unwrap();
    let pid = child.id().unwrap();
    drop(child);
    assert!(is_our_child(pid) && !is_our_zombie(pid), "not killed by the drop");
    eventually("the dropped child is reaped", || !is_our_child(pid)).await;
    // Still running when dropped, then killed from outside: reaped too.
    let child = Command::new("sleep").arg("30").spawn().unwrap();
    let pid = child.id().unwrap();
    drop(child);
    executor::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(stat(pid).map(|(s, _)| s == 'Z'), Some(false), "the dropped child still runs");
    // SAFETY: `pid` is our child, not reaped yet (checked just above), so the number is not reused.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);
    eventually("the killed orphan is reaped", || !is_our_child(pid)).await;
}

pub async fn kill_on_drop_kills_the_child() {
    let child = Command::new("sleep").arg("30").kill_on_drop(true).spawn().unwrap();
    let pid = child.id().unwrap();
    drop(child);
    eventually("the child killed on drop is gone", || !is_our_child(pid)).await;
    // And through `output()`'s future, dropped before completion (the shell writes its pid,
    // then becomes `sleep`).
    let pidfile = std::env::temp_dir().join(format!("runtime-kill-on-drop-{}-{:?}", std::process::id(), std::thread::current().id()));
    let _ = std::fs::remove_file(&pidfile);
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo $$ > \"$0\"; exec sleep 30"]).arg(&pidfile).kill_on_drop(true);
    assert!(cmd.get_kill_on_drop());
    let mut output = Box::pin(cmd.output());
    let mut pid = None;
    eventually("the shell wrote its pid", || {
        // Polled by hand between the checks: the future runs until dropped below.
        let waker = std::task::Waker::noop();
        assert!(output.as_mut().poll(&mut std::task::Context::from_waker(waker)).is_pending());
        pid = std::fs::read_to_string(&pidfile).ok().and_then(|s| s.trim().parse::<u32>().ok());
        pid.is_some()
    })
    .await;
    let pid = pid.unwrap();
    assert!(is_our_child(pid));
    drop(output);
    let _ = std::fs::remove_file(&pidfile);
    eventually("the child of the dropped output() is gone", || !is_our_child(pid)).await;
}

pub async fn a_missing_program_is_not_found() {
    let err = Command::new("/definitely/not/a/program").spawn().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = Command::new("no-such-program-in-path-xyz").output().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

pub async fn output_status_and_pipes_behave_as_std() {
    let out = Command::new("sh").args(["-c", "printf out; printf err >&2; exit 4"]).output().await.unwrap();
    assert_eq!((out.status.code(), &out.stdout[..], &out.stderr[..]), (Some(4), &b"out"[..], &b"err"[..]));
    let out = Command::new("sh").args(["-c", "printf \"$X:$(pwd)\""]).env_clear().env("X", "1").current_dir("/").output().await.unwrap();
    assert_eq!(out.stdout, b"1:/");
    // stdin piped: written, closed by wait_with_output, echoed back.
    let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.as_mut().unwrap().write_all(b"ping").await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    assert_eq!((out.status.success(), &out.stdout[..], out.stderr.len()), (true, &b"ping"[..], 0));
    // wait() closes stdin, so a child reading it to the end exits.
    let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    assert!(child.wait().await.unwrap().success());
    // A pipe handed to another child.
    let mut first = Command::new("echo").arg("piped along").stdout(Stdio::piped()).spawn().unwrap();
    let stdout: Stdio = first.stdout.take().unwrap().try_into().unwrap();
    let out = Command::new("cat").stdin(stdout).output().await.unwrap();
    assert_eq!(out.stdout, b"piped along\n");
    assert!(first.wait().await.unwrap().success());
}

/// After its runtime is gone, a child's `wait` fails at once (it is polled here with a
/// runtime-free executor).
pub fn wait_fails_at_once_after_the_runtime_is_gone(rt: Runtime) {
    let mut child = rt.block_on(async { Command::new("sleep").arg("30").kill_on_drop(true).spawn().unwrap() });
    drop(rt);
    let started = Instant::now();
    let res = futures::executor::block_on(child.wait());
    assert!(res.is_err(), "waited for a child of a dead runtime: {res:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "the wait did not fail at once");
    // Nothing hung; the child is killed by the drop and reaped at the next spawn.
    let pid = child.id().unwrap();
    drop(child);
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        eventually("the orphan of the dead runtime is killed", || stat(pid).is_none_or(|(s, _)| s == 'Z')).await;
        assert!(Command::new("true").status().await.unwrap().success());
        assert!(!is_our_child(pid), "reaped at the next spawn");
    });
}

/// Defines each test of this module, calling `$setup` first and running it on both flavors.
#[macro_export]
macro_rules! process_tests {
    ($setup:expr) => {
        process_tests!(@each $setup;
            a_16_mib_round_trip_through_cat,
            exit_codes_and_signals_are_reported,
            kill_ends_a_running_child_and_a_reaped_one_cannot_be_killed,
            five_hundred_concurrent_children_all_exit_and_none_is_left_a_zombie,
            a_dropped_child_is_reaped_when_it_exits_and_not_killed,
            kill_on_drop_kills_the_child,
            a_missing_program_is_not_found,
            output_status_and_pipes_behave_as_std,
        );

        #[test]
        fn wait_fails_at_once_after_the_runtime_is_gone() {
            $setup;
            for rt in process_cases::flavors() {
                process_cases::wait_fails_at_once_after_the_runtime_is_gone(rt);
            }
        }
    };
    (@each $setup:expr; $($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            $setup;
            for rt in process_cases::flavors() {
                rt.block_on(process_cases::$name());
            }
        }
    )*};
}
