//! `/proc/<pid>/maps`: a process's mappings as Linux prints them (Linux:
//! `fs/proc/task_mmu.c`, `show_map_vma` and `show_vma_header_prefix`).
//!
//! One line per VMA: `start-end perms offset major:minor inode`, padded to column 73, then
//! the name: the file's path for a file mapping (`/dev/zero (deleted)` for shared anonymous
//! memory), `[heap]` for the VMA holding the break, `[stack]` for the initial stack, nothing
//! for other anonymous memory (the line then ends in the space after the inode, as on
//! Linux). `perms` is `r`/`w`/`x` and `s` for a shared mapping, `p` for a private one.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::arch::memory::PAGE_SIZE;
use crate::fs::char_dev::{major, minor};
use crate::kernel::errno::Errno;
use crate::kernel::task::TaskStruct;
use crate::mm::mm_types::MmInner;
use crate::mm::vma::{VmFlags, Vma};

/// Where the name starts: Linux's `seq_setwidth(m, 25 + sizeof(void *) * 6 - 1)`, then a
/// space.
const NAME_COLUMN: usize = 25 + 8 * 6 - 1;

/// One line of `maps` for `vma` (Linux's `show_map_vma`).
fn show_map_vma(out: &mut String, inner: &MmInner, vma: &Vma) {
    let flags = vma.flags;
    let bit = |flag: VmFlags, c: char| if flags.contains(flag) { c } else { '-' };
    let file = inner.vm_file(vma);
    let (pgoff, dev, ino) = file.map_or((0, 0, 0), |f| (vma.pgoff * PAGE_SIZE, f.dev, f.ino));
    let line_start = out.len();
    let _ = write!(
        out,
        "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
        vma.start,
        vma.end,
        bit(VmFlags::READ, 'r'),
        bit(VmFlags::WRITE, 'w'),
        bit(VmFlags::EXEC, 'x'),
        if flags.contains(VmFlags::MAYSHARE) || flags.contains(VmFlags::SHARED) {
            's'
        } else {
            'p'
        },
        pgoff,
        major(dev),
        minor(dev),
        ino
    );
    let name = match file {
        Some(f) => Some(f.name.as_str()),
        None if vma.start <= inner.brk && vma.end >= inner.start_brk && inner.brk != 0 => {
            Some("[heap]")
        }
        None if flags.contains(VmFlags::GROWSDOWN) || flags.contains(VmFlags::STACK) => {
            Some("[stack]")
        }
        None => None,
    };
    if let Some(name) = name {
        // Linux's seq_pad: the prefix (its trailing space included) is padded to the
        // width, and one more space comes before the name.
        let width = out.len() - line_start;
        for _ in width..NAME_COLUMN {
            out.push(' ');
        }
        out.push(' ');
        out.push_str(name);
    }
    out.push('\n');
}

/// The text of `/proc/<pid>/maps`; empty for a kernel thread.
pub fn proc_pid_maps(task: &TaskStruct) -> Result<Vec<u8>, Errno> {
    let mut out = String::new();
    if let Some(mm) = task.mm() {
        let inner = mm.inner.lock();
        for vma in inner.vmas.iter() {
            show_map_vma(&mut out, &inner, vma);
        }
    }
    Ok(out.into_bytes())
}
