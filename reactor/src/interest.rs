//! The interest table: registrations by file descriptor (the kernel's red-black tree `ep->rbr`).
//!
//! The kernel keys its tree by `(struct file *, fd)`. A user-space eventpoll sees only descriptor
//! numbers, and numbers are small dense integers, so the table is a vector indexed by the number:
//! O(1) lookup, insert and remove, 4 bytes per number up to the highest one registered. Two
//! registrations for one number cannot coexist here; see the crate docs on `close(2)` for how a
//! registration whose file was closed behind the instance's back is recognised and replaced.

use crate::item::NIL;
use std::os::fd::RawFd;

/// Descriptor number → item index.
#[derive(Debug, Default)]
pub(crate) struct Interest {
    by_fd: Vec<u32>,
}

impl Interest {
    pub(crate) fn new() -> Interest {
        Interest { by_fd: Vec::new() }
    }

    /// The item registered for `fd` (`ep_find`).
    pub(crate) fn find(&self, fd: RawFd) -> Option<u32> {
        let index = *self.by_fd.get(usize::try_from(fd).ok()?)?;
        (index != NIL).then_some(index)
    }

    /// Records `index` as the registration of `fd`, which must have none.
    pub(crate) fn insert(&mut self, fd: RawFd, index: u32) {
        let slot = usize::try_from(fd).expect("reactor: negative fd in the interest table");
        if slot >= self.by_fd.len() {
            let len = (slot + 1).next_power_of_two().max(64);
            self.by_fd.resize(len, NIL);
        }
        debug_assert_eq!(self.by_fd[slot], NIL, "fd {fd} registered twice");
        self.by_fd[slot] = index;
    }

    /// Forgets the registration of `fd`.
    pub(crate) fn remove(&mut self, fd: RawFd) -> Option<u32> {
        let slot = self.by_fd.get_mut(usize::try_from(fd).ok()?)?;
        let index = std::mem::replace(slot, NIL);
        (index != NIL).then_some(index)
    }

    /// Every registered (fd, item) pair.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (RawFd, u32)> + '_ {
        self.by_fd.iter().enumerate().filter(|(_, &i)| i != NIL).map(|(fd, &i)| (fd as RawFd, i))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn find_insert_remove() {
        let mut t = Interest::new();
        assert_eq!(t.find(5), None);
        assert_eq!(t.find(-1), None);
        t.insert(5, 9);
        t.insert(1000, 3);
        assert_eq!(t.find(5), Some(9));
        assert_eq!(t.iter().collect::<Vec<_>>(), vec![(5, 9), (1000, 3)]);
        assert_eq!(t.remove(5), Some(9));
        assert_eq!(t.remove(5), None);
        assert_eq!(t.find(1000), Some(3));
    }
}
