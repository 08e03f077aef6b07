//! The `spin-table` enable method (Linux: `arch/arm64/kernel/smp_spin_table.c`).
//!
//! The firmware parks each secondary CPU in a loop (`wfe`, then read its
//! `cpu-release-addr`) until that 64-bit word is non-zero, then jumps there with the MMU off
//! (Documentation/arm64/booting.rst). QEMU's raspi3b/raspi4b do this at 0xe0/0xe8/0xf0 for
//! CPUs 1-3 and enter at EL2 with x0 = 0. To start a CPU we write `secondary_entry`'s
//! physical address there, clean it to the point of coherency (the waiting CPU reads with its
//! caches off), and `dsb sy; sev`.
//!
//! Linux 5.x first releases every CPU into its own holding pen and lets them out one by one,
//! because some DTs share one release address between CPUs; every DT Cradle runs on gives
//! each CPU its own, so each CPU is released straight to `secondary_entry` when it is started.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::percpu::NR_CPUS;
use crate::kernel::errno::Errno;

/// Each CPU's `cpu-release-addr` (physical; 0 = none).
static CPU_RELEASE_ADDR: [AtomicU64; NR_CPUS] = [const { AtomicU64::new(0) }; NR_CPUS];

/// Linux's `smp_spin_table_cpu_init`: read `cpu-release-addr` (two cells, a u64).
pub fn smp_spin_table_cpu_init(cpu: usize, node: fdt::node::FdtNode<'_, '_>) -> Result<(), Errno> {
    let addr = node
        .property("cpu-release-addr")
        .and_then(|p| <[u8; 8]>::try_from(p.value).ok())
        .map(u64::from_be_bytes);
    match addr {
        Some(addr) if addr != 0 && addr % 8 == 0 => {
            CPU_RELEASE_ADDR[cpu].store(addr, Ordering::Relaxed);
            Ok(())
        }
        _ => {
            log::error!("CPU{cpu}: missing or invalid cpu-release-addr property");
            Err(Errno::ENODEV)
        }
    }
}

/// Linux's `smp_spin_table_cpu_prepare`: the CPU must have a release address.
pub fn smp_spin_table_cpu_prepare(cpu: usize) -> Result<(), Errno> {
    if CPU_RELEASE_ADDR[cpu].load(Ordering::Relaxed) == 0 {
        return Err(Errno::ENODEV);
    }
    Ok(())
}

/// Release `cpu` to `entry`: write it to the CPU's release address, clean the line to the
/// point of coherency, and wake the waiting CPUs.
pub fn smp_spin_table_cpu_boot(cpu: usize, entry: u64) -> Result<(), Errno> {
    let pa = CPU_RELEASE_ADDR[cpu].load(Ordering::Relaxed);
    if pa == 0 {
        return Err(Errno::ENODEV);
    }
    // Linux maps it with ioremap_cache and writes through that; the firmware's spin table is
    // RAM the kernel never hands out (it is below the Image, in the first page).
    let Some(va) = crate::mm::vmalloc::ioremap_cache(pa, 8) else {
        log::error!("CPU{cpu}: unable to map cpu-release-addr {pa:#x}");
        return Err(Errno::ENOMEM);
    };
    // SAFETY: `va` maps the 8-byte, 8-aligned release word (checked in cpu_init) as normal
    // cacheable memory; only this CPU writes it, and the waiting CPU only reads it.
    let word = unsafe { &*(va as *const AtomicU64) };
    word.store(entry, Ordering::Release);
    crate::arch::cacheflush::dcache_clean_inval_poc(word);
    // SAFETY: barriers and a send-event hint only.
    unsafe { core::arch::asm!("dsb sy", "sev", options(nostack)) };
    Ok(())
}
