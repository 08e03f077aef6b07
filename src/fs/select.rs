//! Sleeping in `ppoll` and `pselect6` until a file is ready (Linux: `fs/select.c`).
//!
//! Linux puts a poller on the wait queue of every file it polls. Cradle keeps one queue
//! for all polls, with a generation count: whatever can make a polled file ready (a byte
//! from the console UART, data or room in a pipe, an end of a pipe closing, a FIFO
//! opening) calls [`poll_notify`], which moves the generation on and wakes the pollers;
//! each re-checks its files. A poller notes the generation before it checks, and sleeps
//! only while it is unchanged, so a change between the check and the sleep is not missed.
//! No tick wakes an idle poller: a shell waiting at its prompt sleeps until a key comes.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::kernel::errno::Errno;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::signal::{signal_pending, ERESTARTNOHAND};
use crate::kernel::task::current;

static POLL_GENERATION: AtomicU64 = AtomicU64::new(0);
static POLL_WAIT: WaitQueueHead = WaitQueueHead::new();

/// Something a poller may be waiting for has changed: wake every poller to look again.
/// Callable from interrupt context.
pub fn poll_notify() {
    POLL_GENERATION.fetch_add(1, Ordering::AcqRel);
    POLL_WAIT.wake_up_all();
}

/// Wait until `ready` says something is ready (its count), the deadline passes (`None`:
/// forever; then 0), or a signal arrives (EINTR: poll and select are never restarted
/// after a handler, as on Linux with a timeout; Linux's ERESTARTNOHAND).
pub fn poll_wait(
    deadline_ns: Option<u64>,
    mut ready: impl FnMut() -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let tick_ns = 1_000_000_000 / crate::kernel::time::HZ;
    loop {
        let generation = POLL_GENERATION.load(Ordering::Acquire);
        let n = ready()?;
        if n > 0 {
            return Ok(n);
        }
        let now = crate::kernel::time::ktime_get_ns();
        if deadline_ns.is_some_and(|d| now >= d) {
            return Ok(0);
        }
        if signal_pending(current()) {
            return Err(ERESTARTNOHAND);
        }
        let changed = || POLL_GENERATION.load(Ordering::Acquire) != generation;
        let slept = match deadline_ns {
            None => POLL_WAIT.wait_event_interruptible(changed).map(|()| 1),
            Some(deadline) => POLL_WAIT
                .wait_event_interruptible_timeout(changed, (deadline - now).div_ceil(tick_ns)),
        };
        if slept.is_err() {
            return Err(ERESTARTNOHAND);
        }
    }
}
