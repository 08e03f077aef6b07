//! The load average: how many tasks want the CPU, smoothed over 1, 5 and 15 minutes
//! (Linux: `kernel/sched/loadavg.c`).
//!
//! Every `LOAD_FREQ` (5 s + 1 tick) a delayed work item on the system workqueue samples
//! the number of runnable tasks and folds it into three exponentially decaying averages,
//! in Linux's 11-bit fixed point, so `/proc/loadavg` prints the numbers Linux would.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::kernel::time::HZ;
use crate::kernel::workqueue::{schedule_delayed_work, DelayedWork, WorkStruct};

/// Bits of fraction (Linux's `FSHIFT`).
pub const FSHIFT: u32 = 11;
/// 1.0 in fixed point.
pub const FIXED_1: u64 = 1 << FSHIFT;
/// Sampling period in jiffies (Linux's `LOAD_FREQ`).
pub const LOAD_FREQ: u64 = 5 * HZ + 1;
const EXP_1: u64 = 1884; // 1/exp(5s/1min) in fixed point
const EXP_5: u64 = 2014; // 1/exp(5s/5min)
const EXP_15: u64 = 2037; // 1/exp(5s/15min)

/// The three averages, fixed point (Linux's `avenrun`).
pub static AVENRUN: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// One step of an average (Linux's `calc_load`), rounding up while the load rises.
pub fn calc_load(load: u64, exp: u64, active: u64) -> u64 {
    let mut newload = load * exp + active * (FIXED_1 - exp);
    if active >= load {
        newload += FIXED_1 - 1;
    }
    newload / FIXED_1
}

static LOADAVG_WORK: DelayedWork = DelayedWork::new(calc_global_load);

/// Sample and fold (Linux's `calc_global_load`), then come back in LOAD_FREQ.
fn calc_global_load(_work: &'static WorkStruct) {
    // The worker itself is running and not part of the load it measures.
    let active = (crate::kernel::sched::core::nr_running() as u64).saturating_sub(1) * FIXED_1;
    for (avg, exp) in AVENRUN.iter().zip([EXP_1, EXP_5, EXP_15]) {
        avg.store(
            calc_load(avg.load(Ordering::Relaxed), exp, active),
            Ordering::Relaxed,
        );
    }
    schedule_delayed_work(&LOADAVG_WORK, LOAD_FREQ);
}

/// Start sampling (a device initcall).
fn loadavg_init() -> i32 {
    schedule_delayed_work(&LOADAVG_WORK, LOAD_FREQ);
    0
}
crate::device_initcall!(loadavg_init);
