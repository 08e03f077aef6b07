//! Writing the kernel's symbol table into `vmlinux` after linking (Linux: `scripts/kallsyms`).
//!
//! The kernel reserves a fixed-size `.kallsyms` section, so filling it in moves nothing:
//! xtask reads the function symbols of the linked ELF, demangles them, builds the table in
//! the format `src/kernel/kallsyms_fmt.rs` defines (that file is compiled into xtask too),
//! and overwrites the section's bytes in the file.

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

#[path = "../../src/kernel/kallsyms_fmt.rs"]
#[allow(dead_code)]
mod kallsyms_fmt;

/// Fill in `.kallsyms` in the ELF image `elf`. Returns the number of symbols.
pub fn patch_kallsyms(elf: &mut [u8]) -> Result<usize, String> {
    let file = object::File::parse(&*elf).map_err(|e| format!("vmlinux: {e}"))?;
    let symbol_address = |name: &str| {
        file.symbols()
            .find(|s| s.name() == Ok(name))
            .map(|s| s.address())
            .ok_or_else(|| format!("vmlinux has no {name} (see linker/vmlinux.lds)"))
    };
    let start = symbol_address("__kallsyms_start")?;
    let end = symbol_address("__kallsyms_end")?;
    let section = file
        .sections()
        .find(|s| start >= s.address() && end <= s.address() + s.size())
        .ok_or("the .kallsyms input section lies in no output section")?;
    let (section_offset, _) = section.file_range().ok_or(".kallsyms has no file bytes")?;
    let offset = section_offset + (start - section.address());
    let size = end - start;
    let text = |addr: u64| {
        file.sections().any(|s| {
            s.kind() == object::SectionKind::Text
                && addr >= s.address()
                && addr < s.address() + s.size()
        })
    };
    let mut symbols: Vec<(u64, u64, String)> = file
        .symbols()
        .filter(|s| matches!(s.kind(), SymbolKind::Text | SymbolKind::Unknown) && text(s.address()))
        .filter_map(|s| {
            let name = s.name().ok()?;
            if name.is_empty() || name.starts_with('$') || name.starts_with(".L") {
                return None;
            }
            let demangled = format!("{:#}", rustc_demangle::demangle(name));
            Some((s.address(), s.size(), demangled))
        })
        .collect();
    symbols.sort();
    symbols.dedup_by_key(|s| s.0);
    let refs: Vec<(u64, u64, &str)> = symbols
        .iter()
        .map(|(a, s, n)| (*a, *s, n.as_str()))
        .collect();
    let table = kallsyms_fmt::build(&refs);
    if table.len() as u64 > size {
        return Err(format!(
            "the symbol table needs {} bytes but .kallsyms has {size}: raise KALLSYMS_SIZE in \
             src/kernel/kallsyms.rs",
            table.len()
        ));
    }
    let start = offset as usize;
    let region = &mut elf[start..start + size as usize];
    region.fill(0);
    region[..table.len()].copy_from_slice(&table);
    Ok(refs.len())
}
