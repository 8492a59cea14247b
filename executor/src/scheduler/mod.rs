//! Building blocks of the multi-thread work-stealing scheduler.

pub(crate) mod queue;
