//! [`Buf`]: the chunk a [`File`](super::File) operation carries to the blocking pool and back.

use std::cmp;
use std::io::{self, Read, Write};

/// A byte buffer holding the data of one file operation: what a read brought back and the
/// task has not consumed yet, or what a write is about to put in the file.
///
/// `data` only grows, and stays initialized: a read fills `data[..n]` and sets the window
/// `pos..end`, so a buffer reused for chunk after chunk is zeroed once, when it first grows to
/// the chunk size (no `unsafe` read into uninitialized memory, no memset per chunk).
#[derive(Debug, Default)]
pub(super) struct Buf {
    data: Vec<u8>,
    /// The unconsumed bytes are `data[pos..end]`.
    pos: usize,
    end: usize,
}

impl Buf {
    /// Unconsumed bytes.
    pub(super) fn len(&self) -> usize {
        self.end - self.pos
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves unconsumed bytes into `dst`; returns how many.
    pub(super) fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = cmp::min(self.len(), dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
        n
    }

    /// Takes up to `max` bytes of `src` to write; returns how many. The buffer must be empty.
    pub(super) fn copy_from(&mut self, src: &[u8], max: usize) -> usize {
        assert!(self.is_empty(), "a write into a buffer that still holds data");
        let n = cmp::min(src.len(), max);
        self.grow(n);
        self.data[..n].copy_from_slice(&src[..n]);
        self.pos = 0;
        self.end = n;
        n
    }

    /// Drops the unconsumed bytes; returns the offset to seek by so that the file position is
    /// where the reader is (the bytes were read from the file but never handed out).
    pub(super) fn discard_read(&mut self) -> i64 {
        let unread = -(self.len() as i64);
        self.pos = 0;
        self.end = 0;
        unread
    }

    /// One `read(2)` of at most `max` bytes (retried on `EINTR`). The buffer must be empty.
    pub(super) fn read_from(&mut self, rd: &mut impl Read, max: usize) -> io::Result<usize> {
        assert!(self.is_empty(), "a read into a buffer that still holds data");
        self.grow(max);
        let res = loop {
            match rd.read(&mut self.data[..max]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                res => break res,
            }
        };
        self.pos = 0;
        self.end = *res.as_ref().unwrap_or(&0);
        res
    }

    /// Writes every buffered byte (`write_all`); the buffer is empty afterwards either way.
    pub(super) fn write_to(&mut self, wr: &mut impl Write) -> io::Result<()> {
        let res = wr.write_all(&self.data[self.pos..self.end]);
        self.pos = 0;
        self.end = 0;
        res
    }

    fn grow(&mut self, len: usize) {
        if self.data.len() < len {
            self.data.resize(len, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_chunk_is_consumed_in_pieces_and_discarding_reports_the_unread_bytes() {
        let mut buf = Buf::default();
        let n = buf.read_from(&mut &b"hello world"[..], 8).unwrap();
        assert_eq!(n, 8);
        let mut out = [0u8; 3];
        assert_eq!(buf.copy_to(&mut out), 3);
        assert_eq!(&out, b"hel");
        assert_eq!(buf.len(), 5);
        assert_eq!(buf.discard_read(), -5);
        assert!(buf.is_empty());
    }

    #[test]
    fn a_write_takes_at_most_the_chunk_size_and_empties_the_buffer() {
        let mut buf = Buf::default();
        assert_eq!(buf.copy_from(b"abcdef", 4), 4);
        let mut sink = Vec::new();
        buf.write_to(&mut sink).unwrap();
        assert_eq!(sink, b"abcd");
        assert!(buf.is_empty());
        // Reused: a shorter chunk after a longer one.
        assert_eq!(buf.copy_from(b"xy", 4), 2);
        sink.clear();
        buf.write_to(&mut sink).unwrap();
        assert_eq!(sink, b"xy");
    }

    #[test]
    fn a_failed_read_leaves_the_buffer_empty() {
        struct Fails;
        impl Read for Fails {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::from_raw_os_error(libc::EIO))
            }
        }
        let mut buf = Buf::default();
        assert_eq!(buf.read_from(&mut Fails, 16).unwrap_err().raw_os_error(), Some(libc::EIO));
        assert!(buf.is_empty());
    }
}
