//! CPU masks and cross-CPU calls (Linux: `kernel/smp.c`, `include/linux/cpumask.h`,
//! `include/linux/smp.h`).
//!
//! [`CpuMask`] is a bitmap of logical CPU numbers (`NR_CPUS` = 16 bits of a `u64`). Three
//! global masks say what exists: *possible* (CPUs the device tree lists, up to `NR_CPUS`,
//! fixed once `smp_init_cpus` ran), *present* (possible CPUs we may try to start), and
//! *online* (CPUs running the kernel and taking interrupts). The boot CPU is in all three
//! from `boot_cpu_init`; a secondary sets its own online bit in `secondary_start_kernel`.
//!
//! Cross-CPU requests go through the architecture's IPIs (`crate::arch::smp`):
//! - [`smp_send_reschedule`]: the target calls `sched::core::scheduler_ipi`.
//! - [`smp_call_function_single`]: `func(arg)` runs on the target CPU with its interrupts
//!   masked; on this CPU it runs at once (interrupts masked too), as Linux does.
//! - [`smp_send_stop`]: every other online CPU stops (panic, reboot, power-off).
//!
//! Call requests wait on a per-CPU queue ([`CallQueue`]) until the target's IPI handler
//! drains it (`generic_smp_call_function_single_interrupt`).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::arch::irqflags::{local_irq_restore, local_irq_save};
use crate::arch::percpu::smp_processor_id;
pub use crate::arch::percpu::NR_CPUS;
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;

const _: () = assert!(NR_CPUS <= 64, "CpuMask is one u64");

/// A set of logical CPU numbers (Linux's `struct cpumask`, here one `u64`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuMask(u64);

impl CpuMask {
    /// No CPUs.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Just `cpu` (Linux's `cpumask_of`). Panics if `cpu >= NR_CPUS`.
    pub const fn of(cpu: usize) -> Self {
        assert!(cpu < NR_CPUS);
        Self(1 << cpu)
    }

    /// CPUs 0..n (all of them if `n >= NR_CPUS`).
    pub const fn first_n(n: usize) -> Self {
        let n = if n > NR_CPUS { NR_CPUS } else { n };
        Self(if n == 64 { u64::MAX } else { (1u64 << n) - 1 })
    }

    /// The mask with these bits; bits at or above `NR_CPUS` are dropped.
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits & Self::first_n(NR_CPUS).0)
    }

    /// The bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether `cpu` is in the mask (Linux's `cpumask_test_cpu`); false for `cpu >= NR_CPUS`.
    pub const fn test(self, cpu: usize) -> bool {
        cpu < NR_CPUS && self.0 & (1 << cpu) != 0
    }

    /// The mask with `cpu` added.
    pub const fn with(self, cpu: usize) -> Self {
        Self(self.0 | Self::of(cpu).0)
    }

    /// The mask with `cpu` removed.
    pub const fn without(self, cpu: usize) -> Self {
        Self(self.0 & !Self::of(cpu).0)
    }

    /// CPUs in both (Linux's `cpumask_and`).
    pub const fn and(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// CPUs in either (Linux's `cpumask_or`).
    pub const fn or(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// How many CPUs (Linux's `cpumask_weight`).
    pub const fn weight(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the mask is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The lowest CPU, if any (Linux's `cpumask_first`).
    pub const fn first(self) -> Option<usize> {
        if self.0 == 0 {
            None
        } else {
            Some(self.0.trailing_zeros() as usize)
        }
    }

    /// The CPUs in increasing order (Linux's `for_each_cpu`).
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..NR_CPUS).filter(move |&cpu| self.test(cpu))
    }
}

/// A CPU mask as Linux's `%*pb` prints it (`cpumap_print_to_pagebuf`): hex, as many
/// digits as the second field's CPU count (`nr_cpu_ids`) needs.
pub struct CpuMaskHex(pub CpuMask, pub usize);

impl core::fmt::Display for CpuMaskHex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let digits = self.1.div_ceil(4).max(1);
        let bits = self.0.bits() & (u64::MAX >> (64 - self.1.clamp(1, 64)));
        write!(f, "{bits:0digits$x}")
    }
}

/// A CPU mask as Linux's `%*pbl` prints it: ranges, `0-3` or `0,2`, over the
/// second field's CPU count.
pub struct CpuMaskList(pub CpuMask, pub usize);

impl core::fmt::Display for CpuMaskList {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut first = true;
        let mut cpu = 0;
        while cpu < self.1 {
            if !self.0.test(cpu) {
                cpu += 1;
                continue;
            }
            let start = cpu;
            while cpu + 1 < self.1 && self.0.test(cpu + 1) {
                cpu += 1;
            }
            let sep = if first { "" } else { "," };
            first = false;
            if start == cpu {
                write!(f, "{sep}{start}")?;
            } else {
                write!(f, "{sep}{start}-{cpu}")?;
            }
            cpu += 1;
        }
        Ok(())
    }
}

static CPU_POSSIBLE: AtomicU64 = AtomicU64::new(1);
static CPU_PRESENT: AtomicU64 = AtomicU64::new(1);
static CPU_ONLINE: AtomicU64 = AtomicU64::new(1);

fn set_bit(mask: &AtomicU64, cpu: usize, on: bool) {
    let bit = CpuMask::of(cpu).bits();
    if on {
        mask.fetch_or(bit, Ordering::AcqRel);
    } else {
        mask.fetch_and(!bit, Ordering::AcqRel);
    }
}

/// CPUs that could ever run (Linux's `cpu_possible_mask`).
pub fn cpu_possible_mask() -> CpuMask {
    CpuMask(CPU_POSSIBLE.load(Ordering::Acquire))
}

/// CPUs that are there to be started (Linux's `cpu_present_mask`).
pub fn cpu_present_mask() -> CpuMask {
    CpuMask(CPU_PRESENT.load(Ordering::Acquire))
}

/// CPUs running the kernel (Linux's `cpu_online_mask`).
pub fn cpu_online_mask() -> CpuMask {
    CpuMask(CPU_ONLINE.load(Ordering::Acquire))
}

/// How many CPUs are online (Linux's `num_online_cpus`).
pub fn num_online_cpus() -> usize {
    cpu_online_mask().weight()
}

/// How many CPUs are possible (Linux's `num_possible_cpus`).
pub fn num_possible_cpus() -> usize {
    cpu_possible_mask().weight()
}

/// Whether `cpu` is online (Linux's `cpu_online`); false for `cpu >= NR_CPUS`.
pub fn cpu_online(cpu: usize) -> bool {
    cpu_online_mask().test(cpu)
}

/// Mark `cpu` possible or not (Linux's `set_cpu_possible`; only during `smp_init_cpus`).
pub fn set_cpu_possible(cpu: usize, possible: bool) {
    set_bit(&CPU_POSSIBLE, cpu, possible);
}

/// Mark `cpu` present or not (Linux's `set_cpu_present`).
pub fn set_cpu_present(cpu: usize, present: bool) {
    set_bit(&CPU_PRESENT, cpu, present);
}

/// Mark `cpu` online or not (Linux's `set_cpu_online`; a CPU sets its own bit).
pub fn set_cpu_online(cpu: usize, online: bool) {
    set_bit(&CPU_ONLINE, cpu, online);
}

/// One queued cross-CPU call (Linux's `call_single_data_t`).
struct CallSingleData {
    func: fn(usize),
    arg: usize,
    /// Set by the target once `func` returned, when the sender waits for it.
    done: Option<&'static AtomicBool>,
}

/// Calls waiting for one CPU (Linux's per-CPU `call_single_queue`).
///
/// Lock rule: the queue's lock is taken by senders on any CPU and by its owner's IPI
/// handler; `func` runs with the lock released.
struct CallQueue(SpinLock<VecDeque<CallSingleData>>);

static CALL_QUEUES: [CallQueue; NR_CPUS] =
    [const { CallQueue(SpinLock::new(VecDeque::new())) }; NR_CPUS];

/// Ask `cpu` to reschedule (Linux's `smp_send_reschedule`): its IPI handler calls
/// `scheduler_ipi`. A CPU that is not online is ignored.
pub fn smp_send_reschedule(cpu: usize) {
    if cpu_online(cpu) {
        crate::arch::smp::arch_send_reschedule(cpu);
    }
}

/// Run `func(arg)` on `cpu` with that CPU's interrupts masked (Linux's
/// `smp_call_function_single`). On this CPU it runs at once. With `wait`, return only
/// once it has run. `ENXIO` if `cpu` is not online.
///
/// Must not be called with interrupts masked when `cpu` is another CPU and `wait` is set
/// (the target could be waiting on us: Linux warns the same).
pub fn smp_call_function_single(
    cpu: usize,
    func: fn(usize),
    arg: usize,
    wait: bool,
) -> Result<(), Errno> {
    if !cpu_online(cpu) {
        return Err(Errno::ENXIO);
    }
    let flags = local_irq_save();
    let this = smp_processor_id();
    if cpu == this {
        func(arg);
        local_irq_restore(flags);
        return Ok(());
    }
    // The flag lives on the heap, leaked only until the target has set it (then freed
    // below): the target holds a 'static reference while it runs.
    let done: Option<&'static AtomicBool> =
        wait.then(|| &*Box::leak(Box::new(AtomicBool::new(false))));
    CALL_QUEUES[cpu]
        .0
        .lock()
        .push_back(CallSingleData { func, arg, done });
    crate::arch::smp::arch_send_call_function_single_ipi(cpu);
    local_irq_restore(flags);
    if let Some(done) = done {
        while !done.load(Ordering::Acquire) {
            crate::arch::barrier::cmpwait_bool(done, false);
        }
        // SAFETY: `done` came from Box::leak above, and the target stopped using it when
        // it set it (its last access is that store).
        drop(unsafe { Box::from_raw(done as *const AtomicBool as *mut AtomicBool) });
    }
    Ok(())
}

/// Run `func(arg)` on every other online CPU (Linux's `smp_call_function`); with `wait`,
/// return once all have run it.
pub fn smp_call_function(func: fn(usize), arg: usize, wait: bool) {
    let others = cpu_online_mask().without(smp_processor_id());
    for cpu in others.iter() {
        // A CPU that went offline meanwhile is skipped, as Linux's smp_call_function_many.
        let _ = smp_call_function_single(cpu, func, arg, wait);
    }
}

/// Run `func(arg)` on every online CPU, this one included (Linux's `on_each_cpu`).
pub fn on_each_cpu(func: fn(usize), arg: usize, wait: bool) {
    smp_call_function(func, arg, wait);
    let flags = local_irq_save();
    func(arg);
    local_irq_restore(flags);
}

/// The call-function IPI's handler: run this CPU's queued calls
/// (Linux's `generic_smp_call_function_single_interrupt`). Interrupts are masked.
pub fn generic_smp_call_function_single_interrupt() {
    let cpu = smp_processor_id();
    loop {
        let Some(csd) = CALL_QUEUES[cpu].0.lock().pop_front() else {
            break;
        };
        (csd.func)(csd.arg);
        if let Some(done) = csd.done {
            done.store(true, Ordering::Release);
        }
    }
}

/// Stop every other online CPU (Linux's `smp_send_stop`), for panic, reboot and power-off:
/// they mask interrupts and park. Waits up to a second for them to go offline.
pub fn smp_send_stop() {
    crate::arch::smp::smp_send_stop();
}

/// How many CPUs to bring up (Linux's `setup_max_cpus`): `nosmp` means only the boot CPU
/// (0 more), `maxcpus=N` at most N, else all.
pub fn setup_max_cpus(cmdline: &str) -> usize {
    use crate::kernel::params;
    if params::get(cmdline, "nosmp").is_some() {
        return 0;
    }
    match params::get(cmdline, "maxcpus").flatten() {
        Some(n) => n.parse().unwrap_or(NR_CPUS),
        None => NR_CPUS,
    }
}

/// Start the secondary CPUs (Linux's `smp_init`): their idle tasks, then `cpu_up` for each
/// present CPU until `max_cpus` run. A CPU that fails is reported by `__cpu_up` and left
/// out; boot goes on with the others.
pub fn smp_init(max_cpus: usize) {
    log::info!("smp: Bringing up secondary CPUs ...");
    crate::kernel::smpboot::idle_threads_init();
    for cpu in cpu_present_mask().iter() {
        if num_online_cpus() >= max_cpus {
            break;
        }
        if !cpu_online(cpu) {
            let _ = crate::kernel::cpu::cpu_up(cpu);
        }
    }
    let cpus = num_online_cpus();
    log::info!(
        "smp: Brought up 1 node, {cpus} CPU{}",
        if cpus > 1 { "s" } else { "" }
    );
    crate::arch::smp::smp_cpus_done(max_cpus);
}

mod kunit_tests {
    use core::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::kunit::Test;
    use crate::{kunit_assert, kunit_expect, kunit_skip, kunit_test_suite};

    fn cpumask_ops(test: &mut Test) {
        let m = CpuMask::empty().with(1).with(3);
        kunit_expect!(test, m.bits() == 0b1010);
        kunit_expect!(test, m.weight() == 2 && m.first() == Some(1));
        kunit_expect!(
            test,
            m.test(3) && !m.test(2) && !m.test(NR_CPUS) && !m.test(1000)
        );
        kunit_expect!(test, m.without(1).first() == Some(3));
        kunit_expect!(test, CpuMask::empty().first().is_none());
        kunit_expect!(test, CpuMask::first_n(3).bits() == 0b111);
        kunit_expect!(test, CpuMask::first_n(1000).weight() == NR_CPUS);
        kunit_expect!(test, CpuMask::from_bits(u64::MAX).weight() == NR_CPUS);
        let mut seen = [false; NR_CPUS];
        m.iter().for_each(|cpu| seen[cpu] = true);
        kunit_expect!(
            test,
            seen.iter().filter(|&&s| s).count() == 2 && seen[1] && seen[3]
        );
    }

    fn masks_agree(test: &mut Test) {
        let online = cpu_online_mask();
        kunit_expect!(test, online.test(crate::arch::percpu::smp_processor_id()));
        kunit_expect!(test, online.and(cpu_present_mask()) == online);
        kunit_expect!(
            test,
            cpu_present_mask().and(cpu_possible_mask()) == cpu_present_mask()
        );
        kunit_expect!(test, num_online_cpus() == online.weight());
    }

    /// Which CPU ran each call, by the argument it was given (the target CPU).
    static RAN_ON: [AtomicUsize; NR_CPUS] = [const { AtomicUsize::new(usize::MAX) }; NR_CPUS];

    fn record(arg: usize) {
        // Runs with interrupts masked, on the target CPU.
        let on = if crate::arch::irqflags::irqs_disabled() {
            crate::arch::percpu::smp_processor_id()
        } else {
            usize::MAX - 1
        };
        RAN_ON[arg].store(on, Ordering::Release);
    }

    fn call_function_single(test: &mut Test) {
        for slot in &RAN_ON {
            slot.store(usize::MAX, Ordering::Relaxed);
        }
        let offline = (0..NR_CPUS).find(|&cpu| !cpu_online(cpu));
        if let Some(cpu) = offline {
            kunit_expect!(
                test,
                smp_call_function_single(cpu, record, cpu, true) == Err(Errno::ENXIO)
            );
        }
        kunit_expect!(
            test,
            smp_call_function_single(NR_CPUS, record, 0, true) == Err(Errno::ENXIO)
        );
        for cpu in cpu_online_mask().iter() {
            kunit_assert!(
                test,
                smp_call_function_single(cpu, record, cpu, true).is_ok()
            );
            let on = RAN_ON[cpu].load(Ordering::Acquire);
            kunit_expect!(test, on == cpu, "call for CPU{cpu} ran on {on}");
        }
    }

    /// IPI_RESCHEDULE reaches every other online CPU (its IPI count goes up).
    fn reschedule_ipi(test: &mut Test) {
        let this = crate::arch::percpu::smp_processor_id();
        let others = cpu_online_mask().without(this);
        if others.is_empty() {
            kunit_skip!(test, "one CPU online");
        }
        let Some(chip) = crate::kernel::irq::root_chip() else {
            kunit_skip!(test, "no interrupt controller");
        };
        let hwirq = chip.ipi_base() + crate::arch::smp::Ipi::Reschedule as u32;
        let before = crate::kernel::irq::irq_count(hwirq);
        for cpu in others.iter() {
            smp_send_reschedule(cpu);
        }
        let (start, second) = (
            crate::arch::arch_timer::counter(),
            crate::arch::arch_timer::frequency(),
        );
        let want = before + others.weight() as u64;
        while crate::kernel::irq::irq_count(hwirq) < want
            && crate::arch::arch_timer::counter() - start < second
        {
            core::hint::spin_loop();
        }
        let after = crate::kernel::irq::irq_count(hwirq);
        kunit_expect!(
            test,
            after >= want,
            "{} reschedule IPIs arrived of {}",
            after - before,
            others.weight()
        );
    }

    /// Every online CPU has its own idle task, PID 0, `swapper/N` (CPU 0's is init_task).
    /// The test may run on any CPU and move between them, so it checks all of them.
    fn idle_tasks(test: &mut Test) {
        let init = &crate::init::init_task::init_task as *const crate::kernel::task::TaskStruct;
        for cpu in cpu_online_mask().iter() {
            let Some(idle) = crate::kernel::smpboot::idle_thread_get(cpu) else {
                kunit_expect!(test, false, "CPU{cpu} has no idle task");
                continue;
            };
            let mut want = crate::kernel::printk_fmt::LineWriter::<16>::new();
            let _ = core::fmt::Write::write_fmt(&mut want, format_args!("swapper/{cpu}"));
            kunit_expect!(test, idle.pid() == 0);
            kunit_expect!(
                test,
                idle.comm().0 == crate::kernel::task::comm_from(want.as_str()),
                "CPU{cpu}'s idle task"
            );
            kunit_expect!(test, idle.cpu.load(Ordering::Relaxed) as usize == cpu);
            kunit_expect!(test, core::ptr::eq(idle, init) == (cpu == 0));
        }
    }

    kunit_test_suite!(
        smp,
        [
            cpumask_ops,
            masks_agree,
            call_function_single,
            reschedule_ipi,
            idle_tasks
        ]
    );
}
