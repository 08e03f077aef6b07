//! Initramfs archives: a writer (and a small reader) for the cpio "newc" format.
//!
//! The format, as the kernel's `init/initramfs.c` unpacks it: each member is a 110-byte
//! ASCII header — the magic `070701` and 13 fields of 8 hex digits (ino, mode, uid, gid,
//! nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check) —
//! then the name with its NUL, padded to a multiple of 4 bytes, then the data, padded to 4.
//! A member named `TRAILER!!!` ends the archive. Names carry no leading `/`.
//!
//! Archives are reproducible: mtime is 0, uid and gid are 0 unless an entry says otherwise
//! ([`Entry::owned_by`]), and inode numbers count up from 1.
//! Missing parent directories are added (mode 0755) before their first child, because the
//! kernel's unpacker does not create them.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::env::out_dir;
use crate::user::UserPrograms;

const MAGIC: &[u8; 6] = b"070701";
const HEADER_LEN: usize = 110;
const TRAILER: &str = "TRAILER!!!";

/// File type bits of `st_mode`.
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// What an archive member is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    dead_code,
    reason = "the test initramfs has no symlinks or inline files yet"
)]
pub enum Source {
    /// A regular file with the contents of this host file.
    File(PathBuf),
    /// A regular file with these bytes.
    Bytes(Vec<u8>),
    /// A directory.
    Dir,
    /// A symbolic link to this target.
    Symlink(String),
    /// A character device.
    CharDev { major: u32, minor: u32 },
}

/// One member to write: its path in the archive (`/bin/sh` or `bin/sh`), what it is, and
/// its permission bits (`0o755`; the type bits come from `source`).
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub source: Source,
    pub mode: u32,
    /// Owner and group (uid, gid); root's unless [`Entry::owned_by`] says otherwise.
    pub owner: (u32, u32),
}

impl Entry {
    pub fn new(path: &str, source: Source, mode: u32) -> Self {
        Self {
            path: path.to_string(),
            source,
            mode,
            owner: (0, 0),
        }
    }

    /// The same entry, owned by `uid` and group `gid`.
    pub fn owned_by(mut self, uid: u32, gid: u32) -> Self {
        self.owner = (uid, gid);
        self
    }
}

/// A member read back from an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub ino: u32,
    pub mode: u32,
    pub nlink: u32,
    pub rdev: (u32, u32),
    pub data: Vec<u8>,
}

impl Member {
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
    pub fn is_symlink(&self) -> bool {
        self.mode & S_IFMT == S_IFLNK
    }
    pub fn is_char_device(&self) -> bool {
        self.mode & S_IFMT == S_IFCHR
    }
}

/// Header fields of one member, in the order the format stores them (check is always 0).
struct Header {
    ino: u32,
    mode: u32,
    owner: (u32, u32),
    nlink: u32,
    filesize: u32,
    rdev: (u32, u32),
    namesize: u32,
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn push_member(out: &mut Vec<u8>, header: &Header, name: &str, data: &[u8]) {
    let fields = [
        header.ino,
        header.mode,
        header.owner.0,
        header.owner.1,
        header.nlink,
        0, // mtime
        header.filesize,
        0, // devmajor
        0, // devminor
        header.rdev.0,
        header.rdev.1,
        header.namesize,
        0, // check
    ];
    out.extend_from_slice(MAGIC);
    for field in fields {
        out.extend_from_slice(format!("{field:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

/// Normalise an archive path: no leading `/`, no empty, `.` or `..` components.
fn archive_name(path: &str) -> Result<String, String> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.iter().any(|p| *p == "." || *p == "..") {
        return Err(format!("bad archive path '{path}'"));
    }
    Ok(parts.join("/"))
}

/// Write a newc archive of `entries` (in order, after any missing parent directories).
pub fn write_newc(entries: &[Entry]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut written = BTreeSet::new();
    let mut ino = 0u32;
    let mut emit =
        |out: &mut Vec<u8>, name: &str, kind: u32, mode: u32, owner, data: &[u8], rdev| {
            ino += 1;
            let header = Header {
                ino,
                mode: kind | (mode & 0o7777),
                owner,
                nlink: if kind == S_IFDIR { 2 } else { 1 },
                filesize: data.len() as u32,
                rdev,
                namesize: name.len() as u32 + 1,
            };
            push_member(out, &header, name, data);
        };
    for entry in entries {
        let name = archive_name(&entry.path)?;
        if !written.insert(name.clone()) {
            return Err(format!("'{name}' is in the archive twice"));
        }
        // Parents first: "a", then "a/b", for "a/b/c".
        let parts: Vec<&str> = name.split('/').collect();
        for depth in 1..parts.len() {
            let parent = parts[..depth].join("/");
            if written.insert(parent.clone()) {
                emit(&mut out, &parent, S_IFDIR, 0o755, (0, 0), &[], (0, 0));
            }
        }
        let (kind, data, rdev) = match &entry.source {
            Source::File(path) => {
                let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
                (S_IFREG, bytes, (0, 0))
            }
            Source::Bytes(bytes) => (S_IFREG, bytes.clone(), (0, 0)),
            Source::Dir => (S_IFDIR, Vec::new(), (0, 0)),
            Source::Symlink(target) => (S_IFLNK, target.as_bytes().to_vec(), (0, 0)),
            Source::CharDev { major, minor } => (S_IFCHR, Vec::new(), (*major, *minor)),
        };
        if u32::try_from(data.len()).is_err() {
            return Err(format!("'{name}' is too big for a newc archive"));
        }
        emit(&mut out, &name, kind, entry.mode, entry.owner, &data, rdev);
    }
    let trailer = Header {
        ino: 0,
        mode: 0,
        owner: (0, 0),
        nlink: 1,
        filesize: 0,
        rdev: (0, 0),
        namesize: TRAILER.len() as u32 + 1,
    };
    push_member(&mut out, &trailer, TRAILER, &[]);
    Ok(out)
}

fn hex_field(header: &[u8], index: usize) -> Result<u32, String> {
    let start = 6 + 8 * index;
    let text = std::str::from_utf8(&header[start..start + 8])
        .map_err(|_| format!("header field {index} is not ASCII"))?;
    u32::from_str_radix(text, 16).map_err(|_| format!("header field {index} is not hex: {text}"))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Read a newc archive back, up to its trailer.
pub fn read_newc(bytes: &[u8]) -> Result<Vec<Member>, String> {
    let mut members = Vec::new();
    let mut at = 0usize;
    loop {
        let header = bytes
            .get(at..at + HEADER_LEN)
            .ok_or_else(|| format!("truncated header at offset {at}"))?;
        if &header[..6] != MAGIC {
            return Err(format!("bad magic at offset {at}"));
        }
        let field = |i| hex_field(header, i);
        let (ino, mode, nlink, filesize) = (field(0)?, field(1)?, field(4)?, field(6)?);
        let (rdev, namesize, check) = ((field(9)?, field(10)?), field(11)?, field(12)?);
        if check != 0 {
            return Err(format!("non-zero check field at offset {at}"));
        }
        let name_start = at + HEADER_LEN;
        let name_end = name_start + namesize as usize;
        let raw_name = bytes
            .get(name_start..name_end)
            .ok_or_else(|| format!("truncated name at offset {name_start}"))?;
        let name = raw_name
            .strip_suffix(&[0])
            .ok_or_else(|| format!("name at offset {name_start} is not NUL-terminated"))?;
        let name = String::from_utf8(name.to_vec())
            .map_err(|_| format!("name at offset {name_start} is not UTF-8"))?;
        let data_start = align4(name_end);
        let data_end = data_start + filesize as usize;
        let data = bytes
            .get(data_start..data_end)
            .ok_or_else(|| format!("truncated data of '{name}'"))?
            .to_vec();
        at = align4(data_end);
        if name == TRAILER {
            return Ok(members);
        }
        members.push(Member {
            name,
            ino,
            mode,
            nlink,
            rdev,
            data,
        });
    }
}

/// The members of the test initramfs: `/init` and the test programs.
pub fn test_entries(user: &UserPrograms) -> Result<Vec<Entry>, String> {
    let file = |name: &str| user.get(name).map(|p| Source::File(p.path.clone()));
    Ok(vec![
        Entry::new("/dev", Source::Dir, 0o755),
        Entry::new(
            "/dev/console",
            Source::CharDev { major: 5, minor: 1 },
            0o600,
        ),
        Entry::new("/dev/null", Source::CharDev { major: 1, minor: 3 }, 0o666),
        Entry::new("/dev/zero", Source::CharDev { major: 1, minor: 5 }, 0o666),
        Entry::new("/etc", Source::Dir, 0o755),
        Entry::new("/tmp", Source::Dir, 0o1777),
        Entry::new("/proc", Source::Dir, 0o555),
        Entry::new("/bin", Source::Dir, 0o755),
        Entry::new("/init", file("init_hello")?, 0o755),
        Entry::new("/bin/syscalls", file("syscalls")?, 0o755),
        Entry::new("/bin/fork_seed", file("fork_seed")?, 0o755),
        Entry::new("/bin/segv", file("segv")?, 0o755),
        Entry::new("/bin/execbad", file("execbad")?, 0o755),
        Entry::new("/bin/proctest", file("proctest")?, 0o755),
        Entry::new("/bin/sigtest", file("sigtest")?, 0o755),
        Entry::new("/bin/cowtest", file("cowtest")?, 0o755),
        Entry::new("/bin/mmaptest", file("mmaptest")?, 0o755),
        Entry::new("/bin/mapstest", file("mapstest")?, 0o755),
        Entry::new("/bin/threads", file("threads")?, 0o755),
        Entry::new("/bin/threadexec", file("threadexec")?, 0o755),
        Entry::new("/bin/rust_threads", file("rust_threads")?, 0o755),
        Entry::new("/bin/futexshared", file("futexshared")?, 0o755),
        Entry::new("/bin/tlbshoot", file("tlbshoot")?, 0o755),
        Entry::new("/bin/efault", file("efault")?, 0o755),
        Entry::new("/bin/schedtest", file("schedtest")?, 0o755),
        Entry::new("/bin/epolltest", file("epolltest")?, 0o755),
        Entry::new("/bin/priotest", file("priotest")?, 0o755),
        Entry::new("/bin/memfdtest", file("memfdtest")?, 0o755),
        Entry::new("/bin/sysmisc", file("sysmisc")?, 0o755),
        Entry::new("/bin/sysmisckern", file("sysmisckern")?, 0o755),
        Entry::new("/bin/timerstest", file("timerstest")?, 0o755),
        Entry::new("/bin/clockset", file("clockset")?, 0o755),
        Entry::new("/bin/inotifytest", file("inotifytest")?, 0o755),
        Entry::new("/bin/filelock", file("filelock")?, 0o755),
        Entry::new("/bin/rtsigtest", file("rtsigtest")?, 0o755),
        Entry::new("/bin/waitidtest", file("waitidtest")?, 0o755),
        Entry::new("/bin/unixsock", file("unixsock")?, 0o755),
        Entry::new("/bin/vdsotest", file("vdsotest")?, 0o755),
        Entry::new("/bin/aslrtest", file("aslrtest")?, 0o755),
        Entry::new("/bin/xattrtest", file("xattrtest")?, 0o755),
        Entry::new("/bin/smpsched", file("smpsched")?, 0o755),
        Entry::new("/bin/cputime", file("cputime")?, 0o755),
        Entry::new("/bin/cputimers", file("cputimers")?, 0o755),
        Entry::new("/bin/credtest", file("credtest")?, 0o755),
        Entry::new("/bin/suidtest", file("suidtest")?, 0o755),
        Entry::new("/bin/forkbomb", file("forkbomb")?, 0o755),
        Entry::new("/bin/hugeelf", file("hugeelf")?, 0o755),
        Entry::new("/bin/oomtest", file("oomtest")?, 0o755),
        Entry::new("/bin/bad.elf", Source::File(user.bad_elf.clone()), 0o755),
    ])
}

/// Where [`build_test_initramfs`] writes.
pub fn test_initramfs_path() -> PathBuf {
    out_dir().join("initramfs-test.cpio")
}

/// Write `target/cradle/initramfs-test.cpio` from the built user programs.
pub fn build_test_initramfs(user: &UserPrograms) -> Result<PathBuf, String> {
    let bytes = write_newc(&test_entries(user)?)?;
    let path = test_initramfs_path();
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Check that the archive at `path` reads back with exactly the members of `entries`.
pub fn check_archive(path: &std::path::Path, entries: &[Entry]) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let members = read_newc(&bytes)?;
    for entry in entries {
        let name = archive_name(&entry.path)?;
        let member = members
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| format!("'{name}' is missing"))?;
        if member.mode & 0o7777 != entry.mode {
            return Err(format!(
                "'{name}' has mode {:o}, expected {:o}",
                member.mode & 0o7777,
                entry.mode
            ));
        }
        let ok = match &entry.source {
            Source::File(host) => {
                member.is_file()
                    && std::fs::read(host).map_err(|e| format!("{}: {e}", host.display()))?
                        == member.data
            }
            Source::Bytes(bytes) => member.is_file() && *bytes == member.data,
            Source::Dir => member.is_dir(),
            Source::Symlink(target) => member.is_symlink() && target.as_bytes() == member.data,
            Source::CharDev { major, minor } => {
                member.is_char_device() && member.rdev == (*major, *minor)
            }
        };
        if !ok {
            return Err(format!("'{name}' does not match what was written"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Entry> {
        vec![
            Entry::new("/init", Source::Bytes(b"#!/bin/sh\n".to_vec()), 0o755),
            Entry::new("/usr/lib/deep/file", Source::Bytes(vec![1, 2, 3]), 0o644),
            Entry::new("/bin/sh", Source::Symlink("busybox".into()), 0o777),
            Entry::new(
                "/dev/console",
                Source::CharDev { major: 5, minor: 1 },
                0o600,
            ),
            Entry::new("/tmp", Source::Dir, 0o1777),
            Entry::new("/empty", Source::Bytes(Vec::new()), 0o600),
        ]
    }

    #[test]
    fn round_trip() {
        let entries = sample();
        let bytes = write_newc(&entries).unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let members = read_newc(&bytes).unwrap();
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "init",
                "usr",
                "usr/lib",
                "usr/lib/deep",
                "usr/lib/deep/file",
                "bin",
                "bin/sh",
                "dev",
                "dev/console",
                "tmp",
                "empty"
            ]
        );
        let get = |n: &str| members.iter().find(|m| m.name == n).unwrap();
        assert!(get("init").is_file());
        assert_eq!(get("init").mode, 0o100755);
        assert_eq!(get("init").data, b"#!/bin/sh\n");
        assert_eq!(get("usr/lib/deep/file").data, [1, 2, 3]);
        assert!(get("usr/lib").is_dir());
        assert_eq!(get("usr/lib").mode, 0o040755);
        assert_eq!(get("usr/lib").nlink, 2);
        assert!(get("bin/sh").is_symlink());
        assert_eq!(get("bin/sh").data, b"busybox");
        assert!(get("dev/console").is_char_device());
        assert_eq!(get("dev/console").rdev, (5, 1));
        assert_eq!(get("dev/console").mode, 0o020600);
        assert_eq!(get("tmp").mode, 0o041777);
        assert!(get("empty").data.is_empty());
        // Inode numbers are distinct.
        let inodes: BTreeSet<u32> = members.iter().map(|m| m.ino).collect();
        assert_eq!(inodes.len(), members.len());
    }

    #[test]
    fn exact_bytes_of_one_member() {
        let bytes = write_newc(&[Entry::new("a", Source::Bytes(b"xyz".to_vec()), 0o644)]).unwrap();
        let header = concat!(
            "070701", "00000001", // magic, ino
            "000081A4", "00000000", "00000000", // mode 0100644, uid, gid
            "00000001", "00000000", "00000003", // nlink, mtime, filesize
            "00000000", "00000000", "00000000", "00000000", // devmajor/minor, rdevmajor/minor
            "00000002", "00000000", // namesize, check
        );
        assert_eq!(&bytes[..110], header.as_bytes());
        // "a\0" ends at 112, already a multiple of 4; the data is padded to 116.
        assert_eq!(&bytes[110..116], b"a\0xyz\0");
        assert_eq!(&bytes[116..122], b"070701");
        let trailer_name = 116 + 110;
        assert_eq!(&bytes[trailer_name..trailer_name + 11], b"TRAILER!!!\0");
        assert_eq!(bytes.len(), align4(trailer_name + 11));
    }

    #[test]
    fn name_padding_for_every_name_length() {
        for len in 1..10 {
            let name = "n".repeat(len);
            let data = vec![0xaa; len];
            let bytes =
                write_newc(&[Entry::new(&name, Source::Bytes(data.clone()), 0o644)]).unwrap();
            let members = read_newc(&bytes).unwrap();
            assert_eq!(members.len(), 1);
            assert_eq!(members[0].name, name);
            assert_eq!(members[0].data, data);
        }
    }

    #[test]
    fn rejects_bad_paths_and_duplicates() {
        assert!(write_newc(&[Entry::new("/", Source::Dir, 0o755)]).is_err());
        assert!(write_newc(&[Entry::new("/a/../b", Source::Dir, 0o755)]).is_err());
        let twice = [
            Entry::new("/a", Source::Dir, 0o755),
            Entry::new("a", Source::Dir, 0o755),
        ];
        assert!(write_newc(&twice).is_err());
    }

    #[test]
    fn reader_rejects_damage() {
        let bytes = write_newc(&sample()).unwrap();
        assert!(read_newc(&bytes[..bytes.len() - 20]).is_err());
        assert!(read_newc(&bytes[..50]).is_err());
        let mut bad_magic = bytes.clone();
        bad_magic[0] = b'x';
        assert!(read_newc(&bad_magic).is_err());
        let mut bad_hex = bytes.clone();
        bad_hex[10] = b'g';
        assert!(read_newc(&bad_hex).is_err());
    }

    #[test]
    fn check_archive_notices_a_wrong_mode() {
        let dir = std::env::temp_dir().join(format!("cradle-cpio-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.cpio");
        let entries = sample();
        std::fs::write(&path, write_newc(&entries).unwrap()).unwrap();
        assert_eq!(check_archive(&path, &entries), Ok(()));
        let mut changed = entries.clone();
        changed[0].mode = 0o700;
        assert!(check_archive(&path, &changed).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
