//! The futex hash table: keys, wait queues, waking, and robust-list cleanup at thread exit
//! (Linux: `kernel/futex/core.c`: `get_futex_key`, `futex_hash`, `futex_q`, `__futex_unqueue`,
//! `handle_futex_death`, `exit_robust_list`).
//!
//! A futex is named by a [`FutexKey`]: a private futex (FUTEX_PRIVATE_FLAG, or any word in
//! memory that is not shared) by its address space and virtual address; a futex in a
//! MAP_SHARED mapping by the physical address of its page plus the offset, which is the same
//! in every process that maps the page. Waiters queue in one of [`HASH_SIZE`] buckets, each
//! with its own lock. A waiter checks the futex word *under its bucket's lock* before it
//! queues; a waker changes the word first and then takes the lock. Either the waiter sees
//! the new value (and does not sleep) or the waker sees the queued waiter: no wake-up is
//! lost. Wakers wake tasks with the bucket lock held and allocate nothing, so a broadcast
//! to thousands of threads works even with memory exhausted.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::arch::memory::PAGE_SIZE;
use crate::arch::uaccess::{copy_from_user, futex_cmpxchg_user};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::core::wake_up_process;
use crate::kernel::task::{current, TaskRef, TaskStruct};
use crate::mm::vma::VmFlags;

/// Buckets in the hash table (Linux sizes it by CPUs; one machine's worth is plenty here).
pub const HASH_SIZE: usize = 256;

/// A futex word's name (Linux's `union futex_key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FutexKey {
    /// In one address space: the `mm_struct` and the virtual address.
    Private {
        /// The address space (its address, used only as a name).
        mm: usize,
        /// The user address of the word.
        addr: u64,
    },
    /// In shared memory: the physical address of the word.
    Shared {
        /// Physical page address plus the offset in the page.
        phys: u64,
    },
}

impl FutexKey {
    fn hash(&self) -> usize {
        let (a, b) = match *self {
            FutexKey::Private { mm, addr } => (mm as u64, addr),
            FutexKey::Shared { phys } => (0x5eed, phys),
        };
        let x = (a ^ b.rotate_left(17)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (x >> 40) as usize % HASH_SIZE
    }
}

/// One sleeping task (Linux's `struct futex_q`).
pub struct FutexQ {
    /// Who sleeps.
    pub task: TaskRef,
    /// Set (under the bucket lock) when a waker took this waiter off its queue.
    pub woken: AtomicBool,
    /// Which bucket holds it; changes only under both buckets' locks (requeue).
    pub bucket: AtomicUsize,
}

/// An entry in a bucket: the waiter, its key and the bits it waits for.
pub struct Waiter {
    /// The futex it waits on (changed by requeue).
    pub key: FutexKey,
    /// FUTEX_WAIT_BITSET's mask (all ones for FUTEX_WAIT).
    pub bitset: u32,
    /// The waiter.
    pub q: Arc<FutexQ>,
}

/// A hash bucket (Linux's `struct futex_hash_bucket`).
pub struct Bucket {
    /// The waiters, oldest first. Lock: its own.
    pub waiters: SpinLock<Vec<Waiter>>,
}

static QUEUES: [Bucket; HASH_SIZE] = [const {
    Bucket {
        waiters: SpinLock::new(Vec::new()),
    }
}; HASH_SIZE];

/// The bucket for `key` and its index.
pub fn hash_bucket(key: &FutexKey) -> (usize, &'static Bucket) {
    let index = key.hash();
    (index, &QUEUES[index])
}

/// The bucket with this index.
pub fn bucket(index: usize) -> &'static Bucket {
    &QUEUES[index % HASH_SIZE]
}

/// Name the futex word at `uaddr` (Linux's `get_futex_key`). EINVAL if it is not 4-byte
/// aligned; EFAULT if it is not user memory, or (for a shared futex) not mapped.
pub fn get_futex_key(uaddr: u64, private: bool) -> Result<FutexKey, Errno> {
    if !uaddr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    if !crate::arch::uaccess::access_ok(uaddr, 4) {
        return Err(Errno::EFAULT);
    }
    if private {
        // The address space's identity only: no counted reference to it (Linux's
        // `get_futex_key` reads `current->mm` for a private futex too).
        let mm = current()
            .mm
            .lock()
            .as_ref()
            .map(|mm| Arc::as_ptr(mm) as usize)
            .ok_or(Errno::EFAULT)?;
        return Ok(FutexKey::Private { mm, addr: uaddr });
    }
    let mm = current().mm().ok_or(Errno::EFAULT)?;
    let private_key = FutexKey::Private {
        mm: Arc::as_ptr(&mm) as usize,
        addr: uaddr,
    };
    let shared = {
        let inner = mm.inner.lock();
        let vma = inner.vmas.find(uaddr).ok_or(Errno::EFAULT)?;
        vma.flags.contains(VmFlags::SHARED)
    };
    if !shared {
        return Ok(private_key);
    }
    get_futex_value(uaddr)?; // fault the page in (EFAULT if it cannot be)
    let page = uaddr & !(PAGE_SIZE - 1);
    let phys = {
        let _inner = mm.inner.lock();
        // SAFETY: the address space's lock is held, so its tables do not change under us;
        // the fault above made the leaf table exist.
        let entry = unsafe {
            crate::arch::mmu_user::pte_alloc(
                mm.pgd,
                page,
                &mut crate::arch::paging::KernelTableAlloc,
            )
        }
        .map_err(|_| Errno::EFAULT)?;
        // SAFETY: `entry` is this mm's level-3 entry for `page`, read under its lock.
        let desc = crate::arch::pgtable::Descriptor::from_bits(unsafe { entry.read_volatile() });
        if !desc.is_valid() {
            return Err(Errno::EFAULT);
        }
        desc.output_address()
    };
    Ok(FutexKey::Shared {
        phys: phys + (uaddr & (PAGE_SIZE - 1)),
    })
}

/// Read the futex word (Linux's `futex_get_value_locked`).
pub fn get_futex_value(uaddr: u64) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    copy_from_user(&mut b, uaddr)?;
    Ok(u32::from_ne_bytes(b))
}

/// Take `q` off whatever bucket holds it (Linux's `futex_unqueue`). True if it was still
/// queued; false if a waker got there first.
pub fn unqueue(q: &Arc<FutexQ>) -> bool {
    loop {
        let index = q.bucket.load(Ordering::Acquire);
        let mut waiters = bucket(index).waiters.lock();
        // A waker marks `woken` under the lock as it takes the waiter off: no search.
        if q.woken.load(Ordering::Acquire) {
            return false;
        }
        if q.bucket.load(Ordering::Acquire) != index {
            continue; // requeued meanwhile: look in the new bucket
        }
        return match waiters.iter().position(|w| Arc::ptr_eq(&w.q, q)) {
            Some(i) => {
                waiters.remove(i);
                true
            }
            None => false,
        };
    }
}

/// Wake up to `nr_wake` waiters on `key` whose bitset meets `bitset`, oldest first, taking
/// them off `waiters` (Linux's `futex_wake_mark` and `wake_up_q`). Like Linux, 0 still
/// wakes one. One pass, and no allocation, however many wait (a broadcast to thousands of
/// threads, with memory short). The tasks are woken with the bucket lock held (lock order:
/// a bucket, then a run queue). Returns how many.
pub fn mark_woken(waiters: &mut Vec<Waiter>, key: &FutexKey, nr_wake: i32, bitset: u32) -> i32 {
    let limit = nr_wake.max(1);
    let mut woken = 0;
    waiters.retain(|w| {
        if woken >= limit || w.key != *key || w.bitset & bitset == 0 {
            return true;
        }
        w.q.woken.store(true, Ordering::Release);
        wake_up_process(&w.q.task);
        woken += 1;
        false
    });
    woken
}

/// The word of a robust futex: bits Linux defines (`uapi/linux/futex.h`).
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// Most entries walked in a robust list (Linux's `ROBUST_LIST_LIMIT`).
const ROBUST_LIST_LIMIT: usize = 2048;
/// Size of `struct robust_list_head`: list, futex_offset, list_op_pending.
pub const ROBUST_LIST_HEAD_SIZE: u64 = 24;

/// A robust futex whose owner `tid` died: mark it OWNER_DIED and wake a waiter (Linux's
/// `handle_futex_death`).
fn handle_futex_death(uaddr: u64, tid: u32, pi: bool, pending_op: bool) {
    if !uaddr.is_multiple_of(4) {
        return;
    }
    for _ in 0..16 {
        let Ok(uval) = get_futex_value(uaddr) else {
            return;
        };
        // A lock being taken when the thread died, never acquired: wake a waiter so it
        // can try (Linux's "pending_op && !pi && !uval" case).
        if pending_op && !pi && uval == 0 {
            let _ = super::futex_wake_address(uaddr, false, 1, u32::MAX);
            return;
        }
        if uval & FUTEX_TID_MASK != tid {
            return;
        }
        let mval = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        match futex_cmpxchg_user(uaddr, uval, mval) {
            Err(_) => return,
            Ok(found) if found != uval => continue, // changed under us: look again
            Ok(_) => {}
        }
        if !pi && uval & FUTEX_WAITERS != 0 {
            let _ = super::futex_wake_address(uaddr, false, 1, u32::MAX);
        }
        return;
    }
}

fn read_user_u64(addr: u64) -> Option<u64> {
    let mut b = [0u8; 8];
    copy_from_user(&mut b, addr).ok()?;
    Some(u64::from_le_bytes(b))
}

/// Walk the exiting thread's robust list and release every lock it still held (Linux's
/// `exit_robust_list`). Bad pointers end the walk quietly.
pub fn exit_robust_list(tsk: &TaskStruct) {
    let head = tsk.robust_list.swap(0, Ordering::AcqRel);
    if head == 0 {
        return;
    }
    let tid = tsk.pid() as u32;
    let (Some(first), Some(offset), Some(pending)) = (
        read_user_u64(head),
        read_user_u64(head + 8),
        read_user_u64(head + 16),
    ) else {
        return;
    };
    let offset = offset as i64;
    let (pending, pending_pi) = (pending & !1, pending & 1 != 0);
    let mut entry = first;
    for _ in 0..ROBUST_LIST_LIMIT {
        if entry & !1 == head {
            break;
        }
        let (addr, pi) = (entry & !1, entry & 1 != 0);
        let next = read_user_u64(addr);
        if addr != pending {
            handle_futex_death(addr.wrapping_add_signed(offset), tid, pi, false);
        }
        match next {
            Some(next) => entry = next,
            None => return,
        }
    }
    if pending != 0 {
        handle_futex_death(pending.wrapping_add_signed(offset), tid, pending_pi, true);
    }
}
