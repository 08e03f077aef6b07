//! The scheduler's system calls: CPU affinity, policy and priority (Linux:
//! `kernel/sched/syscalls.c`, `kernel/sched/core.c` before 6.10).
//!
//! Cradle runs every task on the boot CPU: the online mask is CPU 0 alone, and the only
//! scheduling class is the fair one (`SCHED_OTHER`, priority 0). So an affinity mask is
//! accepted if it names CPU 0, and reads back as CPU 0, which is what Linux reports on a
//! one-CPU machine (it keeps the mask a task asked for, but `sched_getaffinity` returns it
//! ANDed with the active CPUs).

use crate::arch::percpu::NR_CPUS;
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::pid::find_task_by_pid;

type SysResult = Result<u64, Errno>;

/// `sizeof(unsigned long)`: masks are arrays of longs.
const BYTES_PER_LONG: usize = 8;

/// Bytes in a kernel CPU mask (Linux's `cpumask_size()`: `NR_CPUS` bits in whole longs).
/// It is what `sched_getaffinity` returns.
pub const CPUMASK_SIZE: usize = NR_CPUS.div_ceil(64) * BYTES_PER_LONG;

/// Possible CPUs (Linux's `nr_cpu_ids`): only the boot CPU is brought up.
const NR_CPU_IDS: usize = 1;

/// The CPUs that run tasks (Linux's `cpu_active_mask`: here the online ones), as a
/// mask's bytes.
fn cpu_active_mask() -> [u8; CPUMASK_SIZE] {
    let mut mask = [0u8; CPUMASK_SIZE];
    let bits = crate::kernel::smp::cpu_online_mask().bits().to_le_bytes();
    let n = mask.len().min(bits.len());
    mask[..n].copy_from_slice(&bits[..n]);
    mask
}

/// `SCHED_OTHER`, the fair class: the policy of every task.
const SCHED_NORMAL: u64 = 0;
/// `SCHED_FIFO`.
const SCHED_FIFO: u64 = 1;
/// `SCHED_RR`.
const SCHED_RR: u64 = 2;
/// `SCHED_BATCH`.
const SCHED_BATCH: u64 = 3;
/// `SCHED_IDLE`.
const SCHED_IDLE: u64 = 5;
/// `SCHED_DEADLINE`.
const SCHED_DEADLINE: u64 = 6;
/// The highest real-time priority (Linux's `MAX_RT_PRIO - 1`).
const MAX_USER_RT_PRIO: u64 = 99;

/// Linux's `find_process_by_pid`: 0 is the caller; ESRCH if there is no such task.
fn check_pid(pid: i32) -> Result<(), Errno> {
    if pid == 0 || find_task_by_pid(pid).is_some() {
        Ok(())
    } else {
        Err(Errno::ESRCH)
    }
}

/// `sched_getaffinity(2)`: the raw call returns the bytes written (`min(len,
/// cpumask_size())`); glibc's wrapper turns that into 0 and zeroes the rest.
pub fn sys_sched_getaffinity(pid: i32, len: u32, user_mask_ptr: u64) -> SysResult {
    let len = len as usize;
    if len * 8 < NR_CPU_IDS || !len.is_multiple_of(BYTES_PER_LONG) {
        return Err(Errno::EINVAL);
    }
    check_pid(pid)?;
    let retlen = len.min(CPUMASK_SIZE);
    copy_to_user(user_mask_ptr, &cpu_active_mask()[..retlen])?;
    Ok(retlen as u64)
}

/// `sched_setaffinity(2)`: a mask shorter than the kernel's is zero-extended, a longer one
/// cut (Linux's `get_user_cpu_mask`); EINVAL if it names no active CPU.
pub fn sys_sched_setaffinity(pid: i32, len: u32, user_mask_ptr: u64) -> SysResult {
    let mut mask = [0u8; CPUMASK_SIZE];
    let len = (len as usize).min(CPUMASK_SIZE);
    copy_from_user(&mut mask[..len], user_mask_ptr)?;
    check_pid(pid)?;
    let active = cpu_active_mask();
    if !mask.iter().zip(active.iter()).any(|(m, a)| m & a != 0) {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// `sched_getscheduler(2)`: every task is `SCHED_OTHER`.
pub fn sys_sched_getscheduler(pid: i32) -> SysResult {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    check_pid(pid)?;
    Ok(SCHED_NORMAL)
}

/// `sched_getparam(2)`: `struct sched_param { int sched_priority; }`, 0 for the fair class.
pub fn sys_sched_getparam(pid: i32, param: u64) -> SysResult {
    if pid < 0 || param == 0 {
        return Err(Errno::EINVAL);
    }
    check_pid(pid)?;
    copy_to_user(param, &0i32.to_le_bytes())?;
    Ok(0)
}

/// `sched_get_priority_max(2)`.
pub fn sys_sched_get_priority_max(policy: i32) -> SysResult {
    match policy as u64 {
        SCHED_FIFO | SCHED_RR => Ok(MAX_USER_RT_PRIO),
        SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// `sched_get_priority_min(2)`.
pub fn sys_sched_get_priority_min(policy: i32) -> SysResult {
    match policy as u64 {
        SCHED_FIFO | SCHED_RR => Ok(1),
        SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}
