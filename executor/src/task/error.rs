//! The error a `JoinHandle` resolves to when the task did not produce its output
//! ([`JoinError`]).

use super::id::Id;
use std::any::Any;
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// The reason a task failed to produce its output: it was cancelled
/// (aborted or its runtime shut down) or it panicked.
pub struct JoinError {
    repr: Repr,
    id: Id,
}

enum Repr {
    Cancelled,
    // The Mutex only makes `JoinError: Sync` (the payload is `Send` but not
    // `Sync`); it is locked solely to format the panic message.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError { repr: Repr::Cancelled, id }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError { repr: Repr::Panic(Mutex::new(payload)), id }
    }

    /// Returns `true` if the task was cancelled (aborted, or its runtime shut down).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Returns `true` if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// Consumes the error, returning the panic payload.
    ///
    /// # Panics
    ///
    /// Panics if the error is not a panic (see [`JoinError::is_panic`]).
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().expect("`JoinError` reason is not a panic.")
    }

    /// Consumes the error, returning the panic payload if the task panicked,
    /// or the error itself otherwise. Resume the panic with
    /// [`std::panic::resume_unwind`].
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload.into_inner().unwrap_or_else(PoisonError::into_inner)),
            _ => Err(self),
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The panic message if the payload is a `&str` or a `String`.
    fn with_panic_message<R>(&self, f: impl FnOnce(Option<&str>) -> R) -> R {
        match &self.repr {
            Repr::Cancelled => f(None),
            Repr::Panic(payload) => {
                let payload = payload.lock().unwrap_or_else(PoisonError::into_inner);
                let msg = payload.downcast_ref::<&'static str>().copied().or_else(|| payload.downcast_ref::<String>().map(String::as_str));
                f(msg)
            }
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic(_) => self.with_panic_message(|msg| match msg {
                Some(msg) => write!(f, "task {} panicked with message {:?}", self.id, msg),
                None => write!(f, "task {} panicked", self.id),
            }),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            Repr::Panic(_) => self.with_panic_message(|msg| match msg {
                Some(msg) => write!(f, "JoinError::Panic({:?}, {:?}, ...)", self.id, msg),
                None => write!(f, "JoinError::Panic({:?}, ...)", self.id),
            }),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(src: JoinError) -> std::io::Error {
        std::io::Error::other(src.to_string())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn join_error_display_debug_and_panic_payload() {
        let id = Id(7);
        let cancelled = JoinError::cancelled(id);
        assert!(cancelled.is_cancelled() && !cancelled.is_panic());
        assert_eq!(cancelled.to_string(), "task 7 was cancelled");
        assert_eq!(format!("{cancelled:?}"), "JoinError::Cancelled(Id(7))");
        let cancelled = cancelled.try_into_panic().unwrap_err();
        assert_eq!(cancelled.id(), id);

        let panic = JoinError::panic(id, Box::new("boom"));
        assert!(panic.is_panic() && !panic.is_cancelled());
        assert_eq!(panic.to_string(), "task 7 panicked with message \"boom\"");
        assert_eq!(format!("{panic:?}"), "JoinError::Panic(Id(7), \"boom\", ...)");
        assert_eq!(*panic.into_panic().downcast::<&str>().unwrap(), "boom");

        let opaque = JoinError::panic(id, Box::new(42u8));
        assert_eq!(opaque.to_string(), "task 7 panicked");
        let io: std::io::Error = opaque.into();
        assert_eq!(io.kind(), std::io::ErrorKind::Other);
    }

    #[test]
    fn join_error_is_send_sync_error() {
        fn assert_bounds<T: std::error::Error + Send + Sync + 'static>() {}
        assert_bounds::<JoinError>();
    }
}
