//! The default root file system: Debian's busybox as a small Linux system, in an initramfs.
//!
//! `cargo xtask qemu` and the SD card boot it. The kernel finds no `/init` in it, so it
//! runs `/sbin/init` (busybox init), which reads `/etc/inittab`: `/etc/init.d/rcS` mounts
//! proc, sysfs, devtmpfs and the tmpfs's (`/tmp`, `/run`, `/dev/shm` for POSIX shared
//! memory) and sets the host name, then getty on the
//! console prints `cradle login:` and hands the name to login, which starts root's shell.
//! Exactly the chain the seed articles end with: PID 1 → init → getty → login → sh.
//!
//! The archive holds busybox with a link for every applet (the list comes from
//! `busybox --list-full`, run once under qemu-aarch64 and cached beside the binary), the
//! files of `etc/` below, the project's C test programs under `/usr/lib/cradle/` (with
//! `fork_seed` on the PATH as `/usr/bin/fork_seed`), and, last, the files of an overlay
//! directory (`cargo xtask qemu --overlay DIR`), which may replace any of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env::{ensure_qemu_user, out_dir};
use crate::initramfs::{write_newc, Entry, Source};

/// The prompt getty prints.
pub const LOGIN_PROMPT: &str = "cradle login: ";

/// `/etc/inittab` (busybox init's format: `id:runlevels:action:process`; busybox ignores
/// runlevels, and the id is the terminal to run the process on, empty for init's own).
const INITTAB: &str = "\
# /etc/inittab: what busybox init runs (id:runlevels:action:process).
# Boot: mount the file systems, set the host name.
::sysinit:/etc/init.d/rcS
# A login prompt on the console, again after every logout.
console::respawn:/sbin/getty -L 115200 console vt100
# reboot, poweroff and Ctrl-Alt-Del end here: stop everything, unmount, then the kernel.
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
::restart:/sbin/init
";

/// `/etc/init.d/rcS`: the sysinit script.
const RCS: &str = "\
#!/bin/sh
# /etc/init.d/rcS: run once by init at boot (the sysinit line of /etc/inittab).
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
hostname -F /etc/hostname
";

/// `/etc/profile`: what a login shell reads first.
const PROFILE: &str = "\
# /etc/profile: read by login shells.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PS1='\\u@\\h:\\w\\$ '
";

/// `/etc/issue`: what getty prints above the prompt (`\\s`: the kernel's name, `\\r`: its
/// release, `\\m`: the machine, `\\l`: the terminal).
const ISSUE: &str = "Cradle \\r \\m (\\l)\n\n";

/// `/etc/motd`: what login prints after a login.
const MOTD: &str = "\
Welcome to Cradle. This is Debian's busybox on a Rust kernel; `ps -o pid,ppid,comm`
shows init (PID 1), kthreadd (PID 2) and the chain that led here.
";

/// The ordinary user: name, uid and gid, and its password (README says it).
pub const USER: (&str, u32, u32) = ("cradle", 1000, 1000);
/// `USER`'s password.
pub const USER_PASSWORD: &str = "cradle";

/// The users. Passwords are in /etc/shadow; busybox's uid lookups skip a passwd line
/// whose password field is empty, so it holds "x".
const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/sh
cradle:x:1000:1000:Cradle user:/home/cradle:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
";

/// The passwords: root's is empty (login asks for none, `su` from another user neither),
/// `cradle`'s is "cradle" (SHA-512 crypt, fixed salt so the archive is reproducible:
/// `openssl passwd -6 -salt cradlesalt cradle`).
const SHADOW: &str = "\
root::20000:0:99999:7:::
cradle:$6$cradlesalt$SWtmKES4tk/miMehbNl.qJbobij/7Dxa3oIE4h9lydar3nSg1n1Csoa16OvDJUXchRbPTul9pj5c6skY9invj/:20000:0:99999:7:::
nobody:*:20000:0:99999:7:::
";

/// The groups (`shadow` may read /etc/shadow, as on Debian).
const GROUP: &str = "\
root:x:0:
shadow:x:42:
cradle:x:1000:
nogroup:x:65534:
";

/// The text files of `/etc`, with their modes, owners and groups.
const ETC: [(&str, &str, u32, u32, u32); 9] = [
    ("/etc/inittab", INITTAB, 0o644, 0, 0),
    ("/etc/init.d/rcS", RCS, 0o755, 0, 0),
    ("/etc/passwd", PASSWD, 0o644, 0, 0),
    ("/etc/shadow", SHADOW, 0o640, 0, 42),
    ("/etc/group", GROUP, 0o644, 0, 0),
    ("/etc/hostname", "cradle\n", 0o644, 0, 0),
    ("/etc/profile", PROFILE, 0o644, 0, 0),
    ("/etc/issue", ISSUE, 0o644, 0, 0),
    ("/etc/motd", MOTD, 0o644, 0, 0),
];

/// The directories, with their modes.
const DIRS: [(&str, u32); 17] = [
    ("/bin", 0o755),
    ("/sbin", 0o755),
    ("/usr", 0o755),
    ("/usr/bin", 0o755),
    ("/usr/sbin", 0o755),
    ("/usr/lib", 0o755),
    ("/usr/lib/cradle", 0o755),
    ("/etc", 0o755),
    ("/etc/init.d", 0o755),
    ("/dev", 0o755),
    ("/proc", 0o555),
    ("/sys", 0o555),
    ("/tmp", 0o1777),
    ("/run", 0o755),
    ("/root", 0o700),
    ("/var", 0o755),
    ("/home", 0o755),
];

/// The ordinary user's home directory (owned by it; see [`USER`]).
const HOME: &str = "/home/cradle";

/// Busybox's applets as paths relative to `/` (`bin/ls`, `sbin/init`, ...), from
/// `busybox --list-full`; cached in `applets.txt` beside the binary.
pub(crate) fn applets(busybox: &Path) -> Result<Vec<String>, String> {
    let cache = busybox.with_file_name("applets.txt");
    let text = match std::fs::read_to_string(&cache) {
        Ok(text) if !text.trim().is_empty() => text,
        _ => {
            ensure_qemu_user()?;
            let out = Command::new("qemu-aarch64")
                .arg(busybox)
                .arg("--list-full")
                .output()
                .map_err(|e| format!("cannot run qemu-aarch64: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "busybox --list-full failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            std::fs::write(&cache, &text).map_err(|e| format!("{}: {e}", cache.display()))?;
            text
        }
    };
    let list = parse_applets(&text);
    if list.iter().any(|a| a == "sbin/init") && list.iter().any(|a| a == "sbin/getty") {
        Ok(list)
    } else {
        Err(format!(
            "{}: busybox lists no init or getty applet",
            cache.display()
        ))
    }
}

/// The applet paths of `busybox --list-full` output, without busybox itself.
fn parse_applets(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("..") && *l != "bin/busybox")
        .map(str::to_string)
        .collect()
}

/// Every file, directory and symlink under `dir`, as archive entries rooted at `/`.
pub(crate) fn overlay_entries(dir: &Path) -> Result<Vec<Entry>, String> {
    use std::os::unix::fs::PermissionsExt;
    let mut entries = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let read = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for item in read {
            let item = item.map_err(|e| format!("{}: {e}", d.display()))?;
            let path = item.path();
            let rel = path
                .strip_prefix(dir)
                .map_err(|e| e.to_string())?
                .to_str()
                .ok_or_else(|| format!("{}: the name is not UTF-8", path.display()))?
                .to_string();
            let meta =
                std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mode = meta.permissions().mode() & 0o7777;
            let name = format!("/{rel}");
            if meta.file_type().is_symlink() {
                let target =
                    std::fs::read_link(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let target = target.to_string_lossy().into_owned();
                entries.push(Entry::new(&name, Source::Symlink(target), 0o777));
            } else if meta.is_dir() {
                entries.push(Entry::new(&name, Source::Dir, mode));
                stack.push(path);
            } else if meta.is_file() {
                entries.push(Entry::new(&name, Source::File(path.clone()), mode));
            } else {
                return Err(format!(
                    "{}: only files, directories and symlinks can be overlaid",
                    path.display()
                ));
            }
        }
    }
    Ok(entries)
}

/// The entries of the root file system: later ones replace earlier ones of the same path,
/// and every parent directory is there before its children.
pub(crate) fn merge(layers: Vec<Vec<Entry>>) -> Vec<Entry> {
    let mut by_path: BTreeMap<String, Entry> = BTreeMap::new();
    for entry in layers.into_iter().flatten() {
        let mut parent = Path::new(&entry.path).parent();
        while let Some(p) = parent {
            let p_str = p.to_string_lossy().into_owned();
            if p_str == "/" || p_str.is_empty() {
                break;
            }
            by_path
                .entry(p_str.clone())
                .or_insert_with(|| Entry::new(&p_str, Source::Dir, 0o755));
            parent = p.parent();
        }
        by_path.insert(entry.path.clone(), entry);
    }
    // BTreeMap order puts "/a" before "/a/b": parents first.
    by_path.into_values().collect()
}

/// Which root file system to boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rootfs {
    /// Debian's static busybox (this file).
    #[default]
    Busybox,
    /// Debian's dynamically linked bash, coreutils, procps, ... (debian_rootfs.rs).
    Debian,
}

impl Rootfs {
    /// `--rootfs busybox|debian`.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "busybox" => Ok(Self::Busybox),
            "debian" => Ok(Self::Debian),
            _ => Err(format!("--rootfs takes busybox or debian, not {name}")),
        }
    }

    /// Build this root file system's initramfs (with `overlay`'s files added); its path.
    pub fn build(self, overlay: Option<&Path>) -> Result<PathBuf, String> {
        match self {
            Self::Busybox => build_rootfs(overlay),
            Self::Debian => crate::debian_rootfs::build_debian_rootfs(overlay),
        }
    }
}

/// The busybox system without an overlay: directories, `/dev/console`, busybox and its
/// links, `/etc`, the project's test programs.
pub(crate) fn base_entries() -> Result<Vec<Entry>, String> {
    let busybox = crate::busybox::fetch_busybox()?;
    let mut base: Vec<Entry> = DIRS
        .iter()
        .map(|&(path, mode)| Entry::new(path, Source::Dir, mode))
        .collect();
    base.push(Entry::new(HOME, Source::Dir, 0o755).owned_by(USER.1, USER.2));
    base.push(Entry::new(
        "/dev/console",
        Source::CharDev { major: 5, minor: 1 },
        0o600,
    ));
    // Set-user-ID root, so `su` and `passwd` work for an ordinary user: busybox is built
    // with FEATURE_SUID, and drops the privileges at once for every applet that does not
    // need them (all but su, passwd, login's kin), as Debian's busybox does.
    base.push(Entry::new(
        "/bin/busybox",
        Source::File(busybox.clone()),
        0o4755,
    ));
    for applet in applets(&busybox)? {
        base.push(Entry::new(
            &format!("/{applet}"),
            Source::Symlink("/bin/busybox".into()),
            0o777,
        ));
    }
    for (path, text, mode, uid, gid) in ETC {
        base.push(
            Entry::new(path, Source::Bytes(text.as_bytes().to_vec()), mode).owned_by(uid, gid),
        );
    }
    let user = crate::user::build_user()?;
    for program in &user.programs {
        base.push(Entry::new(
            &format!("/usr/lib/cradle/{}", program.name),
            Source::File(program.path.clone()),
            0o755,
        ));
    }
    base.push(Entry::new(
        "/usr/bin/fork_seed",
        Source::Symlink("/usr/lib/cradle/fork_seed".into()),
        0o777,
    ));
    Ok(base)
}

/// Build the root file system's initramfs; returns its path
/// (`target/cradle/initramfs-rootfs.cpio`).
pub fn build_rootfs(overlay: Option<&Path>) -> Result<PathBuf, String> {
    let mut layers = vec![base_entries()?];
    if let Some(dir) = overlay {
        layers.push(overlay_entries(dir)?);
    }
    let bytes = write_newc(&merge(layers))?;
    let path = out_dir().join("initramfs-rootfs.cpio");
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applet_list_parsing() {
        let list = parse_applets("usr/bin/[\nsbin/init\n\nbin/busybox\nbin/ls\n../evil\n");
        assert_eq!(list, ["usr/bin/[", "sbin/init", "bin/ls"]);
    }

    #[test]
    fn merge_replaces_and_adds_parents() {
        let base = vec![
            Entry::new("/etc", Source::Dir, 0o755),
            Entry::new("/etc/motd", Source::Bytes(b"a".to_vec()), 0o644),
        ];
        let overlay = vec![
            Entry::new("/etc/motd", Source::Bytes(b"b".to_vec()), 0o600),
            Entry::new("/opt/x/y", Source::Bytes(b"c".to_vec()), 0o755),
        ];
        let merged = merge(vec![base, overlay]);
        let paths: Vec<&str> = merged.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/etc", "/etc/motd", "/opt", "/opt/x", "/opt/x/y"]);
        assert_eq!(merged[1].mode, 0o600);
        assert!(matches!(&merged[1].source, Source::Bytes(b) if b == b"b"));
    }

    #[test]
    fn overlay_reads_a_tree() {
        let dir = std::env::temp_dir().join(format!("cradle-overlay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/motd"), "hi\n").unwrap();
        std::os::unix::fs::symlink("motd", dir.join("etc/link")).unwrap();
        let mut entries = overlay_entries(&dir).unwrap();
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let _ = std::fs::remove_dir_all(&dir);
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/etc", "/etc/link", "/etc/motd"]);
        assert!(matches!(&entries[1].source, Source::Symlink(t) if t == "motd"));
    }
}
