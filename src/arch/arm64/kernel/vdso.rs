//! The vDSO and its data page in every process (Linux: `arch/arm64/kernel/vdso.c`).
//!
//! `build.rs` builds the vDSO (`vdso/vgettimeofday.rs`, linked by `vdso/vdso.lds`) into a
//! small ELF shared object, embedded here with `include_bytes!`. At boot [`vdso_init`]
//! copies it into pages of its own page cache (an [`AddressSpace`] no file names) and makes
//! a second one-page cache for the data page ([`VdsoData`]). `execve` then maps both into
//! the new process ([`arch_setup_additional_pages`]): `[vvar]` (two pages, the data page first) read-only and, right
//! above it, `[vdso]` read-execute, the same physical pages in every process (a private mapping
//! of a cache maps the cache's pages until someone writes, and neither is writable). The
//! vDSO's address goes to user space as `AT_SYSINFO_EHDR`; glibc finds
//! `__kernel_clock_gettime` and friends there by the version `LINUX_2.6.39`. Signal
//! handlers return through its `__kernel_rt_sigreturn`.
//!
//! `kernel::time::vsyscall` writes the data page's constants once, before the page is
//! published here, and its changing fields on every tick through [`vdso_data`].

use alloc::string::String;
use alloc::sync::Arc;

use crate::arch::memory::{phys_to_virt, PAGE_SIZE};
use crate::kernel::errno::Errno;
use crate::kernel::locking::InitOnce;
use crate::mm::filemap::AddressSpace;
use crate::mm::mm_types::{MmStruct, VmFile};
use crate::mm::vma::VmFlags;

#[path = "vdso/vdso_data.rs"]
pub mod vdso_data;

pub use vdso_data::VdsoData;

mod offsets {
    include!(concat!(env!("OUT_DIR"), "/vdso_offsets.rs"));
}

/// The vDSO as `build.rs` linked it.
static VDSO_IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

/// `__kernel_rt_sigreturn`'s offset in the vDSO.
pub const VDSO_RT_SIGRETURN: u64 = offsets::VDSO_RT_SIGRETURN;

/// Pages of the data area below the vDSO, as Linux 6.1 has them: the data page and the page
/// a time namespace would use (Cradle has none: it stays a zero page). `vdso.lds` puts
/// `_vdso_data` this many pages below the vDSO.
pub const VVAR_PAGES: u64 = 2;

/// The two caches, made once at boot.
struct Vdso {
    /// The vDSO's pages.
    text: Arc<AddressSpace>,
    /// Its length, page-aligned.
    text_len: u64,
    /// The data page.
    data: Arc<AddressSpace>,
    /// The data page's physical address (the cache holds a reference for ever).
    data_pa: u64,
}

static VDSO: InitOnce<Vdso> = InitOnce::new();

/// Copy the vDSO into its pages and make the data page (Linux's `vdso_init`, an
/// `arch_initcall`).
fn vdso_init() -> i32 {
    if VDSO_IMAGE.len() < 64 || &VDSO_IMAGE[..4] != b"\x7fELF" {
        log::error!("vdso: the embedded image is not an ELF file");
        return -(Errno::ENOEXEC.0);
    }
    let text_len = (VDSO_IMAGE.len() as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE;
    let text = AddressSpace::with_size(text_len);
    for (index, chunk) in VDSO_IMAGE.chunks(PAGE_SIZE as usize).enumerate() {
        let Ok((pa, _)) = text.fault_page(index as u64, true) else {
            return -(Errno::ENOMEM.0);
        };
        // SAFETY: `pa` is a page of the cache (which keeps a reference on it, as does the
        // one fault_page took for us and never gives back); no one maps it yet.
        unsafe {
            core::ptr::copy_nonoverlapping(
                chunk.as_ptr(),
                phys_to_virt(pa) as *mut u8,
                chunk.len(),
            );
        }
    }
    let data = AddressSpace::with_size(VVAR_PAGES * PAGE_SIZE);
    let Ok((data_pa, _)) = data.fault_page(0, false) else {
        return -(Errno::ENOMEM.0);
    };
    // SAFETY: the page is the cache's for ever, in the linear map, zeroed, and mapped
    // nowhere yet; VdsoData (atomics only) fits in it.
    let page = unsafe { &*(phys_to_virt(data_pa) as *const VdsoData) };
    crate::kernel::time::vsyscall::vdso_data_init(page);
    let _ = VDSO.set(Vdso {
        text,
        text_len,
        data,
        data_pa,
    });
    crate::kernel::time::vsyscall::update_vsyscall();
    log::info!(
        "vdso: {} bytes, {} data page(s), __kernel_rt_sigreturn at {VDSO_RT_SIGRETURN:#x}",
        VDSO_IMAGE.len(),
        VVAR_PAGES
    );
    0
}
crate::arch_initcall!(vdso_init);

/// The data page, once [`vdso_init`] ran.
pub fn vdso_data() -> Option<&'static VdsoData> {
    let vdso = VDSO.get()?;
    // SAFETY: the page is the kernel's for ever (the cache holds it), mapped in the linear
    // map, zeroed at allocation, and VdsoData (atomics only) fits in it with any contents.
    Some(unsafe { &*(phys_to_virt(vdso.data_pa) as *const VdsoData) })
}

/// A [`VmFile`] for one of the special mappings: `/proc/<pid>/maps` shows its name.
fn special(mapping: &Arc<AddressSpace>, name: &str) -> VmFile {
    VmFile {
        id: 0,
        mapping: mapping.clone(),
        name: String::from(name),
        dev: 0,
        ino: 0,
    }
}

/// Map `[vvar]` and `[vdso]` into `mm` where mmap would put them (Linux's
/// `arch_setup_additional_pages` → `__setup_additional_pages`); returns the vDSO's address,
/// or 0 if there is no vDSO.
pub fn arch_setup_additional_pages(mm: &Arc<MmStruct>) -> Result<u64, Errno> {
    let Some(vdso) = VDSO.get() else {
        return Ok(0);
    };
    let vvar_len = VVAR_PAGES * PAGE_SIZE;
    let base = mm.get_unmapped_area(vvar_len + vdso.text_len)?;
    mm.map_file(
        base,
        vvar_len,
        VmFlags::READ,
        special(&vdso.data, "[vvar]"),
        0,
    )?;
    let text = base + vvar_len;
    mm.map_file(
        text,
        vdso.text_len,
        VmFlags::READ | VmFlags::EXEC,
        special(&vdso.text, "[vdso]"),
        0,
    )?;
    mm.inner.lock().vdso_base = text;
    Ok(text)
}
