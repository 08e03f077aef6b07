//! The scheduler's system calls: CPU affinity, policy and priority (Linux:
//! `kernel/sched/syscalls.c`, `kernel/sched/core.c` before 6.10).
//!
//! A task keeps the affinity mask it was given (cut to the possible CPUs);
//! `sched_getaffinity` returns it ANDed with the CPUs that run tasks, as Linux does.
//!
//! Policies and nice values are Linux's, with Linux's permission rules (CAP_SYS_NICE,
//! RLIMIT_NICE, RLIMIT_RTPRIO, same owner, `SCHED_RESET_ON_FORK`). The only scheduling class
//! is the fair one: `SCHED_NORMAL`, `SCHED_BATCH` and `SCHED_IDLE` are scheduled as Linux's
//! CFS schedules them (weights from the nice value; `SCHED_IDLE` weighs 3; batch and idle
//! tasks do not preempt on wake-up). `SCHED_FIFO`/`SCHED_RR` are accepted from whoever Linux
//! accepts them from and reported back, but such a task is still scheduled by CFS at its
//! nice value's weight: there is no real-time class.

use crate::arch::percpu::NR_CPUS;
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::capability::CAP_SYS_NICE;
use crate::kernel::cred::{current_cred, task_cred};
use crate::kernel::errno::Errno;
use crate::kernel::pid::find_task_by_pid;
use crate::kernel::sched::core::{
    set_cpus_allowed_ptr, set_load_weight, task_cpus_allowed, task_nice,
};
use crate::kernel::smp::{cpu_online_mask, cpu_possible_mask, CpuMask};
use crate::kernel::task::{current, TaskRef, PF_NO_SETAFFINITY};
use core::sync::atomic::Ordering;

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

/// `SCHED_NORMAL` (`SCHED_OTHER`), the fair class.
pub const SCHED_NORMAL: u32 = 0;
/// `SCHED_FIFO`.
pub const SCHED_FIFO: u32 = 1;
/// `SCHED_RR`.
pub const SCHED_RR: u32 = 2;
/// `SCHED_BATCH`: fair, but never preempts on wake-up.
pub const SCHED_BATCH: u32 = 3;
/// `SCHED_IDLE`: fair, with the least weight there is.
pub const SCHED_IDLE: u32 = 5;
/// `SCHED_DEADLINE`.
pub const SCHED_DEADLINE: u32 = 6;
/// OR-ed into a policy: children start with the default policy and no negative nice.
pub const SCHED_RESET_ON_FORK: u32 = 0x4000_0000;
/// The highest real-time priority (Linux's `MAX_RT_PRIO - 1`).
const MAX_USER_RT_PRIO: u32 = 99;
/// `sched_attr.sched_flags` bits (Linux's `SCHED_FLAG_*`).
const SCHED_FLAG_RESET_ON_FORK: u64 = 0x01;
const SCHED_FLAG_KEEP_POLICY: u64 = 0x08;
const SCHED_FLAG_KEEP_PARAMS: u64 = 0x10;
const SCHED_FLAG_UTIL_CLAMP: u64 = 0x20 | 0x40;
const SCHED_FLAG_ALL: u64 = 0x7f;
const SCHED_FLAG_SUGOV: u64 = 0x1000_0000;
/// `struct sched_attr` sizes: the first published one and today's.
const SCHED_ATTR_SIZE_VER0: usize = 48;
const SCHED_ATTR_SIZE_VER1: usize = 56;
/// `sched_setparam`'s "keep the policy" (Linux's `SETPARAM_POLICY`).
const SETPARAM_POLICY: i32 = -1;
/// `SCHED_RR`'s time slice (Linux's `sched_rr_timeslice`, 100 ms).
const RR_TIMESLICE_NS: u64 = 100_000_000;
/// The smallest nice value, and the largest.
pub const MIN_NICE: i32 = -20;
/// The largest nice value.
pub const MAX_NICE: i32 = 19;

fn valid_policy(policy: u32) -> bool {
    matches!(
        policy,
        SCHED_NORMAL | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE
    )
}

fn rt_policy(policy: u32) -> bool {
    policy == SCHED_FIFO || policy == SCHED_RR
}

fn fair_policy(policy: u32) -> bool {
    matches!(policy, SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE)
}

/// May `task` be given `nice` (Linux's `can_nice`)? Its RLIMIT_NICE allows `20 - nice`, or
/// the caller has CAP_SYS_NICE.
pub fn can_nice(task: &TaskRef, nice: i32) -> bool {
    let nice_rlim = (20 - nice) as u64;
    nice_rlim <= crate::kernel::sys::task_rlimit(task, crate::kernel::sys::RLIMIT_NICE)
        || current_cred().has_cap(CAP_SYS_NICE)
}

/// Set `task`'s nice value (Linux's `set_user_nice`): the weight changes for the fair
/// policies; a real-time task keeps it for when it goes back to one.
pub fn set_user_nice(task: &TaskRef, nice: i32) {
    if !(MIN_NICE..=MAX_NICE).contains(&nice) || task_nice(task) == nice {
        return;
    }
    task.static_prio.store(120 + nice, Ordering::Relaxed);
    if fair_policy(task.policy.load(Ordering::Relaxed)) {
        set_load_weight(task);
    }
}

/// The caller's effective UID is `task`'s real or effective UID (Linux's
/// `check_same_owner`).
fn check_same_owner(task: &TaskRef) -> bool {
    let cred = current_cred();
    let tcred = task_cred(task);
    cred.euid == tcred.euid || cred.euid == tcred.uid
}

/// `struct sched_attr`, as the kernel keeps it.
#[derive(Clone, Copy, Default)]
struct SchedAttr {
    size: u32,
    policy: i32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
    util_min: u32,
    util_max: u32,
}

impl SchedAttr {
    fn from_bytes(b: &[u8; SCHED_ATTR_SIZE_VER1]) -> Self {
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| u64::from(u32_at(o)) | (u64::from(u32_at(o + 4)) << 32);
        Self {
            size: u32_at(0),
            policy: u32_at(4) as i32,
            flags: u64_at(8),
            nice: u32_at(16) as i32,
            priority: u32_at(20),
            runtime: u64_at(24),
            deadline: u64_at(32),
            period: u64_at(40),
            util_min: u32_at(48),
            util_max: u32_at(52),
        }
    }

    fn to_bytes(self) -> [u8; SCHED_ATTR_SIZE_VER1] {
        let mut b = [0u8; SCHED_ATTR_SIZE_VER1];
        b[0..4].copy_from_slice(&self.size.to_le_bytes());
        b[4..8].copy_from_slice(&self.policy.to_le_bytes());
        b[8..16].copy_from_slice(&self.flags.to_le_bytes());
        b[16..20].copy_from_slice(&self.nice.to_le_bytes());
        b[20..24].copy_from_slice(&self.priority.to_le_bytes());
        b[24..32].copy_from_slice(&self.runtime.to_le_bytes());
        b[32..40].copy_from_slice(&self.deadline.to_le_bytes());
        b[40..48].copy_from_slice(&self.period.to_le_bytes());
        b[48..52].copy_from_slice(&self.util_min.to_le_bytes());
        b[52..56].copy_from_slice(&self.util_max.to_le_bytes());
        b
    }
}

/// Fill in `attr` from what `task` has (Linux's `get_params`).
fn get_params(task: &TaskRef, attr: &mut SchedAttr) {
    let policy = task.policy.load(Ordering::Relaxed);
    if rt_policy(policy) {
        attr.priority = task.rt_priority.load(Ordering::Relaxed);
    } else {
        attr.nice = task_nice(task);
    }
}

/// Linux's `__checkparam_dl`: runtime <= deadline <= period, the period within
/// 100 us..4 s (the default `sched_deadline_period_{min,max}_us`).
fn checkparam_dl(attr: &SchedAttr) -> bool {
    if attr.flags & SCHED_FLAG_SUGOV != 0 {
        return true;
    }
    if attr.deadline == 0 || attr.runtime < 1 << 10 {
        return false;
    }
    if attr.deadline & (1 << 63) != 0 || attr.period & (1 << 63) != 0 {
        return false;
    }
    let period = if attr.period == 0 {
        attr.deadline
    } else {
        attr.period
    };
    if period < attr.deadline || attr.deadline < attr.runtime {
        return false;
    }
    (100_000..=4_194_304_000_000).contains(&period)
}

/// Change `task`'s policy and priority (Linux's `__sched_setscheduler`, checked as for a
/// user). Real-time policies are recorded and reported (`sched_getscheduler`, /proc) but
/// the task stays in the fair class: there is no real-time class yet. No bandwidth is
/// given to `SCHED_DEADLINE` (EBUSY, Linux's answer when admission control refuses).
fn sched_setattr_checked(task: &TaskRef, attr: &SchedAttr) -> SysResult {
    let (policy, reset_on_fork) = if attr.policy < 0 {
        (
            task.policy.load(Ordering::Relaxed),
            task.sched_reset_on_fork.load(Ordering::Relaxed),
        )
    } else {
        let policy = attr.policy as u32;
        if !valid_policy(policy) {
            return Err(Errno::EINVAL);
        }
        (policy, attr.flags & SCHED_FLAG_RESET_ON_FORK != 0)
    };
    if attr.flags & !(SCHED_FLAG_ALL | SCHED_FLAG_SUGOV) != 0 {
        return Err(Errno::EINVAL);
    }
    if attr.priority > MAX_USER_RT_PRIO
        || (policy == SCHED_DEADLINE && !checkparam_dl(attr))
        || rt_policy(policy) != (attr.priority != 0)
    {
        return Err(Errno::EINVAL);
    }
    let old_policy = task.policy.load(Ordering::Relaxed);
    if !current_cred().has_cap(CAP_SYS_NICE) {
        if fair_policy(policy) && attr.nice < task_nice(task) && !can_nice(task, attr.nice) {
            return Err(Errno::EPERM);
        }
        if rt_policy(policy) {
            let rlim_rtprio =
                crate::kernel::sys::task_rlimit(task, crate::kernel::sys::RLIMIT_RTPRIO);
            if policy != old_policy && rlim_rtprio == 0 {
                return Err(Errno::EPERM);
            }
            if u64::from(attr.priority) > u64::from(task.rt_priority.load(Ordering::Relaxed))
                && u64::from(attr.priority) > rlim_rtprio
            {
                return Err(Errno::EPERM);
            }
        }
        if policy == SCHED_DEADLINE {
            return Err(Errno::EPERM);
        }
        if old_policy == SCHED_IDLE && policy != SCHED_IDLE && !can_nice(task, task_nice(task)) {
            return Err(Errno::EPERM);
        }
        if !check_same_owner(task) {
            return Err(Errno::EPERM);
        }
        if task.sched_reset_on_fork.load(Ordering::Relaxed) && !reset_on_fork {
            return Err(Errno::EPERM);
        }
    }
    if attr.flags & SCHED_FLAG_SUGOV != 0 {
        return Err(Errno::EINVAL);
    }
    if attr.flags & SCHED_FLAG_UTIL_CLAMP != 0 {
        return Err(Errno::ENOTSUP); // EOPNOTSUPP: no utilization clamping (CONFIG_UCLAMP_TASK off)
    }
    if policy == SCHED_DEADLINE {
        return Err(Errno::EBUSY);
    }
    task.sched_reset_on_fork
        .store(reset_on_fork, Ordering::Relaxed);
    task.policy.store(policy, Ordering::Relaxed);
    if fair_policy(policy) {
        task.static_prio.store(120 + attr.nice, Ordering::Relaxed);
    }
    task.rt_priority.store(attr.priority, Ordering::Relaxed);
    set_load_weight(task);
    Ok(0)
}

/// `sched_setscheduler(2)` and `sched_setparam(2)` (`policy` = `SETPARAM_POLICY`): Linux's
/// `do_sched_setscheduler`. The nice value is kept.
fn do_sched_setscheduler(pid: i32, policy: i32, param: u64) -> SysResult {
    if param == 0 || pid < 0 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 4];
    copy_from_user(&mut b, param)?;
    let task = find_process_by_pid(pid)?;
    let mut attr = SchedAttr {
        policy,
        priority: u32::from_le_bytes(b),
        nice: task_nice(&task),
        ..SchedAttr::default()
    };
    if policy != SETPARAM_POLICY && policy as u32 & SCHED_RESET_ON_FORK != 0 {
        attr.flags |= SCHED_FLAG_RESET_ON_FORK;
        attr.policy = (policy as u32 & !SCHED_RESET_ON_FORK) as i32;
    }
    sched_setattr_checked(&task, &attr)
}

/// `sched_setscheduler(2)`.
pub fn sys_sched_setscheduler(pid: i32, policy: i32, param: u64) -> SysResult {
    if policy < 0 {
        return Err(Errno::EINVAL);
    }
    do_sched_setscheduler(pid, policy, param)
}

/// `sched_setparam(2)`.
pub fn sys_sched_setparam(pid: i32, param: u64) -> SysResult {
    do_sched_setscheduler(pid, SETPARAM_POLICY, param)
}

/// `sched_getscheduler(2)`: the policy, with `SCHED_RESET_ON_FORK` if set.
pub fn sys_sched_getscheduler(pid: i32) -> SysResult {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let task = find_process_by_pid(pid)?;
    let mut policy = task.policy.load(Ordering::Relaxed);
    if task.sched_reset_on_fork.load(Ordering::Relaxed) {
        policy |= SCHED_RESET_ON_FORK;
    }
    Ok(u64::from(policy))
}

/// `sched_getparam(2)`: `struct sched_param { int sched_priority; }`, 0 unless real-time.
pub fn sys_sched_getparam(pid: i32, param: u64) -> SysResult {
    if pid < 0 || param == 0 {
        return Err(Errno::EINVAL);
    }
    let task = find_process_by_pid(pid)?;
    let policy = task.policy.load(Ordering::Relaxed);
    let priority = if rt_policy(policy) {
        task.rt_priority.load(Ordering::Relaxed)
    } else {
        0
    };
    copy_to_user(param, &priority.to_le_bytes())?;
    Ok(0)
}

/// `sched_setattr(2)`: the user's `struct sched_attr` is read as Linux's `sched_copy_attr`
/// does (size 0 means the first version; a size outside VER0..=PAGE_SIZE, or a longer
/// struct whose extra bytes are not zero, writes the kernel's size back and fails E2BIG).
pub fn sys_sched_setattr(pid: i32, uattr: u64, flags: u32) -> SysResult {
    if uattr == 0 || pid < 0 || flags != 0 {
        return Err(Errno::EINVAL);
    }
    let mut attr = sched_copy_attr(uattr)?;
    if attr.policy < 0 {
        return Err(Errno::EINVAL);
    }
    if attr.flags & SCHED_FLAG_KEEP_POLICY != 0 {
        attr.policy = SETPARAM_POLICY;
    }
    let task = find_process_by_pid(pid)?;
    if attr.flags & SCHED_FLAG_KEEP_PARAMS != 0 {
        get_params(&task, &mut attr);
    }
    sched_setattr_checked(&task, &attr)
}

fn sched_copy_attr(uattr: u64) -> Result<SchedAttr, Errno> {
    let mut size_bytes = [0u8; 4];
    copy_from_user(&mut size_bytes, uattr)?;
    let mut size = u32::from_le_bytes(size_bytes) as usize;
    if size == 0 {
        size = SCHED_ATTR_SIZE_VER0;
    }
    let too_big = || {
        let _ = copy_to_user(uattr, &(SCHED_ATTR_SIZE_VER1 as u32).to_le_bytes());
        Err(Errno::E2BIG)
    };
    if !(SCHED_ATTR_SIZE_VER0..=crate::arch::memory::PAGE_SIZE as usize).contains(&size) {
        return too_big();
    }
    // copy_struct_from_user: the kernel's part, then the rest must be zeros.
    let mut b = [0u8; SCHED_ATTR_SIZE_VER1];
    let n = size.min(SCHED_ATTR_SIZE_VER1);
    copy_from_user(&mut b[..n], uattr)?;
    if size > SCHED_ATTR_SIZE_VER1 {
        let mut rest = alloc::vec![0u8; size - SCHED_ATTR_SIZE_VER1];
        copy_from_user(&mut rest, uattr + SCHED_ATTR_SIZE_VER1 as u64)?;
        if rest.iter().any(|&x| x != 0) {
            return too_big();
        }
    }
    let mut attr = SchedAttr::from_bytes(&b);
    if attr.flags & SCHED_FLAG_UTIL_CLAMP != 0 && size < SCHED_ATTR_SIZE_VER1 {
        return Err(Errno::EINVAL);
    }
    attr.nice = attr.nice.clamp(MIN_NICE, MAX_NICE);
    Ok(attr)
}

/// `sched_getattr(2)`: writes `min(usize, sizeof(struct sched_attr))` bytes, `size` saying
/// how many.
pub fn sys_sched_getattr(pid: i32, uattr: u64, usize: u32, flags: u32) -> SysResult {
    let usize = usize as usize;
    if uattr == 0
        || pid < 0
        || usize > crate::arch::memory::PAGE_SIZE as usize
        || usize < SCHED_ATTR_SIZE_VER0
        || flags != 0
    {
        return Err(Errno::EINVAL);
    }
    let task = find_process_by_pid(pid)?;
    let mut attr = SchedAttr {
        policy: task.policy.load(Ordering::Relaxed) as i32,
        ..SchedAttr::default()
    };
    if task.sched_reset_on_fork.load(Ordering::Relaxed) {
        attr.flags |= SCHED_FLAG_RESET_ON_FORK;
    }
    get_params(&task, &mut attr);
    let n = usize.min(SCHED_ATTR_SIZE_VER1);
    attr.size = n as u32;
    copy_to_user(uattr, &attr.to_bytes()[..n])?;
    Ok(0)
}

/// `sched_rr_get_interval(2)`: 100 ms for `SCHED_RR`, 0 for `SCHED_FIFO`, the task's fair
/// slice in whole ticks otherwise (Linux's `get_rr_interval_fair`).
pub fn sys_sched_rr_get_interval(pid: i32, interval: u64) -> SysResult {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let task = find_process_by_pid(pid)?;
    let ns = match task.policy.load(Ordering::Relaxed) {
        SCHED_RR => RR_TIMESLICE_NS,
        SCHED_FIFO => 0,
        _ => {
            let tick = 1_000_000_000 / crate::kernel::time::HZ;
            let nr = crate::kernel::sched::core::cpu_nr_running(
                task.cpu.load(Ordering::Relaxed) as usize
            );
            let slice = super::fair::sched_slice(nr.max(1));
            slice / tick * tick
        }
    };
    let mut ts = [0u8; 16];
    ts[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    ts[8..].copy_from_slice(&(ns % 1_000_000_000).to_le_bytes());
    copy_to_user(interval, &ts)?;
    Ok(0)
}

/// `sched_get_priority_max(2)`.
pub fn sys_sched_get_priority_max(policy: i32) -> SysResult {
    match policy as u32 {
        SCHED_FIFO | SCHED_RR => Ok(u64::from(MAX_USER_RT_PRIO)),
        SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

/// `sched_get_priority_min(2)`.
pub fn sys_sched_get_priority_min(policy: i32) -> SysResult {
    match policy as u32 {
        SCHED_FIFO | SCHED_RR => Ok(1),
        SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}
