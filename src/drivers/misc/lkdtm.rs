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
//! | `WRITE_KERN`| writes to the kernel's own text              | `Unable to handle kernel write to read-only memory` |
//! | `EXHAUST_STACK` | recurses on a guarded vmalloc stack until it overflows | `Insufficient stack space to handle exception!`, `kernel stack overflow` |

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
        "WRITE_KERN" => {
            let text = lkdtm_cpoint as *const () as *mut u32;
            // SAFETY: none: a store to kernel text, which W^X maps read-only, so it faults.
            unsafe { text.write_volatile(0xd503_201f) };
        }
        "EXHAUST_STACK" => exhaust_stack(),
        other => log::warn!("lkdtm: unknown crash type {other}"),
    }
}

/// Run a recursion that never ends on a fresh kernel stack with a guard page below it.
fn exhaust_stack() {
    let Some(base) = crate::mm::vmalloc::alloc_thread_stack() else {
        log::warn!("lkdtm: no memory for a stack");
        return;
    };
    let top = base + crate::arch::memory::THREAD_SIZE as u64;
    log::info!("lkdtm: recursing on the stack at [{base:#x}..{top:#x}]");
    // SAFETY: `top` is the top of a mapped, unused kernel stack; `recurse` never returns,
    // and when it overflows the guard page stops it.
    unsafe { crate::arch::entry::call_on_stack(0, recurse, top) };
}

/// Use 1 KiB of stack per level, forever.
#[allow(unconditional_recursion)] // the point: only the guard page ends it
extern "C" fn recurse(depth: usize) {
    let frame = [depth as u8; 1024];
    core::hint::black_box(&frame);
    recurse(depth + 1);
    core::hint::black_box(&frame);
}
