//! `start_kernel`: the first C — here Rust — code of the kernel (Linux: `init/main.c`).
//!
//! `asm/head.S` arrives here with the MMU on, running on init_task's stack with `current` =
//! init_task (PID 0). `start_kernel` is a flat list of init calls; where their order
//! matters, a comment says why.

use crate::arch::{self, irqflags};
use crate::drivers::misc::lkdtm;
use crate::init::init_task::{init_task, init_task_stack_setup};
use crate::init::initcall::do_initcalls;
use crate::init::version::{CRADLE_VERSION, RUSTC_VERSION};
use crate::kernel::errno::Errno;
use crate::kernel::fork::clone::{CLONE_FILES, CLONE_FS};
use crate::kernel::fork::kernel_thread;
use crate::kernel::kthread::{kthreadd, KTHREADD_TASK};
use crate::kernel::locking::InitOnce;
use crate::kernel::params;
use crate::kernel::pid::find_task_by_pid;
use crate::kernel::printk::{self, printk_init};
use crate::kernel::printk_fmt::Loglevel;
use crate::kernel::sched::{self, completion::Completion};
use crate::kernel::workqueue::workqueue_init;

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
    arch::setup::smp_setup_processor_id();
    log::info!("Cradle version {CRADLE_VERSION} ({RUSTC_VERSION}) #1 SMP");
    // The device tree: model, command line, console, PSCI, memblock, the final page tables.
    let command_line = arch::setup::setup_arch();
    let _ = COMMAND_LINE.set(command_line);
    arch::smp::smp_prepare_boot_cpu();
    log::info!("Kernel command line: {command_line}");
    // Memory: the buddy allocator over all free RAM, then the heap that grows from it.
    arch::mm_init::mm_init();
    // ioremap needs the page allocator: move the console off the fixmap.
    crate::drivers::tty::serial::console_ioremap();
    report_wx(command_line);
    // init_task becomes this CPU's idle task; from here on tasks can be created.
    sched::core::sched_init();
    // The interrupt controller, then the timer whose interrupt is the scheduler's tick.
    arch::irq::init_irq();
    arch::time::time_init();
    // Deliberate crashes (tests of the oops path) happen with the machine fully up.
    lkdtm::lkdtm_cpoint(command_line);
    // Interrupts on: the tick starts preempting.
    irqflags::local_irq_enable();
    rest_init()
}

/// The kernel command line, for kernel_init (Linux's `saved_command_line`).
static COMMAND_LINE: InitOnce<&'static str> = InitOnce::new();

/// The kernel command line as the boot loader passed it (Linux's `saved_command_line`,
/// for /proc/cmdline); empty before `start_kernel` saved it.
pub fn saved_command_line() -> &'static str {
    COMMAND_LINE.get().copied().unwrap_or("")
}

/// Completed by PID 0 once kthreadd exists; kernel_init waits for it before anything that
/// may create kernel threads (Linux's `kthreadd_done`).
static KTHREADD_DONE: Completion = Completion::new();

/// Linux's `rest_init`: create PID 1 and PID 2, then become the idle task.
#[inline(never)]
fn rest_init() -> ! {
    // PID 1 first, so that it gets PID 1; it waits for kthreadd_done before doing anything.
    let pid = match kernel_thread(kernel_init, 0, Some("kernel_init"), CLONE_FS) {
        Ok(pid) => pid,
        Err(e) => panic!("rest_init: cannot create kernel_init: {e}"),
    };
    log::info!("rest_init: kernel_thread(kernel_init) = PID {pid}");
    let pid = match kernel_thread(kthreadd, 0, Some("kthreadd"), CLONE_FS | CLONE_FILES) {
        Ok(pid) => pid,
        Err(e) => panic!("rest_init: cannot create kthreadd: {e}"),
    };
    log::info!("rest_init: kernel_thread(kthreadd) = PID {pid}");
    match find_task_by_pid(pid) {
        Some(task) => {
            let _ = KTHREADD_TASK.set(task);
        }
        None => panic!("rest_init: kthreadd (PID {pid}) vanished"),
    }
    KTHREADD_DONE.complete_all();
    // The boot idle task must schedule once to get things moving (Linux's comment).
    sched::core::schedule_preempt_disabled();
    // Call into cpu_idle with preempt disabled.
    sched::idle::cpu_startup_entry()
}

/// PID 1 (Linux's `kernel_init`): finish booting, then become the first user program.
extern "C" fn kernel_init(_unused: usize) -> i32 {
    kernel_init_freeable();
    let cmdline = COMMAND_LINE.get().copied().unwrap_or("");
    // Boot-only code and data go back to the page allocator.
    arch::mm_init::free_initmem();
    if params::get(cmdline, "show_state").is_some() {
        sched::show::show_state(false);
    }
    run_init_processes(cmdline)
}

/// What PID 1 does before it can run init (Linux's `kernel_init_freeable`).
fn kernel_init_freeable() {
    // Wait until kthreadd is all set up: kernel threads can be created from here on.
    KTHREADD_DONE.wait_for_completion();
    let cmdline = COMMAND_LINE.get().copied().unwrap_or("");
    // The other CPUs: found in the device tree by setup_arch, started here, each ending in
    // its idle loop.
    let max_cpus = crate::kernel::smp::setup_max_cpus(cmdline);
    arch::smp::smp_prepare_cpus(max_cpus);
    crate::kernel::smp::smp_init(max_cpus);
    sched::core::sched_init_smp();
    workqueue_init();
    // do_basic_setup: the root filesystem with the initramfs unpacked into it (Linux's
    // init_rootfs + populate_rootfs), then every registered initcall, level by level (the
    // random pool, the character devices, the tty, the drivers' probes).
    crate::fs::initramfs::rootfs_init();
    do_initcalls(params::get(cmdline, "initcall_debug").is_some());
    crate::kunit::kunit_run_all_tests(cmdline);
    // Open /dev/console as fds 0, 1 and 2: every process inherits them from here.
    crate::fs::initramfs::console_on_rootfs();
}

/// Try the inits Linux tries, in Linux's order (`kernel_init`'s tail): `rdinit=` (default
/// `/init`), `init=`, then `/sbin/init`, `/etc/init`, `/bin/init`, `/bin/sh`.
fn run_init_processes(cmdline: &str) -> i32 {
    let rdinit = params::get(cmdline, "rdinit").flatten().unwrap_or("/init");
    if try_to_run_init_process(rdinit) {
        return 0;
    }
    if let Some(Some(init)) = params::get(cmdline, "init") {
        if try_to_run_init_process(init) {
            return 0;
        }
        panic!("Requested init {init} failed (error -2).");
    }
    for path in ["/sbin/init", "/etc/init", "/bin/init", "/bin/sh"] {
        if try_to_run_init_process(path) {
            return 0;
        }
    }
    panic!(
        "No working init found.  Try passing init= option to kernel. \
         See Linux Documentation/admin-guide/init.rst for guidance."
    );
}

/// Linux's `try_to_run_init_process`: true if `path` now runs as PID 1.
fn try_to_run_init_process(path: &str) -> bool {
    let cmdline = COMMAND_LINE.get().copied().unwrap_or("");
    let words = params::split_args(params::init_args(cmdline));
    let init_args: alloc::vec::Vec<&str> = words.iter().map(|w| w.as_str()).collect();
    log::info!("Run {path} as init process");
    match crate::fs::exec::kernel_execve(path, &init_args) {
        Ok(()) => true,
        Err(e) if e == Errno::ENOENT => false,
        Err(e) => {
            log::error!(
                "Starting init: {path} exists but couldn't execute it (error -{})",
                e.0
            );
            false
        }
    }
}

/// Check that no kernel page is both writable and executable (Linux's `ptdump_check_wx`),
/// and print the page tables if `ptdump` is on the command line.
fn report_wx(cmdline: &str) {
    match arch::paging::ptdump_check_wx() {
        0 => log::info!("Checked W+X mappings: passed, no W+X pages found"),
        n => log::warn!("Checked W+X mappings: FAILED, {n} W+X pages found"),
    }
    if params::get(cmdline, "ptdump").is_some() {
        log::info!("---[ Kernel page tables ]---");
        arch::paging::ptdump(&mut printk::LineLogger::new());
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
