//! Who can power the machine off or restart it (Linux: `kernel/reboot.c`).
//!
//! Drivers register themselves from their probes: a power-off handler (Linux's
//! `pm_power_off`, PSCI's SYSTEM_OFF or the BCM2835 watchdog's halt partition) and restart
//! handlers by priority (Linux's `register_restart_handler`: PSCI's SYSTEM_RESET at 129, the
//! watchdog's reset at 128). `machine_power_off` and `machine_restart` (arch) call
//! [`do_kernel_power_off`] and [`do_kernel_restart`] and halt if those return.
//!
//! The handlers are kept in atomics, not behind a lock: a panic may power off from any
//! context, including one that holds a lock.

use core::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use crate::kernel::errno::Errno;

/// A power-off or restart handler: returns only if it failed.
pub type HandlerFn = fn();

/// `pm_power_off`, as a function address (0: none).
static PM_POWER_OFF: AtomicUsize = AtomicUsize::new(0);

/// How many restart handlers may register (Linux's list is unbounded; two exist here).
const MAX_RESTART_HANDLERS: usize = 4;
/// The restart handlers' function addresses (0: free slot) and priorities.
static RESTART_HANDLERS: [AtomicUsize; MAX_RESTART_HANDLERS] =
    [const { AtomicUsize::new(0) }; MAX_RESTART_HANDLERS];
static RESTART_PRIORITIES: [AtomicI32; MAX_RESTART_HANDLERS] =
    [const { AtomicI32::new(0) }; MAX_RESTART_HANDLERS];

/// Make `handler` the power-off handler unless one is set (Linux's drivers assign
/// `pm_power_off` only `if (!pm_power_off)`). True if it was taken.
pub fn set_pm_power_off(handler: HandlerFn) -> bool {
    PM_POWER_OFF
        .compare_exchange(0, handler as usize, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

/// Add a restart handler; higher priorities are tried first (Linux's
/// `register_restart_handler`, where 128 is "default: use if nothing better").
pub fn register_restart_handler(priority: i32, handler: HandlerFn) -> Result<(), Errno> {
    for (slot, prio) in RESTART_HANDLERS.iter().zip(&RESTART_PRIORITIES) {
        if slot
            .compare_exchange(0, handler as usize, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            prio.store(priority, Ordering::Release);
            return Ok(());
        }
    }
    Err(Errno::ENOSPC)
}

/// Turn a stored address back into the handler it was made from.
fn handler_at(addr: usize) -> Option<HandlerFn> {
    (addr != 0).then(|| {
        // SAFETY: only `set_pm_power_off` and `register_restart_handler` store non-zero
        // values, and they store `HandlerFn`s; a function pointer survives the round trip
        // through usize.
        unsafe { core::mem::transmute::<usize, HandlerFn>(addr) }
    })
}

/// Call the power-off handler, if any (Linux's `do_kernel_power_off`). Returns if there is
/// none or it failed.
pub fn do_kernel_power_off() {
    if let Some(handler) = handler_at(PM_POWER_OFF.load(Ordering::Acquire)) {
        handler();
    }
}

/// Call the restart handlers, highest priority first (Linux's `do_kernel_restart`). Returns
/// if there is none or all failed.
pub fn do_kernel_restart() {
    let mut tried = [false; MAX_RESTART_HANDLERS];
    loop {
        let next = (0..MAX_RESTART_HANDLERS)
            .filter(|&i| !tried[i] && RESTART_HANDLERS[i].load(Ordering::Acquire) != 0)
            .max_by_key(|&i| RESTART_PRIORITIES[i].load(Ordering::Acquire));
        let Some(i) = next else { return };
        tried[i] = true;
        if let Some(handler) = handler_at(RESTART_HANDLERS[i].load(Ordering::Acquire)) {
            handler();
        }
    }
}
