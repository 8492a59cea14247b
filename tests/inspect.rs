//! The inspector's protocol, through a test client: `metrics`, `dump`, `fdinfo`, `help`, an
//! unknown command and an overlong line, on both flavors.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// A client of the protocol: sends one line, reads the reply up to its terminating `.`.
struct Client {
    reader: BufReader<UnixStream>,
}

impl Client {
    fn connect(path: &PathBuf) -> Client {
        let stream = UnixStream::connect(path).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client { reader: BufReader::new(stream) }
    }

    fn request(&mut self, command: &str) -> Vec<String> {
        self.reader.get_mut().write_all(format!("{command}\n").as_bytes()).unwrap();
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            assert_ne!(self.reader.read_line(&mut line).unwrap(), 0, "closed before the reply ended");
            let line = line.trim_end_matches('\n').to_string();
            if line == "." {
                return lines;
            }
            lines.push(line);
        }
    }
}

fn socket_path(flavor: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("runtime-inspect-test-{}-{flavor}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn value(lines: &[String], key: &str) -> u64 {
    let line = lines.iter().find(|l| l.starts_with(&format!("{key} "))).unwrap_or_else(|| panic!("no {key:?} in {lines:#?}"));
    line[key.len() + 1..].parse().unwrap()
}

#[test]
fn a_client_reads_metrics_dump_and_fdinfo() {
    let runtimes = [
        ("current_thread", runtime::Builder::new_current_thread().build().unwrap()),
        ("multi_thread", runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap()),
    ];
    for (flavor, rt) in runtimes {
        let path = socket_path(flavor);
        rt.block_on(async {
            let (server, serve_line) = (runtime::inspect::serve(&path).unwrap(), line!());
            assert_eq!(
                runtime::inspect::serve(&path).unwrap_err().kind(),
                std::io::ErrorKind::AddrInUse,
                "{flavor}: a second server on the same path"
            );
            let (sleeper, sleeper_line) = (runtime::spawn(runtime::time::sleep(Duration::from_secs(3600))), line!());
            let sleeper_id = sleeper.id();
            let path2 = path.clone();
            let client = runtime::task::spawn_blocking(move || {
                let mut c = Client::connect(&path2);
                let metrics = c.request("metrics");
                let dump = c.request("dump");
                let fdinfo = c.request("fdinfo");
                let help = c.request("help");
                let unknown = c.request("frobnicate");
                // An overlong line closes the connection.
                let mut long = Client::connect(&path2);
                long.reader.get_mut().write_all(&[b'x'; 4096]).unwrap();
                let mut rest = String::new();
                let closed = long.reader.read_line(&mut rest).map(|n| n == 0).unwrap_or(true);
                (metrics, dump, fdinfo, help, unknown, closed)
            });
            let (metrics, dump, fdinfo, help, unknown, closed) = client.await.unwrap();

            assert_eq!(metrics[0], format!("flavor {flavor}"));
            let workers = if flavor == "current_thread" { 1 } else { 2 };
            assert_eq!(value(&metrics, "workers"), workers);
            // The sleeper, the inspector's accept loop and its one client task (the other
            // client's is gone or going), at least.
            assert!(value(&metrics, "alive_tasks") >= 3, "{metrics:#?}");
            assert!(value(&metrics, "spawned_tasks") >= 3, "{metrics:#?}");
            assert_eq!(metrics.iter().filter(|l| l.starts_with("worker ")).count() as u64, workers);
            assert!(value(&metrics, "reactor registrations") >= 2, "{metrics:#?}");
            assert!(metrics.iter().any(|l| l.starts_with("reactor harvest_histogram ") && l.split(' ').count() == 2 + 9), "{metrics:#?}");

            assert!(dump[0].starts_with("  TASK  STATE"), "{dump:#?}");
            let sleeper_row = dump.iter().find(|l| l.trim_start().starts_with(&format!("{sleeper_id} "))).expect("the sleeper's row");
            assert!(sleeper_row.contains(&format!("{}:{sleeper_line}", file!())) && sleeper_row.contains("timer in"), "{sleeper_row}");
            // The accept loop is spawned where `serve` was called, and waits on its listener.
            assert!(dump.iter().any(|l| l.contains(&format!("{}:{serve_line} ", file!())) && l.contains(" read")), "{dump:#?}");
            // The client task is the one answering.
            assert!(dump.iter().any(|l| l.contains("src/inspect.rs") && l.contains("running")), "{dump:#?}");

            assert!(!fdinfo.is_empty() && fdinfo.iter().all(|l| l.starts_with("tfd: ")), "{fdinfo:#?}");
            assert!(fdinfo.iter().any(|l| l.contains("mode:ET")), "{fdinfo:#?}");
            assert!(help.iter().any(|l| l.starts_with("metrics")), "{help:#?}");
            assert_eq!(unknown, vec!["error: unknown command \"frobnicate\" (try help)".to_string()]);
            assert!(closed, "{flavor}: an overlong line closes the connection");
            server.abort();
            sleeper.abort();
        });
        let _ = std::fs::remove_file(&path);
    }
}
