//! Run a function while every other CPU waits with interrupts masked (Linux:
//! `kernel/stop_machine.c`, `stop_machine`).
//!
//! The caller's CPU sends every other online CPU a call (`smp_call_function_single`) that
//! counts itself in and spins, interrupts masked, until released; once all are in, the
//! function runs on the caller's CPU with its interrupts masked too, and nothing else in
//! the kernel runs anywhere. Linux does it with a per-CPU stopper thread at the highest
//! priority; a cross-CPU call reaches the same state without one, because a CPU only takes
//! the call with interrupts enabled, so never while it holds a spinlock.
//!
//! The function must not sleep, and must not need a lock that a task parked on another CPU
//! holds while preempted (a mutex): that task cannot run until the function returns.
//! Today only tests use it (the page allocator's exhaustion test needs a machine where
//! nothing else allocates).

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::arch::irqflags::{local_irq_restore, local_irq_save};
use crate::arch::percpu::smp_processor_id;
use crate::kernel::locking::Mutex;
use crate::kernel::sched::core::{preempt_disable, preempt_enable};
use crate::kernel::smp::{cpu_online_mask, smp_call_function_single};

/// One `stop_machine` at a time (Linux's `stop_cpus_mutex`).
static STOP_CPUS: Mutex<()> = Mutex::new(());
/// CPUs parked in [`multi_cpu_stop`] right now.
static PARKED: AtomicUsize = AtomicUsize::new(0);
/// Set when the parked CPUs may go.
static RELEASE: AtomicBool = AtomicBool::new(false);

/// Run `f` with every other online CPU parked and interrupts masked here (Linux's
/// `stop_machine(fn, data, NULL)`). May sleep before and after `f` (not in it).
pub fn stop_machine<R>(f: impl FnOnce() -> R) -> R {
    let _serial = STOP_CPUS.lock();
    preempt_disable();
    RELEASE.store(false, Ordering::Relaxed);
    let me = smp_processor_id();
    let mut sent = 0;
    for cpu in cpu_online_mask().without(me).iter() {
        if smp_call_function_single(cpu, multi_cpu_stop, 0, false).is_ok() {
            sent += 1;
        }
    }
    // Interrupts stay enabled while we wait: another CPU may be waiting for a call of its
    // own to run here before it can take ours.
    while PARKED.load(Ordering::Acquire) < sent {
        core::hint::spin_loop();
    }
    let flags = local_irq_save();
    let result = f();
    local_irq_restore(flags);
    RELEASE.store(true, Ordering::Release);
    // Every parked CPU leaves before the next stop_machine may clear RELEASE again.
    while PARKED.load(Ordering::Acquire) > 0 {
        core::hint::spin_loop();
    }
    preempt_enable();
    result
}

/// What each other CPU runs, from its call-function IPI with interrupts masked (Linux's
/// `multi_cpu_stop`).
fn multi_cpu_stop(_: usize) {
    PARKED.fetch_add(1, Ordering::AcqRel);
    while !RELEASE.load(Ordering::Acquire) {
        core::hint::spin_loop();
    }
    PARKED.fetch_sub(1, Ordering::AcqRel);
}
