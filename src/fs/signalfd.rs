//! signalfd: reading one's own pending signals from a file, `signalfd4(2)` (Linux:
//! `fs/signalfd.c`).
//!
//! A signalfd holds a signal mask (never SIGKILL or SIGSTOP). A read takes signals of the
//! mask pending for the *reader* (its own, then its process's, lowest number first) off the
//! pending sets, as `sigtimedwait` does, and returns one 128-byte `struct signalfd_siginfo`
//! per signal, as many as fit (EINVAL for a buffer under 128 bytes); with none pending it
//! waits, or fails with EAGAIN under O_NONBLOCK. The file is readable (POLLIN) while such a
//! signal is pending for the poller. `signalfd4` on an existing signalfd replaces its mask.
//!
//! Every sent signal calls [`signalfd_notify`] (Linux wakes `sighand->signalfd_wqh`), which,
//! while any signalfd exists, wakes the readers and pollers of all of them; each checks its
//! own task's pending set again.

use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::anon_inodes::{anon_inode_getfd, AnonStat};
use super::file::{fdget, flags};
use super::inode::{Inode, Kiocb, Stat};
use super::iov_iter::IovIter;
use super::select::{pollbits, PollHead};
use crate::arch::uaccess::copy_from_user;
use crate::kernel::errno::Errno;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::signal::{bit, dequeue_signal, pending_of, sig, KernelSigInfo};
use crate::kernel::task::current;

const SFD_FLAGS: u32 = flags::O_CLOEXEC | flags::O_NONBLOCK;
/// `sizeof(struct signalfd_siginfo)`.
const SIGINFO_SIZE: usize = 128;

/// Readers of every signalfd wait here; pollers hang on [`SIGNALFD_POLL`].
static SIGNALFD_WAIT: WaitQueueHead = WaitQueueHead::new();
static SIGNALFD_POLL: PollHead = PollHead::new();
/// How many signalfds exist: while none, sending a signal wakes nothing here.
static NR_SIGNALFDS: AtomicUsize = AtomicUsize::new(0);

/// A signal was queued for some task: wake the signalfds' readers and pollers.
pub fn signalfd_notify() {
    if NR_SIGNALFDS.load(Ordering::Acquire) == 0 {
        return;
    }
    SIGNALFD_WAIT.wake_up_all();
    SIGNALFD_POLL.wake();
}

/// A signalfd (Linux's `struct signalfd_ctx`).
pub struct SignalFd {
    /// The signals it reads.
    mask: AtomicU64,
    stat: AnonStat,
}

impl SignalFd {
    fn pending_for_current(&self) -> bool {
        pending_of(current()) & self.mask.load(Ordering::Acquire) != 0
    }
}

/// Linux's `signalfd_copyinfo`: `struct signalfd_siginfo` (signo, errno, code, pid, uid,
/// fd, tid, band, overrun, trapno, status, int at 0..48, ptr at 48, utime, stime, addr).
fn signalfd_siginfo(info: &KernelSigInfo) -> [u8; SIGINFO_SIZE] {
    let mut b = [0u8; SIGINFO_SIZE];
    b[0..4].copy_from_slice(&(info.signo as u32).to_le_bytes());
    b[8..12].copy_from_slice(&info.code.to_le_bytes());
    if info.code == crate::kernel::signal::si::SI_TIMER {
        b[24..28].copy_from_slice(&(info.timerid as u32).to_le_bytes());
        b[32..36].copy_from_slice(&(info.overrun as u32).to_le_bytes());
        b[44..48].copy_from_slice(&(info.value as u32).to_le_bytes());
        b[48..56].copy_from_slice(&info.value.to_le_bytes());
        return b;
    }
    b[12..16].copy_from_slice(&(info.pid as u32).to_le_bytes());
    b[16..20].copy_from_slice(&info.uid.to_le_bytes());
    if info.is_chld() {
        b[40..44].copy_from_slice(&info.status.to_le_bytes());
    } else if info.code < 0 {
        b[44..48].copy_from_slice(&(info.value as u32).to_le_bytes());
        b[48..56].copy_from_slice(&info.value.to_le_bytes());
    }
    b
}

impl Inode for SignalFd {
    fn stat(&self) -> Stat {
        self.stat.stat()
    }

    /// Linux's `signalfd_read_iter`.
    fn read_iter(&self, iocb: &Kiocb, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        let room = to.count() / SIGINFO_SIZE;
        if room == 0 {
            return Err(Errno::EINVAL);
        }
        let task = current();
        let mut done = 0;
        while done < room {
            let mask = self.mask.load(Ordering::Acquire);
            let Some(info) = dequeue_signal(task, mask) else {
                if done > 0 {
                    break;
                }
                if iocb.nonblock() {
                    return Err(Errno::EAGAIN);
                }
                SIGNALFD_WAIT.wait_event_interruptible(|| self.pending_for_current())?;
                continue;
            };
            if to.copy_to_iter(&signalfd_siginfo(&info)) != SIGINFO_SIZE {
                // Linux's signalfd_read_iter: the signal taken is lost with the copy.
                return if done > 0 {
                    Ok(done * SIGINFO_SIZE)
                } else {
                    Err(Errno::EFAULT)
                };
            }
            done += 1;
        }
        Ok(done * SIGINFO_SIZE)
    }

    fn write_iter(&self, _iocb: &Kiocb, _from: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    /// O_NONBLOCK is decided in `read_iter` (after the size check).
    fn poll_read_ready(&self) -> bool {
        true
    }

    /// Linux's `signalfd_poll`: readable while a signal of the mask is pending for the
    /// caller.
    fn poll(&self, _file_flags: u32) -> u32 {
        if self.pending_for_current() {
            pollbits::POLLIN | pollbits::POLLRDNORM
        } else {
            0
        }
    }

    /// Linux's `signalfd_show_fdinfo` (`render_sigset_t`: the set in hex, highest signal
    /// first).
    fn show_fdinfo(&self, out: &mut alloc::string::String) {
        use core::fmt::Write;
        let _ = writeln!(out, "sigmask:\t{:016x}", self.mask.load(Ordering::Acquire));
    }

    fn with_poll_head(&self, f: &mut dyn FnMut(&PollHead)) -> bool {
        f(&SIGNALFD_POLL);
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for SignalFd {
    fn drop(&mut self) {
        NR_SIGNALFDS.fetch_sub(1, Ordering::AcqRel);
    }
}

/// `signalfd4(2)`: a new signalfd for `fd == -1`, else a new mask for the signalfd `fd`.
pub fn sys_signalfd4(fd: i32, mask: u64, sizemask: usize, sflags: i32) -> Result<u64, Errno> {
    let sflags = sflags as u32;
    if sflags & !SFD_FLAGS != 0 || sizemask != 8 {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; 8];
    copy_from_user(&mut raw, mask)?;
    let mask = u64::from_le_bytes(raw) & !(bit(sig::SIGKILL) | bit(sig::SIGSTOP));
    if fd == -1 {
        NR_SIGNALFDS.fetch_add(1, Ordering::AcqRel);
        let sfd = Arc::new(SignalFd {
            mask: AtomicU64::new(mask),
            stat: AnonStat::new(),
        });
        return anon_inode_getfd("[signalfd]", sfd, sflags);
    }
    let file = fdget(fd)?;
    let sfd = file
        .inode
        .as_any()
        .downcast_ref::<SignalFd>()
        .ok_or(Errno::EINVAL)?;
    sfd.mask.store(mask, Ordering::Release);
    SIGNALFD_WAIT.wake_up_all();
    SIGNALFD_POLL.wake();
    Ok(fd as u64)
}
