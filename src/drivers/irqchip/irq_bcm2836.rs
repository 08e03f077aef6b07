//! The Raspberry Pi 3's interrupt controllers: the BCM2836 per-CPU local controller and
//! the BCM2835 "ARMCTRL" controller chained behind it (Linux:
//! `drivers/irqchip/irq-bcm2836.c` and `irq-bcm2835.c`).
//!
//! The BCM2837 has no GIC. Each core's local controller (`brcm,bcm2836-l1-intc`, "ARM
//! local peripherals" QA7 rev 3.4, section 4) signals its timers, mailboxes, and — on
//! source 8 — the GPU's interrupts, which the ARMCTRL controller (`brcm,bcm2836-armctrl-ic`,
//! BCM2835 ARM Peripherals, section 7) sorts into three banks. Cradle drives both as one
//! root chip with one hwirq space:
//!
//! ```text
//! hwirq 0..15        local source n (3 = the virtual timer, CNTVIRQ)
//! hwirq 16 + n       IPI n: bit n of the target core's mailbox 0 (local source 4)
//! hwirq 32 + 32*b + n  ARMCTRL bank b (0 = basic, 1 = GPU 0-31, 2 = GPU 32-63), bit n
//! ```
//!
//! IPIs are Linux's: a core sends IPI n by setting bit n of the target's mailbox 0; the
//! target sees local source 4, reads the mailbox, and clears the bit it handles (Linux's
//! `bcm2836_arm_irqchip_ipi_send_mask` and `bcm2836_arm_irqchip_handle_ipi`).

use core::sync::atomic::{AtomicU32, Ordering};

use aarch64_cpu::asm::barrier;
use fdt::node::FdtNode;
use fdt::Fdt;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

use crate::arch::percpu::smp_processor_id;
use crate::kernel::errno::Errno;
use crate::kernel::irq::IrqChip;
use crate::kernel::locking::InitOnce;
use crate::of::base::of_find_compatible;
use crate::of::irq::{irq_domain_add, IrqDomainOps};

register_structs! {
    /// The BCM2836 local peripherals (QA7 section 4.1).
    #[allow(non_snake_case)]
    pub LocalRegisters {
        (0x00 => CONTROL: ReadWrite<u32>),
        (0x04 => _reserved0),
        (0x0c => GPU_ROUTING: ReadWrite<u32>),
        (0x10 => _reserved1),
        /// Core n timers interrupt control (bit 3: nCNTVIRQ routed to IRQ).
        (0x40 => TIMER_CNTRL: [ReadWrite<u32>; 4]),
        (0x50 => MAILBOX_CNTRL: [ReadWrite<u32>; 4]),
        /// Core n IRQ source (bits 0-3 timers, 4-7 mailboxes, 8 GPU, 9 PMU).
        (0x60 => IRQ_SOURCE: [ReadOnly<u32>; 4]),
        (0x70 => _reserved2),
        /// Core n mailbox m, write-set (QA7 4.10): at index 4n + m; writing 1s sets bits.
        (0x80 => MAILBOX_SET: [WriteOnly<u32>; 16]),
        /// Core n mailbox m, read and write-1-to-clear: at index 4n + m.
        (0xc0 => MAILBOX_RDCLR: [ReadWrite<u32>; 16]),
        (0x100 => @END),
    }
}

register_structs! {
    /// The ARMCTRL interrupt registers (BCM2835 ARM Peripherals 7.5).
    #[allow(non_snake_case)]
    pub ArmctrlRegisters {
        (0x00 => PENDING: [ReadOnly<u32>; 3]),
        (0x0c => FIQ_CONTROL: ReadWrite<u32>),
        (0x10 => ENABLE: [WriteOnly<u32>; 3]),
        (0x1c => DISABLE: [WriteOnly<u32>; 3]),
        (0x28 => @END),
    }
}

/// The enable and disable registers list GPU bank 1, GPU bank 2, then basic; pending lists
/// basic first. Map a bank (0 basic, 1, 2) to its index in ENABLE/DISABLE.
const fn enable_index(bank: usize) -> usize {
    match bank {
        0 => 2,
        b => b - 1,
    }
}

/// Local source 4: mailbox 0, which carries the IPIs.
const LOCAL_MAILBOX0: u32 = 4;
/// Local source 8: "an interrupt from the GPU" (the ARMCTRL controller).
const LOCAL_GPU: u32 = 8;
/// The hwirq of IPI 0.
const IPI_BASE: u32 = 16;
const ARMCTRL_BASE: u32 = 32;

/// Both controllers, as one root chip.
pub struct Bcm2836Intc {
    local: &'static LocalRegisters,
    armctrl: Option<&'static ArmctrlRegisters>,
    /// ARMCTRL bits enabled, per bank (the hardware's enable registers are write-only).
    enabled: [AtomicU32; 3],
}

// SAFETY: the registers are MMIO; the enabled mask is atomic.
unsafe impl Sync for Bcm2836Intc {}
// SAFETY: as above.
unsafe impl Send for Bcm2836Intc {}

static INTC: InitOnce<Bcm2836Intc> = InitOnce::new();

fn map(fdt: &Fdt<'_>, node: FdtNode<'_, '_>, size: u64) -> Result<usize, Errno> {
    let (pa, _) = crate::of::address::node_reg(fdt, node)
        .ok()
        .and_then(|mut r| r.next())
        .and_then(Result::ok)
        .ok_or(Errno::ENODEV)?;
    crate::mm::vmalloc::ioremap(pa, size)
        .map(|va| va as usize)
        .ok_or(Errno::ENOMEM)
}

/// Set up the local controller `node` (and the ARMCTRL controller, if the DT has one).
pub fn bcm2836_of_init(
    fdt: &Fdt<'_>,
    node: FdtNode<'_, '_>,
) -> Result<&'static dyn IrqChip, Errno> {
    let local_va = map(fdt, node, 0x100)?;
    // SAFETY: ioremap mapped the local controller's registers as device memory, for good.
    let local = unsafe { &*(local_va as *const LocalRegisters) };
    let armctrl = match of_find_compatible(fdt, &["brcm,bcm2836-armctrl-ic"]) {
        Some(actrl) => {
            let va = map(fdt, actrl, 0x200)?;
            // Its interrupts are numbered from ARMCTRL_BASE in this chip's hwirq space.
            irq_domain_add(actrl, &ArmctrlDomain);
            // SAFETY: as above, for the ARMCTRL registers.
            Some(unsafe { &*(va as *const ArmctrlRegisters) })
        }
        None => None,
    };
    if let Some(a) = armctrl {
        for i in 0..3 {
            a.DISABLE[i].set(u32::MAX);
        }
    }
    // GPU interrupts go to core 0's IRQ line.
    local.GPU_ROUTING.set(0);
    let intc = Bcm2836Intc {
        local,
        armctrl,
        enabled: [const { AtomicU32::new(0) }; 3],
    };
    let _ = INTC.set(intc);
    let intc = INTC.get().ok_or(Errno::EBUSY)?;
    irq_domain_add(node, intc);
    log::info!(
        "bcm2836: local interrupt controller, {} ARMCTRL controller",
        if intc.armctrl.is_some() {
            "with the"
        } else {
            "without an"
        }
    );
    Ok(intc)
}

impl IrqChip for Bcm2836Intc {
    fn name(&self) -> &'static str {
        "bcm2836"
    }

    fn nr_irqs(&self) -> u32 {
        ARMCTRL_BASE + 96
    }

    fn init_cpu(&self) {}

    fn enable(&self, hwirq: u32) {
        let cpu = smp_processor_id() & 3;
        match hwirq {
            0..=3 => {
                let reg = &self.local.TIMER_CNTRL[cpu];
                reg.set(reg.get() | (1 << hwirq));
            }
            IPI_BASE..ARMCTRL_BASE => {
                // Every IPI arrives through mailbox 0's interrupt.
                let reg = &self.local.MAILBOX_CNTRL[cpu];
                reg.set(reg.get() | 1);
            }
            h if h >= ARMCTRL_BASE => {
                let (bank, bit) = (((h - ARMCTRL_BASE) / 32) as usize, (h - ARMCTRL_BASE) % 32);
                if let (Some(a), true) = (self.armctrl, bank < 3) {
                    self.enabled[bank].fetch_or(1 << bit, Ordering::Relaxed);
                    a.ENABLE[enable_index(bank)].set(1 << bit);
                }
            }
            _ => {}
        }
    }

    fn disable(&self, hwirq: u32) {
        let cpu = smp_processor_id() & 3;
        match hwirq {
            0..=3 => {
                let reg = &self.local.TIMER_CNTRL[cpu];
                reg.set(reg.get() & !(1 << hwirq));
            }
            h if h >= ARMCTRL_BASE => {
                let (bank, bit) = (((h - ARMCTRL_BASE) / 32) as usize, (h - ARMCTRL_BASE) % 32);
                if let (Some(a), true) = (self.armctrl, bank < 3) {
                    self.enabled[bank].fetch_and(!(1 << bit), Ordering::Relaxed);
                    a.DISABLE[enable_index(bank)].set(1 << bit);
                }
            }
            _ => {}
        }
    }

    fn ack(&self) -> Option<u32> {
        let cpu = smp_processor_id() & 3;
        let source = self.local.IRQ_SOURCE[cpu].get();
        if source & (1 << LOCAL_MAILBOX0) != 0 {
            let mailbox = &self.local.MAILBOX_RDCLR[4 * cpu];
            let pending = mailbox.get();
            if pending != 0 {
                let ipi = pending.trailing_zeros();
                mailbox.set(1 << ipi);
                return Some(IPI_BASE + ipi);
            }
        }
        let local = source & !(1 << LOCAL_GPU) & !(1 << LOCAL_MAILBOX0);
        if local != 0 {
            return Some(local.trailing_zeros());
        }
        if source & (1 << LOCAL_GPU) != 0 {
            let a = self.armctrl?;
            for bank in [1usize, 2, 0] {
                let mut pending =
                    a.PENDING[bank].get() & self.enabled[bank].load(Ordering::Relaxed);
                if bank == 0 {
                    pending &= 0xff; // bits 8+ of the basic register summarise banks 1 and 2
                }
                if pending != 0 {
                    return Some(ARMCTRL_BASE + 32 * bank as u32 + pending.trailing_zeros());
                }
            }
        }
        None
    }

    fn eoi(&self, _hwirq: u32) {
        // Level-triggered sources clear when the device is serviced; nothing to signal.
    }

    fn send_ipi(&self, cpu_mask: u64, sgi: u32) {
        // The IPI must not overtake what this CPU wrote for the target (Linux: dsb sy).
        barrier::dsb(barrier::SY);
        for cpu in (0..4).filter(|cpu| cpu_mask & (1 << cpu) != 0) {
            self.local.MAILBOX_SET[4 * cpu].set(1 << (sgi & 31));
        }
    }

    fn ipi_base(&self) -> u32 {
        IPI_BASE
    }

    fn translate(&self, cells: &[u32]) -> Option<u32> {
        match *cells {
            [hwirq, _flags] if hwirq < 32 => Some(hwirq),
            _ => None,
        }
    }
}

/// The ARMCTRL controller's interrupt domain, chained behind the local one: its interrupts
/// are the local chip's hwirqs from `ARMCTRL_BASE` on.
struct ArmctrlDomain;

impl IrqDomainOps for ArmctrlDomain {
    /// Two cells, bank and bit (Linux's `armctrl_xlate`).
    fn translate(&self, cells: &[u32]) -> Option<u32> {
        match *cells {
            [bank, bit] if bank < 3 && bit < 32 => Some(ARMCTRL_BASE + 32 * bank + bit),
            _ => None,
        }
    }
}

crate::IRQCHIP_DECLARE!(
    bcm2836_arm_irqchip_l1_intc,
    "brcm,bcm2836-l1-intc",
    bcm2836_of_init
);
