//! Pipes (Linux: `fs/pipe.c`).
//!
//! A 64 KiB ring between a read end and a write end. Reads block until there is data or no
//! writer is left (then they return 0, end of file); writes block until there is room, and
//! a write of at most `PIPE_BUF` bytes is never interleaved with another. Writing when no
//! reader is left fails with EPIPE (and `sys_write` sends SIGPIPE). A signal interrupts a
//! blocked read or write (ERESTARTSYS).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::file::{flags, File};
use super::inode::{mode, FileType, Inode, Stat};
use crate::kernel::errno::Errno;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::sync::SpinLock;

/// Writes up to this size are atomic (Linux's `PIPE_BUF`).
pub const PIPE_BUF: usize = 4096;
/// Capacity (Linux's default pipe size, 16 pages).
pub const PIPE_SIZE: usize = 65536;

static NEXT_PIPE_INO: AtomicU64 = AtomicU64::new(1 << 32);

/// The pipe itself, shared by its two ends.
pub struct PipeInode {
    ino: u64,
    buf: SpinLock<VecDeque<u8>>,
    readers: AtomicUsize,
    writers: AtomicUsize,
    /// Readers wait here for data; writers for room.
    wait: WaitQueueHead,
}

impl PipeInode {
    fn space(&self) -> usize {
        PIPE_SIZE - self.buf.lock().len()
    }
}

impl Inode for PipeInode {
    fn stat(&self) -> Stat {
        Stat {
            ino: self.ino,
            mode: mode::S_IFIFO | 0o600,
            nlink: 1,
            size: 0,
            dev: 0x0c,
            ..Stat::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Fifo
    }

    fn read_at(&self, _offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.wait.wait_event_interruptible(|| {
            !self.buf.lock().is_empty() || self.writers.load(Ordering::Acquire) == 0
        })?;
        let mut data = self.buf.lock();
        let n = buf.len().min(data.len());
        for (dst, src) in buf.iter_mut().zip(data.drain(..n)) {
            *dst = src;
        }
        drop(data);
        self.wait.wake_up_all();
        Ok(n)
    }

    fn write_at(&self, _offset: u64, buf: &[u8]) -> Result<usize, Errno> {
        let mut done = 0;
        while done < buf.len() {
            let want = if buf.len() - done <= PIPE_BUF {
                buf.len() - done
            } else {
                1
            };
            let waited = self.wait.wait_event_interruptible(|| {
                self.readers.load(Ordering::Acquire) == 0 || self.space() >= want
            });
            if let Err(e) = waited {
                // A signal: what was written stays written (Linux's `pipe_write`).
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            if self.readers.load(Ordering::Acquire) == 0 {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EPIPE)
                };
            }
            let mut data = self.buf.lock();
            let n = (PIPE_SIZE - data.len()).min(buf.len() - done);
            data.extend(&buf[done..done + n]);
            drop(data);
            done += n;
            self.wait.wake_up_all();
        }
        Ok(done)
    }

    fn poll_read_ready(&self) -> bool {
        !self.buf.lock().is_empty() || self.writers.load(Ordering::Acquire) == 0
    }

    fn poll_write_ready(&self) -> bool {
        // Linux's `pipe_poll`: writable when a PIPE_BUF write would fit, or will fail.
        self.readers.load(Ordering::Acquire) == 0 || self.space() >= PIPE_BUF
    }

    fn release(&self, file_flags: u32) {
        if file_flags & flags::O_ACCMODE == flags::O_WRONLY {
            self.writers.fetch_sub(1, Ordering::AcqRel);
        } else {
            self.readers.fetch_sub(1, Ordering::AcqRel);
        }
        self.wait.wake_up_all();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A new pipe: (read end, write end) (Linux's `create_pipe_files`). `extra` carries
/// O_NONBLOCK / O_CLOEXEC bits for both ends.
pub fn create_pipe(extra: u32) -> (Arc<File>, Arc<File>) {
    let pipe = Arc::new(PipeInode {
        ino: NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed),
        buf: SpinLock::new(VecDeque::new()),
        readers: AtomicUsize::new(1),
        writers: AtomicUsize::new(1),
        wait: WaitQueueHead::new(),
    });
    let read = File::anonymous(pipe.clone(), flags::O_RDONLY | (extra & flags::O_NONBLOCK));
    let write = File::anonymous(pipe, flags::O_WRONLY | (extra & flags::O_NONBLOCK));
    (read, write)
}
