//! `fs`: `File` (chunked reads and writes on the blocking pool, seeks, write-behind errors,
//! writes that survive a shutdown), `OpenOptions`, `DirBuilder`, `read_dir` and the free
//! functions, with std's errors; on both flavors.

use executor::fs::{self, DirBuilder, File, OpenOptions};
use executor::runtime::{Builder, Runtime};
use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use std::future::Future;
use std::io::{ErrorKind, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("runtime-fs-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn flavors() -> [Runtime; 2] {
    [Builder::new_current_thread().build().unwrap(), Builder::new_multi_thread().worker_threads(2).build().unwrap()]
}

fn on_both_flavors<F: Future<Output = ()>>(name: &str, test: impl Fn(TempDir) -> F) {
    for rt in flavors() {
        rt.block_on(test(TempDir::new(name)));
    }
}

/// Deterministic pseudo-random bytes.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn a_write_all_and_read_to_end_round_trip_across_chunks() {
    on_both_flavors("roundtrip", |dir| async move {
        let data = bytes(5 * 1024 * 1024 + 123, 7);
        let path = dir.path("data");
        let mut f = File::create(&path).await.unwrap();
        f.write_all(&data).await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), data);
        let mut back = Vec::new();
        File::open(&path).await.unwrap().read_to_end(&mut back).await.unwrap();
        assert!(back == data, "read back {} bytes, differing", back.len());
    });
}

#[test]
fn one_read_moves_at_most_one_chunk() {
    on_both_flavors("chunks", |dir| async move {
        let path = dir.path("big");
        std::fs::write(&path, bytes(6 * 1024 * 1024, 3)).unwrap();
        let mut f = File::open(&path).await.unwrap();
        assert_eq!(f.max_buf_size(), 2 * 1024 * 1024);
        let mut buf = vec![0u8; 6 * 1024 * 1024];
        let n = f.read(&mut buf).await.unwrap();
        assert_eq!(n, 2 * 1024 * 1024, "one blocking call reads one chunk, not the whole file");
        f.set_max_buf_size(4096);
        let n = f.read(&mut buf).await.unwrap();
        assert_eq!(n, 4096);
        // And writes: one poll_write takes at most one chunk.
        let mut w = File::create(dir.path("out")).await.unwrap();
        w.set_max_buf_size(1000);
        assert_eq!(w.write(&buf[..5000]).await.unwrap(), 1000);
        w.flush().await.unwrap();
        assert_eq!(std::fs::metadata(dir.path("out")).unwrap().len(), 1000);
    });
}

#[test]
fn seeks_account_for_bytes_read_ahead() {
    on_both_flavors("seek", |dir| async move {
        let path = dir.path("s");
        std::fs::write(&path, b"hello world").unwrap();
        let mut f = File::open(&path).await.unwrap();
        let mut one = [0u8; 1];
        f.read_exact(&mut one).await.unwrap();
        // The blocking read fetched all 11 bytes; the cursor the caller sees is 1.
        assert_eq!(f.stream_position().await.unwrap(), 1);
        assert_eq!(f.seek(SeekFrom::Current(5)).await.unwrap(), 6);
        let mut rest = String::new();
        f.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "world");
        assert_eq!(f.seek(SeekFrom::End(-5)).await.unwrap(), 6);
        assert_eq!(f.seek(SeekFrom::Start(0)).await.unwrap(), 0);
        let mut all = String::new();
        f.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "hello world");
        let err = f.seek(SeekFrom::Current(-100)).await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EINVAL));
    });
}

#[test]
fn a_write_after_a_read_lands_where_the_reader_is() {
    on_both_flavors("readwrite", |dir| async move {
        let path = dir.path("rw");
        std::fs::write(&path, b"abcdef").unwrap();
        let mut f = OpenOptions::new().read(true).write(true).open(&path).await.unwrap();
        let mut two = [0u8; 2];
        f.read_exact(&mut two).await.unwrap();
        f.write_all(b"XY").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"abXYef");
    });
}

#[test]
fn a_failed_write_is_reported_by_the_next_flush() {
    on_both_flavors("badwrite", |dir| async move {
        let path = dir.path("ro");
        std::fs::write(&path, b"x").unwrap();
        let mut f = File::open(&path).await.unwrap(); // read-only
                                                      // Write-behind: accepted at once …
        assert_eq!(f.write(b"data").await.unwrap(), 4);
        // … and the EBADF surfaces at the flush, once.
        assert_eq!(f.flush().await.unwrap_err().raw_os_error(), Some(libc::EBADF));
        f.flush().await.unwrap();
        assert_eq!(f.write(b"more").await.unwrap(), 4);
        assert_eq!(f.sync_all().await.unwrap_err().raw_os_error(), Some(libc::EBADF));
    });
}

#[test]
fn writes_survive_a_shutdown_before_the_pool_ran_them() {
    let dir = TempDir::new("shutdown");
    let path = dir.path("late");
    // One blocking thread, kept busy: the file's write waits in the pool's queue.
    let rt = Builder::new_current_thread().max_blocking_threads(1).build().unwrap();
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    let (started_tx, started) = std::sync::mpsc::channel();
    rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        let _ = blocked.recv();
    });
    started.recv().unwrap();
    // Opened with std: the pool's only thread is taken, an async open would wait for it.
    let mut f = File::from_std(std::fs::File::create(&path).unwrap());
    rt.block_on(async {
        // Write-behind: accepted at once, queued behind the blocker.
        f.write_all(b"must not be lost").await.unwrap();
    });
    // Shut down without a flush, while the write is still queued.
    rt.shutdown_timeout(std::time::Duration::from_millis(10));
    drop(release);
    drop(f);
    assert_eq!(std::fs::read(&path).unwrap(), b"must not be lost");
}

#[test]
fn file_methods_wait_for_the_write_in_flight() {
    on_both_flavors("methods", |dir| async move {
        let path = dir.path("m");
        let mut f = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).await.unwrap();
        f.write_all(&bytes(3000, 1)).await.unwrap();
        // No flush: metadata waits for the write.
        assert_eq!(f.metadata().await.unwrap().len(), 3000);
        f.set_len(10).await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 10);
        f.sync_all().await.unwrap();
        f.sync_data().await.unwrap();
        f.set_permissions(std::fs::Permissions::from_mode(0o600)).await.unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        // A clone shares the cursor.
        f.seek(SeekFrom::Start(4)).await.unwrap();
        let mut clone = f.try_clone().await.unwrap();
        assert_eq!(clone.stream_position().await.unwrap(), 4);
        f.write_all(b"z").await.unwrap();
        let std = f.into_std().await;
        assert_eq!(std.metadata().unwrap().len(), 10);
        let f = File::from_std(std);
        assert!(f.try_into_std().is_ok());
        let f = File::create(dir.path("busy")).await.unwrap();
        assert!(f.try_into_std().is_ok());
    });
}

#[test]
fn errors_are_the_ones_std_gives() {
    on_both_flavors("errors", |dir| async move {
        let missing = dir.path("missing");
        let e = File::open(&missing).await.unwrap_err();
        assert_eq!((e.kind(), e.raw_os_error()), (ErrorKind::NotFound, Some(libc::ENOENT)));
        std::fs::write(dir.path("f"), b"\xff\xfe").unwrap();
        let e = File::create_new(dir.path("f")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        let e = fs::read_to_string(dir.path("f")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidData);
        std::fs::create_dir(dir.path("d")).unwrap();
        std::fs::write(dir.path("d/x"), b"").unwrap();
        let e = fs::remove_dir(dir.path("d")).await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTEMPTY));
        let e = fs::read_dir(dir.path("f")).await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTDIR));
        let e = fs::create_dir(dir.path("d")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlreadyExists);
        // The same error, field for field, as the std call.
        for (ours, std) in [
            (fs::metadata(&missing).await.unwrap_err(), std::fs::metadata(&missing).unwrap_err()),
            (fs::remove_file(dir.path("d")).await.unwrap_err(), std::fs::remove_file(dir.path("d")).unwrap_err()),
            (fs::rename(&missing, dir.path("x")).await.unwrap_err(), std::fs::rename(&missing, dir.path("x")).unwrap_err()),
            (fs::read_link(dir.path("f")).await.unwrap_err(), std::fs::read_link(dir.path("f")).unwrap_err()),
        ] {
            assert_eq!((ours.kind(), ours.raw_os_error()), (std.kind(), std.raw_os_error()));
        }
        let e = OpenOptions::new().open(dir.path("f")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "no access mode: std's error");
    });
}

#[test]
fn the_free_functions_do_what_std_does() {
    on_both_flavors("free", |dir| async move {
        fs::create_dir_all(dir.path("a/b/c")).await.unwrap();
        fs::write(dir.path("a/b/c/f"), "contents").await.unwrap();
        assert_eq!(fs::read(dir.path("a/b/c/f")).await.unwrap(), b"contents");
        assert_eq!(fs::copy(dir.path("a/b/c/f"), dir.path("a/g")).await.unwrap(), 8);
        fs::rename(dir.path("a/g"), dir.path("a/h")).await.unwrap();
        assert!(!fs::try_exists(dir.path("a/g")).await.unwrap());
        assert!(fs::try_exists(dir.path("a/h")).await.unwrap());
        fs::hard_link(dir.path("a/h"), dir.path("a/hard")).await.unwrap();
        fs::symlink(dir.path("a/h"), dir.path("a/sym")).await.unwrap();
        assert_eq!(fs::read_link(dir.path("a/sym")).await.unwrap(), dir.path("a/h"));
        assert!(fs::symlink_metadata(dir.path("a/sym")).await.unwrap().file_type().is_symlink());
        assert!(fs::metadata(dir.path("a/sym")).await.unwrap().is_file());
        assert_eq!(fs::canonicalize(dir.path("a/b/../sym")).await.unwrap(), std::fs::canonicalize(dir.path("a/h")).unwrap());
        fs::set_permissions(dir.path("a/h"), std::fs::Permissions::from_mode(0o640)).await.unwrap();
        assert_eq!(std::fs::metadata(dir.path("a/hard")).unwrap().permissions().mode() & 0o777, 0o640);
        fs::remove_file(dir.path("a/sym")).await.unwrap();
        DirBuilder::new().mode(0o700).create(dir.path("a/private")).await.unwrap();
        assert_eq!(std::fs::metadata(dir.path("a/private")).unwrap().permissions().mode() & 0o777, 0o700);
        DirBuilder::new().recursive(true).create(dir.path("a/private")).await.unwrap();
        fs::remove_dir(dir.path("a/private")).await.unwrap();
        fs::remove_dir_all(dir.path("a")).await.unwrap();
        assert!(!Path::new(&dir.path("a")).exists());
    });
}

#[test]
fn open_options_append_truncate_and_create_new() {
    on_both_flavors("options", |dir| async move {
        let path = dir.path("o");
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).await.unwrap();
        f.write_all(b"one").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let mut f = OpenOptions::new().append(true).open(&path).await.unwrap();
        f.write_all(b"two").await.unwrap();
        f.flush().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"onetwo");
        let mut f = OpenOptions::new().write(true).truncate(true).open(&path).await.unwrap();
        f.write_all(b"3").await.unwrap();
        f.close().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"3");
        let e = OpenOptions::new().write(true).custom_flags(libc::O_NOFOLLOW).open(dir.path("nope")).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn read_dir_lists_every_entry_in_batches() {
    on_both_flavors("readdir", |dir| async move {
        for i in 0..100 {
            std::fs::write(dir.path(&format!("f{i:03}")), [i as u8]).unwrap();
        }
        std::fs::create_dir(dir.path("sub")).unwrap();
        let mut entries = fs::read_dir(&dir.0).await.unwrap();
        let mut names = Vec::new();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            let name = entry.file_name().into_string().unwrap();
            assert_eq!(entry.path(), dir.path(&name));
            let is_dir = entry.file_type().await.unwrap().is_dir();
            assert_eq!(is_dir, name == "sub");
            if !is_dir {
                assert_eq!(entry.metadata().await.unwrap().len(), 1);
            }
            assert_ne!(entry.ino(), 0);
            names.push(name);
        }
        assert!(entries.next_entry().await.unwrap().is_none(), "stays at the end");
        names.sort();
        let mut expected: Vec<_> = (0..100).map(|i| format!("f{i:03}")).collect();
        expected.push("sub".into());
        assert_eq!(names, expected);
    });
}

#[test]
fn a_file_operation_under_a_timeout_with_time_paused_completes() {
    let dir = TempDir::new("paused");
    let path = dir.path("p");
    std::fs::write(&path, bytes(1 << 20, 9)).unwrap();
    let rt = Builder::new_current_thread().start_paused(true).build().unwrap();
    rt.block_on(async {
        let data = executor::time::timeout(std::time::Duration::from_secs(1), fs::read(&path)).await;
        assert_eq!(data.expect("timed out in virtual time while the read ran").unwrap().len(), 1 << 20);
    });
}
