//! The out-of-memory killer (Linux: `mm/oom_kill.c`).
//!
//! When a page fault cannot get a page (a copy-on-write break, a touched anonymous page,
//! stack growth, brk memory), `out_of_memory` picks the user process whose death frees the
//! most memory (`oom_badness`: its resident pages), prints Linux's line
//!
//! ```text
//! Out of memory: Killed process N (name) total-vm:...kB, anon-rss:...kB, file-rss:0kB, ...
//! ```
//!
//! and sends it SIGKILL. The faulting task then retries its fault. Kernel threads are never
//! chosen, nor PID 1 unless it is the only candidate. While a victim is still dying (it has
//! SIGKILL pending or is exiting with its memory), no second one is chosen: its pages are
//! about to come back (Linux's `oom_evaluate_task` aborting on an OOM victim).

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use crate::arch::memory::PAGE_SIZE;
use crate::arch::mmu;
use crate::arch::paging::KernelTableAlloc;
use crate::kernel::pid::TASKLIST;
use crate::kernel::signal::{fatal_signal_pending, send_signal_kernel, sig::SIGKILL};
use crate::kernel::task::{TaskRef, PF_EXITING};
use crate::mm::mm_types::MmStruct;

/// An address space's size and resident pages: (total_vm, rss), in pages.
pub fn mm_pages(mm: &MmStruct) -> (u64, u64) {
    let inner = mm.inner.lock();
    let (mut total, mut rss) = (0, 0);
    for vma in inner.vmas.iter() {
        total += vma.len() / PAGE_SIZE;
        // SAFETY: `inner` is held, so no one edits these tables; the callback only counts.
        // VMA bounds are page aligned and below TASK_SIZE.
        unsafe {
            mmu::for_each_leaf(
                mm.pgd,
                vma.start,
                vma.end,
                &KernelTableAlloc,
                &mut |_, _| rss += 1,
            )
        };
    }
    (total, rss)
}

/// Kill the process whose memory helps most (Linux's `out_of_memory`). Returns false if
/// there was nothing to kill.
pub fn out_of_memory() -> bool {
    let tasks: Vec<TaskRef> = TASKLIST.lock().iter().cloned().collect();
    let mut best: Option<(&TaskRef, u64, u64)> = None;
    let mut init = None;
    for task in &tasks {
        if task.is_kthread() {
            continue;
        }
        let Some(mm) = task.mm() else { continue };
        let dying =
            fatal_signal_pending(task) || task.flags.load(Ordering::Relaxed) & PF_EXITING != 0;
        if dying {
            return true; // a victim is on its way out: wait for its memory
        }
        let (total, rss) = mm_pages(&mm);
        if task.pid() == 1 {
            init = Some((task, total, rss));
            continue;
        }
        if best.is_none_or(|(_, _, r)| rss > r) {
            best = Some((task, total, rss));
        }
    }
    let Some((victim, total, rss)) = best.or(init) else {
        return false;
    };
    let kb = PAGE_SIZE / 1024;
    log::error!(
        "Out of memory: Killed process {} ({}) total-vm:{}kB, anon-rss:{}kB, file-rss:0kB, \
         shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0",
        victim.pid(),
        victim.comm(),
        total * kb,
        rss * kb
    );
    send_signal_kernel(victim, SIGKILL);
    true
}
