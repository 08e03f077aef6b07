//! `ppoll(2)` and `pselect6(2)`, and sleeping in them until a file is ready (Linux:
//! `fs/select.c`). The signal mask argument is not applied yet.
//!
//! Linux puts a poller on the wait queue of every file it polls. Cradle keeps one queue
//! for all polls, with a generation count: whatever can make a polled file ready (a byte
//! from the console UART, data or room in a pipe, an end of a pipe closing, a FIFO
//! opening) calls [`poll_notify`], which moves the generation on and wakes the pollers;
//! each re-checks its files. A poller notes the generation before it checks, and sleeps
//! only while it is unchanged, so a change between the check and the sleep is not missed.
//! No tick wakes an idle poller: a shell waiting at its prompt sleeps until a key comes.

use core::sync::atomic::{AtomicU64, Ordering};

use super::file::fdget;
use super::inode::FileType;
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::signal::{signal_pending, ERESTARTNOHAND};
use crate::kernel::task::current;
use alloc::vec;
use alloc::vec::Vec;

static POLL_GENERATION: AtomicU64 = AtomicU64::new(0);
static POLL_WAIT: WaitQueueHead = WaitQueueHead::new();

/// Something a poller may be waiting for has changed: wake every poller to look again.
/// Callable from interrupt context.
pub fn poll_notify() {
    POLL_GENERATION.fetch_add(1, Ordering::AcqRel);
    POLL_WAIT.wake_up_all();
}

/// Wait until `ready` says something is ready (its count), the deadline passes (`None`:
/// forever; then 0), or a signal arrives (EINTR: poll and select are never restarted
/// after a handler, as on Linux with a timeout; Linux's ERESTARTNOHAND).
pub fn poll_wait(
    deadline_ns: Option<u64>,
    mut ready: impl FnMut() -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let tick_ns = 1_000_000_000 / crate::kernel::time::HZ;
    loop {
        let generation = POLL_GENERATION.load(Ordering::Acquire);
        let n = ready()?;
        if n > 0 {
            return Ok(n);
        }
        let now = crate::kernel::time::ktime_get_ns();
        if deadline_ns.is_some_and(|d| now >= d) {
            return Ok(0);
        }
        if signal_pending(current()) {
            return Err(ERESTARTNOHAND);
        }
        let changed = || POLL_GENERATION.load(Ordering::Acquire) != generation;
        let slept = match deadline_ns {
            None => POLL_WAIT.wait_event_interruptible(changed).map(|()| 1),
            Some(deadline) => POLL_WAIT
                .wait_event_interruptible_timeout(changed, (deadline - now).div_ceil(tick_ns)),
        };
        if slept.is_err() {
            return Err(ERESTARTNOHAND);
        }
    }
}

type SysResult = Result<u64, Errno>;

/// `poll` events (Linux's `include/uapi/asm-generic/poll.h`).
mod pollbits {
    pub const POLLIN: i16 = 0x001;
    pub const POLLOUT: i16 = 0x004;
    pub const POLLHUP: i16 = 0x010;
    pub const POLLNVAL: i16 = 0x020;
}

/// What a descriptor is ready for, of `events`.
fn poll_one(fd: i32, events: i16) -> i16 {
    use pollbits::*;
    if fd < 0 {
        return 0;
    }
    let Ok(file) = fdget(fd) else { return POLLNVAL };
    let mut revents = 0;
    if events & POLLIN != 0 && file.readable() && file.inode.poll_read_ready() {
        revents |= POLLIN;
    }
    if events & POLLOUT != 0 && file.writable() && file.inode.poll_write_ready() {
        revents |= POLLOUT;
    }
    if file.inode.file_type() == FileType::Fifo
        && file.readable()
        && file.inode.poll_read_ready()
        && revents & POLLIN == 0
    {
        revents |= POLLHUP;
    }
    revents
}

fn read_timeout(ptr: u64) -> Result<Option<u64>, Errno> {
    if ptr == 0 {
        return Ok(None);
    }
    let mut ts = [0u8; 16];
    copy_from_user(&mut ts, ptr)?;
    let sec = i64::from_le_bytes(ts[..8].try_into().unwrap_or([0; 8]));
    let nsec = i64::from_le_bytes(ts[8..].try_into().unwrap_or([0; 8]));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    let ns = (sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64);
    Ok(Some(crate::kernel::time::ktime_get_ns().saturating_add(ns)))
}

/// `ppoll(2)` (the signal mask argument is not applied yet).
pub fn sys_ppoll(fds: u64, nfds: usize, tmo: u64, _sigmask: u64, _sigsetsize: usize) -> SysResult {
    if nfds > NR_OPEN_LIMIT {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; nfds * 8];
    copy_from_user(&mut raw, fds)?;
    let deadline = read_timeout(tmo)?;
    let n = poll_wait(deadline, || {
        let mut count = 0;
        for entry in raw.chunks_mut(8) {
            let fd = i32::from_le_bytes(entry[0..4].try_into().unwrap_or([0; 4]));
            let events = i16::from_le_bytes([entry[4], entry[5]]);
            let revents = poll_one(fd, events);
            entry[6..8].copy_from_slice(&revents.to_le_bytes());
            if revents != 0 {
                count += 1;
            }
        }
        Ok(count)
    })?;
    copy_to_user(fds, &raw)?;
    Ok(n as u64)
}

const NR_OPEN_LIMIT: usize = super::file::NR_OPEN_DEFAULT;

/// `pselect6(2)`: read, write and except sets of `nfds` bits (the signal mask is not
/// applied yet).
pub fn sys_pselect6(
    nfds: usize,
    readfds: u64,
    writefds: u64,
    exceptfds: u64,
    tmo: u64,
    _sig: u64,
) -> SysResult {
    if nfds > NR_OPEN_LIMIT {
        return Err(Errno::EINVAL);
    }
    let bytes = nfds.div_ceil(64) * 8;
    let load = |ptr: u64| -> Result<Vec<u8>, Errno> {
        let mut v = vec![0u8; bytes];
        if ptr != 0 {
            copy_from_user(&mut v, ptr)?;
        }
        Ok(v)
    };
    let (rin, win) = (load(readfds)?, load(writefds)?);
    let deadline = read_timeout(tmo)?;
    let mut rout = vec![0u8; bytes];
    let mut wout = vec![0u8; bytes];
    let n = poll_wait(deadline, || {
        let mut count = 0;
        rout.fill(0);
        wout.fill(0);
        for fd in 0..nfds {
            let (byte, bit) = (fd / 8, 1u8 << (fd % 8));
            let r = rin[byte] & bit != 0;
            let w = win[byte] & bit != 0;
            if !r && !w {
                continue;
            }
            let revents = poll_one(
                fd as i32,
                (if r { pollbits::POLLIN } else { 0 }) | (if w { pollbits::POLLOUT } else { 0 }),
            );
            if revents & pollbits::POLLNVAL != 0 {
                return Err(Errno::EBADF);
            }
            if r && revents & (pollbits::POLLIN | pollbits::POLLHUP) != 0 {
                rout[byte] |= bit;
                count += 1;
            }
            if w && revents & pollbits::POLLOUT != 0 {
                wout[byte] |= bit;
                count += 1;
            }
        }
        Ok(count)
    })?;
    if readfds != 0 {
        copy_to_user(readfds, &rout)?;
    }
    if writefds != 0 {
        copy_to_user(writefds, &wout)?;
    }
    if exceptfds != 0 {
        copy_to_user(exceptfds, &vec![0u8; bytes])?;
    }
    Ok(n as u64)
}
