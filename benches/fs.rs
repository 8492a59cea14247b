//! `runtime::fs` against `tokio::fs`, side by side in one run: a 64 MiB file written
//! sequentially (`write_all` of 1 MiB buffers, then `flush`: what reaches the page cache, no
//! `fsync`), then read back sequentially (`read_to_end`). Both `File`s move at most 2 MiB per
//! blocking-pool operation (their default).
//!
//! Each runtime is multi-thread with 2 workers. The order alternates between runs
//! (`STD_BENCH_REVERSE`). Run: `cargo bench -p runtime-benches --bench fs`; ratios:
//! `benches/std-ratios.sh`.

use criterion::Criterion;
use std::path::{Path, PathBuf};
use std::time::Duration;

const FILE_SIZE: usize = 64 << 20;
const CHUNK: usize = 1 << 20;

/// The file the shapes write and read, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(side: &str) -> Scratch {
        Scratch(std::env::temp_dir().join(format!("runtime-bench-fs-{}-{side}", std::process::id())))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The write and the read shapes for one runtime: `fs` is its `fs` module, `io` the module of
/// its `AsyncReadExt` / `AsyncWriteExt`.
macro_rules! shapes {
    ($g:expr, $name:literal, rt = $rt:expr, fs = $($fs:ident)::+, io = $($io:ident)::+ $(,)?) => {{
        use $($io)::+::{AsyncReadExt, AsyncWriteExt};
        let rt = $rt;
        let scratch = Scratch::new($name);
        let path: &Path = &scratch.0;
        let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
        $g.bench_function(concat!("write_64mib/", $name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut f = $($fs)::+::File::create(path).await.unwrap();
                    for _ in 0..FILE_SIZE / CHUNK {
                        f.write_all(&chunk).await.unwrap();
                    }
                    f.flush().await.unwrap();
                })
            })
        });
        // The read shape reads what the last write left (written once more if there was none).
        if std::fs::metadata(path).map_or(true, |m| m.len() != FILE_SIZE as u64) {
            std::fs::write(path, chunk.repeat(FILE_SIZE / CHUNK)).unwrap();
        }
        $g.bench_function(concat!("read_64mib/", $name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut data = Vec::with_capacity(FILE_SIZE);
                    $($fs)::+::File::open(path).await.unwrap().read_to_end(&mut data).await.unwrap();
                    assert_eq!(data.len(), FILE_SIZE);
                })
            })
        });
    }};
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fs");
    // 64 MiB per iteration: fewer, longer samples than criterion's default.
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let reverse = std::env::var_os("STD_BENCH_REVERSE").is_some();
    for side in if reverse { ["ours", "tokio"] } else { ["tokio", "ours"] } {
        match side {
            "ours" => shapes!(
                g,
                "ours",
                rt = runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
                fs = runtime::fs,
                io = runtime::io,
            ),
            _ => shapes!(
                g,
                "tokio",
                rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
                fs = tokio::fs,
                io = tokio::io,
            ),
        }
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
