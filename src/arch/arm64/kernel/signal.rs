//! The arm64 signal frame: running a user's handler and returning from it (Linux:
//! `arch/arm64/kernel/signal.c`, `arch/arm64/include/uapi/asm/sigcontext.h`,
//! `arch/arm64/include/uapi/asm/ucontext.h`).
//!
//! `do_signal` runs on every return to user space with a signal to act on, or after a
//! system call that asked to be restarted. It first rewinds an interrupted system call
//! (pc back over the `svc`, x0 back to its first argument), then asks the generic code for
//! a signal with a handler. If there is one, `setup_rt_frame` writes a `struct rt_sigframe`
//! on the user's stack (or the alternate stack) and points the registers at the handler;
//! the handler's `ret` goes to `sa_restorer` (or, as glibc leaves it unset, to a trampoline
//! page standing in for the vDSO's), which calls `rt_sigreturn` to read the frame back. The frame, byte for byte as Linux lays it out:
//!
//! ```text
//! rt_sigframe (4688 bytes, 16-aligned)          offset
//!   siginfo_t info                                   0   (128 bytes)
//!   struct ucontext uc                             128
//!     uc_flags                                     128
//!     uc_link                                      136
//!     uc_stack { ss_sp, ss_flags, ss_size }        144, 152, 160
//!     uc_sigmask (sigset_t, 8 bytes)               168
//!     __unused[1024/8 - 8]                         176   (120 bytes)
//!     uc_mcontext (struct sigcontext, 16-aligned)  304
//!       fault_address                              304
//!       regs[31]                                   312
//!       sp, pc, pstate                             560, 568, 576
//!       __reserved[4096] (16-aligned)              592
//!         fpsimd_context { head { magic 0x46508001, size 528 },
//!                          fpsr, fpcr, vregs[32] } 592   (vregs at 608)
//!         terminator _aarch64_ctx { 0, 0 }        1120
//! frame_record { fp, lr }                         4688   (just above the frame)
//! ```
//!
//! The FP/SIMD registers are live in the CPU while the task is in the kernel (the kernel is
//! soft-float), so the frame takes them straight from the registers and `rt_sigreturn`
//! loads them straight back.

use alloc::vec;
use core::sync::atomic::Ordering;

use crate::arch::fpsimd::{fpsimd_load, fpsimd_save, FpsimdState};
use crate::arch::ptrace::{PtRegs, PSR_MODE_EL0T, PSR_MODE_MASK};
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::signal::{
    self as signal, sa, KSignal, ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS, ERESTART_RESTARTBLOCK,
};
use crate::kernel::task::current;

/// `offsetof(struct rt_sigframe, uc)`.
const UC: usize = 128;
/// `offsetof(struct ucontext, uc_stack)`, from the frame.
const UC_STACK: usize = UC + 16;
/// `offsetof(struct ucontext, uc_sigmask)`, from the frame.
const UC_SIGMASK: usize = UC + 40;
/// `offsetof(struct ucontext, uc_mcontext)`: after 48 bytes of header and 120 of
/// `__unused`, rounded up to 16.
const UC_MCONTEXT: usize = UC + (40usize + 8 + (1024 / 8 - 8)).next_multiple_of(16);
/// `sigcontext.regs`.
const SC_REGS: usize = UC_MCONTEXT + 8;
/// `sigcontext.sp`.
const SC_SP: usize = SC_REGS + 31 * 8;
/// `sigcontext.pc`.
const SC_PC: usize = SC_SP + 8;
/// `sigcontext.pstate`.
const SC_PSTATE: usize = SC_PC + 8;
/// `sigcontext.__reserved` (16-aligned).
const SC_RESERVED: usize = (SC_PSTATE + 8).next_multiple_of(16);
/// Size of `__reserved`.
const RESERVED_SIZE: usize = 4096;
/// `sizeof(struct rt_sigframe)`.
const RT_SIGFRAME_SIZE: usize = SC_RESERVED + RESERVED_SIZE;

/// `FPSIMD_MAGIC`: the record holding v0-v31, FPSR and FPCR.
const FPSIMD_MAGIC: u32 = 0x4650_8001;
/// `sizeof(struct fpsimd_context)`: head (8), fpsr, fpcr, then 32 16-byte vregs at 16.
const FPSIMD_CONTEXT_SIZE: usize = 16 + 32 * 16;
/// `ESR_MAGIC`: the fault's ESR (Linux writes it for faults; accepted and ignored here).
const ESR_MAGIC: u32 = 0x4553_5201;
/// `sizeof(struct frame_record)`.
const FRAME_RECORD_SIZE: u64 = 16;

const _: () = assert!(UC_STACK == 144 && UC_SIGMASK == 168);
const _: () = assert!(UC_MCONTEXT == 304 && SC_REGS == 312);
const _: () = assert!(SC_SP == 560 && SC_PC == 568 && SC_PSTATE == 576);
const _: () = assert!(SC_RESERVED == 592 && RT_SIGFRAME_SIZE == 4688);
const _: () = assert!(RT_SIGFRAME_SIZE.is_multiple_of(16));
const _: () = assert!(FPSIMD_CONTEXT_SIZE == 528);

/// PSTATE bits a user's frame may carry: NZCV, DIT, TCO, SSBS, BTYPE. The mode must be
/// EL0t and D, A, I, F clear; anything else (PAN, UAO, SS, IL, AArch32 state) is a bad
/// frame (Linux's `valid_user_regs`, strict where Linux silently clears).
const PSR_USER_ALLOWED: u64 = 0xf000_0000 | 1 << 24 | 1 << 25 | 1 << 12 | 0b11 << 10;

fn put_u32(buf: &mut [u8], off: usize, v: u32) {
    buf[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(buf: &mut [u8], off: usize, v: u64) {
    buf[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

fn get_u32(buf: &[u8], off: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[off..off + 4]);
    u32::from_le_bytes(b)
}

fn get_u64(buf: &[u8], off: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[off..off + 8]);
    u64::from_le_bytes(b)
}

/// x0 after an interrupted syscall: one of the restart codes.
#[inline]
fn restart_code(x0: u64) -> Option<Errno> {
    // The codes are -516..=-512: one range test rejects every ordinary return value.
    if !(ERESTART_RESTARTBLOCK.to_syscall_ret()..=ERESTARTSYS.to_syscall_ret())
        .contains(&(x0 as i64))
    {
        return None;
    }
    [
        ERESTARTSYS,
        ERESTARTNOINTR,
        ERESTARTNOHAND,
        ERESTART_RESTARTBLOCK,
    ]
    .into_iter()
    .find(|e| x0 == e.to_syscall_ret() as u64)
}

/// True if the return to user space has signal work: a signal to act on, or a system call
/// that asked to be restarted (Linux's `_TIF_SIGPENDING` test in `exit_to_user_mode`).
#[inline]
pub fn has_signal_work(regs: &PtRegs) -> bool {
    signal::signal_pending(current())
        || (regs.syscallno >= 0 && restart_code(regs.regs[0]).is_some())
}

/// Deliver a pending signal, or restart an interrupted system call (Linux's arm64
/// `do_signal`). Called with interrupts enabled, on the way back to user space. Out of
/// line, so the return path's common case (no work) keeps a small stack frame.
#[inline(never)]
pub fn do_signal(regs: &mut PtRegs) {
    let continue_addr = regs.pc;
    let mut restart = None;
    if regs.syscallno >= 0 {
        // forget_syscall: whatever happens next, this syscall is not looked at again.
        regs.syscallno = -1;
        restart = restart_code(regs.regs[0]);
        if restart.is_some() {
            regs.regs[0] = regs.orig_x0;
            regs.pc = continue_addr.wrapping_sub(4);
        }
    }
    if let Some(ksig) = signal::get_signal() {
        if let Some(code) = restart {
            let eintr = code == ERESTARTNOHAND
                || code == ERESTART_RESTARTBLOCK
                || (code == ERESTARTSYS && ksig.action.flags & sa::SA_RESTART == 0);
            if eintr {
                regs.regs[0] = Errno::EINTR.to_syscall_ret() as u64;
                regs.pc = continue_addr;
            }
        }
        handle_signal(&ksig, regs);
        return;
    }
    if restart == Some(ERESTART_RESTARTBLOCK) {
        regs.regs[8] = crate::arch::unistd::__NR_restart_syscall;
    }
    // No handler ran: the mask rt_sigsuspend replaced comes back now.
    let saved = current().sigstate.lock().saved_sigmask.take();
    if let Some(mask) = saved {
        signal::set_current_blocked(mask);
    }
}

/// Run the handler of `ksig`: build its frame, then block its mask (Linux's
/// `handle_signal` → `signal_setup_done`). A frame that cannot be written kills the task
/// with SIGSEGV, as Linux's `force_sigsegv`.
fn handle_signal(ksig: &KSignal, regs: &mut PtRegs) {
    let task = current();
    let oldset = task
        .sigstate
        .lock()
        .saved_sigmask
        .take()
        .unwrap_or_else(|| task.blocked.load(Ordering::Relaxed));
    if let Err(e) = setup_rt_frame(ksig, oldset, regs) {
        log::info!(
            "{}[{}]: cannot deliver signal {} ({}): killed by SIGSEGV",
            task.comm(),
            task.pid(),
            ksig.signo,
            e
        );
        signal::force_sigsegv();
    }
    let mut blocked = task.blocked.load(Ordering::Relaxed) | ksig.action.mask;
    if ksig.action.flags & sa::SA_NODEFER == 0 {
        blocked |= signal::bit(ksig.signo);
    }
    signal::set_current_blocked(blocked);
}

/// Write the frame for `ksig` and point `regs` at the handler (Linux's `setup_rt_frame`,
/// `get_sigframe`, `setup_sigframe`, `setup_return`).
fn setup_rt_frame(ksig: &KSignal, oldset: u64, regs: &mut PtRegs) -> Result<(), Errno> {
    let action = &ksig.action;
    let restorer = if action.flags & sa::SA_RESTORER != 0 && action.restorer != 0 {
        action.restorer
    } else {
        sigtramp()?
    };
    let task = current();
    let altstack = task.sigstate.lock().altstack;

    // get_sigframe: the alternate stack if asked for and not already on it.
    let mut sp = regs.sp;
    if action.flags & sa::SA_ONSTACK != 0 && altstack.size != 0 && !altstack.on_stack(sp) {
        sp = altstack.sp.wrapping_add(altstack.size);
    }
    let record = (sp.wrapping_sub(FRAME_RECORD_SIZE)) & !15;
    let frame = record.wrapping_sub(RT_SIGFRAME_SIZE as u64) & !15;
    if frame > record || record > sp {
        return Err(Errno::EFAULT); // wrapped below zero
    }

    let mut buf = vec![0u8; RT_SIGFRAME_SIZE];
    if action.flags & sa::SA_SIGINFO != 0 {
        buf[..128].copy_from_slice(&ksig.info.to_user_bytes());
    }
    // uc_flags, uc_link: 0. uc_stack: __save_altstack, with the interrupted sp.
    put_u64(&mut buf, UC_STACK, altstack.sp);
    put_u32(&mut buf, UC_STACK + 8, altstack.flags_for(regs.sp) as u32);
    put_u64(&mut buf, UC_STACK + 16, altstack.size);
    put_u64(&mut buf, UC_SIGMASK, oldset);
    // setup_sigframe: fault_address (the faulting address for a fault's signal, as Linux's
    // `current->thread.fault_address`; else 0), the registers, then the records in
    // __reserved.
    if ksig.info.is_fault() {
        put_u64(&mut buf, UC_MCONTEXT, ksig.info.addr);
    }
    for (i, r) in regs.regs.iter().enumerate() {
        put_u64(&mut buf, SC_REGS + i * 8, *r);
    }
    put_u64(&mut buf, SC_SP, regs.sp);
    put_u64(&mut buf, SC_PC, regs.pc);
    put_u64(&mut buf, SC_PSTATE, regs.pstate);
    let mut fp = FpsimdState::ZERO;
    // SAFETY: `fp` is a local only this call uses. Saving only reads the registers, which
    // hold this task's user FP/SIMD state while it is in the kernel; a context switch in
    // the middle saves and restores those same values.
    unsafe { fpsimd_save(&mut fp) };
    let rec = SC_RESERVED;
    put_u32(&mut buf, rec, FPSIMD_MAGIC);
    put_u32(&mut buf, rec + 4, FPSIMD_CONTEXT_SIZE as u32);
    put_u32(&mut buf, rec + 8, fp.fpsr);
    put_u32(&mut buf, rec + 12, fp.fpcr);
    for (i, v) in fp.vregs.iter().enumerate() {
        buf[rec + 16 + i * 16..rec + 32 + i * 16].copy_from_slice(&v.to_le_bytes());
    }
    // The terminator at rec + 528 is already zero.

    let mut frame_record = [0u8; 16];
    frame_record[..8].copy_from_slice(&regs.regs[29].to_le_bytes());
    frame_record[8..].copy_from_slice(&regs.pc.to_le_bytes());
    copy_to_user(record, &frame_record)?;
    copy_to_user(frame, &buf)?;

    if altstack.flags & signal::SS_AUTODISARM != 0 && sp != regs.sp {
        task.sigstate.lock().altstack = signal::AltStack::default();
    }

    // setup_return.
    regs.regs[0] = ksig.signo as u64;
    if action.flags & sa::SA_SIGINFO != 0 {
        regs.regs[1] = frame;
        regs.regs[2] = frame + UC as u64;
    }
    regs.sp = frame;
    regs.regs[29] = record;
    regs.pc = action.handler;
    regs.regs[30] = restorer;
    regs.pstate &= !(0b11 << 10); // BTYPE: the handler starts a fresh branch
    Ok(())
}

/// The return trampoline: `mov x8, #__NR_rt_sigreturn; svc #0` (Linux's vDSO
/// `__kernel_rt_sigreturn`).
const SIGTRAMP_CODE: [u32; 2] = [0xd280_1168, 0xd400_0001];

/// The address of the task's sigreturn trampoline.
///
/// Linux returns from a handler without SA_RESTORER through `__kernel_rt_sigreturn` in the
/// vDSO — and glibc on arm64 never sets SA_RESTORER, counting on it. So does Cradle when
/// the address space has the vDSO. Without one (its set-up failed at boot), a one-page
/// trampoline is mapped into the address space the first time a handler needs it (much as
/// Linux's 32-bit ARM maps its `[sigpage]`); `execve` forgets it with the rest of the old
/// address space.
fn sigtramp() -> Result<u64, Errno> {
    let task = current();
    let known = task.sigstate.lock().sigtramp;
    if known != 0 {
        return Ok(known);
    }
    let mm = task.mm().ok_or(Errno::EFAULT)?;
    let vdso = mm.inner.lock().vdso_base;
    if vdso != 0 {
        return Ok(vdso + super::vdso::VDSO_RT_SIGRETURN);
    }
    let page = crate::arch::memory::PAGE_SIZE;
    let addr = mm.get_unmapped_area(page)?;
    mm.map_region(
        addr,
        page,
        crate::mm::vma::VmFlags::READ | crate::mm::vma::VmFlags::EXEC,
    )?;
    let mut code = [0u8; 8];
    code[..4].copy_from_slice(&SIGTRAMP_CODE[0].to_le_bytes());
    code[4..].copy_from_slice(&SIGTRAMP_CODE[1].to_le_bytes());
    mm.populate_write(addr, &code)?;
    task.sigstate.lock().sigtramp = addr;
    Ok(addr)
}

/// `rt_sigreturn(2)`: the handler is done; restore the registers, mask, FP/SIMD state and
/// alternate stack from the frame at the user's sp. Returns the restored x0, which
/// `el0_svc` leaves alone. A frame that does not check out kills the task with SIGSEGV
/// (Linux's `arm64_notify_segfault`).
pub fn sys_rt_sigreturn(regs: &mut PtRegs) -> Result<u64, Errno> {
    // Any restart that was pending when the handler ran is forgotten.
    current().sigstate.lock().restart_nanosleep = None;
    let frame = regs.sp;
    let restored = if frame & 15 != 0 {
        None
    } else {
        let mut buf = vec![0u8; RT_SIGFRAME_SIZE];
        match copy_from_user(&mut buf, frame) {
            Ok(()) => restore_sigframe(&buf),
            Err(_) => None,
        }
    };
    let Some(restored) = restored else {
        let task = current();
        log::info!(
            "{}[{}]: bad signal frame at {frame:#x} (pc {:#x}): killed by SIGSEGV",
            task.comm(),
            task.pid(),
            regs.pc
        );
        signal::force_sigsegv();
    };
    regs.regs = restored.regs;
    regs.sp = restored.sp;
    regs.pc = restored.pc;
    regs.pstate = restored.pstate;
    regs.syscallno = -1; // forget_syscall: never restart across a sigreturn
    signal::set_current_blocked(restored.sigmask);
    // SAFETY: `restored.fp` is a local FP/SIMD image; loading it makes it this task's live
    // user state, which is where the task's registers belong while it runs.
    unsafe { fpsimd_load(&restored.fp) };
    restore_altstack(&restored);
    Ok(regs.regs[0])
}

/// What a valid frame holds.
struct Restored {
    regs: [u64; 31],
    sp: u64,
    pc: u64,
    pstate: u64,
    sigmask: u64,
    fp: FpsimdState,
    ss_sp: u64,
    ss_flags: i32,
    ss_size: u64,
}

/// Parse and check a frame (Linux's `restore_sigframe`, `parse_user_sigframe`,
/// `valid_user_regs`). None if it is bad.
fn restore_sigframe(buf: &[u8]) -> Option<Restored> {
    let mut regs = [0u64; 31];
    for (i, r) in regs.iter_mut().enumerate() {
        *r = get_u64(buf, SC_REGS + i * 8);
    }
    let pstate = get_u64(buf, SC_PSTATE);
    if pstate & PSR_MODE_MASK != PSR_MODE_EL0T || pstate & !PSR_USER_ALLOWED != 0 {
        return None;
    }
    // The records in __reserved: exactly one FPSIMD record, then the terminator.
    let mut fp = None;
    let mut off = 0;
    loop {
        if off + 8 > RESERVED_SIZE {
            return None;
        }
        let magic = get_u32(buf, SC_RESERVED + off);
        let size = get_u32(buf, SC_RESERVED + off + 4) as usize;
        if magic == 0 {
            if size != 0 {
                return None;
            }
            break;
        }
        if size < 8 || !size.is_multiple_of(16) || size > RESERVED_SIZE - off {
            return None;
        }
        match magic {
            FPSIMD_MAGIC if size == FPSIMD_CONTEXT_SIZE && fp.is_none() => {
                let rec = SC_RESERVED + off;
                let mut state = FpsimdState::ZERO;
                state.fpsr = get_u32(buf, rec + 8);
                state.fpcr = get_u32(buf, rec + 12);
                for (i, v) in state.vregs.iter_mut().enumerate() {
                    let mut b = [0u8; 16];
                    b.copy_from_slice(&buf[rec + 16 + i * 16..rec + 32 + i * 16]);
                    *v = u128::from_le_bytes(b);
                }
                fp = Some(state);
            }
            ESR_MAGIC => {}
            _ => return None,
        }
        off += size;
    }
    Some(Restored {
        regs,
        sp: get_u64(buf, SC_SP),
        pc: get_u64(buf, SC_PC),
        pstate,
        sigmask: get_u64(buf, UC_SIGMASK),
        fp: fp?,
        ss_sp: get_u64(buf, UC_STACK),
        ss_flags: get_u32(buf, UC_STACK + 8) as i32,
        ss_size: get_u64(buf, UC_STACK + 16),
    })
}

/// Put back the alternate stack the frame recorded, unless the restored context runs on
/// the current one (Linux's `restore_altstack`, which ignores all but EFAULT).
fn restore_altstack(restored: &Restored) {
    let task = current();
    let mut st = task.sigstate.lock();
    if st.altstack.on_stack(restored.sp) {
        return;
    }
    let mode = restored.ss_flags & !signal::SS_AUTODISARM;
    if mode & signal::SS_DISABLE != 0 {
        st.altstack = signal::AltStack::default();
    } else if restored.ss_size >= signal::MINSIGSTKSZ {
        st.altstack = signal::AltStack {
            sp: restored.ss_sp,
            size: restored.ss_size,
            flags: restored.ss_flags & signal::SS_AUTODISARM,
        };
    }
}
