//! Batched unmapping: entries cleared now, the TLB flushed once per batch, pages and tables
//! freed only after that flush (Linux: `mm/mmu_gather.c`, `include/asm-generic/tlb.h`,
//! `arch/arm64/include/asm/tlb.h`).
//!
//! No page or page table is freed while a CPU's TLB or walk cache could still point into it.
//! The pages an unmap releases are queued in a [`PageGather`] after their entries are
//! cleared, and the tables it frees in a [`TableGather`] (the [`TableAllocator`] the walk uses, Linux's
//! `tlb_remove_table`). A full page batch is flushed with one barrier for its whole range
//! and then freed; at the end, [`tlb_finish`] flushes what is left — walk-cache entries
//! included if tables went — and only then frees the rest.

use crate::arch::memory::PAGE_SIZE;
use crate::arch::mmu::TableAllocator;
use crate::arch::paging::KernelTableAlloc;
use crate::arch::tlbflush::{flush_tlb_mm, flush_tlb_range};
use crate::mm::pages::put_page;

use core::mem::MaybeUninit;
use core::sync::atomic::AtomicU64;

/// How many pages one batch holds: a table's worth, so that unmapping up to 1 MiB is one
/// flush (Linux's batch is a page of pointers; 2 KiB of stack, left uninitialised).
const PAGE_BATCH: usize = 256;
/// How many freed tables one batch holds.
const TABLE_BATCH: usize = 16;

/// Pages unmapped from an address space (named by its context id, whose ASID the flush
/// reads at flush time) but not yet freed.
///
/// # Invariants
///
/// The first `nr` entries of `pages` are pages whose entries were cleared, mapped somewhere
/// in `[start, end)`; none may be reused before a TLB flush of that range.
pub struct PageGather<'a> {
    context: &'a AtomicU64,
    start: u64,
    end: u64,
    pages: [MaybeUninit<u64>; PAGE_BATCH],
    nr: usize,
}

impl<'a> PageGather<'a> {
    /// An empty gather for the address space whose context id is `context` (Linux's
    /// `tlb_gather_mmu`).
    pub fn new(context: &'a AtomicU64) -> PageGather<'a> {
        PageGather {
            context,
            start: 0,
            end: 0,
            pages: [const { MaybeUninit::uninit() }; PAGE_BATCH],
            nr: 0,
        }
    }

    /// Queue page `pa`, whose entry for `va` was just cleared (Linux's `tlb_remove_page`).
    /// Pages come in address order, as the unmap walk visits them.
    pub fn remove_page(&mut self, va: u64, pa: u64) {
        if self.nr == PAGE_BATCH {
            self.flush();
        }
        if self.nr == 0 {
            self.start = va;
        }
        self.end = va + PAGE_SIZE;
        self.pages[self.nr].write(pa);
        self.nr += 1;
    }

    /// Flush the leaf entries of the batch's range, then free its pages (Linux's
    /// `tlb_flush_mmu`).
    fn flush(&mut self) {
        flush_tlb_range(self.context, self.start, self.end, true);
        self.free();
    }

    fn free(&mut self) {
        for pa in &self.pages[..self.nr] {
            // SAFETY: the first `nr` entries were written by `remove_page`.
            put_page(unsafe { pa.assume_init() });
        }
        self.nr = 0;
    }
}

/// Page tables an unmap walk unlinked but that may still be in walk caches: the walk's
/// [`TableAllocator`], which hands out new tables as usual and queues freed ones.
///
/// # Invariants
///
/// The first `nr` entries of `tables` are unlinked tables of the address space whose
/// context id is `context`; none may be reused before its walk-cache entries are
/// invalidated.
pub struct TableGather<'a> {
    context: &'a AtomicU64,
    tables: [u64; TABLE_BATCH],
    nr: usize,
}

impl<'a> TableGather<'a> {
    /// An empty gather for the address space whose context id is `context`.
    pub fn new(context: &'a AtomicU64) -> TableGather<'a> {
        TableGather {
            context,
            tables: [0; TABLE_BATCH],
            nr: 0,
        }
    }

    fn free(&mut self) {
        for &pa in &self.tables[..self.nr] {
            KernelTableAlloc.free_table(pa);
        }
        self.nr = 0;
    }
}

impl TableAllocator for TableGather<'_> {
    fn alloc_table(&mut self) -> Option<u64> {
        KernelTableAlloc.alloc_table()
    }

    fn free_table(&mut self, pa: u64) {
        if self.nr == TABLE_BATCH {
            // Rare (16 tables in one unmap): where they were is not recorded, so the whole
            // ASID goes.
            flush_tlb_mm(self.context);
            self.free();
        }
        self.tables[self.nr] = pa;
        self.nr += 1;
    }

    fn table_ptr(&self, pa: u64) -> *mut u64 {
        KernelTableAlloc.table_ptr(pa)
    }
}

/// End an unmap of `[start, end)` (Linux's `tlb_finish_mmu`): invalidate what is left —
/// the batch's leaf entries, or, if tables were freed, every entry of the range, walk
/// caches included — then free the remaining pages and tables.
pub fn tlb_finish(pages: &mut PageGather<'_>, tables: &mut TableGather<'_>, start: u64, end: u64) {
    if tables.nr > 0 {
        // A freed table's walk-cache entries are found by any address it translated; the
        // whole unmapped range holds them all.
        flush_tlb_range(pages.context, start, end, false);
    } else if pages.nr > 0 {
        flush_tlb_range(pages.context, pages.start, pages.end, true);
    }
    pages.free();
    tables.free();
}
