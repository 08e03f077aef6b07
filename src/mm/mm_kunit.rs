//! In-kernel tests of memory management (run with `kunit.enable=1`).
//!
//! They use the real allocators, page tables and MMU: exhaustion and recovery of the buddy
//! allocator, heap growth, W^X of the kernel image, user copies that fault, demand-zero
//! pages and copy-on-write across a duplicated address space.

use alloc::vec::Vec;

use crate::arch::head::pa_symbol;
use crate::arch::memory::{phys_to_virt, PAGE_SIZE};
use crate::arch::mmu;
use crate::arch::mmu_context::with_mm;
use crate::arch::paging::KernelTableAlloc;
use crate::arch::uaccess::{
    copy_from_kernel_nofault, copy_from_user, copy_to_kernel_nofault, copy_to_user,
    strncpy_from_user,
};
use crate::kernel::errno::Errno;
use crate::kunit::Test;
use crate::mm::mm_types::MmStruct;
use crate::mm::pages::{
    alloc_pages, alloc_pages_reserve, free_counts, free_pages, nr_free_pages, page_count,
    page_mapcount,
};
use crate::mm::vma::VmFlags;
use crate::{kunit_assert, kunit_expect, kunit_test_suite};

/// Allocate every free page (chained through the pages themselves, so the test needs no
/// memory of its own), then free them all: the allocator must be exactly as before.
fn buddy_exhaustion_and_recovery(test: &mut Test) {
    // Nothing else may allocate or free meanwhile, on any CPU (an exiting thread frees its
    // stack): the other CPUs wait, interrupts masked, until it is done.
    crate::kernel::stop_machine::stop_machine(|| buddy_exhaustion_stopped(test));
}

fn buddy_exhaustion_stopped(test: &mut Test) {
    let before = nr_free_pages();
    let counts_before = free_counts();
    let mut head = 0u64;
    let mut n = 0u64;
    // Ordinary allocations stop at the heap's reserve; the heap's own take the rest.
    let mut reserve = 0u64;
    for heap in [false, true] {
        while let Some(pa) = if heap {
            alloc_pages_reserve(0)
        } else {
            alloc_pages(0)
        } {
            // SAFETY: the page is ours; the linear map reaches it.
            unsafe { (phys_to_virt(pa) as *mut u64).write(head) };
            head = pa;
            n += 1;
            reserve += u64::from(heap);
        }
    }
    kunit_expect!(test, n == before, "allocated {n} pages, {before} were free");
    kunit_expect!(
        test,
        (128..=4096).contains(&reserve),
        "{reserve} pages of reserve"
    );
    kunit_expect!(test, nr_free_pages() == 0);
    kunit_expect!(
        test,
        alloc_pages(0).is_none() && alloc_pages_reserve(0).is_none(),
        "allocation past exhaustion must fail"
    );
    while head != 0 {
        // SAFETY: every page in the chain holds the next one's address, written above.
        let next = unsafe { (phys_to_virt(head) as *const u64).read() };
        free_pages(head, 0);
        head = next;
    }
    kunit_expect!(
        test,
        nr_free_pages() == before,
        "{} free after, {before} before",
        nr_free_pages()
    );
    kunit_expect!(
        test,
        free_counts() == counts_before,
        "blocks did not merge back"
    );
}

/// A large allocation grows the heap past its first pages, and the memory is usable.
fn heap_grows_past_first_region(test: &mut Test) {
    let (mapped_before, _) = crate::mm::heap::heap_stats();
    let len = 1 << 20;
    let mut v: Vec<u8> = Vec::new();
    kunit_assert!(
        test,
        v.try_reserve_exact(len).is_ok(),
        "1 MiB allocation failed"
    );
    v.extend((0..len).map(|i| i as u8));
    let (mapped_after, used) = crate::mm::heap::heap_stats();
    kunit_expect!(
        test,
        mapped_after >= mapped_before + len as u64,
        "heap did not grow"
    );
    kunit_expect!(test, used >= len as u64);
    kunit_expect!(test, v.iter().enumerate().all(|(i, b)| *b == i as u8));
}

/// `vmalloc` hands out address space first-fit, keeps a guard page after each block, and a
/// `vfree` gives both pages and address space back, merged with its free neighbours.
fn vmalloc_reuses_freed_space(test: &mut Test) {
    use crate::mm::vmalloc::{vfree, vmalloc};
    let size = 5 * PAGE_SIZE;
    let free_before = nr_free_pages();
    let (Some(a), Some(b)) = (vmalloc(size), vmalloc(size)) else {
        kunit_assert!(test, false, "vmalloc of 20 KiB failed");
        return;
    };
    kunit_expect!(
        test,
        b >= a + size + PAGE_SIZE,
        "no guard page between blocks"
    );
    // SAFETY: `a` is a fresh vmalloc block of `size` bytes, mapped and ours.
    unsafe { core::ptr::write_bytes(a as *mut u8, 0x5a, size as usize) };
    vfree(a, size);
    let c = vmalloc(size);
    kunit_expect!(
        test,
        c == Some(a),
        "first fit did not reuse the freed space"
    );
    if let Some(c) = c {
        vfree(c, size);
    }
    vfree(b, size);
    // Both runs merged with the free space after them: a block larger than the two runs
    // together (each at least 16 pages, the allocator's smallest hole) starts at `a`.
    let d = vmalloc(7 * size);
    kunit_expect!(test, d == Some(a), "freed neighbours did not merge");
    if let Some(d) = d {
        vfree(d, 7 * size);
    }
    kunit_expect!(
        test,
        nr_free_pages() == free_before,
        "vfree did not give pages back"
    );
}

/// Kernel text is read-only, through its own address and through the linear map.
fn kernel_text_is_not_writable(test: &mut Test) {
    let text = kernel_text_is_not_writable as *const () as u64;
    let mut word = [0u8; 4];
    kunit_expect!(
        test,
        copy_from_kernel_nofault(&mut word, text).is_ok(),
        "text unreadable"
    );
    // SAFETY: the writes are expected to fault; if W^X were broken they would rewrite an
    // instruction with itself.
    let direct = unsafe { copy_to_kernel_nofault(text, &word) };
    kunit_expect!(
        test,
        direct == Err(Errno::EFAULT),
        "kernel text is writable"
    );
    let alias = phys_to_virt(pa_symbol(text));
    // SAFETY: as above, through the linear map's alias of the same bytes.
    let through_alias = unsafe { copy_to_kernel_nofault(alias, &word) };
    kunit_expect!(
        test,
        through_alias == Err(Errno::EFAULT),
        "linear alias of text is writable"
    );
    kunit_expect!(
        test,
        crate::arch::paging::ptdump_check_wx() == 0,
        "W+X pages found"
    );
}

/// User copies of unmapped or kernel addresses fail with EFAULT instead of oopsing.
fn uaccess_faults_become_efault(test: &mut Test) {
    let mut buf = [0u8; 16];
    kunit_expect!(test, copy_from_user(&mut buf, 0x1000) == Err(Errno::EFAULT));
    kunit_expect!(test, copy_to_user(0x1000, &buf) == Err(Errno::EFAULT));
    let kernel = &buf as *const _ as u64;
    kunit_expect!(
        test,
        copy_from_user(&mut buf, kernel) == Err(Errno::EFAULT),
        "kernel address accepted"
    );
    kunit_expect!(
        test,
        strncpy_from_user(&mut buf, 0x2000) == Err(Errno::EFAULT)
    );
    kunit_expect!(
        test,
        copy_from_user(&mut buf, u64::MAX - 4) == Err(Errno::EFAULT)
    );
}

fn read_user(mm: &alloc::sync::Arc<MmStruct>, addr: u64, len: usize) -> Vec<u8> {
    let mut out = alloc::vec![0u8; len];
    let ok = with_mm(mm, || copy_from_user(&mut out, addr));
    if ok.is_err() {
        out.clear();
    }
    out
}

fn leaf(mm: &MmStruct, va: u64) -> Option<u64> {
    // SAFETY: the test owns `mm`; nothing else edits its tables.
    unsafe { mmu::walk(mm.pgd, va, &KernelTableAlloc) }.map(|(d, _, _)| d.output_address())
}

/// Demand-zero pages appear on first touch; `dup` shares them copy-on-write; writes on
/// either side diverge; the last owner reuses the page; everything is freed at the end.
fn cow_after_dup(test: &mut Test) {
    const VA: u64 = 0x40_0000;
    // The zero page a read fault maps is made once and kept: not a leak of this test.
    kunit_assert!(test, crate::mm::fault::zero_page().is_some());
    let free_before = nr_free_pages();
    let (heap_before, _) = crate::mm::heap::heap_stats();
    {
        let Ok(parent) = MmStruct::new() else {
            return kunit_expect!(test, false, "no mm");
        };
        kunit_assert!(
            test,
            parent
                .map_region(VA, 2 * PAGE_SIZE, VmFlags::READ | VmFlags::WRITE)
                .is_ok()
        );
        kunit_expect!(
            test,
            leaf(&parent, VA).is_none(),
            "mapped before first touch"
        );
        kunit_expect!(
            test,
            read_user(&parent, VA + PAGE_SIZE, 8) == [0; 8],
            "demand page not zero"
        );
        kunit_assert!(
            test,
            with_mm(&parent, || copy_to_user(VA, b"parent")).is_ok()
        );
        let Some(original) = leaf(&parent, VA) else {
            return kunit_expect!(test, false, "no page");
        };

        let Ok(child) = parent.dup() else {
            return kunit_expect!(test, false, "dup failed");
        };
        kunit_expect!(
            test,
            leaf(&child, VA) == Some(original),
            "child does not share the page"
        );
        kunit_expect!(test, page_count(original) == 2);
        kunit_expect!(test, page_mapcount(original) == 2, "mapped in both");

        kunit_assert!(
            test,
            with_mm(&child, || copy_to_user(VA, b"child!")).is_ok()
        );
        let child_page = leaf(&child, VA);
        kunit_expect!(
            test,
            child_page.is_some() && child_page != Some(original),
            "child wrote in place"
        );
        kunit_expect!(test, page_count(original) == 1);
        kunit_expect!(test, read_user(&parent, VA, 6) == b"parent");
        kunit_expect!(test, read_user(&child, VA, 6) == b"child!");

        kunit_assert!(
            test,
            with_mm(&parent, || copy_to_user(VA, b"again!")).is_ok()
        );
        kunit_expect!(
            test,
            leaf(&parent, VA) == Some(original),
            "sole owner did not reuse the page"
        );
        kunit_expect!(test, read_user(&parent, VA, 6) == b"again!");
        kunit_expect!(test, read_user(&child, VA, 6) == b"child!");

        let read_only = VmFlags::READ;
        kunit_assert!(
            test,
            parent.protect_region(VA, PAGE_SIZE, read_only).is_ok()
        );
        kunit_expect!(
            test,
            with_mm(&parent, || copy_to_user(VA, b"x")) == Err(Errno::EFAULT)
        );
        kunit_expect!(test, parent.unmap_region(VA, 2 * PAGE_SIZE).is_ok());
        kunit_expect!(
            test,
            read_user(&parent, VA, 1).is_empty(),
            "unmapped page still readable"
        );
    }
    // Pages the heap took for the test's own bookkeeping are not a leak.
    let (heap_after, _) = crate::mm::heap::heap_stats();
    let free_after = nr_free_pages() + (heap_after - heap_before) / PAGE_SIZE;
    kunit_expect!(
        test,
        free_after == free_before,
        "leaked {} pages",
        free_before.saturating_sub(free_after)
    );
}

kunit_test_suite!(
    mm,
    [
        buddy_exhaustion_and_recovery,
        heap_grows_past_first_region,
        vmalloc_reuses_freed_space,
        kernel_text_is_not_writable,
        uaccess_faults_become_efault,
        cow_after_dup
    ]
);
