//! `/proc/stat`, `/proc/uptime` and `/proc/loadavg`: where the CPU's time went (Linux:
//! `fs/proc/stat.c`, `fs/proc/uptime.c`, `fs/proc/loadavg.c`).
//!
//! Cradle accounts CPU time per task (the scheduler's `sum_exec_runtime`) without telling
//! user from system time, and not at all for the idle task: busy time is the runtime of
//! the live tasks, reported as user time, and idle time is the rest of the time since boot
//! (so the time of tasks that have exited and been reaped counts as idle). Times are in
//! `USER_HZ` (100 Hz) ticks, as Linux reports them whatever its own `HZ`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::Ordering;

use super::generic::{nsec_to_clock_t, task_runtime_ns};
use crate::kernel::errno::Errno;
use crate::kernel::irq::{irq_count, NR_IRQS};
use crate::kernel::pid::for_each_task;
use crate::kernel::sched::core::{nr_context_switches, nr_running};
use crate::kernel::sched::loadavg::{AVENRUN, FIXED_1, FSHIFT};
use crate::kernel::task::state::TASK_UNINTERRUPTIBLE;
use crate::kernel::time::ktime_get_ns;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// Time the CPU was idle, in nanoseconds: the time since boot that no live task ran.
fn idle_ns(busy_ns: u64) -> u64 {
    ktime_get_ns().saturating_sub(busy_ns)
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
    /// CPU time of every task but the idle task, in nanoseconds.
    busy_ns: u64,
}

fn task_totals() -> TaskTotals {
    let mut t = TaskTotals {
        threads: 0,
        last_pid: 0,
        blocked: 0,
        busy_ns: 0,
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
        t.busy_ns += task_runtime_ns(task);
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
    let busy_ns = task_totals().busy_ns;
    Ok(format!(
        "{} {}\n",
        centiseconds(ktime_get_ns()),
        centiseconds(idle_ns(busy_ns))
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

/// `/proc/stat` (Linux's `show_stat`).
pub fn proc_stat() -> Result<Vec<u8>, Errno> {
    let totals = task_totals();
    let user = nsec_to_clock_t(totals.busy_ns);
    let idle = nsec_to_clock_t(idle_ns(totals.busy_ns));
    let uptime_s = ktime_get_ns() / NSEC_PER_SEC;
    let btime = (crate::kernel::time::realtime_seconds().max(0) as u64).saturating_sub(uptime_s);
    let mut s = String::new();
    // user nice system idle iowait irq softirq steal guest guest_nice
    let _ = writeln!(s, "cpu  {user} 0 0 {idle} 0 0 0 0 0 0");
    let _ = writeln!(s, "cpu0 {user} 0 0 {idle} 0 0 0 0 0 0");
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
        totals.last_pid,
        nr_running(),
        totals.blocked,
    );
    s.push_str("softirq 0 0 0 0 0 0 0 0 0 0 0\n");
    Ok(s.into_bytes())
}
