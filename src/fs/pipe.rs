//! Pipes (Linux: `fs/pipe.c`).
//!
//! A ring of up to 16 page buffers (Linux's `pipe_buffer` array, `PIPE_DEF_BUFFERS`)
//! between a read end and a write end. Reads block until there is data or no writer is left
//! (then they return 0, end of file); writes block until a buffer is free, and a write of at
//! most `PIPE_BUF` bytes is never interleaved with another (it fills the tail of the last
//! buffer or one new buffer). Writing when no reader is left fails with EPIPE (and the
//! system call sends SIGPIPE). A signal interrupts a blocked read or write (ERESTARTSYS).
//!
//! Data is copied straight between the buffers and the caller's [`IovIter`], one buffer at a
//! time and under the pipe's mutex (the copy may fault a user page in, and sleep), with
//! Linux's rules for a copy that comes up short: a read takes nothing from a buffer it could
//! not copy whole (`pipe_read`); a write keeps nothing of a page it could not fill, unless
//! the data ran out (`pipe_write`). Either returns what it moved before, or EFAULT. So a bad
//! buffer never consumes data, and the counts are Linux's.
//!
//! A named FIFO (`mkfifo`) is the same ring behind a filesystem inode, with no ends open
//! until someone opens it: [`PipeInode::fifo_open`] is Linux's `fifo_open` (opening one end
//! waits for the other, O_RDWR never waits).
//!
//! `pipe2(2)` puts both ends in the caller's descriptor table, or neither.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::file::{flags, File};
use super::inode::{mode, FileType, Inode, Kiocb, Stat};
use crate::arch::uaccess::copy_to_user;
use crate::fs::iov_iter::{short_copy, IovIter};
use crate::fs::select::PollHead;
use crate::kernel::errno::Errno;
use crate::kernel::locking::mutex::Mutex;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::task::current;

/// Writes up to this size are atomic (Linux's `PIPE_BUF`).
pub const PIPE_BUF: usize = 4096;
/// The size of one buffer (a page).
const PIPE_PAGE: usize = 4096;
/// How many buffers a pipe holds (Linux's `PIPE_DEF_BUFFERS`): 64 KiB.
pub const PIPE_DEF_BUFFERS: usize = 16;

/// One page of a pipe's data (Linux's `struct pipe_buffer`): bytes
/// `page[offset..offset + len]` are unread.
struct PipeBuffer {
    page: Box<[u8]>,
    offset: usize,
    len: usize,
}

/// The buffers, oldest first, and a page kept from the last buffer emptied so that a
/// steady stream does not allocate (Linux's `pipe->tmp_page`).
struct PipeRing {
    bufs: VecDeque<PipeBuffer>,
    spare: Option<Box<[u8]>>,
}

impl PipeRing {
    /// A page for a new buffer: the spare, or a new one (None: out of memory).
    fn page(&mut self) -> Option<Box<[u8]>> {
        if let Some(page) = self.spare.take() {
            return Some(page);
        }
        let mut page = Vec::new();
        page.try_reserve_exact(PIPE_PAGE).ok()?;
        page.resize(PIPE_PAGE, 0u8);
        Some(page.into_boxed_slice())
    }
}

static NEXT_PIPE_INO: AtomicU64 = AtomicU64::new(1 << 32);

/// The pipe itself, shared by its two ends.
pub struct PipeInode {
    ino: u64,
    /// Owner and group: the creator's filesystem IDs (Linux's `get_pipe_inode`).
    owner: (u32, u32),
    /// The data. Held across copies to and from user memory (which may sleep), as Linux's
    /// `pipe->mutex`.
    ring: Mutex<PipeRing>,
    /// How many buffers are in use, for the wait conditions (written under `ring`).
    nbufs: AtomicUsize,
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
    /// epoll items watching the pipe; woken with `wait`.
    poll_head: PollHead,
}

impl PipeInode {
    fn new(ends: usize) -> Arc<Self> {
        Arc::new(PipeInode {
            ino: NEXT_PIPE_INO.fetch_add(1, Ordering::Relaxed),
            owner: crate::kernel::cred::with_current_cred(|c| (c.fsuid, c.fsgid)),
            ring: Mutex::new(PipeRing {
                bufs: VecDeque::new(),
                spare: None,
            }),
            nbufs: AtomicUsize::new(0),
            readers: AtomicUsize::new(ends),
            writers: AtomicUsize::new(ends),
            read_opens: AtomicU64::new(ends as u64),
            write_opens: AtomicU64::new(ends as u64),
            open_lock: SpinLock::new(()),
            wait: WaitQueueHead::new(),
            poll_head: PollHead::new(),
        })
    }

    /// The ring behind a named FIFO, with no end open yet.
    pub fn new_fifo() -> Arc<Self> {
        Self::new(0)
    }

    fn is_empty(&self) -> bool {
        self.nbufs.load(Ordering::Acquire) == 0
    }

    fn is_full(&self) -> bool {
        self.nbufs.load(Ordering::Acquire) >= PIPE_DEF_BUFFERS
    }

    /// Wake whoever waits for the other side.
    fn wake(&self) {
        self.wait.wake_up_all();
        self.poll_head.wake();
    }

    /// Take from the buffers into `to` (Linux's `pipe_read` loop, under the mutex): a
    /// buffer at a time, stopping at a copy that comes up short. Returns the bytes taken
    /// and whether a copy faulted.
    fn take(&self, to: &mut IovIter<'_>) -> (usize, bool) {
        let mut ring = self.ring.lock();
        let mut done = 0;
        while to.count() > 0 {
            let Some(buf) = ring.bufs.front_mut() else {
                break;
            };
            let chars = buf.len.min(to.count());
            let copied = to.copy_to_iter(&buf.page[buf.offset..buf.offset + chars]);
            if copied < chars {
                // Linux keeps the whole buffer: what was copied of it is not counted.
                return (done, true);
            }
            done += chars;
            buf.offset += chars;
            buf.len -= chars;
            if buf.len == 0 {
                if let Some(empty) = ring.bufs.pop_front() {
                    ring.spare = Some(empty.page);
                }
                self.nbufs.store(ring.bufs.len(), Ordering::Release);
            }
        }
        (done, false)
    }

    /// Put data from `from` into the buffers (Linux's `pipe_write`, under the mutex):
    /// first the part that is not a whole number of pages into the last buffer, if it
    /// fits, then a new buffer per page while there are free ones. Returns the bytes
    /// stored in all (`done` before this call) and whether a copy faulted, or the error for
    /// a write that stored nothing.
    fn put(&self, from: &mut IovIter<'_>, done: usize) -> Result<(usize, bool), Errno> {
        let mut ring = self.ring.lock();
        let mut done = done;
        let chars = from.count() % PIPE_PAGE;
        if done == 0 && chars != 0 {
            if let Some(last) = ring.bufs.back_mut() {
                let end = last.offset + last.len;
                if end + chars <= PIPE_PAGE {
                    let copied = from.copy_from_iter(&mut last.page[end..end + chars]);
                    if copied < chars {
                        return Err(Errno::EFAULT);
                    }
                    last.len += copied;
                    done += copied;
                    if from.count() == 0 {
                        return Ok((done, false));
                    }
                }
            }
        }
        while from.count() > 0 && ring.bufs.len() < PIPE_DEF_BUFFERS {
            let Some(mut page) = ring.page() else {
                return if done > 0 {
                    Ok((done, true))
                } else {
                    Err(Errno::ENOMEM)
                };
            };
            let want = from.count().min(PIPE_PAGE);
            let copied = from.copy_from_iter(&mut page[..want]);
            if copied < want {
                ring.spare = Some(page);
                return short_copy(done, 0, want).map(|n| (n, true));
            }
            ring.bufs.push_back(PipeBuffer {
                page,
                offset: 0,
                len: copied,
            });
            self.nbufs.store(ring.bufs.len(), Ordering::Release);
            done += copied;
        }
        Ok((done, false))
    }

    /// Open an end of a named FIFO (Linux's `fifo_open`): for reading, wait until a writer
    /// opens (unless O_NONBLOCK); for writing, wait until a reader opens (O_NONBLOCK with no
    /// reader: ENXIO); O_RDWR is both ends and never waits. A signal ends the wait with
    /// ERESTARTSYS, the end not opened. Every successful open is matched by a
    /// [`Inode::release`] with the same flags.
    pub fn fifo_open(&self, file_flags: u32) -> Result<(), Errno> {
        self.open_end(file_flags, false)
    }

    /// [`PipeInode::fifo_open`]'s work; `is_pipe` (an anonymous pipe opened by path, Linux's
    /// `is_pipe` for pipefs) never waits for the other end and is never ENXIO.
    fn open_end(&self, file_flags: u32, is_pipe: bool) -> Result<(), Errno> {
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
                self.poll_head.wake();
                return Ok(());
            }
            _ => return Err(Errno::EINVAL),
        };
        let open = self.open_lock.lock();
        let writing = file_flags & flags::O_ACCMODE == flags::O_WRONLY;
        if !is_pipe && writing && nonblock && partners.load(Ordering::Acquire) == 0 {
            return Err(Errno::ENXIO);
        }
        mine.fetch_add(1, Ordering::AcqRel);
        mine_opens.fetch_add(1, Ordering::AcqRel);
        // Decided under the lock: a partner that opened before this point counts even if it
        // is gone by the time we would sleep (it cannot get past its own open until we let
        // go of the lock).
        // (A reader with O_NONBLOCK never waits; a writer with it has a reader, or left.)
        let must_wait = !is_pipe && (writing || !nonblock) && partners.load(Ordering::Acquire) == 0;
        let seen = partner_opens.load(Ordering::Acquire);
        drop(open);
        self.wait.wake_up_all();
        self.poll_head.wake();
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

    fn read_iter(&self, iocb: &Kiocb, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        if to.count() == 0 {
            return Ok(0);
        }
        loop {
            let (done, faulted) = self.take(to);
            if done > 0 {
                self.wake();
                return Ok(done);
            }
            if faulted {
                return Err(Errno::EFAULT);
            }
            if self.writers.load(Ordering::Acquire) == 0 {
                return Ok(0);
            }
            if iocb.nonblock() {
                return Err(Errno::EAGAIN);
            }
            self.wait.wait_event_interruptible(|| {
                !self.is_empty() || self.writers.load(Ordering::Acquire) == 0
            })?;
        }
    }

    fn write_iter(&self, iocb: &Kiocb, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        if self.readers.load(Ordering::Acquire) == 0 {
            return Err(Errno::EPIPE);
        }
        if from.count() == 0 {
            return Ok(0);
        }
        let mut done = 0;
        loop {
            if self.readers.load(Ordering::Acquire) == 0 {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EPIPE)
                };
            }
            let (stored, stopped) = self.put(from, done)?;
            if stored > done {
                self.wake();
            }
            done = stored;
            if from.count() == 0 || stopped {
                // All written, or a copy faulted (or memory ran out) after `done` bytes.
                return Ok(done);
            }
            if iocb.nonblock() {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            let waited = self.wait.wait_event_interruptible(|| {
                self.readers.load(Ordering::Acquire) == 0 || !self.is_full()
            });
            if let Err(e) = waited {
                // A signal: what was written stays written (Linux's `pipe_write`).
                return if done > 0 { Ok(done) } else { Err(e) };
            }
        }
    }

    fn poll_read_ready(&self) -> bool {
        !self.is_empty() || self.writers.load(Ordering::Acquire) == 0
    }

    fn poll_write_ready(&self) -> bool {
        // Linux's `pipe_poll`: writable when a buffer is free, or a write will fail.
        self.readers.load(Ordering::Acquire) == 0 || !self.is_full()
    }

    /// Linux's `pipe_poll`: a read end sees data (POLLIN) and a gone writer (POLLHUP); a
    /// write end sees room (POLLOUT) and a gone reader (POLLERR).
    fn poll(&self, file_flags: u32) -> u32 {
        use crate::fs::select::pollbits::*;
        let accmode = file_flags & flags::O_ACCMODE;
        let mut mask = 0;
        if accmode != flags::O_WRONLY {
            if !self.is_empty() {
                mask |= POLLIN | POLLRDNORM;
            }
            if self.writers.load(Ordering::Acquire) == 0 {
                mask |= POLLHUP;
            }
        }
        if accmode != flags::O_RDONLY {
            if !self.is_full() {
                mask |= POLLOUT | POLLWRNORM;
            }
            if self.readers.load(Ordering::Acquire) == 0 {
                mask |= POLLERR;
            }
        }
        mask
    }

    fn with_poll_head(&self, f: &mut dyn FnMut(&PollHead)) -> bool {
        f(&self.poll_head);
        true
    }

    /// Opening a pipe by path (`/proc/<pid>/fd/N`, as bash's `>(...)` does through
    /// `/dev/fd`) adds an end, exactly as opening a FIFO does (Linux's pipefs inodes use
    /// `fifo_open` too); `pipe2`'s own ends are counted when the pipe is made.
    fn open(&self, file_flags: u32) -> Result<(), Errno> {
        if file_flags & flags::O_PATH != 0 {
            return Ok(());
        }
        self.open_end(file_flags, true)
    }

    fn release(&self, file_flags: u32) {
        if file_flags & flags::O_PATH != 0 {
            return;
        }
        let accmode = file_flags & flags::O_ACCMODE;
        if accmode != flags::O_RDONLY {
            self.writers.fetch_sub(1, Ordering::AcqRel);
        }
        if accmode != flags::O_WRONLY {
            self.readers.fetch_sub(1, Ordering::AcqRel);
        }
        self.wait.wake_up_all();
        self.poll_head.wake();
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

type SysResult = Result<u64, Errno>;

/// `pipe2(2)`.
pub fn sys_pipe2(fds: u64, pflags: u32) -> SysResult {
    if pflags & !(flags::O_CLOEXEC | flags::O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let (read, write) = create_pipe(pflags);
    let files = current().files()?;
    let cloexec = pflags & flags::O_CLOEXEC != 0;
    let (rfd, wfd) = {
        let mut table = files.lock();
        let rfd = table.alloc_fd(0, read, cloexec)?;
        match table.alloc_fd(0, write, cloexec) {
            Ok(wfd) => (rfd, wfd),
            Err(e) => {
                let _ = table.close(rfd);
                return Err(e);
            }
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&(rfd as i32).to_le_bytes());
    out[4..].copy_from_slice(&(wfd as i32).to_le_bytes());
    if let Err(e) = copy_to_user(fds, &out) {
        let mut table = files.lock();
        let _ = table.close(rfd);
        let _ = table.close(wfd);
        return Err(e);
    }
    Ok(0)
}
