//! Checking a flattened device tree blob before anything trusts it.
//!
//! The blob comes from the boot loader and is untrusted bytes. The `fdt` crate (0.1.5) that
//! reads it afterwards indexes and `expect`s its way through the structure block and panics on
//! a malformed one, so [`check_fdt`] walks the whole blob first, the way libfdt's
//! `fdt_check_header` and `fdt_check_full` do (`scripts/dtc/libfdt/fdt.c`, `fdt_check.c`,
//! which Linux's `drivers/of/fdt.c` relies on through `early_init_dt_verify`), and returns an
//! [`FdtError`] naming the reason and the byte offset instead of letting a bad blob panic.
//!
//! Beyond libfdt's checks it rejects what the `fdt` crate in particular cannot cope with:
//! - `FDT_NOP` tokens anywhere (its `skip_current_node` panics on a NOP between properties or
//!   children, and its node iterators silently stop at one). dtc never emits them.
//! - properties after a child node (the spec forbids them; the crate asserts).
//! - nesting deeper than [`FDT_MAX_DEPTH`] (the crate recurses per level, and its `all_nodes`
//!   keeps parents in an array of 64).
//! - `#address-cells`/`#size-cells` that are not one cell, and the string properties its
//!   accessors slice or unwrap (`compatible`, `model`, `bootargs`, `stdout-path`, ...) that are
//!   empty, unterminated or not UTF-8.
//! - header versions before 17, which have no `size_dt_struct` (the crate reads it anyway).
//!
//! What remains unchecked is semantics: `Fdt::chosen`, `Fdt::cpus`, `Fdt::memory` and
//! `Root::model`/`Root::compatible` of the crate still panic when the node or property they
//! expect is absent; use `find_node`/`property` instead.
//!
//! Offsets in errors are from the start of the blob, except `struct offset`s, which are from
//! the start of the structure block (as `fdtdump` prints them).

use core::fmt;

/// `FDT_MAGIC`: the first four bytes of every blob, big-endian.
pub const FDT_MAGIC: u32 = 0xd00d_feed;
/// Size of the version 17 header (`struct fdt_header`).
pub const FDT_HEADER_SIZE: usize = 40;
/// The oldest header version this checker accepts: 17 added `size_dt_struct`.
pub const FDT_FIRST_SUPPORTED_VERSION: u32 = 17;
/// The newest format version whose blobs this checker can read (`FDT_LAST_SUPPORTED_VERSION`).
pub const FDT_LAST_SUPPORTED_VERSION: u32 = 17;
/// The deepest node nesting accepted, the root being depth 1. Linux allows 64
/// (`FDT_MAX_DEPTH`); the `fdt` crate recurses once per level on the kernel stack, and real
/// trees are under ten deep.
pub const FDT_MAX_DEPTH: usize = 32;

/// Structure block token: start of a node, followed by its NUL-terminated name.
pub const FDT_BEGIN_NODE: u32 = 0x1;
/// Structure block token: end of a node.
pub const FDT_END_NODE: u32 = 0x2;
/// Structure block token: a property, followed by `len`, `nameoff` and `len` bytes of value.
pub const FDT_PROP: u32 = 0x3;
/// Structure block token: nothing.
pub const FDT_NOP: u32 = 0x4;
/// Structure block token: end of the structure block.
pub const FDT_END: u32 = 0x9;

/// Properties whose value the `fdt` crate reads as a NUL-terminated string.
const STRING_PROPERTIES: [&str; 7] = [
    "compatible",
    "model",
    "bootargs",
    "stdout-path",
    "stdin-path",
    "status",
    "device_type",
];

/// Properties the `fdt` crate reads as exactly one big-endian cell.
const CELL_PROPERTIES: [&str; 2] = ["#address-cells", "#size-cells"];

/// The facts a caller needs from a blob that passed [`check_fdt`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdtInfo {
    /// `totalsize`: bytes of the blob, all blocks included.
    pub totalsize: usize,
    /// `version` of the format.
    pub version: u32,
    /// `boot_cpuid_phys`: the `reg` of the CPU that booted.
    pub boot_cpuid_phys: u32,
}

/// The header field whose block [`FdtError::BadBlock`] complains about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// The memory reservation block (`off_mem_rsvmap`).
    MemRsvmap,
    /// The structure block (`off_dt_struct`, `size_dt_struct`).
    Struct,
    /// The strings block (`off_dt_strings`, `size_dt_strings`).
    Strings,
}

/// Why a blob was rejected, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdtError {
    /// The blob is shorter than the header.
    TooShort { len: usize },
    /// The first word is not [`FDT_MAGIC`].
    BadMagic { magic: u32 },
    /// `totalsize` is smaller than the header or larger than the blob.
    BadTotalSize { totalsize: u32, len: usize },
    /// The version is too old or the blob needs a newer reader.
    BadVersion {
        version: u32,
        last_comp_version: u32,
    },
    /// A block lies outside `totalsize`, inside the header, or is misaligned.
    BadBlock {
        block: Block,
        offset: u32,
        size: u32,
    },
    /// The memory reservation block runs past `totalsize` before its terminating entry.
    RsvmapUnterminated { offset: usize },
    /// A token or its payload runs past the end of the structure block.
    StructTruncated { offset: usize },
    /// A word that is not a token where a token belongs.
    BadToken { offset: usize, token: u32 },
    /// An `FDT_NOP`, which the `fdt` crate cannot skip reliably.
    Nop { offset: usize },
    /// The structure block does not start with the root node.
    NoRoot { offset: usize },
    /// A second top-level node after the root.
    SecondRoot { offset: usize },
    /// The root node has a name.
    RootNameNotEmpty { offset: usize },
    /// A node's name is not NUL-terminated within the block, empty, holds a `/`, or is not
    /// UTF-8.
    BadNodeName { offset: usize },
    /// Nodes nest deeper than [`FDT_MAX_DEPTH`].
    TooDeep { offset: usize },
    /// An `FDT_END_NODE` with no open node.
    UnbalancedEndNode { offset: usize },
    /// `FDT_END` while nodes are still open.
    UnclosedNode { offset: usize, depth: usize },
    /// Bytes after `FDT_END` inside the structure block.
    TrailingData { offset: usize },
    /// A property outside any node.
    PropOutsideNode { offset: usize },
    /// A property after a child node of the same node.
    PropAfterSubnode { offset: usize },
    /// A property's value runs past the end of the structure block.
    PropPastEnd { offset: usize },
    /// A property's `nameoff` is not a NUL-terminated UTF-8 string in the strings block.
    BadPropName { offset: usize, nameoff: u32 },
    /// `#address-cells` or `#size-cells` is not one cell.
    BadCellsProperty { offset: usize },
    /// A string property is empty, not NUL-terminated or not UTF-8.
    BadStringProperty { offset: usize },
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Block::MemRsvmap => "memory reservation block",
            Block::Struct => "structure block",
            Block::Strings => "strings block",
        })
    }
}

impl fmt::Display for FdtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FdtError::TooShort { len } => {
                write!(
                    f,
                    "blob of {len} bytes is shorter than the {FDT_HEADER_SIZE}-byte header"
                )
            }
            FdtError::BadMagic { magic } => write!(f, "bad magic {magic:#010x}"),
            FdtError::BadTotalSize { totalsize, len } => {
                write!(
                    f,
                    "totalsize {totalsize:#x} does not fit the {len:#x}-byte blob"
                )
            }
            FdtError::BadVersion {
                version,
                last_comp_version,
            } => write!(
                f,
                "unsupported version {version} (last compatible {last_comp_version}), need 17"
            ),
            FdtError::BadBlock {
                block,
                offset,
                size,
            } => {
                write!(
                    f,
                    "{block} at offset {offset:#x} size {size:#x} is out of bounds or misaligned"
                )
            }
            FdtError::RsvmapUnterminated { offset } => {
                write!(
                    f,
                    "memory reservation at offset {offset:#x} runs past totalsize"
                )
            }
            FdtError::StructTruncated { offset } => {
                write!(f, "token at struct offset {offset:#x} runs past the block")
            }
            FdtError::BadToken { offset, token } => {
                write!(f, "bad token {token:#x} at struct offset {offset:#x}")
            }
            FdtError::Nop { offset } => {
                write!(f, "unsupported FDT_NOP at struct offset {offset:#x}")
            }
            FdtError::NoRoot { offset } => {
                write!(f, "no root node at struct offset {offset:#x}")
            }
            FdtError::SecondRoot { offset } => {
                write!(f, "second top-level node at struct offset {offset:#x}")
            }
            FdtError::RootNameNotEmpty { offset } => {
                write!(f, "root node at struct offset {offset:#x} has a name")
            }
            FdtError::BadNodeName { offset } => {
                write!(f, "node at struct offset {offset:#x} has a bad name")
            }
            FdtError::TooDeep { offset } => write!(
                f,
                "node at struct offset {offset:#x} nests deeper than {FDT_MAX_DEPTH} levels"
            ),
            FdtError::UnbalancedEndNode { offset } => {
                write!(
                    f,
                    "FDT_END_NODE without a node at struct offset {offset:#x}"
                )
            }
            FdtError::UnclosedNode { offset, depth } => {
                write!(
                    f,
                    "FDT_END at struct offset {offset:#x} with {depth} node(s) open"
                )
            }
            FdtError::TrailingData { offset } => {
                write!(f, "data after FDT_END at struct offset {offset:#x}")
            }
            FdtError::PropOutsideNode { offset } => {
                write!(f, "property outside any node at struct offset {offset:#x}")
            }
            FdtError::PropAfterSubnode { offset } => {
                write!(f, "property after a subnode at struct offset {offset:#x}")
            }
            FdtError::PropPastEnd { offset } => {
                write!(
                    f,
                    "property at struct offset {offset:#x} runs past the block"
                )
            }
            FdtError::BadPropName { offset, nameoff } => write!(
                f,
                "property at struct offset {offset:#x} has a bad name offset {nameoff:#x}"
            ),
            FdtError::BadCellsProperty { offset } => {
                write!(
                    f,
                    "cell count property at struct offset {offset:#x} is not one cell"
                )
            }
            FdtError::BadStringProperty { offset } => write!(
                f,
                "string property at struct offset {offset:#x} is not a NUL-terminated UTF-8 string"
            ),
        }
    }
}

/// The big-endian word at `offset` of `bytes`, if all four bytes are there.
fn be32(bytes: &[u8], offset: usize) -> Option<u32> {
    crate::of::base::be32(bytes.get(offset..)?)
}

/// The NUL-terminated UTF-8 string at the start of `bytes`, if it is one.
fn cstr(bytes: &[u8]) -> Option<&str> {
    let len = bytes.iter().position(|&b| b == 0)?;
    core::str::from_utf8(&bytes[..len]).ok()
}

/// `offset` rounded up to a multiple of four (`FDT_TAGALIGN`).
fn tag_align(offset: usize) -> Option<usize> {
    Some(offset.checked_add(3)? & !3)
}

/// The size of the blob that starts with `first_40_bytes`, read from its header, so the caller
/// knows how much to map before calling [`check_fdt`]. `None` if the bytes are too few or the
/// magic is wrong. The size is not checked against anything: `check_fdt` does that.
pub fn header_totalsize(first_40_bytes: &[u8]) -> Option<usize> {
    if be32(first_40_bytes, 0)? != FDT_MAGIC {
        return None;
    }
    usize::try_from(be32(first_40_bytes, 4)?).ok()
}

/// The header fields, in `struct fdt_header` order.
struct Header {
    totalsize: u32,
    off_dt_struct: u32,
    off_dt_strings: u32,
    off_mem_rsvmap: u32,
    version: u32,
    last_comp_version: u32,
    boot_cpuid_phys: u32,
    size_dt_strings: u32,
    size_dt_struct: u32,
}

/// Checks that `[offset, offset + size)` lies after the header, inside `totalsize`, and that
/// `offset` is a multiple of `align`; returns the range.
fn block_range(
    block: Block,
    offset: u32,
    size: u32,
    align: u32,
    totalsize: u32,
) -> Result<core::ops::Range<usize>, FdtError> {
    let bad = FdtError::BadBlock {
        block,
        offset,
        size,
    };
    let end = offset.checked_add(size).ok_or(bad)?;
    if (offset as usize) < FDT_HEADER_SIZE || end > totalsize || !offset.is_multiple_of(align) {
        return Err(bad);
    }
    Ok(offset as usize..end as usize)
}

/// `fdt_check_header` + `fdt_check_full`: checks every byte of `blob` that the `fdt` crate
/// could read, and returns the header facts if the blob is safe to hand to `fdt::Fdt::new`.
pub fn check_fdt(blob: &[u8]) -> Result<FdtInfo, FdtError> {
    let field = |i: usize| be32(blob, 4 * i).ok_or(FdtError::TooShort { len: blob.len() });
    let magic = field(0)?;
    if magic != FDT_MAGIC {
        return Err(FdtError::BadMagic { magic });
    }
    let header = Header {
        totalsize: field(1)?,
        off_dt_struct: field(2)?,
        off_dt_strings: field(3)?,
        off_mem_rsvmap: field(4)?,
        version: field(5)?,
        last_comp_version: field(6)?,
        boot_cpuid_phys: field(7)?,
        size_dt_strings: field(8)?,
        size_dt_struct: field(9)?,
    };
    if (header.totalsize as usize) < FDT_HEADER_SIZE || header.totalsize as usize > blob.len() {
        return Err(FdtError::BadTotalSize {
            totalsize: header.totalsize,
            len: blob.len(),
        });
    }
    if header.version < FDT_FIRST_SUPPORTED_VERSION
        || header.last_comp_version > FDT_LAST_SUPPORTED_VERSION
        || header.last_comp_version > header.version
    {
        return Err(FdtError::BadVersion {
            version: header.version,
            last_comp_version: header.last_comp_version,
        });
    }
    let blob = &blob[..header.totalsize as usize];

    // The reservation block has no size field: it ends with an all-zero entry.
    let rsvmap = block_range(
        Block::MemRsvmap,
        header.off_mem_rsvmap,
        0,
        8,
        header.totalsize,
    )?;
    check_rsvmap(blob, rsvmap.start)?;
    let structure = block_range(
        Block::Struct,
        header.off_dt_struct,
        header.size_dt_struct,
        4,
        header.totalsize,
    )?;
    let strings = block_range(
        Block::Strings,
        header.off_dt_strings,
        header.size_dt_strings,
        1,
        header.totalsize,
    )?;
    check_struct(&blob[structure], &blob[strings])?;

    Ok(FdtInfo {
        totalsize: header.totalsize as usize,
        version: header.version,
        boot_cpuid_phys: header.boot_cpuid_phys,
    })
}

/// Walks the memory reservation entries from `offset` to the terminating (0, 0) entry.
fn check_rsvmap(blob: &[u8], mut offset: usize) -> Result<(), FdtError> {
    loop {
        let entry = offset.checked_add(16).and_then(|end| blob.get(offset..end));
        let entry = entry.ok_or(FdtError::RsvmapUnterminated { offset })?;
        if entry.iter().all(|&b| b == 0) {
            return Ok(());
        }
        offset += 16;
    }
}

/// Walks the structure block token by token (`fdt_check_full`).
fn check_struct(structure: &[u8], strings: &[u8]) -> Result<(), FdtError> {
    let mut offset = 0;
    let mut depth = 0;
    let mut seen_root = false;
    // Whether the node now open may still get properties: not once a child has closed.
    let mut props_allowed = false;
    loop {
        let token = be32(structure, offset).ok_or(FdtError::StructTruncated { offset })?;
        if !seen_root && token != FDT_BEGIN_NODE {
            return Err(FdtError::NoRoot { offset });
        }
        match token {
            FDT_BEGIN_NODE => {
                if depth == 0 && seen_root {
                    return Err(FdtError::SecondRoot { offset });
                }
                let name_bytes = structure.get(offset + 4..).unwrap_or_default();
                let name = cstr(name_bytes).ok_or(FdtError::BadNodeName { offset })?;
                if depth == 0 && !name.is_empty() {
                    return Err(FdtError::RootNameNotEmpty { offset });
                }
                if depth > 0 && (name.is_empty() || name.contains('/')) {
                    return Err(FdtError::BadNodeName { offset });
                }
                depth += 1;
                if depth > FDT_MAX_DEPTH {
                    return Err(FdtError::TooDeep { offset });
                }
                seen_root = true;
                props_allowed = true;
                // The name's NUL is inside the block, so this cannot overflow.
                offset = tag_align(offset + 4 + name.len() + 1)
                    .ok_or(FdtError::StructTruncated { offset })?;
            }
            FDT_END_NODE => {
                if depth == 0 {
                    return Err(FdtError::UnbalancedEndNode { offset });
                }
                depth -= 1;
                props_allowed = false;
                offset += 4;
            }
            FDT_PROP => {
                if depth == 0 {
                    return Err(FdtError::PropOutsideNode { offset });
                }
                if !props_allowed {
                    return Err(FdtError::PropAfterSubnode { offset });
                }
                let len =
                    be32(structure, offset + 4).ok_or(FdtError::StructTruncated { offset })?;
                let nameoff =
                    be32(structure, offset + 8).ok_or(FdtError::StructTruncated { offset })?;
                let start = offset + 12;
                let value = start
                    .checked_add(len as usize)
                    .and_then(|end| structure.get(start..end))
                    .ok_or(FdtError::PropPastEnd { offset })?;
                let name = strings
                    .get(nameoff as usize..)
                    .and_then(cstr)
                    .ok_or(FdtError::BadPropName { offset, nameoff })?;
                check_property(name, value, offset)?;
                offset = tag_align(start + value.len()).ok_or(FdtError::PropPastEnd { offset })?;
            }
            FDT_NOP => return Err(FdtError::Nop { offset }),
            FDT_END => {
                if depth != 0 {
                    return Err(FdtError::UnclosedNode { offset, depth });
                }
                if offset + 4 != structure.len() {
                    return Err(FdtError::TrailingData { offset: offset + 4 });
                }
                return Ok(());
            }
            token => return Err(FdtError::BadToken { offset, token }),
        }
    }
}

/// Checks the value of the properties the `fdt` crate interprets.
fn check_property(name: &str, value: &[u8], offset: usize) -> Result<(), FdtError> {
    if CELL_PROPERTIES.contains(&name) && value.len() != 4 {
        return Err(FdtError::BadCellsProperty { offset });
    }
    if STRING_PROPERTIES.contains(&name)
        && (value.last() != Some(&0) || core::str::from_utf8(value).is_err())
    {
        return Err(FdtError::BadStringProperty { offset });
    }
    Ok(())
}

/// Squeeze the `FDT_NOP` tokens out of the structure block, in place, and shrink the
/// header's `size_dt_struct` (what libfdt's `fdt_pack` does for deleted nodes). Loaders edit
/// device trees by overwriting what they delete with NOPs — QEMU's `-dtb`, the Raspberry Pi
/// firmware, U-Boot — and the `fdt` crate does not accept NOPs everywhere, so the kernel
/// packs the blob before checking it. Returns how many NOP tokens were removed.
///
/// Only the token framing is trusted here, and checked as it is walked: anything malformed
/// stops the packing with an error and leaves the rest of the blob for `check_fdt` to
/// reject.
pub fn remove_nops(blob: &mut [u8]) -> Result<usize, FdtError> {
    let be32 = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let total = header_totalsize(blob).ok_or(FdtError::TooShort { len: blob.len() })?;
    if total > blob.len() || total < FDT_HEADER_SIZE {
        return Err(FdtError::BadTotalSize {
            totalsize: total as u32,
            len: blob.len(),
        });
    }
    let off_struct = be32(blob, 8).ok_or(FdtError::TooShort { len: blob.len() })? as usize;
    let size_struct = be32(blob, 36).ok_or(FdtError::TooShort { len: blob.len() })? as usize;
    let end = off_struct.checked_add(size_struct).filter(|&e| e <= total);
    let end = end.ok_or(FdtError::BadBlock {
        block: Block::Struct,
        offset: off_struct as u32,
        size: size_struct as u32,
    })?;
    let (mut read, mut write, mut removed) = (off_struct, off_struct, 0);
    while read < end {
        let token = be32(blob, read).ok_or(FdtError::StructTruncated {
            offset: read - off_struct,
        })?;
        let len = match token {
            FDT_NOP => {
                removed += 1;
                read += 4;
                continue;
            }
            FDT_BEGIN_NODE => {
                let name = blob.get(read + 4..end).ok_or(FdtError::StructTruncated {
                    offset: read - off_struct,
                })?;
                let nul = name.iter().position(|&b| b == 0);
                4 + (nul.ok_or(FdtError::StructTruncated {
                    offset: read - off_struct,
                })? + 1)
                    .next_multiple_of(4)
            }
            FDT_PROP => {
                let vlen = be32(blob, read + 4).ok_or(FdtError::StructTruncated {
                    offset: read - off_struct,
                })?;
                12 + (vlen as usize).next_multiple_of(4)
            }
            FDT_END_NODE | FDT_END => 4,
            token => {
                return Err(FdtError::BadToken {
                    offset: read - off_struct,
                    token,
                })
            }
        };
        if read + len > end {
            return Err(FdtError::StructTruncated {
                offset: read - off_struct,
            });
        }
        blob.copy_within(read..read + len, write);
        read += len;
        write += len;
        if token == FDT_END {
            break;
        }
    }
    let new_size = (write - off_struct) as u32;
    blob[36..40].copy_from_slice(&new_size.to_be_bytes());
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    static QEMU_VIRT: &[u8] = include_bytes!("testdata/qemu-virt.dtb");

    /// A tiny FDT writer, for blobs dtc would refuse to produce.
    #[derive(Default)]
    struct Builder {
        structure: Vec<u8>,
        strings: Vec<u8>,
    }

    impl Builder {
        fn word(&mut self, word: u32) -> &mut Self {
            self.structure.extend_from_slice(&word.to_be_bytes());
            self
        }

        fn pad(&mut self) {
            while !self.structure.len().is_multiple_of(4) {
                self.structure.push(0);
            }
        }

        fn begin(&mut self, name: &str) -> &mut Self {
            self.word(FDT_BEGIN_NODE);
            self.structure.extend_from_slice(name.as_bytes());
            self.structure.push(0);
            self.pad();
            self
        }

        fn end(&mut self) -> &mut Self {
            self.word(FDT_END_NODE)
        }

        fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
            let nameoff = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            self.word(FDT_PROP).word(value.len() as u32).word(nameoff);
            self.structure.extend_from_slice(value);
            self.pad();
            self
        }

        fn finish(&mut self) -> Vec<u8> {
            self.word(FDT_END);
            let off_rsvmap = FDT_HEADER_SIZE as u32;
            let off_struct = off_rsvmap + 16;
            let off_strings = off_struct + self.structure.len() as u32;
            let total = off_strings + self.strings.len() as u32;
            let mut blob = Vec::new();
            for word in [
                FDT_MAGIC,
                total,
                off_struct,
                off_strings,
                off_rsvmap,
                17,
                16,
                0,
                self.strings.len() as u32,
                self.structure.len() as u32,
            ] {
                blob.extend_from_slice(&word.to_be_bytes());
            }
            blob.extend_from_slice(&[0; 16]);
            blob.extend_from_slice(&self.structure);
            blob.extend_from_slice(&self.strings);
            blob
        }
    }

    fn minimal() -> Vec<u8> {
        Builder::default()
            .begin("")
            .prop("#address-cells", &2u32.to_be_bytes())
            .prop("compatible", b"test\0")
            .begin("chosen")
            .prop("bootargs", b"quiet\0")
            .end()
            .end()
            .finish()
    }

    /// Walks everything the `fdt` crate can reach, touching every name and value.
    fn traverse(blob: &[u8]) -> usize {
        let fdt = fdt::Fdt::new(blob).expect("check_fdt accepted it");
        let mut touched = 0;
        for node in fdt.all_nodes() {
            touched += node.name.len();
            for prop in node.properties() {
                touched += prop.name.len() + prop.value.len();
            }
            let cells = node.cell_sizes();
            touched += cells.address_cells + cells.size_cells;
            if let Some(compatible) = node.compatible() {
                touched += compatible.all().count();
            }
            if let Some(reg) = node.raw_reg() {
                touched += reg.take(16).count();
            }
        }
        // `children` and `find_node` skip whole subtrees (`skip_current_node`, the crate's
        // most panicky path); doing it from the root and its children covers every node
        // without making the walk quadratic.
        let root = fdt.find_node("/").expect("check_fdt requires a root");
        for child in root.children() {
            touched += child.name.len();
            touched += child
                .children()
                .map(|grandchild| grandchild.name.len())
                .sum::<usize>();
        }
        touched += fdt.find_node("/no/such/node").map_or(0, |n| n.name.len());
        for reservation in fdt.memory_reservations() {
            touched += reservation.size();
        }
        touched += fdt.strings().count();
        touched += fdt.find_node("/chosen").map_or(0, |n| n.name.len());
        touched
    }

    #[test]
    fn qemu_virt_is_valid() {
        let info = check_fdt(QEMU_VIRT).unwrap();
        assert_eq!(info.totalsize, QEMU_VIRT.len());
        assert_eq!(info.version, 17);
        assert_eq!(info.boot_cpuid_phys, 0);
        assert_eq!(header_totalsize(&QEMU_VIRT[..40]), Some(QEMU_VIRT.len()));
        assert!(traverse(QEMU_VIRT) > 1000);
    }

    #[test]
    fn built_blob_is_valid() {
        let blob = minimal();
        assert!(check_fdt(&blob).is_ok());
        let fdt = fdt::Fdt::new(&blob).unwrap();
        assert_eq!(fdt.chosen().bootargs(), Some("quiet"));
    }

    #[test]
    fn header_errors() {
        assert_eq!(check_fdt(&[]), Err(FdtError::TooShort { len: 0 }));
        assert_eq!(header_totalsize(&[0xd0, 0x0d]), None);
        let mut blob = minimal();
        assert_eq!(check_fdt(&blob[..39]), Err(FdtError::TooShort { len: 39 }));
        let len = blob.len();
        assert_eq!(
            check_fdt(&blob[..len - 1]),
            Err(FdtError::BadTotalSize {
                totalsize: len as u32,
                len: len - 1
            })
        );
        blob[0] = 0xde;
        let err = check_fdt(&blob).unwrap_err();
        assert_eq!(err, FdtError::BadMagic { magic: 0xde0d_feed });
        assert_eq!(std::format!("{err}"), "bad magic 0xde0dfeed");
        assert_eq!(header_totalsize(&blob), None);

        let mut blob = minimal();
        blob[23] = 16; // version 16
        assert!(matches!(
            check_fdt(&blob),
            Err(FdtError::BadVersion { version: 16, .. })
        ));

        let mut blob = minimal();
        blob[11] += 2; // off_dt_struct misaligned
        assert!(matches!(
            check_fdt(&blob),
            Err(FdtError::BadBlock {
                block: Block::Struct,
                ..
            })
        ));

        let mut blob = minimal();
        blob[35] += 1; // size_dt_strings one past totalsize
        assert!(matches!(
            check_fdt(&blob),
            Err(FdtError::BadBlock {
                block: Block::Strings,
                ..
            })
        ));

        let mut blob = minimal();
        blob[40] = 1; // reservation entry not all zero: the next one is the struct block
        assert!(matches!(
            check_fdt(&blob),
            Ok(_) | Err(FdtError::RsvmapUnterminated { .. })
        ));
        blob[40..].fill(0xff);
        assert!(matches!(
            check_fdt(&blob),
            Err(FdtError::RsvmapUnterminated { .. })
        ));
    }

    #[test]
    fn structure_errors() {
        let blob = Builder::default()
            .begin("")
            .prop("x", &[1; 8])
            .end()
            .finish();
        assert!(check_fdt(&blob).is_ok());

        // Property length past the end of the block.
        let mut bad = blob.clone();
        let len_at = 56 + 8 + 4;
        bad[len_at + 3] = 0x40;
        let err = check_fdt(&bad).unwrap_err();
        assert_eq!(err, FdtError::PropPastEnd { offset: 8 });
        assert_eq!(
            std::format!("{err}"),
            "property at struct offset 0x8 runs past the block"
        );

        // Name offset outside the strings block.
        let mut bad = blob.clone();
        bad[len_at + 7] = 0x40;
        assert_eq!(
            check_fdt(&bad),
            Err(FdtError::BadPropName {
                offset: 8,
                nameoff: 0x40
            })
        );

        let no_end = Builder::default().begin("").finish();
        assert_eq!(
            check_fdt(&no_end),
            Err(FdtError::UnclosedNode {
                offset: 8,
                depth: 1
            })
        );

        let extra_end = Builder::default().begin("").end().end().finish();
        assert_eq!(
            check_fdt(&extra_end),
            Err(FdtError::UnbalancedEndNode { offset: 12 })
        );

        let two_roots = Builder::default().begin("").end().begin("").end().finish();
        assert_eq!(
            check_fdt(&two_roots),
            Err(FdtError::SecondRoot { offset: 12 })
        );

        let named_root = Builder::default().begin("root").end().finish();
        assert_eq!(
            check_fdt(&named_root),
            Err(FdtError::RootNameNotEmpty { offset: 0 })
        );

        let no_root = Builder::default().finish();
        assert_eq!(check_fdt(&no_root), Err(FdtError::NoRoot { offset: 0 }));

        let nop = Builder::default().begin("").word(FDT_NOP).end().finish();
        assert_eq!(check_fdt(&nop), Err(FdtError::Nop { offset: 8 }));
        let mut packed = nop.clone();
        assert_eq!(remove_nops(&mut packed), Ok(1));
        assert!(
            check_fdt(&packed).is_ok(),
            "NOPs packed away: {:?}",
            check_fdt(&packed)
        );

        let prop_after_child = Builder::default()
            .begin("")
            .begin("a")
            .end()
            .prop("x", &[])
            .end()
            .finish();
        assert_eq!(
            check_fdt(&prop_after_child),
            Err(FdtError::PropAfterSubnode { offset: 20 })
        );

        let bad_token = Builder::default().begin("").word(7).end().finish();
        assert_eq!(
            check_fdt(&bad_token),
            Err(FdtError::BadToken {
                offset: 8,
                token: 7
            })
        );

        let unnamed_child = Builder::default().begin("").begin("").end().end().finish();
        assert_eq!(
            check_fdt(&unnamed_child),
            Err(FdtError::BadNodeName { offset: 8 })
        );

        let short_cells = Builder::default()
            .begin("")
            .prop("#size-cells", &[0, 1])
            .end()
            .finish();
        assert_eq!(
            check_fdt(&short_cells),
            Err(FdtError::BadCellsProperty { offset: 8 })
        );

        let empty_bootargs = Builder::default()
            .begin("")
            .prop("bootargs", &[])
            .end()
            .finish();
        assert_eq!(
            check_fdt(&empty_bootargs),
            Err(FdtError::BadStringProperty { offset: 8 })
        );

        let bad_utf8 = Builder::default()
            .begin("")
            .begin("\u{e9}")
            .end()
            .end()
            .finish();
        let mut bad_utf8 = bad_utf8.clone();
        bad_utf8[56 + 8 + 4 + 1] = 0xff; // second byte of "é"
        assert_eq!(
            check_fdt(&bad_utf8),
            Err(FdtError::BadNodeName { offset: 8 })
        );

        // The structure block with FDT_END cut off.
        let mut truncated = minimal();
        let size_at = 36;
        let size = u32::from_be_bytes(truncated[size_at..size_at + 4].try_into().unwrap());
        truncated[size_at..size_at + 4].copy_from_slice(&(size - 4).to_be_bytes());
        assert_eq!(
            check_fdt(&truncated),
            Err(FdtError::StructTruncated {
                offset: size as usize - 4
            })
        );
    }

    #[test]
    fn rejects_what_the_fdt_crate_panics_on() {
        let nop_between_props = Builder::default()
            .begin("")
            .begin("a")
            .prop("x", &[1; 4])
            .word(FDT_NOP)
            .prop("y", &[2; 4])
            .end()
            .end()
            .finish();
        let prop_after_subnode = Builder::default()
            .begin("")
            .begin("a")
            .begin("b")
            .end()
            .prop("y", &[2; 4])
            .end()
            .end()
            .finish();
        let short_cells = Builder::default()
            .begin("")
            .prop("#address-cells", &[0, 1])
            .begin("a")
            .prop("reg", &[0; 12])
            .end()
            .end()
            .finish();
        for blob in [nop_between_props, prop_after_subnode, short_cells] {
            assert!(check_fdt(&blob).is_err());
            // If this starts failing, the fdt crate was fixed and the check may be relaxed.
            assert!(std::panic::catch_unwind(|| traverse(&blob)).is_err());
        }
    }

    #[test]
    fn depth_limit() {
        let mut builder = Builder::default();
        builder.begin("");
        for _ in 1..FDT_MAX_DEPTH {
            builder.begin("n");
        }
        for _ in 0..FDT_MAX_DEPTH {
            builder.end();
        }
        let deepest = builder.finish();
        assert!(check_fdt(&deepest).is_ok());
        traverse(&deepest);

        let mut builder = Builder::default();
        builder.begin("");
        for _ in 0..FDT_MAX_DEPTH {
            builder.begin("n");
        }
        for _ in 0..=FDT_MAX_DEPTH {
            builder.end();
        }
        assert!(matches!(
            check_fdt(&builder.finish()),
            Err(FdtError::TooDeep { .. })
        ));
    }

    /// Every blob `check_fdt` accepts can be walked by the `fdt` crate without a panic.
    fn accepted_blobs_do_not_panic(blob: &[u8]) -> (usize, usize) {
        let (mut accepted, mut rejected) = (0, 0);
        match check_fdt(blob) {
            Ok(_) => {
                accepted += 1;
                let result = std::panic::catch_unwind(|| traverse(blob));
                assert!(
                    result.is_ok(),
                    "check_fdt accepted a blob the fdt crate panics on"
                );
            }
            Err(_) => rejected += 1,
        }
        (accepted, rejected)
    }

    #[test]
    fn mutations_either_fail_or_traverse() {
        let base = QEMU_VIRT;
        let (mut accepted, mut rejected) = (0, 0);
        let mut blob = base.to_vec();
        // One corruption per byte, cycling through the kinds (all of them at every byte
        // takes too long in a debug build): zero, all ones, low bit, high bit, +4 (which
        // turns one token into another).
        for i in 0..base.len() {
            blob[i] = match i % 5 {
                0 => 0x00,
                1 => 0xff,
                2 => base[i] ^ 0x01,
                3 => base[i] ^ 0x80,
                _ => base[i].wrapping_add(4),
            };
            let (a, r) = accepted_blobs_do_not_panic(&blob);
            accepted += a;
            rejected += r;
            blob[i] = base[i];
        }
        // Most corruptions of values and names are harmless; most of the framing is not.
        assert!(accepted > 1000, "accepted {accepted}");
        assert!(rejected > 1000, "rejected {rejected}");
    }

    #[test]
    fn truncations_are_rejected() {
        // A blob cut short fails the totalsize check ...
        for len in 0..QEMU_VIRT.len() {
            assert!(check_fdt(&QEMU_VIRT[..len]).is_err(), "len {len}");
        }
        // ... and a structure block cut short loses its FDT_END.
        let size = u32::from_be_bytes(QEMU_VIRT[36..40].try_into().unwrap());
        let mut blob = QEMU_VIRT.to_vec();
        for cut in (0..size).step_by(4) {
            blob[36..40].copy_from_slice(&cut.to_be_bytes());
            assert!(check_fdt(&blob).is_err(), "size_dt_struct {cut:#x}");
        }
    }

    #[test]
    fn mutations_of_built_blob() {
        // Exhaustive over all byte values at every position of a tiny blob.
        let base = minimal();
        let mut blob = base.clone();
        let mut accepted = 0;
        for i in 0..base.len() {
            for value in 0..=255u8 {
                blob[i] = value;
                accepted += accepted_blobs_do_not_panic(&blob).0;
            }
            blob[i] = base[i];
        }
        assert!(accepted > base.len());
    }
}
