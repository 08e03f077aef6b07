//! The kernel's own symbol table, for oopses and call traces (Linux: `kernel/kallsyms.c`).
//!
//! The linker reserves `KALLSYMS_SIZE` bytes in `.kallsyms` (read-only data); after linking,
//! `cargo xtask build` overwrites them with the table described in
//! [`crate::kernel::kallsyms_fmt`]. The layout does not move, so the addresses in the table
//! are the addresses in the Image.

use core::fmt;

use crate::kernel::kallsyms_fmt::{Kallsyms, Symbol};

/// Bytes reserved for the table. `cargo xtask build` fails, naming this constant, if the
/// table does not fit.
pub const KALLSYMS_SIZE: usize = 512 * 1024;

/// The reserved space. It starts with a non-zero marker so that it is real data in the
/// Image (an all-zero array could be placed as NOBITS).
#[used]
#[no_mangle]
#[link_section = ".kallsyms"]
static kallsyms_reserved: [u8; KALLSYMS_SIZE] = {
    let mut table = [0u8; KALLSYMS_SIZE];
    table[0] = b'K';
    table[1] = b'S';
    table[2] = b'Y';
    table[3] = b'0';
    table
};

extern "C" {
    /// Start of `.kallsyms` (linker script).
    static __kallsyms_start: u8;
    /// End of `.kallsyms` (linker script).
    static __kallsyms_end: u8;
}

fn table() -> Option<Kallsyms<'static>> {
    // SAFETY: the linker script defines both symbols around `.kallsyms`, which is read-only
    // data that lives as long as the kernel. Going through the linker's symbols (not the
    // static above) keeps the compiler from folding the placeholder bytes into the reads.
    let bytes = unsafe {
        let start = &raw const __kallsyms_start;
        let end = &raw const __kallsyms_end;
        core::slice::from_raw_parts(start, end as usize - start as usize)
    };
    Kallsyms::new(bytes)
}

/// The symbol containing `addr`, if the table knows it.
pub fn lookup(addr: u64) -> Option<Symbol<'static>> {
    table()?.lookup(addr)
}

/// The address of a function by name (used by tests).
pub fn lookup_name(name: &str) -> Option<u64> {
    table()?.lookup_name(name)
}

/// Formats a return address the way Linux's `%pB` does: the symbol is looked up at
/// `addr - 4`, because a call to a function that never returns may be the last instruction
/// of its caller, and its return address then points at the next function.
pub struct KsymBacktrace(pub u64);

impl fmt::Display for KsymBacktrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match lookup(self.0.wrapping_sub(4)) {
            Some(sym) => write!(f, "{}+{:#x}/{:#x}", sym.name, self.0 - sym.addr, sym.size),
            None => write!(f, "{:#018x}", self.0),
        }
    }
}

/// Formats an address the way Linux's `%pS` does: `name+0xoff/0xsize`, or the bare address.
pub struct Ksym(pub u64);

impl fmt::Display for Ksym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match lookup(self.0) {
            Some(sym) => write!(f, "{}+{:#x}/{:#x}", sym.name, self.0 - sym.addr, sym.size),
            None => write!(f, "{:#018x}", self.0),
        }
    }
}

#[cfg(target_os = "none")]
mod kunit_tests {
    use crate::kunit::Test;
    use crate::{kunit_assert, kunit_expect, kunit_test_suite};

    fn start_kernel_is_known(test: &mut Test) {
        let addr = crate::init::main::start_kernel as *const () as u64;
        let sym = super::lookup(addr + 4);
        kunit_assert!(test, sym.is_some(), "no symbol for start_kernel+4");
        let sym = sym.unwrap_or_else(|| unreachable!());
        kunit_expect!(test, sym.name == "start_kernel", "got {}", sym.name);
        kunit_expect!(test, sym.addr == addr);
        kunit_expect!(test, super::lookup_name("start_kernel") == Some(addr));
    }

    fn asm_symbols_are_known(test: &mut Test) {
        let addr = super::lookup_name("primary_entry");
        kunit_expect!(
            test,
            addr.is_some(),
            "primary_entry (asm/head.S) not in kallsyms"
        );
        kunit_expect!(test, super::lookup_name("vectors").is_some());
    }

    fn unknown_addresses_have_no_name(test: &mut Test) {
        kunit_expect!(test, super::lookup(0x1000).is_none());
        kunit_expect!(test, super::lookup(u64::MAX).is_none());
    }

    kunit_test_suite!(
        kallsyms,
        [
            start_kernel_is_known,
            asm_symbols_are_known,
            unknown_addresses_have_no_name
        ]
    );
}
