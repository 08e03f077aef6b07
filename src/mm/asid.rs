//! ASIDs: which address-space identifier each `mm` runs under, with generations and rollover.
//!
//! Mirrors the allocator of Linux's `arch/arm64/mm/context.c` (`new_context`, `flush_context`,
//! `check_update_reserved_asid`, the slow path of `check_and_switch_context`), without the
//! lockless fast path and without KPTI's ASID pairs. This is the pure bookkeeping; writing
//! `TTBR0_EL1` and invalidating the TLB is the caller's.
//!
//! The TLB tags non-global entries with an 8- or 16-bit ASID (`ID_AA64MMFR0_EL1.ASIDBits`,
//! chosen at init). An `mm`'s *context id* is `generation << bits | asid`; 0 means "none yet".
//! ASIDs are handed out in increasing order from a bitmap and never freed one by one (Linux
//! doesn't either). When the bitmap is full the allocator rolls over: it starts a new
//! generation, clears the bitmap, and every context id of an older generation becomes stale.
//! Since the TLB may still hold entries tagged with old ASIDs, every CPU must invalidate its
//! whole TLB before it next switches to an `mm` ([`AsidAllocator::switch_context`] says when).
//!
//! The ASIDs running on CPUs at rollover are *reserved*: they stay taken in the new generation,
//! and the `mm` that owned one gets the same ASID back with the new generation, so a CPU that
//! is still running it never sees its ASID handed to a different `mm`.
//!
//! ASID 0 is never handed out: the kernel runs with it while TTBR0 holds the reserved (empty)
//! table.
//!
//! # Locking
//!
//! An `AsidAllocator` is plain data; the kernel keeps it behind an IRQ-safe spinlock, as Linux
//! keeps `cpu_asid_lock`.

/// CPUs the allocator tracks; must match `arch::percpu::NR_CPUS`.
pub const NR_CPUS: usize = 16;

/// The widest ASID the architecture has.
pub const MAX_ASID_BITS: u32 = 16;

/// Words of the bitmap: one bit per 16-bit ASID.
const MAP_WORDS: usize = (1 << MAX_ASID_BITS) / 64;

/// The ASID allocator (Linux's `asid_generation`, `asid_map`, `active_asids`,
/// `reserved_asids`, `tlb_flush_pending`).
///
/// # Invariants
///
/// - `generation` is a non-zero multiple of `1 << bits`: context ids of the current generation
///   are `generation | asid`.
/// - Bit 0 of `map` is always set (ASID 0 is reserved); so is the bit of every ASID handed out
///   in the current generation and of every ASID in `reserved`.
/// - Only bits below `1 << bits` are ever set.
#[derive(Clone, Debug)]
pub struct AsidAllocator {
    bits: u32,
    generation: u64,
    map: [u64; MAP_WORDS],
    /// Where the search for a free ASID starts (Linux's `cur_idx`).
    next: usize,
    /// The context id each CPU runs, 0 once a rollover has reserved it.
    active: [u64; NR_CPUS],
    /// The context id each CPU ran at the last rollover.
    reserved: [u64; NR_CPUS],
    /// Bit `cpu`: that CPU must flush its TLB before its next switch.
    flush_pending: u32,
}

impl AsidAllocator {
    /// An allocator for `bits`-bit ASIDs (8 or 16), starting at generation 1.
    ///
    /// Panics for other widths.
    pub const fn new(bits: u32) -> Self {
        assert!(bits == 8 || bits == 16, "asid: ASIDs are 8 or 16 bits");
        let mut map = [0; MAP_WORDS];
        map[0] = 1;
        AsidAllocator {
            bits,
            generation: 1 << bits,
            map,
            next: 1,
            active: [0; NR_CPUS],
            reserved: [0; NR_CPUS],
            flush_pending: 0,
        }
    }

    /// The ASID width.
    pub const fn bits(&self) -> u32 {
        self.bits
    }

    /// How many ASIDs there are, the reserved ASID 0 included.
    pub const fn nr_asids(&self) -> usize {
        1 << self.bits
    }

    /// The current generation (1 at start, plus one per rollover).
    pub const fn generation(&self) -> u64 {
        self.generation >> self.bits
    }

    /// The ASID of context id `ctx`, as it goes into `TTBR0_EL1[63:48]`.
    pub const fn asid(&self, ctx: u64) -> u16 {
        (ctx & self.asid_mask()) as u16
    }

    /// Whether `ctx` belongs to the current generation, so it may be switched to without a new
    /// ASID. False for 0.
    pub const fn check(&self, ctx: u64) -> bool {
        ctx != 0 && (ctx & !self.asid_mask()) == self.generation
    }

    /// The context id `cpu` last switched to, or 0 if a rollover has happened since.
    pub fn active(&self, cpu: usize) -> u64 {
        self.active[cpu]
    }

    /// A context id of the current generation for an `mm` whose context id was `old` (0 for a
    /// new `mm`), and whether this call rolled over — in which case every CPU must invalidate
    /// its whole TLB before it next runs an `mm` (Linux's `new_context`).
    ///
    /// `old` gets its ASID back when it was reserved at the rollover or is still free;
    /// otherwise the next free ASID is taken. An `old` that is already current is returned as
    /// it is.
    pub fn new_context(&mut self, old: u64) -> (u64, bool) {
        if self.check(old) {
            return (old, false);
        }
        let asid = old & self.asid_mask();
        if asid != 0 {
            let new = self.generation | asid;
            // If the ASID was running at the rollover, it is still ours.
            if self.update_reserved(old, new) {
                return (new, false);
            }
            // If nobody has taken it in this generation, keep it.
            if !self.test_and_set(asid as usize) {
                return (new, false);
            }
        }
        if let Some(asid) = self.find_free(self.next) {
            return (self.take(asid), false);
        }
        self.generation += 1 << self.bits;
        self.flush_context();
        let asid = self
            .find_free(1)
            .expect("asid: reserved ASIDs fill the whole map");
        (self.take(asid), true)
    }

    /// Linux's `check_and_switch_context`: the context id `cpu` should run an `mm` whose
    /// context id is `ctx` with (a new one if `ctx` is stale — store it back in the `mm`), and
    /// whether `cpu` must invalidate its whole local TLB first because of a rollover.
    ///
    /// Panics if `cpu >= NR_CPUS`.
    pub fn switch_context(&mut self, cpu: usize, ctx: u64) -> (u64, bool) {
        assert!(cpu < NR_CPUS, "asid: no such CPU {cpu}");
        let ctx = if self.check(ctx) {
            ctx
        } else {
            self.new_context(ctx).0
        };
        let flush = self.flush_pending & (1 << cpu) != 0;
        self.flush_pending &= !(1 << cpu);
        self.active[cpu] = ctx;
        (ctx, flush)
    }

    const fn asid_mask(&self) -> u64 {
        (1 << self.bits) - 1
    }

    /// Marks `asid` taken and returns its context id.
    fn take(&mut self, asid: usize) -> u64 {
        self.test_and_set(asid);
        self.next = asid;
        self.generation | asid as u64
    }

    /// Sets `asid`'s bit, returning whether it was set already.
    fn test_and_set(&mut self, asid: usize) -> bool {
        let (word, bit) = (asid / 64, 1 << (asid % 64));
        let was_set = self.map[word] & bit != 0;
        self.map[word] |= bit;
        was_set
    }

    /// The first free ASID at or above `from` (Linux's `find_next_zero_bit`).
    fn find_free(&self, from: usize) -> Option<usize> {
        let nr = self.nr_asids();
        let mut index = from;
        while index < nr {
            // Count the bits below `index` in its word as taken.
            let word = self.map[index / 64] | ((1 << (index % 64)) - 1);
            if word != u64::MAX {
                let asid = index / 64 * 64 + (!word).trailing_zeros() as usize;
                return (asid < nr).then_some(asid);
            }
            index = (index / 64 + 1) * 64;
        }
        None
    }

    /// Replaces `old` by `new` in every CPU's reserved slot, returning whether it was there
    /// (Linux's `check_update_reserved_asid`).
    fn update_reserved(&mut self, old: u64, new: u64) -> bool {
        let mut hit = false;
        for reserved in &mut self.reserved {
            if *reserved == old {
                *reserved = new;
                hit = true;
            }
        }
        hit
    }

    /// Starts the new generation's bitmap with the ASIDs running on CPUs (or, for a CPU that
    /// has not switched since the last rollover, the one reserved then), and makes every CPU
    /// flush before its next switch (Linux's `flush_context`).
    fn flush_context(&mut self) {
        self.map = [0; MAP_WORDS];
        self.map[0] = 1;
        for cpu in 0..NR_CPUS {
            let mut ctx = core::mem::take(&mut self.active[cpu]);
            if ctx == 0 {
                ctx = self.reserved[cpu];
            }
            self.test_and_set((ctx & self.asid_mask()) as usize);
            self.reserved[cpu] = ctx;
        }
        self.flush_pending = (1 << NR_CPUS) - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_distinct_asids_of_generation_one() {
        let mut asids = AsidAllocator::new(8);
        let mut seen = [false; 256];
        for expected in 1..256u64 {
            let (ctx, rollover) = asids.new_context(0);
            assert!(!rollover);
            assert_eq!(ctx, 1 << 8 | expected, "in increasing order");
            assert!(asids.check(ctx));
            let asid = asids.asid(ctx) as usize;
            assert!(asid != 0 && !seen[asid], "ASID {asid} handed out twice");
            seen[asid] = true;
        }
        assert_eq!(asids.generation(), 1);
        assert!(!asids.check(0));
    }

    #[test]
    fn full_map_rolls_over() {
        let mut asids = AsidAllocator::new(8);
        let first = asids.new_context(0).0;
        for _ in 2..256 {
            assert!(!asids.new_context(0).1);
        }
        let (ctx, rollover) = asids.new_context(0);
        assert!(rollover, "the 256th context needs a new generation");
        assert_eq!(asids.generation(), 2);
        assert_eq!(
            ctx,
            2 << 8 | 1,
            "nothing was active: the search starts again at 1"
        );
        assert!(!asids.check(first), "old contexts are stale");
        assert!(asids.check(ctx));
    }

    #[test]
    fn sixteen_bit_asids_roll_over_after_65535() {
        let mut asids = AsidAllocator::new(16);
        for i in 1..65536u64 {
            let (ctx, rollover) = asids.new_context(0);
            assert!(!rollover);
            assert_eq!(asids.asid(ctx) as u64, i);
        }
        let (ctx, rollover) = asids.new_context(0);
        assert!(rollover);
        assert_eq!(ctx, 2 << 16 | 1);
    }

    #[test]
    fn active_contexts_survive_rollover() {
        let mut asids = AsidAllocator::new(8);
        let a = asids.new_context(0).0;
        let b = asids.new_context(0).0;
        let (a_on_cpu3, flush) = asids.switch_context(3, a);
        assert_eq!((a_on_cpu3, flush), (a, false));
        asids.switch_context(5, b);
        // Fill the map and roll over.
        while !asids.new_context(0).1 {}
        assert_eq!(asids.active(3), 0, "a rollover clears the active ids");
        // Nothing else got a's or b's ASID in the new generation...
        let mut others = Vec::new();
        for _ in 0..100 {
            let (ctx, _) = asids.new_context(0);
            others.push(asids.asid(ctx));
        }
        assert!(!others.contains(&asids.asid(a)) && !others.contains(&asids.asid(b)));
        // ...and they get them back, with the new generation.
        let (a2, rollover) = asids.new_context(a);
        assert!(!rollover);
        assert_eq!(a2, 2 << 8 | asids.asid(a) as u64);
        // Each CPU flushes once, at its first switch after the rollover.
        assert_eq!(
            asids.switch_context(5, b),
            (2 << 8 | asids.asid(b) as u64, true)
        );
        assert!(!asids.switch_context(5, 2 << 8 | asids.asid(b) as u64).1);
        assert!(
            asids.switch_context(0, a2).1,
            "every CPU flushes, not just busy ones"
        );
    }

    #[test]
    fn reserved_ids_survive_a_second_rollover() {
        let mut asids = AsidAllocator::new(8);
        let a = asids.new_context(0).0;
        asids.switch_context(2, a);
        while !asids.new_context(0).1 {}
        // CPU 2 has not switched since: its reservation carries over the next rollover.
        while !asids.new_context(0).1 {}
        assert_eq!(asids.generation(), 3);
        assert_eq!(asids.new_context(a), (3 << 8 | asids.asid(a) as u64, false));
    }

    #[test]
    fn stale_contexts_get_new_ids() {
        let mut asids = AsidAllocator::new(8);
        let stale: Vec<u64> = (0..255).map(|_| asids.new_context(0).0).collect();
        let (fresh, rollover) = asids.new_context(0);
        assert!(rollover);
        assert_eq!(asids.asid(fresh), 1);
        // ASID 1 is taken in the new generation: the old owner of 1 gets another one.
        let (moved, rollover) = asids.new_context(stale[0]);
        assert!(!rollover);
        assert!(asids.check(moved));
        assert_ne!(asids.asid(moved), 1);
        assert_ne!(moved, stale[0]);
        // ASID 200 is still free: its old owner keeps the number, in the new generation.
        let (kept, _) = asids.new_context(stale[199]);
        assert_eq!(asids.asid(stale[199]), 200);
        assert_eq!(kept, 2 << 8 | 200);
        // A current context is returned as it is.
        assert_eq!(asids.new_context(kept), (kept, false));
    }

    #[test]
    fn asid_zero_is_never_handed_out() {
        let mut asids = AsidAllocator::new(8);
        for _ in 0..1000 {
            let (ctx, _) = asids.new_context(0);
            assert_ne!(asids.asid(ctx), 0);
        }
        assert_eq!(asids.generation(), 4, "1000 contexts take three rollovers");
        assert_eq!(asids.asid(0x1234_5678), 0x78);
    }

    #[test]
    #[should_panic(expected = "8 or 16 bits")]
    fn other_widths_panic() {
        AsidAllocator::new(12);
    }
}
