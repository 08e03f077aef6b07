//! Memory management: memblock, the buddy page allocator, the kernel heap, address spaces.
//!
//! Mirrors Linux's `mm/`. The allocators' bookkeeping is portable and unit-tested on the host.

pub mod asid;
pub mod memblock;
pub mod page_alloc;
pub mod util;
pub mod vma;

#[cfg(target_os = "none")]
pub mod fault;
#[cfg(target_os = "none")]
pub mod filemap;
#[cfg(target_os = "none")]
mod filemap_kunit;
#[cfg(target_os = "none")]
pub mod heap;
#[cfg(target_os = "none")]
pub mod memfd;
#[cfg(target_os = "none")]
pub mod mlock;
#[cfg(target_os = "none")]
pub mod mm_kunit;
#[cfg(target_os = "none")]
pub mod mm_types;
#[cfg(target_os = "none")]
pub mod mmap;
#[cfg(target_os = "none")]
pub mod mmu_gather;
#[cfg(target_os = "none")]
pub mod oom_kill;
#[cfg(target_os = "none")]
pub mod pages;
#[cfg(target_os = "none")]
pub mod readahead;
#[cfg(target_os = "none")]
pub mod vmalloc;
