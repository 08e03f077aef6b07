//! The vDSO: `clock_gettime`, `gettimeofday` and `clock_getres` without a system call, and
//! the signal return trampoline (Linux: `arch/arm64/kernel/vdso/vgettimeofday.c`,
//! `sigreturn.S`, `lib/vdso/gettimeofday.c`).
//!
//! This is not a module of the kernel: `build.rs` compiles it on its own (`rustc --emit obj`,
//! position-independent, for `aarch64-unknown-none-softfloat`) and links it with
//! `rust-lld -shared` and `vdso.lds` into `vdso.so`, which the kernel embeds and maps into
//! every process as `[vdso]`. It runs at EL0 in the process's address space: it may only
//! read the data page (the first page of `[vvar]`, two pages below its own first byte), read
//! the virtual counter (`CNTVCT_EL0`, which `CNTKCTL_EL1.EL0VCTEN` opens to EL0) and make
//! system calls. It must not need relocations or call into `core`'s out-of-line code:
//! nothing here panics, indexes or divides by a variable.
//!
//! Clocks the data page describes (`REALTIME`, `MONOTONIC`, `MONOTONIC_RAW`, `BOOTTIME`,
//! `TAI` and the two `_COARSE` ones) are computed here, by `vdso_data.rs`'s
//! `cycles_to_timespec`, the function the kernel's own clock is; every other clock and a bad
//! clock id go to the system call, which also produces the errors.
//!
//! `clock_gettime(CLOCK_MONOTONIC)` is what programs call most (every timed loop, every
//! event loop's clock), so `__kernel_clock_gettime` starts with eleven instructions of
//! assembly for it alone: the constants it needs never change, so it takes no sequence count,
//! and it reuses the clock id's register for the return value. The compiler's version of the
//! same code is one instruction longer (it compares and then sets 0 separately). Every other
//! clock continues in Rust.

#![no_std]
#![forbid(unsafe_op_in_unsafe_fn)]

use core::arch::{asm, global_asm};
use core::sync::atomic::{fence, Ordering};

#[path = "vdso_data.rs"]
#[allow(dead_code, reason = "the kernel's constants, shared with the writer")]
mod vdso_data;

use vdso_data::{cycles_to_timespec, VdsoData, NSEC_PER_SEC};

const CLOCK_REALTIME: i32 = 0;
const CLOCK_MONOTONIC: i32 = 1;
const CLOCK_MONOTONIC_RAW: i32 = 4;
const CLOCK_REALTIME_COARSE: i32 = 5;
const CLOCK_MONOTONIC_COARSE: i32 = 6;
const CLOCK_BOOTTIME: i32 = 7;
const CLOCK_TAI: i32 = 11;

const NR_GETTIMEOFDAY: u64 = 169;
const NR_CLOCK_GETTIME: u64 = 113;
const NR_CLOCK_GETRES: u64 = 114;

/// `struct timespec`.
#[repr(C)]
pub struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

/// `struct timeval`.
#[repr(C)]
pub struct Timeval {
    tv_sec: i64,
    tv_usec: i64,
}

/// `struct timezone`.
#[repr(C)]
pub struct Timezone {
    tz_minuteswest: i32,
    tz_dsttime: i32,
}

/// The data page: two pages below the vDSO (`_vdso_data`, from `vdso.lds`), reached
/// PC-relatively so that the vDSO needs no relocation.
fn vdso_data() -> &'static VdsoData {
    let p: *const VdsoData;
    // SAFETY: adrp/add compute an address and touch no memory.
    unsafe {
        asm!(
            "adrp {0}, _vdso_data",
            "add {0}, {0}, :lo12:_vdso_data",
            out(reg) p,
            options(nomem, nostack, pure, preserves_flags)
        );
    }
    // SAFETY: the kernel maps the data page there in every process that maps the vDSO,
    // for as long as the vDSO is mapped; its fields are atomics, only read here.
    unsafe { &*p }
}

/// The virtual counter (Linux's `__arch_get_hw_counter`): the `isb` keeps the read from
/// being taken before the instructions before it (the sequence count's read, a caller's
/// earlier clock read), as Linux's does.
fn counter() -> u64 {
    let cnt: u64;
    // SAFETY: reading CNTVCT_EL0 at EL0 is allowed (CNTKCTL_EL1.EL0VCTEN) and has no effect.
    unsafe { asm!("isb", "mrs {0}, cntvct_el0", out(reg) cnt, options(nomem, nostack)) };
    cnt
}

/// A system call with two arguments (the fallback).
fn syscall2(nr: u64, a0: u64, a1: u64) -> i64 {
    let ret: i64;
    // SAFETY: `svc #0` enters the kernel, which checks the arguments; only x0 changes.
    unsafe {
        asm!("svc #0", in("x8") nr, inlateout("x0") a0 as i64 => ret, in("x1") a1,
             options(nostack));
    }
    ret
}

/// The fields under the sequence count, read consistently (Linux's `vdso_read_begin` /
/// `vdso_read_retry` loop): (realtime offset seconds, its nanoseconds, coarse monotonic
/// seconds, its nanoseconds).
fn read_seq(data: &VdsoData) -> (u64, u64, u64, u64) {
    loop {
        let seq = data.seq.load(Ordering::Acquire);
        if seq & 1 != 0 {
            core::hint::spin_loop();
            continue;
        }
        let fields = (
            data.real_off_sec.load(Ordering::Relaxed),
            data.real_off_nsec.load(Ordering::Relaxed),
            data.coarse_mono_sec.load(Ordering::Relaxed),
            data.coarse_mono_nsec.load(Ordering::Relaxed),
        );
        fence(Ordering::Acquire);
        if data.seq.load(Ordering::Relaxed) == seq {
            return fields;
        }
    }
}

/// A clock as (seconds, nanoseconds), or `None` when the system call must answer (Linux's
/// `do_hres` and `do_coarse`).
fn clock_time(clock: i32) -> Option<(u64, u64)> {
    let data = vdso_data();
    let (mut sec, mut nsec) = match clock {
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_BOOTTIME => {
            return Some(cycles_to_timespec(
                counter(),
                data.sec_mult.load(Ordering::Relaxed),
            ))
        }
        CLOCK_REALTIME | CLOCK_TAI => {
            let (off_sec, off_nsec, _, _) = read_seq(data);
            let (sec, nsec) =
                cycles_to_timespec(counter(), data.sec_mult.load(Ordering::Relaxed));
            (sec.wrapping_add(off_sec), nsec + off_nsec)
        }
        CLOCK_MONOTONIC_COARSE => {
            let (_, _, sec, nsec) = read_seq(data);
            return Some((sec, nsec));
        }
        CLOCK_REALTIME_COARSE => {
            let (off_sec, off_nsec, sec, nsec) = read_seq(data);
            (sec.wrapping_add(off_sec), nsec + off_nsec)
        }
        _ => return None,
    };
    // Both nanosecond parts are below a second: at most one carries.
    if nsec >= NSEC_PER_SEC {
        nsec -= NSEC_PER_SEC;
        sec = sec.wrapping_add(1);
    }
    Some((sec, nsec))
}

// `__kernel_clock_gettime(clockid_t clock, struct timespec *ts)`, Linux's symbol.
// CLOCK_MONOTONIC is answered here, as `cycles_to_timespec` computes it (the two must stay
// the same function: the kernel's clock is that one); every other clock goes on to
// `vdso_clock_gettime` with its arguments unchanged. `subs` both tests for
// CLOCK_MONOTONIC and leaves the 0 to return in w0; `sec_mult` and `nsec_per_sec` are the
// data page's first two doublewords, and the page is page-aligned (`vdso.lds`), so `adrp`
// alone addresses them.
global_asm!(
    ".text",
    ".globl __kernel_clock_gettime",
    ".type __kernel_clock_gettime, %function",
    ".p2align 4",
    "__kernel_clock_gettime:",
    "subs w0, w0, #{monotonic}",
    "b.ne 1f",
    "adrp x2, _vdso_data",
    "ldp x3, x4, [x2]",   // sec_mult, NSEC_PER_SEC
    "isb",
    "mrs x5, cntvct_el0",
    "umulh x6, x5, x3",   // seconds: the high half of count * sec_mult
    "mul x5, x5, x3",     // the fraction of a second, in units of 2^-64 s
    "umulh x5, x5, x4",   // ... in nanoseconds
    "stp x6, x5, [x1]",
    "ret",
    "1:",
    "add w0, w0, #{monotonic}",
    "b vdso_clock_gettime",
    ".size __kernel_clock_gettime, . - __kernel_clock_gettime",
    monotonic = const CLOCK_MONOTONIC,
);

/// `clock_gettime(2)` for every clock but CLOCK_MONOTONIC (the rest of Linux's
/// `__kernel_clock_gettime`, which the assembly above branches to).
///
/// # Safety
///
/// `ts` must be writable, as for the system call.
#[no_mangle]
pub unsafe extern "C" fn vdso_clock_gettime(clock: i32, ts: *mut Timespec) -> i32 {
    match clock_time(clock) {
        Some((sec, ns)) => {
            // SAFETY: the caller passes a writable timespec.
            unsafe {
                (*ts).tv_sec = sec as i64;
                (*ts).tv_nsec = ns as i64;
            }
            0
        }
        None => syscall2(NR_CLOCK_GETTIME, clock as u64, ts as u64) as i32,
    }
}

/// Is `clock` one the data page describes?
fn vdso_clock(clock: i32) -> bool {
    matches!(
        clock,
        CLOCK_REALTIME
            | CLOCK_MONOTONIC
            | CLOCK_MONOTONIC_RAW
            | CLOCK_REALTIME_COARSE
            | CLOCK_MONOTONIC_COARSE
            | CLOCK_BOOTTIME
            | CLOCK_TAI
    )
}

/// `gettimeofday(2)` (Linux's `__kernel_gettimeofday`).
///
/// # Safety
///
/// `tv` and `tz` must each be writable or null, as for the system call.
#[no_mangle]
pub unsafe extern "C" fn __kernel_gettimeofday(tv: *mut Timeval, tz: *mut Timezone) -> i32 {
    if !tv.is_null() {
        let Some((sec, ns)) = clock_time(CLOCK_REALTIME) else {
            return syscall2(NR_GETTIMEOFDAY, tv as u64, tz as u64) as i32;
        };
        // SAFETY: the caller passes a writable timeval.
        unsafe {
            (*tv).tv_sec = sec as i64;
            (*tv).tv_usec = (ns / 1000) as i64;
        }
    }
    if !tz.is_null() {
        let data = vdso_data();
        // SAFETY: the caller passes a writable timezone.
        unsafe {
            (*tz).tz_minuteswest = data.tz_minuteswest.load(Ordering::Relaxed);
            (*tz).tz_dsttime = data.tz_dsttime.load(Ordering::Relaxed);
        }
    }
    0
}

/// `clock_getres(2)` (Linux's `__kernel_clock_getres`).
///
/// # Safety
///
/// `res` must be writable or null, as for the system call.
#[no_mangle]
pub unsafe extern "C" fn __kernel_clock_getres(clock: i32, res: *mut Timespec) -> i32 {
    let data = vdso_data();
    if !vdso_clock(clock) {
        return syscall2(NR_CLOCK_GETRES, clock as u64, res as u64) as i32;
    }
    let ns = match clock {
        CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => data.coarse_ns.load(Ordering::Relaxed),
        _ => data.hres_ns.load(Ordering::Relaxed),
    };
    if !res.is_null() {
        // SAFETY: the caller passes a writable timespec.
        unsafe {
            (*res).tv_sec = (ns / NSEC_PER_SEC) as i64;
            (*res).tv_nsec = (ns % NSEC_PER_SEC) as i64;
        }
    }
    0
}

// `__kernel_rt_sigreturn`: where a signal handler returns when it has no SA_RESTORER (the
// kernel puts this address in x30). The `nop` before the symbol is Linux's: unwinders look
// one instruction before a return address.
global_asm!(
    ".text",
    ".globl __kernel_rt_sigreturn",
    ".type __kernel_rt_sigreturn, %function",
    "nop",
    "__kernel_rt_sigreturn:",
    "mov x8, #139", // __NR_rt_sigreturn
    "svc #0",
    ".size __kernel_rt_sigreturn, . - __kernel_rt_sigreturn",
);
