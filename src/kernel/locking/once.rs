//! A value written once during boot and read freely afterwards.
//!
//! Cradle's replacement for `static mut` globals filled in by init code (the console, the
//! device tree, the PSCI conduit): `set` succeeds once, `get` returns `None` until then.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicU8, Ordering};

const EMPTY: u8 = 0;
const WRITING: u8 = 1;
const READY: u8 = 2;

/// A cell that is written at most once.
///
/// # Invariants
///
/// `value` is initialised exactly when `state` is `READY`, and is never written after that.
pub struct InitOnce<T> {
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: after `set` publishes the value with Release ordering it is only read, so sharing
// is safe for `T: Sync`; `set` may be called from any CPU, so `T: Send` is needed too.
unsafe impl<T: Send + Sync> Sync for InitOnce<T> {}

impl<T> InitOnce<T> {
    /// An empty cell.
    pub const fn new() -> Self {
        Self {
            state: AtomicU8::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Store `value`. Returns it back if the cell was already set.
    pub fn set(&self, value: T) -> Result<(), T> {
        if self
            .state
            .compare_exchange(EMPTY, WRITING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(value);
        }
        // SAFETY: the WRITING state makes us the only writer, and no reader looks at `value`
        // before READY is published below.
        unsafe { (*self.value.get()).write(value) };
        self.state.store(READY, Ordering::Release);
        Ok(())
    }

    /// The value, once set.
    pub fn get(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) == READY {
            // SAFETY: READY means the value was written and will never change again.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }
}

impl<T> Default for InitOnce<T> {
    fn default() -> Self {
        Self::new()
    }
}
