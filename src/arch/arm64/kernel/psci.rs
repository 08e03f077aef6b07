//! The `psci` enable method: start a CPU with PSCI `CPU_ON` (Linux:
//! `arch/arm64/kernel/psci.c`). The firmware interface itself is
//! `drivers/firmware/psci.rs`, which learnt the conduit (`hvc` or `smc`) from the DT.

use crate::drivers::firmware::psci::{psci_cpu_on, psci_present, PsciError};
use crate::kernel::errno::Errno;

/// Linux's `cpu_psci_cpu_init`: nothing to read from the node, but PSCI must be there.
pub fn cpu_psci_cpu_init(_cpu: usize) -> Result<(), Errno> {
    if psci_present() {
        Ok(())
    } else {
        Err(Errno::ENODEV)
    }
}

/// Linux's `cpu_psci_cpu_prepare`.
pub fn cpu_psci_cpu_prepare(cpu: usize) -> Result<(), Errno> {
    if psci_present() {
        Ok(())
    } else {
        log::error!("no cpu_on method, not booting CPU{cpu}");
        Err(Errno::ENODEV)
    }
}

/// Linux's `cpu_psci_cpu_boot`: CPU_ON(MPIDR, entry, context 0).
pub fn cpu_psci_cpu_boot(cpu: usize, entry: u64) -> Result<(), Errno> {
    let Some(hwid) = super::smp::cpu_logical_map(cpu) else {
        return Err(Errno::EINVAL);
    };
    match psci_cpu_on(hwid, entry, 0) {
        Ok(()) => Ok(()),
        Err(err) => {
            let code = match err {
                PsciError::NotPresent => -(Errno::ENODEV.0 as i64),
                PsciError::Firmware(code) => code,
            };
            log::error!("failed to boot CPU{cpu} ({code})");
            Err(psci_to_linux_errno(code))
        }
    }
}

/// Linux's `psci_to_linux_errno`: PSCI return codes as errnos.
fn psci_to_linux_errno(code: i64) -> Errno {
    match code {
        -1 => Errno::ENOTSUP, // NOT_SUPPORTED → EOPNOTSUPP
        -2 => Errno::EINVAL,  // INVALID_PARAMETERS
        -3 => Errno::EPERM,   // DENIED
        _ => Errno::EINVAL,
    }
}
