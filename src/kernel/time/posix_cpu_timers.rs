//! The CPU-time clocks: `CLOCK_PROCESS_CPUTIME_ID`, `CLOCK_THREAD_CPUTIME_ID` and the
//! dynamic clock IDs of `clock_getcpuclockid`/`pthread_getcpuclockid` (Linux:
//! `kernel/time/posix-cpu-timers.c`, `include/linux/posix-timers.h`).
//!
//! A negative clock ID names a CPU clock of one process or thread: `~pid << 3`, bit 2 for
//! a thread's clock (`CPUCLOCK_PERTHREAD_MASK`), and in the low two bits which clock:
//! `CPUCLOCK_PROF` (user + system, sampled), `CPUCLOCK_VIRT` (user, sampled) or
//! `CPUCLOCK_SCHED` (the scheduler's precise runtime). PID 0 means the caller. A thread's
//! clock can only be read from its own process; a process's from anywhere. IDs whose low
//! three bits are `CLOCKFD` (3) are file-descriptor clocks (PTP devices), which Cradle
//! does not have. An ID naming no task, or a reserved clock, is EINVAL (glibc's
//! `clock_getcpuclockid` turns that into ESRCH).

use crate::kernel::errno::Errno;
use crate::kernel::pid::find_task_by_pid;
use crate::kernel::sched::cputime::{
    task_cputime, thread_group_cputime, CPUCLOCK_PROF, CPUCLOCK_SCHED, CPUCLOCK_VIRT,
};
use crate::kernel::task::{current, TaskRef};
use core::sync::atomic::Ordering;

/// `CLOCK_PROCESS_CPUTIME_ID`: the caller's process, precise (`MAKE_PROCESS_CPUCLOCK(0,
/// CPUCLOCK_SCHED)` in effect).
pub const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
/// `CLOCK_THREAD_CPUTIME_ID`: the calling thread.
pub const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
/// The bit of a dynamic CPU clock ID that names a thread rather than a process.
const CPUCLOCK_PERTHREAD_MASK: i32 = 4;
/// The bits of a dynamic CPU clock ID that say which clock.
const CPUCLOCK_CLOCK_MASK: i32 = 3;
/// The low bits of a file-descriptor clock ID (Linux's `CLOCKFD`).
const CLOCKFD: i32 = 3;
/// How many CPU clocks there are (`CPUCLOCK_MAX`): 3 is reserved.
const CPUCLOCK_MAX: usize = 3;

/// A CPU clock: whose, and which.
pub struct CpuClock {
    /// The thread (for a thread clock) or any thread of the process.
    task: TaskRef,
    /// A thread's own clock rather than its process's.
    thread: bool,
    /// `CPUCLOCK_PROF`, `CPUCLOCK_VIRT` or `CPUCLOCK_SCHED`.
    which: usize,
}

/// True if `clock` is a CPU-time clock ID (the two fixed ones or a dynamic one).
pub fn is_cpu_clock(clock: i32) -> bool {
    clock == CLOCK_PROCESS_CPUTIME_ID
        || clock == CLOCK_THREAD_CPUTIME_ID
        || (clock < 0 && clock & 7 != CLOCKFD)
}

/// The clock an ID names (Linux's `clockid_to_kclock` + `pid_for_clock`), or EINVAL.
pub fn lookup(clock: i32) -> Result<CpuClock, Errno> {
    let me = current();
    match clock {
        CLOCK_PROCESS_CPUTIME_ID => {
            return Ok(CpuClock {
                task: me.get_ref(),
                thread: false,
                which: CPUCLOCK_SCHED,
            })
        }
        CLOCK_THREAD_CPUTIME_ID => {
            return Ok(CpuClock {
                task: me.get_ref(),
                thread: true,
                which: CPUCLOCK_SCHED,
            })
        }
        c if c >= 0 || c & 7 == CLOCKFD => return Err(Errno::EINVAL),
        _ => {}
    }
    let which = (clock & CPUCLOCK_CLOCK_MASK) as usize;
    let thread = clock & CPUCLOCK_PERTHREAD_MASK != 0;
    if which >= CPUCLOCK_MAX {
        return Err(Errno::EINVAL);
    }
    // CPUCLOCK_PID: the ID is ~pid << 3.
    let pid = !(clock >> 3);
    let task = if pid == 0 {
        me.get_ref()
    } else {
        let task = find_task_by_pid(pid).ok_or(Errno::EINVAL)?;
        let my_tgid = me.tgid.load(Ordering::Relaxed);
        if thread {
            // Only threads of the caller's own process.
            if task.tgid.load(Ordering::Relaxed) != my_tgid {
                return Err(Errno::EINVAL);
            }
        } else if !task.is_group_leader() && pid != me.pid() {
            // A process clock needs a process ID; the caller's own TID names its process
            // for clock_gettime too.
            return Err(Errno::EINVAL);
        }
        task
    };
    Ok(CpuClock {
        task,
        thread,
        which,
    })
}

/// The clock's time now, nanoseconds (Linux's `cpu_clock_sample` and
/// `cpu_clock_sample_group`: the sampled times for PROF and VIRT, the precise runtime for
/// SCHED).
pub fn sample(clock: &CpuClock) -> u64 {
    let t = if clock.thread {
        task_cputime(&clock.task)
    } else {
        thread_group_cputime(clock.task.signal()).0
    };
    match clock.which {
        CPUCLOCK_PROF => t.utime + t.stime,
        CPUCLOCK_VIRT => t.utime,
        _ => t.sum_exec_runtime,
    }
}

/// The clock's resolution, nanoseconds (Linux's `posix_cpu_clock_getres`): 1 for the
/// precise clock, a tick rounded up for the sampled ones.
pub fn resolution(clock: &CpuClock) -> u64 {
    if clock.which == CPUCLOCK_SCHED {
        1
    } else {
        1_000_000_000u64.div_ceil(crate::kernel::time::HZ)
    }
}
