/// Waits for several futures at once, on the calling task, and returns all their outputs as a
/// tuple, in the order given.
///
/// ```text
/// join!(<async expression>, …)
/// join!(biased; <async expression>, …)      // poll in order, first to last
/// ```
///
/// Each time the task is woken, every future that has not completed is polled once; the
/// first one polled rotates from one wake-up to the next, so none is favoured (with `biased;`
/// they are polled in order). A completed future is dropped at once, its output kept. The
/// futures run concurrently but not in parallel: they share the calling task (spawn them to get
/// parallelism). `join!()` is `()`. See [`try_join!`](crate::try_join) to stop at the first
/// error.
///
/// ```
/// use runtime::time::{sleep, Duration, Instant};
///
/// # runtime::Builder::new_current_thread().start_paused(true).build().unwrap().block_on(async {
/// let start = Instant::now();
/// let (a, b) = runtime::join!(
///     async { sleep(Duration::from_secs(1)).await; "one" },
///     async { sleep(Duration::from_secs(2)).await; 2 },
/// );
/// assert_eq!((a, b), ("one", 2));
/// assert_eq!(start.elapsed(), Duration::from_secs(2)); // concurrently: not 3 s
/// # });
/// ```
#[macro_export]
macro_rules! join {
    ($($input:tt)*) => {
        $crate::__private::join_internal! { ($crate) $($input)* }
    };
}

/// Waits for several futures that return `Result`s, on the calling task: `Ok` with the tuple
/// of their `Ok` values once all succeeded, or the first `Err` as soon as one fails (the others
/// are then dropped).
///
/// ```text
/// try_join!(<async expression>, …)
/// try_join!(biased; <async expression>, …)
/// ```
///
/// Polling is as in [`join!`](crate::join). The error types must be the same. `try_join!()` is
/// `Ok(())`.
///
/// ```
/// async fn parse(s: &str) -> Result<u32, String> {
///     s.parse().map_err(|e| format!("{s}: {e}"))
/// }
///
/// # runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(runtime::try_join!(parse("1"), parse("2")), Ok((1, 2)));
/// let err = runtime::try_join!(parse("1"), parse("x"), std::future::pending::<Result<u32, String>>());
/// assert_eq!(err, Err("x: invalid digit found in string".to_string())); // does not wait for the third
/// # });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($input:tt)*) => {
        $crate::__private::try_join_internal! { ($crate) $($input)* }
    };
}
