//! In-kernel tests of CPU-time accounting (`sched::cputime`), run in `kernel_init` with
//! `kunit.enable=1`: a busy kernel thread is charged system time, never user time, by the
//! tick of the CPU it runs on; the precise runtime read while running grows by what the
//! clock says; a sleep is idle time on the CPU.

use core::sync::atomic::Ordering;

use crate::arch::percpu::smp_processor_id;
use crate::kernel::sched::core::task_sched_runtime;
use crate::kernel::sched::cputime::{cpustat, kcpustat_cpu, task_cputime_adjusted, TICK_NSEC};
use crate::kernel::task::current;
use crate::kernel::time::timer::msleep;
use crate::kunit::Test;
use crate::{kunit_expect, kunit_test_suite};

/// Spin in the kernel until the current task has had `ns` more CPU time.
fn spin_for(ns: u64) {
    let end = task_sched_runtime(current()) + ns;
    while task_sched_runtime(current()) < end {
        core::hint::spin_loop();
    }
}

/// kernel_init spinning for 10 ticks of its own CPU time: its sampled system time and the
/// CPU's `system` counter grow, its user time does not; the precise runtime covers it, and
/// the adjusted split adds up to no more than the precise runtime.
fn busy_kernel_thread_is_system_time(test: &mut Test) {
    let task = current();
    let (utime0, stime0) = (
        task.cputime.utime.load(Ordering::Relaxed),
        task.cputime.stime.load(Ordering::Relaxed),
    );
    let cpu = smp_processor_id();
    let system0 = kcpustat_cpu(cpu)[cpustat::SYSTEM];
    let runtime0 = task_sched_runtime(task);
    spin_for(10 * TICK_NSEC);
    let runtime1 = task_sched_runtime(task);
    let (utime1, stime1) = (
        task.cputime.utime.load(Ordering::Relaxed),
        task.cputime.stime.load(Ordering::Relaxed),
    );
    kunit_expect!(
        test,
        runtime1 >= runtime0 + 10 * TICK_NSEC,
        "runtime stalled"
    );
    kunit_expect!(
        test,
        utime1 == utime0,
        "a kernel thread was charged user time"
    );
    kunit_expect!(
        test,
        stime1 >= stime0 + TICK_NSEC,
        "10 ticks of spinning charged {} ns of system time",
        stime1 - stime0
    );
    if smp_processor_id() == cpu {
        kunit_expect!(
            test,
            kcpustat_cpu(cpu)[cpustat::SYSTEM] > system0,
            "the CPU's system counter did not move"
        );
    }
    let (utime, stime) = task_cputime_adjusted(task);
    kunit_expect!(
        test,
        utime + stime <= task_sched_runtime(task),
        "the adjusted split exceeds the runtime"
    );
}

/// A sleep of 20 ticks leaves the CPU idle for some of them, and costs the sleeper (almost)
/// no CPU time.
fn sleeping_is_idle_time(test: &mut Test) {
    let idle0: u64 = (0..crate::arch::percpu::NR_CPUS)
        .map(|cpu| kcpustat_cpu(cpu)[cpustat::IDLE])
        .sum();
    let runtime0 = task_sched_runtime(current());
    msleep(20 * TICK_NSEC / 1_000_000);
    let idle1: u64 = (0..crate::arch::percpu::NR_CPUS)
        .map(|cpu| kcpustat_cpu(cpu)[cpustat::IDLE])
        .sum();
    let spent = task_sched_runtime(current()) - runtime0;
    kunit_expect!(
        test,
        idle1 > idle0,
        "no CPU was idle while kernel_init slept"
    );
    kunit_expect!(
        test,
        spent < 5 * TICK_NSEC,
        "sleeping 20 ticks cost {} ns of CPU time",
        spent
    );
}

kunit_test_suite!(
    cputime,
    [busy_kernel_thread_is_system_time, sleeping_is_idle_time]
);
