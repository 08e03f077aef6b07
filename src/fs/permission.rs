//! File permission checks: discretionary access control on an inode's mode, owner and group
//! (Linux: `fs/namei.c`'s `generic_permission`, `may_delete`, `check_sticky`,
//! `fs/attr.c`'s `setattr_prepare`, `fs/inode.c`'s `inode_owner_or_capable`).
//!
//! The checks are pure functions of the inode's [`InodeAttr`] and the caller's [`Cred`],
//! tested on the host; the filesystem calls (`fs::syscalls`, the walk in `fs::namei`) ask
//! them at the places Linux does. They compare IDs inline and take no lock: the path walk
//! calls [`may_lookup`] for every directory it searches, and for a caller with
//! CAP_DAC_READ_SEARCH (root) that is a single bit test, without reading the inode.

use crate::kernel::capability::{
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID,
};
use crate::kernel::cred::{Cred, Gid, Uid, NO_ID};
use crate::kernel::errno::Errno;

/// Execute, or search a directory (Linux's `MAY_EXEC`).
pub const MAY_EXEC: u32 = 0x1;
/// Write (Linux's `MAY_WRITE`).
pub const MAY_WRITE: u32 = 0x2;
/// Read (Linux's `MAY_READ`).
pub const MAY_READ: u32 = 0x4;

/// Set-user-ID.
pub const S_ISUID: u32 = 0o4000;
/// Set-group-ID (on a directory: new entries take its group).
pub const S_ISGID: u32 = 0o2000;
/// Sticky (on a directory: only owners may remove or rename entries).
pub const S_ISVTX: u32 = 0o1000;
/// Group execute.
pub const S_IXGRP: u32 = 0o010;

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;

/// What permission checks read of an inode (Linux's `i_mode`, `i_uid`, `i_gid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct InodeAttr {
    /// Type and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: Uid,
    /// Group.
    pub gid: Gid,
}

impl InodeAttr {
    /// Whether the inode is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }
}

/// The owner/group/other bits check (Linux's `acl_permission_check`): whether the mode
/// grants `mask` to this caller.
#[inline]
fn acl_permission_check(attr: InodeAttr, mask: u32, cred: &Cred) -> bool {
    let mode = if cred.fsuid == attr.uid {
        attr.mode >> 6
    } else if cred.in_group_p(attr.gid) {
        attr.mode >> 3
    } else {
        attr.mode
    };
    mask & !mode & 0o7 == 0
}

/// Whether `cred` may do `mask` (`MAY_*`) to an inode (Linux's `generic_permission`):
/// the mode bits, then CAP_DAC_READ_SEARCH for reading and searching, then
/// CAP_DAC_OVERRIDE for everything but executing a file without an execute bit.
pub fn generic_permission(attr: InodeAttr, mask: u32, cred: &Cred) -> Result<(), Errno> {
    let mask = mask & (MAY_READ | MAY_WRITE | MAY_EXEC);
    if acl_permission_check(attr, mask, cred) {
        return Ok(());
    }
    if attr.is_dir() {
        if mask & MAY_WRITE == 0 && cred.has_cap(CAP_DAC_READ_SEARCH) {
            return Ok(());
        }
        if cred.has_cap(CAP_DAC_OVERRIDE) {
            return Ok(());
        }
        return Err(Errno::EACCES);
    }
    if mask == MAY_READ && cred.has_cap(CAP_DAC_READ_SEARCH) {
        return Ok(());
    }
    if (mask & MAY_EXEC == 0 || attr.mode & 0o111 != 0) && cred.has_cap(CAP_DAC_OVERRIDE) {
        return Ok(());
    }
    Err(Errno::EACCES)
}

/// Whether `cred` may search a directory during a path walk (Linux's `may_lookup`):
/// `attr` is only asked for when the caller's capabilities do not answer alone.
#[inline]
pub fn may_lookup(cred: &Cred, attr: impl FnOnce() -> InodeAttr) -> Result<(), Errno> {
    if cred.has_cap(CAP_DAC_READ_SEARCH) {
        return Ok(());
    }
    generic_permission(attr(), MAY_EXEC, cred)
}

/// Whether `cred` owns the inode or has CAP_FOWNER (Linux's `inode_owner_or_capable`).
pub fn owner_or_capable(attr: InodeAttr, cred: &Cred) -> bool {
    cred.fsuid == attr.uid || cred.has_cap(CAP_FOWNER)
}

/// Whether the sticky bit of `dir` forbids `cred` to remove or rename `victim` (Linux's
/// `check_sticky`): only the victim's owner, the directory's owner or CAP_FOWNER may.
pub fn check_sticky(dir: InodeAttr, victim: InodeAttr, cred: &Cred) -> bool {
    dir.mode & S_ISVTX != 0
        && cred.fsuid != victim.uid
        && cred.fsuid != dir.uid
        && !cred.has_cap(CAP_FOWNER)
}

/// Whether `cred` may remove (or rename away) `victim` from `dir` (Linux's `may_delete`):
/// write and search on the directory, then the sticky bit (EPERM).
pub fn may_delete(dir: InodeAttr, victim: InodeAttr, cred: &Cred) -> Result<(), Errno> {
    generic_permission(dir, MAY_WRITE | MAY_EXEC, cred)?;
    if check_sticky(dir, victim, cred) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Whether `cred` may make an entry in `dir` (Linux's `may_create`, after its EEXIST).
pub fn may_create(dir: InodeAttr, cred: &Cred) -> Result<(), Errno> {
    generic_permission(dir, MAY_WRITE | MAY_EXEC, cred)
}

/// The owner, group and mode of a new inode of `mode` made by `cred` in `dir` (Linux's
/// `inode_init_owner`): the fsuid; the directory's group if it is set-group-ID (and a
/// new directory keeps the bit), else the fsgid; a set-group-ID file outside the
/// caller's groups loses the bit unless CAP_FSETID.
pub fn inode_init_owner(dir: InodeAttr, mode: u32, cred: &Cred) -> (Uid, Gid, u32) {
    let mut mode = mode;
    let gid = if dir.mode & S_ISGID != 0 {
        if mode & S_IFMT == S_IFDIR {
            mode |= S_ISGID;
        }
        dir.gid
    } else {
        cred.fsgid
    };
    if mode & S_ISGID != 0
        && mode & S_IFMT != S_IFDIR
        && mode & S_IXGRP != 0
        && !cred.in_group_p(gid)
        && !cred.has_cap(CAP_FSETID)
    {
        mode &= !S_ISGID;
    }
    (cred.fsuid, gid, mode)
}

/// The permission bits `chmod` sets (Linux's `notify_change` via `setattr_prepare`):
/// EPERM unless the owner or CAP_FOWNER; S_ISGID dropped when the caller is not in the
/// file's group and lacks CAP_FSETID.
pub fn chmod_mode(attr: InodeAttr, mode: u32, cred: &Cred) -> Result<u32, Errno> {
    if !owner_or_capable(attr, cred) {
        return Err(Errno::EPERM);
    }
    let mut mode = mode & 0o7777;
    if mode & S_ISGID != 0 && !cred.in_group_p(attr.gid) && !cred.has_cap(CAP_FSETID) {
        mode &= !S_ISGID;
    }
    Ok(mode)
}

/// What `chown(uid, gid)` does to an inode, if allowed (Linux's `chown_ok`, `chgrp_ok`
/// and `notify_change`'s clearing of the set-ID bits): the new owner, group and mode.
/// Changing the owner needs CAP_CHOWN (or giving it to oneself, a no-op); changing the
/// group needs ownership and membership of the new group, or CAP_CHOWN. A change by
/// anyone clears S_ISUID, and S_ISGID when group execute is set, on non-directories.
pub fn chown_attr(attr: InodeAttr, uid: Uid, gid: Gid, cred: &Cred) -> Result<InodeAttr, Errno> {
    let mut new = attr;
    if uid != NO_ID {
        if uid != attr.uid && !cred.has_cap(CAP_CHOWN) {
            return Err(Errno::EPERM);
        }
        if uid == attr.uid && cred.fsuid != attr.uid && !cred.has_cap(CAP_CHOWN) {
            return Err(Errno::EPERM);
        }
        new.uid = uid;
    }
    if gid != NO_ID {
        let may = (cred.fsuid == attr.uid && (gid == attr.gid || cred.in_group_p(gid)))
            || cred.has_cap(CAP_CHOWN);
        if !may {
            return Err(Errno::EPERM);
        }
        new.gid = gid;
    }
    if !attr.is_dir() {
        // Linux clears S_ISUID always, and S_ISGID when it means set-group-ID (group
        // execute set); CAP_FSETID does not keep them on chown.
        if new.mode & S_ISUID != 0 {
            new.mode &= !S_ISUID;
        }
        if new.mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP {
            new.mode &= !S_ISGID;
        }
    }
    Ok(new)
}

/// The mode after a write by `cred` to a file (Linux's `file_remove_privs` →
/// `should_remove_suid`): `None` if nothing changes; S_ISUID and set-group-ID go unless
/// the writer has CAP_FSETID.
pub fn mode_after_write(attr: InodeAttr, cred: &Cred) -> Option<u32> {
    if attr.mode & (S_ISUID | S_ISGID) == 0 || cred.has_cap(CAP_FSETID) || attr.is_dir() {
        return None;
    }
    let mut mode = attr.mode & !S_ISUID;
    if mode & (S_ISGID | S_IXGRP) == S_ISGID | S_IXGRP {
        mode &= !S_ISGID;
    }
    (mode != attr.mode).then_some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn user(uid: Uid, gid: Gid, groups: Vec<Gid>) -> Cred {
        Cred::root()
            .setgroups(groups)
            .unwrap()
            .setresgid(gid, gid, gid)
            .unwrap()
            .setresuid(uid, uid, uid)
            .unwrap()
    }

    fn file(mode: u32, uid: Uid, gid: Gid) -> InodeAttr {
        InodeAttr {
            mode: 0o100000 | mode,
            uid,
            gid,
        }
    }

    fn dir(mode: u32, uid: Uid, gid: Gid) -> InodeAttr {
        InodeAttr {
            mode: S_IFDIR | mode,
            uid,
            gid,
        }
    }

    #[test]
    fn owner_group_other() {
        let u = user(1000, 1000, vec![50]);
        assert!(generic_permission(file(0o600, 1000, 0), MAY_READ | MAY_WRITE, &u).is_ok());
        assert_eq!(
            generic_permission(file(0o066, 1000, 1000), MAY_READ, &u),
            Err(Errno::EACCES),
            "the owner class decides for the owner even when others may"
        );
        assert!(generic_permission(file(0o040, 0, 50), MAY_READ, &u).is_ok());
        assert!(generic_permission(file(0o004, 0, 0), MAY_READ, &u).is_ok());
        assert_eq!(
            generic_permission(file(0o640, 0, 42), MAY_READ, &u),
            Err(Errno::EACCES)
        );
    }

    #[test]
    fn root_overrides_but_not_exec_without_any_x() {
        let r = Cred::root();
        assert!(generic_permission(file(0o000, 5, 5), MAY_READ | MAY_WRITE, &r).is_ok());
        assert_eq!(
            generic_permission(file(0o644, 5, 5), MAY_EXEC, &r),
            Err(Errno::EACCES)
        );
        assert!(generic_permission(file(0o001, 5, 5), MAY_EXEC, &r).is_ok());
        assert!(generic_permission(dir(0o000, 5, 5), MAY_EXEC | MAY_WRITE, &r).is_ok());
    }

    #[test]
    fn lookup_and_sticky() {
        let u = user(1000, 1000, vec![]);
        assert_eq!(may_lookup(&u, || dir(0o700, 0, 0)), Err(Errno::EACCES));
        assert!(may_lookup(&u, || dir(0o711, 0, 0)).is_ok());
        assert!(may_lookup(&Cred::root(), || panic!("root needs no inode")).is_ok());
        let tmp = dir(0o1777, 0, 0);
        assert_eq!(may_delete(tmp, file(0o644, 0, 0), &u), Err(Errno::EPERM));
        assert!(may_delete(tmp, file(0o644, 1000, 0), &u).is_ok());
        assert_eq!(
            may_delete(dir(0o755, 0, 0), file(0o644, 1000, 0), &u),
            Err(Errno::EACCES)
        );
    }

    #[test]
    fn new_files_and_setgid_directories() {
        let u = user(1000, 1000, vec![]);
        assert_eq!(
            inode_init_owner(dir(0o755, 0, 0), 0o100644, &u),
            (1000, 1000, 0o100644)
        );
        assert_eq!(
            inode_init_owner(dir(0o2777, 0, 77), S_IFDIR | 0o755, &u),
            (1000, 77, S_IFDIR | 0o2755)
        );
        // A set-group-ID file in a group the creator is not in loses the bit.
        assert_eq!(
            inode_init_owner(dir(0o2777, 0, 77), 0o102755, &u),
            (1000, 77, 0o100755)
        );
    }

    #[test]
    fn chmod_and_chown_rules() {
        let u = user(1000, 1000, vec![50]);
        assert_eq!(chmod_mode(file(0o644, 0, 0), 0o777, &u), Err(Errno::EPERM));
        assert_eq!(chmod_mode(file(0o644, 1000, 7), 0o2755, &u), Ok(0o755));
        assert_eq!(chmod_mode(file(0o644, 1000, 50), 0o2755, &u), Ok(0o2755));
        assert_eq!(
            chown_attr(file(0o644, 1000, 1000), 0, NO_ID, &u),
            Err(Errno::EPERM)
        );
        assert_eq!(
            chown_attr(file(0o644, 1000, 1000), NO_ID, 42, &u),
            Err(Errno::EPERM)
        );
        let moved = chown_attr(file(0o6755, 1000, 1000), NO_ID, 50, &u).unwrap();
        assert_eq!((moved.gid, moved.mode & 0o7777), (50, 0o755));
        let rooted = chown_attr(file(0o4755, 1000, 1000), 0, 0, &Cred::root()).unwrap();
        assert_eq!((rooted.uid, rooted.mode & 0o7777), (0, 0o755));
        // Directories keep their set-group-ID bit.
        let d = chown_attr(dir(0o2775, 1000, 1000), 0, 0, &Cred::root()).unwrap();
        assert_eq!(d.mode & 0o7777, 0o2775);
    }

    #[test]
    fn writes_clear_set_id_bits_unless_capable() {
        let u = user(1000, 1000, vec![]);
        assert_eq!(mode_after_write(file(0o6755, 0, 0), &u), Some(0o100755));
        assert_eq!(mode_after_write(file(0o2745, 0, 0), &u), None);
        assert_eq!(mode_after_write(file(0o6755, 0, 0), &Cred::root()), None);
    }
}
