//! A port from `tokio::sync` to `runtime::sync` changes one path: the same source, expanded once
//! against each, must compile and produce the same trace (results, error texts, wake-ups) on a
//! current-thread runtime of each. (Here `runtime::sync` is reached as `executor::sync`, the
//! module the facade re-exports.)

macro_rules! scenario {
    ($($sync:ident)::+) => {
        use $($sync)::+ as sync;
        use std::sync::Arc;
        use sync::{broadcast, mpsc, oneshot, watch, Notify, OnceCell, Semaphore};

        pub async fn run() -> Vec<String> {
            let mut t = Vec::new();

            // mpsc: capacity, try_send errors, close semantics, error texts.
            let (tx, mut rx) = mpsc::channel::<u32>(2);
            tx.send(1).await.unwrap();
            tx.try_send(2).unwrap();
            t.push(format!("{:?} {}", tx.try_send(3), tx.try_send(3).unwrap_err()));
            t.push(format!("cap {} max {}", tx.capacity(), tx.max_capacity()));
            let permit = tx.try_reserve();
            t.push(format!("reserve full: {}", permit.is_err()));
            t.push(format!("{:?}", rx.recv().await));
            let permit = tx.try_reserve().unwrap();
            rx.close();
            t.push(format!("closed: {} {}", tx.is_closed(), rx.is_closed()));
            t.push(format!("{:?}", tx.send(9).await.map_err(|e| (e.0, e.to_string()))));
            permit.send(3);
            t.push(format!("{:?} {:?} {:?}", rx.recv().await, rx.recv().await, rx.recv().await));
            t.push(format!("{:?} {}", rx.try_recv(), rx.try_recv().unwrap_err()));

            let (utx, mut urx) = mpsc::unbounded_channel();
            utx.send("a").unwrap();
            drop(utx);
            let mut buf = Vec::new();
            t.push(format!("{} {:?} {:?}", urx.recv_many(&mut buf, 4).await, buf, urx.recv().await));

            // oneshot
            let (otx, mut orx) = oneshot::channel::<u8>();
            t.push(format!("{:?}", orx.try_recv()));
            drop(otx);
            t.push(format!("{:?} {}", orx.try_recv(), orx.try_recv().unwrap_err()));
            let (otx, orx) = oneshot::channel::<u8>();
            drop(orx);
            t.push(format!("{:?} {}", otx.is_closed(), otx.send(4).unwrap_err()));

            // broadcast: lagging and closing.
            let (btx, mut brx) = broadcast::channel(2);
            for i in 0..5 {
                btx.send(i).unwrap();
            }
            t.push(format!("len {}", btx.len()));
            t.push(format!("{:?}", brx.recv().await));
            t.push(format!("{:?} {:?}", brx.recv().await, brx.try_recv()));
            drop(btx);
            let err = brx.recv().await.unwrap_err();
            t.push(format!("{:?} {} {}", brx.try_recv(), err, broadcast::error::RecvError::Lagged(3)));

            // watch
            let (wtx, mut wrx) = watch::channel(0);
            t.push(format!("{:?}", wrx.has_changed()));
            wtx.send_modify(|v| *v += 1);
            t.push(format!("{:?} {}", wrx.has_changed(), *wrx.borrow()));
            t.push(format!("{:?} {}", wrx.changed().await, *wrx.borrow_and_update()));
            t.push(format!("{}", wtx.send_if_modified(|_| false)));
            drop(wtx);
            t.push(format!("{:?} {:?}", wrx.has_changed(), wrx.changed().await.map_err(|e| e.to_string())));

            // Semaphore: counts and close.
            let sem = Arc::new(Semaphore::new(3));
            let p = sem.acquire_many(2).await.unwrap();
            t.push(format!("{} {:?}", sem.available_permits(), sem.try_acquire_many(2).map(|p| p.num_permits())));
            p.forget();
            t.push(format!("{} {}", sem.available_permits(), sem.forget_permits(5)));
            sem.close();
            t.push(format!("{:?} {}", sem.try_acquire().map(|_| ()), sem.clone().acquire_owned().await.unwrap_err()));

            // Notify: one stored permit, notify_waiters stores nothing.
            let n = Notify::new();
            n.notify_one();
            n.notify_one();
            n.notified().await;
            let mut second = std::pin::pin!(n.notified());
            t.push(format!("enabled-notified: {}", second.as_mut().enable()));
            n.notify_waiters();
            second.await;
            let mut third = std::pin::pin!(n.notified());
            t.push(format!("after notify_waiters: {}", third.as_mut().enable()));

            // OnceCell
            let cell = OnceCell::new();
            t.push(format!("{:?}", cell.set(1)));
            t.push(format!("{:?} {}", cell.set(2), cell.set(3).unwrap_err()));
            t.push(format!("{}", cell.get_or_init(|| async { 5 }).await));

            // Mutex / RwLock
            let m = sync::Mutex::new(1);
            let g = m.lock().await;
            t.push(format!("{} {:?}", m.try_lock().unwrap_err(), m));
            drop(g);
            t.push(format!("{:?}", m));
            let l = sync::RwLock::new(1);
            let r = l.read().await;
            t.push(format!("{} {}", l.try_write().is_err(), l.try_read().is_ok()));
            drop(r);
            t
        }
    };
}

mod on_tokio {
    scenario!(tokio::sync);
}

mod on_runtime {
    scenario!(executor::sync);
}

#[test]
fn the_same_source_behaves_the_same_on_both() {
    let tokio_trace = tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(on_tokio::run());
    let our_trace = executor::runtime::Builder::new_current_thread().build().unwrap().block_on(on_runtime::run());
    for (i, (a, b)) in tokio_trace.iter().zip(&our_trace).enumerate() {
        assert_eq!(a, b, "step {i} differs");
    }
    assert_eq!(tokio_trace.len(), our_trace.len());
}
