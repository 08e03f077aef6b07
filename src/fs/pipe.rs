//! Pipes (Linux: `fs/pipe.c`).
//!
//! A 64 KiB ring between a read end and a write end. Reads block until there is data or no
//! writer is left (then they return 0, end of file); writes block until there is room, and
//! a write of at most `PIPE_BUF` bytes is never interleaved with another. Writing when no
//! reader is left fails with EPIPE (and `sys_write` sends SIGPIPE). A signal interrupts a
//! blocked read or write (ERESTARTSYS).
//!
//! A named FIFO (`mkfifo`) is the same ring behind a filesystem inode, with no ends open
//! until someone opens it: [`PipeInode::fifo_open`] is Linux's `fifo_open` (opening one end
//! waits for the other, O_RDWR never waits).

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
    /// Owner and group: the creator's filesystem IDs (Linux's `get_pipe_inode`).
    owner: (u32, u32),
    buf: SpinLock<VecDeque<u8>>,
    readers: AtomicUsize,
    writers: AtomicUsize,
    /// How many times a read end / a write end was opened, ever (Linux's `r_counter` and
    /// `w_counter`): a FIFO opened for reading waits for the write count to move, not for a
    /// writer to be there still when it wakes.
    read_opens: AtomicU64,
    write_opens: AtomicU64,
    /// Held by a FIFO open while it counts itself in and decides whether to wait for the
    /// other end (Linux's `pipe->mutex` in `fifo_open`).
    open_lock: SpinLock<()>,
    /// Readers wait here for data; writers for room; FIFO opens for the other end.
    wait: WaitQueueHead,
}

impl PipeInode {
    fn new(ends: usize) -> Arc<Self> {
        Arc::new(PipeInode {
            ino: NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed),
            owner: crate::kernel::cred::with_current_cred(|c| (c.fsuid, c.fsgid)),
            buf: SpinLock::new(VecDeque::new()),
            readers: AtomicUsize::new(ends),
            writers: AtomicUsize::new(ends),
            read_opens: AtomicU64::new(ends as u64),
            write_opens: AtomicU64::new(ends as u64),
            open_lock: SpinLock::new(()),
            wait: WaitQueueHead::new(),
        })
    }

    /// The ring behind a named FIFO, with no end open yet.
    pub fn new_fifo() -> Arc<Self> {
        Self::new(0)
    }

    fn space(&self) -> usize {
        PIPE_SIZE - self.buf.lock().len()
    }

    /// Open an end of a named FIFO (Linux's `fifo_open`): for reading, wait until a writer
    /// opens (unless O_NONBLOCK); for writing, wait until a reader opens (O_NONBLOCK with no
    /// reader: ENXIO); O_RDWR is both ends and never waits. A signal ends the wait with
    /// ERESTARTSYS, the end not opened. Every successful open is matched by a
    /// [`Inode::release`] with the same flags.
    pub fn fifo_open(&self, file_flags: u32) -> Result<(), Errno> {
        let nonblock = file_flags & flags::O_NONBLOCK != 0;
        let (mine, mine_opens, partners, partner_opens) = match file_flags & flags::O_ACCMODE {
            flags::O_RDONLY => (
                &self.readers,
                &self.read_opens,
                &self.writers,
                &self.write_opens,
            ),
            flags::O_WRONLY => (
                &self.writers,
                &self.write_opens,
                &self.readers,
                &self.read_opens,
            ),
            flags::O_RDWR => {
                let open = self.open_lock.lock();
                self.readers.fetch_add(1, Ordering::AcqRel);
                self.writers.fetch_add(1, Ordering::AcqRel);
                self.read_opens.fetch_add(1, Ordering::AcqRel);
                self.write_opens.fetch_add(1, Ordering::AcqRel);
                drop(open);
                self.wait.wake_up_all();
                super::select::poll_notify();
                return Ok(());
            }
            _ => return Err(Errno::EINVAL),
        };
        let open = self.open_lock.lock();
        let writing = file_flags & flags::O_ACCMODE == flags::O_WRONLY;
        if writing && nonblock && partners.load(Ordering::Acquire) == 0 {
            return Err(Errno::ENXIO);
        }
        mine.fetch_add(1, Ordering::AcqRel);
        mine_opens.fetch_add(1, Ordering::AcqRel);
        // Decided under the lock: a partner that opened before this point counts even if it
        // is gone by the time we would sleep (it cannot get past its own open until we let
        // go of the lock).
        // (A reader with O_NONBLOCK never waits; a writer with it has a reader, or left.)
        let must_wait = (writing || !nonblock) && partners.load(Ordering::Acquire) == 0;
        let seen = partner_opens.load(Ordering::Acquire);
        drop(open);
        self.wait.wake_up_all();
        super::select::poll_notify();
        if must_wait {
            let waited = self
                .wait
                .wait_event_interruptible(|| partner_opens.load(Ordering::Acquire) != seen);
            if let Err(e) = waited {
                self.release(file_flags);
                return Err(e);
            }
        }
        // The partner that woke us may still be deciding whether to wait for us: let it
        // finish (Linux holds the pipe mutex through `fifo_open`).
        drop(self.open_lock.lock());
        Ok(())
    }
}

impl Inode for PipeInode {
    fn stat(&self) -> Stat {
        Stat {
            ino: self.ino,
            mode: mode::S_IFIFO | 0o600,
            nlink: 1,
            uid: self.owner.0,
            gid: self.owner.1,
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
        super::select::poll_notify();
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
            super::select::poll_notify();
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
        let accmode = file_flags & flags::O_ACCMODE;
        if accmode != flags::O_RDONLY {
            self.writers.fetch_sub(1, Ordering::AcqRel);
        }
        if accmode != flags::O_WRONLY {
            self.readers.fetch_sub(1, Ordering::AcqRel);
        }
        self.wait.wake_up_all();
        super::select::poll_notify();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A new pipe: (read end, write end) (Linux's `create_pipe_files`). `extra` carries
/// O_NONBLOCK / O_CLOEXEC bits for both ends.
pub fn create_pipe(extra: u32) -> (Arc<File>, Arc<File>) {
    let pipe = PipeInode::new(1);
    let read = File::anonymous(pipe.clone(), flags::O_RDONLY | (extra & flags::O_NONBLOCK));
    let write = File::anonymous(pipe, flags::O_WRONLY | (extra & flags::O_NONBLOCK));
    (read, write)
}
