//! `#[runtime::main]` and `#[runtime::test]`. Not built yet: no macro is exported until its issue lands.
#![deny(missing_docs)]
