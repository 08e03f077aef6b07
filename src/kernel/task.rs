//! `struct task_struct`: a thread of execution (Linux: `include/linux/sched.h`).
//!
//! The running task on a CPU is `current`, found through `sp_el0` exactly as Linux arm64
//! finds it. PID 0, `init_task`, is the only task not created by `copy_process`: it is a
//! static (src/init/init_task.rs) whose stack the linker script places.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicUsize, Ordering};

use alloc::sync::Arc;

use crate::arch::arm64::memory::THREAD_SIZE;
use crate::kernel::sync::SpinLock;
use crate::mm::mm_types::MmStruct;

/// Registers `cpu_switch_to` saves: the callee-saved ones, the frame pointer, sp and the
/// resume pc (Linux: `struct cpu_context`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuContext {
    /// x19..x28.
    pub x19_x28: [u64; 10],
    /// x29, the frame pointer.
    pub fp: u64,
    /// The kernel stack pointer.
    pub sp: u64,
    /// Where the task resumes (x30 at the switch; `ret_from_fork` for a new task).
    pub pc: u64,
}

/// Architecture state of a task that is not in its pt_regs (Linux: `struct thread_struct`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadStruct {
    /// Saved by `cpu_switch_to`.
    pub cpu_context: CpuContext,
    /// TPIDR_EL0, the user thread pointer (TLS).
    pub tp_value: u64,
}

/// Task is runnable or running (Linux: TASK_RUNNING).
pub const TASK_RUNNING: u32 = 0x0000;
/// A kernel thread (Linux: PF_KTHREAD).
pub const PF_KTHREAD: u32 = 0x0020_0000;
/// The idle task of a CPU (Linux: PF_IDLE).
pub const PF_IDLE: u32 = 0x0000_0002;
/// Length of `comm`, NUL included (Linux: TASK_COMM_LEN).
pub const TASK_COMM_LEN: usize = 16;
/// Written at the lowest address of every kernel stack; a changed value means the stack
/// overflowed (Linux: STACK_END_MAGIC).
pub const STACK_END_MAGIC: u64 = 0x57AC_6E9D;

/// A task.
///
/// # Invariants
///
/// `thread` is only touched by the CPU running the task or, while the task is switched
/// out, by `cpu_switch_to` with the run-queue lock held.
#[repr(C)]
pub struct TaskStruct {
    /// Saved context; first, so `asm/entry.S` finds it at offset 0.
    pub thread: UnsafeCell<ThreadStruct>,
    /// Lowest address of the kernel stack (the stack grows down from `stack + THREAD_SIZE`).
    pub stack: AtomicUsize,
    /// Process ID (the thread's ID; Linux's `pid`).
    pub pid: AtomicI32,
    /// Thread group ID (the process's ID).
    pub tgid: AtomicI32,
    /// TASK_* state.
    pub state: AtomicU32,
    /// PF_* flags.
    pub flags: AtomicU32,
    /// Executable name, NUL-padded (Linux: `comm`). Lock: its own.
    pub comm: SpinLock<[u8; TASK_COMM_LEN]>,
    /// The user address space; `None` for kernel threads (Linux: `mm`). Lock: its own.
    pub mm: SpinLock<Option<Arc<MmStruct>>>,
}

// SAFETY: every field is atomic or lock-protected except `thread`, whose access rule is the
// type's invariant.
unsafe impl Sync for TaskStruct {}

/// `comm` from a string at compile time, cut to 15 bytes.
pub const fn comm_from(name: &str) -> [u8; TASK_COMM_LEN] {
    let mut comm = [0u8; TASK_COMM_LEN];
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() && i < TASK_COMM_LEN - 1 {
        comm[i] = bytes[i];
        i += 1;
    }
    comm
}

impl TaskStruct {
    /// A task with the given identity and no stack yet.
    pub const fn new(pid: i32, comm: &str, flags: u32) -> Self {
        Self {
            thread: UnsafeCell::new(ThreadStruct {
                cpu_context: CpuContext {
                    x19_x28: [0; 10],
                    fp: 0,
                    sp: 0,
                    pc: 0,
                },
                tp_value: 0,
            }),
            stack: AtomicUsize::new(0),
            pid: AtomicI32::new(pid),
            tgid: AtomicI32::new(pid),
            state: AtomicU32::new(TASK_RUNNING),
            flags: AtomicU32::new(flags),
            comm: SpinLock::new(comm_from(comm)),
            mm: SpinLock::new(None),
        }
    }

    /// The task's PID.
    pub fn pid(&self) -> i32 {
        self.pid.load(Ordering::Relaxed)
    }

    /// A copy of `comm`, for printing.
    pub fn comm(&self) -> Comm {
        Comm(*self.comm.lock())
    }

    /// The task's address space, if it has one.
    pub fn mm(&self) -> Option<Arc<MmStruct>> {
        self.mm.lock().clone()
    }

    /// Lowest address of the kernel stack.
    pub fn stack_base(&self) -> usize {
        self.stack.load(Ordering::Relaxed)
    }

    /// True if `addr..addr+len` lies inside this task's kernel stack.
    pub fn on_stack(&self, addr: usize, len: usize) -> bool {
        let base = self.stack_base();
        base != 0 && addr >= base && addr.saturating_add(len) <= base + THREAD_SIZE
    }

    /// Linux's `set_task_stack_end_magic`: mark the stack's lowest word.
    pub fn set_stack_end_magic(&self) {
        let end = self.stack_base() as *mut u64;
        assert!(!end.is_null(), "task has no stack");
        // SAFETY: `stack` is the lowest address of this task's own THREAD_SIZE stack, 16-byte
        // aligned; its first word is reserved for the magic and never used as stack.
        unsafe { end.write_volatile(STACK_END_MAGIC) };
    }

    /// Linux's `task_stack_end_corrupted`: true if the stack overflowed past its end.
    pub fn stack_end_corrupted(&self) -> bool {
        let end = self.stack_base() as *const u64;
        if end.is_null() {
            return false;
        }
        // SAFETY: as in `set_stack_end_magic`; reading the word is always allowed.
        unsafe { end.read_volatile() != STACK_END_MAGIC }
    }
}

/// A task's name, printable.
pub struct Comm(pub [u8; TASK_COMM_LEN]);

impl core::fmt::Display for Comm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(TASK_COMM_LEN);
        f.write_str(core::str::from_utf8(&self.0[..len]).unwrap_or("?"))
    }
}

/// The task running on this CPU (Linux's `current`), read from `sp_el0`.
#[inline(always)]
pub fn current() -> &'static TaskStruct {
    let task: *const TaskStruct;
    // SAFETY: reading sp_el0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, sp_el0", out(reg) task, options(nomem, nostack)) };
    // SAFETY: while the CPU is in the kernel, sp_el0 always points at the running task:
    // head.S sets it to init_task, cpu_switch_to and kernel_entry keep it so. Tasks are
    // never freed while running.
    unsafe { &*task }
}
