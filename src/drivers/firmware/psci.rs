//! PSCI, the Power State Coordination Interface (Linux: `drivers/firmware/psci/psci.c`).
//!
//! On QEMU `virt` the firmware is QEMU itself: the DT node `psci` (`arm,psci-1.0`) says
//! whether to call it with `hvc` (kernel entered at EL1) or `smc` (entered at EL2). Cradle
//! uses it to power off and reset (registered with `kernel/reboot.rs` when the node is found)
//! and, later, to start secondary CPUs. The Raspberry Pi has no
//! PSCI; there every call here reports `NotPresent`.

use crate::kernel::errno::Errno;
use crate::kernel::locking::InitOnce;
use crate::kernel::reboot::{register_restart_handler, set_pm_power_off};

/// PSCI function IDs (SMC64 calling convention where there are pointer arguments).
pub mod func {
    /// PSCI_VERSION.
    pub const PSCI_VERSION: u32 = 0x8400_0000;
    /// CPU_ON (64-bit).
    pub const CPU_ON: u32 = 0xc400_0003;
    /// SYSTEM_OFF.
    pub const SYSTEM_OFF: u32 = 0x8400_0008;
    /// SYSTEM_RESET.
    pub const SYSTEM_RESET: u32 = 0x8400_0009;
}

/// How to call the firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conduit {
    /// `hvc #0`: the firmware is at EL2.
    Hvc,
    /// `smc #0`: the firmware is at EL3.
    Smc,
}

/// A PSCI error return (negative values, from the PSCI specification).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciError {
    /// There is no PSCI on this machine.
    NotPresent,
    /// The firmware returned this error code.
    Firmware(i64),
}

static CONDUIT: InitOnce<Conduit> = InitOnce::new();

/// Make a PSCI call with up to three arguments through `conduit`.
fn invoke(conduit: Conduit, function: u32, a1: u64, a2: u64, a3: u64) -> i64 {
    let mut x0 = function as u64;
    match conduit {
        // SAFETY: a PSCI call clobbers only x0-x3 by the SMC Calling Convention (we mark
        // x0-x17 clobbered to be safe); the firmware does not touch our memory.
        Conduit::Hvc => unsafe {
            core::arch::asm!("hvc #0", inout("x0") x0, inout("x1") a1 => _, inout("x2") a2 => _,
                inout("x3") a3 => _, out("x4") _, out("x5") _, out("x6") _, out("x7") _,
                out("x8") _, out("x9") _, out("x10") _, out("x11") _, out("x12") _,
                out("x13") _, out("x14") _, out("x15") _, out("x16") _, out("x17") _,
                options(nostack))
        },
        // SAFETY: as above.
        Conduit::Smc => unsafe {
            core::arch::asm!("smc #0", inout("x0") x0, inout("x1") a1 => _, inout("x2") a2 => _,
                inout("x3") a3 => _, out("x4") _, out("x5") _, out("x6") _, out("x7") _,
                out("x8") _, out("x9") _, out("x10") _, out("x11") _, out("x12") _,
                out("x13") _, out("x14") _, out("x15") _, out("x16") _, out("x17") _,
                options(nostack))
        },
    }
    x0 as i64
}

fn call(function: u32, a1: u64, a2: u64, a3: u64) -> Result<i64, PsciError> {
    let conduit = *CONDUIT.get().ok_or(PsciError::NotPresent)?;
    let ret = invoke(conduit, function, a1, a2, a3);
    if ret < 0 {
        Err(PsciError::Firmware(ret))
    } else {
        Ok(ret)
    }
}

/// Learn PSCI's conduit from its device tree node and register its power-off and restart
/// (Linux's `psci_dt_init` → `psci_0_2_init` → `psci_0_2_set_functions`).
fn psci_of_init(_fdt: &fdt::Fdt<'_>, node: fdt::node::FdtNode<'_, '_>) -> Result<(), Errno> {
    if CONDUIT.get().is_some() {
        return Ok(());
    }
    log::info!("psci: probing for conduit method from DT.");
    let conduit = match node.property("method").and_then(|p| p.as_str()) {
        Some("hvc") => Conduit::Hvc,
        Some("smc") => Conduit::Smc,
        other => {
            log::warn!("psci: invalid \"method\" property: {other:?}");
            return Err(Errno::EINVAL);
        }
    };
    let _ = CONDUIT.set(conduit);
    if let Ok(version) = call(func::PSCI_VERSION, 0, 0, 0) {
        log::info!(
            "psci: PSCIv{}.{} detected in firmware.",
            version >> 16,
            version & 0xffff
        );
    }
    set_pm_power_off(psci_system_off);
    // Linux's priority for PSCI's reset: 129, just above the "default" 128.
    register_restart_handler(129, psci_system_reset)
}
crate::FIRMWARE_OF_DECLARE!(psci_1_0, "arm,psci-1.0", psci_of_init);
crate::FIRMWARE_OF_DECLARE!(psci_0_2, "arm,psci-0.2", psci_of_init);
crate::FIRMWARE_OF_DECLARE!(psci, "arm,psci", psci_of_init);

/// True if the machine has PSCI.
pub fn psci_present() -> bool {
    CONDUIT.get().is_some()
}

/// Power the machine off. Returns only if there is no PSCI or the call failed.
pub fn psci_system_off() {
    let _ = call(func::SYSTEM_OFF, 0, 0, 0);
}

/// Reset the machine. Returns only if there is no PSCI or the call failed.
pub fn psci_system_reset() {
    let _ = call(func::SYSTEM_RESET, 0, 0, 0);
}

/// Start the CPU `mpidr` at physical address `entry` with x0 = `context`.
pub fn psci_cpu_on(mpidr: u64, entry: u64, context: u64) -> Result<(), PsciError> {
    call(func::CPU_ON, mpidr, entry, context).map(|_| ())
}
