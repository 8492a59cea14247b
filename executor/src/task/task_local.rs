//! Task-local storage: [`task_local!`](crate::task_local) declares a [`LocalKey`], whose value is
//! set for the extent of a future ([`LocalKey::scope`]) or a closure ([`LocalKey::sync_scope`]).
//!
//! The value lives in the scope's future, not in the task: each poll of a [`TaskLocalFuture`]
//! swaps its value into a thread-local slot, polls the inner future, and swaps it back out —
//! also when the poll panics — so the value follows the future from thread to thread and
//! nested scopes of the same key shadow each other.
//!
//! ```text
//!   poll(TaskLocalFuture { slot: Some(v), future })
//!     thread-local ⇄ slot        (the thread-local now holds v; the previous value is in slot)
//!     future.poll(cx)            (KEY.with(|v| ..) reads v)
//!     thread-local ⇄ slot        (v back into the future, the previous value restored)
//! ```

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Declares task-local keys ([`LocalKey`]), as tokio's `task_local!`.
///
/// ```
/// executor::task_local! {
///     /// The id of the request being served.
///     pub static REQUEST_ID: u64;
/// }
///
/// # let rt = executor::runtime::Builder::new_current_thread().build()?;
/// # rt.block_on(async {
/// REQUEST_ID
///     .scope(7, async {
///         assert_eq!(REQUEST_ID.get(), 7);
///         executor::task::yield_now().await;
///         assert_eq!(REQUEST_ID.with(|id| *id), 7);
///     })
///     .await;
/// assert!(REQUEST_ID.try_with(|_| ()).is_err());
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis const $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __KEY: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey { inner: __KEY }
        };
    };
}

/// A key for task-local data, declared with [`task_local!`](crate::task_local).
pub struct LocalKey<T: 'static> {
    #[doc(hidden)]
    pub inner: std::thread::LocalKey<RefCell<Option<T>>>,
}

/// The panic message of a scope entered while the key's value is borrowed (inside `with`).
const SCOPE_WHILE_BORROWED: &str = "cannot enter a task-local scope while the task-local storage is borrowed";

/// The panic message of a scope entered while the thread's locals are being destroyed.
const SCOPE_DESTROYED: &str = "cannot enter a task-local scope during or after destruction of the underlying thread-local";

/// Why a scope could not be entered.
enum ScopeError {
    Borrowed,
    Destroyed,
}

impl ScopeError {
    #[track_caller]
    fn panic(self) -> ! {
        match self {
            ScopeError::Borrowed => panic!("{SCOPE_WHILE_BORROWED}"),
            ScopeError::Destroyed => panic!("{SCOPE_DESTROYED}"),
        }
    }
}

impl<T: 'static> LocalKey<T> {
    /// Runs `future` with the key set to `value`: inside it (and only there), [`with`],
    /// [`try_with`] and [`get`] see `value`.
    ///
    /// [`with`]: LocalKey::with
    /// [`try_with`]: LocalKey::try_with
    /// [`get`]: LocalKey::get
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture { local: self, slot: Some(value), future: Some(future), _pinned: PhantomPinned }
    }

    /// Runs `f` with the key set to `value`.
    ///
    /// # Panics
    ///
    /// Inside [`with`](LocalKey::with) of the same key.
    #[track_caller]
    pub fn sync_scope<F: FnOnce() -> R, R>(&'static self, value: T, f: F) -> R {
        let mut slot = Some(value);
        match self.scope_inner(&mut slot, f) {
            Ok(r) => r,
            Err(e) => e.panic(),
        }
    }

    /// Swaps `slot` into the thread-local for the duration of `f` (restored on unwind too).
    fn scope_inner<F: FnOnce() -> R, R>(&'static self, slot: &mut Option<T>, f: F) -> Result<R, ScopeError> {
        /// Swaps the value back when dropped.
        struct Restore<'a, T: 'static> {
            key: &'static std::thread::LocalKey<RefCell<Option<T>>>,
            slot: &'a mut Option<T>,
        }

        impl<T: 'static> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                // The borrow cannot fail: `with` borrows only inside its own call.
                let _ = self.key.try_with(|c| std::mem::swap(self.slot, &mut *c.borrow_mut()));
            }
        }

        self.inner
            .try_with(|c| c.try_borrow_mut().map(|mut v| std::mem::swap(slot, &mut *v)).map_err(|_| ScopeError::Borrowed))
            .map_err(|_| ScopeError::Destroyed)??;
        let _restore = Restore { key: &self.inner, slot };
        Ok(f())
    }

    /// Runs `f` with a reference to the value.
    ///
    /// # Panics
    ///
    /// Outside a scope of this key (with a message that says so).
    #[track_caller]
    pub fn with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> R {
        match self.try_with(f) {
            Ok(r) => r,
            Err(_) => panic!("cannot access a task-local storage value without setting it first (`LocalKey::scope` or `sync_scope`)"),
        }
    }

    /// Runs `f` with a reference to the value, or fails outside a scope of this key.
    ///
    /// The value stays borrowed while `f` runs: entering a scope of the same key inside `f`
    /// panics (as in tokio).
    pub fn try_with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> Result<R, AccessError> {
        let mut f = Some(f);
        let res = self.inner.try_with(|c| {
            // Borrowed mutably only inside `scope_inner`'s swaps, never while user code runs.
            let value = c.try_borrow().ok()?;
            let f = f.take()?;
            value.as_ref().map(f)
        });
        res.ok().flatten().ok_or(AccessError(()))
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A copy of the value.
    ///
    /// # Panics
    ///
    /// Outside a scope of this key.
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

/// The future of [`LocalKey::scope`]: `future` with the key set around each of its polls (and
/// its drop).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TaskLocalFuture<T: 'static, F> {
    local: &'static LocalKey<T>,
    /// The value while the future is not being polled (the previous one while it is).
    slot: Option<T>,
    /// Structurally pinned; `None` once dropped in `Drop` (inside the scope).
    future: Option<F>,
    _pinned: PhantomPinned,
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out (then the inner future is polled without it: `with` panics there).
    /// `None` if it was taken already.
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        // SAFETY: `slot` is not structurally pinned: moving the value out is allowed.
        unsafe { self.get_unchecked_mut() }.slot.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned (never moved out while pinned: only dropped in
        // place, here or in `Drop`); `slot` and `local` are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let local = this.local;
        let future = &mut this.future;
        let res = local.scope_inner(&mut this.slot, || match future.as_mut() {
            // SAFETY: see above; the future lives in the pinned `TaskLocalFuture`.
            Some(f) => unsafe { Pin::new_unchecked(f) }.poll(cx),
            None => panic!("`TaskLocalFuture` polled after completion"),
        });
        match res {
            Ok(poll) => poll,
            Err(e) => e.panic(),
        }
    }
}

impl<T: 'static, F> Drop for TaskLocalFuture<T, F> {
    fn drop(&mut self) {
        if std::mem::needs_drop::<F>() && self.future.is_some() {
            let future = &mut self.future;
            // Dropped in place inside the scope, so its destructor sees the value; if the scope
            // cannot be entered it is dropped with the struct, without the value.
            let _ = self.local.scope_inner(&mut self.slot, || *future = None);
        }
    }
}

impl<T: fmt::Debug + 'static, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture").field("value", &self.slot).finish_non_exhaustive()
    }
}

/// The error of [`LocalKey::try_with`] outside a scope of the key.
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct AccessError(());

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessError")
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set")
    }
}

impl Error for AccessError {}
