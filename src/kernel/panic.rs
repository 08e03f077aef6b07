//! `panic`: stop the machine, saying why (Linux: `kernel/panic.c`).
//!
//! Every Rust panic in the kernel lands here. Under QEMU a panic must look like one: the
//! message in Linux's words, a call trace, then PSCI SYSTEM_OFF so QEMU exits (or, with no
//! PSCI, a halted CPU). The other CPUs are stopped (`smp_send_stop`) once the message and the
//! panicking CPU's stack are out; a CPU that panics while another already is parks itself.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::{cpu, irqflags, process};
use crate::kernel::printk::printk_emergency;

/// Set by the first CPU to panic; a second panic (say, inside the panic path) just stops.
static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    irqflags::local_irq_disable();
    if PANICKING.swap(true, Ordering::SeqCst) {
        // Another CPU (or this one, again) is already panicking: stop here, offline, so its
        // smp_send_stop need not wait for us (Linux's panic_smp_self_stop).
        crate::arch::smp::local_cpu_stop();
    }
    let message = info.message();
    printk_emergency(format_args!("Kernel panic - not syncing: {message}"));
    if let Some(location) = info.location() {
        printk_emergency(format_args!("  at {location}"));
    }
    process::dump_stack();
    // The other CPUs stop before the task list is walked and the machine goes off: nothing
    // changes under the dump, and no other CPU's output mixes into it (Linux's
    // `smp_send_stop` in `panic`). A CPU stopped while holding the log lock is no obstacle:
    // `printk_emergency` prints without it.
    crate::kernel::smp::smp_send_stop();
    if crate::kernel::sched::core::scheduler_running() {
        crate::kernel::sched::show::show_state(true);
    }
    printk_emergency(format_args!(
        "---[ end Kernel panic - not syncing: {message} ]---"
    ));
    cpu::machine_power_off()
}
