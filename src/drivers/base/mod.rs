//! The driver core's system devices (Linux: `drivers/base/`): what sysfs shows of them.
//!
//! - `arch_topology.rs`: which CPUs share a core, cluster and package, from the device
//!   tree's `cpu-map` (`drivers/base/arch_topology.c`).
//! - `cpu.rs`: `/sys/devices/system/cpu` (`drivers/base/cpu.c`), with each CPU's
//!   `topology/` (`drivers/base/topology.c`, `arch_topology.c`) and `regs/identification/`
//!   (`arch/arm64/kernel/cpuinfo.c`).

pub mod arch_topology;
pub mod cpu;
