//! `accept` under descriptor exhaustion (`EMFILE`): it neither spins nor gives up.
//!
//! Its own test binary with a single test, because it lowers `RLIMIT_NOFILE` for the whole
//! process.

use executor::runtime::Builder;
use executor::time::timeout;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures::StreamExt;
use net::{TcpListener, TcpStream};
use socket2::{Domain, Socket, Type};
use std::fs::File;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;
/// How long the descriptors stay exhausted while the CPU time is measured.
const WINDOW: Duration = Duration::from_millis(400);
/// The bound of every wait in this test.
const LIMIT: Duration = Duration::from_secs(20);

fn rlimit() -> libc::rlimit {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `getrlimit` writes the `rlimit` we pass by pointer.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim
}

fn set_soft_limit(soft: libc::rlim_t) {
    let lim = libc::rlimit { rlim_cur: soft, rlim_max: rlimit().rlim_max };
    // SAFETY: `setrlimit` reads the `rlimit` we pass by pointer.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0, "setrlimit: {}", std::io::Error::last_os_error());
}

/// Restores the soft limit when dropped, even if the test fails.
struct RestoreLimit(libc::rlim_t);

impl Drop for RestoreLimit {
    fn drop(&mut self) {
        set_soft_limit(self.0);
    }
}

/// The CPU time the whole process (every thread) has used.
fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `clock_gettime` writes the `timespec` we pass by pointer.
    assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) }, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The highest open descriptor of the process.
fn highest_fd() -> i32 {
    std::fs::read_dir("/proc/self/fd").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()).max().unwrap()
}

/// Polls `cond` every 10 ms until it holds (true) or [`LIMIT`] passes (false).
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + LIMIT;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

fn echo_once(client: &mut Socket, id: usize) {
    let msg = format!("client {id:02}");
    client.write_all(msg.as_bytes()).unwrap();
    let mut back = vec![0u8; msg.len()];
    client.read_exact(&mut back).unwrap();
    assert_eq!(back, msg.as_bytes(), "client {id}'s echo");
}

/// Which accept API the server loop uses.
#[derive(Clone, Copy, Debug)]
enum Api {
    /// `TcpListener::accept` (its own back-off state per call).
    Accept,
    /// `TcpListener::incoming`, i.e. `poll_accept` (the listener's back-off state).
    Incoming,
}

#[test]
fn accept_waits_out_fd_exhaustion_without_spinning_then_serves_the_backlog() {
    let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let original = rlimit().rlim_cur;
    let _restore = RestoreLimit(original);
    for api in [Api::Accept, Api::Incoming] {
        exhaust_then_recover(&rt, api, original);
    }
}

fn exhaust_then_recover(rt: &executor::Runtime, api: Api, original: libc::rlim_t) {
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    // A connection between two registered sockets: dropping one end frees one descriptor on the
    // runtime, which wakes an accept backing off from EMFILE.
    let (spare, spare_peer) = rt.block_on(async {
        let spare_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = TcpStream::connect(spare_listener.local_addr().unwrap()).await.unwrap();
        (c, spare_listener.accept().await.unwrap().0)
    });

    let accepted = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let server = {
        let (accepted, errors) = (accepted.clone(), errors.clone());
        rt.spawn(async move {
            // Serves the clients and one more connection, then ends, with every socket it
            // opened closed (so nothing is freed behind the next scenario's back).
            let mut incoming = listener.incoming();
            let mut echoes = Vec::new();
            for _ in 0..CLIENTS + 1 {
                let next = match api {
                    Api::Accept => listener.accept().await.map(|(s, _)| s),
                    Api::Incoming => incoming.next().await.expect("incoming never ends"),
                };
                match next {
                    Ok(stream) => {
                        accepted.fetch_add(1, Ordering::SeqCst);
                        echoes.push(executor::spawn(async move {
                            let (mut r, mut w) = stream.into_split();
                            let _ = futures::io::copy(&mut r, &mut w).await;
                            let _ = w.close().await;
                        }));
                    }
                    Err(e) => {
                        // accept absorbs EMFILE; any error reaching here fails the test.
                        errors.lock().unwrap().push(e.to_string());
                        break;
                    }
                }
            }
            for echo in echoes {
                let _ = echo.await;
            }
        })
    };

    // The clients' sockets exist before the exhaustion; connecting needs no new descriptor.
    let mut clients: Vec<Socket> = (0..CLIENTS).map(|_| Socket::new(Domain::IPV4, Type::STREAM, None).unwrap()).collect();
    for c in &clients {
        c.set_read_timeout(Some(LIMIT)).unwrap();
        c.set_write_timeout(Some(LIMIT)).unwrap();
    }

    // Exhaust: lower the soft limit a little above the highest open descriptor, then fill
    // every free number below it.
    let limit = highest_fd() as libc::rlim_t + 1 + 16;
    assert!(limit < original, "the soft limit is already too low for this test");
    set_soft_limit(limit);
    let mut held = Vec::new();
    let exhausted = loop {
        match File::open("/dev/null") {
            Ok(f) if (held.len() as libc::rlim_t) < limit => held.push(f),
            Ok(_) => break false,
            Err(e) => break e.raw_os_error() == Some(libc::EMFILE),
        }
    };
    assert!(exhausted, "{api:?}: could not exhaust the descriptors");

    // Connect from a helper thread: the handshakes complete into the listener's backlog, and
    // every accept4 fails with EMFILE.
    clients = std::thread::spawn(move || {
        for c in &clients {
            c.connect(&addr.into()).unwrap();
        }
        clients
    })
    .join()
    .unwrap();

    // Hold the exhaustion and measure what the whole process burns meanwhile.
    let (cpu0, wall0) = (process_cpu_time(), Instant::now());
    std::thread::sleep(WINDOW);
    let (cpu, wall) = (process_cpu_time() - cpu0, wall0.elapsed());
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "{api:?}: an accept succeeded with no descriptor free");
    assert!(errors.lock().unwrap().is_empty(), "{api:?}: accept returned {:?}", errors.lock().unwrap());
    // A correct back-off uses about 1% (a few timer wake-ups); a spinning accept uses a whole
    // core. A quarter still catches a spin on a loaded machine and leaves a wide margin.
    assert!(cpu < wall / 4, "{api:?}: the process used {cpu:?} of CPU in {wall:?} of exhaustion: accept is spinning");

    // Free one descriptor registered on the runtime: exactly one more connection fits.
    drop(spare);
    assert!(eventually(|| accepted.load(Ordering::SeqCst) >= 1), "{api:?}: no connection was accepted after a descriptor was freed");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "{api:?}: more connections were accepted than descriptors were freed");

    // Free the rest (descriptors the runtime does not know of: the back-off timer notices).
    drop(held);
    set_soft_limit(original);
    assert!(eventually(|| accepted.load(Ordering::SeqCst) == CLIENTS), "{api:?}: the backlog was not served once descriptors were free");
    for (id, c) in clients.iter_mut().enumerate() {
        echo_once(c, id);
    }
    assert!(errors.lock().unwrap().is_empty(), "{api:?}: accept returned {:?}", errors.lock().unwrap());

    // The server keeps working for new connections.
    rt.block_on(async {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"after").await.unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"after");
    });
    drop(clients);
    rt.block_on(async { timeout(LIMIT, server).await.expect("the server ends once its clients have gone").unwrap() });
    drop(spare_peer);
}
