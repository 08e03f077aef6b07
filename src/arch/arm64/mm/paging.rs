//! The kernel's final page tables (Linux: `arch/arm64/mm/mmu.c`, `paging_init`).
//!
//! `head.S` mapped the image with 2 MiB read-write-execute blocks, enough to reach Rust.
//! `paging_init` builds `swapper_pg_dir`, the tables the kernel keeps:
//!
//! - the linear map of all RAM at `PAGE_OFFSET` (blocks where alignment allows), read-write
//!   and never executable — except the kernel's own text and rodata, whose alias is
//!   read-only, so no writable address reaches kernel code;
//! - the kernel image, page by page and W^X: text RX, rodata R, init RX, data/BSS RW+NX;
//! - the fixmap's L3 tables, shared with the boot tables.
//!
//! It then swaps TTBR1 from the identity map, as Linux's `cpu_replace_ttbr1` does. Tables
//! made before the buddy allocator exists come from a small pool inside the image.

use core::sync::atomic::{AtomicUsize, Ordering};

use aarch64_cpu::registers::{Writeable, TTBR0_EL1};

use crate::arch::fixmap::{fixmap_pmds, PageTable};
use crate::arch::head::{kimage_offset, pa_symbol};
use crate::arch::memory::{phys_to_virt, FIXADDR_START, PAGE_OFFSET, PAGE_SIZE};
use crate::arch::mmu::{self, MapError, MapFlags, TableAllocator};
use crate::arch::mmu_context::{cpu_uninstall_idmap, reserved_pg_dir_pa};
use crate::arch::pgtable::{
    table_index, Descriptor, PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_KERNEL_ROX, PMD_TYPE_TABLE, PTE_PXN,
    PTE_RDONLY,
};
use crate::arch::tlbflush::{flush_tlb_all, flush_tlb_kernel_page};
use crate::kernel::locking::SpinLock;

/// The kernel's top-level table (Linux's `swapper_pg_dir`). `secondary_entry` in
/// `asm/head.S` loads it into TTBR1 when it turns a secondary CPU's MMU on.
pub(crate) static SWAPPER_PG_DIR: PageTable = PageTable::new();

/// Tables for `paging_init`, before the buddy allocator exists.
const EARLY_POOL_PAGES: usize = 48;
static EARLY_POOL: [PageTable; EARLY_POOL_PAGES] = [const { PageTable::new() }; EARLY_POOL_PAGES];
static EARLY_POOL_NEXT: AtomicUsize = AtomicUsize::new(0);

/// The start of the kernel (TTBR1) half of the address space.
const KERNEL_HALF: u64 = 0xffff_0000_0000_0000;

/// Serialises edits of the kernel's tables after boot (vmalloc, ioremap, the heap).
static KERNEL_PGTABLE_LOCK: SpinLock<()> = SpinLock::new(());

extern "C" {
    static _text: u8;
    static _etext: u8;
    static __start_rodata: u8;
    static __end_rodata: u8;
    static __init_begin: u8;
    static __init_end: u8;
    static _sdata: u8;
    static _end: u8;
    static idmap_pg_dir: u8;
    /// asm/head.S: swaps TTBR1 from the identity map.
    fn idmap_cpu_replace_ttbr1(ttbr1: u64, empty: u64);
}

/// Physical address of `swapper_pg_dir`.
pub fn swapper_pg_dir_pa() -> u64 {
    pa_symbol(&SWAPPER_PG_DIR as *const PageTable as u64)
}

/// Tables from the pool in the image (reached through the image's mapping).
struct EarlyAlloc;

impl TableAllocator for EarlyAlloc {
    fn alloc_table(&mut self) -> Option<u64> {
        let i = EARLY_POOL_NEXT.fetch_add(1, Ordering::Relaxed);
        let table = EARLY_POOL.get(i)?;
        Some(pa_symbol(table as *const PageTable as u64))
    }

    fn free_table(&mut self, _pa: u64) {
        // Pool pages are part of the image and are never reused.
    }

    fn table_ptr(&self, pa: u64) -> *mut u64 {
        // Every table paging_init touches (swapper, the pool, the fixmap's) is in the image.
        (pa + kimage_offset()) as *mut u64
    }
}

/// Tables from the buddy allocator, reached through the linear map.
pub struct KernelTableAlloc;

impl TableAllocator for KernelTableAlloc {
    fn alloc_table(&mut self) -> Option<u64> {
        crate::mm::pages::get_zeroed_page()
    }

    fn free_table(&mut self, pa: u64) {
        // Tables paging_init took from the pool inside the image are not the buddy
        // allocator's to take back (unmapping init memory can empty one).
        let pool = pa_symbol(&EARLY_POOL as *const _ as u64);
        if (pool..pool + EARLY_POOL_PAGES as u64 * PAGE_SIZE).contains(&pa) {
            return;
        }
        crate::mm::pages::free_pages(pa, 0);
    }

    fn table_ptr(&self, pa: u64) -> *mut u64 {
        // Tables of the image (swapper, the pool, the fixmap's) are in RAM too, so the linear
        // map reaches them as well as everything the buddy allocator hands out.
        phys_to_virt(pa) as *mut u64
    }
}

fn map_or_panic(va: u64, pa: u64, size: u64, prot: u64, blocks: bool, what: &str) {
    let root = swapper_pg_dir_pa();
    let flags = MapFlags {
        allow_blocks: blocks,
    };
    // SAFETY: swapper_pg_dir is not live yet (TTBR1 still holds the boot tables) and only
    // paging_init, on the boot CPU with interrupts masked, touches it; EarlyAlloc hands out
    // zeroed pool pages reachable through the image mapping.
    if let Err(e) = unsafe { mmu::map_range(root, va, pa, size, prot, flags, &mut EarlyAlloc) } {
        panic!("paging_init: cannot map {what} {va:#x}+{size:#x}: {e:?}");
    }
}

/// Map one range of the kernel image at its link address.
fn map_kernel_segment(start: u64, end: u64, prot: u64, what: &str) {
    if end > start {
        map_or_panic(start, pa_symbol(start), end - start, prot, false, what);
    }
}

/// Hook the fixmap's L3 tables into swapper's L2 table for the image slot.
fn map_fixmap() {
    let root = swapper_pg_dir_pa();
    let alloc = EarlyAlloc;
    let mut table = root;
    for level in 0..2 {
        let entry = alloc
            .table_ptr(table)
            .wrapping_add(table_index(FIXADDR_START, level));
        // SAFETY: `table` is a table of swapper_pg_dir reached through the image mapping;
        // map_kernel created the levels down to L2 for the image slot, which the fixmap shares.
        let desc = Descriptor::from_bits(unsafe { entry.read_volatile() });
        assert!(
            desc.is_table(level),
            "paging_init: no L{} table above the fixmap",
            level + 1
        );
        table = desc.output_address();
    }
    let l2 = alloc.table_ptr(table);
    for (index, desc) in fixmap_pmds() {
        // SAFETY: `l2` is the image slot's L2 table; the fixmap's entries are unused by the
        // image (the linker script keeps the image below FIXADDR_START).
        unsafe { l2.add(index).write_volatile(desc) };
    }
    debug_assert_eq!(fixmap_pmds()[0].1 & 3, PMD_TYPE_TABLE);
}

/// Linux's `paging_init`: build swapper_pg_dir and switch to it.
pub fn paging_init() {
    let (text, etext) = (&raw const _text as u64, &raw const _etext as u64);
    let (rodata, erodata) = (
        &raw const __start_rodata as u64,
        &raw const __end_rodata as u64,
    );
    let (init, einit) = (&raw const __init_begin as u64, &raw const __init_end as u64);
    let (data, end) = (&raw const _sdata as u64, &raw const _end as u64);

    // The linear map, with the kernel's text+rodata alias read-only.
    let (ro_start, ro_end) = (pa_symbol(text) & !(PAGE_SIZE - 1), pa_symbol(erodata));
    let mb = crate::arch::mm_init::MEMBLOCK.lock();
    for region in mb.memory.regions() {
        let (start, stop) = (region.base, region.end());
        let map = |a: u64, b: u64, prot: u64, blocks| {
            if b > a {
                map_or_panic(phys_to_virt(a), a, b - a, prot, blocks, "linear map");
            }
        };
        if ro_end <= start || ro_start >= stop {
            map(start, stop, PAGE_KERNEL.bits(), true);
        } else {
            map(start, ro_start.max(start), PAGE_KERNEL.bits(), true);
            map(
                ro_start.max(start),
                ro_end.min(stop),
                PAGE_KERNEL_RO.bits(),
                false,
            );
            map(ro_end.min(stop), stop, PAGE_KERNEL.bits(), true);
        }
    }
    drop(mb);

    // The kernel image, W^X (Linux's map_kernel).
    map_kernel_segment(text, etext, PAGE_KERNEL_ROX.bits(), "text");
    map_kernel_segment(rodata, erodata, PAGE_KERNEL_RO.bits(), "rodata");
    map_kernel_segment(init, einit, PAGE_KERNEL_ROX.bits(), "init");
    map_kernel_segment(data, end, PAGE_KERNEL.bits(), "data");
    map_fixmap();

    cpu_replace_ttbr1(swapper_pg_dir_pa());
    log::info!(
        "paging_init: swapper_pg_dir at {:#x}, {} early tables, linear map at {:#x}",
        swapper_pg_dir_pa(),
        EARLY_POOL_NEXT
            .load(Ordering::Relaxed)
            .min(EARLY_POOL_PAGES),
        PAGE_OFFSET
    );
}

/// Switch TTBR1 to `pgd_pa` from the identity map (Linux's `cpu_replace_ttbr1`).
pub fn cpu_replace_ttbr1(pgd_pa: u64) {
    let flags = crate::arch::irqflags::local_irq_save();
    let idmap = pa_symbol(&raw const idmap_pg_dir as u64);
    TTBR0_EL1.set(idmap);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    let entry = pa_symbol(idmap_cpu_replace_ttbr1 as *const () as u64);
    // SAFETY: TTBR0 now holds the identity map, which maps the image (so `entry`, the
    // routine's physical address, is executable at that address). The routine touches no
    // memory and no stack while TTBR1 changes, and returns to our (virtual) caller, which
    // the new tables map at the same address.
    unsafe {
        let f: extern "C" fn(u64, u64) = core::mem::transmute(entry as usize);
        f(pgd_pa, reserved_pg_dir_pa());
    }
    cpu_uninstall_idmap();
    crate::arch::irqflags::local_irq_restore(flags);
}

/// Map one kernel page at `va` (vmalloc area, heap, ioremap).
pub fn map_kernel_page(
    va: u64,
    pa: u64,
    prot: crate::arch::pgtable::PageProt,
) -> Result<(), MapError> {
    let _guard = KERNEL_PGTABLE_LOCK.lock();
    let root = swapper_pg_dir_pa();
    // SAFETY: the kernel-table lock is held; map_range refuses to replace a live mapping, so
    // the new page only becomes reachable at an address nobody used.
    let r = unsafe {
        mmu::map_range(
            root,
            va,
            pa,
            PAGE_SIZE,
            prot.bits(),
            MapFlags::PAGES,
            &mut KernelTableAlloc,
        )
    };
    // A new entry replaces an invalid one: no TLB entry can exist; just publish it.
    // SAFETY: barriers only.
    unsafe { core::arch::asm!("dsb ishst", "isb", options(nostack)) };
    r
}

/// Unmap kernel pages in `[va, va + size)`, calling `on_page` with each physical page.
pub fn unmap_kernel_range(va: u64, size: u64, on_page: &mut dyn FnMut(u64)) {
    let _guard = KERNEL_PGTABLE_LOCK.lock();
    let root = swapper_pg_dir_pa();
    let mut pages = |leaf_va: u64, desc: Descriptor| {
        flush_tlb_kernel_page(leaf_va);
        on_page(desc.output_address());
    };
    let mut tables = DeferredTableFree::default();
    // SAFETY: the kernel-table lock is held; the caller owns the range being unmapped and
    // stops using it (each page's TLB entry is flushed before the page is handed back).
    if let Err(e) = unsafe { mmu::unmap_range(root, va, size, &mut tables, &mut pages) } {
        log::error!("unmap_kernel_range {va:#x}+{size:#x}: {e:?}");
    }
    tables.flush_and_free();
}

/// Table pages an unmap emptied, held until every CPU's walk cache has forgotten them: the
/// leaf flushes came before the table entries were cleared, so a walker may have cached
/// them again meanwhile (the contract in `mmu`'s "What the caller does"). Kept in a fixed
/// array: allocating here could recurse into the kernel tables' lock.
#[derive(Default)]
struct DeferredTableFree {
    pending: [u64; 8],
    len: usize,
}

impl DeferredTableFree {
    /// Invalidate every cached walk, then free the tables.
    fn flush_and_free(&mut self) {
        if self.len == 0 {
            return;
        }
        flush_tlb_all();
        for &pa in &self.pending[..self.len] {
            KernelTableAlloc.free_table(pa);
        }
        self.len = 0;
    }
}

impl TableAllocator for DeferredTableFree {
    fn alloc_table(&mut self) -> Option<u64> {
        KernelTableAlloc.alloc_table()
    }

    fn free_table(&mut self, pa: u64) {
        if self.len == self.pending.len() {
            self.flush_and_free();
        }
        self.pending[self.len] = pa;
        self.len += 1;
    }

    fn table_ptr(&self, pa: u64) -> *mut u64 {
        KernelTableAlloc.table_ptr(pa)
    }
}

/// Rewrite the attributes of the kernel pages in `[va, va + size)` and flush the TLB.
pub fn change_kernel_prot(va: u64, size: u64, f: &mut dyn FnMut(Descriptor) -> Descriptor) {
    let _guard = KERNEL_PGTABLE_LOCK.lock();
    // SAFETY: the kernel-table lock is held; the caller knows what the new permissions
    // mean for the code using the range.
    let _ = unsafe { mmu::change_prot(swapper_pg_dir_pa(), va, size, f, &KernelTableAlloc) };
    flush_tlb_all();
}

/// Linux's `ptdump_check_wx`: count kernel mappings both writable and executable at EL1.
pub fn ptdump_check_wx() -> usize {
    let _guard = KERNEL_PGTABLE_LOCK.lock();
    let mut wx = 0;
    let mut count = |_: u64, d: &mut Descriptor| {
        if d.bits() & PTE_RDONLY == 0 && d.bits() & PTE_PXN == 0 {
            wx += 1;
        }
    };
    // SAFETY: the kernel-table lock is held, and `count` changes no descriptor.
    unsafe {
        mmu::for_each_leaf(
            swapper_pg_dir_pa(),
            KERNEL_HALF,
            0,
            &KernelTableAlloc,
            &mut count,
        )
    };
    wx
}

/// Print the kernel page tables (the `ptdump` bootarg; Linux's kernel_page_tables file).
pub fn ptdump(out: &mut dyn core::fmt::Write) {
    let _guard = KERNEL_PGTABLE_LOCK.lock();
    // SAFETY: the kernel-table lock is held; dump only reads.
    let _ = unsafe { mmu::dump(swapper_pg_dir_pa(), KERNEL_HALF, 0, &KernelTableAlloc, out) };
}
