//! Random numbers for the kernel and `getrandom` (Linux: `drivers/char/random.c`, greatly
//! reduced).
//!
//! Seeded from the device tree's `rng-seed` (QEMU and bootloaders put fresh entropy there)
//! and the generic counter, then stirred with SplitMix64 on every request, mixing in the
//! counter again. Good enough for AT_RANDOM and stack canaries of a teaching kernel; not a
//! cryptographic generator.

use core::sync::atomic::{AtomicU64, Ordering};

static STATE: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Mix the DT's `rng-seed` (and `kaslr-seed`) into the pool (Linux's `add_bootloader_randomness`).
fn rand_initialize() -> i32 {
    let mut seed = crate::arch::arch_timer::counter();
    if let Some(fdt) = crate::arch::setup::fdt() {
        if let Some(chosen) = fdt.find_node("/chosen") {
            for name in ["rng-seed", "kaslr-seed"] {
                if let Some(p) = chosen.property(name) {
                    for chunk in p.value.chunks(8) {
                        let mut w = [0u8; 8];
                        w[..chunk.len()].copy_from_slice(chunk);
                        seed = splitmix64(seed ^ u64::from_le_bytes(w));
                    }
                }
            }
        }
    }
    STATE.fetch_xor(seed, Ordering::Relaxed);
    0
}
crate::core_initcall!(rand_initialize);

/// Fill `buf` with random bytes (Linux's `get_random_bytes`).
pub fn get_random_bytes(buf: &mut [u8]) {
    for chunk in buf.chunks_mut(8) {
        let counter = crate::arch::arch_timer::counter();
        let s = STATE.fetch_add(splitmix64(counter) | 1, Ordering::Relaxed);
        let v = splitmix64(s ^ counter).to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}
