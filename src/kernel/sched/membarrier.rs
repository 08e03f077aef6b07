//! `membarrier(2)` (Linux: `kernel/sched/membarrier.c`): a memory barrier on every CPU that
//! runs a thread of the caller's process (the private commands) or of a registered process
//! (the global expedited one), so user space can drop barriers from its fast paths.
//!
//! The expedited commands send a call-function IPI to each such CPU and wait until it has
//! run `smp_mb` there, as Linux's `smp_call_function_many(..., ipi_mb, ..., 1)`; the caller's
//! own CPU has a barrier too. `MEMBARRIER_CMD_GLOBAL` (Linux: `synchronize_rcu`, a grace
//! period in which every CPU passes a barrier) sends the IPI to every other online CPU.
//! The private commands need the process to have registered first (EPERM), and the
//! SYNC_CORE ones their own registration; an exception return on arm64 is context
//! synchronizing, so the IPI also serves `SYNC_CORE`. There are no restartable sequences
//! (`rseq` is ENOSYS), so the RSEQ commands are unknown (EINVAL), as on a Linux without
//! CONFIG_RSEQ.

use core::sync::atomic::{fence, Ordering};

use crate::kernel::errno::Errno;
use crate::kernel::sched::core::cpu_curr_mm;
use crate::kernel::smp::{cpu_online_mask, smp_call_function_single};
use crate::kernel::task::current;
use crate::mm::mm_types::MmStruct;

type SysResult = Result<u64, Errno>;

/// Commands (`include/uapi/linux/membarrier.h`).
const MEMBARRIER_CMD_QUERY: i32 = 0;
const MEMBARRIER_CMD_GLOBAL: i32 = 1 << 0;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: i32 = 1 << 1;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: i32 = 1 << 2;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: i32 = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: i32 = 1 << 4;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE: i32 = 1 << 5;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: i32 = 1 << 6;
/// What QUERY answers: every command above.
const MEMBARRIER_CMD_BITMASK: i32 = 0x7f;

/// `MmStruct::membarrier_state` bits (Linux's `MEMBARRIER_STATE_*`).
const STATE_PRIVATE_EXPEDITED_READY: u32 = 1 << 0;
const STATE_GLOBAL_EXPEDITED: u32 = 1 << 2;
const STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY: u32 = 1 << 4;

/// The IPI's work: a full barrier on the CPU it runs on (Linux's `ipi_mb`).
fn ipi_mb(_: usize) {
    fence(Ordering::SeqCst);
}

/// A barrier on every other online CPU for which `wanted(cpu)` holds, waiting for each.
fn barrier_on(wanted: impl Fn(usize) -> bool) {
    fence(Ordering::SeqCst); // order the caller's accesses before the IPIs
    let this = crate::arch::percpu::smp_processor_id();
    for cpu in cpu_online_mask().iter() {
        if cpu != this && wanted(cpu) {
            let _ = smp_call_function_single(cpu, ipi_mb, 0, true);
        }
    }
    fence(Ordering::SeqCst); // and the remote barriers before what follows
}

fn current_mm() -> Result<alloc::sync::Arc<MmStruct>, Errno> {
    current().mm().ok_or(Errno::EINVAL)
}

/// `membarrier(2)`: EINVAL for unknown commands or any flag.
pub fn sys_membarrier(cmd: i32, flags: u32, _cpu_id: i32) -> SysResult {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    match cmd {
        MEMBARRIER_CMD_QUERY => Ok(MEMBARRIER_CMD_BITMASK as u64),
        MEMBARRIER_CMD_GLOBAL => {
            barrier_on(|_| true);
            Ok(0)
        }
        MEMBARRIER_CMD_GLOBAL_EXPEDITED => {
            barrier_on(|cpu| {
                cpu_curr_mm(cpu).is_some_and(|mm| {
                    mm.membarrier_state.load(Ordering::Acquire) & STATE_GLOBAL_EXPEDITED != 0
                })
            });
            Ok(0)
        }
        MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED => {
            current_mm()?
                .membarrier_state
                .fetch_or(STATE_GLOBAL_EXPEDITED, Ordering::AcqRel);
            Ok(0)
        }
        MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE => {
            let ready = if cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED {
                STATE_PRIVATE_EXPEDITED_READY
            } else {
                STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY
            };
            let mm = current_mm()?;
            if mm.membarrier_state.load(Ordering::Acquire) & ready == 0 {
                return Err(Errno::EPERM);
            }
            barrier_on(|cpu| {
                cpu_curr_mm(cpu).is_some_and(|other| alloc::sync::Arc::ptr_eq(&other, &mm))
            });
            Ok(0)
        }
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED => {
            current_mm()?
                .membarrier_state
                .fetch_or(STATE_PRIVATE_EXPEDITED_READY, Ordering::AcqRel);
            Ok(0)
        }
        MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE => {
            current_mm()?
                .membarrier_state
                .fetch_or(STATE_PRIVATE_EXPEDITED_SYNC_CORE_READY, Ordering::AcqRel);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
