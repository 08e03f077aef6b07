//! Address-space layout randomization: where a new program's stack, mmap area and heap
//! start (Linux: `mm/util.c` `randomize_stack_top`, `arch_mmap_rnd`, `mmap_base`,
//! `randomize_page`; `mm/memory.c` `randomize_va_space`; `arch/arm64/kernel/process.c`
//! `arch_align_stack`, `arch_randomize_brk`).
//!
//! `execve` decides once whether the new program is randomized (Linux's `PF_RANDOMIZE`):
//! yes unless `randomize_va_space` is 0 (the `norandmaps` command-line word, or root writing
//! `/proc/sys/kernel/randomize_va_space`) or the task's personality has
//! `ADDR_NO_RANDOMIZE` (`setarch -R`). A randomized program gets, as on Linux 6.1 arm64:
//!
//! - a stack top up to 1 GiB below `STACK_TOP` (18 bits of pages), then up to 8 KiB more
//!   twice (`arch_align_stack` in `setup_arg_pages` and `create_elf_tables`);
//! - an mmap base (where libraries, `ld.so`, the vDSO and a program without an interpreter
//!   go) below the stack's largest reach (8 MiB limit + 1 MiB guard + 1 GiB of
//!   randomization) and up to 1 GiB lower at random;
//! - a PIE program at `ELF_ET_DYN_BASE` plus up to 1 GiB;
//! - with `randomize_va_space` 2 (the default), a heap start up to 1 GiB past where it
//!   would be (a page past the program's end, or `ELF_ET_DYN_BASE` for a program without an
//!   interpreter, whose heap is there whether randomized or not).
//!
//! Without randomization the same program lands at the same addresses on every run.

use core::sync::atomic::{AtomicI32, Ordering};

use crate::arch::memory::{PAGE_SIZE, VA_BITS};
use crate::kernel::errno::Errno;

/// The top of user space (`arch::uaccess::TASK_SIZE`, which host builds lack).
const TASK_SIZE: u64 = 1 << VA_BITS;

/// `personality` flag: lay the address space out without randomization (`setarch -R`).
pub const ADDR_NO_RANDOMIZE: u32 = 0x004_0000;
/// `personality` flags a set-ID `execve` clears (Linux's `PER_CLEAR_ON_SETID`:
/// `READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE | ADDR_COMPAT_LAYOUT | MMAP_PAGE_ZERO`).
pub const PER_CLEAR_ON_SETID: u32 = 0x040_0000 | ADDR_NO_RANDOMIZE | 0x020_0000 | 0x010_0000;

/// Bits of randomness in the mmap base and a PIE program's load address (Linux arm64's
/// `CONFIG_ARCH_MMAP_RND_BITS` default for 4 KiB pages and 48-bit addresses).
pub const MMAP_RND_BITS: u32 = 18;
/// Pages of randomness in the stack top (Linux arm64's `STACK_RND_MASK` for 4 KiB pages).
pub const STACK_RND_MASK: u64 = 0x3ffff;
/// The top of the user stack before randomization (Linux arm64's `STACK_TOP`).
pub const STACK_TOP: u64 = TASK_SIZE;
/// The stack limit the mmap base leaves room for (`RLIMIT_STACK`'s default, `_STK_LIM`).
const STACK_LIMIT: u64 = 8 << 20;
/// Linux's `stack_guard_gap`: 256 pages.
const STACK_GUARD_GAP: u64 = 256 * PAGE_SIZE;
/// The smallest and largest gap between the stack top and the mmap base (`mm/util.c`).
const MIN_GAP: u64 = 128 << 20;
const MAX_GAP: u64 = STACK_TOP / 6 * 5;

/// Not read yet: [`RANDOMIZE_VA_SPACE`] before the first read or write.
const UNSET: i32 = i32::MIN;

/// `/proc/sys/kernel/randomize_va_space`: [`UNSET`] until first read (then 2, or 0 with
/// `norandmaps` on the command line).
static RANDOMIZE_VA_SPACE: AtomicI32 = AtomicI32::new(UNSET);

/// Linux's `randomize_va_space`: 0 (nothing randomized), 1 (stack, mmap base, PIE base,
/// vDSO), 2 (also the heap; the default); any other value acts as 1 if negative and as 2
/// if larger. `norandmaps` on the kernel command line makes it 0 (Linux's
/// `disable_randmaps`).
pub fn randomize_va_space() -> i32 {
    let value = RANDOMIZE_VA_SPACE.load(Ordering::Relaxed);
    if value != UNSET {
        return value;
    }
    #[cfg(target_os = "none")]
    let initial =
        if crate::kernel::params::get(crate::init::main::saved_command_line(), "norandmaps")
            .is_some()
        {
            0
        } else {
            2
        };
    #[cfg(not(target_os = "none"))]
    let initial = 2;
    // A write that came first wins.
    match RANDOMIZE_VA_SPACE.compare_exchange(UNSET, initial, Ordering::Relaxed, Ordering::Relaxed)
    {
        Ok(_) => initial,
        Err(written) => written,
    }
}

/// Set `randomize_va_space`. Linux 6.1's sysctl is a plain `proc_dointvec`: any `int`
/// (Debian's 6.1 kernel takes 3 and -1 alike); EINVAL only for what is not one.
pub fn set_randomize_va_space(value: i64) -> Result<(), Errno> {
    let value = i32::try_from(value).map_err(|_| Errno::EINVAL)?;
    if value == UNSET {
        return Err(Errno::EINVAL);
    }
    RANDOMIZE_VA_SPACE.store(value, Ordering::Relaxed);
    Ok(())
}

/// Is a program exec'd with `personality` laid out at random (Linux's `PF_RANDOMIZE`)?
pub fn exec_randomizes(personality: u32) -> bool {
    personality & ADDR_NO_RANDOMIZE == 0 && randomize_va_space() != 0
}

/// Random bits (Linux's `get_random_long`).
fn random_u64() -> u64 {
    #[cfg(target_os = "none")]
    {
        let mut bytes = [0u8; 8];
        crate::kernel::random::get_random_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }
    #[cfg(not(target_os = "none"))]
    0
}

fn page_align(x: u64) -> u64 {
    (x + PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// A random page-aligned offset below `2^(MMAP_RND_BITS + PAGE_SHIFT)` (Linux's
/// `arch_mmap_rnd`).
pub fn arch_mmap_rnd() -> u64 {
    (random_u64() & ((1 << MMAP_RND_BITS) - 1)) * PAGE_SIZE
}

/// Where mmap searches down from (Linux's `arch_pick_mmap_layout` → `mmap_base`), with `rnd`
/// from [`arch_mmap_rnd`] (0 when not randomizing).
pub fn mmap_base(randomize: bool, rnd: u64) -> u64 {
    let mut pad = STACK_GUARD_GAP;
    if randomize {
        pad += STACK_RND_MASK * PAGE_SIZE;
    }
    let gap = (STACK_LIMIT + pad).clamp(MIN_GAP, MAX_GAP);
    page_align(STACK_TOP - gap - rnd)
}

/// The stack's top (Linux's `randomize_stack_top`): `top` less up to `STACK_RND_MASK`
/// pages.
pub fn randomize_stack_top(top: u64, randomize: bool) -> u64 {
    let random = if randomize {
        (random_u64() & STACK_RND_MASK) * PAGE_SIZE
    } else {
        0
    };
    page_align(top) - random
}

/// How far below `sp` Linux arm64's `arch_align_stack` moves a stack pointer before
/// aligning it: up to 8 KiB at random, or nothing.
pub fn stack_align_offset(randomize: bool) -> u64 {
    if randomize {
        random_u64() % 8192
    } else {
        0
    }
}

/// Linux arm64's `arch_align_stack`: up to 8 KiB lower at random, then 16-byte aligned.
pub fn arch_align_stack(sp: u64, randomize: bool) -> u64 {
    (sp - stack_align_offset(randomize)) & !15
}

/// A page-aligned address in `[start, start + range)` (Linux's `randomize_page`).
fn randomize_page(mut start: u64, mut range: u64) -> u64 {
    if !start.is_multiple_of(PAGE_SIZE) {
        range -= page_align(start) - start;
        start = page_align(start);
    }
    range = range.min(u64::MAX - start) / PAGE_SIZE;
    if range == 0 {
        return start;
    }
    start + (random_u64() % range) * PAGE_SIZE
}

/// The heap's start (Linux arm64's `arch_randomize_brk`): up to 1 GiB past `brk`.
pub fn arch_randomize_brk(brk: u64) -> u64 {
    randomize_page(brk, 1 << 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmap_base_leaves_the_stack_its_reach() {
        // Not randomized: Linux's MIN_GAP (9 MiB of stack and guard is less).
        assert_eq!(mmap_base(false, 0), TASK_SIZE - (128 << 20));
        // Randomized: 8 MiB + 1 MiB + the stack's 1 GiB of randomization, then rnd.
        let gap = (8 << 20) + (1 << 20) + 0x3ffff * PAGE_SIZE;
        assert_eq!(mmap_base(true, 0), TASK_SIZE - gap);
        assert_eq!(
            mmap_base(true, 5 * PAGE_SIZE),
            TASK_SIZE - gap - 5 * PAGE_SIZE
        );
        // The lowest stack top still lies above the highest mmap base's gap.
        assert!(mmap_base(true, 0) + STACK_LIMIT < TASK_SIZE - STACK_RND_MASK * PAGE_SIZE);
    }

    #[test]
    fn not_randomized_is_the_identity() {
        assert_eq!(randomize_stack_top(STACK_TOP, false), STACK_TOP);
        assert_eq!(arch_align_stack(0x1234_5679, false), 0x1234_5670);
    }

    #[test]
    fn randomize_page_stays_in_range() {
        assert_eq!(randomize_page(0x1001, PAGE_SIZE), 0x2000);
        let r = randomize_page(0x10_0000, 1 << 30);
        assert!((0x10_0000..0x10_0000 + (1 << 30)).contains(&r) && r.is_multiple_of(PAGE_SIZE));
    }

    #[test]
    fn the_sysctl_takes_any_int() {
        assert_eq!(set_randomize_va_space(1 << 40), Err(Errno::EINVAL));
        assert_eq!(set_randomize_va_space(3), Ok(()));
        assert_eq!(randomize_va_space(), 3);
        assert_eq!(set_randomize_va_space(1), Ok(()));
        assert_eq!(randomize_va_space(), 1);
        assert!(exec_randomizes(0));
        assert!(!exec_randomizes(ADDR_NO_RANDOMIZE));
        set_randomize_va_space(0).unwrap();
        assert!(!exec_randomizes(0));
        set_randomize_va_space(2).unwrap();
    }
}
