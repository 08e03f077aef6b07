//! In-kernel tests of the page cache (run with `kunit.enable=1`): a file's pages by index,
//! holes, the size, truncation (the partial page zeroed, the pages past the end unmapped
//! from a process that maps them), faults past the end, and every page given back.

use alloc::sync::Arc;

use crate::arch::memory::PAGE_SIZE;
use crate::arch::mmu;
use crate::arch::paging::KernelTableAlloc;
use crate::fs::iov_iter::IovIter;
use crate::kunit::Test;
use crate::mm::fault::{handle_mm_fault, Access, VmFault};
use crate::mm::filemap::{nr_file_pages, AddressSpace, CacheFault};
use crate::mm::mm_types::{MmStruct, VmFile};
use crate::mm::pages::{nr_file_mapped, nr_free_pages, page_count, page_mapcount, put_page};
use crate::mm::vma::VmFlags;
use crate::{kunit_assert, kunit_expect, kunit_test_suite};

fn write(cache: &AddressSpace, pos: u64, data: &[u8]) -> usize {
    cache
        .write_iter(pos, &mut IovIter::kvec_source(data))
        .unwrap_or(0)
}

fn read(cache: &AddressSpace, pos: u64, len: usize) -> alloc::vec::Vec<u8> {
    let mut buf = alloc::vec![0xaau8; len];
    let n = cache
        .read_iter(pos, &mut IovIter::kvec_dest(&mut buf))
        .unwrap_or(0);
    buf.truncate(n);
    buf
}

/// Pages appear where bytes are written; a hole reads as zeros; reads stop at the size;
/// truncation zeroes the partial last page and drops the rest; the pages go back.
fn holes_size_and_truncate(test: &mut Test) {
    let free_before = nr_free_pages();
    let (heap_before, _) = crate::mm::heap::heap_stats();
    let cached_before = nr_file_pages();
    {
        let cache = AddressSpace::new();
        kunit_expect!(test, write(&cache, 2 * PAGE_SIZE + 10, b"hello") == 5);
        kunit_expect!(test, cache.size() == 2 * PAGE_SIZE + 15);
        kunit_expect!(test, cache.nr_pages() == 1, "only the written page exists");
        kunit_expect!(test, nr_file_pages() == cached_before + 1);
        kunit_expect!(
            test,
            read(&cache, 100, 4) == [0, 0, 0, 0],
            "a hole reads as zeros"
        );
        kunit_expect!(test, read(&cache, 2 * PAGE_SIZE + 10, 100) == b"hello");
        kunit_expect!(
            test,
            read(&cache, 3 * PAGE_SIZE, 10).is_empty(),
            "past the end"
        );
        cache.truncate(2 * PAGE_SIZE + 12);
        kunit_expect!(test, read(&cache, 2 * PAGE_SIZE + 10, 100) == b"he");
        cache.truncate(3 * PAGE_SIZE);
        kunit_expect!(
            test,
            read(&cache, 2 * PAGE_SIZE + 10, 5) == [b'h', b'e', 0, 0, 0],
            "the cut-off bytes came back"
        );
        cache.truncate(PAGE_SIZE);
        kunit_expect!(test, cache.nr_pages() == 0);
        kunit_expect!(test, nr_file_pages() == cached_before);
        kunit_expect!(
            test,
            write(&cache, 0, &[7u8; 3 * PAGE_SIZE as usize]) == 3 * PAGE_SIZE as usize
        );
        kunit_expect!(test, cache.nr_pages() == 3);
    }
    kunit_expect!(
        test,
        nr_file_pages() == cached_before,
        "dropping the cache frees its pages"
    );
    // Pages the heap took for the cache's index are not a leak.
    let (heap_after, _) = crate::mm::heap::heap_stats();
    let free_after = nr_free_pages() + (heap_after - heap_before) / PAGE_SIZE;
    kunit_expect!(
        test,
        free_after == free_before,
        "leaked {} pages",
        free_before.saturating_sub(free_after)
    );
}

/// A fault gets the cache page with a reference for the mapper; past the end it fails.
fn fault_page_and_eof(test: &mut Test) {
    let cache = AddressSpace::with_size(PAGE_SIZE + 1);
    let Ok((pa, _)) = cache.fault_page(1, false) else {
        return kunit_expect!(test, false, "no page for index 1");
    };
    kunit_expect!(test, page_count(pa) == 2, "the cache's reference and ours");
    kunit_expect!(test, cache.nr_pages() == 1);
    put_page(pa);
    kunit_expect!(test, cache.fault_page(2, false) == Err(CacheFault::PastEof));
    let Ok((again, _)) = cache.fault_page(1, false) else {
        return kunit_expect!(test, false, "no page the second time");
    };
    kunit_expect!(test, again == pa, "the same page, not a new one");
    put_page(again);
}

fn leaf(mm: &MmStruct, va: u64) -> Option<u64> {
    // SAFETY: the test owns `mm`; nothing else edits its tables.
    unsafe { mmu::walk(mm.pgd, va, &KernelTableAlloc) }.map(|(d, _, _)| d.output_address())
}

/// A shared file mapping faults in the cache page itself; truncation unmaps it from the
/// process (rmap), and the next fault there is SIGBUS.
fn truncate_unmaps_mappers(test: &mut Test) {
    const VA: u64 = 0x50_0000;
    let cache = AddressSpace::new();
    kunit_assert!(test, write(&cache, 0, &[1u8; 2 * PAGE_SIZE as usize]) > 0);
    let Ok(mm) = MmStruct::new() else {
        return kunit_expect!(test, false, "no mm");
    };
    let file = VmFile {
        id: 0,
        mapping: cache.clone(),
        name: alloc::string::String::from("kunit"),
        dev: 0,
        ino: 0,
    };
    let flags = VmFlags::READ | VmFlags::WRITE | VmFlags::SHARED | VmFlags::MAYSHARE;
    let mapped = mm.map_file(VA, 2 * PAGE_SIZE, flags, file, 0);
    kunit_assert!(test, mapped.is_ok());
    kunit_expect!(
        test,
        handle_mm_fault(&mm, VA + PAGE_SIZE, Access::Write).is_ok()
    );
    let Ok((page, _)) = cache.fault_page(1, false) else {
        return kunit_expect!(test, false, "no cache page");
    };
    put_page(page);
    kunit_expect!(
        test,
        leaf(&mm, VA + PAGE_SIZE) == Some(page),
        "not the cache page"
    );
    kunit_expect!(
        test,
        page_count(page) == 2,
        "the cache's reference and the mapping's"
    );
    kunit_expect!(test, page_mapcount(page) == 1, "one entry maps it");
    let mapped_before = nr_file_mapped();
    cache.truncate(PAGE_SIZE);
    kunit_expect!(
        test,
        leaf(&mm, VA + PAGE_SIZE).is_none(),
        "still mapped after truncate"
    );
    kunit_expect!(test, page_mapcount(page) == 0, "truncate left a map count");
    kunit_expect!(
        test,
        nr_file_mapped() + 1 == mapped_before,
        "Mapped did not drop"
    );
    kunit_expect!(
        test,
        handle_mm_fault(&mm, VA + PAGE_SIZE, Access::Read) == Err(VmFault::Sigbus)
    );
    kunit_expect!(test, handle_mm_fault(&mm, VA, Access::Read).is_ok());
    drop(mm);
    kunit_expect!(
        test,
        Arc::strong_count(&cache) == 1,
        "the mm let the cache go"
    );
}

kunit_test_suite!(
    filemap,
    [
        holes_size_and_truncate,
        fault_page_and_eof,
        truncate_unmaps_mappers
    ]
);
