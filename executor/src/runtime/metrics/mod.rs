//! Runtime metrics ([`RuntimeMetrics`], from [`Handle::metrics`](crate::runtime::Handle::metrics)):
//! tokio's names, on stable Rust, plus the reactor's own counters.
//!
//! Where each number is kept, and who writes it:
//!
//! ```text
//!   per worker (worker.rs, one 128-byte line each) ── written by that worker only:
//!       polls, parks, park/unparks, steals, local schedules, busy time (clock read at park and
//!       unpark only)
//!   per OwnedTasks shard (task/list.rs) ────────────── under the shard lock spawn and
//!       completion take anyway: spawned, completed
//!   the EventPoll (reactor, introspect.rs) ─────────── under ep->lock: registrations, harvests,
//!       events per harvest, OS polls, triggers, overflow uses, LT re-queues
//!   read: RuntimeMetrics loads them (relaxed) or takes each lock once
//! ```
//!
//! Nothing is summed on the hot path and no counter is written by two threads, so counting
//! costs a relaxed load and store per event and no shared cache line.

pub(crate) mod clock;
mod runtime;
pub(crate) mod worker;

pub use runtime::RuntimeMetrics;
