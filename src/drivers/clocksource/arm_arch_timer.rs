//! The Arm generic timer as the periodic tick (Linux: `drivers/clocksource/arm_arch_timer.c`).
//!
//! Every CPU has the same four timers (secure and non-secure physical, virtual,
//! hypervisor) counting the one system counter; each signals a PPI, which the DT node
//! (`arm,armv8-timer`) lists in that order in `interrupts`. Cradle runs at EL1 and uses the
//! virtual timer, as Linux does there: CNTV_CVAL_EL0 holds the next deadline, CNTV_CTL_EL0
//! enables it, and the PPI stays asserted until the deadline moves into the future.
//!
//! The tick is periodic at [`HZ`]: deadline k is `start + k × CNTFRQ / HZ`, computed from k
//! rather than by adding a rounded period, so the tick neither drifts nor accumulates
//! rounding; a late interrupt shortens the next period instead of delaying all later ones.
//! An interrupt that comes more than a period late (the CPU had interrupts masked, or QEMU's
//! host did not run the vCPU) does not replay the missed ticks one interrupt each: the next
//! deadline is the first one still ahead, and the tick is told how many periods passed
//! (Linux's `hrtimer_forward` on the tick timer, `tick_do_update_jiffies64`). Replaying
//! them back to back kept every CPU of an overloaded `-smp 4` QEMU inside its timer
//! interrupt, all contending for the run-queue locks, never catching up.
//! The counter itself is read in `arch/arm64/kernel/arch_timer.rs`.

use core::sync::atomic::{AtomicU64, Ordering};

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{
    ReadWriteable, Readable, Writeable, CNTKCTL_EL1, CNTV_CTL_EL0, CNTV_CVAL_EL0,
};

use crate::arch::arch_timer::{counter, frequency};
use crate::arch::percpu::{smp_processor_id, NR_CPUS};
use crate::kernel::errno::Errno;
use crate::kernel::irq;
use crate::kernel::locking::InitOnce;
use crate::kernel::time::{tick_handle_periodic, HZ};
use crate::of::irq::of_irq_parse_one;

/// Index of each timer's interrupt in the node's `interrupts` (Linux's `enum arch_timer_ppi_nr`).
#[allow(dead_code)]
mod ppi {
    pub const ARCH_TIMER_PHYS_SECURE_PPI: usize = 0;
    pub const ARCH_TIMER_PHYS_NONSECURE_PPI: usize = 1;
    pub const ARCH_TIMER_VIRT_PPI: usize = 2;
    pub const ARCH_TIMER_HYP_PPI: usize = 3;
}

/// The virtual timer's hwirq, once the tick is set up.
static TIMER_HWIRQ: InitOnce<u32> = InitOnce::new();
/// CNTFRQ_EL0 as `time_init` found it.
static TIMER_RATE: AtomicU64 = AtomicU64::new(0);

/// One CPU's tick: the counter value it started at and how many ticks it has had.
struct TickState {
    start: AtomicU64,
    ticks: AtomicU64,
}

/// Each CPU's tick. Only that CPU touches its entry, with IRQs masked.
static TICKS: [TickState; NR_CPUS] = [const {
    TickState {
        start: AtomicU64::new(0),
        ticks: AtomicU64::new(0),
    }
}; NR_CPUS];

/// Counter value of deadline `k` after `start`.
fn deadline(start: u64, k: u64, rate: u64) -> u64 {
    let offset = u128::from(k) * u128::from(rate) / u128::from(HZ);
    start.wrapping_add(offset as u64)
}

/// How many deadlines after `start` have passed at counter value `now`: the largest k with
/// `deadline(start, k, rate) <= now`.
fn deadlines_passed(start: u64, now: u64, rate: u64) -> u64 {
    if rate == 0 {
        return 0;
    }
    // deadline(k) <= d  ⟺  k·rate/HZ < d + 1  ⟺  k < (d + 1)·HZ/rate.
    let d = u128::from(now.wrapping_sub(start));
    (((d + 1) * u128::from(HZ) - 1) / u128::from(rate)) as u64
}

/// When jiffy `j` was due, in monotonic nanoseconds: jiffies count the ticks of
/// `TICK_DO_TIMER_CPU` from its start, so jiffies `j` is that CPU's deadline `j`. `None`
/// before the tick runs.
pub fn jiffy_deadline_ns(j: u64) -> Option<u64> {
    let rate = TIMER_RATE.load(Ordering::Relaxed);
    let start = TICKS[crate::kernel::time::TICK_DO_TIMER_CPU]
        .start
        .load(Ordering::Relaxed);
    (rate != 0 && start != 0).then(|| crate::kernel::time::cycles_to_ns(deadline(start, j, rate)))
}

/// Start this CPU's periodic tick: the first deadline one period from now.
fn start_periodic_tick() {
    let rate = TIMER_RATE.load(Ordering::Relaxed);
    let state = &TICKS[smp_processor_id()];
    let start = counter();
    state.start.store(start, Ordering::Relaxed);
    state.ticks.store(0, Ordering::Relaxed);
    CNTV_CVAL_EL0.set(deadline(start, 1, rate));
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
    barrier::isb(barrier::SY);
}

/// The virtual timer's interrupt (Linux's `arch_timer_handler_virt` + the periodic clock
/// event): move the deadline to the first one still ahead, which deasserts the PPI, then
/// tick once for all the periods that passed.
fn arch_timer_handler_virt(_hwirq: u32) {
    if !CNTV_CTL_EL0.is_set(CNTV_CTL_EL0::ISTATUS) {
        // The deadline was already moved: nothing to do.
        return;
    }
    let state = &TICKS[smp_processor_id()];
    let start = state.start.load(Ordering::Relaxed);
    let rate = TIMER_RATE.load(Ordering::Relaxed);
    let done = state.ticks.load(Ordering::Relaxed);
    let ticks = deadlines_passed(start, counter(), rate).max(done + 1);
    state.ticks.store(ticks, Ordering::Relaxed);
    CNTV_CVAL_EL0.set(deadline(start, ticks + 1, rate));
    barrier::isb(barrier::SY);
    tick_handle_periodic(ticks - done);
}

/// Stop this CPU's virtual timer from signalling.
fn timer_stop() {
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::CLEAR + CNTV_CTL_EL0::IMASK::SET);
    barrier::isb(barrier::SY);
}

/// The event stream's rate (Linux's `ARCH_TIMER_EVT_STREAM_FREQ`): 10 kHz.
const ARCH_TIMER_EVT_STREAM_FREQ: u64 = 10_000;

/// Turn on this CPU's event stream at about [`ARCH_TIMER_EVT_STREAM_FREQ`] (Linux's
/// `arch_timer_configure_evtstream`): an event every time the counter bit `EVNTI` flips,
/// which ends any `wfe` within 100 µs. Waiters sleep in `wfe` until the word they watch
/// changes (`arch::barrier::cmpwait_u32`); the stream bounds the sleep if that wake-up is
/// missed, and lets a spinlock's lockup check run. `/proc/cpuinfo` says `evtstrm`.
fn arch_timer_configure_evtstream(rate: u64) {
    // The stream runs at most at half the counter's rate: divide half the rate, and round
    // the divider to the nearest power of two.
    let div = rate / ARCH_TIMER_EVT_STREAM_FREQ / 2;
    if div == 0 {
        return;
    }
    let mut lsb = 63 - div.leading_zeros() as u64;
    if lsb > 0 && div & (1 << (lsb - 1)) != 0 {
        lsb += 1;
    }
    CNTKCTL_EL1.modify(CNTKCTL_EL1::EVNTI.val(lsb.min(15)) + CNTKCTL_EL1::EVNTEN::SET);
}

/// Linux's `arch_timer_of_init`, which `timer_probe` runs for the timer's node: take its
/// virtual timer interrupt and start the boot CPU's tick at [`HZ`]. Needs the root
/// interrupt controller (`init_IRQ`); without one there is no tick.
fn arch_timer_of_init(fdt: &fdt::Fdt<'_>, node: fdt::node::FdtNode<'_, '_>) -> Result<(), Errno> {
    // EL0 may read CNTVCT_EL0 (and CNTFRQ_EL0), nothing else: Linux's
    // `arch_counter_set_user_access` (the vDSO and user benchmarks read the counter).
    CNTKCTL_EL1.write(CNTKCTL_EL1::EL0VCTEN::SET);
    timer_stop();
    let rate = frequency();
    if rate == 0 {
        log::warn!("arch_timer: Architected timer frequency not available");
        return Err(Errno::EINVAL);
    }
    arch_timer_configure_evtstream(rate);
    TIMER_RATE.store(rate, Ordering::Relaxed);
    log::info!(
        "arch_timer: cp15 timer(s) running at {}.{:02}MHz (virt).",
        rate / 1_000_000,
        (rate / 10_000) % 100
    );
    let hwirq = match of_irq_parse_one(fdt, node, ppi::ARCH_TIMER_VIRT_PPI) {
        Ok(hwirq) => hwirq,
        Err(err) => {
            log::warn!("arch_timer: virtual timer interrupt: {err}: no tick");
            return Err(Errno::ENXIO);
        }
    };
    if let Err(err) = irq::request_irq(hwirq, arch_timer_handler_virt, "arch_timer") {
        log::error!("arch_timer: can't register interrupt {hwirq} ({err:?}): no tick");
        return Err(err);
    }
    let _ = TIMER_HWIRQ.set(hwirq);
    start_periodic_tick();
    log::info!(
        "arch_timer: tick at {HZ} Hz ({} counts) on hwirq {hwirq}",
        rate / HZ
    );
    Ok(())
}

crate::TIMER_OF_DECLARE!(armv7_arch_timer, "arm,armv7-timer", arch_timer_of_init);
crate::TIMER_OF_DECLARE!(armv8_arch_timer, "arm,armv8-timer", arch_timer_of_init);

/// Start the tick on a secondary CPU (Linux's `arch_timer_starting_cpu`): enable its own
/// copy of the timer's PPI and start its timer. Call after the CPU's `IrqChip::init_cpu`.
pub fn timer_init_cpu() {
    CNTKCTL_EL1.write(CNTKCTL_EL1::EL0VCTEN::SET); // as in `arch_timer_of_init`
    timer_stop();
    arch_timer_configure_evtstream(frequency());
    let Some(&hwirq) = TIMER_HWIRQ.get() else {
        return;
    };
    if irq::enable_percpu_irq(hwirq).is_ok() {
        start_periodic_tick();
    }
}

/// The timer's hwirq, once the tick runs.
pub fn arch_timer_hwirq() -> Option<u32> {
    TIMER_HWIRQ.get().copied()
}

mod kunit_tests {
    use core::sync::atomic::Ordering;

    use crate::arch::arch_timer::{counter, frequency};
    use crate::arch::irqflags::{
        local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save,
    };
    use crate::kernel::irq;
    use crate::kernel::time::{HZ, JIFFIES};
    use crate::kunit::Test;
    use crate::{kunit_assert, kunit_expect, kunit_skip, kunit_test_suite};

    /// How many ticks the test waits for: 100 ms at 250 Hz.
    const TICKS: u64 = 25;

    /// `(jiffies, timer IRQ count)`, read together with IRQs masked.
    fn snapshot(hwirq: u32) -> (u64, u64) {
        (JIFFIES.load(Ordering::Relaxed), irq::irq_count(hwirq))
    }

    /// How many ticks this CPU has had since its tick started.
    fn own_ticks() -> u64 {
        super::TICKS[crate::arch::percpu::smp_processor_id()]
            .ticks
            .load(Ordering::Relaxed)
    }

    /// 25 ticks, waited for with `wfi`: this CPU's own tick count moves with jiffies, and no
    /// CPU takes more timer interrupts than periods passed. Leaves IRQs masked or not as it
    /// found them.
    fn tick_at_hz(test: &mut Test) {
        let flags = local_irq_save();
        tick_at_hz_irqs_toggled(test);
        local_irq_restore(flags);
    }

    fn tick_at_hz_irqs_toggled(test: &mut Test) {
        let Some(hwirq) = super::arch_timer_hwirq() else {
            kunit_skip!(test, "no tick");
        };
        let rate = frequency();
        let period = rate / HZ;

        // First make sure the tick runs at all, spinning with a time limit: if it does not,
        // `wfi` below would wait for ever.
        local_irq_disable();
        let (jiffies, _) = snapshot(hwirq);
        let limit = counter() + rate;
        local_irq_enable();
        while JIFFIES.load(Ordering::Relaxed) == jiffies && counter() < limit {
            core::hint::spin_loop();
        }
        local_irq_disable();
        kunit_assert!(
            test,
            JIFFIES.load(Ordering::Relaxed) != jiffies,
            "no tick in 1 s"
        );

        // Start just after a tick, so the phase is known.
        let (jiffies, _) = snapshot(hwirq);
        local_irq_enable();
        while JIFFIES.load(Ordering::Relaxed) == jiffies {
            aarch64_cpu::asm::wfi();
        }
        local_irq_disable();
        let start = counter();
        let (jiffies, count) = snapshot(hwirq);
        let own_before = own_ticks();
        local_irq_enable();
        while JIFFIES.load(Ordering::Relaxed) < jiffies + TICKS {
            aarch64_cpu::asm::wfi();
        }
        local_irq_disable();
        let elapsed = counter() - start;
        let (jiffies_after, count_after) = snapshot(hwirq);
        let own_ticks_after = own_ticks();

        let us = |counts: u64| counts * 1_000_000 / rate;
        log::info!(
            "        # tick_at_hz: {TICKS} ticks in {} us, {} timer IRQs",
            us(elapsed),
            count_after - count
        );
        // How late the interrupts come is the host's business (QEMU's vCPUs wait for the
        // host's cores), so the time taken is no bound; a late tick counts all the periods
        // it covers at once (the checks below).
        let ticked = jiffies_after - jiffies;
        // Every online CPU ticks, but only TICK_DO_TIMER_CPU moves jiffies: this CPU's own
        // ticks match jiffies exactly there, within one elsewhere (another phase).
        let own = own_ticks_after - own_before;
        let exact =
            crate::arch::percpu::smp_processor_id() == crate::kernel::time::TICK_DO_TIMER_CPU;
        kunit_expect!(
            test,
            if exact {
                own == ticked
            } else {
                own.abs_diff(ticked) <= 1
            },
            "this CPU ticked +{own} but jiffies +{ticked}"
        );
        // The interrupt counts are not per CPU. Each interrupt moves its CPU's deadline past
        // the counter, so no CPU takes more than one per period that passed (and one that
        // was pending): a late tick is not replayed one interrupt per missed period.
        let cpus = crate::kernel::smp::num_online_cpus() as u64;
        kunit_expect!(
            test,
            count_after > count && count_after - count <= (elapsed / period + 2) * cpus,
            "timer IRQ count +{} in {} periods on {cpus} CPUs",
            count_after - count,
            elapsed / period
        );
    }

    /// Deadlines are exact multiples of the rate over HZ from the start, even when the
    /// period is not a whole number of counts.
    fn deadlines_do_not_drift(test: &mut Test) {
        kunit_expect!(test, super::deadline(1000, 1, 62_500_000) == 1000 + 250_000);
        // A rate that is not a multiple of HZ: each deadline is rounded down on its own.
        kunit_expect!(test, super::deadline(0, 250, 19_200_000) == 19_200_000);
        kunit_expect!(test, super::deadline(0, 3, 1_000_001) == 12_000);
        kunit_expect!(test, super::deadline(0, 250, 1_000_001) == 1_000_001);
        kunit_expect!(test, super::deadline(u64::MAX, 1, 250) == 0);
        // deadlines_passed inverts deadline: k passed at deadline k, not one count before.
        for (start, rate) in [
            (1000, 62_500_000),
            (0, 1_000_001),
            (u64::MAX - 5, 19_200_000),
        ] {
            for k in [1u64, 2, 3, 249, 250, 251, 100_000] {
                let at = super::deadline(start, k, rate);
                kunit_expect!(test, super::deadlines_passed(start, at, rate) == k);
                kunit_expect!(
                    test,
                    super::deadlines_passed(start, at.wrapping_sub(1), rate) == k - 1
                );
            }
        }
    }

    kunit_test_suite!(arch_timer, [tick_at_hz, deadlines_do_not_drift]);
}
