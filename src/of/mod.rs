//! The device tree (Linux's `drivers/of/`): checking a blob before trusting it
//! (`validate`), finding nodes, reading properties and the drivers' declaration tables
//! (`base`), translating bus addresses to CPU physical addresses through `ranges`
//! (`address`), and device interrupts (`irq`).

pub mod address;
pub mod base;
#[cfg(target_os = "none")]
pub mod irq;
pub mod validate;
