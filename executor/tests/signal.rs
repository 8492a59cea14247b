//! `executor::signal`: process-wide handlers waking listeners through the reactor.
//!
//! The tests share one process and run in parallel threads, so each uses its own signal, and
//! each installs the handler (creates a listener) before raising its signal: a signal whose
//! default action terminates the process must never be raised without one.
#![cfg(unix)]

use executor::runtime::{Builder, Runtime};
use executor::signal::unix::{signal, Signal, SignalKind};
use executor::time::timeout;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

fn multi_thread() -> Runtime {
    Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// Raises `signum` in this thread: the handler has run when this returns.
fn raise(signum: libc::c_int) {
    // SAFETY: raise has no memory-safety preconditions; every caller installed a handler.
    assert_eq!(unsafe { libc::raise(signum) }, 0);
}

/// Sends `signum` to the whole process (delivered to any thread that does not block it).
fn kill_self(signum: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions; every caller installed a handler.
    assert_eq!(unsafe { libc::kill(libc::getpid(), signum) }, 0);
}

/// Whether `sig` has a delivery ready now (one poll, without waiting).
async fn has_delivery(sig: &mut Signal) -> bool {
    poll_fn(|cx| Poll::Ready(sig.poll_recv(cx).is_ready())).await
}

/// Awaits `fut`, failing the test after `LIMIT`.
async fn bounded<F: Future>(fut: F) -> F::Output {
    timeout(LIMIT, fut).await.expect("no delivery within the limit")
}

#[test]
fn recv_completes_after_sigusr1_is_raised_on_both_runtime_flavors() {
    for rt in [current_thread(), multi_thread()] {
        rt.block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            raise(libc::SIGUSR1);
            assert_eq!(bounded(usr1.recv()).await, Some(()));
            // A signal sent to the process (any thread may run the handler) arrives too, while
            // the listener is already waiting.
            let waiter = executor::spawn(async move { bounded(usr1.recv()).await });
            executor::time::sleep(Duration::from_millis(10)).await;
            kill_self(libc::SIGUSR1);
            assert_eq!(waiter.await.unwrap(), Some(()));
        });
    }
}

#[test]
fn ctrl_c_completes_after_sigint() {
    let rt = current_thread();
    rt.block_on(async {
        let mut ctrl_c = pin!(executor::signal::ctrl_c());
        // The first poll installs the handler and waits.
        assert!(poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx).is_pending())).await);
        raise(libc::SIGINT);
        bounded(ctrl_c).await.unwrap();
    });
}

#[test]
fn every_listener_of_a_signal_is_woken() {
    let rt = multi_thread();
    rt.block_on(async {
        let listeners: Vec<Signal> = (0..3).map(|_| signal(SignalKind::user_defined2()).unwrap()).collect();
        let waiters: Vec<_> = listeners.into_iter().map(|mut s| executor::spawn(async move { bounded(s.recv()).await })).collect();
        executor::time::sleep(Duration::from_millis(10)).await;
        kill_self(libc::SIGUSR2);
        for w in waiters {
            assert_eq!(w.await.unwrap(), Some(()));
        }
    });
}

#[test]
fn a_signal_that_reached_no_listener_is_seen_by_the_next_listener_on_both_flavors() {
    for (rt, signum, kind) in
        [(current_thread(), libc::SIGHUP, SignalKind::hangup()), (multi_thread(), libc::SIGTERM, SignalKind::terminate())]
    {
        rt.block_on(async {
            // Install the handler, then let its only listener go: the next delivery reaches
            // nobody, and is kept for the next listener (as tokio's global registry does).
            drop(signal(kind).unwrap());
            raise(signum);
            let mut late = signal(kind).unwrap();
            assert_eq!(bounded(late.recv()).await, Some(()));
            assert!(!has_delivery(&mut late).await, "seen once");
            // Deliveries coalesce; once seen, nothing is left over.
            raise(signum);
            raise(signum);
            assert_eq!(bounded(late.recv()).await, Some(()));
            assert!(!has_delivery(&mut late).await);
            // While a listener exists a delivery is its own: a listener created after the
            // delivery does not see it.
            raise(signum);
            let mut later = signal(kind).unwrap();
            executor::task::yield_now().await;
            assert!(!has_delivery(&mut later).await);
            assert_eq!(bounded(late.recv()).await, Some(()));
            // Both see the next one.
            raise(signum);
            assert_eq!(bounded(later.recv()).await, Some(()));
            assert_eq!(bounded(late.recv()).await, Some(()));
        });
    }
}

#[test]
fn a_listener_is_not_woken_by_other_signals() {
    let rt = current_thread();
    rt.block_on(async {
        let mut alarm = signal(SignalKind::alarm()).unwrap();
        let mut winch = signal(SignalKind::window_change()).unwrap();
        raise(libc::SIGWINCH);
        assert_eq!(bounded(winch.recv()).await, Some(()));
        assert!(!has_delivery(&mut alarm).await);
        raise(libc::SIGALRM);
        assert_eq!(bounded(alarm.recv()).await, Some(()));
    });
}

#[test]
fn forbidden_and_invalid_signals_are_invalid_input() {
    let rt = current_thread();
    rt.block_on(async {
        for signum in [libc::SIGKILL, libc::SIGSTOP, libc::SIGILL, libc::SIGFPE, libc::SIGSEGV, 0, -1, 100_000] {
            let err = signal(SignalKind::from_raw(signum)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "signal {signum}: {err}");
        }
    });
}

#[test]
fn recv_returns_none_once_the_runtime_has_shut_down() {
    let rt = current_thread();
    let mut term = rt.block_on(async { signal(SignalKind::terminate()).unwrap() });
    drop(rt);
    let other = current_thread();
    assert_eq!(other.block_on(async { bounded(term.recv()).await }), None);
}

#[test]
fn a_listener_can_move_between_threads() {
    fn check<T: Send + Sync>() {}
    check::<Signal>();
}
