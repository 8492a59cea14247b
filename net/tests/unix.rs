//! Unix-domain sockets: streams (pair, listener, halves), datagrams, on both runtime flavors.
#![cfg(unix)]

use executor::runtime::{Builder, Runtime};
use executor::time::timeout;
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use net::unix::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};
use net::{UnixDatagram, UnixListener, UnixStream};
use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

fn runtimes() -> [Runtime; 2] {
    [
        Builder::new_current_thread().enable_all().build().unwrap(),
        Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
    ]
}

/// Runs `test` to completion on each runtime flavor, failing after `LIMIT`.
fn on_both<F, Fut>(test: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = io::Result<()>>,
{
    for rt in runtimes() {
        rt.block_on(async { timeout(LIMIT, test()).await.expect("the test timed out").unwrap() });
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("net-unix-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ (i >> 13) as u8).collect()
}

#[test]
fn a_stream_pair_echoes_megabytes_byte_exactly() {
    on_both(|| async {
        let (client, server) = UnixStream::pair()?;
        let echo = executor::spawn(async move {
            let (mut r, mut w) = server.into_split();
            let n = futures::io::copy(&mut r, &mut w).await?;
            w.close().await?;
            Ok::<_, io::Error>(n)
        });
        let data = pattern(4 << 20);
        let (mut r, mut w) = client.into_split();
        let writer = {
            let data = data.clone();
            executor::spawn(async move {
                w.write_all(&data).await?;
                w.close().await?;
                Ok::<_, io::Error>(())
            })
        };
        let mut got = Vec::with_capacity(data.len());
        r.read_to_end(&mut got).await?;
        writer.await.unwrap()?;
        assert_eq!(echo.await.unwrap()?, data.len() as u64);
        assert!(got == data, "the echoed bytes differ from the bytes sent");
        Ok(())
    });
}

#[test]
fn a_listener_accepts_connections_made_to_its_path() {
    on_both(|| async {
        let dir = TempDir::new();
        let path = dir.path("listener.sock");
        let listener = UnixListener::bind(&path)?;
        assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
        let server = async {
            let (mut s, addr) = listener.accept().await?;
            assert!(addr.is_unnamed());
            let mut buf = [0; 5];
            s.read_exact(&mut buf).await?;
            s.write_all(&buf).await?;
            Ok::<_, io::Error>(buf)
        };
        let client = async {
            let mut c = UnixStream::connect(&path).await?;
            assert_eq!(c.peer_addr()?.as_pathname(), Some(path.as_path()));
            c.write_all(b"hello").await?;
            let mut buf = [0; 5];
            c.read_exact(&mut buf).await?;
            Ok::<_, io::Error>(buf)
        };
        let (s, c) = futures::future::try_join(server, client).await?;
        assert_eq!((&s, &c), (b"hello", b"hello"));
        Ok(())
    });
}

#[test]
fn many_clients_are_all_accepted_by_several_accepting_tasks() {
    on_both(|| async {
        let dir = TempDir::new();
        let path = dir.path("many.sock");
        let listener = Arc::new(UnixListener::bind(&path)?);
        const CLIENTS: usize = 64;
        let accepted = Arc::new(AtomicUsize::new(0));
        let acceptors: Vec<_> = (0..4)
            .map(|_| {
                let (listener, accepted) = (listener.clone(), accepted.clone());
                executor::spawn(async move {
                    while accepted.fetch_add(1, Ordering::SeqCst) < CLIENTS {
                        let (mut s, _) = listener.accept().await?;
                        let mut b = [0; 1];
                        s.read_exact(&mut b).await?;
                        s.write_all(&b).await?;
                    }
                    Ok::<_, io::Error>(())
                })
            })
            .collect();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let path = path.clone();
                executor::spawn(async move {
                    let mut c = UnixStream::connect(&path).await?;
                    c.write_all(&[i as u8]).await?;
                    let mut b = [0; 1];
                    c.read_exact(&mut b).await?;
                    assert_eq!(b[0], i as u8);
                    Ok::<_, io::Error>(())
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap()?;
        }
        for a in acceptors {
            a.await.unwrap()?;
        }
        Ok(())
    });
}

#[test]
fn incoming_yields_accepted_streams() {
    on_both(|| async {
        let dir = TempDir::new();
        let path = dir.path("incoming.sock");
        let listener = UnixListener::bind(&path)?;
        let _c1 = UnixStream::connect(&path).await?;
        let _c2 = UnixStream::connect(&path).await?;
        let got: Vec<_> = listener.incoming().take(2).collect().await;
        assert_eq!(got.len(), 2);
        for s in got {
            s?.peer_cred()?;
        }
        Ok(())
    });
}

#[test]
fn binding_an_existing_path_is_addr_in_use_and_a_missing_one_not_found() {
    on_both(|| async {
        let dir = TempDir::new();
        let path = dir.path("taken.sock");
        let _first = UnixListener::bind(&path)?;
        assert_eq!(UnixListener::bind(&path).unwrap_err().kind(), io::ErrorKind::AddrInUse);
        assert_eq!(UnixDatagram::bind(&path).unwrap_err().kind(), io::ErrorKind::AddrInUse);
        let missing = dir.path("nobody-here.sock");
        assert_eq!(UnixStream::connect(&missing).await.unwrap_err().kind(), io::ErrorKind::NotFound);
        Ok(())
    });
}

#[test]
fn malformed_paths_are_invalid_input() {
    on_both(|| async {
        let nul = Path::new("/tmp/a\0b");
        assert_eq!(UnixListener::bind(nul).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        assert_eq!(UnixStream::connect(nul).await.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let long = PathBuf::from(format!("/tmp/{}", "x".repeat(200)));
        assert_eq!(UnixListener::bind(&long).unwrap_err().kind(), io::ErrorKind::InvalidInput);
        let d = UnixDatagram::unbound()?;
        assert_eq!(d.send_to(b"x", &long).await.unwrap_err().kind(), io::ErrorKind::InvalidInput);
        Ok(())
    });
}

#[cfg(target_os = "linux")]
#[test]
fn an_abstract_address_needs_no_file() {
    on_both(|| async {
        let name = format!("\0net-unix-test-abstract-{}-{:?}", std::process::id(), std::thread::current().id());
        let listener = UnixListener::bind(&name)?;
        let mut c = UnixStream::connect(&name).await?;
        let (mut s, _) = listener.accept().await?;
        c.write_all(b"abs").await?;
        let mut buf = [0; 3];
        s.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"abs");
        Ok(())
    });
}

#[test]
fn borrowed_halves_read_and_write_at_once() {
    on_both(|| async {
        let (a, b) = UnixStream::pair()?;
        let data = pattern(1 << 20);
        let (mut a, mut b) = (a, b);
        // Path syntax: with `futures::AsyncReadExt` in scope, `a.split()` would pick its
        // by-value `split` (a BiLock) over the inherent `split(&mut self)`.
        let (mut ar, mut aw) = UnixStream::split(&mut a);
        let (mut br, mut bw) = UnixStream::split(&mut b);
        // a writes to b while b writes to a, both through their halves, in one task.
        let a_to_b = async {
            aw.write_all(&data).await?;
            aw.close().await
        };
        let b_to_a = async {
            bw.write_all(&data).await?;
            bw.close().await
        };
        let read_a = async {
            let mut v = Vec::new();
            ar.read_to_end(&mut v).await?;
            Ok::<_, io::Error>(v)
        };
        let read_b = async {
            let mut v = Vec::new();
            br.read_to_end(&mut v).await?;
            Ok::<_, io::Error>(v)
        };
        let ((), (), got_a, got_b) = futures::future::try_join4(a_to_b, b_to_a, read_a, read_b).await?;
        assert!(got_a == data && got_b == data);
        Ok(())
    });
}

#[test]
fn owned_halves_reunite_only_with_their_own_stream() {
    on_both(|| async {
        let (a, b) = UnixStream::pair()?;
        let (ar, aw): (OwnedReadHalf, OwnedWriteHalf) = a.into_split();
        let (br, bw) = b.into_split();
        let ReuniteError(ar, bw) = ar.reunite(bw).unwrap_err();
        let mut a = ar.reunite(aw).map_err(|e| io::Error::other(e.to_string()))?;
        let mut b = br.reunite(bw).map_err(|e| io::Error::other(e.to_string()))?;
        // Reuniting did not shut the write direction down: both still talk.
        a.write_all(b"ab").await?;
        b.write_all(b"ba").await?;
        let mut buf = [0; 2];
        b.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ab");
        a.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ba");
        Ok(())
    });
}

#[test]
fn dropping_the_owned_write_half_sends_end_of_file() {
    on_both(|| async {
        let (a, mut b) = UnixStream::pair()?;
        let (mut ar, aw) = a.into_split();
        drop(aw);
        let mut v = Vec::new();
        assert_eq!(b.read_to_end(&mut v).await?, 0);
        // The other direction still works.
        b.write_all(b"still").await?;
        let mut buf = [0; 5];
        ar.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"still");
        Ok(())
    });
}

#[test]
fn half_close_ends_one_direction_and_keeps_the_other() {
    on_both(|| async {
        let (mut a, mut b) = UnixStream::pair()?;
        a.write_all(b"request").await?;
        a.shutdown(Shutdown::Write)?;
        let mut req = Vec::new();
        b.read_to_end(&mut req).await?;
        assert_eq!(req, b"request");
        b.write_all(b"response").await?;
        b.close().await?;
        let mut resp = Vec::new();
        a.read_to_end(&mut resp).await?;
        assert_eq!(resp, b"response");
        // Writing after shutting the write half down is BrokenPipe (and raises no SIGPIPE).
        assert_eq!(a.write_all(b"late").await.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        Ok(())
    });
}

/// Blocks `SIGPIPE` in this thread, runs `f`, and reports whether a `SIGPIPE` became pending
/// (a write that raised it would have killed a process that does not ignore it).
fn raises_sigpipe(f: impl FnOnce()) -> bool {
    // SAFETY: sigset_t is plain data, initialized by sigemptyset before use; pthread_sigmask
    // and sigpending only read and write the sets passed, which live on this stack frame.
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGPIPE);
        assert_eq!(libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old), 0);
        f();
        let mut pending: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut pending);
        assert_eq!(libc::sigpending(&mut pending), 0);
        let raised = libc::sigismember(&pending, libc::SIGPIPE) == 1;
        // Unblocking delivers a pending SIGPIPE, which the test harness ignores.
        assert_eq!(libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()), 0);
        raised
    }
}

#[test]
fn writing_to_a_closed_peer_is_broken_pipe_and_raises_no_sigpipe() {
    // Current-thread: the write runs on this thread, whose signal mask is checked.
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let raised = raises_sigpipe(|| {
        rt.block_on(async {
            let (mut a, b) = UnixStream::pair().unwrap();
            drop(b);
            let err = a.write_all(&[0; 1024]).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err:?}");
            let (d, e) = UnixDatagram::pair().unwrap();
            d.shutdown(Shutdown::Write).unwrap();
            assert_eq!(d.send(b"x").await.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
            drop(e);
        })
    });
    assert!(!raised, "a write to a closed peer raised SIGPIPE");
}

#[test]
fn peer_cred_names_this_process() {
    on_both(|| async {
        let (a, _b) = UnixStream::pair()?;
        let cred = a.peer_cred()?;
        // SAFETY: getuid/getgid have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        assert_eq!((cred.uid(), cred.gid()), (uid, gid));
        assert_eq!(cred.pid(), Some(std::process::id() as libc::pid_t));
        Ok(())
    });
}

#[test]
fn try_read_on_an_empty_stream_would_block_then_reads_what_arrives() {
    on_both(|| async {
        let (a, b) = UnixStream::pair()?;
        let mut buf = [0; 8];
        assert_eq!(a.try_read(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        b.writable().await?;
        assert_eq!(b.try_write(b"hey")?, 3);
        a.readable().await?;
        assert_eq!(a.try_read(&mut buf)?, 3);
        assert_eq!(&buf[..3], b"hey");
        Ok(())
    });
}

#[test]
fn vectored_writes_and_reads_carry_every_buffer() {
    on_both(|| async {
        let (mut a, mut b) = UnixStream::pair()?;
        let bufs = [io::IoSlice::new(b"one,"), io::IoSlice::new(b"two,"), io::IoSlice::new(b"three")];
        let n = a.write_vectored(&bufs).await?;
        assert_eq!(n, 13);
        let (mut x, mut y) = ([0; 4], [0; 9]);
        let mut read = 0;
        while read < 13 {
            let mut slices = [io::IoSliceMut::new(&mut x), io::IoSliceMut::new(&mut y)];
            io::IoSliceMut::advance_slices(&mut &mut slices[..], read);
            read += b.read_vectored(&mut slices).await?;
        }
        assert_eq!((&x, &y[..]), (b"one,", &b"two,three"[..]));
        Ok(())
    });
}

#[test]
fn std_streams_and_listeners_convert_both_ways() {
    on_both(|| async {
        let dir = TempDir::new();
        let path = dir.path("std.sock");
        let listener = UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path)?)?;
        let listener = UnixListener::try_from(listener.into_std()?)?;
        let c = UnixStream::connect(&path).await?;
        let (s, _) = listener.accept().await?;
        let mut c = UnixStream::from_std(c.into_std()?)?;
        let mut s = s;
        c.write_all(b"conv").await?;
        let mut buf = [0; 4];
        s.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"conv");
        Ok(())
    });
}

#[test]
fn a_datagram_pair_exchanges_whole_datagrams() {
    on_both(|| async {
        let (a, b) = UnixDatagram::pair()?;
        for i in 0..50u8 {
            a.send(&[i; 100]).await?;
        }
        let mut buf = [0; 200];
        for i in 0..50u8 {
            let n = b.recv(&mut buf).await?;
            assert_eq!(&buf[..n], &[i; 100][..]);
        }
        assert_eq!(b.try_recv(&mut buf).unwrap_err().kind(), io::ErrorKind::WouldBlock);
        Ok(())
    });
}

#[test]
fn bound_datagram_sockets_send_to_and_recv_from_by_path() {
    on_both(|| async {
        let dir = TempDir::new();
        let (pa, pb) = (dir.path("a.sock"), dir.path("b.sock"));
        let a = UnixDatagram::bind(&pa)?;
        let b = UnixDatagram::bind(&pb)?;
        assert_eq!(a.send_to(b"to b", &pb).await?, 4);
        let mut buf = [0; 16];
        let (n, from) = b.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from.as_pathname()), (&b"to b"[..], Some(pa.as_path())));
        // Connected: send/recv, and peer_addr.
        b.connect(&pa)?;
        assert_eq!(b.peer_addr()?.as_pathname(), Some(pa.as_path()));
        b.send(b"reply").await?;
        let n = a.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"reply");
        // An unbound socket can send; its datagrams come from an unnamed address.
        let u = UnixDatagram::unbound()?;
        u.send_to(b"anon", &pa).await?;
        let (n, from) = a.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"anon");
        assert!(from.is_unnamed());
        // Nobody at the path: an error, not a hang.
        assert!(u.send_to(b"x", dir.path("nobody.sock")).await.is_err());
        Ok(())
    });
}

#[test]
fn sockets_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<UnixListener>();
    check::<UnixStream>();
    check::<UnixDatagram>();
    check::<OwnedReadHalf>();
    check::<OwnedWriteHalf>();
}

/// CPU time this thread has used so far.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is valid; getrusage fills the live struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut ru), 0);
        ru
    };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Runs in a child process (the file-descriptor limit is process-wide): a pending connection
/// cannot be accepted while the process is out of descriptors; `accept` must wait, not spin,
/// and succeed once a descriptor is released.
#[cfg(target_os = "linux")]
#[test]
fn accept_out_of_descriptors_waits_without_spinning_until_one_is_released() {
    const NAME: &str = "accept_out_of_descriptors_waits_without_spinning_until_one_is_released";
    if std::env::var_os("NET_UNIX_TEST_EMFILE_CHILD").is_none() {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--test-threads=1"])
            .env("NET_UNIX_TEST_EMFILE_CHILD", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A busy loop inside one poll never lets the child's own timeout fire: bound it here.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("the child did not finish: accept is stuck or spinning");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && stdout.contains("1 passed"), "child failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        return;
    }
    // The child: a low limit, so that exhausting it is quick.
    let lim = libc::rlimit { rlim_cur: 256, rlim_max: 256 };
    // SAFETY: setrlimit reads the live struct it is given.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let dir = TempDir::new();
        let path = dir.path("emfile.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let spare = UnixDatagram::unbound().unwrap();
        let _client = UnixStream::connect(&path).await.unwrap();
        let mut hoard = Vec::new();
        loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => hoard.push(f),
                Err(e) => {
                    assert_eq!(e.raw_os_error(), Some(libc::EMFILE));
                    break;
                }
            }
            assert!(hoard.len() < 256, "the descriptor limit was not reached");
        }
        let mut accept = std::pin::pin!(listener.accept());
        let cpu_before = thread_cpu_time();
        assert!(timeout(Duration::from_millis(300), accept.as_mut()).await.is_err(), "accepted without a free descriptor");
        let cpu = thread_cpu_time() - cpu_before;
        // Spinning would burn the whole 300 ms; backing off costs next to nothing.
        assert!(cpu < Duration::from_millis(100), "accept spun on EMFILE: {cpu:?} of CPU in 300 ms");
        drop(spare); // releases a descriptor registered on this runtime: accept retries
        let (stream, _) = timeout(LIMIT, accept).await.expect("accept did not retry").unwrap();
        drop(stream);
        drop(hoard);
    });
}
