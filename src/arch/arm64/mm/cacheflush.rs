//! Data cache maintenance by virtual address (Linux: `arch/arm64/mm/cache.S`,
//! `arch/arm64/include/asm/cacheflush.h`).
//!
//! Memory shared with a device that does not snoop the CPU's caches (the Raspberry Pi's
//! VideoCore reading its mailbox buffer) is cleaned before the device reads it and invalidated
//! before the CPU reads what the device wrote.

/// Clean and invalidate the data cache lines covering `buf` to the point of coherency, then
/// wait for it to finish (Linux's `dcache_clean_inval_poc`, which takes the range `buf` spans).
pub fn dcache_clean_inval_poc<T: ?Sized>(buf: &T) {
    let start = buf as *const T as *const u8 as usize;
    let end = start + core::mem::size_of_val(buf);
    let line = crate::arch::cputype::dcache_line_size() as usize;
    let mut addr = start & !(line - 1);
    while addr < end {
        // SAFETY: clean+invalidate by VA of memory `buf` borrows, so mapped: it writes dirty lines back and
        // drops them, changing no value the program can see.
        unsafe { core::arch::asm!("dc civac, {}", in(reg) addr, options(nostack)) };
        addr += line;
    }
    crate::arch::barrier::mb();
}
