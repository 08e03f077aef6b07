//! AArch64 (Linux's `arch/arm64/`): `kernel/`, `mm/` and `lib/`, as Linux splits it.
//!
//! Both halves are re-exported flat, so `crate::arch::mmu` and `crate::arch::traps` name a
//! module wherever it lives; generic code never spells `arm64`.
//!
//! The assembly (`asm/head.S`, `asm/entry.S`, `asm/uaccess.S`, `asm/string.S`) stays in the top-level `asm/`
//! directory the project's layout fixes; each `.S` file names its Rust half and each Rust half
//! (`kernel/head.rs`, `kernel/entry.rs`, `mm/uaccess.rs`, `lib/string.rs`) pulls its `.S` in with `global_asm!`.

pub mod kernel;
#[cfg(target_os = "none")]
pub mod lib;
pub mod mm;

pub use kernel::*;
pub use mm::*;
