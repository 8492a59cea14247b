//! Building blocks of the multi-thread work-stealing scheduler.
// used by the multi-thread scheduler (next step)
#![allow(dead_code)]

pub(crate) mod queue;
