//! Memory management: memblock, the buddy page allocator, the kernel heap, address spaces.
//!
//! Mirrors Linux's `mm/`. The allocators' bookkeeping is portable and unit-tested on the host.

pub mod memblock;
pub mod page_alloc;
