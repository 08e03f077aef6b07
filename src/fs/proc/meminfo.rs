//! `/proc/meminfo` and `/proc/vmstat`: where memory is (Linux: `fs/proc/meminfo.c`,
//! `mm/vmstat.c`).
//!
//! Each line is a 16-column label and an 8-column number of kB (Linux's `show_val_kb`).
//! `Cached` is the page cache (`mm::filemap`), all of it `Shmem` (ramfs and tmpfs files and
//! shared anonymous memory, which cannot be dropped); `Mapped` the cache pages processes
//! map; `AnonPages` processes' anonymous pages. Cradle has no block devices (`Buffers` is 0),
//! swap or slab statistics; every page in use that is not cache counts as active anonymous
//! memory, and all free memory is available.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::arch::memory::{PAGE_SIZE, THREAD_SIZE};
use crate::kernel::errno::Errno;
use crate::kernel::pid::for_each_task;
use crate::mm::pages::{nr_free_pages, totalram_pages};

/// Append `label` (with its colon) and `pages` in kB (Linux's `show_val_kb`).
fn show_val_kb(s: &mut String, label: &str, pages: u64) {
    let _ = writeln!(s, "{label:<16}{:>8} kB", pages * (PAGE_SIZE / 1024));
}

/// The text of `/proc/meminfo` (Linux's `meminfo_proc_show`).
pub fn proc_meminfo() -> Result<Vec<u8>, Errno> {
    let total = totalram_pages();
    let free = nr_free_pages().min(total);
    let used = total - free;
    let cached = crate::mm::filemap::nr_file_pages().min(used);
    let shmem = crate::mm::filemap::nr_shmem();
    let anon = crate::mm::pages::nr_anon_pages();
    let mapped = crate::mm::pages::nr_file_mapped();
    let mut tasks = 0u64;
    for_each_task(|_| tasks += 1);
    let kernel_stack_pages = tasks * THREAD_SIZE as u64 / PAGE_SIZE;
    let mut s = String::new();
    for (label, pages) in [
        ("MemTotal:", total),
        ("MemFree:", free),
        ("MemAvailable:", free),
        ("Buffers:", 0),
        ("Cached:", cached),
        ("SwapCached:", 0),
        ("Active:", used),
        ("Inactive:", 0),
        ("Active(anon):", used - cached + shmem.min(cached)),
        ("Inactive(anon):", 0),
        ("Active(file):", cached - shmem.min(cached)),
        ("Inactive(file):", 0),
        ("Unevictable:", 0),
        ("Mlocked:", 0),
        ("SwapTotal:", 0),
        ("SwapFree:", 0),
        ("Dirty:", 0),
        ("Writeback:", 0),
        ("AnonPages:", anon),
        ("Mapped:", mapped),
        ("Shmem:", shmem),
        ("KReclaimable:", 0),
        ("Slab:", 0),
        ("SReclaimable:", 0),
        ("SUnreclaim:", 0),
        ("KernelStack:", kernel_stack_pages),
        ("PageTables:", 0),
        ("NFS_Unstable:", 0),
        ("Bounce:", 0),
        ("WritebackTmp:", 0),
        ("CommitLimit:", total / 2),
        ("Committed_AS:", used),
        ("VmallocTotal:", 0),
        ("VmallocUsed:", 0),
        ("VmallocChunk:", 0),
        ("Percpu:", 0),
    ] {
        show_val_kb(&mut s, label, pages);
    }
    Ok(s.into_bytes())
}

/// `/proc/vmstat` (Linux's `mm/vmstat.c` `vmstat_show`): the counters Cradle keeps, under
/// Linux's names, and zeros for the paging and swapping ones it has no cause to count
/// (`vmstat`, `free` and `top` read them).
pub fn proc_vmstat() -> Result<Vec<u8>, Errno> {
    let mut s = String::new();
    let counters = [
        ("nr_free_pages", nr_free_pages()),
        ("nr_file_pages", crate::mm::filemap::nr_file_pages()),
        ("nr_shmem", crate::mm::filemap::nr_shmem()),
        ("nr_mapped", crate::mm::pages::nr_file_mapped()),
        ("pgpgin", 0),
        ("pgpgout", 0),
        ("pswpin", 0),
        ("pswpout", 0),
        ("pgfault", 0),
        ("pgmajfault", 0),
    ];
    for (name, value) in counters {
        let _ = writeln!(s, "{name} {value}");
    }
    Ok(s.into_bytes())
}
