//! Locks and init-once cells (Linux: `include/linux/spinlock.h` and friends).

pub mod once;
pub mod spinlock;

pub use once::InitOnce;
pub use spinlock::{SpinLock, SpinLockGuard};
