//! The old home of `SpinLock` and `InitOnce`, now in `kernel/locking/`.
//!
//! A temporary shim: `crate::kernel::sync::…` still resolves so that branches written before
//! the move merge without touching every import; it will be removed once they have merged.
//! New code names `crate::kernel::locking`.

pub use crate::kernel::locking::{once, spinlock, InitOnce, SpinLock, SpinLockGuard};
