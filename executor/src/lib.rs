//! Crate `executor` of the runtime. Not built yet: it has no public API until its issue lands.
#![deny(missing_docs)]
