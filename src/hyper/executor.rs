//! [`Executor`]: hyper's `rt::Executor` on this runtime.

use std::future::Future;

/// hyper's [`Executor`](::hyper::rt::Executor) on this runtime: each future hyper hands over
/// (an HTTP/2 stream, a client connection's background task) becomes a task of the current
/// runtime, as [`spawn`](crate::spawn) makes it. hyper-util's `TokioExecutor`, here.
///
/// # Panics
///
/// `execute` panics outside a runtime context, as `spawn` does (hyper calls it from the tasks
/// that drive its connections, which are inside one).
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct Executor;

impl Executor {
    /// An executor that spawns on the current runtime.
    pub fn new() -> Executor {
        Executor
    }
}

impl<F> ::hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        // Detached: hyper keeps no handle and learns of the end through the future itself.
        drop(crate::spawn(future));
    }
}
