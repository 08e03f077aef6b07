//! A task's CPU state (Linux: `arch/arm64/kernel/process.c`): showing its registers
//! (`__show_regs`), its first context (`copy_thread`), resetting it for a new program
//! (`flush_thread`) and switching to another task (`__switch_to`).

use crate::arch::processor::CpuContext;
use crate::arch::ptrace::PtRegs;
use crate::arch::stacktrace::walk_stackframe;
use crate::kernel::kallsyms::{Ksym, KsymBacktrace};
use crate::kernel::printk::printk_emergency;
use crate::kernel::task::{current, TaskStruct};

/// PSTATE flags as Linux prints them: `nZCv daif -PAN -UAO -TCO -DIT -SSBS BTYPE=--`.
struct Pstate(u64);

impl core::fmt::Display for Pstate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let p = self.0;
        let flag = |bit: u64, c: char| {
            if p & (1 << bit) != 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        };
        let sign = |bit: u64| if p & (1 << bit) != 0 { '+' } else { '-' };
        let btype = ["--", "-c", "j-", "jc"][((p >> 10) & 3) as usize];
        write!(
            f,
            "{}{}{}{} {}{}{}{} {}PAN {}UAO {}TCO {}DIT {}SSBS BTYPE={}",
            flag(31, 'n'),
            flag(30, 'z'),
            flag(29, 'c'),
            flag(28, 'v'),
            flag(9, 'd'),
            flag(8, 'a'),
            flag(7, 'i'),
            flag(6, 'f'),
            sign(22),
            sign(23),
            sign(25),
            sign(24),
            sign(12),
            btype
        )
    }
}

/// Linux's `show_regs`: who was running, the registers, and the call trace.
pub fn show_regs(regs: &PtRegs) {
    let task = current();
    printk_emergency(format_args!(
        "CPU: {} PID: {} Comm: {} Not tainted {} #1",
        crate::arch::percpu::smp_processor_id(),
        task.pid(),
        task.comm(),
        crate::init::version::CRADLE_VERSION
    ));
    if let Some(model) = crate::arch::setup::machine_model() {
        printk_emergency(format_args!("Hardware name: {model} (DT)"));
    }
    printk_emergency(format_args!(
        "pstate: {:08x} ({})",
        regs.pstate,
        Pstate(regs.pstate)
    ));
    printk_emergency(format_args!("pc : {}", Ksym(regs.pc)));
    printk_emergency(format_args!("lr : {}", Ksym(regs.regs[30])));
    printk_emergency(format_args!("sp : {:016x}", regs.sp));
    // Three registers a line, from x29 down to x0, as Linux prints them.
    for top in (2..30).rev().step_by(3) {
        printk_emergency(format_args!(
            "x{:<2}: {:016x} x{:<2}: {:016x} x{:<2}: {:016x}",
            top,
            regs.regs[top],
            top - 1,
            regs.regs[top - 1],
            top - 2,
            regs.regs[top - 2]
        ));
    }
    printk_emergency(format_args!("Call trace:"));
    printk_emergency(format_args!(" {}", Ksym(regs.pc)));
    walk_stackframe(regs.regs[29], |lr| {
        printk_emergency(format_args!(" {}", KsymBacktrace(lr)))
    });
}

/// Linux's `dump_stack`: a call trace from the caller, with who is running.
pub fn dump_stack() {
    let task = current();
    printk_emergency(format_args!(
        "CPU: {} PID: {} Comm: {} Not tainted {} #1",
        crate::arch::percpu::smp_processor_id(),
        task.pid(),
        task.comm(),
        crate::init::version::CRADLE_VERSION
    ));
    printk_emergency(format_args!("Call trace:"));
    walk_stackframe(crate::arch::stacktrace::current_frame_pointer(), |lr| {
        printk_emergency(format_args!(" {}", KsymBacktrace(lr)))
    });
}

/// The pt_regs at the top of `task`'s kernel stack: where its user context is saved on
/// every entry from EL0 (Linux's `task_pt_regs`).
pub fn task_pt_regs(task: &TaskStruct) -> *mut PtRegs {
    (task.stack_base() + crate::arch::memory::THREAD_SIZE - core::mem::size_of::<PtRegs>())
        as *mut PtRegs
}

/// Set up a new task's first context (Linux's `copy_thread`): it starts in
/// `ret_from_fork` with its pt_regs at the top of its stack.
pub fn copy_thread(p: &TaskStruct, args: &crate::kernel::fork::KernelCloneArgs<'_>) {
    let childregs = task_pt_regs(p);
    let mut ctx = CpuContext::default();
    let regs = match args.fn_ {
        Some(f) => {
            // A kernel thread: no user context; its function and argument ride in x19/x20.
            ctx.x19_x28[0] = f as usize as u64;
            ctx.x19_x28[1] = args.fn_arg as u64;
            PtRegs {
                pstate: crate::arch::ptrace::PSR_MODE_EL1H,
                ..PtRegs::default()
            }
        }
        None => {
            // A user fork: the parent's registers, but fork returns 0 in the child.
            // SAFETY: the current task entered the kernel from EL0 (it is forking), so its
            // pt_regs at the top of its stack are its saved user context.
            let mut regs = unsafe { *task_pt_regs(current()) };
            regs.regs[0] = 0;
            if args.stack != 0 {
                regs.sp = args.stack;
            }
            regs
        }
    };
    // SAFETY: `childregs` is inside the new task's own, unused stack.
    unsafe { childregs.write(regs) };
    ctx.pc = crate::arch::entry::ret_from_fork as *const () as u64;
    ctx.sp = childregs as u64;
    // SAFETY: the new task is not running and nothing else refers to its thread state yet.
    let thread = unsafe { &mut *p.thread.get() };
    thread.cpu_context = ctx;
    if args.fn_.is_none() {
        thread.tp_value = if args.flags & crate::kernel::fork::clone::CLONE_SETTLS != 0 {
            args.tls
        } else {
            read_tpidr_el0()
        };
        // The child starts with the parent's vector registers, which are live in the CPU.
        // SAFETY: the child's FP/SIMD area is ours alone until it first runs.
        unsafe { crate::arch::fpsimd::fpsimd_save(&mut thread.fpsimd) };
    }
}

/// The user thread pointer register, TPIDR_EL0 (TLS).
#[inline(always)]
fn read_tpidr_el0() -> u64 {
    let tls: u64;
    // SAFETY: reading TPIDR_EL0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, tpidr_el0", out(reg) tls, options(nomem, nostack)) };
    tls
}

/// Set the user thread pointer register, TPIDR_EL0.
#[inline(always)]
fn write_tpidr_el0(tls: u64) {
    // SAFETY: TPIDR_EL0 is user space's TLS pointer; the kernel does not use it.
    unsafe { core::arch::asm!("msr tpidr_el0, {}", in(reg) tls, options(nostack)) };
}

/// Reset the current task's user thread state for a new program: no TLS, zeroed FP/SIMD
/// registers (Linux's `flush_thread`: `fpsimd_flush_thread`, `tls_thread_flush`).
pub fn flush_thread(task: &TaskStruct) {
    // SAFETY: `task` is the running task (execve calls this for itself): its thread state is
    // its own.
    unsafe {
        let thread = &mut *task.thread.get();
        thread.tp_value = 0;
        write_tpidr_el0(0);
        thread.fpsimd = crate::arch::fpsimd::FpsimdState::ZERO;
        crate::arch::fpsimd::fpsimd_load(&thread.fpsimd);
    }
}

/// Switch the CPU from `prev` to `next`: FP/SIMD registers and TLS, the per-CPU entry task,
/// then the stack and callee-saved registers (Linux's `__switch_to`: `fpsimd_thread_switch`,
/// `tls_thread_switch`, `entry_task_switch`, `cpu_switch_to`). Returns, in the context of
/// `prev` once something switches back to it, the task that ran just before.
///
/// # Safety
///
/// Called by the scheduler only, with the run-queue lock held and interrupts masked; `prev`
/// is the running task and `next` a task with a valid saved context and stack. `next`
/// releases the run-queue lock (`finish_task_switch` or `schedule_tail`).
#[inline(always)]
pub unsafe fn __switch_to(prev: &TaskStruct, next: &TaskStruct) -> *const TaskStruct {
    // SAFETY: only the CPU running a task, or cpu_switch_to with the run-queue lock held,
    // touches its `thread` (TaskStruct's invariant); both tasks are ours here (the caller's
    // contract).
    unsafe {
        let prev_thread = &mut *prev.thread.get();
        let next_thread = &*next.thread.get();
        if prev.mm.lock().is_some() {
            crate::arch::fpsimd::fpsimd_save(&mut prev_thread.fpsimd);
        }
        if next.mm.lock().is_some() {
            crate::arch::fpsimd::fpsimd_load(&next_thread.fpsimd);
        }
        prev_thread.tp_value = read_tpidr_el0();
        write_tpidr_el0(next_thread.tp_value);
    }
    crate::arch::percpu::this_cpu().entry_task.store(
        next as *const TaskStruct as *mut TaskStruct,
        core::sync::atomic::Ordering::Relaxed,
    );
    // SAFETY: both tasks have valid saved contexts and stacks; the run-queue lock is held
    // and will be released by `next` (the caller's contract).
    let last = unsafe {
        crate::arch::entry::cpu_switch_to(
            prev as *const TaskStruct as *const core::ffi::c_void,
            next as *const TaskStruct as *const core::ffi::c_void,
        )
    };
    last.cast::<TaskStruct>()
}
