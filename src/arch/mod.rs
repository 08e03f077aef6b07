//! The architecture interface: everything CPU-specific shows up right here.
//!
//! Cradle has one architecture, AArch64, kept under `arm64/` as Linux keeps `arch/arm64/`,
//! split like Linux's into `arm64/kernel/` (entry, traps, processes, signals, system calls,
//! CPU features) and `arm64/mm/` (page tables, the MMU, faults, user access). This is the one
//! place that chooses the architecture: generic code names `crate::arch::…` (as Linux's generic
//! code includes `<asm/…>`), never `arm64`. Another architecture would be another directory
//! exporting the same names, chosen here by `cfg(target_arch)`.
//!
//! Host builds (`cargo test`) compile the portable AArch64 logic (page-table arithmetic, ESR
//! decoding) and test it there; `arm64/mod.rs` says which modules those are.

mod arm64;
pub use arm64::*;
