//! `/proc/stat`, `/proc/uptime` and `/proc/loadavg`: where the CPUs' time went (Linux:
//! `fs/proc/stat.c`, `fs/proc/uptime.c`, `fs/proc/loadavg.c`).
//!
//! CPU time comes from the per-CPU counters that each CPU's tick increments
//! (`sched::cputime::KCPUSTAT`, Linux's `kcpustat_cpu`): a tick that interrupted user space
//! is user time, one that found the idle task is idle time, any other is system time.
//! Times are in `USER_HZ` (100 Hz) ticks, as Linux reports them whatever its own `HZ`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::Ordering;

use super::generic::nsec_to_clock_t;
use crate::arch::percpu::NR_CPUS;
use crate::kernel::errno::Errno;
use crate::kernel::irq::{irq_count, NR_IRQS};
use crate::kernel::pid::for_each_task;
use crate::kernel::sched::core::{nr_context_switches, nr_running};
use crate::kernel::sched::cputime::{cpustat, kcpustat_cpu};
use crate::kernel::sched::loadavg::{AVENRUN, FIXED_1, FSHIFT};
use crate::kernel::task::state::TASK_UNINTERRUPTIBLE;
use crate::kernel::time::ktime_get_ns;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// The CPUs `/proc/stat` lists: CPU 0, and every other CPU whose tick has counted time
/// (a CPU that is online ticks every `1/HZ` s; one that never came up never does). Once
/// `kernel::smp` exists this is its `cpu_online_mask()`.
fn online_cpus() -> impl Iterator<Item = usize> {
    (0..NR_CPUS).filter(|&cpu| cpu == 0 || kcpustat_cpu(cpu).iter().any(|&ns| ns != 0))
}

/// Idle time of every CPU, nanoseconds (Linux's `get_idle_time` summed, as `uptime` does).
fn idle_ns() -> u64 {
    (0..NR_CPUS)
        .map(|cpu| kcpustat_cpu(cpu)[cpustat::IDLE])
        .sum()
}

/// What the task table says about the system, in one pass.
struct TaskTotals {
    /// Tasks other than PID 0 (Linux's `nr_threads`).
    threads: u64,
    /// The highest PID in use: PIDs are handed out in order, so until they wrap this is the
    /// last one allocated (Linux's `idr_get_cursor(...) - 1`) and the number of forks.
    last_pid: i32,
    /// Tasks in uninterruptible sleep.
    blocked: u64,
}

fn task_totals() -> TaskTotals {
    let mut t = TaskTotals {
        threads: 0,
        last_pid: 0,
        blocked: 0,
    };
    for_each_task(|task| {
        let pid = task.pid();
        if pid == 0 {
            return;
        }
        t.threads += 1;
        t.last_pid = t.last_pid.max(pid);
        if task.state.load(Ordering::Relaxed) == TASK_UNINTERRUPTIBLE {
            t.blocked += 1;
        }
    });
    t
}

/// `secs.centisecs` of a nanosecond count.
fn centiseconds(ns: u64) -> String {
    format!(
        "{}.{:02}",
        ns / NSEC_PER_SEC,
        (ns % NSEC_PER_SEC) / (NSEC_PER_SEC / 100)
    )
}

/// `/proc/uptime`: seconds since boot and seconds idle (Linux's `uptime_proc_show`).
pub fn proc_uptime() -> Result<Vec<u8>, Errno> {
    Ok(format!(
        "{} {}\n",
        centiseconds(ktime_get_ns()),
        centiseconds(idle_ns())
    )
    .into_bytes())
}

/// The integer part of a fixed-point load (Linux's `LOAD_INT`).
fn load_int(x: u64) -> u64 {
    x >> FSHIFT
}

/// Two decimal digits of a fixed-point load's fraction (Linux's `LOAD_FRAC`).
fn load_frac(x: u64) -> u64 {
    load_int((x & (FIXED_1 - 1)) * 100)
}

/// `/proc/loadavg` (Linux's `loadavg_proc_show`): the three averages, rounded to two
/// places, runnable/total tasks, and the last PID handed out.
pub fn proc_loadavg() -> Result<Vec<u8>, Errno> {
    let mut s = String::new();
    for avg in &AVENRUN {
        let a = avg.load(Ordering::Relaxed) + FIXED_1 / 200;
        let _ = write!(s, "{}.{:02} ", load_int(a), load_frac(a));
    }
    let totals = task_totals();
    let _ = writeln!(s, "{}/{} {}", nr_running(), totals.threads, totals.last_pid);
    Ok(s.into_bytes())
}

/// One `cpu` line's ten columns, nanoseconds turned into USER_HZ ticks.
fn cpu_line(s: &mut String, name: &str, ns: &[u64; cpustat::NR_STATS]) {
    // user nice system idle iowait irq softirq steal guest guest_nice
    let _ = write!(s, "{name}");
    for value in ns {
        let _ = write!(s, " {}", nsec_to_clock_t(*value));
    }
    s.push('\n');
}

/// `/proc/stat` (Linux's `show_stat`).
pub fn proc_stat() -> Result<Vec<u8>, Errno> {
    let totals = task_totals();
    let uptime_s = ktime_get_ns() / NSEC_PER_SEC;
    let btime = (crate::kernel::time::realtime_seconds().max(0) as u64).saturating_sub(uptime_s);
    let mut s = String::new();
    let per_cpu: Vec<(usize, [u64; cpustat::NR_STATS])> =
        online_cpus().map(|cpu| (cpu, kcpustat_cpu(cpu))).collect();
    let mut sum = [0u64; cpustat::NR_STATS];
    for (_, ns) in &per_cpu {
        for (total, value) in sum.iter_mut().zip(ns) {
            *total += value;
        }
    }
    cpu_line(&mut s, "cpu ", &sum);
    for (cpu, ns) in &per_cpu {
        cpu_line(&mut s, &format!("cpu{cpu}"), ns);
    }
    let counts: Vec<u64> = (0..NR_IRQS as u32).map(irq_count).collect();
    let used = counts
        .iter()
        .rposition(|&c| c != 0)
        .map_or(0, |last| last + 1);
    let _ = write!(s, "intr {}", counts.iter().sum::<u64>());
    for count in &counts[..used] {
        let _ = write!(s, " {count}");
    }
    let _ = write!(
        s,
        "\nctxt {}\nbtime {btime}\nprocesses {}\nprocs_running {}\nprocs_blocked {}\n",
        nr_context_switches(),
        crate::kernel::fork::total_forks(),
        nr_running(),
        totals.blocked,
    );
    s.push_str("softirq 0 0 0 0 0 0 0 0 0 0 0\n");
    Ok(s.into_bytes())
}
