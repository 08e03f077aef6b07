//! `ioprio_set(2)` and `ioprio_get(2)` (Linux: `block/ioprio.c`, as in Debian's 6.1): a task's I/O
//! scheduling class and level, kept per task (Linux keeps it in the task's `io_context`)
//! and inherited by `fork`. There is no disk to schedule yet, so the value is only kept
//! and reported.
//!
//! A priority is `class << 13 | hints << 3 | level`: class NONE (0, level 0), RT (1, needs
//! CAP_SYS_ADMIN or CAP_SYS_NICE), BE (2) or IDLE (3); levels 0..=7 (what Debian's 6.1
//! checks: `IOPRIO_PRIO_LEVEL`, the hint bits unchecked). A task that never set one
//! has 0 (NONE); `IOPRIO_WHO_PGRP`/`IOPRIO_WHO_USER` then report the one its nice value
//! implies (Linux's `__get_task_ioprio`: class BE, or IDLE for `SCHED_IDLE` and RT for
//! real-time tasks; level `(nice + 20) / 5`), and the best (lowest) among the tasks.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use crate::kernel::capability::{capable, CAP_SYS_ADMIN, CAP_SYS_NICE};
use crate::kernel::cred::{current_cred, task_cred};
use crate::kernel::errno::Errno;
use crate::kernel::sys::prio_targets;
use crate::kernel::task::{TaskRef, TaskStruct};

type SysResult = Result<u64, Errno>;

const IOPRIO_CLASS_SHIFT: u32 = 13;
/// The level within a class (Linux's `IOPRIO_LEVEL_MASK`).
const IOPRIO_LEVEL_MASK: u32 = 0x7;
const IOPRIO_CLASS_NONE: u32 = 0;
const IOPRIO_CLASS_RT: u32 = 1;
const IOPRIO_CLASS_BE: u32 = 2;
const IOPRIO_CLASS_IDLE: u32 = 3;
/// Levels of the RT and BE classes.
const IOPRIO_NR_LEVELS: u32 = 8;
/// `which`: a task, a process group, a user.
const IOPRIO_WHO_PROCESS: i32 = 1;
const IOPRIO_WHO_PGRP: i32 = 2;
const IOPRIO_WHO_USER: i32 = 3;

/// Linux's `ioprio_check_cap`: EPERM for RT without the capabilities, EINVAL for a bad
/// class or level.
fn ioprio_check_cap(ioprio: i32) -> Result<(), Errno> {
    let ioprio = ioprio as u32;
    let class = (ioprio >> IOPRIO_CLASS_SHIFT) & 0x7;
    // The level is the low 3 bits; the bits above it are hints, not checked here.
    let data = ioprio & IOPRIO_LEVEL_MASK;
    match class {
        IOPRIO_CLASS_RT | IOPRIO_CLASS_BE => {
            if class == IOPRIO_CLASS_RT && !capable(CAP_SYS_ADMIN) && !capable(CAP_SYS_NICE) {
                return Err(Errno::EPERM);
            }
            if data >= IOPRIO_NR_LEVELS {
                return Err(Errno::EINVAL);
            }
            Ok(())
        }
        IOPRIO_CLASS_IDLE => Ok(()),
        IOPRIO_CLASS_NONE if data == 0 => Ok(()),
        _ => Err(Errno::EINVAL),
    }
}

/// The tasks `which`/`who` name: `setpriority`'s walk ([`prio_targets`]), whose `which`
/// counts from 0 where ioprio's counts from 1.
fn targets(which: i32, who: i32) -> Result<Vec<TaskRef>, Errno> {
    match which {
        IOPRIO_WHO_PROCESS | IOPRIO_WHO_PGRP | IOPRIO_WHO_USER => {
            Ok(prio_targets(which - IOPRIO_WHO_PROCESS, who))
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Linux's `set_task_ioprio`: EPERM unless the caller's real or effective UID is the task's
/// real UID, or it has CAP_SYS_NICE.
fn set_task_ioprio(task: &TaskStruct, ioprio: i32) -> Result<(), Errno> {
    let cred = current_cred();
    let tuid = task_cred(task).uid;
    if tuid != cred.euid && tuid != cred.uid && !cred.has_cap(CAP_SYS_NICE) {
        return Err(Errno::EPERM);
    }
    task.ioprio.store(ioprio as u32, Ordering::Relaxed);
    Ok(())
}

/// `ioprio_set(2)`: the priority is checked first (EINVAL, EPERM), then `which` (EINVAL);
/// ESRCH if nothing matched; the walk stops at the first task it may not change.
pub fn sys_ioprio_set(which: i32, who: i32, ioprio: i32) -> SysResult {
    ioprio_check_cap(ioprio)?;
    let tasks = targets(which, who)?;
    if tasks.is_empty() {
        return Err(Errno::ESRCH);
    }
    for task in &tasks {
        set_task_ioprio(task, ioprio)?;
    }
    Ok(0)
}

/// The priority a task's I/O gets (Linux's `__get_task_ioprio`).
fn effective_ioprio(task: &TaskStruct) -> u32 {
    let prio = task.ioprio.load(Ordering::Relaxed);
    if prio >> IOPRIO_CLASS_SHIFT != IOPRIO_CLASS_NONE {
        return prio;
    }
    let class = match task.policy.load(Ordering::Relaxed) {
        crate::kernel::sched::syscalls::SCHED_IDLE => IOPRIO_CLASS_IDLE,
        crate::kernel::sched::syscalls::SCHED_FIFO | crate::kernel::sched::syscalls::SCHED_RR => {
            IOPRIO_CLASS_RT
        }
        _ => IOPRIO_CLASS_BE,
    };
    let level = (crate::kernel::sched::core::task_nice(task) + 20) as u32 / 5;
    class << IOPRIO_CLASS_SHIFT | level
}

/// `ioprio_get(2)`: for one task the value it set (0 if none); for a group or a user the
/// best effective priority among their tasks. EINVAL for a bad `which`, ESRCH if nothing
/// matched.
pub fn sys_ioprio_get(which: i32, who: i32) -> SysResult {
    let tasks = targets(which, who)?;
    if which == IOPRIO_WHO_PROCESS {
        return tasks
            .first()
            .map(|t| u64::from(t.ioprio.load(Ordering::Relaxed)))
            .ok_or(Errno::ESRCH);
    }
    tasks
        .iter()
        .map(|t| effective_ioprio(t) & 0xffff)
        .min()
        .map(u64::from)
        .ok_or(Errno::ESRCH)
}
