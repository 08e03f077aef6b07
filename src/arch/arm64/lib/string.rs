//! `memcpy` and `memset` in assembly (Linux's `arch/arm64/lib/memcpy.S` and `memset.S`):
//! `asm/string.S`, assembled here. They replace compiler_builtins' generic versions, which
//! are weak symbols; why, and what they assume (Normal memory, the MMU on), is in the
//! `.S` file. Nothing calls them by name: the compiler emits the calls.

core::arch::global_asm!(include_str!("../../../../asm/string.S"));

mod kunit_tests {
    use crate::kunit::Test;
    use crate::{kunit_expect, kunit_test_suite};

    extern "C" {
        // asm/string.S.
        fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
        fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8;
    }

    const GUARD: u8 = 0xa5;

    /// Every length up to 100 at every pair of offsets 0..8: exactly the bytes asked for
    /// are copied, none around them.
    fn memcpy_copies_every_length_and_alignment(test: &mut Test) {
        let src: [u8; 128] = core::array::from_fn(|i| (i * 7 + 1) as u8);
        let mut bad = 0;
        for n in 0..=100usize {
            for s in 0..8usize {
                for d in 0..8usize {
                    let mut dst = [GUARD; 128];
                    let n = core::hint::black_box(n);
                    // SAFETY: both ranges lie inside their 128-byte arrays (8 + 100 < 128)
                    // and do not overlap.
                    let ret = unsafe { memcpy(dst.as_mut_ptr().add(d), src.as_ptr().add(s), n) };
                    let ok = ret == dst.as_mut_ptr().wrapping_add(d)
                        && dst[..d].iter().all(|&b| b == GUARD)
                        && dst[d..d + n] == src[s..s + n]
                        && dst[d + n..].iter().all(|&b| b == GUARD);
                    bad += usize::from(!ok);
                }
            }
        }
        kunit_expect!(test, bad == 0, "{bad} memcpy cases wrong");
    }

    /// The same for memset, with a value whose upper bits must be ignored.
    fn memset_fills_every_length_and_alignment(test: &mut Test) {
        let mut bad = 0;
        for n in 0..=100usize {
            for d in 0..8usize {
                let mut dst = [GUARD; 128];
                let n = core::hint::black_box(n);
                // SAFETY: the range lies inside the 128-byte array.
                let ret = unsafe { memset(dst.as_mut_ptr().add(d), 0x12345c, n) };
                let ok = ret == dst.as_mut_ptr().wrapping_add(d)
                    && dst[..d].iter().all(|&b| b == GUARD)
                    && dst[d..d + n].iter().all(|&b| b == 0x5c)
                    && dst[d + n..].iter().all(|&b| b == GUARD);
                bad += usize::from(!ok);
            }
        }
        kunit_expect!(test, bad == 0, "{bad} memset cases wrong");
    }

    kunit_test_suite!(
        string,
        [
            memcpy_copies_every_length_and_alignment,
            memset_fills_every_length_and_alignment
        ]
    );
}
