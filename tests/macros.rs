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
