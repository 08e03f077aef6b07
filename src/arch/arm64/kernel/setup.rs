//! `setup_arch`: learn the machine from the device tree (Linux: `arch/arm64/kernel/setup.c`).
//!
//! The DTB is mapped through the fixmap, checked byte by byte before anything trusts it
//! (`of::validate`), and kept for the life of the kernel. From it come the machine model,
//! the command line, the console, and (later) memory and devices.

use core::sync::atomic::{AtomicU64, Ordering};

use aarch64_cpu::registers::{Readable, MIDR_EL1, MPIDR_EL1};
use fdt::Fdt;

use super::head;
use crate::arch::fixmap::{self, set_fixmap, slot, MAX_FDT_SIZE};
use crate::arch::memory::PAGE_SIZE;
use crate::kernel::locking::InitOnce;
use crate::of::validate::{check_fdt, header_totalsize, remove_nops};

/// The device tree, checked and mapped (Linux's `initial_boot_params`).
static INITIAL_BOOT_PARAMS: InitOnce<&'static [u8]> = InitOnce::new();
/// Where the DTB is in physical memory and how big, for memblock to reserve.
static FDT_PHYS: AtomicU64 = AtomicU64::new(0);
static FDT_SIZE: AtomicU64 = AtomicU64::new(0);

/// The MPIDR affinity bits that name a CPU (Linux: MPIDR_HWID_BITMASK).
pub const MPIDR_HWID_BITMASK: u64 = 0xff_00ff_ffff;

/// The boot CPU's hardware ID.
static BOOT_CPU_HWID: AtomicU64 = AtomicU64::new(0);

/// Linux's `smp_setup_processor_id`: the boot CPU is logical CPU 0; say which it is.
pub fn smp_setup_processor_id() {
    let mpidr = MPIDR_EL1.get() & MPIDR_HWID_BITMASK;
    BOOT_CPU_HWID.store(mpidr, Ordering::Relaxed);
    crate::arch::percpu::init_this_cpu(0, &crate::init::init_task::init_task);
    log::info!(
        "Booting Cradle on physical CPU {:#012x} [{:#010x}]",
        mpidr,
        MIDR_EL1.get()
    );
}

/// Why the device tree could not be used.
#[derive(Debug)]
pub enum FdtMapError {
    /// x0 was 0 or not 8-byte aligned.
    BadPointer(u64),
    /// The header's size is not believable.
    BadSize(u64),
    /// The blob failed validation.
    Invalid(crate::of::validate::FdtError),
}

/// Map the DTB at `pa` through the fixmap and check it (Linux's `fixmap_remap_fdt` and
/// `setup_machine_fdt`).
fn fixmap_remap_fdt(pa: u64) -> Result<&'static [u8], FdtMapError> {
    if pa == 0 || !pa.is_multiple_of(8) {
        return Err(FdtMapError::BadPointer(pa));
    }
    let prot = fixmap::FIXMAP_PAGE_RO;
    let page = pa & !(PAGE_SIZE - 1);
    let offset = (pa - page) as usize;
    // The header is 40 bytes; map two pages so it is whole even at a page's end.
    set_fixmap(slot::FIX_FDT, page, prot);
    set_fixmap(slot::FIX_FDT + 1, page + PAGE_SIZE, prot);
    let va = fixmap::fix_to_virt(slot::FIX_FDT) as usize + offset;
    // SAFETY: the two pages at va - offset are mapped just above; 40 bytes from `offset`
    // lie within them.
    let header = unsafe { core::slice::from_raw_parts(va as *const u8, 40) };
    let size = header_totalsize(header).ok_or(FdtMapError::BadSize(0))?;
    if !(40..=MAX_FDT_SIZE).contains(&size) {
        return Err(FdtMapError::BadSize(size as u64));
    }
    let pages = (offset + size).div_ceil(PAGE_SIZE as usize);
    // Writable while the NOPs loaders leave behind are packed away, then read-only.
    for i in 0..pages {
        set_fixmap(
            slot::FIX_FDT + i,
            page + i as u64 * PAGE_SIZE,
            fixmap::FIXMAP_PAGE_NORMAL,
        );
    }
    // SAFETY: `pages` pages from FIX_FDT map the blob, which the loader handed to us; nothing
    // else refers to it while it is packed.
    let blob = unsafe { core::slice::from_raw_parts_mut(va as *mut u8, size) };
    let removed = remove_nops(blob).map_err(FdtMapError::Invalid)?;
    for i in 0..pages {
        set_fixmap(slot::FIX_FDT + i, page + i as u64 * PAGE_SIZE, prot);
    }
    // SAFETY: as above, read-only from here on and never unmapped.
    let blob = unsafe { core::slice::from_raw_parts(va as *const u8, size) };
    if removed > 0 {
        log::debug!("of: packed {removed} FDT_NOP tokens out of the device tree");
    }
    check_fdt(blob).map_err(FdtMapError::Invalid)?;
    FDT_PHYS.store(pa, Ordering::Relaxed);
    FDT_SIZE.store(size as u64, Ordering::Relaxed);
    Ok(blob)
}

/// The device tree, once `setup_arch` has checked it.
pub fn fdt() -> Option<Fdt<'static>> {
    Fdt::new(INITIAL_BOOT_PARAMS.get()?).ok()
}

/// Physical range of the DTB (start, size), for memblock.
pub fn fdt_phys_range() -> (u64, u64) {
    (
        FDT_PHYS.load(Ordering::Relaxed),
        FDT_SIZE.load(Ordering::Relaxed),
    )
}

/// A string property of the node at `path`, for the life of the kernel.
fn string_property(path: &str, name: &str) -> Option<&'static str> {
    let fdt = fdt()?;
    let node = fdt.find_node(path)?;
    let value: &'static [u8] = node.property(name)?.value;
    let value = value.split(|&b| b == 0).next()?;
    core::str::from_utf8(value).ok()
}

/// The root node's `model` (or first `compatible`), for "Machine model:" and oopses.
pub fn machine_model() -> Option<&'static str> {
    string_property("/", "model").or_else(|| string_property("/", "compatible"))
}

/// The kernel command line from `/chosen/bootargs` ("" when there is none).
pub fn boot_command_line() -> &'static str {
    string_property("/chosen", "bootargs").unwrap_or("")
}

/// Linux's `setup_arch`. Returns the command line.
pub fn setup_arch() -> &'static str {
    fixmap::early_fixmap_init();
    crate::arch::mmu_context::cpu_uninstall_idmap();

    let args = head::loader_args();
    match fixmap_remap_fdt(head::fdt_pointer()) {
        Ok(blob) => {
            let _ = INITIAL_BOOT_PARAMS.set(blob);
        }
        Err(err) => {
            // Without a device tree there is no console to say so and no way to power off:
            // log it for a debugger and stop, as Linux does.
            log::error!(
                "Error: invalid device tree blob at physical address {:#x}: {:?}. \
                 The dtb must be 8-byte aligned and must not exceed 3 MB in size. \
                 Please check your bootloader.",
                head::fdt_pointer(),
                err
            );
            crate::arch::cpu::halt();
        }
    }
    if args[1..].iter().any(|&a| a != 0) {
        log::warn!(
            "WARNING: x1-x3 nonzero in violation of boot protocol: x1: {:016x} x2: {:016x} \
             x3: {:016x}. This indicates a broken bootloader or old kernel",
            args[1],
            args[2],
            args[3]
        );
    }
    if let Some(model) = machine_model() {
        log::info!("Machine model: {model}");
    }

    let cmdline = boot_command_line();
    crate::init::main::parse_early_param(cmdline);
    crate::drivers::tty::serial::console_init_from_dt();
    crate::drivers::firmware::firmware_init();
    crate::arch::mm_init::arm64_memblock_init(cmdline);
    crate::arch::paging::paging_init();
    crate::arch::smp::smp_init_cpus(cmdline);
    cmdline
}

mod kunit_tests {
    use crate::kunit::Test;
    use crate::{kunit_assert, kunit_expect, kunit_test_suite};

    fn device_tree_is_checked_and_kept(test: &mut Test) {
        let fdt = super::fdt();
        kunit_assert!(test, fdt.is_some(), "no device tree after setup_arch");
        let (pa, size) = super::fdt_phys_range();
        kunit_expect!(test, pa == crate::arch::head::fdt_pointer() && pa != 0);
        kunit_expect!(test, size >= 40 && size <= super::MAX_FDT_SIZE as u64);
        kunit_expect!(test, super::machine_model().is_some());
    }

    /// Tests run in PID 1 (kernel_init); PID 0 is init_task, on the linker's stack.
    fn current_and_init_task_stacks(test: &mut Test) {
        let task = crate::kernel::task::current();
        let init = &crate::init::init_task::init_task;
        kunit_expect!(test, task.pid() == 1, "tests run in PID {}", task.pid());
        kunit_expect!(
            test,
            init.pid() == 0 && init.comm().0.starts_with(b"swapper/0")
        );
        kunit_expect!(
            test,
            !init.stack_end_corrupted(),
            "init_task's STACK_END_MAGIC missing"
        );
        kunit_expect!(
            test,
            !task.stack_end_corrupted(),
            "PID 1's STACK_END_MAGIC missing"
        );
        let fp = crate::arch::stacktrace::current_frame_pointer() as usize;
        kunit_expect!(
            test,
            task.on_stack(fp, 16),
            "fp {fp:#x} is not on the current stack"
        );
        kunit_expect!(
            test,
            !init.on_stack(fp, 16),
            "PID 1 runs on init_task's stack"
        );
    }

    fn kernel_runs_at_its_link_address(test: &mut Test) {
        let text = start_of_text();
        kunit_expect!(
            test,
            text == crate::arch::memory::KIMAGE_VADDR + crate::arch::memory::TEXT_OFFSET
        );
        let pa = crate::arch::head::pa_symbol(text);
        kunit_expect!(
            test,
            pa % (2 << 20) == crate::arch::memory::TEXT_OFFSET,
            "pa {pa:#x}"
        );
    }

    fn start_of_text() -> u64 {
        extern "C" {
            static _text: u8;
        }
        &raw const _text as u64
    }

    kunit_test_suite!(
        setup_arch,
        [
            device_tree_is_checked_and_kept,
            current_and_init_task_stacks,
            kernel_runs_at_its_link_address
        ]
    );
}
