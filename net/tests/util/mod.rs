//! The harness the stream tests share: every test body runs within [`LIMIT`] on both flavors.

#![allow(dead_code)] // each test binary uses its own subset

use executor::runtime::{Builder, Runtime};
use executor::time::timeout;
use std::future::Future;
use std::time::Duration;

/// Every test's bound: a hang fails the test instead of the run.
pub const LIMIT: Duration = Duration::from_secs(60);

fn runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        ("current_thread", Builder::new_current_thread().build().unwrap()),
        ("multi_thread", Builder::new_multi_thread().worker_threads(4).build().unwrap()),
    ]
}

/// Runs `test` to completion (within [`LIMIT`]) on a current-thread and on a multi-thread runtime.
pub fn on_both_flavors<F, Fut>(test: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    for (flavor, rt) in runtimes() {
        rt.block_on(async { timeout(LIMIT, test()).await.unwrap_or_else(|_| panic!("{flavor}: the test did not finish in {LIMIT:?}")) });
    }
}

/// Runs `test` on a current-thread runtime within [`LIMIT`].
pub fn on_current_thread<Fut: Future<Output = ()>>(test: Fut) {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async { timeout(LIMIT, test).await.expect("the test did not finish in time") });
}
