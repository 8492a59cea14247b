//! [`read_dir`], [`ReadDir`] and [`DirEntry`]: a directory listed in batches on the blocking
//! pool.

use super::asyncify;
use crate::task::{spawn_blocking, JoinHandle};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::{poll_fn, Future};
use std::io;
use std::os::unix::fs::DirEntryExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// Entries fetched per blocking call (tokio's batch).
const CHUNK: usize = 32;

/// Lists the directory `path` (`std::fs::read_dir`): entries come in batches of 32 from the
/// blocking pool, in the order the OS returns them (`.` and `..` excluded).
///
/// # Errors
///
/// Those of `std::fs::read_dir` (`NotFound`, `NotADirectory`, `PermissionDenied`, …); reading
/// an entry can fail too ([`ReadDir::next_entry`]).
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = asyncify(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir(State::Idle(Some(Batch { entries: VecDeque::new(), std, done: false }))))
}

/// The entries of a directory ([`read_dir`]).
#[derive(Debug)]
pub struct ReadDir(State);

#[derive(Debug)]
enum State {
    /// `None` after a fetch the pool did not run.
    Idle(Option<Batch>),
    Pending(JoinHandle<Batch>),
}

#[derive(Debug)]
struct Batch {
    entries: VecDeque<io::Result<DirEntry>>,
    std: std::fs::ReadDir,
    /// The OS has no more entries.
    done: bool,
}

impl ReadDir {
    /// The next entry, `None` at the end. Cancel safe: a dropped call loses no entry.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry (`Ready(Ok(None))` at the end).
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.0 {
                State::Idle(batch) => {
                    // `None`: the pool did not run a fetch (the runtime shut down); the error was
                    // returned, the listing is over.
                    let Some(mut b) = batch.take() else { return Poll::Ready(Ok(None)) };
                    if let Some(entry) = b.entries.pop_front() {
                        self.0 = State::Idle(Some(b));
                        return Poll::Ready(entry.map(Some));
                    }
                    if b.done {
                        self.0 = State::Idle(Some(b));
                        return Poll::Ready(Ok(None));
                    }
                    self.0 = State::Pending(spawn_blocking(move || {
                        b.fetch();
                        b
                    }));
                }
                State::Pending(handle) => match ready!(Pin::new(handle).poll(cx)) {
                    Ok(batch) => self.0 = State::Idle(Some(batch)),
                    Err(e) => {
                        self.0 = State::Idle(None);
                        return Poll::Ready(Err(super::join_failed(e)));
                    }
                },
            }
        }
    }
}

impl Batch {
    /// Reads up to [`CHUNK`] entries (with their file types, which the kernel's `d_type`
    /// usually gives for free).
    fn fetch(&mut self) {
        for _ in 0..CHUNK {
            match self.std.next() {
                Some(entry) => self.entries.push_back(entry.map(DirEntry::new)),
                None => {
                    self.done = true;
                    return;
                }
            }
        }
    }
}

/// One entry of a directory ([`ReadDir::next_entry`]).
#[derive(Debug)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// The type read with the entry, if the OS gave it without a `stat`.
    file_type: Option<FileType>,
}

impl DirEntry {
    fn new(std: std::fs::DirEntry) -> DirEntry {
        let file_type = std.file_type().ok();
        DirEntry { std: Arc::new(std), file_type }
    }

    /// The full path: the directory's path joined with [`file_name`](DirEntry::file_name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name in its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number.
    pub fn ino(&self) -> u64 {
        self.std.ino()
    }

    /// The entry's metadata, not following a symbolic link (`std::fs::DirEntry::metadata`).
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// The entry's type, not following a symbolic link: usually known from the listing, else
    /// read on the blocking pool.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(t) = self.file_type {
            return Ok(t);
        }
        let std = self.std.clone();
        asyncify(move || std.file_type()).await
    }
}
