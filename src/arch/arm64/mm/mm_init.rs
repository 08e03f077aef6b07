//! Physical memory from the device tree into memblock (Linux: `arch/arm64/mm/init.c`,
//! `arm64_memblock_init`, and `drivers/of/fdt.c`, `early_init_dt_scan_memory`).
//!
//! RAM is every `memory` node's `reg` (size-0 entries ignored: the Pi 4's DTB has one until
//! the firmware fills it in). Reserved out of it: `/memreserve/` entries, `/reserved-memory`
//! children, the kernel image, the DTB, and the initrd named by `/chosen`.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::head::pa_symbol;
use crate::arch::setup::{fdt, fdt_phys_range};
use crate::kernel::locking::SpinLock;
use crate::kernel::params;
use crate::mm::memblock::Memblock;

/// Linux's `memblock`: the boot-time physical memory map. Retired by `mem_init`, which
/// hands every free range to the buddy allocator.
pub static MEMBLOCK: SpinLock<Memblock> = SpinLock::new(Memblock::new());

/// Where the initrd is (start, end), or (0, 0).
static INITRD: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

extern "C" {
    static _text: u8;
    static _end: u8;
}

/// The initrd's physical range `[start, end)`, if the DT names one.
pub fn initrd_range() -> Option<(u64, u64)> {
    let (start, end) = (
        INITRD[0].load(Ordering::Relaxed),
        INITRD[1].load(Ordering::Relaxed),
    );
    (end > start).then_some((start, end))
}

/// Read a `/chosen` property holding one cell or two (`linux,initrd-start` may be either).
fn chosen_u64(fdt: &fdt::Fdt<'_>, name: &str) -> Option<u64> {
    let value = fdt.find_node("/chosen")?.property(name)?.value;
    match value.len() {
        4 => Some(u32::from_be_bytes(value.try_into().ok()?) as u64),
        8 => Some(u64::from_be_bytes(value.try_into().ok()?)),
        _ => None,
    }
}

/// Fill memblock from the device tree and reserve what is in use
/// (Linux's `early_init_dt_scan_memory` + `arm64_memblock_init`).
pub fn arm64_memblock_init(cmdline: &str) {
    let Some(fdt) = fdt() else { return };
    let mut mb = MEMBLOCK.lock();
    for node in fdt.all_nodes() {
        let is_memory = node.property("device_type").and_then(|p| p.as_str()) == Some("memory");
        if !is_memory {
            continue;
        }
        let Ok(reg) = crate::of::address::node_reg(&fdt, node) else {
            continue;
        };
        for entry in reg {
            match entry {
                Ok((base, size)) if size > 0 => {
                    if let Err(e) = mb.add(base, size) {
                        log::warn!("memblock: cannot add {base:#x}+{size:#x}: {e:?}");
                    }
                }
                Ok(_) => {}
                Err(e) => log::warn!("of: bad memory reg in {}: {e:?}", node.name),
            }
        }
    }

    // mem=: use no more RAM than this (Linux's `mem=` early parameter).
    if let Some(limit) = params::get(cmdline, "mem")
        .flatten()
        .and_then(params::memparse)
    {
        if let Some(start) = mb.start_of_dram() {
            let _ = mb.remove(
                start.saturating_add(limit),
                u64::MAX - start.saturating_add(limit),
            );
        }
    }

    for rsv in fdt.memory_reservations() {
        let _ = mb.reserve(rsv.address() as u64, rsv.size() as u64);
    }
    if let Some(node) = fdt.find_node("/reserved-memory") {
        for child in node.children() {
            let Ok(reg) = crate::of::address::node_reg(&fdt, child) else {
                continue;
            };
            for (base, size) in reg.flatten() {
                let _ = mb.reserve(base, size);
            }
        }
    }

    // The kernel image, BSS and early page tables included.
    let (text, end) = (
        pa_symbol(&raw const _text as u64),
        pa_symbol(&raw const _end as u64),
    );
    let _ = mb.reserve(text, end - text);
    let (dtb, dtb_size) = fdt_phys_range();
    let _ = mb.reserve(dtb, dtb_size);
    if let (Some(start), Some(end)) = (
        chosen_u64(&fdt, "linux,initrd-start"),
        chosen_u64(&fdt, "linux,initrd-end"),
    ) {
        if end > start {
            INITRD[0].store(start, Ordering::Relaxed);
            INITRD[1].store(end, Ordering::Relaxed);
            let _ = mb.reserve(start, end - start);
        }
    }
}

/// Linux's `mem_init_print_info`: the `Memory:` line. `avail` is what the buddy allocator
/// got; `reserved` is the rest of RAM (kernel, DTB, initrd, page metadata, firmware).
pub fn mem_init_print_info() {
    extern "C" {
        static _stext: u8;
        static _etext: u8;
        static __start_rodata: u8;
        static __end_rodata: u8;
        static __init_begin: u8;
        static __init_end: u8;
        static _sdata: u8;
        static _edata: u8;
        static __bss_start: u8;
        static __bss_stop: u8;
    }
    let span = |a: *const u8, b: *const u8| (b as u64 - a as u64) >> 10;
    let codesize = span(&raw const _stext, &raw const _etext);
    let rosize = span(&raw const __start_rodata, &raw const __end_rodata);
    let initsize = span(&raw const __init_begin, &raw const __init_end);
    let datasize = span(&raw const _sdata, &raw const _edata);
    let bsssize = span(&raw const __bss_start, &raw const __bss_stop);
    let physpages = MEMBLOCK.lock().phys_mem_size() >> 12;
    let avail = crate::mm::pages::nr_free_pages();
    log::info!(
        "Memory: {}K/{}K available ({codesize}K kernel code, {datasize}K rwdata, {rosize}K \
         rodata, {initsize}K init, {bsssize}K bss, {}K reserved)",
        avail << 2,
        physpages << 2,
        (physpages - avail) << 2
    );
}

/// Linux's `mm_init` (the memory part of `start_kernel`): the buddy allocator, the Memory:
/// line, the heap.
pub fn mm_init() {
    crate::mm::pages::mem_init();
    mem_init_print_info();
    crate::mm::heap::heap_init();
}

/// Linux's `free_initmem`: the code and data only boot needed (`.init.*`) are unmapped from
/// the kernel image and handed to the page allocator.
pub fn free_initmem() {
    extern "C" {
        static __init_begin: u8;
        static __init_end: u8;
    }
    let (start, end) = (&raw const __init_begin as u64, &raw const __init_end as u64);
    if end <= start {
        return;
    }
    crate::arch::paging::unmap_kernel_range(start, end - start, &mut |_| {});
    let pages = crate::mm::pages::free_reserved_area(pa_symbol(start), pa_symbol(end));
    log::info!("Freeing unused kernel memory: {}K", pages * 4);
}
