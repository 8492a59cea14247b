//! `task_local!`: a value set for the extent of a future or a closure, following the future
//! across polls and threads. Both flavors.

use executor::runtime::{Builder, Runtime};
use executor::task::yield_now;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

executor::task_local! {
    static NUMBER: u32;
    /// A second key, with an attribute and a visibility.
    pub(crate) static NAME: String;
}

fn flavors() -> [Runtime; 2] {
    [Builder::new_current_thread().build().unwrap(), Builder::new_multi_thread().worker_threads(2).build().unwrap()]
}

#[test]
fn a_scope_sets_the_value_across_awaits_and_threads_on_both_flavors() {
    for rt in flavors() {
        rt.block_on(async {
            let tasks: Vec<_> = (0..8u32)
                .map(|i| {
                    executor::spawn(NUMBER.scope(i, async move {
                        for _ in 0..20 {
                            assert_eq!(NUMBER.get(), i);
                            yield_now().await;
                        }
                        NUMBER.with(|n| *n)
                    }))
                })
                .collect();
            for (i, t) in tasks.into_iter().enumerate() {
                assert_eq!(t.await.unwrap(), i as u32);
            }
            assert!(NUMBER.try_with(|_| ()).is_err(), "the value does not leak out of its scope");
        });
    }
}

#[test]
fn nested_scopes_shadow_and_restore() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(NUMBER.scope(1, async {
        assert_eq!(NUMBER.get(), 1);
        NUMBER
            .scope(2, async {
                assert_eq!(NUMBER.get(), 2);
                yield_now().await;
                assert_eq!(NUMBER.get(), 2);
            })
            .await;
        assert_eq!(NUMBER.get(), 1);
        assert_eq!(NUMBER.sync_scope(3, || NUMBER.get()), 3);
        assert_eq!(NUMBER.get(), 1);
        NAME.scope("n".to_string(), async { assert_eq!(NAME.get(), "n") }).await;
    }));
}

#[test]
fn the_value_is_restored_when_the_scoped_future_panics() {
    let mut fut = Box::pin(NUMBER.scope(5, async { panic!("inside") }));
    let waker = std::task::Waker::noop();
    let res = catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut Context::from_waker(waker))));
    assert!(res.is_err());
    assert!(NUMBER.try_with(|_| ()).is_err(), "the panicking poll left its value behind");
}

#[test]
fn the_future_is_dropped_inside_its_scope_and_take_value_removes_it() {
    struct SeeOnDrop(Arc<Mutex<Option<u32>>>);
    impl Drop for SeeOnDrop {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = NUMBER.try_with(|n| *n).ok();
        }
    }
    let seen = Arc::new(Mutex::new(None));
    let guard = SeeOnDrop(seen.clone());
    let fut = NUMBER.scope(9, async move {
        let _g = guard;
        std::future::pending::<()>().await;
    });
    {
        let mut fut = pin!(fut);
        assert!(fut.as_mut().poll(&mut Context::from_waker(std::task::Waker::noop())).is_pending());
    }
    assert_eq!(*seen.lock().unwrap(), Some(9));

    let mut fut = pin!(NUMBER.scope(4, async { NUMBER.try_with(|n| *n).ok() }));
    assert_eq!(fut.as_mut().take_value(), Some(4));
    assert_eq!(fut.as_mut().take_value(), None);
    assert_eq!(fut.as_mut().poll(&mut Context::from_waker(std::task::Waker::noop())), Poll::Ready(None));
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

#[test]
fn misuse_panics_with_a_message() {
    let err = catch_unwind(|| NUMBER.get()).unwrap_err();
    assert!(message(&*err).contains("without setting it first"), "{}", message(&*err));
    // A scope entered while the value is borrowed by `with`.
    let err = NUMBER.sync_scope(1, || catch_unwind(|| NUMBER.with(|_| NUMBER.sync_scope(2, || ()))).unwrap_err());
    assert!(message(&*err).contains("while the task-local storage is borrowed"), "{}", message(&*err));
}
