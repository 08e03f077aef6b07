//! How a secondary CPU is started: its `enable-method` from the device tree (Linux:
//! `arch/arm64/kernel/cpu_ops.c`, `include/asm/cpu_ops.h`).
//!
//! Each CPU node names one: `psci` (PSCI `CPU_ON` through the firmware, QEMU `virt`) or
//! `spin-table` (the CPU waits in a firmware loop for an entry address at its
//! `cpu-release-addr`, the Raspberry Pi). [`init_cpu_ops`] records the method of each logical
//! CPU while `smp_init_cpus` walks `/cpus`; [`CpuOps`] dispatches to its operations.

use core::sync::atomic::{AtomicU8, Ordering};

use crate::arch::percpu::NR_CPUS;
use crate::kernel::errno::Errno;

/// An enable method (Linux's `struct cpu_operations`, one per method).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuOps {
    /// `enable-method = "psci"`.
    Psci,
    /// `enable-method = "spin-table"`.
    SpinTable,
}

impl CpuOps {
    /// The method's DT name (Linux's `cpu_operations.name`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Psci => "psci",
            Self::SpinTable => "spin-table",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "psci" => Some(Self::Psci),
            "spin-table" => Some(Self::SpinTable),
            _ => None,
        }
    }

    /// Read what the method needs from the CPU's node (Linux's `cpu_init`).
    pub fn cpu_init(self, cpu: usize, node: fdt::node::FdtNode<'_, '_>) -> Result<(), Errno> {
        match self {
            Self::Psci => super::psci::cpu_psci_cpu_init(cpu),
            Self::SpinTable => super::smp_spin_table::smp_spin_table_cpu_init(cpu, node),
        }
    }

    /// Make sure the CPU can be started (Linux's `cpu_prepare`).
    pub fn cpu_prepare(self, cpu: usize) -> Result<(), Errno> {
        match self {
            Self::Psci => super::psci::cpu_psci_cpu_prepare(cpu),
            Self::SpinTable => super::smp_spin_table::smp_spin_table_cpu_prepare(cpu),
        }
    }

    /// Start the CPU at `entry` (a physical address) (Linux's `cpu_boot`).
    pub fn cpu_boot(self, cpu: usize, entry: u64) -> Result<(), Errno> {
        match self {
            Self::Psci => super::psci::cpu_psci_cpu_boot(cpu, entry),
            Self::SpinTable => super::smp_spin_table::smp_spin_table_cpu_boot(cpu, entry),
        }
    }
}

/// Each logical CPU's method: 0 = none, 1 + the `CpuOps` discriminant otherwise.
static CPU_OPS: [AtomicU8; NR_CPUS] = [const { AtomicU8::new(0) }; NR_CPUS];

/// Record the enable method of `cpu` from its node (Linux's `init_cpu_ops`).
pub fn init_cpu_ops(cpu: usize, node: fdt::node::FdtNode<'_, '_>) -> Result<(), Errno> {
    let Some(method) = node.property("enable-method").and_then(|p| p.as_str()) else {
        log::error!("{}: missing enable-method property", node.name);
        return Err(Errno::ENOENT);
    };
    let Some(ops) = CpuOps::from_name(method) else {
        log::warn!(
            "{}: unsupported enable-method property: {method}",
            node.name
        );
        return Err(Errno::ENOTSUP);
    };
    CPU_OPS[cpu].store(ops as u8 + 1, Ordering::Release);
    Ok(())
}

/// The enable method of `cpu`, if it has one (Linux's `get_cpu_ops`).
pub fn get_cpu_ops(cpu: usize) -> Option<CpuOps> {
    match CPU_OPS.get(cpu)?.load(Ordering::Acquire) {
        1 => Some(CpuOps::Psci),
        2 => Some(CpuOps::SpinTable),
        _ => None,
    }
}
