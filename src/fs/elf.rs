//! ELF64 executables: parse and validate what the program loader will trust.
//!
//! `execve` maps a program's `PT_LOAD` segments where their headers say, so every number in
//! those headers is checked here, once, before anything is mapped: the identification bytes,
//! the machine (AArch64 only, little-endian, 64-bit), that the program header table and each
//! segment's file bytes lie inside the file, that file offsets and addresses agree modulo the
//! page size (so the file can be mapped page by page), that nothing overflows or reaches past
//! `TASK_SIZE`, and that the loadable segments are in ascending order and do not overlap.
//! What comes out, [`ElfInfo`], can be used without further checks.
//!
//! Cradle runs static programs: `ET_EXEC` at the addresses in the file, and static-PIE
//! (`ET_DYN` without `PT_INTERP`) at a load bias the caller picks and checks with
//! [`ElfInfo::check_load_bias`]. A program asking for an interpreter (`PT_INTERP`, i.e.
//! dynamically linked) parses, so the log can name the interpreter, but
//! [`ElfInfo::parse_static`] refuses it with `ENOEXEC`.
//!
//! Errors carry Linux's errno for `execve`: `ENOEXEC` for what is not a valid AArch64 program,
//! `EINVAL` for misaligned or inconsistent segments (where Linux's `mmap` or `elf_load` says
//! `EINVAL`), `ENOMEM` for a program that does not fit below `TASK_SIZE`.
//!
//! Linux: `fs/binfmt_elf.c` (`load_elf_binary`, `elf_read_implies_exec`,
//! `total_mapping_size`, `maximum_alignment`), `include/uapi/linux/elf.h`,
//! `arch/arm64/include/asm/elf.h`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::kernel::errno::Errno;

/// `e_ident[EI_MAG0..4]`.
pub const ELFMAG: &[u8; 4] = b"\x7fELF";
/// `e_ident[EI_CLASS]`: 64-bit objects.
pub const ELFCLASS64: u8 = 2;
/// `e_ident[EI_DATA]`: little-endian.
pub const ELFDATA2LSB: u8 = 1;
/// `e_ident[EI_VERSION]`: the only version.
pub const EV_CURRENT: u8 = 1;

/// `e_type`: an executable linked at fixed addresses.
pub const ET_EXEC: u16 = 2;
/// `e_type`: position-independent (a shared object, or a PIE / static-PIE program).
pub const ET_DYN: u16 = 3;
/// `e_machine`: AArch64.
pub const EM_AARCH64: u16 = 183;

/// Segment types (`p_type`).
pub const PT_NULL: u32 = 0;
/// A loadable segment.
pub const PT_LOAD: u32 = 1;
/// Dynamic linking information.
pub const PT_DYNAMIC: u32 = 2;
/// The path of the program interpreter (dynamic linker).
pub const PT_INTERP: u32 = 3;
/// Notes.
pub const PT_NOTE: u32 = 4;
/// The program header table itself, as mapped.
pub const PT_PHDR: u32 = 6;
/// The thread-local storage template.
pub const PT_TLS: u32 = 7;
/// `.eh_frame_hdr`.
pub const PT_GNU_EH_FRAME: u32 = 0x6474_e550;
/// Stack permissions (`p_flags`).
pub const PT_GNU_STACK: u32 = 0x6474_e551;
/// Read-only after relocation.
pub const PT_GNU_RELRO: u32 = 0x6474_e552;
/// `.note.gnu.property` (BTI, on arm64).
pub const PT_GNU_PROPERTY: u32 = 0x6474_e553;

/// Segment permission (`p_flags`): executable.
pub const PF_X: u32 = 1 << 0;
/// Segment permission: writable.
pub const PF_W: u32 = 1 << 1;
/// Segment permission: readable.
pub const PF_R: u32 = 1 << 2;

/// The size of the ELF64 file header.
pub const EHDR_SIZE: usize = 64;
/// The size of an ELF64 program header (`e_phentsize`); also `AT_PHENT`.
pub const PHDR_SIZE: usize = 56;
/// The most program headers accepted. Real static programs have under a dozen; Linux allows
/// up to 64 KiB of them (1170).
pub const MAX_PHNUM: usize = 64;
/// The longest interpreter path accepted, with its NUL (Linux: `PATH_MAX`).
pub const MAX_INTERP_LEN: u64 = 4096;
/// The page size segments are mapped with.
pub const ELF_PAGE_SIZE: u64 = 4096;
/// The top of user address space: 48-bit virtual addresses with 4 KiB pages.
pub const TASK_SIZE: u64 = 1 << 48;

/// Why a program cannot be run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfError {
    /// What `execve` returns.
    pub errno: Errno,
    /// What is wrong, for the log.
    pub reason: &'static str,
}

impl ElfError {
    /// The error for a dynamically linked program ([`ElfInfo::parse_static`]).
    pub const DYNAMICALLY_LINKED: ElfError = ElfError {
        errno: Errno::ENOEXEC,
        reason: "dynamically linked (has PT_INTERP); only static programs run",
    };
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "elf: {} ({})", self.reason, self.errno.name())
    }
}

fn noexec<T>(reason: &'static str) -> Result<T, ElfError> {
    Err(ElfError {
        errno: Errno::ENOEXEC,
        reason,
    })
}

fn invalid<T>(reason: &'static str) -> Result<T, ElfError> {
    Err(ElfError {
        errno: Errno::EINVAL,
        reason,
    })
}

fn nomem<T>(reason: &'static str) -> Result<T, ElfError> {
    Err(ElfError {
        errno: Errno::ENOMEM,
        reason,
    })
}

/// One program header (`Elf64_Phdr`, less `p_paddr`, which nothing uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramHeader {
    /// `PT_*`.
    pub p_type: u32,
    /// `PF_R | PF_W | PF_X`.
    pub p_flags: u32,
    /// Where the segment's bytes start in the file.
    pub p_offset: u64,
    /// Where the segment goes in memory (before the load bias, for `ET_DYN`).
    pub p_vaddr: u64,
    /// How many bytes come from the file.
    pub p_filesz: u64,
    /// How many bytes the segment occupies in memory; past `p_filesz` it is zero (`.bss`).
    pub p_memsz: u64,
    /// Alignment; 0 or 1 mean none.
    pub p_align: u64,
}

impl ProgramHeader {
    /// Is this a `PT_LOAD`?
    pub fn is_load(&self) -> bool {
        self.p_type == PT_LOAD
    }

    /// Readable?
    pub fn readable(&self) -> bool {
        self.p_flags & PF_R != 0
    }

    /// Writable?
    pub fn writable(&self) -> bool {
        self.p_flags & PF_W != 0
    }

    /// Executable?
    pub fn executable(&self) -> bool {
        self.p_flags & PF_X != 0
    }

    /// The end of the segment in memory (`p_vaddr + p_memsz`). For validated `PT_LOAD`s and
    /// `PT_TLS` this cannot overflow.
    pub fn vaddr_end(&self) -> u64 {
        self.p_vaddr.saturating_add(self.p_memsz)
    }

    /// The file bytes of the segment, from the file it was parsed from.
    pub fn file_bytes<'a>(&self, file: &'a [u8]) -> Option<&'a [u8]> {
        let start = usize::try_from(self.p_offset).ok()?;
        let len = usize::try_from(self.p_filesz).ok()?;
        file.get(start..start.checked_add(len)?)
    }
}

/// A validated ELF program: everything the loader and `create_elf_tables` need.
///
/// # Invariants
///
/// Established by [`ElfInfo::parse`]: at least one `PT_LOAD`; every `PT_LOAD` (and `PT_TLS`)
/// has its file bytes inside the file, `p_filesz <= p_memsz`, `p_vaddr` congruent to
/// `p_offset` modulo [`ELF_PAGE_SIZE`], and `p_vaddr + p_memsz <= TASK_SIZE`; the `PT_LOAD`s
/// are in ascending `p_vaddr` order without overlap; `entry` lies inside a `PT_LOAD`. For
/// `ET_DYN` all addresses are relative to the load bias.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfInfo {
    /// `ET_EXEC` or `ET_DYN`.
    pub e_type: u16,
    /// `e_entry` (before the load bias, for `ET_DYN`).
    pub entry: u64,
    /// All program headers, in file order (`AT_PHNUM` is their count).
    pub phdrs: Vec<ProgramHeader>,
    /// Where the program header table is in memory (`AT_PHDR`, before the load bias): from
    /// `PT_PHDR`, else the `PT_LOAD` that maps `e_phoff`; `None` if neither exists.
    pub phdr_vaddr: Option<u64>,
    /// The `PT_INTERP` path, without its NUL.
    pub interp: Option<String>,
    /// Does the program want an executable stack (`PT_GNU_STACK` with `PF_X`)? Without a
    /// `PT_GNU_STACK` the answer is no: arm64 Linux's default stack is not executable.
    pub stack_exec: bool,
    /// The `PT_TLS` segment, if any (the initial TLS image; the program sets it up itself).
    pub tls: Option<ProgramHeader>,
}

/// Reads a little-endian `u16` at `at` (the caller has checked the bounds).
fn u16_at(data: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([data[at], data[at + 1]])
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
}

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&data[at..at + 8]);
    u64::from_le_bytes(bytes)
}

/// Parses the 56-byte program header at `raw[..56]`.
fn parse_phdr(raw: &[u8]) -> ProgramHeader {
    ProgramHeader {
        p_type: u32_at(raw, 0),
        p_flags: u32_at(raw, 4),
        p_offset: u64_at(raw, 8),
        p_vaddr: u64_at(raw, 16),
        // p_paddr at 24 is unused.
        p_filesz: u64_at(raw, 32),
        p_memsz: u64_at(raw, 40),
        p_align: u64_at(raw, 48),
    }
}

/// Is the segment's file range `[p_offset, p_offset + p_filesz)` inside a file of `len` bytes?
fn in_file(phdr: &ProgramHeader, len: u64) -> bool {
    phdr.p_offset
        .checked_add(phdr.p_filesz)
        .is_some_and(|end| end <= len)
}

/// The checks a segment that will be mapped must pass (`PT_LOAD`, and `PT_TLS`, whose
/// template is read from the file).
fn check_segment(phdr: &ProgramHeader, file_len: u64) -> Result<(), ElfError> {
    if !in_file(phdr, file_len) {
        return noexec("segment extends past the end of the file");
    }
    if phdr.p_filesz > phdr.p_memsz {
        return invalid("segment has p_filesz > p_memsz");
    }
    if phdr.p_align > 1 && !phdr.p_align.is_power_of_two() {
        return invalid("segment alignment is not a power of two");
    }
    match phdr.p_vaddr.checked_add(phdr.p_memsz) {
        Some(end) if end <= TASK_SIZE => Ok(()),
        _ => nomem("segment does not fit below TASK_SIZE"),
    }
}

/// How many bytes from the start of the file the ELF header and the program header table
/// take, if `head` starts with an ELF header (so `execve` knows what to read).
pub fn headers_end(head: &[u8]) -> Option<u64> {
    let ehdr = head.get(..EHDR_SIZE)?;
    if &ehdr[..4] != ELFMAG {
        return None;
    }
    let e_phoff = u64_at(ehdr, 32);
    let e_phnum = u64::from(u16_at(ehdr, 56));
    e_phoff.checked_add(e_phnum * PHDR_SIZE as u64)
}

/// Parses and validates the ELF file `data` ([`ElfInfo::parse`]).
pub fn parse(data: &[u8]) -> Result<ElfInfo, ElfError> {
    ElfInfo::parse(data)
}

/// Parses and validates the ELF file `data`, refusing dynamically linked programs
/// ([`ElfInfo::parse_static`]).
pub fn parse_static(data: &[u8]) -> Result<ElfInfo, ElfError> {
    ElfInfo::parse_static(data)
}

impl ElfInfo {
    /// Parses and validates the ELF file `data`; see the module doc for what is checked.
    pub fn parse(data: &[u8]) -> Result<ElfInfo, ElfError> {
        Self::parse_head(data, data.len() as u64)
    }

    /// Parses and validates an ELF file of `file_len` bytes from its first bytes, `head`
    /// (what `execve` reads: Linux's `BINPRM_BUF_SIZE` and then the program headers).
    /// The header, the program header table and a `PT_INTERP` path must lie in `head`;
    /// segments are checked against `file_len`.
    pub fn parse_head(data: &[u8], file_len: u64) -> Result<ElfInfo, ElfError> {
        let file_len = file_len.max(data.len() as u64);
        let Some(ehdr) = data.get(..EHDR_SIZE) else {
            return noexec("file too short for an ELF header");
        };
        if &ehdr[..4] != ELFMAG {
            return noexec("not an ELF file");
        }
        if ehdr[4] != ELFCLASS64 {
            return noexec("not a 64-bit ELF file");
        }
        if ehdr[5] != ELFDATA2LSB {
            return noexec("not a little-endian ELF file");
        }
        if ehdr[6] != EV_CURRENT {
            return noexec("unknown ELF version");
        }
        let e_type = u16_at(ehdr, 16);
        if e_type != ET_EXEC && e_type != ET_DYN {
            return noexec("not an executable (e_type is neither ET_EXEC nor ET_DYN)");
        }
        if u16_at(ehdr, 18) != EM_AARCH64 {
            return noexec("not an AArch64 program (e_machine)");
        }
        let entry = u64_at(ehdr, 24);
        let e_phoff = u64_at(ehdr, 32);
        let e_phentsize = u16_at(ehdr, 54);
        let e_phnum = usize::from(u16_at(ehdr, 56));
        if usize::from(e_phentsize) != PHDR_SIZE {
            return noexec("e_phentsize is not 56");
        }
        if e_phnum == 0 {
            return noexec("no program headers");
        }
        if e_phnum > MAX_PHNUM {
            return noexec("too many program headers");
        }
        let table_len = (e_phnum * PHDR_SIZE) as u64;
        let table = usize::try_from(e_phoff)
            .ok()
            .and_then(|start| data.get(start..)?.get(..e_phnum * PHDR_SIZE));
        let Some(table) = table else {
            if e_phoff
                .checked_add(table_len)
                .is_some_and(|end| end <= file_len)
            {
                return noexec("program header table is not in the bytes read");
            }
            return noexec("program header table extends past the end of the file");
        };

        let phdrs: Vec<ProgramHeader> = table.chunks_exact(PHDR_SIZE).map(parse_phdr).collect();
        let mut interp = None;
        let mut stack_exec = false;
        let mut tls = None;
        let mut pt_phdr = None;
        let mut previous_load: Option<&ProgramHeader> = None;
        for phdr in &phdrs {
            match phdr.p_type {
                PT_LOAD => {
                    check_segment(phdr, file_len)?;
                    if phdr.p_vaddr % ELF_PAGE_SIZE != phdr.p_offset % ELF_PAGE_SIZE {
                        return invalid(
                            "segment's p_vaddr and p_offset differ modulo the page size",
                        );
                    }
                    if let Some(previous) = previous_load {
                        if phdr.p_vaddr < previous.p_vaddr {
                            return noexec("PT_LOAD segments are not in ascending order");
                        }
                        if phdr.p_vaddr < previous.vaddr_end() {
                            return noexec("PT_LOAD segments overlap");
                        }
                    }
                    previous_load = Some(phdr);
                }
                PT_INTERP => {
                    if interp.is_some() {
                        return noexec("more than one PT_INTERP");
                    }
                    interp = Some(Self::parse_interp(phdr, data)?);
                }
                PT_GNU_STACK => stack_exec = phdr.p_flags & PF_X != 0,
                PT_TLS => {
                    if tls.is_some() {
                        return noexec("more than one PT_TLS");
                    }
                    check_segment(phdr, file_len)?;
                    tls = Some(*phdr);
                }
                PT_PHDR => {
                    if pt_phdr.is_some() {
                        return noexec("more than one PT_PHDR");
                    }
                    pt_phdr = Some(*phdr);
                }
                _ => {}
            }
        }

        let loads = || phdrs.iter().filter(|p| p.is_load());
        if loads().next().is_none() {
            return noexec("no PT_LOAD segment");
        }
        if !loads().any(|p| p.p_vaddr <= entry && entry < p.vaddr_end()) {
            return noexec("entry point is outside every PT_LOAD");
        }
        let phdr_vaddr = match pt_phdr {
            Some(phdr) => {
                // The table must really be mapped where PT_PHDR says.
                let covered = phdr.p_vaddr.checked_add(table_len).is_some_and(|end| {
                    loads().any(|p| p.p_vaddr <= phdr.p_vaddr && end <= p.vaddr_end())
                });
                if !covered {
                    return noexec("PT_PHDR is not inside a PT_LOAD");
                }
                Some(phdr.p_vaddr)
            }
            // As Linux since 5.18: the PT_LOAD whose file bytes hold the table maps it.
            None => loads()
                .find(|p| p.p_offset <= e_phoff && e_phoff + table_len <= p.p_offset + p.p_filesz)
                .map(|p| p.p_vaddr + (e_phoff - p.p_offset)),
        };

        Ok(ElfInfo {
            e_type,
            entry,
            phdrs,
            phdr_vaddr,
            interp,
            stack_exec,
            tls,
        })
    }

    /// [`ElfInfo::parse`], then refuses dynamically linked programs
    /// ([`ElfError::DYNAMICALLY_LINKED`]): what `execve` uses.
    pub fn parse_static(data: &[u8]) -> Result<ElfInfo, ElfError> {
        let info = Self::parse(data)?;
        if info.interp.is_some() {
            return Err(ElfError::DYNAMICALLY_LINKED);
        }
        Ok(info)
    }

    /// Reads the interpreter path: NUL-terminated, not empty, at most `PATH_MAX`, in the file.
    fn parse_interp(phdr: &ProgramHeader, data: &[u8]) -> Result<String, ElfError> {
        if phdr.p_filesz < 2 || phdr.p_filesz > MAX_INTERP_LEN {
            return noexec("bad PT_INTERP size");
        }
        let Some(bytes) = phdr.file_bytes(data) else {
            return noexec("PT_INTERP extends past the end of the file");
        };
        let Some((&0, path)) = bytes.split_last() else {
            return noexec("PT_INTERP is not NUL-terminated");
        };
        if path.contains(&0) {
            return noexec("PT_INTERP holds a NUL");
        }
        match core::str::from_utf8(path) {
            Ok(path) => Ok(String::from(path)),
            Err(_) => noexec("PT_INTERP is not UTF-8"),
        }
    }

    /// The `PT_LOAD` segments, in ascending address order.
    pub fn loads(&self) -> impl Iterator<Item = &ProgramHeader> {
        self.phdrs.iter().filter(|p| p.is_load())
    }

    /// Is this a position-independent (static-PIE) program, loaded at a bias?
    pub fn is_dyn(&self) -> bool {
        self.e_type == ET_DYN
    }

    /// The page-aligned start of the lowest `PT_LOAD` (before the load bias).
    pub fn lowest_vaddr(&self) -> u64 {
        self.loads()
            .next()
            .map_or(0, |p| p.p_vaddr & !(ELF_PAGE_SIZE - 1))
    }

    /// The end of the highest `PT_LOAD` (before the load bias): the start of the heap
    /// (`brk`), once page-aligned.
    pub fn highest_vaddr_end(&self) -> u64 {
        self.loads().last().map_or(0, |p| p.vaddr_end())
    }

    /// The bytes of address space the `PT_LOAD`s span, from the page holding the first to the
    /// end of the last (Linux: `total_mapping_size`): how much room an `ET_DYN` needs.
    pub fn total_mapping_size(&self) -> u64 {
        self.highest_vaddr_end() - self.lowest_vaddr()
    }

    /// The largest `PT_LOAD` alignment that is a power of two, at least the page size (Linux:
    /// `maximum_alignment`): an `ET_DYN` load bias should be a multiple of it.
    pub fn max_align(&self) -> u64 {
        self.loads()
            .map(|p| p.p_align)
            .filter(|align| align.is_power_of_two())
            .fold(ELF_PAGE_SIZE, u64::max)
    }

    /// Checks a load bias for this program: 0 for `ET_EXEC`; for `ET_DYN`, page-aligned and
    /// keeping every segment below `TASK_SIZE`.
    pub fn check_load_bias(&self, bias: u64) -> Result<(), ElfError> {
        if !self.is_dyn() {
            return if bias == 0 {
                Ok(())
            } else {
                invalid("ET_EXEC cannot be moved")
            };
        }
        if !bias.is_multiple_of(ELF_PAGE_SIZE) {
            return invalid("load bias is not page-aligned");
        }
        match bias.checked_add(self.highest_vaddr_end()) {
            Some(end) if end <= TASK_SIZE => Ok(()),
            _ => nomem("program does not fit below TASK_SIZE at this load bias"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// A `#![no_std]` static AArch64 Linux program (`write(1, "hello from cradle\n")`, then
    /// `exit_group(0)`, with a `.data` word and a 512-byte `.bss`), built with Rust 1.95 for
    /// `aarch64-unknown-linux-musl`:
    ///
    /// ```text
    /// RUSTFLAGS="-C linker=rust-lld -C relocation-model=static -C link-self-contained=no" \
    ///     cargo build --release --target aarch64-unknown-linux-musl   # panic=abort, lto
    /// rust-objcopy --strip-all hello hello-aarch64.elf
    /// ```
    ///
    /// `link-self-contained=no` keeps musl's `crt1.o` (and its `_start`) out. `qemu-aarch64`
    /// runs it. PHDR, LOADs R at 0x200000, R+X at 0x2101e4, RW at 0x220228 (8 bytes file,
    /// 0x208 memory), GNU_EH_FRAME, GNU_STACK (RW); entry 0x2101e4.
    const HELLO: &[u8] = include_bytes!("testdata/hello-aarch64.elf");

    /// The same program as static-PIE: `-C relocation-model=pie -C link-arg=-pie
    /// -C link-arg=--no-dynamic-linker` (ET_DYN, no PT_INTERP, linked at 0; its code is
    /// PC-relative, so it needs no relocation).
    const HELLO_PIE: &[u8] = include_bytes!("testdata/hello-aarch64-pie.elf");

    #[test]
    fn static_fixture() {
        let info = parse_static(HELLO).unwrap();
        assert_eq!(parse(HELLO).unwrap(), info);
        assert_eq!(info.e_type, ET_EXEC);
        assert_eq!(info.entry, 0x2101e4);
        assert_eq!(info.phdrs.len(), 6);
        assert_eq!(info.phdr_vaddr, Some(0x200040));
        assert_eq!(info.interp, None);
        assert!(!info.stack_exec);
        assert_eq!(info.tls, None);
        let loads: Vec<_> = info.loads().copied().collect();
        assert_eq!(loads.len(), 3);
        assert_eq!((loads[0].p_vaddr, loads[0].p_flags), (0x200000, PF_R));
        assert_eq!(
            (loads[1].p_vaddr, loads[1].p_flags),
            (0x2101e4, PF_R | PF_X)
        );
        assert!(loads[1].executable() && !loads[1].writable());
        assert_eq!(
            (loads[2].p_vaddr, loads[2].p_filesz, loads[2].p_memsz),
            (0x220228, 8, 0x208)
        );
        assert!(loads[2].writable() && loads[2].readable());
        assert!(loads.iter().all(|p| p.p_align == 0x10000));
        assert_eq!(info.max_align(), 0x10000);
        assert_eq!(info.lowest_vaddr(), 0x200000);
        assert_eq!(info.total_mapping_size(), 0x220228 + 0x208 - 0x200000);
        assert_eq!(loads[1].file_bytes(HELLO).unwrap().len(), 0x40);
        assert!(info.check_load_bias(0).is_ok());
        assert_eq!(
            info.check_load_bias(0x1000).unwrap_err().errno,
            Errno::EINVAL
        );
        // Without PT_PHDR, the PT_LOAD holding e_phoff gives the same answer.
        let mut no_pt_phdr = HELLO.to_vec();
        no_pt_phdr[64..68].copy_from_slice(&PT_NULL.to_le_bytes());
        assert_eq!(
            ElfInfo::parse(&no_pt_phdr).unwrap().phdr_vaddr,
            Some(0x200040)
        );
    }

    #[test]
    fn static_pie_fixture() {
        let info = ElfInfo::parse_static(HELLO_PIE).unwrap();
        assert_eq!(info.e_type, ET_DYN);
        assert!(info.is_dyn());
        assert_eq!(info.interp, None);
        assert_eq!(info.phdr_vaddr, Some(0x40));
        assert_eq!(info.lowest_vaddr(), 0);
        assert!(info.phdrs.iter().any(|p| p.p_type == PT_DYNAMIC));
        let size = info.total_mapping_size();
        assert_eq!(size, info.highest_vaddr_end());
        assert!(info
            .loads()
            .any(|p| p.p_vaddr <= info.entry && info.entry < p.vaddr_end()));
        assert!(info.check_load_bias(0x5555_5555_0000).is_ok());
        assert_eq!(
            info.check_load_bias(0x5555_5555_0010).unwrap_err().errno,
            Errno::EINVAL
        );
        assert_eq!(
            info.check_load_bias(TASK_SIZE - 0x1000).unwrap_err().errno,
            Errno::ENOMEM
        );
        assert_eq!(
            info.check_load_bias(!0xfff).unwrap_err().errno,
            Errno::ENOMEM
        );
        assert!(info.check_load_bias((TASK_SIZE - size) & !0xfff).is_ok());
    }

    /// Builds an ELF file: header, program headers at 64, then `payload` at 0x1000.
    struct Builder {
        e_type: u16,
        machine: u16,
        entry: u64,
        phdrs: Vec<[u64; 7]>, // type, flags, offset, vaddr, filesz, memsz, align
        payload: Vec<u8>,
    }

    impl Builder {
        fn new() -> Self {
            Builder {
                e_type: ET_EXEC,
                machine: EM_AARCH64,
                entry: 0x400000,
                // A text segment mapping the whole file (headers included) and a data+bss one.
                phdrs: vec![
                    [
                        PT_LOAD as u64,
                        (PF_R | PF_X) as u64,
                        0,
                        0x400000,
                        0x1100,
                        0x1100,
                        0x1000,
                    ],
                    [
                        PT_LOAD as u64,
                        (PF_R | PF_W) as u64,
                        0x1100,
                        0x411100,
                        0x80,
                        0x2000,
                        0x1000,
                    ],
                    [PT_GNU_STACK as u64, (PF_R | PF_W) as u64, 0, 0, 0, 0, 16],
                ],
                payload: vec![0xaa; 0x180],
            }
        }

        fn phdr(mut self, phdr: [u64; 7]) -> Self {
            self.phdrs.push(phdr);
            self
        }

        fn build(&self) -> Vec<u8> {
            let mut file = vec![0u8; 0x1000];
            file[..4].copy_from_slice(ELFMAG);
            file[4] = ELFCLASS64;
            file[5] = ELFDATA2LSB;
            file[6] = EV_CURRENT;
            file[16..18].copy_from_slice(&self.e_type.to_le_bytes());
            file[18..20].copy_from_slice(&self.machine.to_le_bytes());
            file[20..24].copy_from_slice(&1u32.to_le_bytes());
            file[24..32].copy_from_slice(&self.entry.to_le_bytes());
            file[32..40].copy_from_slice(&64u64.to_le_bytes());
            file[52..54].copy_from_slice(&64u16.to_le_bytes());
            file[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
            file[56..58].copy_from_slice(&(self.phdrs.len() as u16).to_le_bytes());
            for (i, p) in self.phdrs.iter().enumerate() {
                let at = 64 + i * PHDR_SIZE;
                file[at..at + 4].copy_from_slice(&(p[0] as u32).to_le_bytes());
                file[at + 4..at + 8].copy_from_slice(&(p[1] as u32).to_le_bytes());
                for (j, field) in [p[2], p[3], p[3], p[4], p[5], p[6]].iter().enumerate() {
                    file[at + 8 + 8 * j..at + 16 + 8 * j].copy_from_slice(&field.to_le_bytes());
                }
            }
            file.extend_from_slice(&self.payload);
            file
        }
    }

    fn err(file: &[u8]) -> ElfError {
        ElfInfo::parse(file).unwrap_err()
    }

    #[test]
    fn synthetic_good_file() {
        let info = ElfInfo::parse(&Builder::new().build()).unwrap();
        assert_eq!(info.phdr_vaddr, Some(0x400040));
        assert!(!info.stack_exec);
        assert_eq!(info.total_mapping_size(), 0x411100 + 0x2000 - 0x400000);
        assert_eq!(info.max_align(), 0x1000);
    }

    #[test]
    fn identification_errors() {
        let good = Builder::new().build();
        let cases: [(usize, u8, &str); 5] = [
            (0, 0x7e, "not an ELF file"),
            (3, b'f', "not an ELF file"),
            (4, 1, "not a 64-bit ELF file"),
            (5, 2, "not a little-endian ELF file"),
            (6, 0, "unknown ELF version"),
        ];
        for (at, value, reason) in cases {
            let mut file = good.clone();
            file[at] = value;
            assert_eq!(
                err(&file),
                ElfError {
                    errno: Errno::ENOEXEC,
                    reason
                }
            );
        }
        assert_eq!(err(&good[..63]).reason, "file too short for an ELF header");
        assert_eq!(err(b"#!/bin/sh\n").errno, Errno::ENOEXEC);
        assert_eq!(err(b"").errno, Errno::ENOEXEC);
        let mut relocatable = Builder::new();
        relocatable.e_type = 1; // ET_REL
        assert_eq!(
            err(&relocatable.build()).reason,
            "not an executable (e_type is neither ET_EXEC nor ET_DYN)"
        );
        let mut x86 = Builder::new();
        x86.machine = 62; // EM_X86_64
        assert_eq!(
            err(&x86.build()).reason,
            "not an AArch64 program (e_machine)"
        );
    }

    #[test]
    fn program_header_table_errors() {
        let good = Builder::new().build();
        let mut file = good.clone();
        file[54] = 32;
        assert_eq!(err(&file).reason, "e_phentsize is not 56");
        let mut file = good.clone();
        file[56..58].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(err(&file).reason, "no program headers");
        let mut file = good.clone();
        file[56..58].copy_from_slice(&65u16.to_le_bytes());
        assert_eq!(err(&file).reason, "too many program headers");
        let mut file = good.clone();
        file[56..58].copy_from_slice(&0xffffu16.to_le_bytes()); // PN_XNUM
        assert_eq!(err(&file).reason, "too many program headers");
        for phoff in [good.len() as u64 - 100, u64::MAX - 10, 1 << 40] {
            let mut file = good.clone();
            file[32..40].copy_from_slice(&phoff.to_le_bytes());
            assert_eq!(
                err(&file).reason,
                "program header table extends past the end of the file"
            );
        }
        let only_stack = Builder {
            phdrs: vec![[PT_GNU_STACK as u64, 6, 0, 0, 0, 0, 16]],
            ..Builder::new()
        };
        assert_eq!(err(&only_stack.build()).reason, "no PT_LOAD segment");
    }

    fn with_load(load: [u64; 7]) -> ElfError {
        let mut b = Builder::new();
        b.phdrs[1] = load;
        err(&b.build())
    }

    #[test]
    fn segment_errors() {
        let (l, rw) = (PT_LOAD as u64, (PF_R | PF_W) as u64);
        let file_len = Builder::new().build().len() as u64;
        let past_end = with_load([l, rw, 0x1100, 0x411100, file_len, 0x10000, 0x1000]);
        assert_eq!(
            past_end,
            ElfError {
                errno: Errno::ENOEXEC,
                reason: "segment extends past the end of the file"
            }
        );
        let overflow = with_load([l, rw, u64::MAX, 0x411fff, 2, 2, 0x1000]);
        assert_eq!(overflow.reason, "segment extends past the end of the file");
        let bss_smaller = with_load([l, rw, 0x1100, 0x411100, 0x80, 0x10, 0x1000]);
        assert_eq!(
            bss_smaller,
            ElfError {
                errno: Errno::EINVAL,
                reason: "segment has p_filesz > p_memsz"
            }
        );
        let align = with_load([l, rw, 0x1100, 0x411100, 0x80, 0x80, 0x3000]);
        assert_eq!(
            align,
            ElfError {
                errno: Errno::EINVAL,
                reason: "segment alignment is not a power of two"
            }
        );
        let incongruent = with_load([l, rw, 0x1100, 0x411200, 0x80, 0x80, 0x1000]);
        assert_eq!(incongruent.errno, Errno::EINVAL);
        let beyond_task = with_load([l, rw, 0x1100, TASK_SIZE - 0xf00, 0x80, 0x1000, 0x1000]);
        assert_eq!(
            beyond_task,
            ElfError {
                errno: Errno::ENOMEM,
                reason: "segment does not fit below TASK_SIZE"
            }
        );
        let wraps = with_load([l, rw, 0x1100, u64::MAX - 0xeff, 0x80, 0x1000, 0x1000]);
        assert_eq!(wraps.errno, Errno::ENOMEM);
        let mut at_top = Builder::new();
        at_top.phdrs[1] = [l, rw, 0x1100, TASK_SIZE - 0xf00, 0x80, 0xf00, 0x1000];
        assert!(
            ElfInfo::parse(&at_top.build()).is_ok(),
            "ends exactly at TASK_SIZE"
        );
        let overlap = with_load([l, rw, 0x1100, 0x400100, 0x80, 0x80, 0x1000]);
        assert_eq!(overlap.reason, "PT_LOAD segments overlap");
        let descending = with_load([l, rw, 0x1100, 0x3f1100, 0x80, 0x80, 0x1000]);
        assert_eq!(
            descending.reason,
            "PT_LOAD segments are not in ascending order"
        );
    }

    #[test]
    fn adjacent_segments_sharing_a_page_are_fine() {
        let mut b = Builder::new();
        b.phdrs[1] = [
            PT_LOAD as u64,
            (PF_R | PF_W) as u64,
            0x1100,
            0x401100,
            0x80,
            0x80,
            0x1000,
        ];
        assert!(ElfInfo::parse(&b.build()).is_ok());
    }

    #[test]
    fn entry_must_be_mapped() {
        for entry in [0, 0x3fffff, 0x413100, u64::MAX] {
            let b = Builder {
                entry,
                ..Builder::new()
            };
            assert_eq!(
                err(&b.build()).reason,
                "entry point is outside every PT_LOAD"
            );
        }
        let b = Builder {
            entry: 0x413100 - 1,
            ..Builder::new()
        };
        assert!(
            ElfInfo::parse(&b.build()).is_ok(),
            "entry in .bss is odd but mapped"
        );
    }

    #[test]
    fn interpreter() {
        let interp = b"/lib/ld-linux-aarch64.so.1\0";
        let mut b = Builder::new().phdr([
            PT_INTERP as u64,
            PF_R as u64,
            0x1000,
            0,
            interp.len() as u64,
            0,
            1,
        ]);
        b.payload[..interp.len()].copy_from_slice(interp);
        let file = b.build();
        let info = ElfInfo::parse(&file).unwrap();
        assert_eq!(info.interp.as_deref(), Some("/lib/ld-linux-aarch64.so.1"));
        assert_eq!(
            ElfInfo::parse_static(&file).unwrap_err(),
            ElfError::DYNAMICALLY_LINKED
        );
        assert_eq!(ElfError::DYNAMICALLY_LINKED.errno, Errno::ENOEXEC);

        let mut unterminated = b.build();
        unterminated[0x1000 + interp.len() - 1] = b'x';
        assert_eq!(err(&unterminated).reason, "PT_INTERP is not NUL-terminated");
        let mut inner_nul = b.build();
        inner_nul[0x1005] = 0;
        assert_eq!(err(&inner_nul).reason, "PT_INTERP holds a NUL");
        let mut bad_utf8 = b.build();
        bad_utf8[0x1001] = 0xff;
        assert_eq!(err(&bad_utf8).reason, "PT_INTERP is not UTF-8");
        for size in [0, 1, MAX_INTERP_LEN + 1, u64::MAX] {
            let b = Builder::new().phdr([PT_INTERP as u64, 4, 0x1000, 0, size, 0, 1]);
            assert_eq!(err(&b.build()).reason, "bad PT_INTERP size");
        }
        let past_end = Builder::new().phdr([PT_INTERP as u64, 4, 0x1170, 0, 0x20, 0, 1]);
        assert_eq!(
            err(&past_end.build()).reason,
            "PT_INTERP extends past the end of the file"
        );
        let two = b.phdr([
            PT_INTERP as u64,
            PF_R as u64,
            0x1000,
            0,
            interp.len() as u64,
            0,
            1,
        ]);
        assert_eq!(err(&two.build()).reason, "more than one PT_INTERP");
    }

    #[test]
    fn stack_tls_and_phdr_notes() {
        let mut b = Builder::new();
        b.phdrs[2][1] = (PF_R | PF_W | PF_X) as u64;
        assert!(ElfInfo::parse(&b.build()).unwrap().stack_exec);
        b.phdrs.remove(2);
        assert!(
            !ElfInfo::parse(&b.build()).unwrap().stack_exec,
            "arm64 default: no exec"
        );

        let tls = [PT_TLS as u64, PF_R as u64, 0x1100, 0x411100, 0x10, 0x40, 8];
        let info = ElfInfo::parse(&Builder::new().phdr(tls).build()).unwrap();
        assert_eq!(
            info.tls.map(|t| (t.p_vaddr, t.p_filesz, t.p_memsz)),
            Some((0x411100, 0x10, 0x40))
        );
        let bad_tls = [PT_TLS as u64, PF_R as u64, 0x1100, 0x411100, 0x50, 0x40, 8];
        assert_eq!(
            err(&Builder::new().phdr(bad_tls).build()).errno,
            Errno::EINVAL
        );
        let two_tls = Builder::new().phdr(tls).phdr(tls);
        assert_eq!(err(&two_tls.build()).reason, "more than one PT_TLS");

        let pt_phdr = [PT_PHDR as u64, PF_R as u64, 64, 0x400040, 4 * 56, 4 * 56, 8];
        let info = ElfInfo::parse(&Builder::new().phdr(pt_phdr).build()).unwrap();
        assert_eq!(info.phdr_vaddr, Some(0x400040));
        let unmapped = [PT_PHDR as u64, PF_R as u64, 64, 0x300040, 4 * 56, 4 * 56, 8];
        assert_eq!(
            err(&Builder::new().phdr(unmapped).build()).reason,
            "PT_PHDR is not inside a PT_LOAD"
        );
        let straddling = [PT_PHDR as u64, PF_R as u64, 64, 0x4010f0, 4 * 56, 4 * 56, 8];
        assert_eq!(
            err(&Builder::new().phdr(straddling).build()).reason,
            "PT_PHDR is not inside a PT_LOAD"
        );
        let two = Builder::new().phdr(pt_phdr).phdr(pt_phdr);
        assert_eq!(err(&two.build()).reason, "more than one PT_PHDR");

        // Headers that no PT_LOAD maps and no PT_PHDR: no AT_PHDR to give.
        let mut b = Builder::new();
        b.phdrs[0] = [
            PT_LOAD as u64,
            (PF_R | PF_X) as u64,
            0x1000,
            0x401000,
            0x100,
            0x100,
            0x1000,
        ];
        b.entry = 0x401000;
        assert_eq!(ElfInfo::parse(&b.build()).unwrap().phdr_vaddr, None);
    }

    #[test]
    fn synthetic_static_pie() {
        let mut b = Builder::new();
        b.e_type = ET_DYN;
        b.entry = 0x10;
        b.phdrs[0][3] = 0;
        b.phdrs[1][3] = 0x11100;
        b.phdrs[1][6] = 0x10000;
        let info = ElfInfo::parse_static(&b.build()).unwrap();
        assert_eq!(info.phdr_vaddr, Some(0x40));
        assert_eq!(info.total_mapping_size(), 0x13100);
        assert_eq!(info.max_align(), 0x10000);
        assert!(info.check_load_bias(TASK_SIZE - 0x14000).is_ok());
        assert_eq!(
            info.check_load_bias(TASK_SIZE - 0x13000).unwrap_err().errno,
            Errno::ENOMEM
        );
    }

    #[test]
    fn display() {
        let e = ElfError {
            errno: Errno::ENOEXEC,
            reason: "not an ELF file",
        };
        assert_eq!(alloc::format!("{e}"), "elf: not an ELF file (ENOEXEC)");
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Whatever parses must satisfy the invariants the loader relies on.
    fn check_invariants(file: &[u8]) {
        let Ok(info) = ElfInfo::parse(file) else {
            return;
        };
        let mut previous_end = 0;
        for p in info.loads() {
            assert!(p.file_bytes(file).is_some());
            assert!(p.p_filesz <= p.p_memsz);
            assert!(p.p_vaddr.checked_add(p.p_memsz).unwrap() <= TASK_SIZE);
            assert_eq!(p.p_vaddr % ELF_PAGE_SIZE, p.p_offset % ELF_PAGE_SIZE);
            assert!(p.p_vaddr >= previous_end);
            previous_end = p.vaddr_end();
        }
        assert!(info
            .loads()
            .any(|p| p.p_vaddr <= info.entry && info.entry < p.vaddr_end()));
        let _ = info.total_mapping_size();
        let _ = info.check_load_bias(0x7000_0000_0000);
    }

    #[test]
    fn fuzz_truncations_never_panic() {
        for file in [HELLO, HELLO_PIE, &Builder::new().build()] {
            for len in 0..file.len() {
                check_invariants(&file[..len]);
            }
        }
        // The fixture's last segment ends at 0x230: shorter files cannot hold it.
        for len in 0..0x230 {
            assert!(ElfInfo::parse(&HELLO[..len]).is_err(), "truncated to {len}");
        }
    }

    #[test]
    fn fuzz_byte_flips_never_panic() {
        let mut rng = Rng(0xdead_beef_cafe_f00d);
        let synthetic = Builder::new().build();
        for file in [HELLO, HELLO_PIE, &synthetic] {
            let header_end = 64 + PHDR_SIZE * usize::from(u16_at(file, 56));
            for _ in 0..20_000 {
                let mut bytes = file.to_vec();
                for _ in 0..1 + rng.below(3) {
                    // Mostly the headers, where the parser looks.
                    let at = if rng.below(8) == 0 {
                        rng.below(bytes.len())
                    } else {
                        rng.below(header_end)
                    };
                    bytes[at] = match rng.below(3) {
                        0 => rng.next() as u8,
                        1 => bytes[at] ^ (1 << rng.below(8)),
                        _ => [0, 0xff, 0x80, 0x7f][rng.below(4)],
                    };
                }
                check_invariants(&bytes);
            }
        }
    }
}
