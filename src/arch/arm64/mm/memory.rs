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
//!                        |  ioremap: device registers       |
//! 0xffff_8001_8000_0000  +----------------------------------+ IOREMAP_START
//!                        |  kernel stacks: 64 KiB slots,    |
//!                        |  32 KiB guard + 32 KiB stack     |
//! 0xffff_8001_4000_0000  +----------------------------------+ STACKS_START
//!                        |  kernel heap, grown page by page |
//! 0xffff_8001_0000_0000  +----------------------------------+ VMALLOC_START = HEAP_START
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
/// The kernel heap grows up from here (1 GiB at most).
pub const HEAP_START: u64 = VMALLOC_START;
/// End of the heap's window.
pub const HEAP_END: u64 = HEAP_START + (1 << 30);
/// Kernel stacks: each slot is `2 * THREAD_SIZE`, an unmapped guard below the stack.
pub const STACKS_START: u64 = HEAP_END;
/// End of the stack slots.
pub const STACKS_END: u64 = STACKS_START + (1 << 30);
/// Device mappings (`ioremap`).
pub const IOREMAP_START: u64 = STACKS_END;
/// End of the device mappings.
pub const IOREMAP_END: u64 = VMALLOC_END;

/// Size of a kernel stack. Linux arm64 uses 16 KiB; Rust's frames run larger than C's (the
/// device-tree walks in `setup_arch` alone take over 12 KiB with the `fdt` crate), so
/// Cradle's stacks are 32 KiB.
pub const THREAD_SIZE: usize = 32 * 1024;
/// log2(THREAD_SIZE): `kernel_ventry` tests this bit of sp to spot an overflow.
pub const THREAD_SHIFT: usize = 15;
/// Kernel stacks are aligned to twice their size (Linux's THREAD_ALIGN with VMAP_STACK): a
/// valid sp has bit THREAD_SHIFT clear, and an sp that ran off the bottom into the guard
/// below has it set.
pub const THREAD_ALIGN: usize = 2 * THREAD_SIZE;

const _: () = assert!(1 << THREAD_SHIFT == THREAD_SIZE);

/// The linear-map address of physical address `pa` (Linux's `__va`).
pub const fn phys_to_virt(pa: u64) -> u64 {
    pa + PAGE_OFFSET
}

/// The physical address of a linear-map address (Linux's `__pa` for the linear map).
pub const fn virt_to_phys(va: u64) -> u64 {
    va - PAGE_OFFSET
}

/// log2 of the page size and translation granule (Linux's `PAGE_SHIFT`,
/// `asm/page-def.h`). The one definition: every other module imports it from here.
pub const PAGE_SHIFT: u32 = 12;
/// Bytes in a page: 4 KiB (Linux's `PAGE_SIZE`). The one definition, as `PAGE_SHIFT`.
pub const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;
