//! The Debian root file system: Debian bookworm's own dynamically linked arm64 programs
//! (glibc's `ld-linux-aarch64.so.1`, bash, coreutils, procps, grep, sed, mawk, findutils,
//! less, nano) with busybox for what has no light Debian package (init, getty, login,
//! mount, ...), in an initramfs. `cargo xtask qemu --rootfs debian` and
//! `cargo xtask sdcard --rootfs debian` boot it.
//!
//! How it is made:
//!
//! - The packages of [`PACKAGES`] are fetched once with `apt-get download` into
//!   `target/cradle/debs/` and unpacked with `dpkg-deb -x` into `target/cradle/debian-root/`.
//!   The list is written out, not computed with `apt-cache depends --recurse`: that closure
//!   pulls in perl, dpkg and the init system through `Pre-Depends`/`Depends` that a program
//!   never loads. Instead the list is *checked*: every `DT_NEEDED` of every ELF file in the
//!   tree must be a library the tree has ([`check_needed`], with `aarch64-linux-gnu-readelf`),
//!   so a package that lacks a library fails the build with the program and the library named.
//! - Merged `/usr`, as Debian 12 installs it: files the packages put under `/bin`, `/sbin`
//!   and `/lib` go to `/usr/bin`, `/usr/sbin` and `/usr/lib`, and `/bin`, `/sbin`, `/lib` are
//!   symlinks to them.
//! - Documentation, manual pages, translations and the iconv modules (`gconv`, 20 MB) are
//!   left out.
//! - Every busybox applet whose path Debian's packages do not provide is a link to
//!   `/bin/busybox`; `/bin/sh` is busybox's (Debian's is dash, not included).
//! - `/etc` is the busybox root file system's (init's inittab, rcS, hostname, issue), with
//!   root's shell `/bin/bash`, over the packages' own `/etc` (bash.bashrc, ld.so.conf, ...).
//! - `/etc/ld.so.cache` is made by Debian's own `ldconfig` (a static program) run under
//!   `qemu-aarch64` on the unpacked tree.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::debian::{download, ensure_arm64_arch, run, unpack};
use crate::env::{ensure_cross_cc, ensure_qemu_user, out_dir};
use crate::initramfs::{write_newc, Entry, Source};
use crate::rootfs::{applets, merge, overlay_entries};

/// The Debian packages of the root file system as `apt-get download` names them (arm64,
/// or `all` for the architecture-independent `ncurses-base`), and why each is there.
pub const PACKAGES: &[(&str, &str)] = &[
    (
        "libc6:arm64",
        "glibc: ld-linux-aarch64.so.1, libc.so.6, libm, libresolv, ...",
    ),
    (
        "libc-bin:arm64",
        "ldd, ldconfig (which makes /etc/ld.so.cache), getent, locale",
    ),
    (
        "libgcc-s1:arm64",
        "libgcc_s.so.1 (stack unwinding; pthread_cancel loads it)",
    ),
    ("bash:arm64", "the login shell"),
    ("libtinfo6:arm64", "terminfo: bash, less, nano, procps"),
    (
        "ncurses-base",
        "terminfo entries for linux, vt100, xterm (less, nano, top)",
    ),
    (
        "coreutils:arm64",
        "ls, cat, cp, sort, cut, stat, id, date, ...",
    ),
    ("libacl1:arm64", "coreutils, sed"),
    ("libattr1:arm64", "coreutils (via libacl1)"),
    ("libselinux1:arm64", "coreutils, sed, findutils"),
    ("libpcre2-8-0:arm64", "grep, libselinux1"),
    ("libgmp10:arm64", "coreutils (factor, expr)"),
    ("procps:arm64", "ps, top, free, pgrep, kill, uptime, vmstat"),
    ("libproc2-0:arm64", "procps' library"),
    ("libsystemd0:arm64", "libproc2-0 links it"),
    ("libcap2:arm64", "libsystemd0"),
    ("libgcrypt20:arm64", "libsystemd0"),
    ("libgpg-error0:arm64", "libgcrypt20"),
    ("liblz4-1:arm64", "libsystemd0"),
    ("liblzma5:arm64", "libsystemd0"),
    ("libzstd1:arm64", "libsystemd0"),
    ("libncursesw6:arm64", "procps (top), nano"),
    ("grep:arm64", "grep"),
    ("sed:arm64", "sed"),
    ("mawk:arm64", "awk"),
    ("findutils:arm64", "find, xargs"),
    ("less:arm64", "the pager"),
    ("nano:arm64", "an editor"),
];

/// Busybox applets that stay busybox's even where a package has the same path: `/bin/sh`
/// (Debian's is dash, which is not included).
const BUSYBOX_ALWAYS: &[&str] = &["bin/sh"];

/// Paths (under the unpacked tree) that are left out of the archive.
const LEFT_OUT: &[&str] = &[
    "usr/share/doc",
    "usr/share/doc-base",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "usr/share/bug",
    "usr/share/menu",
    "usr/lib/aarch64-linux-gnu/gconv",
];

/// The links Debian's maintainer scripts would make with `update-alternatives` (which
/// `dpkg-deb -x` does not run): without them `awk` would be busybox's.
const ALTERNATIVES: &[(&str, &str)] = &[
    ("/usr/bin/awk", "mawk"),
    ("/usr/bin/nawk", "mawk"),
    ("/usr/bin/pager", "less"),
    ("/usr/bin/editor", "nano"),
];

/// `/etc/passwd`: root's shell is bash.
const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n";

/// `/etc/profile` for bash (the packages' `/etc/skel` is not used: root's home is empty).
const PROFILE: &str = "\
# /etc/profile: read by login shells.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PS1='\\u@\\h:\\w\\$ '
[ -n \"$BASH_VERSION\" ] && [ -r /etc/bash.bashrc ] && . /etc/bash.bashrc
";

/// `/etc/init.d/rcS`: the busybox root file system's, plus the links to `/proc/self/fd`
/// that udev makes on Debian (bash's process substitution opens `/dev/fd/N`).
const RCS: &str = "\
#!/bin/sh
# /etc/init.d/rcS: run once by init at boot (the sysinit line of /etc/inittab).
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
hostname -F /etc/hostname
";

/// `/etc/motd` on the Debian root file system.
const MOTD: &str = "\
Welcome to Cradle. This is Debian's bash, coreutils and procps, dynamically linked with
glibc, on a Rust kernel; busybox provides init, getty, login and mount.
";

/// The unpacked packages, merged `/usr` applied; fetched and unpacked the first time.
pub fn fetch_debian_root() -> Result<PathBuf, String> {
    let root = out_dir().join("debian-root");
    let done = out_dir().join("debian-root.done");
    let wanted: String = PACKAGES.iter().map(|(p, _)| format!("{p}\n")).collect();
    if std::fs::read_to_string(&done).is_ok_and(|t| t == wanted) && root.is_dir() {
        return Ok(root);
    }
    let how = "needs Debian's arm64 packages. As root on Debian:\n  \
               dpkg --add-architecture arm64 && apt-get update";
    ensure_arm64_arch().map_err(|e| format!("{e}\n{how}"))?;
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_file(&done);
    let unpacked = out_dir().join("debian-root.tmp");
    let _ = std::fs::remove_dir_all(&unpacked);
    std::fs::create_dir_all(&unpacked).map_err(|e| e.to_string())?;
    for (package, _) in PACKAGES {
        let name = package.trim_end_matches(":arm64");
        let deb = download(package, &format!("{name}_")).map_err(|e| format!("{e}\n{how}"))?;
        unpack(&deb, &unpacked)?;
    }
    merge_usr(&unpacked)?;
    for path in LEFT_OUT {
        let _ = std::fs::remove_dir_all(unpacked.join(path));
    }
    check_needed(&unpacked)?;
    make_ld_so_cache(&unpacked)?;
    std::fs::rename(&unpacked, &root).map_err(|e| e.to_string())?;
    std::fs::write(&done, wanted).map_err(|e| e.to_string())?;
    Ok(root)
}

/// Move `/bin`, `/sbin` and `/lib` of the unpacked tree into `/usr` and leave symlinks.
fn merge_usr(root: &Path) -> Result<(), String> {
    for dir in ["bin", "sbin", "lib"] {
        let top = root.join(dir);
        let usr = root.join("usr").join(dir);
        std::fs::create_dir_all(&usr).map_err(|e| e.to_string())?;
        if top.is_dir() && !top.is_symlink() {
            // `cp -a top/. usr/` merges trees (lib/aarch64-linux-gnu is in both).
            run(Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", top.display()))
                .arg(&usr))?;
            std::fs::remove_dir_all(&top).map_err(|e| e.to_string())?;
        }
        std::os::unix::fs::symlink(format!("usr/{dir}"), &top).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Every regular file under `dir` (not following symlinks).
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for item in read.flatten() {
        let path = item.path();
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => files_under(&path, out),
            Ok(m) if m.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// The `DT_NEEDED` names in `readelf -d` output.
fn parse_needed(readelf: &str) -> Vec<String> {
    readelf
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| {
            let start = l.find('[')? + 1;
            let end = l[start..].find(']')? + start;
            Some(l[start..end].to_string())
        })
        .collect()
}

/// Every `DT_NEEDED` library of every ELF file in `root` must be in `root`'s library
/// directories: the package list is complete.
fn check_needed(root: &Path) -> Result<(), String> {
    ensure_cross_cc()?;
    let lib_dirs = [root.join("usr/lib/aarch64-linux-gnu"), root.join("usr/lib")];
    let mut files = Vec::new();
    files_under(&root.join("usr"), &mut files);
    let mut missing = Vec::new();
    for file in files {
        let mut magic = [0u8; 4];
        let is_elf = std::fs::File::open(&file)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
            .is_ok()
            && &magic == b"\x7fELF";
        if !is_elf {
            continue;
        }
        let out = run(Command::new("aarch64-linux-gnu-readelf")
            .arg("-dW")
            .arg(&file))?;
        for lib in parse_needed(&out) {
            if !lib_dirs.iter().any(|d| d.join(&lib).exists()) {
                let rel = file
                    .strip_prefix(root)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                missing.push(format!("{rel} needs {lib}"));
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the Debian package list lacks libraries:\n  {}",
            missing.join("\n  ")
        ))
    }
}

/// `/etc/ld.so.cache`, made by the tree's own (static) `ldconfig` under `qemu-aarch64`.
fn make_ld_so_cache(root: &Path) -> Result<(), String> {
    ensure_qemu_user()?;
    let ldconfig = root.join("usr/sbin/ldconfig");
    run(Command::new("qemu-aarch64")
        .arg(&ldconfig)
        .arg("-r")
        .arg(root)
        .arg("-X"))?;
    if root.join("etc/ld.so.cache").exists() {
        Ok(())
    } else {
        Err("ldconfig made no /etc/ld.so.cache".into())
    }
}

/// Build the Debian root file system's initramfs; returns its path
/// (`target/cradle/initramfs-debian.cpio`).
pub fn build_debian_rootfs(overlay: Option<&Path>) -> Result<PathBuf, String> {
    let mut layers = vec![debian_entries()?];
    if let Some(dir) = overlay {
        layers.push(overlay_entries(dir)?);
    }
    let bytes = write_newc(&merge(layers))?;
    let path = out_dir().join("initramfs-debian.cpio");
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The archive entries of the Debian root file system (merged: parents first).
pub fn debian_entries() -> Result<Vec<Entry>, String> {
    let root = fetch_debian_root()?;
    let busybox = crate::busybox::fetch_busybox()?;
    let mut packages = overlay_entries(&root)?;
    packages.sort_by(|a, b| a.path.cmp(&b.path));
    let mut base = crate::rootfs::base_entries()?;
    // The packages' files replace the busybox links, except for busybox's own programs.
    let have: std::collections::BTreeSet<String> = packages
        .iter()
        .map(|e| e.path.trim_start_matches('/').to_string())
        .collect();
    let usr_path = |applet: &str| -> String {
        for top in ["bin/", "sbin/", "lib/"] {
            if let Some(rest) = applet.strip_prefix(top) {
                return format!("usr/{top}{rest}");
            }
        }
        applet.to_string()
    };
    let mut links: Vec<Entry> = ALTERNATIVES
        .iter()
        .map(|&(path, target)| Entry::new(path, Source::Symlink(target.into()), 0o777))
        .collect();
    let alternatives: Vec<&str> = ALTERNATIVES.iter().map(|&(p, _)| &p[1..]).collect();
    for applet in applets(&busybox)? {
        let path = usr_path(&applet);
        if alternatives.contains(&path.as_str()) {
            continue;
        }
        if !have.contains(&path) || BUSYBOX_ALWAYS.contains(&applet.as_str()) {
            links.push(Entry::new(
                &format!("/{path}"),
                Source::Symlink("/usr/bin/busybox".into()),
                0o777,
            ));
        }
    }
    // base_entries has /bin, /sbin as directories and busybox's links: the merged-/usr tree
    // replaces them.
    base.retain(|e| {
        let p = e.path.trim_start_matches('/');
        !matches!(p, "bin" | "sbin" | "lib" | "bin/busybox")
            && !matches!(&e.source, Source::Symlink(t) if t == "/bin/busybox")
    });
    base.push(Entry::new(
        "/usr/bin/busybox",
        Source::File(busybox.clone()),
        0o755,
    ));
    let etc = vec![
        Entry::new("/etc/passwd", Source::Bytes(PASSWD.into()), 0o644),
        Entry::new("/etc/profile", Source::Bytes(PROFILE.into()), 0o644),
        Entry::new("/etc/motd", Source::Bytes(MOTD.into()), 0o644),
        Entry::new("/etc/init.d/rcS", Source::Bytes(RCS.into()), 0o755),
    ];
    Ok(merge(vec![packages, base, links, etc]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_parsing() {
        let out = " 0x0000000000000001 (NEEDED)             Shared library: [libtinfo.so.6]\n \
                   0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]\n \
                   0x000000000000000c (INIT)               0x2e000\n";
        assert_eq!(parse_needed(out), ["libtinfo.so.6", "libc.so.6"]);
    }
}
