//! The secondary CPUs' idle tasks (Linux: `kernel/smpboot.c`, `idle_threads_init`).
//!
//! Before `smp_init` starts any CPU, the boot CPU makes one idle task for every other
//! possible CPU with `fork_idle`; `cpu_up` hands it to the CPU, which becomes it in
//! `__secondary_switched`. The boot CPU's idle task is init_task, recorded here as well
//! (Linux's `idle_thread_set_boot_cpu`), so `idle_thread_get` answers for every CPU.

use core::sync::atomic::{AtomicPtr, Ordering};

use crate::arch::percpu::{smp_processor_id, NR_CPUS};
use crate::kernel::smp::cpu_possible_mask;
use crate::kernel::task::TaskStruct;

/// Each CPU's idle task (null until `idle_threads_init`; the boot CPU's is init_task).
static IDLE_THREADS: [AtomicPtr<TaskStruct>; NR_CPUS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; NR_CPUS];

/// The idle task made for `cpu`, if any (Linux's `idle_thread_get`).
pub fn idle_thread_get(cpu: usize) -> Option<&'static TaskStruct> {
    let ptr = IDLE_THREADS.get(cpu)?.load(Ordering::Acquire);
    // SAFETY: non-null entries come from fork_idle, whose tasks are never freed.
    (!ptr.is_null()).then(|| unsafe { &*ptr })
}

/// Record init_task as the boot CPU's idle task and make the idle task of every other
/// possible CPU (Linux's `idle_threads_init`).
pub fn idle_threads_init() {
    let boot_cpu = smp_processor_id();
    // Linux's idle_thread_set_boot_cpu.
    let init = &crate::init::init_task::init_task as *const TaskStruct;
    IDLE_THREADS[boot_cpu].store(init.cast_mut(), Ordering::Release);
    for cpu in cpu_possible_mask().without(boot_cpu).iter() {
        if idle_thread_get(cpu).is_some() {
            continue;
        }
        match crate::kernel::fork::fork_idle(cpu) {
            Ok(idle) => IDLE_THREADS[cpu].store(idle as *const _ as *mut _, Ordering::Release),
            Err(err) => log::error!("smpboot: fork_idle() failed for CPU {cpu}: {err:?}"),
        }
    }
}

/// Every secondary CPU's idle task (all but init_task), in CPU order (for `show_state`).
pub fn for_each_secondary_idle(mut f: impl FnMut(&'static TaskStruct)) {
    let init = &crate::init::init_task::init_task as *const TaskStruct;
    for cpu in 0..NR_CPUS {
        if let Some(idle) = idle_thread_get(cpu).filter(|idle| !core::ptr::eq(*idle, init)) {
            f(idle);
        }
    }
}
