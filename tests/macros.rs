//! `#[runtime::main]` and `#[runtime::test]` expand to working code on both flavors.

use std::time::Duration;

#[runtime::test]
async fn test_defaults_to_current_thread() {
    let h = runtime::spawn(async { 1 });
    assert_eq!(h.await.unwrap(), 1);
}

#[runtime::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_on_multi_thread_with_two_workers() {
    let id = runtime::spawn(async { std::thread::current().name().map(str::to_owned) }).await.unwrap();
    assert_eq!(id.as_deref(), Some("runtime-worker"));
    runtime::time::sleep(Duration::from_millis(1)).await;
}

#[runtime::test]
async fn test_returning_a_result_can_use_question_mark() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "42".parse()?;
    assert_eq!(n, 42);
    Ok(())
}

#[runtime::test(name = "named-test-runtime")]
async fn test_with_a_runtime_name() {
    assert_eq!(runtime::Handle::current().name(), Some("named-test-runtime"));
}

#[runtime::test(flavor = "multi_thread", worker_threads = 1, name = "mt")]
async fn test_with_all_options() {
    assert_eq!(runtime::Handle::current().name(), Some("mt"));
    assert_eq!(runtime::Handle::current().runtime_flavor(), runtime::runtime::RuntimeFlavor::MultiThread);
}

mod main_fn {
    #[runtime::main(flavor = "current_thread")]
    pub async fn main() -> Result<u32, std::io::Error> {
        let v = runtime::spawn(async { 7 }).await.map_err(std::io::Error::from)?;
        Ok(v * 6)
    }

    #[runtime::main]
    pub async fn multi() -> usize {
        runtime::spawn(async { 3 }).await.unwrap()
    }

    /// A main that never returns (a server's accept loop): it leaves through the panic below.
    #[runtime::main(flavor = "current_thread", name = "forever")]
    pub async fn never_returns() -> ! {
        let name = runtime::Handle::current().name().map(str::to_owned);
        runtime::time::sleep(std::time::Duration::from_millis(1)).await;
        std::panic::panic_any(name)
    }
}

#[test]
fn main_attribute_builds_a_runtime_and_returns_the_result() {
    assert_eq!(main_fn::main().unwrap(), 42);
    assert_eq!(main_fn::multi(), 3);
}

#[runtime::test(start_paused = true)]
async fn test_with_start_paused_jumps_over_a_ten_second_timeout() {
    use runtime::time::{timeout, Instant};
    let real = std::time::Instant::now();
    let start = Instant::now();
    let res = timeout(Duration::from_secs(10), std::future::pending::<()>()).await;
    assert!(res.is_err());
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    assert!(real.elapsed() < Duration::from_secs(5));
}

#[runtime::test(flavor = "current_thread", start_paused = false)]
async fn test_with_start_paused_false_keeps_real_time() {
    let real = std::time::Instant::now();
    runtime::time::sleep(Duration::from_millis(20)).await;
    assert!(real.elapsed() >= Duration::from_millis(20));
}

/// `crate = "…"`: the expansion names the runtime through the given path, so a renamed
/// dependency (`rt = { package = "runtime", … }`) or a re-export works. This module stands for
/// such a path and counts how often its `Builder` is asked for a runtime.
mod renamed {
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub static BUILDERS: AtomicUsize = AtomicUsize::new(0);

    pub struct Builder;

    impl Builder {
        pub fn new_current_thread() -> runtime::Builder {
            BUILDERS.fetch_add(1, Ordering::SeqCst);
            runtime::Builder::new_current_thread()
        }

        pub fn new_multi_thread() -> runtime::Builder {
            BUILDERS.fetch_add(1, Ordering::SeqCst);
            runtime::Builder::new_multi_thread()
        }
    }

    #[runtime::main(crate = "super::renamed", flavor = "current_thread")]
    pub async fn current() -> u32 {
        runtime::spawn(async { 20 }).await.unwrap()
    }

    #[runtime::main(crate = "crate::renamed")]
    pub async fn multi() -> u32 {
        runtime::spawn(async { 22 }).await.unwrap()
    }
}

#[test]
fn main_attribute_builds_the_runtime_through_the_crate_path() {
    use std::sync::atomic::Ordering;
    assert_eq!(renamed::current() + renamed::multi(), 42);
    assert_eq!(renamed::BUILDERS.load(Ordering::SeqCst), 2, "the expansion did not go through `crate = …`");
}

#[test]
fn main_attribute_accepts_a_main_that_never_returns() {
    let payload = std::panic::catch_unwind(|| main_fn::never_returns()).unwrap_err();
    assert_eq!(payload.downcast_ref::<Option<String>>(), Some(&Some("forever".to_string())));
}
