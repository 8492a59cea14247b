//! Macros that multiplex several futures on the calling task: [`select!`](crate::select)
//! (the first to complete wins), [`join!`](crate::join) (all of them) and
//! [`try_join!`](crate::try_join) (all of them, or the first error). They are tokio's macros,
//! with tokio's syntax and semantics; each is a `macro_rules!` front (here, so it can pass
//! `$crate` on) over a code generator in the `macros` crate (`macros/src/select.rs`,
//! `macros/src/join.rs`), which generates safe code: every future is pinned with
//! `core::pin::pin!`.

mod join;
mod select;

/// What the generated code calls; not an API.
#[doc(hidden)]
pub mod __private {
    pub use executor::__private::poll_budget_available;
    pub use macros::{join_internal, select_internal, try_join_internal};

    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};

    thread_local! {
        /// xorshift64 state of this thread (never zero).
        static RNG: Cell<u64> = Cell::new(seed());
    }

    /// A per-thread seed from the standard library's randomly keyed hasher.
    fn seed() -> u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x9e37_79b9_7f4a_7c15);
        h.finish() | 1
    }

    /// A pseudo-random number in `0..n` (`n > 0`): where an unbiased `select!` starts polling.
    pub fn thread_rng_n(n: u32) -> u32 {
        RNG.with(|rng| {
            let mut x = rng.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            rng.set(x);
            // Lemire's multiply-shift maps the high 32 bits onto 0..n without a division.
            (((x >> 32) * u64::from(n)) >> 32) as u32
        })
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn thread_rng_n_stays_in_range_and_reaches_every_value() {
            let mut seen = [0u32; 5];
            for _ in 0..10_000 {
                seen[super::thread_rng_n(5) as usize] += 1;
            }
            assert!(seen.iter().all(|&c| c > 1_000), "{seen:?}");
            assert!((0..1000).all(|_| super::thread_rng_n(1) == 0));
        }
    }
}
