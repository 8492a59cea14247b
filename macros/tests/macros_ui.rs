//! Misuse of `#[runtime::main]` / `#[runtime::test]` and of `select!` / `join!` / `try_join!` is
//! a compile error that points at the offending tokens (snapshots in `tests/ui/*.stderr`; regenerate with `TRYBUILD=overwrite`).

#[test]
fn macro_errors_point_at_the_mistake() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
