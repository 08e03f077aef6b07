//! Locks and init-once cells (Linux's `kernel/locking/` and `include/linux/spinlock.h`):
//! the one home of every lock in the kernel.
//!
//! - [`spinlock`]: `RawSpinLock` (a bare ticket lock; the run queues use it) and `SpinLock`
//!   (IRQ-safe, with a guard) built on it;
//! - [`mutex`]: a sleeping lock;
//! - [`once`]: `InitOnce`, a cell written once and read lock-free after.

pub mod mutex;
pub mod once;
pub mod spinlock;

pub use mutex::{Mutex, MutexGuard};
pub use once::InitOnce;
pub use spinlock::{RawSpinLock, SpinLock, SpinLockGuard};
