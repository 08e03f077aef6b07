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
//!
//! POSIX timers on these clocks live in `posix_timers.rs` (armed ones are checked by the
//! tick of the thread or process they measure); [`cpu_nanosleep`] is `clock_nanosleep` on
//! them.

use crate::kernel::errno::Errno;
use crate::kernel::pid::find_task_by_pid;
use crate::kernel::sched::cputime::{
    task_cputime, thread_group_cputime, CPUCLOCK_PROF, CPUCLOCK_SCHED, CPUCLOCK_VIRT,
};
use crate::kernel::task::{current, state, TaskRef};
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
    /// The thread (for a thread clock) or any thread of the process (its leader, for a
    /// clock found by [`timer_lookup`]).
    pub task: TaskRef,
    /// A thread's own clock rather than its process's.
    pub thread: bool,
    /// `CPUCLOCK_PROF`, `CPUCLOCK_VIRT` or `CPUCLOCK_SCHED`.
    pub which: usize,
}

impl CpuClock {
    /// Whether what it measures is still there (Linux's `cpu_timer_task_rcu` finding a
    /// task): a thread until it is released, a process until it is reaped (its leader
    /// stays, a zombie, while other threads run).
    pub fn alive(&self) -> bool {
        self.task.exit_state.load(Ordering::Acquire) != state::EXIT_DEAD
    }
}

/// The clock a timer or a sleep is on (Linux's `pid_for_clock(clock, false)`): as
/// [`lookup`], but a process clock must name a process (a thread's own ID is EINVAL, as it
/// is for no task), and names its leader.
pub fn timer_lookup(clock: i32) -> Result<CpuClock, Errno> {
    let mut c = lookup(clock)?;
    if !c.thread {
        let tgid = c.task.tgid.load(Ordering::Relaxed);
        if clock < 0 && !(clock >> 3) != 0 && !(clock >> 3) != tgid {
            return Err(Errno::EINVAL);
        }
        if !c.task.is_group_leader() {
            c.task = find_task_by_pid(tgid).ok_or(Errno::EINVAL)?;
        }
    }
    Ok(c)
}

/// Which sample of `t` the clock `which` reads.
pub fn pick(t: &crate::kernel::sched::cputime::Cputime, which: usize) -> u64 {
    match which {
        CPUCLOCK_PROF => t.utime + t.stime,
        CPUCLOCK_VIRT => t.utime,
        _ => t.sum_exec_runtime,
    }
}

/// `clock_nanosleep` on a CPU clock (Linux's `posix_cpu_nsleep`; the caller has read and
/// checked `req`): until the clock reaches `req` (TIMER_ABSTIME) or `req` from now. The
/// caller's own thread clock is EINVAL (another thread's may be slept on); a clock of no
/// task EINVAL (CLOCK_THREAD_CPUTIME_ID itself is the caller's EOPNOTSUPP). The sleeper looks at the clock every tick (Linux arms a CPU timer that
/// wakes it: the same time, to a tick). A signal ends it: relative, the CPU time left goes
/// to `rem` and `restart_syscall` sleeps on to the same CPU time; absolute, the call
/// restarts as it was (ERESTARTNOHAND).
pub fn cpu_nanosleep(clock: i32, absolute: bool, req: u64, rem: u64) -> Result<u64, Errno> {
    let me = current();
    if clock < 0 && clock & CPUCLOCK_PERTHREAD_MASK != 0 {
        let pid = !(clock >> 3);
        if pid == 0 || pid == me.pid() {
            return Err(Errno::EINVAL);
        }
    }
    let c = timer_lookup(clock)?;
    if !absolute {
        let deadline = sample(&c).saturating_add(req);
        return cpu_nanosleep_until(clock, &c, deadline, rem);
    }
    cpu_nanosleep_until(clock, &c, req, 0).map_err(|e| {
        if e == crate::kernel::signal::ERESTART_RESTARTBLOCK {
            crate::kernel::signal::ERESTARTNOHAND
        } else {
            e
        }
    })
}

/// `restart_syscall` of a relative CPU-clock sleep: on to the same CPU time (Linux's
/// `posix_cpu_nsleep_restart`).
pub fn cpu_nanosleep_restart(clock: i32, deadline: u64, rem: u64) -> Result<u64, Errno> {
    let c = timer_lookup(clock)?;
    cpu_nanosleep_until(clock, &c, deadline, rem)
}

fn cpu_nanosleep_until(clock: i32, c: &CpuClock, deadline: u64, rem: u64) -> Result<u64, Errno> {
    use crate::kernel::sched::core::set_current_state;
    use crate::kernel::task::state::{TASK_INTERRUPTIBLE, TASK_RUNNING};
    let task = current();
    loop {
        let now = sample(c);
        if now >= deadline {
            return Ok(0);
        }
        set_current_state(TASK_INTERRUPTIBLE);
        if crate::kernel::signal::signal_pending(task) {
            set_current_state(TASK_RUNNING);
            if rem != 0 {
                let left = deadline - now;
                let mut ts = [0u8; 16];
                ts[..8].copy_from_slice(&(left / 1_000_000_000).to_le_bytes());
                ts[8..].copy_from_slice(&(left % 1_000_000_000).to_le_bytes());
                crate::arch::uaccess::copy_to_user(rem, &ts)?;
            }
            crate::kernel::signal::set_restart_nanosleep(deadline, rem, Some(clock));
            return Err(crate::kernel::signal::ERESTART_RESTARTBLOCK);
        }
        crate::kernel::time::timer::schedule_timeout(1);
    }
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
    pick(&t, clock.which)
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
