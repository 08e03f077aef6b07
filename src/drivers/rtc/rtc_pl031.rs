//! The ARM PrimeCell PL031 real-time clock, as QEMU's `virt` has it (Linux:
//! `drivers/rtc/rtc-pl031.c`, the ARM variant).
//!
//! The PL031 counts seconds in a 32-bit register, RTCDR; QEMU starts it at the host's time
//! (UTC). The driver binds to `arm,pl031` in the device tree, checks the PrimeCell
//! identification as Linux's AMBA bus does, starts the counter if it is stopped, and
//! registers the clock with the RTC class, which sets the wall clock from it. Alarms and
//! interrupts are not used.
//!
//! Registers from the ARM PrimeCell Real Time Clock (PL031) Technical Reference Manual,
//! ARM DDI 0224B, revision r1p3.

use tock_registers::interfaces::{ReadWriteable, Readable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

use super::{rtc_register_device, RtcClassOps, RtcDevice};
use crate::kernel::errno::Errno;
use crate::kernel::locking::InitOnce;

register_bitfields! {u32,
    /// RTCCR, the control register.
    RTCCR [
        /// "RTC start: if set to 1, the RTC is enabled. Once it is enabled, any writes
        /// have no effect on the RTC until a system reset." (3.3.4)
        RTCSTART OFFSET(0) NUMBITS(1) []
    ]
}

register_structs! {
    /// The PL031's registers (TRM 3.2, table 3-1).
    #[allow(non_snake_case)]
    pub Pl031Registers {
        /// Data register: the current count, seconds.
        (0x000 => RTCDR: ReadOnly<u32>),
        /// Match register: the alarm's count.
        (0x004 => RTCMR: ReadWrite<u32>),
        /// Load register: a write sets the count.
        (0x008 => RTCLR: ReadWrite<u32>),
        /// Control register.
        (0x00c => RTCCR: ReadWrite<u32, RTCCR::Register>),
        /// Interrupt mask set and clear.
        (0x010 => RTCIMSC: ReadWrite<u32>),
        /// Raw interrupt status.
        (0x014 => RTCRIS: ReadOnly<u32>),
        /// Masked interrupt status.
        (0x018 => RTCMIS: ReadOnly<u32>),
        /// Interrupt clear.
        (0x01c => RTCICR: WriteOnly<u32>),
        (0x020 => _reserved),
        /// Peripheral identification registers 0-3, 8 bits each.
        (0xfe0 => RTCPeriphID: [ReadOnly<u32>; 4]),
        /// PrimeCell identification registers 0-3: 0x0d, 0xf0, 0x05, 0xb1.
        (0xff0 => RTCPCellID: [ReadOnly<u32>; 4]),
        (0x1000 => @END),
    }
}

/// The size of the register block.
const PL031_REGS_SIZE: u64 = 0x1000;
/// The peripheral ID Linux's `pl031_ids` table matches: part 0x031, designer 0x41 (ARM),
/// any revision (mask 0x000fffff).
const PL031_PERIPHID: u32 = 0x0004_1031;
const PL031_PERIPHID_MASK: u32 = 0x000f_ffff;
/// The PrimeCell ID every AMBA PrimeCell answers (Linux's `AMBA_CID`).
const AMBA_CID: u32 = 0xb105_f00d;

/// The PL031, once found in the DT.
struct Pl031(&'static Pl031Registers);

// SAFETY: MMIO registers; the data register is only read, and the control register is
// written once, by the probe, before the device is shared.
unsafe impl Sync for Pl031 {}
// SAFETY: as above.
unsafe impl Send for Pl031 {}

static PL031: InitOnce<Pl031> = InitOnce::new();

impl RtcClassOps for Pl031 {
    /// Linux's `pl031_read_time`: RTCDR is seconds since the epoch.
    fn read_time(&self) -> Result<i64, Errno> {
        Ok(i64::from(self.0.RTCDR.get()))
    }
}

/// Four 8-bit ID registers as one word, lowest first (Linux's `amba_read_periphid`).
fn id_word(regs: &[ReadOnly<u32>; 4]) -> u32 {
    regs.iter()
        .enumerate()
        .fold(0, |id, (i, r)| id | (r.get() & 0xff) << (8 * i))
}

/// Linux names a DT platform device `<address>.<node name>`: `9010000.pl031`.
fn dev_name(node_name: &str, pa: u64) -> alloc::string::String {
    let name = node_name.split('@').next().unwrap_or(node_name);
    alloc::format!("{pa:x}.{name}")
}

/// Find the PL031 in the DT, map and check it, start it, and register it (Linux's
/// `pl031_probe`). A device initcall.
fn pl031_probe() -> i32 {
    let Some(fdt) = crate::arch::setup::fdt() else {
        return 0;
    };
    let Some(node) = fdt.find_compatible(&["arm,pl031"]) else {
        return 0;
    };
    let Ok((pa, size)) = crate::of::address::node_reg_first(&fdt, node) else {
        log::warn!("rtc-pl031 {}: no usable reg", node.name);
        return -Errno::ENODEV.0;
    };
    let dev = dev_name(node.name, pa);
    if size < PL031_REGS_SIZE {
        log::warn!("rtc-pl031 {dev}: reg is {size:#x} bytes, not {PL031_REGS_SIZE:#x}");
        return -Errno::ENODEV.0;
    }
    let Some(va) = crate::mm::vmalloc::ioremap(pa, PL031_REGS_SIZE) else {
        return -Errno::ENOMEM.0;
    };
    // SAFETY: ioremap mapped the PL031's 4 KiB of registers as device memory, for good.
    let regs: &'static Pl031Registers = unsafe { &*(va as *const Pl031Registers) };
    let (periphid, cellid) = (id_word(&regs.RTCPeriphID), id_word(&regs.RTCPCellID));
    if cellid != AMBA_CID || periphid & PL031_PERIPHID_MASK != PL031_PERIPHID {
        log::warn!(
            "rtc-pl031 {dev}: not a PL031 (periphid {periphid:#010x}, cellid {cellid:#010x})"
        );
        return -Errno::ENODEV.0;
    }
    if !regs.RTCCR.is_set(RTCCR::RTCSTART) {
        regs.RTCCR.modify(RTCCR::RTCSTART::SET);
    }
    if PL031.set(Pl031(regs)).is_err() {
        return -Errno::EBUSY.0;
    }
    let Some(pl031) = PL031.get() else {
        return -Errno::ENODEV.0;
    };
    match rtc_register_device(RtcDevice {
        driver: "rtc-pl031",
        dev_name: dev,
        ops: pl031,
    }) {
        Ok(()) => 0,
        Err(e) => -e.0,
    }
}
crate::device_initcall!(pl031_probe);
