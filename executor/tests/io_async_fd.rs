//! `AsyncFd` as tokio's: `try_io` without recorded readiness does not call its closure,
//! readiness futures take no budget (the operations do), `try_new` hands the value back on
//! failure, the `_mut` family, `Interest::ERROR`.

use executor::io::unix::AsyncFd;
use executor::io::Interest;
use executor::runtime::Builder;
use executor::task::coop;
use std::future::{poll_fn, Future};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::task::Poll;

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// Spends the current task's budget (without yielding).
fn spend_the_budget(cx: &mut std::task::Context<'_>) {
    while coop::has_budget_remaining() {
        let Poll::Ready(unit) = coop::poll_proceed(cx) else { unreachable!() };
        unit.made_progress();
    }
}

#[test]
fn try_io_does_not_call_its_closure_without_recorded_readiness() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (a, mut b) = pair();
        b.write_all(b"x").unwrap();
        let fd = AsyncFd::new(a).unwrap();
        // Registered a moment ago: the driver has not reported the byte yet.
        let mut called = false;
        let err = fd
            .try_io(Interest::READABLE, |_| {
                called = true;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        assert!(!called, "try_io called its closure without readiness");
        fd.readable().await.unwrap().retain_ready();
        let mut buf = [0u8; 1];
        assert_eq!(fd.try_io(Interest::READABLE, |mut s| s.read(&mut buf)).unwrap(), 1);
        // The closure's WouldBlock clears the readiness: the next try is refused up front.
        let err = fd.try_io(Interest::READABLE, |mut s| s.read(&mut buf)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        let err = fd.try_io(Interest::READABLE, |_| -> io::Result<()> { panic!("called after the readiness was cleared") }).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    });
}

#[test]
fn waiting_for_readiness_takes_no_budget_but_the_operation_does() {
    let rt = Builder::new_current_thread().build().unwrap();
    let _ctx = rt.enter();
    let task = executor::spawn(async {
        let (a, mut b) = pair();
        b.write_all(b"xy").unwrap();
        let fd = AsyncFd::new(a).unwrap();
        fd.readable().await.unwrap().retain_ready();
        let (ready, io) = poll_fn(|cx| {
            spend_the_budget(cx);
            let ready = pin!(fd.readable()).poll(cx).map(|g| g.map(|mut g| g.retain_ready()));
            let mut buf = [0u8; 1];
            let io = pin!(fd.async_io(Interest::READABLE, |mut s| s.read(&mut buf))).poll(cx);
            Poll::Ready((ready.is_ready(), io.is_ready()))
        })
        .await;
        assert!(ready, "readable() is ready without budget (as tokio)");
        assert!(!io, "async_io must wait for budget");
    });
    rt.block_on(task).unwrap();
}

#[test]
fn try_new_hands_the_value_back_on_failure() {
    let rt = Builder::new_current_thread().build().unwrap();
    let _ctx = rt.enter();
    let (a, _b) = pair();
    let fd = AsyncFd::new(a).unwrap();
    /// A descriptor number that closes nothing when dropped.
    #[derive(Debug)]
    struct Raw(std::os::fd::RawFd);
    impl std::os::fd::AsRawFd for Raw {
        fn as_raw_fd(&self) -> std::os::fd::RawFd {
            self.0
        }
    }
    // The same descriptor twice: EEXIST, and the value comes back.
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    let (back, err) = AsyncFd::try_with_interest(Raw(raw), Interest::READABLE).unwrap_err().into_parts();
    assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
    assert_eq!(back.0, raw);
    let err: io::Error = AsyncFd::try_new(Raw(raw)).unwrap_err().into();
    assert_eq!(err.raw_os_error(), Some(libc::EEXIST));
}

#[test]
fn the_mut_family_reads_and_writes_through_exclusive_access() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (a, mut b) = pair();
        let mut fd = AsyncFd::new(a).unwrap();
        b.write_all(b"abc").unwrap();
        let mut buf = [0u8; 3];
        {
            let mut guard = fd.readable_mut().await.unwrap();
            assert_eq!(guard.try_io(|fd| fd.get_mut().read(&mut buf)).unwrap().unwrap(), 3);
            guard.get_inner_mut().write_all(b"z").unwrap();
        }
        let n = fd.async_io_mut(Interest::WRITABLE, |s| s.write(b"w")).await.unwrap();
        assert_eq!(n, 1);
        let mut one = [0u8; 2];
        b.read_exact(&mut one).unwrap();
        assert_eq!(&one, b"zw");
        {
            let mut guard = fd.writable_mut().await.unwrap();
            assert!(guard.ready().is_writable());
            guard.clear_ready_matching(executor::io::Ready::WRITABLE);
        }
        let err = fd.try_io_mut(Interest::READABLE, |s| s.read(&mut buf)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        // New bytes are a new edge: `ready_mut` sees it.
        b.write_all(b"!").unwrap();
        assert!(fd.ready_mut(Interest::READABLE).await.unwrap().ready().is_readable());
    });
}

#[test]
fn an_error_interest_is_woken_by_a_reset_connection() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.set_nonblocking(true).unwrap();
        let (server, _) = listener.accept().unwrap();
        let fd = AsyncFd::with_interest(client, Interest::ERROR).unwrap();
        // Close with SO_LINGER 0: the peer gets a reset, which is an error on its socket.
        socket2::SockRef::from(&server).set_linger(Some(std::time::Duration::ZERO)).unwrap();
        drop(server);
        let guard = executor::time::timeout(std::time::Duration::from_secs(10), fd.ready(Interest::ERROR)).await.unwrap().unwrap();
        assert!(guard.ready().is_error(), "{:?}", guard.ready());
    });
}
