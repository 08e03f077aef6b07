//! Reading and writing files: the system calls (Linux: `fs/read_write.c`, with `sendfile`
//! from the same file).
//!
//! Each call builds an [`IovIter`] over the caller's buffers (one buffer for `read`,
//! `write`, `pread64`, `pwrite64`; the `struct iovec` array for the vector calls) and hands
//! it to the file, which copies straight between its data and user memory. A bad buffer is
//! therefore found while the data is taken: EFAULT if nothing was delivered (and nothing is
//! consumed), the bytes before the fault otherwise (Linux's short count). The checks come
//! in Linux's order: the descriptor (EBADF), its mode (EBADF), the buffers (EFAULT,
//! EINVAL), then the file. A write to a regular file drops its set-ID bits first
//! (`file_remove_privs`).

use alloc::sync::Arc;

use super::file::fdget;
use super::file::File;
use super::inode::{mode, FileType};
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::fs::iov_iter::{Direction, IovIter, MAX_RW_COUNT};
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

/// A write that found no reader sends SIGPIPE (Linux's `pipe_write` →
/// `send_sig(SIGPIPE, current, 0)`).
fn sigpipe_on_epipe<T>(result: Result<T, Errno>) -> Result<T, Errno> {
    if let Err(Errno::EPIPE) = result {
        let task = crate::kernel::task::current();
        crate::kernel::signal::send_signal(task, crate::kernel::signal::sig::SIGPIPE);
    }
    result
}

/// `vfs_read` on a descriptor: the mode, then the buffers, then the file.
fn do_read(file: &File, mut to: impl FnMut() -> Result<IovIter<'static>, Errno>) -> SysResult {
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    let mut iter = to()?;
    if file.inode.file_type() == FileType::Directory {
        return Err(Errno::EISDIR);
    }
    Ok(file.read(&mut iter)? as u64)
}

/// `vfs_write` on a descriptor: the mode, then the buffers, then the file.
fn do_write(file: &File, mut from: impl FnMut() -> Result<IovIter<'static>, Errno>) -> SysResult {
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let mut iter = from()?;
    super::inode::file_remove_privs(&file.inode);
    if file.inode.file_type() == FileType::Socket {
        // A socket sends its own SIGPIPE, and only for streams (Linux's
        // `unix_stream_sendmsg`).
        return file.write(&mut iter).map(|n| n as u64);
    }
    sigpipe_on_epipe(file.write(&mut iter)).map(|n| n as u64)
}

/// `read(2)`.
pub fn sys_read(fd: i32, buf: u64, count: usize) -> SysResult {
    let file = fdget(fd)?;
    do_read(&file, || IovIter::ubuf(Direction::Dest, buf, count))
}

/// `write(2)`.
pub fn sys_write(fd: i32, buf: u64, count: usize) -> SysResult {
    let file = fdget(fd)?;
    do_write(&file, || IovIter::ubuf(Direction::Source, buf, count))
}

/// `readv(2)`.
pub fn sys_readv(fd: i32, iov: u64, iovcnt: usize) -> SysResult {
    let file = fdget(fd)?;
    do_read(&file, || {
        IovIter::import_iovec(Direction::Dest, iov, iovcnt)
    })
}

/// `writev(2)`.
pub fn sys_writev(fd: i32, iov: u64, iovcnt: usize) -> SysResult {
    let file = fdget(fd)?;
    do_write(&file, || {
        IovIter::import_iovec(Direction::Source, iov, iovcnt)
    })
}

/// The file behind `fd` for a positioned read or write at `offset` (Linux's
/// `ksys_pread64`: a negative offset is EINVAL before the descriptor is looked at; a file
/// without a position, a pipe, FIFO or socket, is ESPIPE).
fn positioned(fd: i32, offset: i64) -> Result<alloc::sync::Arc<File>, Errno> {
    if offset < 0 {
        return Err(Errno::EINVAL);
    }
    let file = fdget(fd)?;
    if matches!(file.inode.file_type(), FileType::Fifo | FileType::Socket) {
        return Err(Errno::ESPIPE);
    }
    Ok(file)
}

/// Read at `offset` without moving the file offset.
fn pread_iter(file: &File, offset: i64, to: &mut IovIter<'_>) -> SysResult {
    if file.inode.file_type() == FileType::Directory {
        return Err(Errno::EISDIR);
    }
    Ok(file.inode.read_iter(&file.kiocb(offset as u64), to)? as u64)
}

/// Write at `offset` without moving the file offset.
fn pwrite_iter(file: &File, offset: i64, from: &mut IovIter<'_>) -> SysResult {
    super::inode::file_remove_privs(&file.inode);
    sigpipe_on_epipe(file.inode.write_iter(&file.kiocb(offset as u64), from)).map(|n| n as u64)
}

/// `pread64(2)`.
pub fn sys_pread64(fd: i32, buf: u64, count: usize, offset: i64) -> SysResult {
    let file = positioned(fd, offset)?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    pread_iter(
        &file,
        offset,
        &mut IovIter::ubuf(Direction::Dest, buf, count)?,
    )
}

/// `pwrite64(2)`.
pub fn sys_pwrite64(fd: i32, buf: u64, count: usize, offset: i64) -> SysResult {
    let file = positioned(fd, offset)?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    pwrite_iter(
        &file,
        offset,
        &mut IovIter::ubuf(Direction::Source, buf, count)?,
    )
}

/// `preadv(2)`. On a 64-bit kernel the offset is the low word alone (Linux's
/// `pos_from_hilo` shifts the high word out).
pub fn sys_preadv(fd: i32, iov: u64, iovcnt: usize, offset: i64) -> SysResult {
    let file = positioned(fd, offset)?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    let mut to = IovIter::import_iovec(Direction::Dest, iov, iovcnt)?;
    pread_iter(&file, offset, &mut to)
}

/// `pwritev(2)`.
pub fn sys_pwritev(fd: i32, iov: u64, iovcnt: usize, offset: i64) -> SysResult {
    let file = positioned(fd, offset)?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    let mut from = IovIter::import_iovec(Direction::Source, iov, iovcnt)?;
    pwrite_iter(&file, offset, &mut from)
}

/// `preadv2`/`pwritev2` flags (`RWF_*`): the ones Linux 6.1 knows.
const RWF_HIPRI: u32 = 0x01;
const RWF_DSYNC: u32 = 0x02;
const RWF_SYNC: u32 = 0x04;
const RWF_NOWAIT: u32 = 0x08;
const RWF_APPEND: u32 = 0x10;

/// Check `RWF_*` flags (Linux's `kiocb_set_rw_flags`): EOPNOTSUPP for unknown ones, and for
/// RWF_NOWAIT on a file that cannot promise not to block (only pipes can; ramfs files, as
/// Linux's tmpfs before 6.6, cannot). HIPRI, DSYNC and SYNC ask nothing of a file in RAM.
fn check_rw_flags(file: &File, flags: u32) -> Result<(), Errno> {
    if flags & !(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND) != 0 {
        return Err(Errno::ENOTSUP);
    }
    if flags & RWF_NOWAIT != 0 && file.inode.file_type() != FileType::Fifo {
        return Err(Errno::ENOTSUP);
    }
    Ok(())
}

/// `preadv2(2)`: `preadv` with flags; an offset of -1 reads at (and moves) the file
/// position, as `readv` (Linux's `do_readv`/`do_preadv`). The vector is read before the
/// descriptor's mode is checked, and an empty one returns 0 before the flags are.
pub fn sys_preadv2(fd: i32, iov: u64, iovcnt: usize, offset: i64, flags: u32) -> SysResult {
    let file = if offset == -1 {
        fdget(fd)?
    } else {
        positioned(fd, offset)?
    };
    let mut to = IovIter::import_iovec(Direction::Dest, iov, iovcnt)?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    if to.count() == 0 {
        return Ok(0);
    }
    check_rw_flags(&file, flags)?;
    if offset == -1 {
        if file.inode.file_type() == FileType::Directory {
            return Err(Errno::EISDIR);
        }
        Ok(file.read(&mut to)? as u64)
    } else {
        pread_iter(&file, offset, &mut to)
    }
}

/// `pwritev2(2)`: `pwritev` with flags; an offset of -1 writes at (and moves) the file
/// position. `RWF_APPEND` writes at the end of the file whatever the offset.
pub fn sys_pwritev2(fd: i32, iov: u64, iovcnt: usize, offset: i64, flags: u32) -> SysResult {
    let file = if offset == -1 {
        fdget(fd)?
    } else {
        positioned(fd, offset)?
    };
    let mut from = IovIter::import_iovec(Direction::Source, iov, iovcnt)?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    if from.count() == 0 {
        return Ok(0);
    }
    check_rw_flags(&file, flags)?;
    let append = flags & RWF_APPEND != 0;
    if offset == -1 && !append {
        super::inode::file_remove_privs(&file.inode);
        return sigpipe_on_epipe(file.write(&mut from)).map(|n| n as u64);
    }
    let pos = if append {
        file.inode.stat().size as i64
    } else {
        offset
    };
    let n = pwrite_iter(&file, pos, &mut from)?;
    if offset == -1 {
        *file.pos.lock() = pos as u64 + n;
    }
    Ok(n)
}

/// `lseek(2)`.
pub fn sys_lseek(fd: i32, offset: i64, whence: u32) -> SysResult {
    let file = fdget(fd)?;
    if matches!(file.inode.file_type(), FileType::Fifo | FileType::Socket) {
        return Err(Errno::ESPIPE);
    }
    // The size comes first: `stat` may sleep on the inode's mutex, which it must not do
    // with the position's spinlock held.
    let size = match whence {
        2 => file.inode.stat().size as i64,
        _ => 0,
    };
    let mut pos = file.pos.lock();
    let base = match whence {
        0 => 0,
        1 => *pos as i64,
        2 => size,
        _ => return Err(Errno::EINVAL),
    };
    let new = base
        .checked_add(offset)
        .filter(|&p| p >= 0)
        .ok_or(Errno::EINVAL)?;
    *pos = new as u64;
    Ok(new as u64)
}

/// How much `sendfile` moves through its kernel buffer at a time (Linux's internal pipe
/// holds 16 pages).
const SENDFILE_CHUNK: usize = 65536;

/// `sendfile(2)`: copy from one file to another inside the kernel (busybox `cat` uses
/// it; Linux's `do_sendfile`). The input is read at a position, its own offset or
/// `*offset_ptr`, which moves on only by what the output took, so nothing is consumed that
/// was not written. Linux's order: `*offset_ptr` is read first (EFAULT), then the input
/// (EBADF; ESPIPE for an explicit offset on a pipe), then the output (EBADF); the new
/// offset is stored back at the end (EFAULT if it cannot be).
pub fn sys_sendfile(out_fd: i32, in_fd: i32, offset_ptr: u64, count: usize) -> SysResult {
    let explicit = if offset_ptr != 0 {
        let mut b = [0u8; 8];
        copy_from_user(&mut b, offset_ptr)?;
        Some(i64::from_le_bytes(b))
    } else {
        None
    };
    let input = fdget(in_fd)?;
    if !input.readable() {
        return Err(Errno::EBADF);
    }
    if explicit.is_some() && input.inode.file_type() == FileType::Fifo {
        return Err(Errno::ESPIPE);
    }
    let start = match explicit {
        Some(pos) if pos < 0 => return Err(Errno::EINVAL),
        Some(pos) => pos as u64,
        None => *input.pos.lock(),
    };
    let output = fdget(out_fd)?;
    if !output.writable() {
        return Err(Errno::EBADF);
    }
    if !has_splice(&input) || !has_splice(&output) {
        return Err(Errno::EINVAL);
    }
    let count = count.min(MAX_RW_COUNT);
    let mut buf = alloc::vec::Vec::new();
    let size = SENDFILE_CHUNK.min(count);
    buf.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
    buf.resize(size, 0u8);
    let mut pos = start;
    let mut total = 0usize;
    let mut result = Ok(());
    while total < count {
        if total > 0 && interrupted() {
            break;
        }
        let want = buf.len().min(count - total);
        let n = match input
            .inode
            .read_iter(&input.kiocb(pos), &mut IovIter::kvec_dest(&mut buf[..want]))
        {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        let written = match output.write(&mut IovIter::kvec_source(&buf[..n])) {
            Ok(w) => w,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        total += written;
        pos += written as u64;
        if written < n {
            break;
        }
    }
    match explicit {
        Some(_) => copy_to_user(offset_ptr, &(pos as i64).to_le_bytes())?,
        None => *input.pos.lock() = pos,
    }
    match result {
        Err(e) if total == 0 => sigpipe_on_epipe(Err(e)),
        _ => Ok(total as u64),
    }
}

/// Whether `file` has Linux's splice operations, which sendfile goes through
/// (`do_splice_direct`): the anonymous inodes (eventfd, timerfd, signalfd, epoll, inotify,
/// whose `fstat` shows no file type) have none, so sendfile to or from them is EINVAL
/// (and `sendfile(efd, efd, …)` cannot turn into 2 GiB of 8-byte reads and writes).
fn has_splice(file: &File) -> bool {
    file.inode.stat().mode & mode::S_IFMT != 0
}

/// A copy loop stops between chunks once a signal is pending, returning what it copied
/// (Linux's splice loops check `signal_pending` the same way), so a long copy cannot keep
/// a task from SIGKILL.
fn interrupted() -> bool {
    crate::kernel::signal::signal_pending(crate::kernel::task::current())
}

/// Read a `loff_t` an optional user pointer names (copy_file_range's offsets).
fn read_offset(ptr: u64) -> Result<Option<i64>, Errno> {
    if ptr == 0 {
        return Ok(None);
    }
    let mut b = [0u8; 8];
    copy_from_user(&mut b, ptr)?;
    Ok(Some(i64::from_le_bytes(b)))
}

/// `copy_file_range(2)` (Linux's `vfs_copy_file_range` with the generic
/// `splice_file_range` fallback): copy between two regular files through a kernel buffer,
/// at the given offsets (which are updated) or the files' own. Linux's checks, in its
/// order: flags must be 0, both files regular (EISDIR for a directory, else EINVAL), the
/// input readable and the output writable without O_APPEND (EBADF), no overlap within one
/// file (EINVAL).
pub fn sys_copy_file_range(
    fd_in: i32,
    off_in: u64,
    fd_out: i32,
    off_out: u64,
    len: usize,
    flags: u32,
) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let input = fdget(fd_in)?;
    let output = fdget(fd_out)?;
    for file in [&input, &output] {
        if !has_splice(file) {
            return Err(Errno::EINVAL); // not S_ISREG: an anonymous inode
        }
        match file.inode.file_type() {
            FileType::Regular => {}
            FileType::Directory => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
    }
    if !input.readable() || !output.writable() || output.flags() & super::file::flags::O_APPEND != 0
    {
        return Err(Errno::EBADF);
    }
    let explicit_in = read_offset(off_in)?;
    let explicit_out = read_offset(off_out)?;
    let pos_in = explicit_in.unwrap_or(*input.pos.lock() as i64);
    let pos_out = explicit_out.unwrap_or(*output.pos.lock() as i64);
    if pos_in < 0 || pos_out < 0 {
        return Err(Errno::EINVAL);
    }
    let (mut pos_in, mut pos_out) = (pos_in as u64, pos_out as u64);
    let len = len.min(MAX_RW_COUNT);
    if Arc::ptr_eq(&input.inode, &output.inode)
        && pos_in < pos_out + len as u64
        && pos_out < pos_in + len as u64
    {
        return Err(Errno::EINVAL);
    }
    let mut buf = alloc::vec::Vec::new();
    let size = SENDFILE_CHUNK.min(len);
    buf.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
    buf.resize(size, 0u8);
    let mut total = 0usize;
    let mut result = Ok(());
    while total < len {
        if total > 0 && interrupted() {
            break;
        }
        let want = buf.len().min(len - total);
        let n = match input.inode.read_iter(
            &input.kiocb(pos_in),
            &mut IovIter::kvec_dest(&mut buf[..want]),
        ) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        let written = match output
            .inode
            .write_iter(&output.kiocb(pos_out), &mut IovIter::kvec_source(&buf[..n]))
        {
            Ok(w) => w,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        total += written;
        pos_in += written as u64;
        pos_out += written as u64;
        if written < n {
            break;
        }
    }
    match explicit_in {
        Some(_) => copy_to_user(off_in, &(pos_in as i64).to_le_bytes())?,
        None => *input.pos.lock() = pos_in,
    }
    match explicit_out {
        Some(_) => copy_to_user(off_out, &(pos_out as i64).to_le_bytes())?,
        None => *output.pos.lock() = pos_out,
    }
    match result {
        Err(e) if total == 0 => Err(e),
        _ => Ok(total as u64),
    }
}

/// `fadvise64(2)`: advice about a file's future use (Linux's `generic_fadvise`). The page
/// cache of a memory file system has nothing to read ahead or drop, so valid advice is
/// accepted and does nothing; a pipe is ESPIPE, unknown advice or a negative length EINVAL.
pub fn sys_fadvise64(fd: i32, _offset: i64, len: i64, advice: u32) -> SysResult {
    let file = fdget(fd)?;
    if file.inode.file_type() == FileType::Fifo {
        return Err(Errno::ESPIPE);
    }
    // POSIX_FADV_NORMAL .. POSIX_FADV_NOREUSE.
    if advice > 5 || len < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}
