//! The GICv2 interrupt controller: GIC-400, and the Cortex-A15/A9 GICs (Linux:
//! `drivers/irqchip/irq-gic.c`).
//!
//! A GICv2 has a distributor (GICD), shared by all CPUs, which holds the enable, priority,
//! target and trigger state of every interrupt, and one memory-mapped CPU interface (GICC)
//! per CPU, banked at the same address, through which a CPU acknowledges (IAR) and ends
//! (EOIR) the interrupts the distributor sends it. The device tree's `reg[0]` is the
//! distributor, `reg[1]` the CPU interface (with virtualization, `reg[2]`/`reg[3]` are the
//! hypervisor and virtual CPU interfaces, unused here).
//!
//! Registers are from the GIC Architecture Specification v2 (ARM IHI 0048B.b, chapter 4)
//! and the GIC-400 TRM (ARM DDI 0471B, 3.2-3.3). All interrupts are left in group 0 as
//! reset puts them (or in whatever group the secure firmware chose: from the non-secure
//! side the group registers read as zero), and are signalled as IRQ; split EOI/deactivate
//! mode is not used.

use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use aarch64_cpu::asm::barrier;
use fdt::node::FdtNode;
use fdt::Fdt;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

use super::{GIC_DEFAULT_PMR, GIC_DEFAULT_PRIORITY, GIC_MAX_IRQS, GIC_SPURIOUS_FIRST};
use crate::arch::percpu::{smp_processor_id, NR_CPUS};
use crate::kernel::errno::Errno;
use crate::kernel::irq::IrqChip;
use crate::kernel::locking::InitOnce;

register_bitfields! {
    u32,
    /// Distributor Control Register (IHI 0048B 4.3.1).
    GICD_CTLR [
        /// Without the Security Extensions, or from the secure side: forward group 1
        /// interrupts.
        EnableGrp1 OFFSET(1) NUMBITS(1) [],
        /// Forward group 0 interrupts; from the non-secure side of a GIC with the Security
        /// Extensions this bit is "Enable" for the non-secure group 1.
        EnableGrp0 OFFSET(0) NUMBITS(1) []
    ],
    /// Interrupt Controller Type Register (IHI 0048B 4.3.2).
    GICD_TYPER [
        /// The GIC implements the Security Extensions.
        SecurityExtn OFFSET(10) NUMBITS(1) [],
        /// Number of CPU interfaces, minus one.
        CPUNumber OFFSET(5) NUMBITS(3) [],
        /// The GIC supports 32 × (ITLinesNumber + 1) INTIDs.
        ITLinesNumber OFFSET(0) NUMBITS(5) []
    ],
    /// Software Generated Interrupt Register (IHI 0048B 4.3.15).
    GICD_SGIR [
        /// Which CPU interfaces get the SGI.
        TargetListFilter OFFSET(24) NUMBITS(2) [
            /// Those in CPUTargetList.
            TargetList = 0,
            /// All but the requesting CPU.
            AllOthers = 1,
            /// Only the requesting CPU.
            ToSelf = 2
        ],
        /// One bit per CPU interface.
        CPUTargetList OFFSET(16) NUMBITS(8) [],
        /// The SGI's INTID, 0-15.
        SGIINTID OFFSET(0) NUMBITS(4) []
    ],
    /// CPU Interface Control Register (IHI 0048B 4.4.1).
    GICC_CTLR [
        /// Group 1 enable (secure view or no Security Extensions).
        EnableGrp1 OFFSET(1) NUMBITS(1) [],
        /// Group 0 enable; the non-secure view's "Enable" (group 1).
        EnableGrp0 OFFSET(0) NUMBITS(1) []
    ],
    /// Interrupt Acknowledge and End of Interrupt Registers (IHI 0048B 4.4.4, 4.4.5).
    GICC_IAR [
        /// For an SGI, the CPU interface that requested it; EOIR needs it back.
        CPUID OFFSET(10) NUMBITS(3) [],
        /// The INTID; 1020-1023 mean none (1023: spurious).
        InterruptID OFFSET(0) NUMBITS(10) []
    ]
}

register_structs! {
    /// The distributor (IHI 0048B table 4-1; GIC-400 TRM 3.2).
    #[allow(non_snake_case)]
    pub GicdRegisters {
        (0x000 => CTLR: ReadWrite<u32, GICD_CTLR::Register>),
        (0x004 => TYPER: ReadOnly<u32, GICD_TYPER::Register>),
        (0x008 => IIDR: ReadOnly<u32>),
        (0x00c => _reserved0),
        /// Group of each interrupt, one bit each.
        (0x080 => IGROUPR: [ReadWrite<u32>; 32]),
        /// Write 1 to enable.
        (0x100 => ISENABLER: [ReadWrite<u32>; 32]),
        /// Write 1 to disable.
        (0x180 => ICENABLER: [ReadWrite<u32>; 32]),
        (0x200 => ISPENDR: [ReadWrite<u32>; 32]),
        (0x280 => ICPENDR: [ReadWrite<u32>; 32]),
        (0x300 => ISACTIVER: [ReadWrite<u32>; 32]),
        /// Write 1 to deactivate.
        (0x380 => ICACTIVER: [ReadWrite<u32>; 32]),
        /// Priority of each interrupt, one byte each (byte-accessible, 4.3.11).
        (0x400 => IPRIORITYR: [ReadWrite<u8>; 1020]),
        (0x7fc => _reserved1),
        /// CPU targets of each interrupt, one byte each; for SGIs and PPIs it reads as the
        /// reading CPU's own interface (4.3.12). RAZ/WI on a uniprocessor GIC.
        (0x800 => ITARGETSR: [ReadWrite<u8>; 1020]),
        (0xbfc => _reserved2),
        /// Trigger of each interrupt, two bits each: 0b10 edge, 0b00 level (4.3.13).
        (0xc00 => ICFGR: [ReadWrite<u32>; 64]),
        (0xd00 => _reserved3),
        (0xf00 => SGIR: WriteOnly<u32, GICD_SGIR::Register>),
        (0xf04 => _reserved4),
        (0x1000 => @END),
    }
}

register_structs! {
    /// The CPU interface (IHI 0048B table 4-2; GIC-400 TRM 3.3).
    #[allow(non_snake_case)]
    pub GiccRegisters {
        (0x00 => CTLR: ReadWrite<u32, GICC_CTLR::Register>),
        /// Priority mask: only interrupts with a lower priority value are signalled.
        (0x04 => PMR: ReadWrite<u32>),
        (0x08 => BPR: ReadWrite<u32>),
        (0x0c => IAR: ReadOnly<u32, GICC_IAR::Register>),
        (0x10 => EOIR: WriteOnly<u32, GICC_IAR::Register>),
        (0x14 => RPR: ReadOnly<u32>),
        (0x18 => HPPIR: ReadOnly<u32>),
        (0x1c => _reserved0),
        (0xfc => IIDR: ReadOnly<u32>),
        (0x100 => @END),
    }
}

/// A GICv2 whose registers are mapped.
///
/// # Invariants
///
/// `dist` and `cpu` are the virtual addresses of this GIC's distributor and CPU interface,
/// mapped as device memory for the rest of the kernel's life.
pub struct Gic {
    dist: usize,
    cpu: usize,
    nr_irqs: u32,
    /// Each logical CPU's CPU interface mask (Linux's `gic_cpu_map`), 0 until it ran
    /// `init_cpu` or on a uniprocessor GIC.
    cpu_map: [AtomicU8; NR_CPUS],
    /// The IAR's CPUID of the SGI each CPU is handling, to give back in EOIR. Handlers do
    /// not nest, so one slot per CPU is enough.
    sgi_source: [AtomicU32; NR_CPUS],
}

static GIC: InitOnce<Gic> = InitOnce::new();

impl Gic {
    fn dist(&self) -> &GicdRegisters {
        // SAFETY: `dist` maps the distributor for good (type invariant).
        unsafe { &*(self.dist as *const GicdRegisters) }
    }

    fn cpu(&self) -> &GiccRegisters {
        // SAFETY: `cpu` maps the CPU interface for good (type invariant).
        unsafe { &*(self.cpu as *const GiccRegisters) }
    }

    /// The calling CPU's interface mask: the banked targets of the first SGIs/PPIs read as
    /// it (Linux's `gic_get_cpumask`).
    fn get_cpumask(&self) -> u8 {
        self.dist().ITARGETSR[..32]
            .iter()
            .fold(0, |mask, target| mask | target.get())
    }

    /// Linux's `gic_dist_init`: every SPI disabled, inactive, level-triggered, at the
    /// default priority and targeted at the boot CPU; then the distributor on.
    fn dist_init(&self) {
        let dist = self.dist();
        let cpumask = self.get_cpumask();
        dist.CTLR.set(0);
        let nr = self.nr_irqs as usize;
        for target in &dist.ITARGETSR[32..nr] {
            target.set(cpumask);
        }
        for config in &dist.ICFGR[2..nr / 16] {
            config.set(0);
        }
        for priority in &dist.IPRIORITYR[32..nr] {
            priority.set(GIC_DEFAULT_PRIORITY);
        }
        for i in 1..nr / 32 {
            dist.ICACTIVER[i].set(!0);
            dist.ICENABLER[i].set(!0);
        }
        dist.CTLR.write(GICD_CTLR::EnableGrp0::SET);
    }
}

impl IrqChip for Gic {
    fn name(&self) -> &'static str {
        "GICv2"
    }

    fn nr_irqs(&self) -> u32 {
        self.nr_irqs
    }

    /// Linux's `gic_cpu_init` + `gic_cpu_if_up`: PPIs off, SGIs on, the banked priorities
    /// set, every priority let through, the interface on.
    fn init_cpu(&self) {
        let cpu = smp_processor_id();
        self.cpu_map[cpu].store(self.get_cpumask(), Ordering::Relaxed);
        let dist = self.dist();
        dist.ICACTIVER[0].set(!0);
        dist.ICENABLER[0].set(0xffff_0000);
        dist.ISENABLER[0].set(0x0000_ffff);
        for priority in &dist.IPRIORITYR[..32] {
            priority.set(GIC_DEFAULT_PRIORITY);
        }
        self.cpu().PMR.set(GIC_DEFAULT_PMR.into());
        self.cpu().BPR.set(0);
        self.cpu().CTLR.write(GICC_CTLR::EnableGrp0::SET);
    }

    fn enable(&self, hwirq: u32) {
        if hwirq < self.nr_irqs {
            self.dist().ISENABLER[hwirq as usize / 32].set(1 << (hwirq % 32));
        }
    }

    fn disable(&self, hwirq: u32) {
        if hwirq < self.nr_irqs {
            self.dist().ICENABLER[hwirq as usize / 32].set(1 << (hwirq % 32));
        }
    }

    fn ack(&self) -> Option<u32> {
        let iar = self.cpu().IAR.extract();
        let hwirq = iar.read(GICC_IAR::InterruptID);
        if hwirq >= GIC_SPURIOUS_FIRST {
            return None;
        }
        if hwirq < 16 {
            self.sgi_source[smp_processor_id()].store(iar.read(GICC_IAR::CPUID), Ordering::Relaxed);
            // What the sender wrote before the SGI must be seen after it (Linux: smp_rmb).
            barrier::dmb(barrier::ISHLD);
        }
        Some(hwirq)
    }

    fn eoi(&self, hwirq: u32) {
        let source = if hwirq < 16 {
            self.sgi_source[smp_processor_id()].load(Ordering::Relaxed)
        } else {
            0
        };
        self.cpu()
            .EOIR
            .write(GICC_IAR::InterruptID.val(hwirq) + GICC_IAR::CPUID.val(source));
    }

    fn send_ipi(&self, cpu_mask: u64, sgi: u32) {
        // The SGI must not overtake what this CPU wrote for the target (Linux: dmb ishst).
        barrier::dsb(barrier::ISHST);
        let sgi = GICD_SGIR::SGIINTID.val(sgi & 0xf);
        if cpu_mask == 1 << smp_processor_id() {
            // Works on a uniprocessor GIC too, where no CPU interface has a mask.
            self.dist()
                .SGIR
                .write(GICD_SGIR::TargetListFilter::ToSelf + sgi);
            return;
        }
        let targets = (0..NR_CPUS)
            .filter(|cpu| cpu_mask & (1 << cpu) != 0)
            .fold(0, |mask, cpu| {
                mask | self.cpu_map[cpu].load(Ordering::Relaxed)
            });
        if targets != 0 {
            self.dist().SGIR.write(
                GICD_SGIR::TargetListFilter::TargetList
                    + GICD_SGIR::CPUTargetList.val(targets.into())
                    + sgi,
            );
        }
    }

    fn translate(&self, cells: &[u32]) -> Option<u32> {
        super::gic_translate(cells, self.nr_irqs)
    }
}

// SAFETY: the registers are MMIO that each CPU may use: enable and disable are single
// write-1 stores, the distributor is only reconfigured by init; the rest is atomics.
unsafe impl Sync for Gic {}
// SAFETY: the struct holds only addresses and atomics.
unsafe impl Send for Gic {}

/// Map and set up the GICv2 at `node` and this CPU's interface (Linux's `gic_of_init`).
pub fn gic_of_init(fdt: &Fdt<'_>, node: FdtNode<'_, '_>) -> Result<&'static dyn IrqChip, Errno> {
    let mut reg = match crate::of::address::node_reg(fdt, node) {
        Ok(reg) => reg,
        Err(err) => {
            log::error!("GICv2: {}: {err}", node.name);
            return Err(Errno::EINVAL);
        }
    };
    let (Some(Ok((dist_pa, dist_size))), Some(Ok((cpu_pa, cpu_size)))) = (reg.next(), reg.next())
    else {
        log::error!(
            "GICv2: {}: need distributor and CPU interface in reg",
            node.name
        );
        return Err(Errno::EINVAL);
    };
    let dist_size = dist_size.min(core::mem::size_of::<GicdRegisters>() as u64);
    let cpu_size = cpu_size.min(core::mem::size_of::<GiccRegisters>() as u64);
    let (Some(dist), Some(cpu)) = (
        crate::mm::vmalloc::ioremap(dist_pa, dist_size),
        crate::mm::vmalloc::ioremap(cpu_pa, cpu_size),
    ) else {
        log::error!("GICv2: unable to map the registers");
        return Err(Errno::ENOMEM);
    };
    // SAFETY: the DT says a GICv2 distributor lives at dist_pa; ioremap mapped it as device
    // memory, for good.
    let typer = unsafe { &*(dist as *const GicdRegisters) }.TYPER.extract();
    let nr_irqs = (32 * (typer.read(GICD_TYPER::ITLinesNumber) + 1)).min(GIC_MAX_IRQS);
    let gic = Gic {
        dist: dist as usize,
        cpu: cpu as usize,
        nr_irqs,
        cpu_map: [const { AtomicU8::new(0) }; NR_CPUS],
        sgi_source: [const { AtomicU32::new(0) }; NR_CPUS],
    };
    if GIC.set(gic).is_err() {
        log::error!("GICv2: already initialised");
        return Err(Errno::EBUSY);
    }
    let gic = GIC.get().ok_or(Errno::EBUSY)?;
    gic.dist_init();
    gic.init_cpu();
    crate::of::irq::irq_domain_add(node, gic);
    log::info!(
        "GICv2: {}: distributor at {dist_pa:#010x}, CPU interface at {cpu_pa:#010x}, \
         {nr_irqs} IRQs, {} CPU interface(s){}",
        node.name,
        typer.read(GICD_TYPER::CPUNumber) + 1,
        if typer.is_set(GICD_TYPER::SecurityExtn) {
            ", Security Extensions"
        } else {
            ""
        }
    );
    Ok(gic)
}

crate::IRQCHIP_DECLARE!(gic_400, "arm,gic-400", gic_of_init);
crate::IRQCHIP_DECLARE!(cortex_a15_gic, "arm,cortex-a15-gic", gic_of_init);
crate::IRQCHIP_DECLARE!(cortex_a9_gic, "arm,cortex-a9-gic", gic_of_init);
