//! AArch64 translation-table arithmetic: levels, indices, descriptors, attributes.
//!
//! Mirrors Linux's `arch/arm64/include/asm/pgtable-hwdef.h`, `pgtable-prot.h` and the MAIR
//! setup in `arch/arm64/mm/proc.S`, plus the block-size choice of `arch/arm64/mm/mmu.c`
//! (`alloc_init_pud` / `alloc_init_cont_pmd`). Everything here is pure arithmetic on `u64`s:
//! no memory is touched, so it is unit-tested on the host; the code that writes tables and
//! `TTBRn_EL1` lives elsewhere.
//!
//! Cradle uses the 4 KiB granule with 48-bit virtual addresses: four levels, L0..L3, each a
//! 4 KiB table of 512 eight-byte descriptors (Arm ARM DDI 0487, D8.2 "Translation table
//! descriptor formats"):
//!
//! ```text
//!  VA bits   47..39   38..30   29..21   20..12   11..0
//!  level       L0       L1       L2       L3     offset
//!  Linux      pgd      pud      pmd      pte
//!  maps     512 GiB   1 GiB    2 MiB    4 KiB
//!           (table)  (block)  (block)  (page)
//! ```
//!
//! A stage-1 block or page descriptor:
//!
//! ```text
//!  63..59  58..55  54   53   52    51   50..48  47..12  11  10  9..8  7..6  5   4..2     1    0
//!  (tbl)    SW     UXN  PXN  Cont  DBM   res0   OA      nG  AF  SH    AP    NS  AttrIndx type valid
//! ```

pub use crate::arch::memory::{PAGE_SHIFT, PAGE_SIZE};
/// Descriptors per table (Linux's `PTRS_PER_PTE`, `PTRS_PER_PMD`, ...).
pub const PTRS_PER_TABLE: usize = 512;
/// Virtual address bits per half of the address space (`CONFIG_ARM64_VA_BITS`); T0SZ = T1SZ =
/// `64 - VA_BITS`.
pub const VA_BITS: u32 = 48;
/// Output (physical) address bits a descriptor can hold without FEAT_LPA.
pub const PA_BITS: u32 = 48;

/// The level whose entries map 512 GiB; only table descriptors at this level.
pub const PGD_LEVEL: u32 = 0;
/// The level of 1 GiB blocks.
pub const PUD_LEVEL: u32 = 1;
/// The level of 2 MiB blocks.
pub const PMD_LEVEL: u32 = 2;
/// The level of 4 KiB pages.
pub const PTE_LEVEL: u32 = 3;

/// VA shift of an L0 entry (Linux's `PGDIR_SHIFT`).
pub const PGDIR_SHIFT: u32 = level_shift(PGD_LEVEL);
/// VA shift of an L1 entry (Linux's `PUD_SHIFT`).
pub const PUD_SHIFT: u32 = level_shift(PUD_LEVEL);
/// VA shift of an L2 entry (Linux's `PMD_SHIFT`).
pub const PMD_SHIFT: u32 = level_shift(PMD_LEVEL);
/// Bytes an L1 block maps: 1 GiB (Linux's `PUD_SIZE`).
pub const PUD_SIZE: u64 = 1 << PUD_SHIFT;
/// Bytes an L2 block maps: 2 MiB (Linux's `PMD_SIZE`).
pub const PMD_SIZE: u64 = 1 << PMD_SHIFT;

/// The VA shift of an entry at `level` (Linux's `ARM64_HW_PGTABLE_LEVEL_SHIFT`):
/// 39, 30, 21, 12 for L0..L3. Panics on a level above 3.
pub const fn level_shift(level: u32) -> u32 {
    assert!(level <= PTE_LEVEL, "pgtable: no such level");
    (PAGE_SHIFT - 3) * (4 - level) + 3
}

/// Bytes one entry at `level` maps: 512 GiB, 1 GiB, 2 MiB, 4 KiB.
pub const fn level_block_size(level: u32) -> u64 {
    1 << level_shift(level)
}

/// The index of `va`'s entry in its table at `level` (Linux's `pgd_index`, `pud_index`, ...).
pub const fn table_index(va: u64, level: u32) -> usize {
    ((va >> level_shift(level)) as usize) & (PTRS_PER_TABLE - 1)
}

// Descriptor bits (Linux's `pgtable-hwdef.h` names).

/// Bit 0: the descriptor is valid.
pub const PTE_VALID: u64 = 1 << 0;
/// Bit 1: table (L0..L2) or page (L3); clear for a block.
pub const PTE_TABLE_BIT: u64 = 1 << 1;
/// Bits 1:0.
pub const PTE_TYPE_MASK: u64 = 0b11;
/// Bits 1:0 of an L3 page descriptor.
pub const PTE_TYPE_PAGE: u64 = 0b11;
/// Bits 1:0 of an L0..L2 table descriptor.
pub const PMD_TYPE_TABLE: u64 = 0b11;
/// Bits 1:0 of an L1/L2 block ("section") descriptor.
pub const PMD_TYPE_SECT: u64 = 0b01;
/// Bits 4:2: index of the memory type in MAIR_EL1.
pub const PTE_ATTRINDX_MASK: u64 = 0b111 << 2;
/// Bit 5: non-secure output address (ignored in the non-secure state Cradle runs in).
pub const PTE_NS: u64 = 1 << 5;
/// Bit 6, AP[1]: EL0 may access.
pub const PTE_USER: u64 = 1 << 6;
/// Bit 7, AP[2]: read-only at every EL.
pub const PTE_RDONLY: u64 = 1 << 7;
/// Bits 7:6, AP[2:1].
pub const PTE_AP_MASK: u64 = 0b11 << 6;
/// AP = 0b00: EL1 read/write, EL0 no access.
pub const PTE_AP_EL1_RW: u64 = 0;
/// AP = 0b01: EL1 and EL0 read/write.
pub const PTE_AP_EL0_RW: u64 = PTE_USER;
/// AP = 0b10: EL1 read-only, EL0 no access.
pub const PTE_AP_EL1_RO: u64 = PTE_RDONLY;
/// AP = 0b11: EL1 and EL0 read-only.
pub const PTE_AP_EL0_RO: u64 = PTE_RDONLY | PTE_USER;
/// Bits 9:8, SH.
pub const PTE_SH_MASK: u64 = 0b11 << 8;
/// SH = 0b11: inner shareable (Linux's `PTE_SHARED`).
pub const PTE_SHARED: u64 = 0b11 << 8;
/// Bit 10: access flag. Cradle sets it on every valid leaf (no hardware AF management), as
/// Linux does for kernel mappings.
pub const PTE_AF: u64 = 1 << 10;
/// Bit 11: not global — the TLB entry is tagged with the ASID. Set on every user mapping.
pub const PTE_NG: u64 = 1 << 11;
/// Bit 51: dirty bit modifier, for hardware dirty tracking (needs TCR_EL1.HD).
pub const PTE_DBM: u64 = 1 << 51;
/// Bit 52: one of 16 adjacent entries mapping a contiguous range (a TLB hint).
pub const PTE_CONT: u64 = 1 << 52;
/// Bit 53: not executable at EL1.
pub const PTE_PXN: u64 = 1 << 53;
/// Bit 54: not executable at EL0 (XN at EL1-only regimes).
pub const PTE_UXN: u64 = 1 << 54;
/// Bit 55, software: the page has been written (Linux's `PTE_DIRTY`).
pub const PTE_DIRTY: u64 = 1 << 55;
/// Bit 56, software: the page is shared copy-on-write; a write fault copies it. Cradle's own
/// bit (Linux derives this from the VMA and uses bit 56 for `PTE_SPECIAL`).
pub const PTE_COW: u64 = 1 << 56;
/// Bits 47:12: the output address of a page, block or next-level table.
pub const PTE_ADDR_MASK: u64 = ((1 << PA_BITS) - 1) & !(PAGE_SIZE - 1);
/// Bit 59 of a table descriptor: nothing below is executable at EL1 (`PMD_TABLE_PXN`).
pub const PMD_TABLE_PXN: u64 = 1 << 59;
/// Bit 60 of a table descriptor: nothing below is executable at EL0 (`PMD_TABLE_UXN`).
pub const PMD_TABLE_UXN: u64 = 1 << 60;

/// AttrIndx field value for MAIR slot `index` (Linux's `PTE_ATTRINDX`).
pub const fn pte_attrindx(index: u64) -> u64 {
    (index & 0b111) << 2
}

// Memory types: MAIR_EL1 slots, numbered as Linux numbers them (`asm/memory.h`).
// The lower-case `n`s are Arm's and Linux's spelling ("non-Gathering, non-Reordering, ...").

/// Normal memory, write-back cacheable.
pub const MT_NORMAL: u64 = 0;
/// Normal memory with MTE tags (same attributes as `MT_NORMAL` until MTE is enabled).
pub const MT_NORMAL_TAGGED: u64 = 1;
/// Normal memory, non-cacheable.
pub const MT_NORMAL_NC: u64 = 2;
/// Device memory, strongly ordered: no gathering, no reordering, no early write ack.
#[allow(non_upper_case_globals)]
pub const MT_DEVICE_nGnRnE: u64 = 3;
/// Device memory with early write acknowledgement: what MMIO registers are mapped as.
#[allow(non_upper_case_globals)]
pub const MT_DEVICE_nGnRE: u64 = 4;

/// MAIR attribute: Normal, inner/outer write-back non-transient, read- and write-allocate.
pub const MAIR_ATTR_NORMAL: u64 = 0xff;
/// MAIR attribute: Normal, inner/outer non-cacheable.
pub const MAIR_ATTR_NORMAL_NC: u64 = 0x44;
/// MAIR attribute: Device-nGnRnE.
#[allow(non_upper_case_globals)]
pub const MAIR_ATTR_DEVICE_nGnRnE: u64 = 0x00;
/// MAIR attribute: Device-nGnRE.
#[allow(non_upper_case_globals)]
pub const MAIR_ATTR_DEVICE_nGnRE: u64 = 0x04;

/// `attr` placed in MAIR slot `index` (Linux's `MAIR_ATTRIDX`).
pub const fn mair_attridx(attr: u64, index: u64) -> u64 {
    attr << (index * 8)
}

/// The MAIR_EL1 value matching the `MT_*` indices (Linux's `MAIR_EL1_SET`). The tagged slot
/// holds plain Normal memory, as Linux's does until it finds MTE.
pub const MAIR_EL1_SET: u64 = mair_attridx(MAIR_ATTR_DEVICE_nGnRnE, MT_DEVICE_nGnRnE)
    | mair_attridx(MAIR_ATTR_DEVICE_nGnRE, MT_DEVICE_nGnRE)
    | mair_attridx(MAIR_ATTR_NORMAL_NC, MT_NORMAL_NC)
    | mair_attridx(MAIR_ATTR_NORMAL, MT_NORMAL)
    | mair_attridx(MAIR_ATTR_NORMAL, MT_NORMAL_TAGGED);

/// The attribute bits of a leaf descriptor: everything but the output address and the type
/// (Linux's `pgprot_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageProt(u64);

/// The bits a [`PageProt`] may hold.
const PROT_MASK: u64 = !(PTE_ADDR_MASK | PTE_TYPE_MASK);

/// What every valid kernel or user leaf has: accessed, inner shareable (Linux's
/// `_PROT_DEFAULT` less the type bits).
const PROT_DEFAULT: u64 = PTE_AF | PTE_SHARED;
/// Normal cacheable memory.
const PROT_NORMAL: u64 = PROT_DEFAULT | pte_attrindx(MT_NORMAL);
/// User memory: EL0 accessible, ASID-tagged, never executable at EL1.
const PROT_USER: u64 = PROT_NORMAL | PTE_NG | PTE_PXN;

/// Kernel data, stacks, heap, the linear map: RW, never executable.
pub const PAGE_KERNEL: PageProt = PageProt(PROT_NORMAL | PTE_AP_EL1_RW | PTE_PXN | PTE_UXN);
/// Kernel read-only data: RO, never executable.
pub const PAGE_KERNEL_RO: PageProt = PageProt(PROT_NORMAL | PTE_AP_EL1_RO | PTE_PXN | PTE_UXN);
/// Kernel text: RO, executable at EL1 only.
pub const PAGE_KERNEL_ROX: PageProt = PageProt(PROT_NORMAL | PTE_AP_EL1_RO | PTE_UXN);
/// MMIO: Device-nGnRE, RW, never executable (Linux's `PROT_DEVICE_nGnRE`).
pub const PAGE_KERNEL_DEVICE: PageProt =
    PageProt(PROT_DEFAULT | pte_attrindx(MT_DEVICE_nGnRE) | PTE_AP_EL1_RW | PTE_PXN | PTE_UXN);
/// User data: RW at EL0, never executable (Linux's `PAGE_SHARED` without DBM).
pub const PAGE_SHARED: PageProt = PageProt(PROT_USER | PTE_AP_EL0_RW | PTE_UXN);
/// User read-only data, and copy-on-write pages before the copy (Linux's `PAGE_READONLY`).
pub const PAGE_READONLY: PageProt = PageProt(PROT_USER | PTE_AP_EL0_RO | PTE_UXN);
/// User text: RO, executable at EL0 (Linux's `PAGE_READONLY_EXEC`).
pub const PAGE_READONLY_EXEC: PageProt = PageProt(PROT_USER | PTE_AP_EL0_RO);

impl PageProt {
    /// A protection from raw attribute bits; address and type bits are dropped.
    pub const fn from_bits(bits: u64) -> Self {
        PageProt(bits & PROT_MASK)
    }

    /// The raw attribute bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// These bits plus `bits` (address and type bits are dropped).
    pub const fn set(self, bits: u64) -> Self {
        PageProt((self.0 | bits) & PROT_MASK)
    }

    /// These bits less `bits`.
    pub const fn clear(self, bits: u64) -> Self {
        PageProt(self.0 & !bits)
    }

    /// The MAIR slot (`MT_*`) the mapping uses.
    pub const fn attr_index(self) -> u64 {
        (self.0 & PTE_ATTRINDX_MASK) >> 2
    }

    /// Whether the mapping is writable (at EL1, and at EL0 if it is a user mapping).
    pub const fn is_writable(self) -> bool {
        self.0 & PTE_RDONLY == 0
    }

    /// Whether EL0 may access the mapping.
    pub const fn is_user(self) -> bool {
        self.0 & PTE_USER != 0
    }

    /// Whether EL1 may execute from the mapping.
    pub const fn is_kernel_exec(self) -> bool {
        self.0 & PTE_PXN == 0
    }

    /// Whether EL0 may execute from the mapping.
    pub const fn is_user_exec(self) -> bool {
        self.is_user() && self.0 & PTE_UXN == 0
    }
}

/// What kind of descriptor a word is, given the level it sits at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptorKind {
    /// Bit 0 clear: translation faults.
    Invalid,
    /// Points to a next-level table (L0..L2).
    Table,
    /// Maps a 1 GiB (L1) or 2 MiB (L2) block.
    Block,
    /// Maps a 4 KiB page (L3).
    Page,
    /// Valid but architecturally reserved: a block at L0 or type 0b01 at L3.
    Reserved,
}

/// One translation-table entry.
///
/// The constructors take a physical address that must be aligned to what the descriptor
/// maps and below 2^48; they panic otherwise, since a misaligned output address would
/// silently map the wrong memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct Descriptor(u64);

impl Descriptor {
    /// The invalid descriptor (Linux's `__pte(0)`).
    pub const INVALID: Descriptor = Descriptor(0);

    /// A descriptor from its raw bits, e.g. read back from a table.
    pub const fn from_bits(bits: u64) -> Self {
        Descriptor(bits)
    }

    /// The raw bits, to store in a table.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// An L0..L2 descriptor pointing at the next-level table at `table_pa`
    /// (Linux's `__pmd_populate` and friends).
    pub const fn table(table_pa: u64) -> Self {
        assert!(
            table_pa & !PTE_ADDR_MASK == 0,
            "pgtable: misaligned or too-high table address"
        );
        Descriptor(table_pa | PMD_TYPE_TABLE)
    }

    /// An L1 (1 GiB) or L2 (2 MiB) block descriptor mapping `pa` with `prot`.
    pub const fn block(pa: u64, prot: PageProt, level: u32) -> Self {
        assert!(
            level == PUD_LEVEL || level == PMD_LEVEL,
            "pgtable: blocks only at L1 and L2"
        );
        assert!(
            pa & !PTE_ADDR_MASK == 0 && pa & (level_block_size(level) - 1) == 0,
            "pgtable: misaligned or too-high block address"
        );
        Descriptor(pa | prot.bits() | PMD_TYPE_SECT)
    }

    /// An L3 page descriptor mapping `pa` with `prot`.
    pub const fn page(pa: u64, prot: PageProt) -> Self {
        assert!(
            pa & !PTE_ADDR_MASK == 0,
            "pgtable: misaligned or too-high page address"
        );
        Descriptor(pa | prot.bits() | PTE_TYPE_PAGE)
    }

    /// Whether bit 0 is set (Linux's `pte_valid`).
    pub const fn is_valid(self) -> bool {
        self.0 & PTE_VALID != 0
    }

    /// What this descriptor is when found at `level`.
    pub const fn kind(self, level: u32) -> DescriptorKind {
        assert!(level <= PTE_LEVEL, "pgtable: no such level");
        match (self.is_valid(), self.0 & PTE_TABLE_BIT != 0, level) {
            (false, _, _) => DescriptorKind::Invalid,
            (true, true, PTE_LEVEL) => DescriptorKind::Page,
            (true, true, _) => DescriptorKind::Table,
            (true, false, PUD_LEVEL | PMD_LEVEL) => DescriptorKind::Block,
            (true, false, _) => DescriptorKind::Reserved,
        }
    }

    /// Whether this is a table descriptor when found at `level` (Linux's `pmd_table`).
    pub const fn is_table(self, level: u32) -> bool {
        matches!(self.kind(level), DescriptorKind::Table)
    }

    /// Whether this maps memory (a block or a page) when found at `level`.
    pub const fn is_leaf(self, level: u32) -> bool {
        matches!(
            self.kind(level),
            DescriptorKind::Block | DescriptorKind::Page
        )
    }

    /// The output address: the mapped page or block, or the next-level table
    /// (Linux's `__pte_to_phys`).
    pub const fn output_address(self) -> u64 {
        self.0 & PTE_ADDR_MASK
    }

    /// The attribute bits of a leaf (Linux's `pte_pgprot`).
    pub const fn prot(self) -> PageProt {
        PageProt::from_bits(self.0)
    }

    /// The MAIR slot of a leaf.
    pub const fn attr_index(self) -> u64 {
        self.prot().attr_index()
    }

    /// This leaf made read-only, e.g. to share it copy-on-write (Linux's `pte_wrprotect`).
    pub const fn wrprotect(self) -> Self {
        Descriptor(self.0 | PTE_RDONLY)
    }

    /// This leaf made writable (Linux's `pte_mkwrite`, without DBM).
    pub const fn mkwrite(self) -> Self {
        Descriptor(self.0 & !PTE_RDONLY)
    }

    /// This leaf with `bits` set (software bits such as [`PTE_COW`], or [`PTE_CONT`]).
    pub const fn set_bits(self, bits: u64) -> Self {
        Descriptor(self.0 | bits)
    }

    /// This leaf with `bits` cleared.
    pub const fn clear_bits(self, bits: u64) -> Self {
        Descriptor(self.0 & !bits)
    }
}

/// An L3 page descriptor for `pa` with `prot` (Linux's `pfn_pte`, taking an address).
pub const fn pte(pa: u64, prot: PageProt) -> Descriptor {
    Descriptor::page(pa, prot)
}

/// One piece of a mapping from [`split_for_blocks`]: `size` bytes from `va` to `pa`, made of
/// entries at `level` (each `level_block_size(level)` bytes, aligned in both VA and PA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapChunk {
    pub va: u64,
    pub pa: u64,
    pub size: u64,
    pub level: u32,
}

/// Splits the mapping of `size` bytes from `va` to `pa` into runs of 1 GiB blocks (L1),
/// 2 MiB blocks (L2) and 4 KiB pages (L3), using the largest entry wherever both `va` and
/// `pa` are aligned to it and it fits — the choice Linux's `alloc_init_pud`/`alloc_init_pmd`
/// make for the linear map. Runs come in address order, each as long as possible.
///
/// Panics if `va`, `pa` or `size` is not page aligned or either range wraps: callers pass
/// page-aligned kernel ranges, and anything else is a bug.
pub fn split_for_blocks(va: u64, pa: u64, size: u64) -> SplitForBlocks {
    assert!(
        (va | pa | size) & (PAGE_SIZE - 1) == 0,
        "pgtable: split_for_blocks({va:#x}, {pa:#x}, {size:#x}) not page aligned"
    );
    assert!(
        va.checked_add(size).is_some() && pa.checked_add(size).is_some(),
        "pgtable: split_for_blocks range wraps"
    );
    SplitForBlocks { va, pa, size }
}

/// Iterator returned by [`split_for_blocks`]: what remains to be mapped.
#[derive(Clone, Debug)]
pub struct SplitForBlocks {
    va: u64,
    pa: u64,
    size: u64,
}

impl Iterator for SplitForBlocks {
    type Item = MapChunk;

    fn next(&mut self) -> Option<MapChunk> {
        if self.size == 0 {
            return None;
        }
        let (va, pa, size) = (self.va, self.pa, self.size);
        let fits = |level: u32| {
            let block = level_block_size(level);
            (va | pa) & (block - 1) == 0 && size >= block
        };
        let level = if fits(PUD_LEVEL) {
            PUD_LEVEL
        } else if fits(PMD_LEVEL) {
            PMD_LEVEL
        } else {
            PTE_LEVEL
        };
        let block = level_block_size(level);
        let mut run = size & !(block - 1);
        if level > PUD_LEVEL {
            // Stop where the next-larger entry becomes usable, if it ever does: va and pa must
            // be congruent modulo its size, and a whole one must remain past the boundary.
            let larger = level_block_size(level - 1);
            let to_boundary = va.next_multiple_of(larger) - va;
            if (va ^ pa) & (larger - 1) == 0 && to_boundary < run && size - to_boundary >= larger {
                run = to_boundary;
            }
        }
        self.va += run;
        self.pa += run;
        self.size -= run;
        Some(MapChunk {
            va,
            pa,
            size: run,
            level,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    fn split(va: u64, pa: u64, size: u64) -> Vec<(u64, u64, u64, u32)> {
        split_for_blocks(va, pa, size)
            .map(|c| (c.va, c.pa, c.size, c.level))
            .collect()
    }

    #[test]
    fn level_shifts_and_sizes() {
        assert_eq!([0, 1, 2, 3].map(level_shift), [39, 30, 21, 12]);
        assert_eq!((PGDIR_SHIFT, PUD_SHIFT, PMD_SHIFT), (39, 30, 21));
        assert_eq!(level_block_size(0), 512 * GIB);
        assert_eq!(level_block_size(1), GIB);
        assert_eq!(level_block_size(2), 2 * MIB);
        assert_eq!(level_block_size(3), 4 * KIB);
        assert_eq!((PUD_SIZE, PMD_SIZE), (GIB, 2 * MIB));
        // Four levels of 9 bits plus a 12-bit offset cover exactly the 48-bit VA.
        assert_eq!(level_shift(0) + 9, VA_BITS);
    }

    #[test]
    #[should_panic(expected = "no such level")]
    fn level_four_panics() {
        level_shift(4);
    }

    #[test]
    fn table_indices() {
        let va = 0x0000_1234_5678_9abc_u64;
        assert_eq!(table_index(va, 0), ((va >> 39) & 511) as usize);
        assert_eq!(table_index(va, 0), 0x24);
        assert_eq!(table_index(va, 1), 0xd1);
        assert_eq!(table_index(va, 2), 0xb3);
        assert_eq!(table_index(va, 3), 0x189);
        // Kernel (TTBR1) addresses: the top 16 bits are ignored by indexing.
        let kva = 0xffff_0000_4008_0000_u64;
        assert_eq!([0, 1, 2, 3].map(|l| table_index(kva, l)), [0, 1, 0, 0x80]);
        assert_eq!(table_index(0xffff_ffff_ffff_ffff, 0), 511);
        assert_eq!(table_index(0xffff_ffff_ffff_ffff, 3), 511);
        // Reassembling the indices gives the VA back (low 48 bits, less the offset).
        let rebuilt = (0..4u32).fold(0u64, |acc, l| {
            acc | (table_index(va, l) as u64) << level_shift(l)
        });
        assert_eq!(rebuilt, va & 0x0000_ffff_ffff_f000);
    }

    #[test]
    fn attribute_bit_positions() {
        assert_eq!(PTE_ATTRINDX_MASK, 0x1c);
        assert_eq!(pte_attrindx(MT_DEVICE_nGnRE), 4 << 2);
        assert_eq!(PTE_NS, 0x20);
        assert_eq!(
            (PTE_AP_EL1_RW, PTE_AP_EL0_RW, PTE_AP_EL1_RO, PTE_AP_EL0_RO),
            (0, 0x40, 0x80, 0xc0)
        );
        assert_eq!(PTE_SHARED, 0x300);
        assert_eq!(PTE_AF, 0x400);
        assert_eq!(PTE_NG, 0x800);
        assert_eq!(PTE_DBM, 0x0008_0000_0000_0000);
        assert_eq!(PTE_CONT, 0x0010_0000_0000_0000);
        assert_eq!(PTE_PXN, 0x0020_0000_0000_0000);
        assert_eq!(PTE_UXN, 0x0040_0000_0000_0000);
        assert_eq!(PTE_DIRTY, 0x0080_0000_0000_0000);
        assert_eq!(PTE_ADDR_MASK, 0x0000_ffff_ffff_f000);
    }

    #[test]
    fn mair_value_matches_linux() {
        assert_eq!((MT_NORMAL, MT_NORMAL_TAGGED, MT_NORMAL_NC), (0, 1, 2));
        assert_eq!((MT_DEVICE_nGnRnE, MT_DEVICE_nGnRE), (3, 4));
        assert_eq!(MAIR_EL1_SET, 0x0000_0004_0044_ffff);
        for (index, attr) in [
            (MT_NORMAL, 0xff),
            (MT_NORMAL_NC, 0x44),
            (MT_DEVICE_nGnRE, 0x04),
        ] {
            assert_eq!((MAIR_EL1_SET >> (index * 8)) & 0xff, attr);
        }
    }

    #[test]
    fn kernel_protections() {
        let text = pte(0x4008_0000, PAGE_KERNEL_ROX);
        assert_eq!(
            text.bits(),
            0x0040_0000_4008_0000 | 0x400 | 0x300 | 0x80 | 0b11
        );
        assert!(text.prot().is_kernel_exec() && !text.prot().is_writable());
        assert!(!text.prot().is_user() && !text.prot().is_user_exec());
        let rodata = PAGE_KERNEL_RO;
        assert!(!rodata.is_writable() && !rodata.is_kernel_exec());
        let data = PAGE_KERNEL;
        assert!(data.is_writable() && !data.is_kernel_exec() && !data.is_user());
        assert_eq!(data.bits() & PTE_NG, 0, "kernel mappings are global");
        let dev = PAGE_KERNEL_DEVICE;
        assert_eq!(dev.attr_index(), MT_DEVICE_nGnRE);
        assert!(dev.is_writable() && !dev.is_kernel_exec());
        assert_eq!(dev.bits() & PTE_UXN, PTE_UXN);
        for prot in [PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_KERNEL_ROX] {
            assert_eq!(prot.attr_index(), MT_NORMAL);
            assert_eq!(prot.bits() & (PTE_AF | PTE_SH_MASK), PTE_AF | PTE_SHARED);
        }
    }

    #[test]
    fn user_protections() {
        for prot in [PAGE_SHARED, PAGE_READONLY, PAGE_READONLY_EXEC] {
            assert!(prot.is_user());
            assert_eq!(
                prot.bits() & PTE_NG,
                PTE_NG,
                "user mappings are ASID-tagged"
            );
            assert!(!prot.is_kernel_exec(), "EL1 never executes user memory");
            assert_eq!(prot.bits() & PTE_AF, PTE_AF);
        }
        assert!(PAGE_SHARED.is_writable() && !PAGE_SHARED.is_user_exec());
        assert_eq!(PAGE_SHARED.bits() & PTE_AP_MASK, PTE_AP_EL0_RW);
        assert!(!PAGE_READONLY.is_writable() && !PAGE_READONLY.is_user_exec());
        assert_eq!(PAGE_READONLY.bits() & PTE_AP_MASK, PTE_AP_EL0_RO);
        assert!(!PAGE_READONLY_EXEC.is_writable() && PAGE_READONLY_EXEC.is_user_exec());
    }

    #[test]
    fn descriptor_kinds_and_addresses() {
        let table = Descriptor::table(0x4123_4000);
        assert_eq!(table.bits(), 0x4123_4003);
        assert!(table.is_valid() && table.is_table(0) && table.is_table(2));
        assert_eq!(
            table.kind(3),
            DescriptorKind::Page,
            "type 0b11 is a page at L3"
        );
        assert_eq!(table.output_address(), 0x4123_4000);

        let block = Descriptor::block(0x8000_0000, PAGE_KERNEL, 1);
        assert_eq!(block.bits() & PTE_TYPE_MASK, PMD_TYPE_SECT);
        assert_eq!(block.kind(1), DescriptorKind::Block);
        assert_eq!(block.kind(0), DescriptorKind::Reserved);
        assert!(block.is_leaf(2) && !block.is_table(1));
        assert_eq!(block.output_address(), 0x8000_0000);
        assert_eq!(block.prot(), PAGE_KERNEL);

        let page = pte(0x0000_ffff_ffff_f000, PAGE_READONLY);
        assert_eq!(page.output_address(), 0x0000_ffff_ffff_f000);
        assert_eq!(page.prot(), PAGE_READONLY);
        assert_eq!(page.kind(3), DescriptorKind::Page);
        assert_eq!(Descriptor::INVALID.kind(2), DescriptorKind::Invalid);
        assert!(!Descriptor::from_bits(0xdead_0000 & !1).is_valid());
    }

    #[test]
    fn descriptor_modifiers() {
        let p = pte(0x1000, PAGE_SHARED);
        let cow = p.wrprotect().set_bits(PTE_COW);
        assert!(!cow.prot().is_writable());
        assert_eq!(cow.bits() & PTE_COW, PTE_COW);
        assert_eq!(cow.output_address(), 0x1000);
        let back = cow.mkwrite().clear_bits(PTE_COW);
        assert_eq!(back, p);
        assert_eq!(
            PageProt::from_bits(u64::MAX).bits() & (PTE_ADDR_MASK | PTE_TYPE_MASK),
            0
        );
        assert_eq!(PAGE_KERNEL.set(PTE_RDONLY), PAGE_KERNEL_RO);
        assert_eq!(PAGE_KERNEL_RO.clear(PTE_RDONLY), PAGE_KERNEL);
        assert_eq!(
            PAGE_KERNEL.set(0x4000_0003),
            PAGE_KERNEL,
            "address/type bits are dropped"
        );
    }

    #[test]
    #[should_panic(expected = "misaligned")]
    fn misaligned_block_panics() {
        Descriptor::block(0x4010_0000, PAGE_KERNEL, 2);
    }

    #[test]
    #[should_panic(expected = "too-high")]
    fn page_above_48_bits_panics() {
        pte(1 << 48, PAGE_KERNEL);
    }

    #[test]
    fn split_all_aligned_uses_gib_blocks() {
        assert_eq!(
            split(0xffff_0000_0000_0000, 0, 4 * GIB),
            vec![(0xffff_0000_0000_0000, 0, 4 * GIB, 1)]
        );
    }

    #[test]
    fn split_mixed_alignment() {
        // 4 KiB into a 2 MiB-aligned start, ending 8 KiB past a 1 GiB boundary + 2 MiB.
        let va = 0xffff_0000_3fdf_f000;
        let pa = 0x3fdf_f000;
        let size = (GIB - (pa & (GIB - 1))) + GIB + 2 * MIB + 8 * KIB;
        assert_eq!(
            split(va, pa, size),
            vec![
                (va, pa, 4 * KIB, 3),
                (va + 4 * KIB, 0x3fe0_0000, 2 * MIB, 2),
                (0xffff_0000_4000_0000, 0x4000_0000, GIB, 1),
                (0xffff_0000_8000_0000, 0x8000_0000, 2 * MIB, 2),
                (0xffff_0000_8020_0000, 0x8020_0000, 8 * KIB, 3),
            ]
        );
    }

    #[test]
    fn split_incongruent_va_and_pa_falls_back() {
        // va and pa differ by 1 MiB modulo 2 MiB: no block can ever be used.
        assert_eq!(
            split(0x20_0000, 0x30_0000, 8 * MIB),
            vec![(0x20_0000, 0x30_0000, 8 * MIB, 3)]
        );
        // Congruent mod 2 MiB but not mod 1 GiB: 2 MiB blocks only, in one run.
        assert_eq!(split(0, 2 * MIB, 2 * GIB), vec![(0, 2 * MIB, 2 * GIB, 2)]);
    }

    #[test]
    fn split_does_not_stop_early_when_no_larger_block_fits() {
        // Crosses a 2 MiB boundary but only 1 MiB remains past it: one page run.
        assert_eq!(
            split(0x1f_0000, 0x1f_0000, 0x11_0000),
            vec![(0x1f_0000, 0x1f_0000, 0x11_0000, 3)]
        );
        // Crosses a 1 GiB boundary with under 1 GiB after it: one 2 MiB run.
        assert_eq!(
            split(GIB - 4 * MIB, GIB - 4 * MIB, 8 * MIB),
            vec![(GIB - 4 * MIB, GIB - 4 * MIB, 8 * MIB, 2)]
        );
    }

    #[test]
    fn split_pieces_cover_the_range_exactly_and_are_aligned() {
        for (va, pa, size) in [
            (0x1000, 0x1000, 3 * GIB + 5 * MIB + 0x3000),
            (0xffff_8000_0012_3000, 0x4012_3000, 2 * GIB),
            (0x7000, 0x20_7000, 6 * MIB),
        ] {
            let mut next_va = va;
            let mut next_pa = pa;
            for chunk in split_for_blocks(va, pa, size) {
                assert_eq!((chunk.va, chunk.pa), (next_va, next_pa));
                let block = level_block_size(chunk.level);
                assert!(chunk.size > 0 && chunk.size % block == 0);
                assert_eq!((chunk.va | chunk.pa) % block, 0);
                next_va += chunk.size;
                next_pa += chunk.size;
            }
            assert_eq!(next_va, va + size);
        }
        assert_eq!(split_for_blocks(0, 0, 0).count(), 0);
    }

    #[test]
    #[should_panic(expected = "not page aligned")]
    fn split_unaligned_panics() {
        split_for_blocks(0x1000, 0x1800, 0x1000);
    }
}
