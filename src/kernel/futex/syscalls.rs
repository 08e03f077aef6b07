//! The `futex`, `set_robust_list` and `get_robust_list` system calls (Linux:
//! `kernel/futex/syscalls.c`).

use core::sync::atomic::Ordering;

use super::core::ROBUST_LIST_HEAD_SIZE;
use super::requeue::futex_requeue;
use super::waitwake::{futex_wait, futex_wake, futex_wake_op};
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::Errno;
use crate::kernel::task::current;
use crate::kernel::time::ktime_get_ns;

/// Futex operations and flags (`uapi/linux/futex.h`).
pub mod op {
    /// Sleep while the word holds a value.
    pub const FUTEX_WAIT: u32 = 0;
    /// Wake sleepers.
    pub const FUTEX_WAKE: u32 = 1;
    /// Wake some, move others to a second futex.
    pub const FUTEX_REQUEUE: u32 = 3;
    /// As REQUEUE, if the word still holds a value.
    pub const FUTEX_CMP_REQUEUE: u32 = 4;
    /// Change a second word and wake on both.
    pub const FUTEX_WAKE_OP: u32 = 5;
    /// FUTEX_WAIT with a bitset and an absolute timeout.
    pub const FUTEX_WAIT_BITSET: u32 = 9;
    /// FUTEX_WAKE with a bitset.
    pub const FUTEX_WAKE_BITSET: u32 = 10;
    /// The futex is in this process only.
    pub const FUTEX_PRIVATE_FLAG: u32 = 128;
    /// The timeout is on CLOCK_REALTIME.
    pub const FUTEX_CLOCK_REALTIME: u32 = 256;
    /// Matches every bitset.
    pub const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;
}

use op::*;

/// `futex(2)`: `uaddr`, `op`, `val`, `utime` (a timeout, or `val2` for the requeue and
/// wake-op commands), `uaddr2`, `val3`. The PI commands are not supported (ENOSYS).
pub fn sys_futex(
    uaddr: u64,
    futex_op: u32,
    val: u32,
    utime: u64,
    uaddr2: u64,
    val3: u32,
) -> Result<u64, Errno> {
    let cmd = futex_op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let private = futex_op & FUTEX_PRIVATE_FLAG != 0;
    if futex_op & FUTEX_CLOCK_REALTIME != 0 && cmd != FUTEX_WAIT_BITSET {
        return Err(Errno::ENOSYS);
    }
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT {
                FUTEX_BITSET_MATCH_ANY
            } else {
                val3
            };
            let deadline = if utime != 0 {
                let ns = crate::kernel::time::get_timespec_ns(utime)?;
                // FUTEX_WAIT's timeout is relative; FUTEX_WAIT_BITSET's absolute, on
                // CLOCK_MONOTONIC, or on CLOCK_REALTIME (turned into monotonic time, so a
                // later settimeofday does not move it: Linux's hrtimer would follow it).
                Some(if cmd == FUTEX_WAIT {
                    ktime_get_ns().saturating_add(ns)
                } else if futex_op & FUTEX_CLOCK_REALTIME != 0 {
                    crate::kernel::time::timekeeping::real_to_monotonic_ns(ns)
                } else {
                    ns
                })
            } else {
                None
            };
            futex_wait(uaddr, private, val, deadline, bitset)
        }
        FUTEX_WAKE => futex_wake(uaddr, private, val as i32, FUTEX_BITSET_MATCH_ANY),
        FUTEX_WAKE_BITSET => futex_wake(uaddr, private, val as i32, val3),
        FUTEX_REQUEUE => futex_requeue(uaddr, private, uaddr2, val as i32, utime as i32, None),
        FUTEX_CMP_REQUEUE => {
            futex_requeue(uaddr, private, uaddr2, val as i32, utime as i32, Some(val3))
        }
        FUTEX_WAKE_OP => futex_wake_op(uaddr, private, uaddr2, val as i32, utime as i32, val3),
        _ => Err(Errno::ENOSYS),
    }
}

/// `set_robust_list(2)`: where the calling thread's list of held robust futexes starts.
pub fn sys_set_robust_list(head: u64, len: usize) -> Result<u64, Errno> {
    if len as u64 != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    current().robust_list.store(head, Ordering::Release);
    Ok(0)
}

/// `get_robust_list(2)`: a thread's robust list head (pid 0: the caller's).
pub fn sys_get_robust_list(pid: i32, head_ptr: u64, len_ptr: u64) -> Result<u64, Errno> {
    let head = if pid == 0 {
        current().robust_list.load(Ordering::Acquire)
    } else {
        let task = crate::kernel::pid::find_task_by_pid(pid).ok_or(Errno::ESRCH)?;
        task.robust_list.load(Ordering::Acquire)
    };
    copy_to_user(len_ptr, &ROBUST_LIST_HEAD_SIZE.to_le_bytes())?;
    copy_to_user(head_ptr, &head.to_le_bytes())?;
    Ok(0)
}
