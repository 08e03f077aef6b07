//! Spinlocks (Linux: `include/linux/spinlock.h`, `kernel/locking/spinlock.c`): the ticket
//! lock [`RawSpinLock`], and [`SpinLock`], an IRQ-safe lock with a guard built on it (Linux's
//! `spin_lock_irqsave`).
//!
//! `RawSpinLock` alone only spins: no interrupt masking, no preemption count, no guard. The
//! scheduler's run-queue lock is one, because it is taken by one task and released by
//! another across the context switch.
//!
//! Taking the lock masks interrupts on this CPU first, so an interrupt handler that takes
//! the same lock can never deadlock against the code it interrupted, and disables
//! preemption (Linux's `spin_lock` does too); releasing it re-enables preemption, which is
//! where a wake-up's request to reschedule takes effect. The ticket discipline makes
//! waiting CPUs take the lock in arrival order. A waiter sleeps in `wfe` until the owner
//! word changes (`arch::barrier::cmpwait_u32`) instead of spinning on it.
//!
//! On N CPUs masking interrupts protects nothing by itself: only the lock word does. A CPU
//! that waits for one lock for [`LOCKUP_SECONDS`] prints what it waits for, which CPU took
//! the lock last, and its own backtrace, once per wait (Linux's `CONFIG_DEBUG_SPINLOCK`
//! "spinlock lockup suspected"), then keeps waiting: a deadlock shows up as a report rather
//! than as silence.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU32, Ordering};

use crate::arch::irqflags::{local_irq_restore, local_irq_save, IrqFlags};
use crate::arch::percpu::smp_processor_id;
use crate::kernel::sched::core::{preempt_disable, preempt_enable, preempt_enable_no_resched};

/// A value protected by an IRQ-safe spinlock.
///
/// # Invariants
///
/// `data` is only reached through a [`SpinLockGuard`], and at most one guard exists at a
/// time: the one whose ticket equals `raw`'s owner.
pub struct SpinLock<T: ?Sized> {
    raw: RawSpinLock,
    data: UnsafeCell<T>,
}

/// A ticket lock without a guard (Linux's `raw_spinlock_t`): `lock` waits for our turn,
/// `unlock` hands the lock to the next ticket. Whoever locks must make sure it is unlocked
/// exactly once.
pub struct RawSpinLock {
    next: AtomicU32,
    owner: AtomicU32,
    /// The CPU that took the lock last (for lockup reports and [`RawSpinLock::held_by_this_cpu`];
    /// Linux's debug `owner_cpu`). Stale once the lock is released.
    owner_cpu: AtomicU32,
}

/// How long a CPU waits for one lock before it reports a suspected lockup.
pub const LOCKUP_SECONDS: u64 = 10;

/// Spins between two looks at the clock while waiting.
const SPINS_PER_CHECK: u32 = 1 << 14;

impl Default for RawSpinLock {
    fn default() -> Self {
        Self::new()
    }
}

impl RawSpinLock {
    /// A new, unlocked lock.
    pub const fn new() -> Self {
        Self {
            next: AtomicU32::new(0),
            owner: AtomicU32::new(0),
            owner_cpu: AtomicU32::new(u32::MAX),
        }
    }

    /// Wait for our turn (Linux's `arch_spin_lock`).
    #[inline]
    pub fn lock(&self) {
        let ticket = self.next.fetch_add(1, Ordering::Relaxed);
        if self.owner.load(Ordering::Acquire) != ticket {
            self.lock_slow(ticket);
        }
        self.owner_cpu
            .store(smp_processor_id() as u32, Ordering::Relaxed);
    }

    /// Wait until `ticket` is served, reporting once if that takes [`LOCKUP_SECONDS`].
    #[cold]
    #[inline(never)]
    fn lock_slow(&self, ticket: u32) {
        let mut spins = 0u32;
        let mut started = None;
        let mut reported = false;
        loop {
            let owner = self.owner.load(Ordering::Acquire);
            if owner == ticket {
                break;
            }
            // Sleep until the owner word changes (Linux: `smp_cond_load_acquire`).
            crate::arch::barrier::cmpwait_u32(&self.owner, owner);
            spins = spins.wrapping_add(1);
            if reported || !spins.is_multiple_of(SPINS_PER_CHECK) {
                continue;
            }
            let (now, freq) = crate::arch::arch_timer::counter_and_frequency();
            let start = *started.get_or_insert(now);
            if freq != 0 && now.wrapping_sub(start) >= LOCKUP_SECONDS * freq {
                reported = true;
                self.report_lockup(ticket);
            }
        }
    }

    /// Linux's `spin_dump`: what this CPU waits for and where it is.
    #[cold]
    fn report_lockup(&self, ticket: u32) {
        let task = crate::kernel::task::current();
        crate::kernel::printk::printk_emergency(format_args!(
            "BUG: spinlock lockup suspected on CPU#{}, {}/{}",
            smp_processor_id(),
            task.comm(),
            task.pid()
        ));
        crate::kernel::printk::printk_emergency(format_args!(
            " lock: {:p}, .owner: {}, .next: {}, my ticket: {}, .owner_cpu: {}",
            self,
            self.owner.load(Ordering::Relaxed),
            self.next.load(Ordering::Relaxed),
            ticket,
            self.owner_cpu.load(Ordering::Relaxed) as i32
        ));
        crate::arch::process::dump_stack();
    }

    /// Take the lock only if no one holds it (Linux's `arch_spin_trylock`).
    #[inline]
    pub fn try_lock(&self) -> bool {
        let owner = self.owner.load(Ordering::Relaxed);
        let taken = self
            .next
            .compare_exchange(
                owner,
                owner.wrapping_add(1),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok();
        if taken {
            self.owner_cpu
                .store(smp_processor_id() as u32, Ordering::Relaxed);
        }
        taken
    }

    /// True if the lock is held and this CPU took it (for the panic and oops paths, which
    /// must not wait for a lock their own CPU holds; the answer may be stale for other CPUs'
    /// locks, never for this CPU's).
    pub fn held_by_this_cpu(&self) -> bool {
        self.is_locked() && self.owner_cpu.load(Ordering::Relaxed) == smp_processor_id() as u32
    }

    /// Release the lock (Linux's `arch_spin_unlock`).
    #[inline]
    pub fn unlock(&self) {
        self.owner.fetch_add(1, Ordering::Release);
    }

    /// True if someone holds the lock (for assertions only: the answer may be stale).
    pub fn is_locked(&self) -> bool {
        self.next.load(Ordering::Relaxed) != self.owner.load(Ordering::Relaxed)
    }
}

// SAFETY: the lock hands out access to `data` to one holder at a time (see Invariants), so
// sharing the lock between CPUs is safe whenever `T` may be sent between them.
unsafe impl<T: ?Sized + Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the `T` it owns.
unsafe impl<T: ?Sized + Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// A new, unlocked lock around `data`.
    pub const fn new(data: T) -> Self {
        Self {
            raw: RawSpinLock::new(),
            data: UnsafeCell::new(data),
        }
    }
}

impl<T: ?Sized> SpinLock<T> {
    /// Mask interrupts, then wait for our turn. Always inlined: it is a handful of
    /// instructions on every hot path, and as an out-of-line call (which LLVM chooses once
    /// there are enough callers) it cost the page-fault path about 6%.
    #[track_caller]
    #[inline(always)]
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        let flags = local_irq_save();
        preempt_disable();
        self.raw.lock();
        SpinLockGuard { lock: self, flags }
    }

    /// Take the lock only if no one holds it (used where waiting could deadlock, e.g. on
    /// the panic path).
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        let flags = local_irq_save();
        preempt_disable();
        if self.raw.try_lock() {
            Some(SpinLockGuard { lock: self, flags })
        } else {
            local_irq_restore(flags);
            preempt_enable_no_resched();
            None
        }
    }

    /// The data, through exclusive access to the lock itself (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// True if someone holds the lock (for assertions only: the answer may be stale).
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// True if this CPU holds the lock (see [`RawSpinLock::held_by_this_cpu`]).
    pub fn held_by_this_cpu(&self) -> bool {
        self.raw.held_by_this_cpu()
    }
}

/// Access to the data of a held [`SpinLock`]; dropping it unlocks and restores interrupts.
pub struct SpinLockGuard<'a, T: ?Sized> {
    lock: &'a SpinLock<T>,
    flags: IrqFlags,
}

impl<T: ?Sized> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock, so no other reference to the data exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only access through the guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for SpinLockGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        self.lock.raw.unlock();
        local_irq_restore(self.flags);
        preempt_enable();
    }
}
