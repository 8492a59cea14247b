/// Waits on several futures at once, on the calling task, and runs the branch of the first to
/// complete (whose output matches its pattern); the others are dropped.
///
/// ```text
/// select! {
///     biased;                                            // optional: poll in order, top first
///     <pattern> = <async expression> (, if <precondition>)? => <handler>,
///     …
///     else => <expression>                               // optional, last
/// }
/// ```
///
/// What happens, in order (tokio's semantics):
///
/// 1. Every `<precondition>` is evaluated; a branch whose precondition is `false` is
///    *disabled* for this `select!`.
/// 2. Every `<async expression>` is evaluated (also those of disabled branches) and turned into
///    a future (`IntoFuture`).
/// 3. The futures of the enabled branches are polled, starting from a random branch each time
///    the task is woken (so no branch is favoured), or from the first with `biased;`.
/// 4. When one completes, its output is matched against its `<pattern>`. If it matches, every
///    future is dropped and the `<handler>` runs with the pattern's bindings: its value is the
///    value of the `select!`. If it does not match, that branch is disabled and the others go
///    on (step 3).
/// 5. When every branch is disabled, the `else` expression is the value of the `select!`; without
///    `else`, it panics with "all branches are disabled and there is no else branch".
///
/// The handlers run in the enclosing function, after the futures are dropped: they may `break`,
/// `continue`, `return`, use `?`, and use again what the futures borrowed. At most 64
/// branches. Every future runs on the calling task: concurrently, not in parallel (spawn to get
/// parallelism).
///
/// ```
/// use runtime::sync::mpsc;
/// use runtime::time::{sleep, Duration};
///
/// # runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, mut rx) = mpsc::channel::<u32>(8);
/// runtime::spawn(async move {
///     for i in 0..3 {
///         tx.send(i).await.unwrap();
///     }
/// });
/// let mut sum = 0;
/// loop {
///     runtime::select! {
///         Some(v) = rx.recv() => sum += v,                  // `None` (closed) disables it
///         _ = sleep(Duration::from_secs(5)) => panic!("too slow"),
///         else => break,                                    // never here: the timer is on
///     }
///     if sum == 3 {
///         break;
///     }
/// }
/// assert_eq!(sum, 3);
/// # });
/// ```
///
/// With `biased;`, a shutdown signal listed first always wins over work that is also ready:
///
/// ```
/// use runtime::sync::{mpsc, watch};
///
/// # runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (stop_tx, mut stop) = watch::channel(false);
/// let (tx, mut work) = mpsc::unbounded_channel::<u32>();
/// tx.send(1).unwrap();
/// stop_tx.send(true).unwrap();
/// let what = runtime::select! {
///     biased;
///     _ = stop.changed() => "stopped",
///     Some(_) = work.recv() => "worked",
/// };
/// assert_eq!(what, "stopped");
/// # });
/// ```
///
/// # Cancellation safety
///
/// Every branch that did not win is dropped: use futures that lose nothing when dropped
/// (`mpsc::Receiver::recv`, `broadcast::Receiver::recv`, `watch::Receiver::changed`,
/// `TcpListener::accept`, `Signal::recv`, `AsyncReadExt::read`, …), or keep a future alive
/// across iterations by selecting on `&mut fut` (pinned once outside the loop). Each method's
/// docs state whether it is cancel safe.
#[macro_export]
macro_rules! select {
    ($($input:tt)*) => {
        $crate::__private::select_internal! { ($crate) $($input)* }
    };
}
