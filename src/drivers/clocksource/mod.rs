//! Timer drivers: the clock that drives the tick (Linux: `drivers/clocksource/`, with
//! `timer_probe` of `timer-probe.c`).
//!
//! Each driver declares the `compatible` strings it binds with [`TIMER_OF_DECLARE!`]
//! (`crate::TIMER_OF_DECLARE`); [`timer_probe`], which the architecture's `time_init` calls,
//! runs the declared init for every available device tree node one of them matches. Only the
//! Arm generic timer so far, which every AArch64 CPU has; its node in the device tree says
//! which interrupt it raises.

pub mod arm_arch_timer;

use fdt::node::FdtNode;
use fdt::Fdt;

use crate::kernel::errno::Errno;
use crate::of::base::{of_match_node, of_table, OfDeviceId};

/// A timer driver's init for its device tree node (Linux's `of_init_fn_1_ret`).
pub type TimerInitFn = fn(&Fdt<'_>, FdtNode<'_, '_>) -> Result<(), Errno>;

/// Declare that `$init` drives timers compatible with `$compatible` (Linux's
/// `TIMER_OF_DECLARE(name, compat, fn)`): an entry in the `.timer_of_table` section.
#[macro_export]
macro_rules! TIMER_OF_DECLARE {
    ($name:ident, $compatible:literal, $init:path) => {
        $crate::__of_declare!(
            ".timer_of_table",
            $crate::drivers::clocksource::TimerInitFn,
            $compatible,
            $init
        );
    };
}

extern "C" {
    static __timer_of_table_start: u8;
    static __timer_of_table_end: u8;
}

/// The declared timer drivers (Linux's `__timer_of_table`).
fn timer_of_table() -> &'static [OfDeviceId<TimerInitFn>] {
    // SAFETY: the linker script collects exactly the entries TIMER_OF_DECLARE! emits between
    // these two symbols.
    unsafe {
        of_table(
            &raw const __timer_of_table_start,
            &raw const __timer_of_table_end,
        )
    }
}

/// Run the declared driver of every available timer node in the device tree (Linux's
/// `timer_probe`); each node once, by the first of its `compatible` strings a driver names.
pub fn timer_probe() {
    let Some(fdt) = crate::arch::setup::fdt() else {
        log::warn!("timer_probe: no device tree: no tick");
        return;
    };
    let table = timer_of_table();
    let mut timers = 0;
    for node in fdt.all_nodes() {
        let Some(id) = of_match_node(table, node) else {
            continue;
        };
        match (id.data)(&fdt, node) {
            Ok(()) => timers += 1,
            Err(err) => log::warn!("timer_probe: {}: {err:?}", node.name),
        }
    }
    if timers == 0 {
        log::warn!("timer_probe: no matching timers found: no tick");
    }
}

pub use arm_arch_timer::timer_init_cpu;
