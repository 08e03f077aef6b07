//! A sleeping mutex (Linux: `kernel/locking/mutex.c`).
//!
//! Unlike a spinlock, a task that finds the mutex held sleeps until it is released, so it
//! may be held across anything that sleeps (allocations, disk I/O, `msleep`). It must not be
//! taken in interrupt context. Waiters are woken one at a time, in order.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::task::{current, state, TaskStruct};

/// A value protected by a sleeping lock.
///
/// # Invariants
///
/// `data` is only reached through a [`MutexGuard`]; `owner` is the task holding the one
/// guard, or null.
pub struct Mutex<T: ?Sized> {
    owner: AtomicPtr<TaskStruct>,
    wait: WaitQueueHead,
    /// Times a task had to sleep for this mutex (for tests and statistics).
    contended: AtomicU64,
    data: UnsafeCell<T>,
}

// SAFETY: one holder at a time (see Invariants); the value moves between tasks.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex around `data`.
    pub const fn new(data: T) -> Self {
        Self {
            owner: AtomicPtr::new(core::ptr::null_mut()),
            wait: WaitQueueHead::new(),
            contended: AtomicU64::new(0),
            data: UnsafeCell::new(data),
        }
    }
}

impl<T: ?Sized> Mutex<T> {
    fn try_acquire(&self) -> bool {
        let me = current() as *const TaskStruct as *mut TaskStruct;
        self.owner
            .compare_exchange(
                core::ptr::null_mut(),
                me,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Take the mutex, sleeping while someone else holds it.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let me = current() as *const TaskStruct as *mut TaskStruct;
        assert!(
            self.owner.load(Ordering::Relaxed) != me,
            "mutex: recursive lock by {}",
            current().pid()
        );
        if !self.try_acquire() {
            self.contended.fetch_add(1, Ordering::Relaxed);
            self.wait
                .wait_event_state(state::TASK_UNINTERRUPTIBLE, true, || self.try_acquire());
        }
        MutexGuard { mutex: self }
    }

    /// Take the mutex only if it is free.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.try_acquire().then_some(MutexGuard { mutex: self })
    }

    /// How many times a task had to wait.
    pub fn contention_count(&self) -> u64 {
        self.contended.load(Ordering::Relaxed)
    }

    /// True if held (for assertions; may be stale).
    pub fn is_locked(&self) -> bool {
        !self.owner.load(Ordering::Relaxed).is_null()
    }
}

/// Access to a held [`Mutex`]; dropping it releases the mutex and wakes a waiter.
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex, so it is the only access.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, exclusively through `&mut self`.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex
            .owner
            .store(core::ptr::null_mut(), Ordering::Release);
        self.mutex.wait.wake_up();
    }
}
