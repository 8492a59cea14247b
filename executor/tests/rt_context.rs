//! The runtime context as tokio users rely on it: `EnterGuard`s dropped out of order, a runtime
//! dropped inside async code, misuse panics that name the caller's line, `task::id`, a
//! panicked task's future dropped before its `JoinHandle` reports. Both flavors.

use executor::runtime::{Builder, Handle, Runtime, RuntimeFlavor};
use executor::task::JoinSet;
use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

fn flavors() -> [Runtime; 2] {
    [Builder::new_current_thread().build().unwrap(), Builder::new_multi_thread().worker_threads(2).build().unwrap()]
}

fn message(payload: &(dyn Any + Send)) -> String {
    payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

thread_local! {
    /// The file and line of this thread's last panic.
    static LAST_PANIC: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic; returns the panic's message and the file and line it names.
fn panic_site(f: impl FnOnce()) -> (String, String, u32) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let site = info.location().map(|l| (l.file().to_string(), l.line()));
            LAST_PANIC.with(|p| *p.borrow_mut() = site);
            default(info);
        }));
    });
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    let (file, line) = LAST_PANIC.with(|p| p.borrow_mut().take()).expect("the hook saw the panic");
    (message(&*payload), file, line)
}

/// A misuse: what it is, the line it is on, and the call.
type Misuse = (&'static str, u32, Box<dyn FnOnce()>);

#[test]
fn misuse_panics_name_the_callers_line() {
    let this_file = file!();
    // One misuse per line: the line is what the panic must name.
    #[rustfmt::skip]
    let cases: Vec<Misuse> = vec![
        ("Handle::current", line!(), Box::new(|| drop(Handle::current()))),
        ("spawn", line!(), Box::new(|| drop(executor::spawn(async {})))),
        ("spawn_blocking", line!(), Box::new(|| drop(executor::task::spawn_blocking(|| ())))),
        ("worker_threads(0)", line!(), Box::new(|| { Builder::new_multi_thread().worker_threads(0); })),
        ("max_blocking_threads(0)", line!(), Box::new(|| { Builder::new_multi_thread().max_blocking_threads(0); })),
        ("sleep", line!(), Box::new(|| drop(executor::time::sleep(Duration::from_millis(1))))),
        ("timeout", line!(), Box::new(|| drop(executor::time::timeout(Duration::from_millis(1), async {})))),
        ("event_interval(0)", line!(), Box::new(|| { Builder::new_current_thread().event_interval(0); })),
        ("global_queue_interval(0)", line!(), Box::new(|| { Builder::new_current_thread().global_queue_interval(0); })),
    ];
    for (what, line, f) in cases {
        let (msg, file, at) = panic_site(f);
        assert_eq!((file.as_str(), at), (this_file, line), "{what} panicked inside the runtime: {msg}");
    }
    let rt = Builder::new_current_thread().build().unwrap();
    let _ctx = rt.enter();
    let line = line!() + 1;
    let (msg, file, at) = panic_site(|| drop(executor::time::interval(Duration::ZERO)));
    assert_eq!((file.as_str(), at), (this_file, line), "interval(ZERO): {msg}");
    let line = line!() + 1;
    let (msg, file, at) = panic_site(|| drop(executor::time::interval_at(executor::time::Instant::now(), Duration::ZERO)));
    assert_eq!((file.as_str(), at), (this_file, line), "interval_at(.., ZERO): {msg}");
    assert!(msg.contains("`period` must be non-zero"));
}

#[test]
fn enter_guards_dropped_out_of_order_panic_and_in_order_restore_the_context() {
    let (a, b) = (Builder::new_current_thread().build().unwrap(), Builder::new_current_thread().build().unwrap());
    // In order: each drop restores the previous runtime.
    let ga = a.enter();
    let gb = b.enter();
    assert_eq!(Handle::current().id(), b.handle().id());
    drop(gb);
    assert_eq!(Handle::current().id(), a.handle().id());
    drop(ga);
    assert!(Handle::try_current().unwrap_err().is_missing_context());
    // Out of order: the misuse is named.
    let ga = a.enter();
    let gb = b.enter();
    let err = catch_unwind(AssertUnwindSafe(move || drop(ga))).expect_err("dropping the outer guard first must panic");
    assert!(message(&*err).contains("`EnterGuard` values dropped out of order"), "{}", message(&*err));
    drop(gb);
}

#[test]
fn dropping_a_runtime_inside_async_code_panics_on_both_flavors() {
    for outer in flavors() {
        for inner_multi_thread in [false, true] {
            let err = outer
                .block_on(async {
                    let inner = if inner_multi_thread {
                        Builder::new_multi_thread().worker_threads(1).build().unwrap()
                    } else {
                        Builder::new_current_thread().build().unwrap()
                    };
                    executor::spawn(async move { catch_unwind(AssertUnwindSafe(move || drop(inner))).map_err(|e| message(&*e)) })
                        .await
                        .unwrap()
                })
                .expect_err("a runtime dropped in a task must panic");
            assert!(err.contains("cannot drop a runtime in a context where blocking is not allowed"), "{err}");
        }
        // `shutdown_background` is the way to drop a runtime there.
        outer.block_on(async {
            let inner = Builder::new_current_thread().build().unwrap();
            inner.shutdown_background();
        });
        // In the `block_on` future itself too (the thread drives the runtime).
        let err = outer
            .block_on(async {
                let inner = Builder::new_current_thread().build().unwrap();
                catch_unwind(AssertUnwindSafe(move || inner.shutdown_timeout(Duration::from_secs(1)))).map_err(|e| message(&*e))
            })
            .expect_err("shutdown_timeout with a timeout in async code must panic");
        assert!(err.contains("cannot drop a runtime"), "{err}");
    }
}

#[test]
fn a_runtime_can_be_dropped_in_a_blocking_closure() {
    let outer = Builder::new_multi_thread().worker_threads(1).build().unwrap();
    outer.block_on(async {
        executor::task::spawn_blocking(|| drop(Builder::new_current_thread().build().unwrap())).await.unwrap();
    });
}

struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_future_whose_poll_panicked_is_dropped_before_its_join_handle_reports_on_both_flavors() {
    for rt in flavors() {
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = SetOnDrop(dropped.clone());
        let seen = rt.block_on(async move {
            let handle = executor::spawn(async move {
                let _guard = guard;
                executor::task::yield_now().await;
                panic!("boom");
            });
            let err = handle.await.unwrap_err();
            assert!(err.is_panic());
            dropped.load(Ordering::SeqCst)
        });
        assert!(seen, "the JoinHandle reported the panic before the future was dropped");
    }
}

#[test]
fn task_id_is_the_join_handles_id_inside_the_task_and_its_destructor_on_both_flavors() {
    for rt in flavors() {
        rt.block_on(async {
            assert_eq!(executor::task::try_id(), None, "block_on's own future is not a task");
            let handle = executor::spawn(async { executor::task::id() });
            let id = handle.id();
            assert_eq!(handle.await.unwrap(), id);
            // In the future's destructor too (it runs as part of the task).
            struct IdOnDrop(Arc<std::sync::Mutex<Option<executor::task::Id>>>);
            impl Drop for IdOnDrop {
                fn drop(&mut self) {
                    *self.0.lock().unwrap() = executor::task::try_id();
                }
            }
            let slot = Arc::new(std::sync::Mutex::new(None));
            let on_drop = IdOnDrop(slot.clone());
            let handle = executor::spawn(async move {
                let _d = on_drop;
                std::future::pending::<()>().await;
            });
            let id = handle.id();
            handle.abort();
            assert!(handle.await.unwrap_err().is_cancelled());
            assert_eq!(*slot.lock().unwrap(), Some(id));
            // Blocking closures are tasks too.
            let handle = executor::task::spawn_blocking(executor::task::id);
            let id = handle.id();
            assert_eq!(handle.await.unwrap(), id);
        });
    }
    let err = catch_unwind(executor::task::id).unwrap_err();
    assert!(message(&*err).contains("outside a task"));
}

#[test]
fn handles_report_their_runtime_id_name_and_flavor() {
    let a = Builder::new_current_thread().name("alpha").build().unwrap();
    let b = Builder::new_multi_thread().worker_threads(1).enable_io().enable_time().build().unwrap();
    assert_eq!(a.handle().name(), Some("alpha"));
    assert_eq!(b.handle().name(), None);
    assert_ne!(a.handle().id(), b.handle().id());
    assert_eq!(a.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
    assert_eq!(b.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
    let (id, name) = b.block_on(async {
        executor::spawn(async { (Handle::current().id(), Handle::current().name().map(str::to_owned)) }).await.unwrap()
    });
    assert_eq!((id, name), (b.handle().id(), None));
    let err = catch_unwind(|| {
        Builder::new_current_thread().name("  ");
    })
    .unwrap_err();
    assert!(message(&*err).contains("name"));
}

#[test]
fn join_set_spawns_blocking_closures_and_collects_from_iterators_on_both_flavors() {
    for rt in flavors() {
        rt.block_on(async {
            let mut set: JoinSet<u32> = (1..=3u32).map(|i| async move { i }).collect();
            set.extend((4..=5u32).map(|i| async move { i }));
            set.spawn_blocking(|| 6);
            set.spawn_blocking_on(|| 7, &Handle::current());
            assert_eq!(set.len(), 7);
            let mut all = set.join_all().await;
            all.sort();
            assert_eq!(all, [1, 2, 3, 4, 5, 6, 7]);
        });
    }
}
