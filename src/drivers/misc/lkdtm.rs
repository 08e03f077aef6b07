//! Linux Kernel Dump Test Module: deliberate faults, to prove the oops and panic paths
//! (Linux: `drivers/misc/lkdtm/`).
//!
//! Boot with `lkdtm.cpoint_type=<TYPE>` and the fault is taken right after the console and
//! the boot messages are up (Linux's `DIRECT` crash point). Types, with Linux's names:
//!
//! | type        | what it does                                 | what should be seen        |
//! |-------------|----------------------------------------------|----------------------------|
//! | `PANIC`     | `panic!`                                     | `Kernel panic - not syncing: dumptest` |
//! | `BUG`       | a `brk` instruction, as Linux's `BUG()`      | `Internal error: Oops - BRK` |
//! | `EXCEPTION` | writes through a NULL pointer                | `Unable to handle kernel NULL pointer dereference` |
//! | `ACCESS_USERSPACE` | reads an unmapped user address         | `Unable to handle kernel paging request` |
//! | `UNDEFINED` | an undefined instruction (`udf`)             | `Internal error: Oops - Undefined instruction` |

/// Take the crash the command line asks for, if any.
#[inline(never)] // keep it a frame of its own, so the oops names it (Linux: noinline)
pub fn lkdtm_cpoint(cmdline: &str) {
    let Some(Some(kind)) = crate::kernel::params::get(cmdline, "lkdtm.cpoint_type") else {
        return;
    };
    log::info!("lkdtm: Performing direct entry {kind}");
    match kind {
        "PANIC" => panic!("dumptest"),
        // SAFETY: none of these is safe: each deliberately faults, which is the point. The
        // fault is taken synchronously and never returns here.
        "BUG" => unsafe { core::arch::asm!("brk #0x800", options(nostack)) },
        // SAFETY: as above: a store to address 0, which is never mapped.
        "EXCEPTION" => unsafe { core::arch::asm!("str xzr, [{}]", in(reg) 0u64, options(nostack)) },
        // SAFETY: as above: a load from an unmapped user address.
        "ACCESS_USERSPACE" => unsafe {
            core::arch::asm!("ldr {t}, [{a}]", a = in(reg) 0x1000_0000u64, t = out(reg) _,
                options(nostack))
        },
        // SAFETY: as above: an undefined instruction.
        "UNDEFINED" => unsafe { core::arch::asm!("udf #0", options(nostack)) },
        other => log::warn!("lkdtm: unknown crash type {other}"),
    }
}
