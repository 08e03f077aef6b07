//! Secondary CPUs and IPIs (Linux: `arch/arm64/kernel/smp.c`).
//!
//! Boot, in Linux 5.x's order:
//!
//! ```text
//! setup_arch → smp_init_cpus         /cpus: each CPU's MPIDR (cpu_logical_map) and
//!                                     enable method (cpu_ops) → possible mask
//! kernel_init → smp_prepare_cpus     IPIs requested; cpu_prepare → present mask
//!             → smp_init (kernel/smp.rs) → cpu_up → __cpu_up (here)
//!                 secondary_data = {idle task, its stack}; cpu_ops.cpu_boot(secondary_entry)
//!                 wait ≤ 5 s for the CPU to say it is online
//! secondary_entry (asm/head.S) → el2_setup → __cpu_setup → __enable_mmu
//!   → __secondary_switched (sp, sp_el0 = the idle task; VBAR) → secondary_start_kernel (here)
//!     per-CPU data, idmap out of TTBR0, GIC CPU interface / redistributor, IPIs, tick,
//!     "CPUn: Booted secondary processor", online, → cpu_startup_entry (the idle loop)
//!             → smp_cpus_done            "SMP: Total of N processors activated.", the EL check
//! ```
//!
//! IPIs ([`Ipi`], Linux's numbers) are the root interrupt controller's software interrupts:
//! IPI n is `chip.send_ipi(mask, n)` and arrives as hwirq `chip.ipi_base() + n` (GIC SGIs;
//! the BCM2836 per-core mailboxes), whose handler calls [`handle_ipi`].

use core::mem::offset_of;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use aarch64_cpu::registers::{Readable, MIDR_EL1, MPIDR_EL1};

use super::cpu_ops::{get_cpu_ops, init_cpu_ops};
use crate::arch::head::pa_symbol;
use crate::arch::memory::THREAD_SIZE;
use crate::arch::percpu::{smp_processor_id, NR_CPUS};
use crate::arch::setup::MPIDR_HWID_BITMASK;
use crate::arch::sysreg::BOOT_CPU_MODE_EL2;
use crate::kernel::errno::Errno;
use crate::kernel::irq;
use crate::kernel::sched::completion::Completion;
use crate::kernel::smp::{
    cpu_online, cpu_online_mask, cpu_possible_mask, num_online_cpus, set_cpu_online,
    set_cpu_possible, set_cpu_present, CpuMask,
};
use crate::kernel::task::{current, TaskStruct};

/// What `__secondary_switched` reads to become the idle task of the CPU being started
/// (Linux's `struct secondary_data`). Written by `__cpu_up` before it starts the CPU, read
/// by that CPU once its MMU and caches are on (so no cache maintenance is needed); one CPU
/// is started at a time.
#[repr(C)]
pub struct SecondaryData {
    /// The top of the idle task's stack.
    stack: AtomicU64,
    /// The idle task (`sp_el0`, i.e. `current`).
    task: AtomicU64,
    /// The MPIDR affinity of the CPU being started: any other CPU that reads this parks.
    hwid: AtomicU64,
}

/// The one `secondary_data`, for `asm/head.S`.
pub static SECONDARY_DATA: SecondaryData = SecondaryData {
    stack: AtomicU64::new(0),
    task: AtomicU64::new(0),
    hwid: AtomicU64::new(INVALID_HWID),
};
/// Offset of the stack top, for `asm/head.S`.
pub const SECONDARY_DATA_STACK: usize = offset_of!(SecondaryData, stack);
/// Offset of the task, for `asm/head.S`.
pub const SECONDARY_DATA_TASK: usize = offset_of!(SecondaryData, task);
/// Offset of the hardware ID, for `asm/head.S`.
pub const SECONDARY_DATA_HWID: usize = offset_of!(SecondaryData, hwid);

extern "C" {
    /// asm/head.S: where a secondary CPU starts, MMU off.
    fn secondary_entry();
    /// asm/head.S: a `wfe` loop (the fault-injection knob sends a CPU there).
    fn __no_boot();
}

/// No hardware ID.
const INVALID_HWID: u64 = u64::MAX;

/// Each logical CPU's MPIDR affinity (Linux's `cpu_logical_map`).
static CPU_LOGICAL_MAP: [AtomicU64; NR_CPUS] = [const { AtomicU64::new(INVALID_HWID) }; NR_CPUS];

/// The MPIDR affinity of logical CPU `cpu`, if it has one.
pub fn cpu_logical_map(cpu: usize) -> Option<u64> {
    let hwid = CPU_LOGICAL_MAP.get(cpu)?.load(Ordering::Relaxed);
    (hwid != INVALID_HWID).then_some(hwid)
}

/// Each CPU's MIDR_EL1 as it read it coming up (Linux's per-CPU `cpuinfo_arm64.reg_midr`),
/// 0 if it has not.
static CPU_MIDR: [AtomicU64; NR_CPUS] = [const { AtomicU64::new(0) }; NR_CPUS];

/// The MIDR_EL1 of `cpu`, once it came up (for `/proc/cpuinfo`).
pub fn cpu_midr(cpu: usize) -> Option<u64> {
    let midr = CPU_MIDR.get(cpu)?.load(Ordering::Relaxed);
    (midr != 0).then_some(midr)
}

/// Each CPU's REVIDR_EL1 as it read it coming up (Linux's `cpuinfo_arm64.reg_revidr`).
static CPU_REVIDR: [AtomicU64; NR_CPUS] = [const { AtomicU64::new(0) }; NR_CPUS];

/// The REVIDR_EL1 of `cpu` (0 until it came up), for sysfs's `regs/identification`.
pub fn cpu_revidr(cpu: usize) -> u64 {
    CPU_REVIDR.get(cpu).map_or(0, |r| r.load(Ordering::Relaxed))
}

/// Linux's `cpuinfo_store_cpu`: what /proc/cpuinfo and sysfs show of this CPU, and its
/// I-cache.
fn cpuinfo_store_cpu(cpu: usize) {
    CPU_MIDR[cpu].store(MIDR_EL1.get(), Ordering::Relaxed);
    let revidr: u64;
    // SAFETY: REVIDR_EL1 is a read-only ID register, readable at EL1 with no side effect.
    unsafe { core::arch::asm!("mrs {}, revidr_el1", out(reg) revidr, options(nomem, nostack)) };
    CPU_REVIDR[cpu].store(revidr, Ordering::Relaxed);
    cpuinfo_detect_icache_policy(cpu);
}

/// The modes CPUs entered the kernel in: bit 0 EL1, bit 1 EL2 (Linux's `__boot_cpu_mode[]`).
static BOOT_MODES: AtomicU32 = AtomicU32::new(0);

fn set_cpu_boot_mode_flag(mode: u32) {
    let bit = if mode == BOOT_CPU_MODE_EL2 { 2 } else { 1 };
    BOOT_MODES.fetch_or(bit, Ordering::Relaxed);
}

/// Signalled by a secondary once it is online (Linux's `cpu_running`).
static CPU_RUNNING: Completion = Completion::new();

/// The fault-injection knob `cradle.smp_fail_cpu=N`: CPU N is started at a parking loop
/// instead of `secondary_entry`, so it never comes online (a test of `__cpu_up`'s timeout).
static FAIL_CPU: AtomicU64 = AtomicU64::new(u64::MAX);

/// How long `__cpu_up` waits for a CPU (Linux: 5 s).
const CPU_UP_TIMEOUT_MS: u64 = 5000;

// ----------------------------------------------------------------------------------------
// The boot CPU's side.

/// Linux's `smp_prepare_boot_cpu` (the part Cradle needs): the boot CPU's mode and caches.
pub fn smp_prepare_boot_cpu() {
    CPU_LOGICAL_MAP[0].store(MPIDR_EL1.get() & MPIDR_HWID_BITMASK, Ordering::Relaxed);
    set_cpu_boot_mode_flag(super::head::boot_cpu_mode());
    cpuinfo_store_cpu(0);
}

/// The MPIDR affinity in a `/cpus` child's `reg` of `address_cells` cells (Linux's
/// `of_get_cpu_hwid`).
fn of_get_cpu_hwid(reg: &[u8], address_cells: usize) -> Option<u64> {
    let cells = reg.get(..4 * address_cells)?;
    Some(crate::of::base::be32_cells(cells).fold(0u64, |acc, cell| (acc << 32) | u64::from(cell)))
}

/// The possible logical CPU that the `/cpus` child `node` describes (Linux's
/// `of_cpu_node_to_id`), if any.
pub fn of_node_to_cpu(node: fdt::node::FdtNode<'_, '_>) -> Option<usize> {
    let fdt = super::setup::fdt()?;
    let address_cells = fdt
        .find_node("/cpus")
        .and_then(|cpus| crate::of::base::of_property_read_u32(cpus, "#address-cells"))
        .unwrap_or(1)
        .clamp(1, 2) as usize;
    let hwid = of_get_cpu_hwid(node.property("reg")?.value, address_cells)?;
    cpu_possible_mask()
        .iter()
        .find(|&cpu| cpu_logical_map(cpu) == Some(hwid))
}

/// Read `/cpus` (Linux's `smp_init_cpus` → `of_parse_and_init_cpus` → `smp_cpu_setup`):
/// logical CPU 0 is the boot CPU, the others are numbered in DT order; each one whose
/// enable method is known and usable becomes possible. `nr_cpus=` caps how many.
pub fn smp_init_cpus(cmdline: &str) {
    let Some(fdt) = super::setup::fdt() else {
        return;
    };
    let Some(cpus) = fdt.find_node("/cpus") else {
        return;
    };
    let nr_cpu_ids = match crate::kernel::params::get(cmdline, "nr_cpus").flatten() {
        Some(n) => n.parse::<usize>().unwrap_or(NR_CPUS).clamp(1, NR_CPUS),
        None => NR_CPUS,
    };
    let address_cells = crate::of::base::of_property_read_u32(cpus, "#address-cells")
        .unwrap_or(1)
        .clamp(1, 2) as usize;
    let boot_hwid = cpu_logical_map(0).unwrap_or(MPIDR_EL1.get() & MPIDR_HWID_BITMASK);
    let mut bootcpu_valid = false;
    let mut cpu_count = 1;
    for node in cpus.children() {
        if node.property("device_type").and_then(|p| p.as_str()) != Some("cpu") {
            continue;
        }
        let Some(reg) = node.property("reg").map(|p| p.value) else {
            log::error!("{}: missing reg property", node.name);
            continue;
        };
        let Some(hwid) = of_get_cpu_hwid(reg, address_cells) else {
            log::error!("{}: invalid reg property", node.name);
            continue;
        };
        if hwid & !MPIDR_HWID_BITMASK != 0 {
            log::error!("{}: invalid reg property", node.name);
            continue;
        }
        if (1..cpu_count).any(|cpu| cpu_logical_map(cpu) == Some(hwid)) {
            log::error!("{}: duplicate cpu reg properties in the DT", node.name);
            continue;
        }
        if hwid == boot_hwid {
            if bootcpu_valid {
                log::error!("{}: duplicate boot cpu reg property in DT", node.name);
            }
            bootcpu_valid = true;
            continue;
        }
        if cpu_count >= nr_cpu_ids {
            cpu_count += 1; // counted for the warning below, not set up
            continue;
        }
        CPU_LOGICAL_MAP[cpu_count].store(hwid, Ordering::Relaxed);
        // Linux's smp_cpu_setup: a CPU whose enable method does not work is not possible.
        let usable = init_cpu_ops(cpu_count, node).is_ok()
            && get_cpu_ops(cpu_count).is_some_and(|ops| ops.cpu_init(cpu_count, node).is_ok());
        if usable {
            set_cpu_possible(cpu_count, true);
        }
        cpu_count += 1;
    }
    if !bootcpu_valid {
        log::error!("missing boot CPU MPIDR, not enabling secondaries");
        for cpu in 1..NR_CPUS {
            set_cpu_possible(cpu, false);
        }
        return;
    }
    if cpu_count > nr_cpu_ids {
        log::warn!(
            "Number of cores ({cpu_count}) exceeds configured maximum of {nr_cpu_ids} - clipping"
        );
    }
    if let Some(Some(n)) = crate::kernel::params::get(cmdline, "cradle.smp_fail_cpu") {
        if let Ok(n) = n.parse::<u64>() {
            FAIL_CPU.store(n, Ordering::Relaxed);
        }
    }
}

/// Linux's `smp_prepare_cpus`: the CPUs' topology, the IPIs, then every possible CPU whose enable method can
/// start it becomes present. With `max_cpus` = 0 (`nosmp`, `maxcpus=0`) none does.
pub fn smp_prepare_cpus(max_cpus: usize) {
    crate::drivers::base::arch_topology::init_cpu_topology(super::setup::fdt().as_ref());
    ipi_setup_boot();
    if max_cpus == 0 {
        return;
    }
    for cpu in cpu_possible_mask().without(smp_processor_id()).iter() {
        let Some(ops) = get_cpu_ops(cpu) else {
            continue;
        };
        if ops.cpu_prepare(cpu).is_ok() {
            set_cpu_present(cpu, true);
        }
    }
}

/// Start `cpu` with `idle` as its idle task and wait until it is online (Linux's
/// `__cpu_up`). `EIO` if it does not come online within 5 s.
pub fn __cpu_up(cpu: usize, idle: &'static TaskStruct) -> Result<(), Errno> {
    let (Some(ops), Some(hwid)) = (get_cpu_ops(cpu), cpu_logical_map(cpu)) else {
        return Err(Errno::ENODEV);
    };
    let stack_top = idle.stack.load(Ordering::Relaxed) + THREAD_SIZE;
    SECONDARY_DATA
        .stack
        .store(stack_top as u64, Ordering::Relaxed);
    SECONDARY_DATA
        .task
        .store(idle as *const TaskStruct as u64, Ordering::Relaxed);
    SECONDARY_DATA.hwid.store(hwid, Ordering::Relaxed);
    CPU_RUNNING.reinit();
    let entry = if FAIL_CPU.load(Ordering::Relaxed) == cpu as u64 {
        pa_symbol(__no_boot as *const () as u64)
    } else {
        pa_symbol(secondary_entry as *const () as u64)
    };
    // Linux's boot_secondary. The stores above reach the CPU through the caches, which
    // are coherent once its MMU is on; `cpu_boot` ends with the barriers the method needs.
    crate::arch::barrier::mb();
    if let Err(err) = ops.cpu_boot(cpu, entry) {
        log::error!("CPU{cpu}: failed to boot: -{}", err.0);
        return Err(err);
    }
    let timeout = crate::kernel::time::timer::msecs_to_jiffies(CPU_UP_TIMEOUT_MS);
    let _ = CPU_RUNNING.wait_for_completion_timeout(timeout);
    // A CPU that comes up after this finds another hwid and parks in __no_boot instead of
    // running on an idle task that is not its own (Linux 5.x leaves that window open).
    SECONDARY_DATA.hwid.store(INVALID_HWID, Ordering::Relaxed);
    SECONDARY_DATA.task.store(0, Ordering::Relaxed);
    SECONDARY_DATA.stack.store(0, Ordering::Relaxed);
    if cpu_online(cpu) {
        Ok(())
    } else {
        log::error!("CPU{cpu}: failed to come online");
        Err(Errno::EIO)
    }
}

/// Linux's `smp_cpus_done`: how many CPUs run, and whether they all entered at one EL
/// (Linux's `hyp_mode_check`).
pub fn smp_cpus_done(_max_cpus: usize) {
    log::info!("SMP: Total of {} processors activated.", num_online_cpus());
    match BOOT_MODES.load(Ordering::Relaxed) {
        3 => log::warn!("CPU: CPUs started in inconsistent modes"),
        2 => log::info!("CPU: All CPU(s) started at EL2"),
        _ => log::info!("CPU: All CPU(s) started at EL1"),
    }
}

// ----------------------------------------------------------------------------------------
// The secondary CPU's side.

/// The first Rust code on a secondary CPU (Linux's `secondary_start_kernel`), called by
/// `__secondary_switched` on the idle task's stack with interrupts masked and `mode` = the
/// EL it entered at. Never returns: it ends in the idle loop.
#[no_mangle]
pub extern "C" fn secondary_start_kernel(mode: u32) -> ! {
    let idle = current();
    let cpu = idle.cpu.load(Ordering::Relaxed) as usize;
    crate::arch::percpu::init_this_cpu(cpu, idle);
    // The identity map head.S used is no business of TTBR0 from here on.
    crate::arch::mmu_context::cpu_uninstall_idmap();
    set_cpu_boot_mode_flag(mode);
    cpuinfo_store_cpu(cpu);
    // This CPU's interface to the interrupt controller, its IPIs, then its tick.
    if let Some(chip) = irq::root_chip() {
        chip.init_cpu();
        for ipi in 0..NR_IPI {
            let _ = irq::enable_percpu_irq(chip.ipi_base() + ipi);
        }
    }
    crate::drivers::clocksource::arm_arch_timer::timer_init_cpu();
    log::info!(
        "CPU{cpu}: Booted secondary processor {:#012x} [{:#010x}]",
        MPIDR_EL1.get() & MPIDR_HWID_BITMASK,
        MIDR_EL1.get()
    );
    set_cpu_online(cpu, true);
    CPU_RUNNING.complete();
    crate::arch::irqflags::local_irq_enable();
    crate::kernel::sched::idle::cpu_startup_entry()
}

/// Say what kind of instruction cache this CPU has, from CTR_EL0.L1Ip (Linux's
/// `cpuinfo_detect_icache_policy`).
fn cpuinfo_detect_icache_policy(cpu: usize) {
    let policy = match (super::cputype::read_cpuid_cachetype() >> 14) & 3 {
        0 => "VPIPT",
        1 => "RESERVED/UNKNOWN",
        2 => "VIPT",
        _ => "PIPT",
    };
    log::info!("Detected {policy} I-cache on CPU{cpu}");
}

// ----------------------------------------------------------------------------------------
// IPIs.

/// The IPIs (Linux's `enum ipi_msg_type`, same numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Ipi {
    /// Reschedule (`IPI_RESCHEDULE`).
    Reschedule = 0,
    /// Run queued cross-CPU calls (`IPI_CALL_FUNC`).
    CallFunc = 1,
    /// Stop this CPU (`IPI_CPU_STOP`).
    CpuStop = 2,
}

/// How many IPI numbers are in use.
pub const NR_IPI: u32 = 3;

impl Ipi {
    /// The IPI with this number, if any.
    pub fn from_u32(nr: u32) -> Option<Self> {
        match nr {
            0 => Some(Self::Reschedule),
            1 => Some(Self::CallFunc),
            2 => Some(Self::CpuStop),
            _ => None,
        }
    }
}

/// Set once the IPIs' handlers are installed (`smp_prepare_cpus`).
static IPIS_READY: AtomicBool = AtomicBool::new(false);

/// Install the IPI handlers on the boot CPU (Linux's `set_smp_ipi_range` + `ipi_setup`).
fn ipi_setup_boot() {
    let Some(chip) = irq::root_chip() else {
        return;
    };
    for ipi in 0..NR_IPI {
        if let Err(err) = irq::request_irq(chip.ipi_base() + ipi, ipi_handler, "IPI") {
            log::error!("smp: cannot request IPI{ipi}: {err:?}");
            return;
        }
    }
    IPIS_READY.store(true, Ordering::Release);
}

/// The handler of every IPI's hwirq.
fn ipi_handler(hwirq: u32) {
    let Some(chip) = irq::root_chip() else {
        return;
    };
    if let Some(ipi) = hwirq.checked_sub(chip.ipi_base()).and_then(Ipi::from_u32) {
        handle_ipi(ipi);
    }
}

/// Raise `ipi` on every CPU in `mask` (Linux's `smp_cross_call`). Before the IPIs are set
/// up no other CPU is online, so there is no one to send to.
pub fn smp_cross_call(mask: CpuMask, ipi: Ipi) {
    if mask.is_empty() || !IPIS_READY.load(Ordering::Acquire) {
        return;
    }
    if let Some(chip) = irq::root_chip() {
        chip.send_ipi(mask.bits(), ipi as u32);
    }
}

/// Linux's `arch_smp_send_reschedule`.
pub fn arch_send_reschedule(cpu: usize) {
    smp_cross_call(CpuMask::of(cpu), Ipi::Reschedule);
}

/// Linux's `arch_send_call_function_single_ipi`.
pub fn arch_send_call_function_single_ipi(cpu: usize) {
    smp_cross_call(CpuMask::of(cpu), Ipi::CallFunc);
}

/// Stop every other online CPU and wait up to a second for them to go offline (Linux's
/// `smp_send_stop`). Safe on the panic path: it prints only through `printk_emergency`.
pub fn smp_send_stop() {
    let others = cpu_online_mask().without(smp_processor_id());
    if others.is_empty() {
        return;
    }
    crate::kernel::printk::printk_emergency(format_args!("SMP: stopping secondary CPUs"));
    smp_cross_call(others, Ipi::CpuStop);
    let start = crate::arch::arch_timer::counter();
    let second = crate::arch::arch_timer::frequency();
    while !cpu_online_mask().without(smp_processor_id()).is_empty()
        && crate::arch::arch_timer::counter().wrapping_sub(start) < second
    {
        core::hint::spin_loop();
    }
    let left = cpu_online_mask().without(smp_processor_id());
    if !left.is_empty() {
        crate::kernel::printk::printk_emergency(format_args!(
            "SMP: failed to stop secondary CPUs {:#x}",
            left.bits()
        ));
    }
}

/// An IPI arrived (Linux's `do_handle_IPI`); interrupts are masked.
pub fn handle_ipi(ipi: Ipi) {
    match ipi {
        Ipi::Reschedule => crate::kernel::sched::core::scheduler_ipi(),
        Ipi::CallFunc => crate::kernel::smp::generic_smp_call_function_single_interrupt(),
        Ipi::CpuStop => local_cpu_stop(),
    }
}

/// This CPU stops for good (Linux's `local_cpu_stop`): offline, interrupts masked, parked.
pub fn local_cpu_stop() -> ! {
    crate::arch::irqflags::local_irq_disable();
    set_cpu_online(smp_processor_id(), false);
    loop {
        aarch64_cpu::asm::wfi();
    }
}
