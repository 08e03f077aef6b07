//! Reaching user memory from the kernel, and the exception table that makes it safe
//! (Linux: `arch/arm64/include/asm/uaccess.h`, `arch/arm64/mm/extable.c`).
//!
//! Every function here checks that the range is user space (below `TASK_SIZE`) and returns
//! `EFAULT` — never an oops — when a page is missing and cannot be faulted in: the copy
//! routines in `asm/uaccess.S` list their fault-prone instructions in `__ex_table`, and the
//! fault handler resumes at the listed fixup (see [`fixup_exception`]).

use crate::arch::ptrace::PtRegs;
use crate::kernel::errno::Errno;

core::arch::global_asm!(include_str!("../../../../asm/uaccess.S"));

extern "C" {
    fn __arch_copy_from_user(to: *mut u8, from: u64, n: usize) -> usize;
    fn __arch_copy_to_user(to: u64, from: *const u8, n: usize) -> usize;
    fn __arch_clear_user(to: u64, n: usize) -> usize;
    fn __arch_strncpy_from_user(to: *mut u8, from: u64, count: usize) -> isize;
    fn __copy_nofault(to: *mut u8, from: *const u8, n: usize) -> usize;
    fn __arch_futex_cmpxchg(uaddr: u64, old: u32, new: u32) -> u64;
    fn __arch_futex_atomic_op(op: u32, oparg: u32, uaddr: u64) -> u64;
    static __start___ex_table: u8;
    static __stop___ex_table: u8;
}

/// The top of user space: TTBR0 covers `[0, TASK_SIZE)`.
pub const TASK_SIZE: u64 = 1 << 48;

/// True if `[addr, addr + size)` is user space (Linux's `access_ok`).
pub fn access_ok(addr: u64, size: usize) -> bool {
    addr.checked_add(size as u64)
        .is_some_and(|end| end <= TASK_SIZE)
}

/// Copy `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), Errno> {
    if !access_ok(src, dst.len()) {
        return Err(Errno::EFAULT);
    }
    // SAFETY: `dst` is a valid kernel buffer of that length; the source is checked to be
    // user space and every user load is covered by the exception table.
    let left = unsafe { __arch_copy_from_user(dst.as_mut_ptr(), src, dst.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Copy `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), Errno> {
    if !access_ok(dst, src.len()) {
        return Err(Errno::EFAULT);
    }
    // SAFETY: as in copy_from_user, the other way round.
    let left = unsafe { __arch_copy_to_user(dst, src.as_ptr(), src.len()) };
    if left == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Copy `n` bytes from user address `src` to `dst`, stopping at the first byte that
/// faults; returns how many bytes were *not* copied (Linux's `raw_copy_from_user`).
///
/// # Safety
///
/// `dst` must be valid for `n` bytes of writes, and `[src, src + n)` must be user space
/// ([`access_ok`]).
pub unsafe fn raw_copy_from_user(dst: *mut u8, src: u64, n: usize) -> usize {
    // SAFETY: the caller vouches for `dst` and for the range being user space; every user
    // load is covered by the exception table.
    unsafe { __arch_copy_from_user(dst, src, n) }
}

/// Copy `n` bytes from `src` to user address `dst`, stopping at the first byte that
/// faults; returns how many bytes were *not* copied (Linux's `raw_copy_to_user`).
///
/// # Safety
///
/// `src` must be valid for `n` bytes of reads, and `[dst, dst + n)` must be user space
/// ([`access_ok`]).
pub unsafe fn raw_copy_to_user(dst: u64, src: *const u8, n: usize) -> usize {
    // SAFETY: as in raw_copy_from_user, the other way round.
    unsafe { __arch_copy_to_user(dst, src, n) }
}

/// Zero `n` bytes at user address `dst`, stopping at the first byte that faults; returns
/// how many bytes were *not* zeroed (Linux's `__clear_user`).
///
/// # Safety
///
/// `[dst, dst + n)` must be user space ([`access_ok`]).
pub unsafe fn raw_clear_user(dst: u64, n: usize) -> usize {
    // SAFETY: the caller vouches for the range; every store is covered by the exception
    // table.
    unsafe { __arch_clear_user(dst, n) }
}

/// Zero `n` bytes of user memory at `dst`.
pub fn clear_user(dst: u64, n: usize) -> Result<(), Errno> {
    if !access_ok(dst, n) {
        return Err(Errno::EFAULT);
    }
    // SAFETY: the range is user space; every store is covered by the exception table.
    if unsafe { __arch_clear_user(dst, n) } == 0 {
        Ok(())
    } else {
        Err(Errno::EFAULT)
    }
}

/// Copy a NUL-terminated string from user space into `dst`. Returns its length without
/// the NUL; `ENAMETOOLONG` if it does not fit `dst` with its NUL.
pub fn strncpy_from_user(dst: &mut [u8], src: u64) -> Result<usize, Errno> {
    // Only the part of the range inside user space may be read.
    let room = dst.len().min(TASK_SIZE.saturating_sub(src) as usize);
    if room == 0 {
        return Err(Errno::EFAULT);
    }
    // SAFETY: `dst` holds `room` bytes; the source bytes lie in user space and every load is
    // covered by the exception table.
    let n = unsafe { __arch_strncpy_from_user(dst.as_mut_ptr(), src, room) };
    match n {
        n if n < 0 => Err(Errno::EFAULT),
        n if n as usize >= dst.len() => Err(Errno::ENAMETOOLONG),
        n if n as usize == room => Err(Errno::EFAULT),
        n => Ok(n as usize),
    }
}

/// Read kernel memory at `src` without oopsing if it is unmapped (Linux's
/// `copy_from_kernel_nofault`).
pub fn copy_from_kernel_nofault(dst: &mut [u8], src: u64) -> Result<(), Errno> {
    // SAFETY: `dst` is a valid buffer; faulting loads from `src` are fixed up.
    match unsafe { __copy_nofault(dst.as_mut_ptr(), src as *const u8, dst.len()) } {
        0 => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// Write kernel memory at `dst` without oopsing if it is unmapped or read-only (Linux's
/// `copy_to_kernel_nofault`).
///
/// # Safety
///
/// A write that succeeds changes kernel memory: the caller must know that nothing relies on
/// what is overwritten (tests use it on memory they own, or expect it to fail).
pub unsafe fn copy_to_kernel_nofault(dst: u64, src: &[u8]) -> Result<(), Errno> {
    // SAFETY: the caller vouches for the destination; faulting stores are fixed up.
    match unsafe { __copy_nofault(dst as *mut u8, src.as_ptr(), src.len()) } {
        0 => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// The result of the futex helpers: the 32-bit value, or EFAULT if bit 32 says the word was
/// out of reach.
fn futex_result(raw: u64) -> Result<u32, Errno> {
    if raw >> 32 != 0 {
        Err(Errno::EFAULT)
    } else {
        Ok(raw as u32)
    }
}

/// Atomically replace the user word at `uaddr` with `new` if it holds `old`; returns the
/// value found (Linux's `futex_atomic_cmpxchg_inatomic`). `uaddr` must be 4-byte aligned.
pub fn futex_cmpxchg_user(uaddr: u64, old: u32, new: u32) -> Result<u32, Errno> {
    if !access_ok(uaddr, 4) || !uaddr.is_multiple_of(4) {
        return Err(Errno::EFAULT);
    }
    // SAFETY: the word is aligned user space; the exclusive load and store are covered by
    // the exception table, so a missing page returns the fault marker.
    futex_result(unsafe { __arch_futex_cmpxchg(uaddr, old, new) })
}

/// Atomically apply FUTEX_OP `op` (0 SET, 1 ADD, 2 OR, 3 ANDN, 4 XOR) with `oparg` to the
/// user word at `uaddr`; returns its old value (Linux's `arch_futex_atomic_op_inuser`).
pub fn futex_atomic_op_user(op: u32, oparg: u32, uaddr: u64) -> Result<u32, Errno> {
    if op > 4 {
        return Err(Errno::ENOSYS);
    }
    if !access_ok(uaddr, 4) || !uaddr.is_multiple_of(4) {
        return Err(Errno::EFAULT);
    }
    // SAFETY: as in `futex_cmpxchg_user`.
    futex_result(unsafe { __arch_futex_atomic_op(op, oparg, uaddr) })
}

/// If `regs.pc` is an instruction listed in `__ex_table`, move it to its fixup and return
/// true (Linux's `fixup_exception`).
pub fn fixup_exception(regs: &mut PtRegs) -> bool {
    let start = &raw const __start___ex_table as usize;
    let end = &raw const __stop___ex_table as usize;
    let mut entry = start;
    while entry + 8 <= end {
        // SAFETY: the linker script collects whole 8-byte `__ex_table` entries (two i32
        // offsets relative to each field) between the two symbols, in read-only data.
        let (insn, fixup) = unsafe {
            let p = entry as *const i32;
            (
                entry as i64 + p.read() as i64,
                entry as i64 + 4 + p.add(1).read() as i64,
            )
        };
        if insn as u64 == regs.pc {
            regs.pc = fixup as u64;
            return true;
        }
        entry += 8;
    }
    false
}
