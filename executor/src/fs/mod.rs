//! Asynchronous file system access, at tokio's paths: [`File`], [`OpenOptions`], [`ReadDir`] /
//! [`DirEntry`], [`DirBuilder`] and the free functions of `std::fs`.
//!
//! Linux has no readiness for regular files (an `epoll_ctl` on one fails with `EPERM`), so
//! every operation is a `std::fs` call on the runtime's
//! [`spawn_blocking`] pool, as in tokio:
//!
//! ```text
//!  task: fs::read(path).await ──▶ spawn_blocking(|| std::fs::read(path)) ──▶ a pool thread
//!        (Pending; the worker runs other tasks)                                  │
//!  task woken with the result ◀── the JoinHandle completes ◀────────────────────┘
//! ```
//!
//! * The free functions are one blocking call each (a whole-file helper such as [`read`]
//!   reads the file in one `std::fs::read`: use [`File`] to bound what one call moves).
//! * [`File`] reads and writes in chunks of at most [`File::max_buf_size`] bytes (2 MiB): a
//!   large transfer is a series of bounded blocking calls, not one giant one (see `file.rs`).
//! * [`ReadDir`] fetches directory entries 32 at a time.
//! * Errors are exactly the `io::Error`s `std::fs` returns (kind and `raw_os_error`). If the
//!   runtime shuts down before the pool ran an operation, it fails with an `Other` error
//!   saying so.
//! * With time paused (`time::pause`), a pending operation keeps the runtime from
//!   auto-advancing: a `timeout` around a file operation does not expire in virtual time while
//!   the operation runs for real.
//!
//! ```
//! use executor::fs;
//!
//! # let dir = std::env::temp_dir().join(format!("fs-mod-doc-{}", std::process::id()));
//! let rt = executor::runtime::Builder::new_current_thread().build()?;
//! rt.block_on(async {
//!     fs::create_dir_all(dir.join("a/b")).await?;
//!     fs::write(dir.join("a/b/c.txt"), "hello").await?;
//!     assert_eq!(fs::read_to_string(dir.join("a/b/c.txt")).await?, "hello");
//!     fs::rename(dir.join("a/b/c.txt"), dir.join("a/c.txt")).await?;
//!     let mut entries = fs::read_dir(dir.join("a")).await?;
//!     let mut names = Vec::new();
//!     while let Some(entry) = entries.next_entry().await? {
//!         names.push(entry.file_name().into_string().unwrap());
//!     }
//!     names.sort();
//!     assert_eq!(names, ["b", "c.txt"]);
//!     let err = fs::metadata(dir.join("missing")).await.unwrap_err();
//!     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
//!     fs::remove_dir_all(&dir).await
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod buf;
mod dir_builder;
mod file;
mod open_options;
mod read_dir;

pub use dir_builder::DirBuilder;
pub use file::File;
pub use open_options::OpenOptions;
pub use read_dir::{read_dir, DirEntry, ReadDir};

use crate::task::{spawn_blocking, JoinError};
use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

/// Runs `f` on the blocking pool.
pub(crate) async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    spawn_blocking(f).await.map_err(join_failed)?
}

/// The error of an operation the blocking pool did not complete: a panic is resumed (as if
/// the `std::fs` call had been made here), a cancellation (the runtime shut down) is an error.
pub(crate) fn join_failed(e: JoinError) -> io::Error {
    match e.try_into_panic() {
        Ok(payload) => std::panic::resume_unwind(payload),
        Err(e) => io::Error::other(format!("the runtime shut down before the file operation ran ({e})")),
    }
}

/// The canonical, absolute form of `path`, symbolic links resolved (`std::fs::canonicalize`).
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}

/// Copies the contents and permissions of `from` to `to`; returns the bytes copied
/// (`std::fs::copy`: `copy_file_range` in the kernel where it can).
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::copy(from, to)).await
}

/// Creates a directory; its parent must exist (`std::fs::create_dir`).
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir(path)).await
}

/// Creates a directory and every missing parent (`std::fs::create_dir_all`).
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// Creates a hard link `dst` to `src` (`std::fs::hard_link`).
pub async fn hard_link(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> io::Result<()> {
    let (src, dst) = (src.as_ref().to_owned(), dst.as_ref().to_owned());
    asyncify(move || std::fs::hard_link(src, dst)).await
}

/// The metadata of `path`, following symbolic links (`std::fs::metadata`).
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// The whole contents of a file (`std::fs::read`, one blocking call).
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// The target of a symbolic link (`std::fs::read_link`).
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_link(path)).await
}

/// The whole contents of a UTF-8 file (`std::fs::read_to_string`: `InvalidData` if it is not
/// UTF-8).
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Removes an empty directory (`std::fs::remove_dir`).
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Removes a directory and everything in it (`std::fs::remove_dir_all`).
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// Removes a file (`std::fs::remove_file`).
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}

/// Renames `from` to `to`, replacing `to` if it exists (`std::fs::rename`).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::rename(from, to)).await
}

/// Changes the permissions of `path` (`std::fs::set_permissions`).
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}

/// Creates a symbolic link `link` pointing at `original` (`std::os::unix::fs::symlink`).
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    asyncify(move || std::os::unix::fs::symlink(original, link)).await
}

/// The metadata of `path` itself, not following a symbolic link (`std::fs::symlink_metadata`).
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::symlink_metadata(path)).await
}

/// Whether `path` exists: `Ok(false)` for a missing file or a broken symbolic link, an error if
/// that cannot be told (`std::fs::exists`).
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::exists(path)).await
}

/// Writes `contents` to a file, creating or truncating it (`std::fs::write`, one blocking
/// call).
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let (path, contents) = (path.as_ref().to_owned(), contents.as_ref().to_owned());
    asyncify(move || std::fs::write(path, contents)).await
}
