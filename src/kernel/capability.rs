//! Capabilities: root's powers, one bit each (Linux: `include/uapi/linux/capability.h`,
//! `kernel/capability.c`).
//!
//! `capable(CAP_…)` asks whether the current task's effective set holds a capability;
//! `capget`/`capset` read and change the sets with Linux's rules (the new permitted set
//! within the old, the new effective set within the new permitted).

use super::errno::Errno;

/// Change file ownership.
pub const CAP_CHOWN: u32 = 0;
/// Bypass file read, write and execute permission checks.
pub const CAP_DAC_OVERRIDE: u32 = 1;
/// Bypass file read and directory read/search permission checks.
pub const CAP_DAC_READ_SEARCH: u32 = 2;
/// Bypass checks that the caller owns the file (chmod, utimes, sticky directories).
pub const CAP_FOWNER: u32 = 3;
/// Keep S_ISUID/S_ISGID when a file is modified; set S_ISGID outside one's groups.
pub const CAP_FSETID: u32 = 4;
/// Send signals to any process.
pub const CAP_KILL: u32 = 5;
/// Change group IDs freely.
pub const CAP_SETGID: u32 = 6;
/// Change user IDs freely.
pub const CAP_SETUID: u32 = 7;
/// Change capability sets of its own beyond the permitted.
pub const CAP_SETPCAP: u32 = 8;
/// Change the immutable and append-only flags.
pub const CAP_LINUX_IMMUTABLE: u32 = 9;
/// Lock memory (`mlock`, `mlockall`) past RLIMIT_MEMLOCK.
pub const CAP_IPC_LOCK: u32 = 14;
/// `chroot`.
pub const CAP_SYS_CHROOT: u32 = 18;
/// Trace and inspect any process (`/proc/<pid>/exe` of another user's).
pub const CAP_SYS_PTRACE: u32 = 19;
/// mount, sethostname and much else.
pub const CAP_SYS_ADMIN: u32 = 21;
/// reboot.
pub const CAP_SYS_BOOT: u32 = 22;
/// Raise priorities and set other processes' scheduling (CPU affinity among them).
pub const CAP_SYS_NICE: u32 = 23;
/// Raise resource limits past their hard limit.
pub const CAP_SYS_RESOURCE: u32 = 24;
/// Set the system clock.
pub const CAP_SYS_TIME: u32 = 25;
/// Create device nodes.
pub const CAP_MKNOD: u32 = 27;
/// Override MAC (for the filesystem mask).
pub const CAP_MAC_OVERRIDE: u32 = 32;
/// The highest capability Linux 6.1 knows (`CAP_CHECKPOINT_RESTORE`).
pub const CAP_LAST_CAP: u32 = 40;

/// A set of capabilities (Linux's `kernel_cap_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CapSet(pub u64);

impl CapSet {
    /// No capability.
    pub const EMPTY: CapSet = CapSet(0);
    /// Every capability (Linux's `CAP_FULL_SET`).
    pub const FULL: CapSet = CapSet((1 << (CAP_LAST_CAP + 1)) - 1);
    /// The capabilities that follow the filesystem user ID (Linux's `CAP_FS_MASK`).
    pub const FS_MASK: CapSet = CapSet(
        1 << CAP_CHOWN
            | 1 << CAP_DAC_OVERRIDE
            | 1 << CAP_DAC_READ_SEARCH
            | 1 << CAP_FOWNER
            | 1 << CAP_FSETID
            | 1 << CAP_LINUX_IMMUTABLE
            | 1 << CAP_MAC_OVERRIDE,
    );

    /// Whether `cap` is in the set.
    #[inline]
    pub fn has(self, cap: u32) -> bool {
        cap < 64 && self.0 & (1 << cap) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Both sets' capabilities.
    pub fn union(self, other: CapSet) -> CapSet {
        CapSet(self.0 | other.0)
    }

    /// The capabilities in both.
    pub fn intersect(self, other: CapSet) -> CapSet {
        CapSet(self.0 & other.0)
    }

    /// This set less `other`.
    pub fn without(self, other: CapSet) -> CapSet {
        CapSet(self.0 & !other.0)
    }

    /// Whether every capability of this set is in `other`.
    pub fn is_subset(self, other: CapSet) -> bool {
        self.0 & !other.0 == 0
    }
}

/// `capget`/`capset` header versions (`_LINUX_CAPABILITY_VERSION_1/2/3`).
pub const VERSION_1: u32 = 0x1998_0330;
/// Deprecated 64-bit version.
pub const VERSION_2: u32 = 0x2007_1026;
/// The current 64-bit version.
pub const VERSION_3: u32 = 0x2008_0522;

/// How many `__user_cap_data_struct` a header version means, or `None` for an unknown one.
pub fn data_count(version: u32) -> Option<usize> {
    match version {
        VERSION_1 => Some(1),
        VERSION_2 | VERSION_3 => Some(2),
        _ => None,
    }
}

/// The sets after `capset` from (`inheritable`, `permitted`, `effective`) of `old`, or
/// EPERM (Linux's `cap_capset`): the permitted set may only shrink, the effective set
/// lies within it, and the inheritable set grows only within the old permitted set
/// (beyond it with CAP_SETPCAP) and within the bounding set.
pub fn capset_check(
    old: &super::cred::Cred,
    inheritable: CapSet,
    permitted: CapSet,
    effective: CapSet,
) -> Result<(), Errno> {
    let limit = if old.has_cap(CAP_SETPCAP) {
        CapSet::FULL
    } else {
        old.cap_inheritable.union(old.cap_permitted)
    };
    if !inheritable.is_subset(limit)
        || !inheritable.is_subset(old.cap_inheritable.union(old.cap_bset))
        || !permitted.is_subset(old.cap_permitted)
        || !effective.is_subset(permitted)
    {
        return Err(Errno::EPERM);
    }
    Ok(())
}

#[cfg(target_os = "none")]
mod syscalls {
    use super::*;
    use crate::arch::uaccess::{copy_from_user, copy_to_user};
    use crate::kernel::cred::{
        commit_creds, current_cred, prepare_creds, task_cred, with_current_cred,
    };

    /// Whether the current task has capability `cap` in effect (Linux's `capable`).
    #[inline]
    pub fn capable(cap: u32) -> bool {
        with_current_cred(|cred| cred.has_cap(cap))
    }

    /// Read the header: its version's data count, and the pid. An unknown version is
    /// answered with the version the kernel prefers written back and `None`, as Linux's
    /// `cap_validate_magic`.
    fn read_header(header: u64) -> Result<Option<(usize, i32)>, Errno> {
        let mut h = [0u8; 8];
        copy_from_user(&mut h, header)?;
        let version = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let pid = i32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        match data_count(version) {
            Some(n) => Ok(Some((n, pid))),
            None => {
                copy_to_user(header, &VERSION_3.to_le_bytes())?;
                Ok(None)
            }
        }
    }

    /// `capget(2)`.
    pub fn sys_capget(header: u64, data: u64) -> Result<u64, Errno> {
        let Some((count, pid)) = read_header(header)? else {
            // An unknown version asks which one the kernel speaks.
            return if data == 0 { Ok(0) } else { Err(Errno::EINVAL) };
        };
        if pid < 0 {
            return Err(Errno::EINVAL);
        }
        let cred = if pid == 0 || pid == current_pid() {
            current_cred()
        } else {
            let task = crate::kernel::pid::find_task_by_pid(pid).ok_or(Errno::ESRCH)?;
            task_cred(&task)
        };
        if data == 0 {
            return Ok(0);
        }
        let mut out = [0u8; 24];
        for i in 0..count {
            let word = |set: CapSet| ((set.0 >> (32 * i)) as u32).to_le_bytes();
            out[i * 12..i * 12 + 4].copy_from_slice(&word(cred.cap_effective));
            out[i * 12 + 4..i * 12 + 8].copy_from_slice(&word(cred.cap_permitted));
            out[i * 12 + 8..i * 12 + 12].copy_from_slice(&word(cred.cap_inheritable));
        }
        copy_to_user(data, &out[..count * 12])?;
        Ok(0)
    }

    fn current_pid() -> i32 {
        crate::kernel::task::current().pid()
    }

    /// `capset(2)`: only the caller's own sets (pid 0 or its own pid), else EPERM.
    pub fn sys_capset(header: u64, data: u64) -> Result<u64, Errno> {
        let Some((count, pid)) = read_header(header)? else {
            return Err(Errno::EINVAL);
        };
        if pid != 0 && pid != current_pid() {
            return Err(Errno::EPERM);
        }
        let mut raw = [0u8; 24];
        copy_from_user(&mut raw[..count * 12], data)?;
        let mut sets = [0u64; 3];
        for i in 0..count {
            for (k, set) in sets.iter_mut().enumerate() {
                let at = i * 12 + k * 4;
                let w = u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]);
                *set |= (w as u64) << (32 * i);
            }
        }
        let effective = CapSet(sets[0]).intersect(CapSet::FULL);
        let permitted = CapSet(sets[1]).intersect(CapSet::FULL);
        let inheritable = CapSet(sets[2]).intersect(CapSet::FULL);
        let mut new = prepare_creds();
        capset_check(&new, inheritable, permitted, effective)?;
        new.cap_effective = effective;
        new.cap_permitted = permitted;
        new.cap_inheritable = inheritable;
        commit_creds(new);
        Ok(0)
    }
}

#[cfg(target_os = "none")]
pub use syscalls::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::cred::Cred;

    #[test]
    fn capset_rules() {
        let root = Cred::root();
        assert!(capset_check(&root, CapSet::EMPTY, CapSet(1), CapSet(1)).is_ok());
        let mut limited = root.clone();
        limited.cap_permitted = CapSet(0b11);
        limited.cap_effective = CapSet(0b11);
        assert_eq!(
            capset_check(&limited, CapSet::EMPTY, CapSet(0b111), CapSet(0)),
            Err(Errno::EPERM)
        );
        assert_eq!(
            capset_check(&limited, CapSet::EMPTY, CapSet(0b1), CapSet(0b10)),
            Err(Errno::EPERM)
        );
        assert!(capset_check(&limited, CapSet(0b1), CapSet(0b1), CapSet(0b1)).is_ok());
    }

    #[test]
    fn full_set_is_41_bits() {
        assert_eq!(CapSet::FULL.0, 0x1ff_ffff_ffff);
        assert!(CapSet::FULL.has(CAP_LAST_CAP) && !CapSet::FULL.has(41));
    }
}
