//! Fast user-space mutexes (Linux: `kernel/futex/`).
//!
//! User space keeps a lock or a counter in a 32-bit word and calls `futex` only to sleep
//! while the word holds a value, or to wake sleepers after changing it. glibc's mutexes,
//! condition variables, barriers, semaphores and `pthread_join` (through
//! CLONE_CHILD_CLEARTID) are built on it; so is Rust's `std::sync`.
//!
//! - `core`: keys (private: address space + address; shared: physical address), the hash
//!   table of waiters, and robust-list cleanup at thread exit.
//! - `waitwake`: FUTEX_WAIT(_BITSET), FUTEX_WAKE(_BITSET), FUTEX_WAKE_OP.
//! - `requeue`: FUTEX_REQUEUE, FUTEX_CMP_REQUEUE.
//! - `syscalls`: `futex`, `set_robust_list`, `get_robust_list`.

mod core;
mod requeue;
mod syscalls;
mod waitwake;

pub use self::core::exit_robust_list;
pub use syscalls::{sys_futex, sys_get_robust_list, sys_set_robust_list};

/// Wake up to `nr_wake` waiters on the futex at `uaddr` (the kernel's own FUTEX_WAKE, for
/// CLONE_CHILD_CLEARTID and robust futexes).
pub fn futex_wake_address(
    uaddr: u64,
    private: bool,
    nr_wake: i32,
    bitset: u32,
) -> Result<u64, crate::kernel::errno::Errno> {
    waitwake::futex_wake(uaddr, private, nr_wake, bitset)
}
