//! Iterating over the buffers of a read or write (Linux: `include/linux/uio.h`,
//! `lib/iov_iter.c`; kept with the filesystem code, its one user here).
//!
//! Every file's read and write takes an [`IovIter`] instead of a kernel buffer: the caller's
//! memory as a list of segments with a cursor. A read copies into it with
//! [`IovIter::copy_to_iter`] as it takes data from its source (the pipe ring, the tty's line
//! buffer, a ramfs file's bytes, a /proc file's text); a write copies out of it with
//! [`IovIter::copy_from_iter`] as it puts data in place. Both return how much they copied
//! and stop at the first fault, so a file consumes exactly what was delivered: nothing if the
//! first byte faulted (the caller returns EFAULT), the bytes before the fault otherwise (the
//! caller returns a short count). There is no bounce buffer and no second copy.
//!
//! The kinds of segment list (Linux's `iter_type`):
//!
//! - `ITER_UBUF`: one user buffer (`read`, `write`, `pread64`, `pwrite64`);
//! - `ITER_IOVEC`: the user's `struct iovec` array (`readv`, `writev`, `preadv`, `pwritev`);
//! - `ITER_KVEC`: one kernel buffer, for the kernel's own reads and writes (exec reading an
//!   ELF, the initramfs unpacking into ramfs, `sendfile`'s buffer; Linux's `kernel_read`,
//!   `kernel_write`).
//!
//! The direction is part of the iterator, as Linux's `ITER_DEST`/`ITER_SOURCE`: a read's
//! iterator is a destination, a write's a source. Copying the wrong way copies nothing (a
//! kernel bug, warned about once, never a fault on user memory).
//!
//! # Invariants
//!
//! `count` is the number of bytes left between the cursor (`seg`, `offset`) and the end of
//! the segments; `offset` is within segment `seg` (or `seg` is past the last segment and
//! `count` is 0). A user segment's range is user space (checked by `access_ok` when the
//! iterator was built), so only missing pages can fault.

use alloc::vec::Vec;

use crate::arch::uaccess::{
    access_ok, copy_from_user, raw_clear_user, raw_copy_from_user, raw_copy_to_user,
};
use crate::kernel::errno::Errno;

/// The most segments one `readv`/`writev` takes (Linux's `UIO_MAXIOV`).
pub const UIO_MAXIOV: usize = 1024;

/// The most one read or write moves (Linux's `MAX_RW_COUNT`: `INT_MAX` rounded down to a
/// page); a longer request is cut to it and returns short.
pub const MAX_RW_COUNT: usize = 0x7fff_f000;

/// Which way the data goes (Linux's `ITER_DEST` and `ITER_SOURCE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Data is copied into the iterator: a read.
    Dest,
    /// Data is copied out of the iterator: a write.
    Source,
}

/// One user buffer (Linux's `struct iovec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserIovec {
    /// Its user address.
    pub base: u64,
    /// Its length in bytes.
    pub len: usize,
}

enum Segments<'a> {
    /// `ITER_UBUF`.
    Ubuf(UserIovec),
    /// `ITER_IOVEC`.
    Iovec(Vec<UserIovec>),
    /// `ITER_KVEC` that is written into (a kernel read).
    KvecDest(&'a mut [u8]),
    /// `ITER_KVEC` that is read from (a kernel write).
    KvecSource(&'a [u8]),
}

/// The buffers of one read or write, with a cursor (Linux's `struct iov_iter`).
pub struct IovIter<'a> {
    segs: Segments<'a>,
    dir: Direction,
    /// The segment the cursor is in.
    seg: usize,
    /// Bytes of that segment already done.
    offset: usize,
    /// Bytes left in all.
    count: usize,
}

/// The result of a user copy that moved `copied` of `want` bytes: what a read or write
/// returns when it stops there, having moved `done` bytes before (Linux's pattern
/// `if (copied < want) { if (!ret) ret = -EFAULT; break; }`).
pub fn short_copy(done: usize, copied: usize, want: usize) -> Result<usize, Errno> {
    if copied < want && done + copied == 0 {
        Err(Errno::EFAULT)
    } else {
        Ok(done + copied)
    }
}

impl<'a> IovIter<'a> {
    /// One user buffer (Linux's `import_ubuf` after `vfs_read`'s check): EFAULT if
    /// `[base, base + len)` is not user space; then `len` is cut to [`MAX_RW_COUNT`].
    pub fn ubuf(dir: Direction, base: u64, len: usize) -> Result<Self, Errno> {
        if !access_ok(base, len) {
            return Err(Errno::EFAULT);
        }
        let len = len.min(MAX_RW_COUNT);
        Ok(Self {
            segs: Segments::Ubuf(UserIovec { base, len }),
            dir,
            seg: 0,
            offset: 0,
            count: len,
        })
    }

    /// The user's `struct iovec[nr]` at `uvec` (Linux's `import_iovec`): EINVAL for more
    /// than [`UIO_MAXIOV`] segments or a length that is negative as an `ssize_t`, EFAULT if
    /// the array cannot be read or a segment is not user space. The total is cut to
    /// [`MAX_RW_COUNT`].
    pub fn import_iovec(dir: Direction, uvec: u64, nr: usize) -> Result<Self, Errno> {
        if nr > UIO_MAXIOV {
            return Err(Errno::EINVAL);
        }
        let mut raw = Vec::new();
        raw.try_reserve_exact(nr * 16).map_err(|_| Errno::ENOMEM)?;
        raw.resize(nr * 16, 0u8);
        copy_from_user(&mut raw, uvec)?;
        let mut segs = Vec::new();
        segs.try_reserve_exact(nr).map_err(|_| Errno::ENOMEM)?;
        let mut total = 0usize;
        for chunk in raw.chunks_exact(16) {
            let mut word = [0u8; 8];
            word.copy_from_slice(&chunk[..8]);
            let base = u64::from_le_bytes(word);
            word.copy_from_slice(&chunk[8..]);
            let len = u64::from_le_bytes(word);
            if len > isize::MAX as u64 {
                return Err(Errno::EINVAL);
            }
            let len = (len as usize).min(MAX_RW_COUNT - total);
            if !access_ok(base, len) {
                return Err(Errno::EFAULT);
            }
            total += len;
            segs.push(UserIovec { base, len });
        }
        Ok(Self {
            segs: Segments::Iovec(segs),
            dir,
            seg: 0,
            offset: 0,
            count: total,
        })
    }

    /// A kernel buffer to read into (Linux's `iov_iter_kvec(ITER_DEST, ...)`).
    pub fn kvec_dest(buf: &'a mut [u8]) -> Self {
        let count = buf.len();
        Self {
            segs: Segments::KvecDest(buf),
            dir: Direction::Dest,
            seg: 0,
            offset: 0,
            count,
        }
    }

    /// A kernel buffer to write from (Linux's `iov_iter_kvec(ITER_SOURCE, ...)`).
    pub fn kvec_source(buf: &'a [u8]) -> Self {
        let count = buf.len();
        Self {
            segs: Segments::KvecSource(buf),
            dir: Direction::Source,
            seg: 0,
            offset: 0,
            count,
        }
    }

    /// Bytes left (Linux's `iov_iter_count`).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Which way the data goes.
    pub fn direction(&self) -> Direction {
        self.dir
    }

    /// True if the segments are user memory (Linux's `user_backed_iter`).
    pub fn is_user(&self) -> bool {
        matches!(self.segs, Segments::Ubuf(_) | Segments::Iovec(_))
    }

    /// Cut what is left to at most `limit` bytes (Linux's `iov_iter_truncate`).
    pub fn truncate(&mut self, limit: usize) {
        self.count = self.count.min(limit);
    }

    /// The user segment the cursor is in and how much of it is left, if any.
    fn user_chunk(&self) -> Option<(u64, usize)> {
        let seg = match &self.segs {
            Segments::Ubuf(seg) if self.seg == 0 => *seg,
            Segments::Iovec(segs) => *segs.get(self.seg)?,
            _ => return None,
        };
        let left = (seg.len - self.offset).min(self.count);
        Some((seg.base + self.offset as u64, left))
    }

    /// Move the cursor `n` bytes on (Linux's `iov_iter_advance`); `n` is cut to what is
    /// left.
    pub fn advance(&mut self, n: usize) {
        let mut n = n.min(self.count);
        self.count -= n;
        match &self.segs {
            Segments::Ubuf(_) | Segments::KvecDest(_) | Segments::KvecSource(_) => {
                self.offset += n;
            }
            Segments::Iovec(segs) => {
                while n > 0 {
                    let Some(seg) = segs.get(self.seg) else { break };
                    let step = n.min(seg.len - self.offset);
                    self.offset += step;
                    n -= step;
                    if self.offset == seg.len {
                        self.seg += 1;
                        self.offset = 0;
                    }
                }
            }
        }
    }

    /// Go through the user segments from the cursor, calling `step(address, len)` for each
    /// piece until `n` bytes are done or a step does less than asked (a fault). `step`
    /// returns how many bytes it did. Returns the total done; the cursor has moved by it.
    fn each_user(&mut self, n: usize, mut step: impl FnMut(u64, usize, usize) -> usize) -> usize {
        let mut done = 0;
        while done < n {
            let Some((addr, left)) = self.user_chunk() else {
                break;
            };
            if left == 0 {
                if self.count == 0 {
                    break;
                }
                self.seg += 1;
                self.offset = 0;
                continue;
            }
            let want = left.min(n - done);
            let did = step(addr, want, done);
            self.advance(did);
            done += did;
            if did < want {
                break;
            }
        }
        done
    }

    /// Copy `src` (as much as is left) into the iterator (Linux's `copy_to_iter`). Returns
    /// how many bytes were copied: fewer than asked only at the end of the iterator or at a
    /// user address that faults.
    pub fn copy_to_iter(&mut self, src: &[u8]) -> usize {
        if self.dir != Direction::Dest {
            wrong_direction();
            return 0;
        }
        let n = src.len().min(self.count);
        match &mut self.segs {
            Segments::KvecDest(buf) => {
                buf[self.offset..self.offset + n].copy_from_slice(&src[..n]);
                self.offset += n;
                self.count -= n;
                return n;
            }
            Segments::Ubuf(seg) => {
                // The common case (read, pread64): one segment, no walk.
                let addr = seg.base + self.offset as u64;
                // SAFETY: `addr..addr + n` is inside the buffer, which is user space
                // (checked when the iterator was built); every store to it is covered by
                // the exception table.
                let copied = n - unsafe { raw_copy_to_user(addr, src.as_ptr(), n) };
                self.offset += copied;
                self.count -= copied;
                return copied;
            }
            _ => {}
        }
        self.each_user(n, |addr, len, at| {
            // SAFETY: `addr..addr + len` is user space (checked when the iterator was
            // built); every store to it is covered by the exception table.
            len - unsafe { raw_copy_to_user(addr, src[at..at + len].as_ptr(), len) }
        })
    }

    /// Copy from the iterator into `dst` (as much as is left) (Linux's `copy_from_iter`).
    /// Returns how many bytes were copied: fewer than asked only at the end of the iterator
    /// or at a user address that faults.
    pub fn copy_from_iter(&mut self, dst: &mut [u8]) -> usize {
        if self.dir != Direction::Source {
            wrong_direction();
            return 0;
        }
        let n = dst.len().min(self.count);
        match &self.segs {
            Segments::KvecSource(buf) => {
                dst[..n].copy_from_slice(&buf[self.offset..self.offset + n]);
                self.offset += n;
                self.count -= n;
                return n;
            }
            Segments::Ubuf(seg) => {
                let addr = seg.base + self.offset as u64;
                // SAFETY: as in copy_to_iter, the other way round; `dst[..n]` is a valid
                // kernel buffer.
                let copied = n - unsafe { raw_copy_from_user(dst.as_mut_ptr(), addr, n) };
                self.offset += copied;
                self.count -= copied;
                return copied;
            }
            _ => {}
        }
        self.each_user(n, |addr, len, at| {
            // SAFETY: as in copy_to_iter, the other way round; `dst[at..at + len]` is a
            // valid kernel buffer.
            len - unsafe { raw_copy_from_user(dst[at..at + len].as_mut_ptr(), addr, len) }
        })
    }

    /// Write `n` zero bytes into the iterator (Linux's `iov_iter_zero`, for `/dev/zero`).
    /// Returns how many were written, as [`IovIter::copy_to_iter`] does.
    pub fn zero(&mut self, n: usize) -> usize {
        if self.dir != Direction::Dest {
            wrong_direction();
            return 0;
        }
        let n = n.min(self.count);
        if let Segments::KvecDest(buf) = &mut self.segs {
            buf[self.offset..self.offset + n].fill(0);
            self.offset += n;
            self.count -= n;
            return n;
        }
        self.each_user(n, |addr, len, _| {
            // SAFETY: the range is user space; every store is covered by the exception
            // table.
            len - unsafe { raw_clear_user(addr, len) }
        })
    }
}

/// A copy against the iterator's direction: a kernel bug (Linux `WARN_ON`s it).
fn wrong_direction() {
    log::warn!("iov_iter: copy against the iterator's direction");
}
