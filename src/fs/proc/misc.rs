//! The small system-wide files: `/proc/version`, `/proc/cmdline`, `/proc/mounts` and
//! `/proc/filesystems` (Linux: `fs/proc/version.c`, `fs/proc/cmdline.c`,
//! `fs/proc_namespace.c` `show_vfsmnt`, `fs/filesystems.c`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::init::version::{RUSTC_VERSION, UTS_RELEASE};
use crate::kernel::errno::Errno;

/// `/proc/version`: Linux's banner (`linux_proc_banner`), with Cradle's compiler.
pub fn proc_version() -> Result<Vec<u8>, Errno> {
    Ok(
        format!("Linux version {UTS_RELEASE} (cradle@cradle) ({RUSTC_VERSION}) #1 SMP\n")
            .into_bytes(),
    )
}

/// `/proc/cmdline`: the kernel command line and a newline.
pub fn proc_cmdline() -> Result<Vec<u8>, Errno> {
    Ok(format!("{}\n", crate::init::main::saved_command_line()).into_bytes())
}

/// Escape a mount field as Linux's `mangle` does: space, tab, newline and backslash as
/// three octal digits.
fn mangle(s: &mut String, field: &str) {
    for c in field.chars() {
        match c {
            ' ' | '\t' | '\n' | '\\' => {
                let _ = write!(s, "\\{:03o}", c as u32);
            }
            _ => s.push(c),
        }
    }
}

/// The options `/proc/mounts` shows for a mount of `fstype` made with none: Linux's
/// defaults (`relatime`), plus what tmpfs's `show_options` adds on 64-bit (`inode64`: its
/// inode numbers are 64-bit, as ramfs's are).
fn mount_options(fstype: &str) -> &'static str {
    match fstype {
        "tmpfs" => "rw,relatime,inode64",
        _ => "rw,relatime",
    }
}

/// `/proc/mounts`: `source path fstype options 0 0`, one mount a line, in mount order.
pub fn proc_mounts() -> Result<Vec<u8>, Errno> {
    let mut s = String::new();
    for mount in crate::fs::namei::mounts() {
        mangle(&mut s, &mount.source);
        s.push(' ');
        mangle(&mut s, &mount.path);
        s.push(' ');
        mangle(&mut s, mount.fstype);
        s.push(' ');
        s.push_str(mount_options(mount.fstype));
        s.push_str(" 0 0\n");
    }
    Ok(s.into_bytes())
}

/// `/proc/<pid>/mountinfo` (Linux's `show_mountinfo`): `id parent major:minor root
/// mountpoint mount-options - fstype source super-options`, one mount a line, in mount
/// order. Mount ids count from 1 in mount order; a mount's parent is the latest earlier
/// mount whose path holds its mount point (the root is its own parent).
pub fn proc_mountinfo() -> Result<Vec<u8>, Errno> {
    let mounts = crate::fs::namei::mounts();
    let mut s = String::new();
    for (index, mount) in mounts.iter().enumerate() {
        let id = index + 1;
        let parent = mounts[..index]
            .iter()
            .rposition(|m| {
                m.path == "/"
                    || mount.path == m.path
                    || mount.path.starts_with(&format!("{}/", m.path))
            })
            .map_or(id, |p| p + 1);
        let dev = mount.root.stat().dev;
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
        let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
        let _ = write!(s, "{id} {parent} {major}:{minor} / ");
        mangle(&mut s, &mount.path);
        s.push_str(" rw,relatime - ");
        mangle(&mut s, mount.fstype);
        s.push(' ');
        mangle(&mut s, &mount.source);
        s.push_str(if mount.fstype == "tmpfs" {
            " rw,inode64\n"
        } else {
            " rw\n"
        });
    }
    Ok(s.into_bytes())
}

/// `/proc/filesystems`: the filesystem types `mount` accepts; `nodev` marks those that
/// need no block device (all of Cradle's).
pub fn proc_filesystems() -> Result<Vec<u8>, Errno> {
    let mut s = String::new();
    for fstype in ["sysfs", "tmpfs", "devtmpfs", "proc", "ramfs"] {
        let _ = writeln!(s, "nodev\t{fstype}");
    }
    Ok(s.into_bytes())
}
