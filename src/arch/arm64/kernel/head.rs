//! Brings `asm/head.S` into the build and hands it its constants.
//!
//! The assembly is the kernel's entry point: it must run with the MMU off, at whatever
//! physical address the loader chose, before there is a stack — which no Rust code can.
//! Everything it needs to know comes from here as `const` operands, and the variables it
//! fills in for Rust are defined here.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::sysreg;
use crate::arch::memory::{KIMAGE_VADDR, PAGE_SIZE, TEXT_OFFSET, THREAD_SIZE};

/// The arm64 Image header's flags: little-endian (bit 0 clear), 4 KiB pages (bits 1-2 = 1),
/// placeable anywhere in RAM (bit 3).
pub const HEAD_FLAGS: u64 = (1 << 1) | (1 << 3);

core::arch::global_asm!(
    include_str!("../../../../asm/head.S"),
    PAGE_SIZE = const PAGE_SIZE,
    TEXT_OFFSET = const TEXT_OFFSET,
    HEAD_FLAGS = const HEAD_FLAGS,
    KIMAGE_VADDR = const KIMAGE_VADDR,
    THREAD_SIZE = const THREAD_SIZE,
    PTE_BLOCK_KERNEL = const sysreg::PTE_BLOCK_KERNEL,
    SCTLR_EL1_MMU_OFF = const sysreg::SCTLR_EL1_MMU_OFF,
    SCTLR_EL1_MMU_ON = const sysreg::SCTLR_EL1_MMU_ON,
    SCTLR_EL2_MMU_OFF = const sysreg::SCTLR_EL2_MMU_OFF,
    HCR_EL2_HOST = const sysreg::HCR_EL2_HOST,
    SCR_EL3_NS_RW = const sysreg::SCR_EL3_NS_RW,
    SPSR_EL1H_MASKED = const sysreg::SPSR_EL1H_MASKED,
    SPSR_EL2H_MASKED = const sysreg::SPSR_EL2H_MASKED,
    MAIR_EL1 = const sysreg::MAIR_EL1,
    TCR_EL1 = const sysreg::TCR_EL1_VALUE,
    BOOT_CPU_MODE_EL1 = const sysreg::BOOT_CPU_MODE_EL1,
    BOOT_CPU_MODE_EL2 = const sysreg::BOOT_CPU_MODE_EL2,
    SWAPPER_PG_DIR = sym crate::arch::paging::SWAPPER_PG_DIR,
    SECONDARY_DATA = sym crate::arch::smp::SECONDARY_DATA,
    SECONDARY_DATA_STACK = const crate::arch::smp::SECONDARY_DATA_STACK,
    SECONDARY_DATA_TASK = const crate::arch::smp::SECONDARY_DATA_TASK,
    SECONDARY_DATA_HWID = const crate::arch::smp::SECONDARY_DATA_HWID,
    MPIDR_HWID_BITMASK = const crate::arch::setup::MPIDR_HWID_BITMASK,
);

/// x0..x3 as the loader passed them, written by `preserve_boot_args` with the MMU off.
/// Kept out of BSS (which is cleared later) and on its own cache line (which head.S
/// invalidates).
#[no_mangle]
#[link_section = ".data.boot_args"]
static boot_args: BootArgs = BootArgs([const { AtomicU64::new(0) }; 4]);

/// Cache-line aligned storage for [`boot_args`].
#[repr(C, align(64))]
struct BootArgs([AtomicU64; 4]);

/// Physical address of the device tree blob, from x0 at entry.
#[no_mangle]
static __fdt_pointer: AtomicU64 = AtomicU64::new(0);

/// Kernel image virtual address minus its physical address.
#[no_mangle]
static kimage_voffset: AtomicU64 = AtomicU64::new(0);

/// The exception level the boot CPU was entered at (`BOOT_CPU_MODE_EL1`/`_EL2`).
#[no_mangle]
static __boot_cpu_mode: AtomicU32 = AtomicU32::new(0);

/// The loader's x0..x3. The boot protocol says x1..x3 are zero.
pub fn loader_args() -> [u64; 4] {
    core::array::from_fn(|i| boot_args.0[i].load(Ordering::Relaxed))
}

/// Physical address of the DTB the loader passed (0 if none).
pub fn fdt_pointer() -> u64 {
    __fdt_pointer.load(Ordering::Relaxed)
}

/// Kernel image virtual minus physical address.
pub fn kimage_offset() -> u64 {
    kimage_voffset.load(Ordering::Relaxed)
}

/// Physical address of a kernel-image virtual address (Linux's `__pa_symbol`).
pub fn pa_symbol(va: u64) -> u64 {
    va.wrapping_sub(kimage_offset())
}

/// The boot CPU's entry mode as head.S recorded it (`BOOT_CPU_MODE_EL1` or `_EL2`).
pub fn boot_cpu_mode() -> u32 {
    __boot_cpu_mode.load(Ordering::Relaxed)
}

/// The exception level the boot CPU entered the kernel at: 1 or 2.
pub fn boot_el() -> u32 {
    if __boot_cpu_mode.load(Ordering::Relaxed) == sysreg::BOOT_CPU_MODE_EL2 {
        2
    } else {
        1
    }
}
