//! The scheduler's system calls: CPU affinity, policy and priority (Linux:
//! `kernel/sched/syscalls.c`, `kernel/sched/core.c` before 6.10).
//!
//! A task keeps the affinity mask it was given (cut to the possible CPUs);
//! `sched_getaffinity` returns it ANDed with the CPUs that run tasks, as Linux does. The only
//! scheduling class is the fair one (`SCHED_OTHER`, priority 0).

use crate::arch::percpu::NR_CPUS;
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::capability::CAP_SYS_NICE;
use crate::kernel::cred::{current_cred, task_cred};
use crate::kernel::errno::Errno;
use crate::kernel::pid::find_task_by_pid;
use crate::kernel::sched::core::{set_cpus_allowed_ptr, task_cpus_allowed};
use crate::kernel::smp::{cpu_online_mask, cpu_possible_mask, CpuMask};
use crate::kernel::task::{current, TaskRef, PF_NO_SETAFFINITY};

type SysResult = Result<u64, Errno>;

/// `sizeof(unsigned long)`: masks are arrays of longs.
const BYTES_PER_LONG: usize = 8;

/// Bytes in a kernel CPU mask (Linux's `cpumask_size()`: `NR_CPUS` bits in whole longs).
/// It is what `sched_getaffinity` returns.
pub const CPUMASK_SIZE: usize = NR_CPUS.div_ceil(64) * BYTES_PER_LONG;

/// One more than the highest possible CPU (Linux's `nr_cpu_ids`).
pub fn nr_cpu_ids() -> usize {
    let possible = cpu_possible_mask().bits();
    64 - possible.leading_zeros() as usize
}

/// The CPUs that run tasks (Linux's `cpu_active_mask`: the online ones here).
fn cpu_active_mask() -> CpuMask {
    cpu_online_mask()
}

/// Linux's `find_process_by_pid`: 0 is the caller; ESRCH if there is no such task.
fn find_process_by_pid(pid: i32) -> Result<TaskRef, Errno> {
    if pid == 0 {
        Ok(current().get_ref())
    } else if pid < 0 {
        Err(Errno::ESRCH)
    } else {
        find_task_by_pid(pid).ok_or(Errno::ESRCH)
    }
}

fn check_pid(pid: i32) -> Result<(), Errno> {
    find_process_by_pid(pid).map(|_| ())
}

/// `sched_getaffinity(2)`: the raw call returns the bytes written (`min(len,
/// cpumask_size())`); glibc's wrapper turns that into 0 and zeroes the rest.
pub fn sys_sched_getaffinity(pid: i32, len: u32, user_mask_ptr: u64) -> SysResult {
    let len = len as usize;
    if len * 8 < nr_cpu_ids() || !len.is_multiple_of(BYTES_PER_LONG) {
        return Err(Errno::EINVAL);
    }
    let task = find_process_by_pid(pid)?;
    let mask = task_cpus_allowed(&task).and(cpu_active_mask());
    let mut bytes = [0u8; CPUMASK_SIZE];
    bytes[..8].copy_from_slice(&mask.bits().to_le_bytes());
    let retlen = len.min(CPUMASK_SIZE);
    copy_to_user(user_mask_ptr, &bytes[..retlen])?;
    Ok(retlen as u64)
}

/// `sched_setaffinity(2)`: a mask shorter than the kernel's is zero-extended, a longer one
/// cut (Linux's `get_user_cpu_mask`); EPERM unless the caller owns the task (its effective
/// UID is the task's real or effective UID, Linux's `check_same_owner`) or has
/// CAP_SYS_NICE; EINVAL for a per-CPU kernel thread or a mask with no active CPU.
pub fn sys_sched_setaffinity(pid: i32, len: u32, user_mask_ptr: u64) -> SysResult {
    let mut bytes = [0u8; CPUMASK_SIZE];
    let len = (len as usize).min(CPUMASK_SIZE);
    copy_from_user(&mut bytes[..len], user_mask_ptr)?;
    let task = find_process_by_pid(pid)?;
    if task.flags.load(core::sync::atomic::Ordering::Relaxed) & PF_NO_SETAFFINITY != 0 {
        return Err(Errno::EINVAL);
    }
    let cred = current_cred();
    let tcred = task_cred(&task);
    if cred.euid != tcred.euid && cred.euid != tcred.uid && !cred.has_cap(CAP_SYS_NICE) {
        return Err(Errno::EPERM);
    }
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    let mask = CpuMask::from_bits(u64::from_le_bytes(word)).and(cpu_possible_mask());
    if mask.and(cpu_active_mask()).is_empty() {
        return Err(Errno::EINVAL);
    }
    set_cpus_allowed_ptr(&task, mask)?;
    Ok(0)
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
