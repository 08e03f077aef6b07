//! The BCM2835 power-management watchdog: how a Raspberry Pi reboots and powers off
//! (Linux: `drivers/watchdog/bcm2835_wdt.c`).
//!
//! The Pi has no PSCI. Restarting arms the watchdog with a short timeout and a full reset;
//! powering off does the same after writing "partition 63" into the reset status register,
//! which the firmware reads at boot as "halt" (Linux's `bcm2835_power_off`). QEMU emulates
//! the reset, so with `-no-reboot` a powered-off Pi in QEMU exits.
//! The probe registers both with `kernel/reboot.rs`.
//! Registers: BCM2835 PM block at the DT node `brcm,bcm2835-pm-wdt` (offsets from Linux).

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

use crate::kernel::locking::InitOnce;
use crate::kernel::reboot::{register_restart_handler, set_pm_power_off};

register_structs! {
    /// The reset and watchdog registers of the PM block.
    #[allow(non_snake_case)]
    pub PmRegisters {
        (0x00 => _reserved),
        (0x1c => RSTC: ReadWrite<u32>),
        (0x20 => RSTS: ReadWrite<u32>),
        (0x24 => WDOG: ReadWrite<u32>),
        (0x28 => @END),
    }
}

/// Every write needs this in the top byte.
const PM_PASSWORD: u32 = 0x5a00_0000;
/// RSTC: the reset-configuration field, and "full reset".
const PM_RSTC_WRCFG_CLR: u32 = 0xffff_ffcf;
const PM_RSTC_WRCFG_FULL_RESET: u32 = 0x0000_0020;
/// RSTS: boot partition 63, spread over the even bits, means "halt" to the firmware.
const PM_RSTS_RASPBERRYPI_HALT: u32 = 0x555;
/// A watchdog timeout of 10 ticks (16 µs each): reset almost at once.
const RESET_TICKS: u32 = 10;

/// The PM block, once found in the DT.
struct Pm(&'static PmRegisters);

// SAFETY: MMIO registers, written only on the way down.
unsafe impl Sync for Pm {}
// SAFETY: as above.
unsafe impl Send for Pm {}

static PM: InitOnce<Pm> = InitOnce::new();

/// Find the watchdog in the DT and map it (a device initcall).
fn bcm2835_wdt_probe() -> i32 {
    let Some(fdt) = crate::arch::setup::fdt() else {
        return 0;
    };
    let Some(node) = fdt.find_compatible(&["brcm,bcm2835-pm-wdt"]) else {
        return 0;
    };
    let reg = crate::of::address::node_reg(&fdt, node)
        .ok()
        .and_then(|mut r| r.next());
    let Some(Ok((pa, _))) = reg else { return 0 };
    let Some(va) = crate::mm::vmalloc::ioremap(pa, 0x100) else {
        return 0;
    };
    // SAFETY: ioremap mapped the PM block's registers as device memory, for good.
    let _ = PM.set(Pm(unsafe { &*(va as *const PmRegisters) }));
    // Linux's priority for this reset: 128, "use if nothing better".
    if let Err(err) = register_restart_handler(128, bcm2835_restart) {
        log::warn!("bcm2835-wdt: cannot register the restart handler ({err:?})");
    }
    set_pm_power_off(bcm2835_power_off);
    log::info!("bcm2835-wdt: Broadcom BCM2835 watchdog timer (reboot and power off)");
    0
}
crate::device_initcall!(bcm2835_wdt_probe);

fn restart(regs: &PmRegisters) {
    regs.WDOG.set(PM_PASSWORD | RESET_TICKS);
    let rstc = regs.RSTC.get();
    regs.RSTC
        .set(PM_PASSWORD | (rstc & PM_RSTC_WRCFG_CLR) | PM_RSTC_WRCFG_FULL_RESET);
}

/// Reset the board. Returns only if there is no watchdog.
fn bcm2835_restart() {
    if let Some(pm) = PM.get() {
        restart(pm.0);
        for _ in 0..1_000_000 {
            core::hint::spin_loop();
        }
    }
}

/// Power off: reset into the firmware's halt partition. Returns only if there is no
/// watchdog.
fn bcm2835_power_off() {
    if let Some(pm) = PM.get() {
        let rsts = pm.0.RSTS.get();
        pm.0.RSTS
            .set(PM_PASSWORD | (rsts & !0xfff) | PM_RSTS_RASPBERRYPI_HALT);
        bcm2835_restart();
    }
}
