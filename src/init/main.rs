//! `start_kernel`: the first C — here Rust — code of the kernel (Linux: `init/main.c`).
//!
//! `asm/head.S` arrives here with the MMU on, running on init_task's stack with `current` =
//! init_task (PID 0). `start_kernel` is a flat list of init calls; where their order
//! matters, a comment says why.

use crate::arch::arm64::{self, head, irqflags};
use crate::drivers::misc::lkdtm;
use crate::init::init_task::{init_task, init_task_stack_setup};
use crate::init::version::{CRADLE_VERSION, RUSTC_VERSION};
use crate::kernel::params;
use crate::kernel::printk::{self, printk_init};
use crate::kernel::printk_fmt::Loglevel;

/// Linux's `start_kernel`. Never returns: PID 0 ends in the idle loop.
#[no_mangle]
pub extern "C" fn start_kernel() -> ! {
    // Interrupts stay masked until the interrupt controller and timer are set up.
    irqflags::local_irq_disable();
    // Before anything can overflow it: mark the end of PID 0's stack.
    init_task_stack_setup();
    init_task.set_stack_end_magic();
    // printk works from here on: messages wait in the log buffer until a console registers.
    printk_init();
    arm64::setup::smp_setup_processor_id();
    log::info!("Cradle version {CRADLE_VERSION} ({RUSTC_VERSION}) #1 SMP");
    // The device tree: model, command line, console, PSCI.
    let command_line = arm64::setup::setup_arch();
    log::info!("Kernel command line: {command_line}");
    // Memory: the buddy allocator over all free RAM, then the heap that grows from it.
    arm64::mm_init::mm_init();
    // ioremap needs the page allocator: move the console off the fixmap.
    crate::drivers::tty::serial::console_ioremap();
    report_wx(command_line);
    log::info!("CPU: All CPU(s) started at EL{}", head::boot_el());

    crate::kunit::kunit_run_all_tests(command_line);
    lkdtm::lkdtm_cpoint(command_line);

    // Boot-only code is not needed any more (Linux does this in kernel_init).
    arm64::mm_init::free_initmem();
    // Nothing more to start yet: PID 0 becomes the idle task.
    log::info!("Cradle: boot complete; no init to run yet, CPU 0 idles");
    cpu_startup_entry()
}

/// The idle loop of PID 0 (Linux: `kernel/sched/idle.c`, `cpu_startup_entry` → `do_idle`).
fn cpu_startup_entry() -> ! {
    loop {
        if init_task.stack_end_corrupted() {
            panic!("corrupted stack end detected inside scheduler");
        }
        aarch64_cpu::asm::wfi();
    }
}

/// Check that no kernel page is both writable and executable (Linux's `ptdump_check_wx`),
/// and print the page tables if `ptdump` is on the command line.
fn report_wx(cmdline: &str) {
    match arm64::paging::ptdump_check_wx() {
        0 => log::info!("Checked W+X mappings: passed, no W+X pages found"),
        n => log::warn!("Checked W+X mappings: FAILED, {n} W+X pages found"),
    }
    if params::get(cmdline, "ptdump").is_some() {
        log::info!("---[ Kernel page tables ]---");
        arm64::paging::ptdump(&mut printk::LineLogger::new());
    }
}

/// Apply the command-line options that must act before the console registers (Linux's
/// `parse_early_param`): `debug`, `quiet`, `loglevel=N`.
pub fn parse_early_param(cmdline: &str) {
    for param in params::params(cmdline) {
        let level = match (param.key, param.value) {
            ("debug", None) => Some(Loglevel::ALL),
            ("quiet", None) => Some(Loglevel::QUIET),
            ("loglevel", Some(v)) => params::parse_int(v).map(|n| Loglevel(n.min(15) as u8)),
            _ => None,
        };
        if let Some(level) = level {
            printk::set_console_loglevel(level);
        }
    }
}
