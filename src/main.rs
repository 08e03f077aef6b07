//! Cradle: an AArch64 kernel in Rust whose boot and process model follow Linux arm64.
//!
//! # How the code is organised
//!
//! The tree mirrors Linux's, so a reader of `init/main.c` or `arch/arm64/kernel/head.S` finds
//! the same function under the same name in the same place:
//!
//! | Cradle                          | Linux                                  | what                            |
//! |---------------------------------|----------------------------------------|---------------------------------|
//! | `asm/head.S`                    | `arch/arm64/kernel/head.S`             | Image header, `primary_entry`   |
//! | `asm/entry.S`                   | `arch/arm64/kernel/entry.S`            | exception vectors, `pt_regs`    |
//! | `src/init/main.rs`              | `init/main.c`                          | `start_kernel`                  |
//! | `src/init/init_task.rs`         | `init/init_task.c`                     | `init_task`, PID 0              |
//! | `src/arch/mod.rs`               | `<asm/…>`                              | the architecture interface      |
//! | `src/arch/arm64/kernel/`        | `arch/arm64/kernel/`                   | AArch64 entry, traps, switching |
//! | `src/arch/arm64/mm/`            | `arch/arm64/mm/`                       | AArch64 page tables, MMU, faults|
//! | `src/kernel/locking/`           | `kernel/locking/`                      | spinlocks, mutexes              |
//! | `src/kernel/reboot.rs`          | `kernel/reboot.c`                      | power-off and restart handlers  |
//! | `src/kernel/printk.rs`          | `kernel/printk/printk.c`               | the log buffer and consoles     |
//! | `src/kernel/panic.rs`           | `kernel/panic.c`                       | `panic`, the panic handler      |
//! | `src/kernel/cred.rs`            | `kernel/cred.c`, `kernel/sys.c`        | credentials, the set*id rules   |
//! | `src/kernel/capability.rs`      | `kernel/capability.c`                  | capabilities, capget/capset     |
//! | `src/fs/permission.rs`          | `fs/namei.c`, `fs/attr.c`              | file permission checks (DAC)    |
//! | `src/of/`                       | `drivers/of/`                          | the device tree, driver tables  |
//! | `src/drivers/`                  | `drivers/`                             | device drivers, bound by DT     |
//! | `src/mm/`                       | `mm/`                                  | memory management               |
//! | `src/block/`                    | `block/`                               | the block layer (I/O priorities)|
//! | `src/net/`                      | `net/`                                 | sockets: AF_UNIX                |
//! | `src/kunit/`                    | `lib/kunit/`                           | in-kernel tests (KTAP)          |
//!
//! # The boot flow
//!
//! A loader (QEMU `-kernel`, the Pi firmware, U-Boot `booti`) jumps to `_head` with the MMU off
//! and x0 = the physical address of the device tree blob. `asm/head.S` drops from EL2 to EL1,
//! builds the early page tables from the address the Image is *running* at, turns the MMU on,
//! points `sp` at `init_task`'s stack and `sp_el0` at `init_task` itself, and branches to
//! [`init::main::start_kernel`], which is a flat list of init calls.
//!
//! # Design principles
//!
//! - Simple and clear over fast and clever, until a benchmark says otherwise.
//! - Generic code never names a board or a driver: hardware comes from the device tree, and
//!   drivers register themselves (declaration tables, initcalls, hooks). ARCHITECTURE.md has
//!   the layers and which way dependencies run.
//! - Bytes from outside (DTB, ELF, cpio, user pointers) are parsed into errors, never panics.
//! - Every `unsafe` block says why it holds (`// SAFETY:`); there is no `static mut`.
//!
//! # Host builds
//!
//! The kernel proper only builds for `aarch64-unknown-none-softfloat` (no FP/SIMD registers in
//! kernel code, as Linux's `-mgeneral-regs-only`). Built for the host (`cargo test`),
//! the crate holds just its portable logic — parsers, allocators, arithmetic — with unit tests.
//! This is the one place that decides which is which.

#![cfg_attr(target_os = "none", no_std)]
#![cfg_attr(target_os = "none", no_main)]
#![forbid(unsafe_op_in_unsafe_fn)]

extern crate alloc;

pub mod arch;
#[cfg(target_os = "none")]
pub mod block;
#[cfg(target_os = "none")]
pub mod drivers;
pub mod fs;
#[cfg(target_os = "none")]
pub mod init;
pub mod kernel;
#[cfg(target_os = "none")]
pub mod kunit;
pub mod mm;
#[cfg(target_os = "none")]
pub mod net;
pub mod of;

/// Host builds (unit tests, `cargo clippy` without a target) have no kernel to run.
#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "cradle is a kernel: build it with `cargo xtask build`, run it with `cargo xtask qemu`"
    );
}
