//! The kernel's virtual memory map: every fixed address Cradle uses, in one place.
//!
//! Mirrors Linux's `arch/arm64/include/asm/memory.h`. 48-bit virtual addresses, 4 KiB pages.
//! TTBR0_EL1 translates the lower half (user space, and the boot-time identity map); TTBR1_EL1
//! the upper half, drawn here:
//!
//! ```text
//! 0xffff_ffff_ffff_ffff  +----------------------------------+
//!                        |  (unused)                        |
//! 0xffff_8100_0000_0000  +----------------------------------+ VMALLOC_END
//!                        |  vmalloc area: kernel stacks     |
//!                        |  with guard pages, ioremap       |
//! 0xffff_8001_0000_0000  +----------------------------------+ VMALLOC_START
//!                        |  (unused)                        |
//! 0xffff_8000_3fc0_0000  +----------------------------------+ FIXADDR_START (4 MiB)
//!                        |  fixmap: early console, the FDT  |
//! 0xffff_8000_0008_0000  |  kernel image: _text .. _end     | KIMAGE_VADDR + TEXT_OFFSET
//! 0xffff_8000_0000_0000  +----------------------------------+ KIMAGE_VADDR
//!                        |  linear map of all RAM:          |
//!                        |  va = pa + PAGE_OFFSET (128 TiB) |
//! 0xffff_0000_0000_0000  +----------------------------------+ PAGE_OFFSET
//! ```
//!
//! The kernel image and the fixmap share one 1 GiB slot, so the early page tables built by
//! `asm/head.S` (one L2 table for the image) also hold the fixmap's two L3 tables.

/// Bits of virtual address, both halves (TCR_EL1.T0SZ = T1SZ = 64 - VA_BITS).
pub const VA_BITS: u64 = 48;
/// The base of the linear map: `va = pa + PAGE_OFFSET`.
pub const PAGE_OFFSET: u64 = 0xffff_0000_0000_0000;
/// The 1 GiB slot the kernel image is linked into.
pub const KIMAGE_VADDR: u64 = 0xffff_8000_0000_0000;
/// Where in its 2 MiB-aligned slot the Image asks to be loaded (arm64 boot protocol). 0x80000
/// is what the Raspberry Pi firmware uses; QEMU and U-Boot honour the header.
pub const TEXT_OFFSET: u64 = 0x8_0000;
/// The fixmap: 4 MiB at the top of the kernel image's 1 GiB slot, two L3 tables.
pub const FIXADDR_SIZE: u64 = 4 << 20;
/// First address of the fixmap.
pub const FIXADDR_START: u64 = KIMAGE_VADDR + (1 << 30) - FIXADDR_SIZE;
/// The vmalloc area: kernel stacks with guard pages and device mappings.
pub const VMALLOC_START: u64 = 0xffff_8001_0000_0000;
/// End of the vmalloc area (exclusive).
pub const VMALLOC_END: u64 = 0xffff_8100_0000_0000;

/// Size of a kernel stack (Linux arm64: 16 KiB).
pub const THREAD_SIZE: usize = 16 * 1024;
/// Kernel stacks are aligned to their size, so a stack's base is `sp & !(THREAD_SIZE - 1)`.
pub const THREAD_ALIGN: usize = THREAD_SIZE;

/// The translation granule.
pub const PAGE_SHIFT: u64 = 12;
/// Bytes in a page.
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;
