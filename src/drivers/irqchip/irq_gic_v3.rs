//! The GICv3 interrupt controller (Linux: `drivers/irqchip/irq-gic-v3.c`).
//!
//! A GICv3 splits a GICv2's work three ways. The distributor (GICD, `reg[0]`) keeps the
//! state of the shared peripheral interrupts (SPIs) and routes each to a CPU by affinity
//! (GICD_IROUTER). Each CPU has a redistributor (GICR) holding its SGIs and PPIs; they sit
//! side by side in one or more redistributor regions (`reg[1..]`, `#redistributor-regions`
//! of them), two 64 KiB frames each (RD_base, SGI_base; four with GICv4 virtual LPIs), and a
//! CPU finds its own by comparing each frame's GICR_TYPER affinity with its MPIDR. The CPU
//! interface is no longer memory-mapped: it is the ICC_* system registers, which EL1 may
//! use once ICC_SRE_EL1.SRE is set (when Cradle entered at EL2, `asm/head.S` set
//! ICC_SRE_EL2.Enable|SRE to allow that).
//!
//! Registers are from the GIC Architecture Specification for GICv3 and GICv4 (ARM IHI 0069H,
//! chapter 12). Every interrupt is put in group 1 and signalled as IRQ through
//! ICC_IAR1_EL1/ICC_EOIR1_EL1; affinity routing (ARE) is on; LPIs and the ITS are not used.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::MPIDR_EL1;
use fdt::node::FdtNode;
use fdt::Fdt;
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite};
use tock_registers::{register_bitfields, register_structs};

use super::{GIC_DEFAULT_PMR, GIC_DEFAULT_PRIORITY, GIC_MAX_IRQS, GIC_SPURIOUS_FIRST};
use crate::arch::percpu::{smp_processor_id, NR_CPUS};
use crate::arch::setup::MPIDR_HWID_BITMASK;
use crate::kernel::errno::Errno;
use crate::kernel::irq::IrqChip;
use crate::kernel::locking::InitOnce;

register_bitfields! {
    u32,
    /// Distributor Control Register (IHI 0069H 12.9), as the non-secure side or a GIC
    /// with one security state (DS = 1) sees it.
    GICD_CTLR [
        /// Register Write Pending: a write to CTLR or ICENABLER is still taking effect.
        RWP OFFSET(31) NUMBITS(1) [],
        /// Affinity routing enable (ARE_NS from the non-secure side).
        ARE OFFSET(4) NUMBITS(1) [],
        /// Enable group 1 (DS = 1) / non-secure group 1 ("EnableGrp1A").
        EnableGrp1A OFFSET(1) NUMBITS(1) [],
        /// Enable group 0 (DS = 1) / non-secure group 1 (non-secure view).
        EnableGrp0 OFFSET(0) NUMBITS(1) []
    ],
    /// Interrupt Controller Type Register (IHI 0069H 12.9).
    GICD_TYPER [
        /// Range Selector support (ICC_SGI1R_EL1.RS may be non-zero).
        RSS OFFSET(26) NUMBITS(1) [],
        /// INTID bits implemented, minus one.
        IDbits OFFSET(19) NUMBITS(5) [],
        /// LPIs are supported.
        LPIS OFFSET(17) NUMBITS(1) [],
        /// The Extended SPI range is implemented.
        ESPI OFFSET(8) NUMBITS(1) [],
        /// SPIs and PPIs and SGIs: 32 × (ITLinesNumber + 1) INTIDs.
        ITLinesNumber OFFSET(0) NUMBITS(5) []
    ],
    /// Peripheral ID2 Register, of the distributor and of each redistributor frame
    /// (IHI 0069H 12.9).
    GIC_PIDR2 [
        /// Architecture revision: 0x3 GICv3, 0x4 GICv4.
        ArchRev OFFSET(4) NUMBITS(4) []
    ],
    /// Redistributor Control Register (IHI 0069H 12.11).
    GICR_CTLR [
        /// Register Write Pending for this redistributor's SGI/PPI enables.
        RWP OFFSET(3) NUMBITS(1) []
    ],
    /// Redistributor Wake Register (IHI 0069H 12.11).
    GICR_WAKER [
        /// The interface to the CPU is quiescent; reads 0 once the redistributor woke.
        ChildrenAsleep OFFSET(2) NUMBITS(1) [],
        /// The CPU is asleep: clear it before the redistributor will signal the CPU.
        ProcessorSleep OFFSET(1) NUMBITS(1) []
    ]
}

register_bitfields! {
    u64,
    /// Interrupt Routing Registers, one per SPI (IHI 0069H 12.9).
    GICD_IROUTER [
        Aff3 OFFSET(32) NUMBITS(8) [],
        /// 1: any participating CPU; 0: the CPU named by the affinity fields.
        InterruptRoutingMode OFFSET(31) NUMBITS(1) [],
        Aff2 OFFSET(16) NUMBITS(8) [],
        Aff1 OFFSET(8) NUMBITS(8) [],
        Aff0 OFFSET(0) NUMBITS(8) []
    ],
    /// Redistributor Type Register (IHI 0069H 12.11).
    GICR_TYPER [
        /// Aff3.Aff2.Aff1.Aff0 of the CPU this redistributor serves.
        AffinityValue OFFSET(32) NUMBITS(32) [],
        /// A unique number for the CPU among the redistributors.
        ProcessorNumber OFFSET(8) NUMBITS(16) [],
        /// This is the last redistributor of its region.
        Last OFFSET(4) NUMBITS(1) [],
        /// Virtual LPIs are supported: the redistributor has four frames, not two.
        VLPIS OFFSET(1) NUMBITS(1) []
    ],
    /// ICC_SRE_EL1, System Register Enable (IHI 0069H 12.2).
    ICC_SRE_EL1 [
        /// Disable IRQ bypass.
        DIB OFFSET(2) NUMBITS(1) [],
        /// Disable FIQ bypass.
        DFB OFFSET(1) NUMBITS(1) [],
        /// Use the system register interface (else the memory-mapped one).
        SRE OFFSET(0) NUMBITS(1) []
    ],
    /// ICC_CTLR_EL1, Interrupt Controller Control Register (IHI 0069H 12.2).
    ICC_CTLR_EL1 [
        /// 1: EOIR only drops priority and ICC_DIR_EL1 deactivates; 0: EOIR does both.
        EOImode OFFSET(1) NUMBITS(1) [],
        /// ICC_BPR0_EL1 also serves group 1.
        CBPR OFFSET(0) NUMBITS(1) []
    ],
    /// ICC_IGRPEN1_EL1, Interrupt Group 1 Enable (IHI 0069H 12.2).
    ICC_IGRPEN1_EL1 [
        Enable OFFSET(0) NUMBITS(1) []
    ],
    /// ICC_IAR1_EL1 and ICC_EOIR1_EL1 (IHI 0069H 12.2).
    ICC_IAR1_EL1 [
        /// The INTID; 1020-1023 are special (1023: nothing pending).
        INTID OFFSET(0) NUMBITS(24) []
    ],
    /// ICC_PMR_EL1, Priority Mask Register (IHI 0069H 12.2).
    ICC_PMR_EL1 [
        Priority OFFSET(0) NUMBITS(8) []
    ],
    /// ICC_SGI1R_EL1, generate a group 1 SGI (IHI 0069H 12.2).
    ICC_SGI1R_EL1 [
        Aff3 OFFSET(48) NUMBITS(8) [],
        /// Range Selector: TargetList names the CPUs with Aff0 = 16 × RS + bit.
        RS OFFSET(44) NUMBITS(4) [],
        /// 1: to every CPU but this one; 0: to TargetList.
        IRM OFFSET(40) NUMBITS(1) [],
        Aff2 OFFSET(32) NUMBITS(8) [],
        INTID OFFSET(24) NUMBITS(4) [],
        Aff1 OFFSET(16) NUMBITS(8) [],
        TargetList OFFSET(0) NUMBITS(16) []
    ]
}

register_structs! {
    /// The distributor (IHI 0069H 12.8, the Distributor register map).
    #[allow(non_snake_case)]
    pub GicdRegisters {
        (0x0000 => CTLR: ReadWrite<u32, GICD_CTLR::Register>),
        (0x0004 => TYPER: ReadOnly<u32, GICD_TYPER::Register>),
        (0x0008 => IIDR: ReadOnly<u32>),
        (0x000c => _reserved0),
        /// Group of each SPI (1: group 1).
        (0x0080 => IGROUPR: [ReadWrite<u32>; 32]),
        (0x0100 => ISENABLER: [ReadWrite<u32>; 32]),
        (0x0180 => ICENABLER: [ReadWrite<u32>; 32]),
        (0x0200 => ISPENDR: [ReadWrite<u32>; 32]),
        (0x0280 => ICPENDR: [ReadWrite<u32>; 32]),
        (0x0300 => ISACTIVER: [ReadWrite<u32>; 32]),
        (0x0380 => ICACTIVER: [ReadWrite<u32>; 32]),
        (0x0400 => IPRIORITYR: [ReadWrite<u8>; 1020]),
        (0x07fc => _reserved1),
        (0x0c00 => ICFGR: [ReadWrite<u32>; 64]),
        /// Group modifier; with IGROUPR, 0 + 1 is non-secure group 1.
        (0x0d00 => IGRPMODR: [ReadWrite<u32>; 32]),
        (0x0d80 => _reserved2),
        /// GICD_IROUTER<n> for n = 32..1019 (the SPIs) at 0x6000 + 8n.
        (0x6100 => IROUTER: [ReadWrite<u64, GICD_IROUTER::Register>; 988]),
        (0x7fe0 => _reserved3),
        (0xffe8 => PIDR2: ReadOnly<u32, GIC_PIDR2::Register>),
        (0xffec => _reserved4),
        (0x10000 => @END),
    }
}

register_structs! {
    /// One redistributor: its RD_base frame, then its SGI_base frame (IHI 0069H 12.10,
    /// the Redistributor register map).
    #[allow(non_snake_case)]
    pub GicrRegisters {
        (0x00000 => CTLR: ReadWrite<u32, GICR_CTLR::Register>),
        (0x00004 => IIDR: ReadOnly<u32>),
        (0x00008 => TYPER: ReadOnly<u64, GICR_TYPER::Register>),
        (0x00010 => STATUSR: ReadWrite<u32>),
        (0x00014 => WAKER: ReadWrite<u32, GICR_WAKER::Register>),
        (0x00018 => _reserved0),
        (0x0ffe8 => PIDR2: ReadOnly<u32, GIC_PIDR2::Register>),
        (0x0ffec => _reserved1),
        // SGI_base: this CPU's SGIs and PPIs, laid out as the distributor's first words.
        (0x10000 => _reserved2),
        (0x10080 => IGROUPR0: ReadWrite<u32>),
        (0x10084 => _reserved3),
        (0x10100 => ISENABLER0: ReadWrite<u32>),
        (0x10104 => _reserved4),
        (0x10180 => ICENABLER0: ReadWrite<u32>),
        (0x10184 => _reserved5),
        (0x10380 => ICACTIVER0: ReadWrite<u32>),
        (0x10384 => _reserved6),
        (0x10400 => IPRIORITYR: [ReadWrite<u8>; 32]),
        (0x10420 => _reserved7),
        (0x10c00 => ICFGR0: ReadWrite<u32>),
        (0x10c04 => ICFGR1: ReadWrite<u32>),
        (0x10c08 => _reserved8),
        (0x10d00 => IGRPMODR0: ReadWrite<u32>),
        (0x10d04 => _reserved9),
        (0x20000 => @END),
    }
}

/// The ICC_* system registers Cradle uses, as tock-registers (aarch64-cpu lacks most).
/// Accessing one before ICC_SRE_EL1.SRE is set traps as undefined: an oops, not UB.
mod icc {
    use tock_registers::interfaces::{Readable, Writeable};

    macro_rules! icc_register {
        ($(#[$doc:meta])* $name:ident, $encoding:literal, $fields:ty, [$($access:ident),+]) => {
            $(#[$doc])*
            pub struct $name;
            $(icc_register!(@$access $name, $encoding, $fields);)+
        };
        (@read $name:ident, $encoding:literal, $fields:ty) => {
            impl Readable for $name {
                type T = u64;
                type R = $fields;

                #[inline]
                fn get(&self) -> u64 {
                    let value;
                    // SAFETY: reading a GIC CPU interface register cannot break memory
                    // safety; an ICC_IAR1_EL1 read acknowledges an interrupt, which is why
                    // there is no `nomem`: it must stay ordered with memory accesses.
                    unsafe {
                        core::arch::asm!(concat!("mrs {}, ", $encoding), out(reg) value,
                            options(nostack))
                    };
                    value
                }
            }
        };
        (@write $name:ident, $encoding:literal, $fields:ty) => {
            impl Writeable for $name {
                type T = u64;
                type R = $fields;

                #[inline]
                fn set(&self, value: u64) {
                    // SAFETY: writing a GIC CPU interface register changes which interrupts
                    // are signalled or ends one; it cannot break memory safety. Memory
                    // accesses stay ordered around it (no `nomem`).
                    unsafe {
                        core::arch::asm!(concat!("msr ", $encoding, ", {}"), in(reg) value,
                            options(nostack))
                    };
                }
            }
        };
    }

    icc_register!(
        /// System Register Enable.
        SreEl1, "S3_0_C12_C12_5", super::ICC_SRE_EL1::Register, [read, write]
    );
    icc_register!(
        /// Priority Mask.
        PmrEl1, "S3_0_C4_C6_0", super::ICC_PMR_EL1::Register, [read, write]
    );
    icc_register!(
        /// Binary Point, group 1.
        Bpr1El1, "S3_0_C12_C12_3", (), [read, write]
    );
    icc_register!(
        /// Control.
        CtlrEl1, "S3_0_C12_C12_4", super::ICC_CTLR_EL1::Register, [read, write]
    );
    icc_register!(
        /// Group 1 enable.
        Igrpen1El1, "S3_0_C12_C12_7", super::ICC_IGRPEN1_EL1::Register, [read, write]
    );
    icc_register!(
        /// Acknowledge, group 1 (read only).
        Iar1El1, "S3_0_C12_C12_0", super::ICC_IAR1_EL1::Register, [read]
    );
    icc_register!(
        /// End of interrupt, group 1 (write only).
        Eoir1El1, "S3_0_C12_C12_1", super::ICC_IAR1_EL1::Register, [write]
    );
    icc_register!(
        /// Generate a group 1 SGI (write only).
        Sgi1rEl1, "S3_0_C12_C11_5", super::ICC_SGI1R_EL1::Register, [write]
    );

    pub const ICC_SRE_EL1: SreEl1 = SreEl1;
    pub const ICC_PMR_EL1: PmrEl1 = PmrEl1;
    pub const ICC_BPR1_EL1: Bpr1El1 = Bpr1El1;
    pub const ICC_CTLR_EL1: CtlrEl1 = CtlrEl1;
    pub const ICC_IGRPEN1_EL1: Igrpen1El1 = Igrpen1El1;
    pub const ICC_IAR1_EL1: Iar1El1 = Iar1El1;
    pub const ICC_EOIR1_EL1: Eoir1El1 = Eoir1El1;
    pub const ICC_SGI1R_EL1: Sgi1rEl1 = Sgi1rEl1;
}

use icc::{
    ICC_BPR1_EL1, ICC_CTLR_EL1 as ICC_CTLR, ICC_EOIR1_EL1, ICC_IAR1_EL1 as ICC_IAR1,
    ICC_IGRPEN1_EL1 as ICC_IGRPEN1, ICC_PMR_EL1 as ICC_PMR, ICC_SGI1R_EL1 as ICC_SGI1R,
    ICC_SRE_EL1 as ICC_SRE,
};

/// The most redistributor regions Cradle takes from the DT.
const MAX_RDIST_REGIONS: usize = 8;
/// Size of a redistributor's two frames, and of its four with virtual LPIs.
const GICR_FRAMES_SIZE: usize = 0x20000;
const GICR_FRAMES_SIZE_VLPI: usize = 0x40000;
/// How long to poll RWP or ChildrenAsleep before giving up (Linux waits about 1 s).
const POLL_LOOPS: u32 = 1_000_000;

/// One redistributor region: physical address, mapping, size.
#[derive(Clone, Copy, Default)]
struct RdistRegion {
    pa: u64,
    va: usize,
    size: usize,
}

/// A GICv3 whose registers are mapped.
///
/// # Invariants
///
/// `dist` maps the distributor and each region of `regions[..nr_regions]` its
/// redistributors, as device memory for the rest of the kernel's life; `rdist[cpu]` is 0
/// or the address of a redistributor within them.
pub struct GicV3 {
    dist: usize,
    regions: [RdistRegion; MAX_RDIST_REGIONS],
    nr_regions: usize,
    /// The DT's `redistributor-stride`, if it overrides the frames' own size.
    stride: Option<usize>,
    nr_irqs: u32,
    /// Each logical CPU's redistributor, found by `init_cpu` (0: not yet).
    rdist: [AtomicUsize; NR_CPUS],
    /// Each logical CPU's MPIDR affinity, for SGIs (Linux's `cpu_logical_map`).
    mpidr: [AtomicU64; NR_CPUS],
}

static GIC: InitOnce<GicV3> = InitOnce::new();

/// Aff3.Aff2.Aff1.Aff0 of an MPIDR, packed as GICR_TYPER.Affinity_Value has them.
fn mpidr_to_affinity(mpidr: u64) -> u32 {
    (((mpidr >> 8) & 0xff00_0000) | (mpidr & 0x00ff_ffff)) as u32
}

impl GicV3 {
    fn dist(&self) -> &GicdRegisters {
        // SAFETY: `dist` maps the distributor for good (type invariant).
        unsafe { &*(self.dist as *const GicdRegisters) }
    }

    /// The calling CPU's redistributor, once `init_cpu` found it.
    fn rdist(&self) -> Option<&GicrRegisters> {
        let base = self.rdist[smp_processor_id()].load(Ordering::Relaxed);
        // SAFETY: a nonzero `rdist` entry maps a redistributor for good (type invariant).
        (base != 0).then(|| unsafe { &*(base as *const GicrRegisters) })
    }

    /// Wait for the distributor to finish a CTLR or ICENABLER write (Linux's
    /// `gic_dist_wait_for_rwp`).
    fn dist_wait_for_rwp(&self) {
        if !poll(|| !self.dist().CTLR.is_set(GICD_CTLR::RWP)) {
            log::error!("GICv3: RWP timeout, gone fishing");
        }
    }

    /// Linux's `gic_dist_init`: SPIs to group 1, disabled, inactive, level-triggered, at
    /// the default priority; affinity routing on; every SPI routed to the boot CPU.
    fn dist_init(&self) {
        let dist = self.dist();
        dist.CTLR.set(0);
        self.dist_wait_for_rwp();
        let nr = self.nr_irqs as usize;
        for i in 1..nr / 32 {
            dist.IGROUPR[i].set(!0);
            dist.IGRPMODR[i].set(0);
            dist.ICACTIVER[i].set(!0);
            dist.ICENABLER[i].set(!0);
        }
        for config in &dist.ICFGR[2..nr / 16] {
            config.set(0);
        }
        for priority in &dist.IPRIORITYR[32..nr] {
            priority.set(GIC_DEFAULT_PRIORITY);
        }
        self.dist_wait_for_rwp();
        // ARE first: changing it with a group enabled is UNPREDICTABLE.
        dist.CTLR.write(GICD_CTLR::ARE::SET);
        self.dist_wait_for_rwp();
        dist.CTLR
            .write(GICD_CTLR::ARE::SET + GICD_CTLR::EnableGrp1A::SET + GICD_CTLR::EnableGrp0::SET);
        self.dist_wait_for_rwp();
        let affinity = MPIDR_EL1.get() & MPIDR_HWID_BITMASK;
        for route in &dist.IROUTER[..nr - 32] {
            route.set(affinity);
        }
    }

    /// Find the calling CPU's redistributor (Linux's `gic_populate_rdist`): walk each region
    /// frame by frame until GICR_TYPER's affinity is ours.
    fn populate_rdist(&self, affinity: u32) -> Option<(usize, usize)> {
        for (index, region) in self.regions[..self.nr_regions].iter().enumerate() {
            let mut offset = 0;
            while offset + GICR_FRAMES_SIZE <= region.size {
                // SAFETY: the region maps `size` bytes of redistributor frames for good and
                // the two frames at `offset` lie within it.
                let gicr = unsafe { &*((region.va + offset) as *const GicrRegisters) };
                let rev = gicr.PIDR2.read(GIC_PIDR2::ArchRev);
                if rev != 3 && rev != 4 {
                    log::warn!(
                        "GICv3: no redistributor at {:#x} (ArchRev {rev})",
                        region.pa + offset as u64
                    );
                    break;
                }
                let typer = gicr.TYPER.extract();
                if typer.read(GICR_TYPER::AffinityValue) as u32 == affinity {
                    return Some((index, offset));
                }
                if typer.is_set(GICR_TYPER::Last) {
                    break;
                }
                offset += self.stride.unwrap_or(if typer.is_set(GICR_TYPER::VLPIS) {
                    GICR_FRAMES_SIZE_VLPI
                } else {
                    GICR_FRAMES_SIZE
                });
            }
        }
        None
    }
}

/// Poll `done` up to [`POLL_LOOPS`] times; false on timeout.
fn poll(mut done: impl FnMut() -> bool) -> bool {
    (0..POLL_LOOPS).any(|_| {
        let finished = done();
        if !finished {
            core::hint::spin_loop();
        }
        finished
    })
}

/// Set ICC_SRE_EL1.SRE and check it stuck: false if the system register interface is not
/// available at EL1 (a firmware or EL2 that did not allow it).
fn enable_sre() -> bool {
    ICC_SRE.modify(ICC_SRE_EL1::SRE::SET);
    barrier::isb(barrier::SY);
    ICC_SRE.is_set(ICC_SRE_EL1::SRE)
}

impl IrqChip for GicV3 {
    fn name(&self) -> &'static str {
        "GICv3"
    }

    fn nr_irqs(&self) -> u32 {
        self.nr_irqs
    }

    /// Linux's `gic_cpu_init` + `gic_cpu_sys_reg_init`: find and wake this CPU's
    /// redistributor, put its SGIs and PPIs in group 1 with PPIs off and SGIs on, then turn
    /// on the system register CPU interface.
    fn init_cpu(&self) {
        let cpu = smp_processor_id();
        let mpidr = MPIDR_EL1.get() & MPIDR_HWID_BITMASK;
        let Some((region, offset)) = self.populate_rdist(mpidr_to_affinity(mpidr)) else {
            log::error!("GICv3: CPU{cpu}: mpidr {mpidr:#x} has no redistributor!");
            return;
        };
        let base = self.regions[region].va + offset;
        log::info!(
            "GICv3: CPU{cpu}: found redistributor {mpidr:x} region {region}:{:#018x}",
            self.regions[region].pa + offset as u64
        );
        // SAFETY: `populate_rdist` returned a redistributor within the mapped region.
        let gicr = unsafe { &*(base as *const GicrRegisters) };

        // Wake it (Linux's `gic_enable_redist`).
        gicr.WAKER.modify(GICR_WAKER::ProcessorSleep::CLEAR);
        if !poll(|| !gicr.WAKER.is_set(GICR_WAKER::ChildrenAsleep)) {
            log::error!("GICv3: CPU{cpu}: redistributor failed to wake up");
        }

        gicr.IGROUPR0.set(!0);
        gicr.IGRPMODR0.set(0);
        gicr.ICACTIVER0.set(!0);
        gicr.ICENABLER0.set(0xffff_0000);
        gicr.ISENABLER0.set(0x0000_ffff);
        for priority in &gicr.IPRIORITYR {
            priority.set(GIC_DEFAULT_PRIORITY);
        }
        if !poll(|| !gicr.CTLR.is_set(GICR_CTLR::RWP)) {
            log::error!("GICv3: CPU{cpu}: redistributor RWP timeout");
        }
        self.mpidr[cpu].store(mpidr, Ordering::Relaxed);
        self.rdist[cpu].store(base, Ordering::Relaxed);

        if !enable_sre() {
            log::error!("GICv3: CPU{cpu}: unable to set SRE (disabled at EL2), panic ahead");
            return;
        }
        ICC_PMR.write(ICC_PMR_EL1::Priority.val(GIC_DEFAULT_PMR.into()));
        ICC_BPR1_EL1.set(0);
        ICC_CTLR.write(ICC_CTLR_EL1::EOImode::CLEAR);
        ICC_IGRPEN1.write(ICC_IGRPEN1_EL1::Enable::SET);
        barrier::isb(barrier::SY);
    }

    fn enable(&self, hwirq: u32) {
        let bit = 1 << (hwirq % 32);
        if hwirq < 32 {
            if let Some(gicr) = self.rdist() {
                gicr.ISENABLER0.set(bit);
            }
        } else if hwirq < self.nr_irqs {
            self.dist().ISENABLER[hwirq as usize / 32].set(bit);
        }
    }

    fn disable(&self, hwirq: u32) {
        let bit = 1 << (hwirq % 32);
        if hwirq < 32 {
            if let Some(gicr) = self.rdist() {
                gicr.ICENABLER0.set(bit);
                poll(|| !gicr.CTLR.is_set(GICR_CTLR::RWP));
            }
        } else if hwirq < self.nr_irqs {
            self.dist().ICENABLER[hwirq as usize / 32].set(bit);
            self.dist_wait_for_rwp();
        }
    }

    fn ack(&self) -> Option<u32> {
        let hwirq = ICC_IAR1.read(ICC_IAR1_EL1::INTID) as u32;
        if hwirq >= GIC_SPURIOUS_FIRST {
            return None;
        }
        // What an SGI's sender wrote before it must be seen after it (Linux: dsb after IAR).
        barrier::dsb(barrier::SY);
        Some(hwirq)
    }

    fn eoi(&self, hwirq: u32) {
        ICC_EOIR1_EL1.write(ICC_IAR1_EL1::INTID.val(hwirq.into()));
        barrier::isb(barrier::SY);
    }

    /// One ICC_SGI1R_EL1 write per target CPU (Linux batches a cluster at a time).
    fn send_ipi(&self, cpu_mask: u64, sgi: u32) {
        // The SGI must not overtake what this CPU wrote for the target (Linux: dsb ishst).
        barrier::dsb(barrier::ISHST);
        for cpu in (0..NR_CPUS).filter(|cpu| cpu_mask & (1 << cpu) != 0) {
            if self.rdist[cpu].load(Ordering::Relaxed) == 0 {
                continue;
            }
            let mpidr = self.mpidr[cpu].load(Ordering::Relaxed);
            let aff0 = mpidr & 0xff;
            ICC_SGI1R.write(
                ICC_SGI1R_EL1::Aff3.val((mpidr >> 32) & 0xff)
                    + ICC_SGI1R_EL1::Aff2.val((mpidr >> 16) & 0xff)
                    + ICC_SGI1R_EL1::Aff1.val((mpidr >> 8) & 0xff)
                    + ICC_SGI1R_EL1::RS.val(aff0 / 16)
                    + ICC_SGI1R_EL1::INTID.val((sgi & 0xf).into())
                    + ICC_SGI1R_EL1::TargetList.val(1 << (aff0 % 16)),
            );
        }
        barrier::isb(barrier::SY);
    }

    fn translate(&self, cells: &[u32]) -> Option<u32> {
        super::gic_translate(cells, self.nr_irqs)
    }
}

// SAFETY: the registers are MMIO and per-CPU system registers each CPU may use: enables are
// single write-1 stores, the distributor is only reconfigured by init; the rest is atomics
// or immutable after init.
unsafe impl Sync for GicV3 {}
// SAFETY: the struct holds only addresses, sizes and atomics.
unsafe impl Send for GicV3 {}

/// Map and set up the GICv3 at `node`, and this CPU's redistributor and interface (Linux's
/// `gic_of_init` → `gic_init_bases`).
pub fn gic_of_init(fdt: &Fdt<'_>, node: FdtNode<'_, '_>) -> Result<&'static dyn IrqChip, Errno> {
    if !enable_sre() {
        log::error!(
            "GICv3: {}: system register interface unavailable at EL1",
            node.name
        );
        return Err(Errno::ENODEV);
    }
    let mut reg = match crate::of::address::node_reg(fdt, node) {
        Ok(reg) => reg,
        Err(err) => {
            log::error!("GICv3: {}: {err}", node.name);
            return Err(Errno::EINVAL);
        }
    };
    let Some(Ok((dist_pa, _))) = reg.next() else {
        log::error!("GICv3: {}: no distributor in reg", node.name);
        return Err(Errno::EINVAL);
    };
    let Some(dist) = crate::mm::vmalloc::ioremap(dist_pa, 0x10000) else {
        log::error!("GICv3: unable to map the distributor");
        return Err(Errno::ENOMEM);
    };
    // SAFETY: the DT says a GICv3 distributor lives at dist_pa; ioremap mapped its 64 KiB
    // frame as device memory, for good.
    let gicd = unsafe { &*(dist as *const GicdRegisters) };
    let rev = gicd.PIDR2.read(GIC_PIDR2::ArchRev);
    if rev != 3 && rev != 4 {
        log::error!(
            "GICv3: {}: no distributor detected (ArchRev {rev}), giving up",
            node.name
        );
        return Err(Errno::ENODEV);
    }
    let wanted = node
        .property("#redistributor-regions")
        .and_then(|p| p.as_usize())
        .unwrap_or(1);
    let mut regions = [RdistRegion::default(); MAX_RDIST_REGIONS];
    let mut nr_regions = 0;
    for (index, entry) in reg.take(wanted.min(MAX_RDIST_REGIONS)).enumerate() {
        let Ok((pa, size)) = entry else {
            log::error!("GICv3: redistributor region {index}: bad reg");
            return Err(Errno::EINVAL);
        };
        let Some(va) = crate::mm::vmalloc::ioremap(pa, size) else {
            log::error!("GICv3: unable to map redistributor region {index}");
            return Err(Errno::ENOMEM);
        };
        log::info!(
            "GICv3: redistributor region {index}: {pa:#018x}-{:#018x}",
            pa + size - 1
        );
        regions[index] = RdistRegion {
            pa,
            va: va as usize,
            size: size as usize,
        };
        nr_regions += 1;
    }
    if nr_regions == 0 {
        log::error!("GICv3: {}: no redistributor region in reg", node.name);
        return Err(Errno::EINVAL);
    }
    let typer = gicd.TYPER.extract();
    let nr_irqs = (32 * (typer.read(GICD_TYPER::ITLinesNumber) + 1)).min(GIC_MAX_IRQS);
    let gic = GicV3 {
        dist: dist as usize,
        regions,
        nr_regions,
        stride: node
            .property("redistributor-stride")
            .and_then(|p| p.as_usize())
            .filter(|&stride| stride >= GICR_FRAMES_SIZE),
        nr_irqs,
        rdist: [const { AtomicUsize::new(0) }; NR_CPUS],
        mpidr: [const { AtomicU64::new(0) }; NR_CPUS],
    };
    if GIC.set(gic).is_err() {
        log::error!("GICv3: already initialised");
        return Err(Errno::EBUSY);
    }
    let gic = GIC.get().ok_or(Errno::EBUSY)?;
    log::info!("GICv3: {} SPIs implemented", nr_irqs - 32);
    log::info!(
        "GICv3: distributor at {dist_pa:#010x}, {nr_irqs} IRQs, {} redistributor region(s), \
         {}Range Selector support",
        nr_regions,
        if typer.is_set(GICD_TYPER::RSS) {
            ""
        } else {
            "no "
        }
    );
    gic.dist_init();
    gic.init_cpu();
    if gic.rdist().is_none() {
        // Without its redistributor the boot CPU can take no PPI: no tick. Report it, but
        // register the chip anyway so that SPIs still work.
        log::error!("GICv3: the boot CPU has no redistributor: no per-CPU interrupts");
    }
    crate::of::irq::irq_domain_add(node, gic);
    Ok(gic)
}

crate::IRQCHIP_DECLARE!(gic_v3, "arm,gic-v3", gic_of_init);
