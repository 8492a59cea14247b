//! `read(2)` into uninitialised memory: the kernel writes the bytes, nothing zeroes the buffer
//! first. What hyper's read buffer and tokio's `ReadBuf` hand out is uninitialised; a
//! `&mut [u8]` API would make every read pay a `memset` of the whole buffer first.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Reads up to `buf.len()` bytes from `fd` into `buf`; on `Ok(n)`, `buf[..n]` is initialised
/// (`n <= buf.len()`), and `Ok(0)` is end of file (or an empty `buf`).
pub(crate) fn read_uninit(fd: BorrowedFd<'_>, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // read(2) fails with EINVAL above SSIZE_MAX (as std's `read` does, ask for less).
    let len = buf.len().min(isize::MAX as usize);
    // SAFETY: `buf` is an exclusive borrow of `len` or more bytes, valid for writes for the
    // whole call; read(2) only writes into the buffer (it never reads it, so the bytes need not
    // be initialised) and writes at most `len` bytes, and `fd` is open for the call (a borrowed
    // fd).
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), len) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        // 0 <= n <= len: the kernel wrote exactly `n` bytes at the start of `buf`.
        Ok(n as usize)
    }
}
