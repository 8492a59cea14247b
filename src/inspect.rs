//! The inspector: a Unix socket on which a running program answers questions about its runtime
//! — its metrics, its task dump, its reactor's registrations — for `examples/top.rs` or any
//! client that speaks the protocol below (`nc -U PATH` does).
//!
//! ## Protocol
//!
//! Line based, one request at a time, as many as the client likes on one connection:
//!
//! ```text
//!   client                         server (a task of the inspected runtime)
//!   ──────                         ──────
//!   "metrics\n"        ──────▶     key value lines, then ".\n"
//!   "dump\n"           ──────▶     the task dump's table (Dump's Display), then ".\n"
//!   "fdinfo\n"         ──────▶     the EventPoll's tfd: lines (FdInfo's Display), then ".\n"
//!   "help\n"           ──────▶     the commands, then ".\n"
//!   anything else      ──────▶     "error: unknown command \"…\"\n.\n"
//!   EOF                ──────▶     the server closes the connection
//! ```
//!
//! A reply's body never contains a line that is a lone `.`, so that line ends it. The
//! `metrics` body, one fact a line (names are [`RuntimeMetrics`]'s, counts cumulative):
//!
//! ```text
//!   flavor multi_thread
//!   workers 2
//!   alive_tasks 3
//!   spawned_tasks 10
//!   completed_tasks 7
//!   global_queue_depth 0
//!   worker 0 polls 12 parks 3 park_unparks 6 steals 0 steal_operations 0 local_schedules 4 local_queue_depth 0 busy_ns 123456
//!   reactor registrations 5
//!   reactor harvest_histogram 1 2 0 0 0 0 0 0 0
//!   …
//! ```
//!
//! The inspector's own tasks (its accept loop and one task per client) are tasks of the runtime
//! and show in the dump. A request costs the runtime what the call behind it costs: a lock per
//! owner-list shard, per timer wheel, the registry's and the `EventPoll`'s, one at a time.

use crate::net::{UnixListener, UnixStream};
use executor::runtime::{Handle, RuntimeFlavor, RuntimeMetrics};
use executor::task::JoinHandle;
use futures::io::{AsyncReadExt, AsyncWriteExt};
use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::time::Duration;

/// The longest request line the server reads; a longer one closes the connection.
const MAX_LINE: usize = 1024;

/// The commands, for `help`.
const HELP: &str = "metrics  the runtime's and the reactor's counters\ndump     every task: state, polls, spawn location, waits\nfdinfo   the reactor's registrations\nhelp     this list\n";

/// Binds a Unix socket at `path` and serves the inspector protocol on it from a task of the
/// current runtime (returned: abort it to stop serving). The socket file is not removed when
/// the server stops; binding fails with `AddrInUse` if `path` exists.
///
/// ```no_run
/// # #[runtime::main]
/// # async fn main() -> std::io::Result<()> {
/// let inspector = runtime::inspect::serve("/tmp/my-server.inspect")?;
/// // …serve; then `cargo run --example top -- /tmp/my-server.inspect`
/// # inspector.abort();
/// # Ok(())
/// # }
/// ```
///
/// # Panics
///
/// Outside a runtime context.
#[track_caller]
pub fn serve(path: impl AsRef<Path>) -> io::Result<JoinHandle<()>> {
    let handle = Handle::current();
    let listener = UnixListener::bind(path)?;
    Ok(handle.spawn(accept_loop(listener, handle.clone())))
}

async fn accept_loop(listener: UnixListener, handle: Handle) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                handle.spawn(client(stream, handle.clone()));
            }
            // Typically EMFILE: give descriptors a moment to be closed.
            Err(_) => executor::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Serves one client until it closes its side, sends a line longer than [`MAX_LINE`], or an
/// I/O error ends the connection.
async fn client(mut stream: UnixStream, handle: Handle) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let command = String::from_utf8_lossy(&line[..end]).trim().to_string();
            let reply = answer(&command, &handle);
            if stream.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
        if pending.len() > MAX_LINE {
            return;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

/// The reply to one request line, terminator included.
pub fn answer(command: &str, handle: &Handle) -> String {
    let mut out = match command {
        "metrics" => render_metrics(handle),
        "dump" => handle.dump().to_string(),
        "fdinfo" => handle.metrics().eventpoll_fdinfo().to_string(),
        "help" => HELP.to_string(),
        other => format!("error: unknown command {other:?} (try help)\n"),
    };
    out.push_str(".\n");
    out
}

/// The `metrics` reply's body (see the module docs).
pub fn render_metrics(handle: &Handle) -> String {
    let m: RuntimeMetrics = handle.metrics();
    let mut s = String::new();
    let flavor = match handle.runtime_flavor() {
        RuntimeFlavor::CurrentThread => "current_thread",
        RuntimeFlavor::MultiThread => "multi_thread",
        _ => "other",
    };
    // Writing to a String cannot fail.
    let _ = writeln!(s, "flavor {flavor}");
    let _ = writeln!(s, "workers {}", m.num_workers());
    let _ = writeln!(s, "alive_tasks {}", m.num_alive_tasks());
    let _ = writeln!(s, "spawned_tasks {}", m.spawned_tasks_count());
    let _ = writeln!(s, "completed_tasks {}", m.completed_tasks_count());
    let _ = writeln!(s, "global_queue_depth {}", m.global_queue_depth());
    for w in 0..m.num_workers() {
        let _ = writeln!(
            s,
            "worker {w} polls {} parks {} park_unparks {} steals {} steal_operations {} local_schedules {} local_queue_depth {} busy_ns {}",
            m.worker_poll_count(w),
            m.worker_park_count(w),
            m.worker_park_unpark_count(w),
            m.worker_steal_count(w),
            m.worker_steal_operations(w),
            m.worker_local_schedule_count(w),
            m.worker_local_queue_depth(w),
            m.worker_total_busy_duration(w).as_nanos(),
        );
    }
    let r = m.eventpoll();
    for (name, value) in [
        ("registrations", r.registrations),
        ("registrations_added", r.registrations_added),
        ("harvests", r.harvests),
        ("events_reported", r.events_reported),
        ("os_polls", r.os_polls),
        ("os_events", r.os_events),
        ("user_triggers", r.user_triggers),
        ("overflow_uses", r.overflow_uses),
        ("lt_requeues", r.lt_requeues),
    ] {
        let _ = writeln!(s, "reactor {name} {value}");
    }
    let histogram: Vec<String> = r.harvest_histogram.iter().map(u64::to_string).collect();
    let _ = writeln!(s, "reactor harvest_histogram {}", histogram.join(" "));
    s
}
