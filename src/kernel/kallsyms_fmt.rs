//! The kernel symbol table's format and lookup (Linux: `kernel/kallsyms.c`).
//!
//! `cargo xtask build` reads the function symbols of the linked `vmlinux`, demangles them,
//! and writes this table into the space the `.kallsyms` section reserved. The oops path uses
//! it to print `pc : start_kernel+0x24/0x80`. Everything here is checked against the bytes,
//! so an empty or damaged table simply yields no names.
//!
//! ```text
//! offset  size  field
//! 0       4     magic "KSYM"
//! 4       4     count: number of entries
//! 8       4     names: offset of the string table from the start of the table
//! 12      4     reserved (0)
//! 16      16*n  entries, sorted by address: addr u64, size u32, name offset u32
//! names   ...   NUL-terminated names
//! ```

/// First four bytes of a filled-in table.
pub const MAGIC: [u8; 4] = *b"KSYM";
/// Size of the header.
pub const HEADER_LEN: usize = 16;
/// Size of one entry.
pub const ENTRY_LEN: usize = 16;

/// A symbol found for an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Symbol<'a> {
    /// The demangled name.
    pub name: &'a str,
    /// Address of the symbol's first byte.
    pub addr: u64,
    /// The symbol's size in bytes.
    pub size: u64,
}

/// A view of a symbol table in memory.
pub struct Kallsyms<'a> {
    table: &'a [u8],
    count: usize,
    names: usize,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

impl<'a> Kallsyms<'a> {
    /// Check the header; `None` if the table was never filled in or is damaged.
    pub fn new(table: &'a [u8]) -> Option<Self> {
        if table.get(..4)? != MAGIC {
            return None;
        }
        let count = u32_at(table, 4)? as usize;
        let names = u32_at(table, 8)? as usize;
        let entries_end = HEADER_LEN.checked_add(count.checked_mul(ENTRY_LEN)?)?;
        if entries_end > names || names > table.len() {
            return None;
        }
        Some(Self {
            table,
            count,
            names,
        })
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if the table has no symbols.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn entry(&self, i: usize) -> Option<(u64, u64, u32)> {
        let at = HEADER_LEN + i * ENTRY_LEN;
        Some((
            u64_at(self.table, at)?,
            u32_at(self.table, at + 8)? as u64,
            u32_at(self.table, at + 12)?,
        ))
    }

    fn name(&self, offset: u32) -> Option<&'a str> {
        let start = self.names.checked_add(offset as usize)?;
        let rest = self.table.get(start..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        core::str::from_utf8(&rest[..end]).ok()
    }

    /// The symbol containing `addr` (Linux's `kallsyms_lookup`), if any.
    pub fn lookup(&self, addr: u64) -> Option<Symbol<'a>> {
        // Binary search for the last entry with entry.addr <= addr.
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entry(mid)?.0 <= addr {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let (start, size, name) = self.entry(lo.checked_sub(1)?)?;
        // A zero-sized symbol covers nothing past its first byte... except that assembly
        // labels have no size: let them cover up to 4 KiB.
        let reach = if size == 0 { 4096 } else { size };
        if addr - start >= reach {
            return None;
        }
        Some(Symbol {
            name: self.name(name)?,
            addr: start,
            size,
        })
    }

    /// The address of the symbol called `name` (exact match), if any.
    pub fn lookup_name(&self, name: &str) -> Option<u64> {
        (0..self.count).find_map(|i| {
            let (addr, _, off) = self.entry(i)?;
            (self.name(off)? == name).then_some(addr)
        })
    }
}

/// Build a table from (addr, size, name) triples: what `cargo xtask build` does (kept here so
/// the format has one definition, and the tests use it).
#[cfg(not(target_os = "none"))]
pub fn build(symbols: &[(u64, u64, &str)]) -> Vec<u8> {
    let mut sorted: Vec<_> = symbols.to_vec();
    sorted.sort_by_key(|s| s.0);
    let names_off = HEADER_LEN + sorted.len() * ENTRY_LEN;
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    out.extend_from_slice(&(names_off as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut names = Vec::new();
    for (addr, size, name) in &sorted {
        out.extend_from_slice(&addr.to_le_bytes());
        out.extend_from_slice(&(*size as u32).to_le_bytes());
        out.extend_from_slice(&(names.len() as u32).to_le_bytes());
        names.extend_from_slice(name.as_bytes());
        names.push(0);
    }
    out.extend_from_slice(&names);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_containing_symbol() {
        let t = build(&[
            (0x1000, 0x20, "b"),
            (0x800, 0x10, "a"),
            (0x2000, 0, "asm_label"),
        ]);
        let k = Kallsyms::new(&t).unwrap();
        assert_eq!(k.len(), 3);
        assert_eq!(
            k.lookup(0x1004).unwrap(),
            Symbol {
                name: "b",
                addr: 0x1000,
                size: 0x20
            }
        );
        assert_eq!(k.lookup(0x800).unwrap().name, "a");
        assert_eq!(k.lookup(0x810), None, "past the end of a");
        assert_eq!(k.lookup(0x7ff), None, "before every symbol");
        assert_eq!(k.lookup(0x2100).unwrap().name, "asm_label");
        assert_eq!(k.lookup_name("b"), Some(0x1000));
        assert_eq!(k.lookup_name("c"), None);
    }

    #[test]
    fn empty_or_damaged_tables_give_no_names() {
        assert!(Kallsyms::new(&[0; 64]).is_none());
        let mut t = build(&[(0x1000, 0x20, "b")]);
        t[4] = 0xff; // count far past the end
        assert!(Kallsyms::new(&t).is_none());
        let t = build(&[(0x1000, 0x20, "b")]);
        assert!(Kallsyms::new(&t[..t.len() - 1])
            .unwrap()
            .lookup(0x1000)
            .is_none());
    }
}
