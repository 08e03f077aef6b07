//! Bringing a CPU online (Linux: `kernel/cpu.c`, `cpu_up`, the boot half of CPU hotplug).

use crate::kernel::errno::Errno;
use crate::kernel::smp::{cpu_online, cpu_possible_mask, cpu_present_mask};
use crate::kernel::smpboot::idle_thread_get;

/// Start `cpu` and wait until it is online (Linux's `cpu_up` → `_cpu_up` → `bringup_cpu`
/// → `__cpu_up`). `EINVAL` for a CPU that is not possible or not present.
pub fn cpu_up(cpu: usize) -> Result<(), Errno> {
    if !cpu_possible_mask().test(cpu) {
        log::error!(
            "can't online cpu {cpu} because it is not configured as may-hotadd at boot time"
        );
        return Err(Errno::EINVAL);
    }
    if cpu_online(cpu) {
        return Ok(());
    }
    if !cpu_present_mask().test(cpu) {
        return Err(Errno::EINVAL);
    }
    let idle = idle_thread_get(cpu).ok_or(Errno::ENOMEM)?;
    crate::arch::smp::__cpu_up(cpu, idle)
}
