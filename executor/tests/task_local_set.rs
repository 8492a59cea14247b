//! `LocalSet` and `spawn_local`: `!Send` futures on one thread, on both flavors (tokio's
//! semantics: `run_until`, `block_on`, awaiting the set, `enter`, drop cancels).

use executor::runtime::{Builder, Runtime};
use executor::sync::oneshot;
use executor::task::{spawn, spawn_local, yield_now, LocalSet};
use executor::time::{sleep, Duration};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};

fn flavors() -> [Runtime; 2] {
    [Builder::new_current_thread().build().unwrap(), Builder::new_multi_thread().worker_threads(2).build().unwrap()]
}

fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>().cloned().or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

#[test]
fn not_send_futures_run_on_the_thread_of_the_set() {
    for rt in flavors() {
        let local = LocalSet::new();
        let me = thread::current().id();
        let log = Rc::new(RefCell::new(Vec::new()));
        let out = local.block_on(&rt, {
            let log = log.clone();
            async move {
                let tasks: Vec<_> = (0..100)
                    .map(|i| {
                        let log = log.clone();
                        spawn_local(async move {
                            yield_now().await;
                            log.borrow_mut().push(i);
                            assert_eq!(thread::current().id(), me);
                            Rc::new(i) // a !Send output
                        })
                    })
                    .collect();
                let mut sum = 0;
                for t in tasks {
                    sum += *t.await.unwrap();
                }
                sum
            }
        });
        assert_eq!(out, (0..100).sum::<i32>());
        assert_eq!(log.borrow().len(), 100);
    }
}

#[test]
fn run_until_inside_block_on_and_tasks_left_over_stay_in_the_set() {
    for rt in flavors() {
        let local = LocalSet::new();
        let ran = Rc::new(Cell::new(0));
        rt.block_on(local.run_until({
            let ran = ran.clone();
            async move {
                let r = ran.clone();
                spawn_local(async move { r.set(r.get() + 1) }).await.unwrap();
                // Not awaited: still pending when run_until returns.
                let r = ran.clone();
                spawn_local(async move {
                    sleep(Duration::from_millis(5)).await;
                    r.set(r.get() + 10)
                });
            }
        }));
        assert_eq!(ran.get(), 1);
        // Awaiting the set drives what is left until every task completed.
        rt.block_on(local);
        assert_eq!(ran.get(), 11);
    }
}

#[test]
fn spawn_local_on_the_set_from_outside_then_await_the_set() {
    for rt in flavors() {
        let local = LocalSet::new();
        let hits = Rc::new(Cell::new(0));
        for _ in 0..10 {
            let hits = hits.clone();
            local.spawn_local(async move {
                yield_now().await;
                hits.set(hits.get() + 1);
                // Nested: spawns from inside a local task reach the same set.
                let hits2 = hits.clone();
                spawn_local(async move { hits2.set(hits2.get() + 100) });
            });
        }
        assert_eq!(hits.get(), 0, "nothing runs before the set is driven");
        rt.block_on(local);
        assert_eq!(hits.get(), 1010);
    }
}

#[test]
fn enter_makes_spawn_local_target_the_set() {
    let rt = Builder::new_current_thread().build().unwrap();
    let local = LocalSet::new();
    let done = Rc::new(Cell::new(false));
    {
        let _guard = local.enter();
        let d = done.clone();
        spawn_local(async move { d.set(true) });
    }
    assert!(!done.get());
    rt.block_on(local);
    assert!(done.get());
}

#[test]
fn spawn_local_outside_a_set_panics_with_tokios_message() {
    let msg = panic_message(|| drop(spawn_local(async {})));
    assert!(msg.contains("`spawn_local` called from outside of a `task::LocalSet`"), "{msg}");
    // Inside a runtime task that is not in a set, too.
    for rt in flavors() {
        let err = rt.block_on(rt.spawn(async { drop(spawn_local(async {})) })).unwrap_err();
        let payload = err.into_panic();
        let msg = payload.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("`spawn_local` called from outside of a `task::LocalSet`"), "{msg}");
    }
}

#[test]
fn a_local_task_woken_from_another_thread_runs() {
    for rt in flavors() {
        let local = LocalSet::new();
        let got = local.block_on(&rt, async {
            let (tx, rx) = oneshot::channel();
            let task = spawn_local(async move {
                let not_send = Rc::new(());
                let v = rx.await.unwrap();
                drop(not_send);
                v
            });
            yield_now().await; // the task waits on the channel now
            thread::spawn(move || {
                thread::sleep(std::time::Duration::from_millis(10));
                tx.send(5).unwrap();
            });
            task.await.unwrap()
        });
        assert_eq!(got, 5);
    }
}

#[test]
fn a_local_task_woken_by_a_timer_runs() {
    for rt in flavors() {
        let local = LocalSet::new();
        local.block_on(&rt, async {
            let rc = Rc::new(3);
            let t = spawn_local(async move {
                sleep(Duration::from_millis(10)).await;
                *rc
            });
            assert_eq!(t.await.unwrap(), 3);
        });
    }
}

/// Counts drops and records the thread each drop ran on.
struct DropProbe(Arc<AtomicUsize>, Rc<Cell<Option<ThreadId>>>);

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        self.1.set(Some(thread::current().id()));
    }
}

#[test]
fn dropping_the_set_drops_pending_futures_on_its_thread_and_cancels_their_handles() {
    for rt in flavors() {
        let drops = Arc::new(AtomicUsize::new(0));
        let where_dropped = Rc::new(Cell::new(None));
        let local = LocalSet::new();
        let handles: Vec<_> = (0..5)
            .map(|_| {
                let probe = DropProbe(drops.clone(), where_dropped.clone());
                local.spawn_local(async move {
                    let _probe = probe;
                    std::future::pending::<()>().await
                })
            })
            .collect();
        local.block_on(&rt, yield_now());
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(local);
        assert_eq!(drops.load(Ordering::SeqCst), 5);
        assert_eq!(where_dropped.get(), Some(thread::current().id()));
        for h in handles {
            assert!(rt.block_on(h).unwrap_err().is_cancelled());
        }
    }
}

#[test]
fn abort_from_another_thread_drops_the_future_on_the_sets_thread() {
    for rt in flavors() {
        let drops = Arc::new(AtomicUsize::new(0));
        let where_dropped = Rc::new(Cell::new(None));
        let local = LocalSet::new();
        let probe = DropProbe(drops.clone(), where_dropped.clone());
        let handle = local.spawn_local(async move {
            let _probe = probe;
            std::future::pending::<()>().await
        });
        let abort = handle.abort_handle();
        local.block_on(&rt, async move {
            yield_now().await;
            thread::spawn(move || abort.abort()).join().unwrap();
            assert!(handle.await.unwrap_err().is_cancelled());
        });
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(where_dropped.get(), Some(thread::current().id()));
    }
}

#[test]
fn a_local_task_that_never_stops_yielding_does_not_starve_the_runtime() {
    // The set runs a bounded number of tasks per poll and then yields: the runtime's own task
    // (and its timer) get their turn. Without the bound this test never ends.
    for rt in flavors() {
        let local = LocalSet::new();
        let stop = Arc::new(AtomicBool::new(false));
        local.block_on(&rt, {
            let stop = stop.clone();
            async move {
                let spinner = {
                    let stop = stop.clone();
                    spawn_local(async move {
                        let mut spins = 0u64;
                        while !stop.load(Ordering::SeqCst) {
                            spins += 1;
                            yield_now().await;
                        }
                        spins
                    })
                };
                let stopper = spawn(async move {
                    sleep(Duration::from_millis(5)).await;
                    stop.store(true, Ordering::SeqCst);
                });
                assert!(spinner.await.unwrap() > 0);
                stopper.await.unwrap();
            }
        });
    }
}

#[test]
fn a_panicking_local_task_is_a_join_error_and_the_set_goes_on() {
    for rt in flavors() {
        let local = LocalSet::new();
        local.block_on(&rt, async {
            let bad = spawn_local(async { panic!("boom") });
            let err = bad.await.unwrap_err();
            assert!(err.is_panic());
            assert_eq!(spawn_local(async { 1 }).await.unwrap(), 1);
        });
    }
}

#[test]
fn join_set_spawn_local_and_spawn_local_on_join_not_send_tasks() {
    for rt in flavors() {
        let set = LocalSet::new();
        let counter = Rc::new(Cell::new(0));
        let mut joins = executor::task::JoinSet::new();
        // Spawned on the set from outside it: runs once the set is driven.
        for i in 0..3 {
            let counter = counter.clone();
            joins.spawn_local_on(
                async move {
                    yield_now().await;
                    counter.set(counter.get() + 1);
                    i
                },
                &set,
            );
        }
        let total = set.block_on(&rt, async {
            // Inside the set: spawn_local targets it.
            let counter = counter.clone();
            joins.spawn_local(async move {
                counter.set(counter.get() + 1);
                10
            });
            let mut total = 0;
            while let Some(res) = joins.join_next().await {
                total += res.unwrap();
            }
            total
        });
        assert_eq!((total, counter.get()), (13, 4));
    }
}

#[test]
fn join_set_spawn_local_outside_a_local_set_panics_with_tokios_message() {
    let rt = Builder::new_current_thread().build().unwrap();
    let msg = panic_message(|| {
        rt.block_on(async {
            executor::task::JoinSet::<()>::new().spawn_local(async {});
        })
    });
    assert!(msg.contains("`spawn_local` called from outside of a `task::LocalSet`"), "{msg}");
}
