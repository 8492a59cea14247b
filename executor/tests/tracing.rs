//! Feature `tracing`: a span per task poll (id, spawn location), events at spawn, completion,
//! registration (`epoll_ctl`) and harvest. Run with `cargo test -p eventpoll-executor --features tracing`.
#![cfg(feature = "tracing")]

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// What the subscriber saw: ("span" | "event", name, fields as `key=value`).
type Seen = Arc<Mutex<Vec<(&'static str, String, Vec<String>)>>>;

struct Recorder {
    seen: Seen,
    next: std::sync::atomic::AtomicU64,
}

struct Fields(Vec<String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push(format!("{}={value:?}", field.name()));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields(Vec::new());
        span.record(&mut fields);
        self.seen.lock().unwrap().push(("span", span.metadata().name().to_string(), fields.0));
        Id::from_u64(self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        let name = fields.0.iter().find_map(|f| f.strip_prefix("message=").map(str::to_string)).unwrap_or_default();
        self.seen.lock().unwrap().push(("event", name, fields.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn tasks_have_poll_spans_and_the_reactor_emits_registration_and_harvest_events() {
    use std::io::Write;
    let seen: Seen = Arc::default();
    let recorder = Recorder { seen: seen.clone(), next: Default::default() };
    let spawn_line = tracing::subscriber::with_default(recorder, || {
        let rt = executor::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
            a.set_nonblocking(true).unwrap();
            let wait = async move {
                let fd = executor::io::unix::AsyncFd::new(a).unwrap();
                let _ready = fd.readable().await.unwrap();
            };
            let (task, line) = (executor::spawn(wait), line!());
            executor::task::yield_now().await;
            b.write_all(b"x").unwrap();
            task.await.unwrap();
            line
        })
    });
    let seen = seen.lock().unwrap();
    let has =
        |kind: &str, name: &str, field: &str| seen.iter().any(|(k, n, f)| *k == kind && n == name && f.iter().any(|x| x.contains(field)));
    let here = format!("{}:{spawn_line}", file!());
    assert!(has("event", "spawn", &here), "{seen:#?}");
    assert!(has("span", "poll", &here), "{seen:#?}");
    assert!(has("span", "poll", "task.id="), "{seen:#?}");
    assert!(has("event", "complete", "task.id="), "{seen:#?}");
    assert!(has("event", "epoll_ctl", "op=Add"), "{seen:#?}");
    assert!(has("event", "harvest", "reported=1"), "{seen:#?}");
    assert!(has("event", "os poll", "events="), "{seen:#?}");
}
