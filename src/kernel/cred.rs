//! Task credentials: who a task is and what it may do (Linux: `include/linux/cred.h`,
//! `kernel/cred.c`, the uid rules of `kernel/sys.c` and `security/commoncap.c`).
//!
//! A [`Cred`] holds the real, effective, saved and filesystem user and group IDs, the
//! supplementary groups and the capability sets. A task points at its `Cred` through an
//! `Arc` that is never changed in place: a change is copy-on-write, as Linux's
//! `prepare_creds` (copy the current one) and `commit_creds` (install the copy). So a
//! reader takes a reference and looks at a snapshot that cannot change under it, and
//! `fork` shares the parent's `Cred` until one of them changes its own.
//!
//! The rules of the `set*id` calls (who may change which ID to what, and how the
//! capability sets follow the user IDs, `cap_emulate_setxuid`) are pure functions on
//! `Cred` here, tested on the host; `kernel::sys` calls them on the current task's creds.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::capability::{self as cap, CapSet};
use super::errno::Errno;

/// A user ID (Linux's `kuid_t`; one namespace).
pub type Uid = u32;
/// A group ID (Linux's `kgid_t`).
pub type Gid = u32;

/// "Leave unchanged" in `setreuid`, `setresuid` and their group twins; never a valid ID.
pub const NO_ID: u32 = u32::MAX;

/// Credentials (Linux's `struct cred`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cred {
    /// Real user ID: who started the process.
    pub uid: Uid,
    /// Real group ID.
    pub gid: Gid,
    /// Saved set-user-ID.
    pub suid: Uid,
    /// Saved set-group-ID.
    pub sgid: Gid,
    /// Effective user ID: what permission checks on everything but files use.
    pub euid: Uid,
    /// Effective group ID.
    pub egid: Gid,
    /// Filesystem user ID: what file permission checks use (follows `euid`).
    pub fsuid: Uid,
    /// Filesystem group ID.
    pub fsgid: Gid,
    /// Supplementary groups, sorted (Linux's `group_info`, kept sorted by `groups_sort`).
    pub groups: Arc<Vec<Gid>>,
    /// Capabilities that may be inherited across exec.
    pub cap_inheritable: CapSet,
    /// Capabilities the task may make effective.
    pub cap_permitted: CapSet,
    /// Capabilities checked by `capable`.
    pub cap_effective: CapSet,
    /// Capabilities that exec may ever give (Linux's bounding set).
    pub cap_bset: CapSet,
}

impl Cred {
    /// Root with every capability: the boot's credentials (Linux's `init_cred`).
    pub fn root() -> Cred {
        Cred {
            uid: 0,
            gid: 0,
            suid: 0,
            sgid: 0,
            euid: 0,
            egid: 0,
            fsuid: 0,
            fsgid: 0,
            groups: Arc::new(Vec::new()),
            cap_inheritable: CapSet::EMPTY,
            cap_permitted: CapSet::FULL,
            cap_effective: CapSet::FULL,
            cap_bset: CapSet::FULL,
        }
    }

    /// Whether capability `c` is in the effective set (Linux's `security_capable`).
    #[inline]
    pub fn has_cap(&self, c: u32) -> bool {
        self.cap_effective.has(c)
    }

    /// Whether `gid` is the filesystem group or a supplementary one (Linux's `in_group_p`).
    #[inline]
    pub fn in_group_p(&self, gid: Gid) -> bool {
        gid == self.fsgid || self.groups.binary_search(&gid).is_ok()
    }

    /// Whether `gid` is the effective group or a supplementary one (Linux's `in_egroup_p`).
    pub fn in_egroup_p(&self, gid: Gid) -> bool {
        gid == self.egid || self.groups.binary_search(&gid).is_ok()
    }

    /// The capability sets after a change of user IDs from `old` (Linux's
    /// `cap_emulate_setxuid`): losing every root ID drops the permitted and effective sets,
    /// leaving euid 0 drops the effective set, and gaining euid 0 brings it back.
    fn emulate_setxuid(&mut self, old: &Cred) {
        if (old.uid == 0 || old.euid == 0 || old.suid == 0)
            && self.uid != 0
            && self.euid != 0
            && self.suid != 0
        {
            self.cap_permitted = CapSet::EMPTY;
            self.cap_effective = CapSet::EMPTY;
        }
        if old.euid == 0 && self.euid != 0 {
            self.cap_effective = CapSet::EMPTY;
        }
        if old.euid != 0 && self.euid == 0 {
            self.cap_effective = self.cap_permitted;
        }
    }

    /// The effective set after the filesystem user ID changed from `old_fsuid` (Linux's
    /// `cap_task_fix_setuid` for `LSM_SETID_FS`): the filesystem capabilities follow it.
    fn fix_fsuid(&mut self, old_fsuid: Uid) {
        if old_fsuid == 0 && self.fsuid != 0 {
            self.cap_effective = self.cap_effective.without(CapSet::FS_MASK);
        }
        if old_fsuid != 0 && self.fsuid == 0 {
            self.cap_effective = self
                .cap_effective
                .union(self.cap_permitted.intersect(CapSet::FS_MASK));
        }
    }

    /// `setuid(uid)` (Linux's `__sys_setuid`).
    pub fn setuid(&self, uid: Uid) -> Result<Cred, Errno> {
        if uid == NO_ID {
            return Err(Errno::EINVAL);
        }
        let mut new = self.clone();
        if self.has_cap(cap::CAP_SETUID) {
            new.uid = uid;
            new.suid = uid;
        } else if uid != self.uid && uid != self.suid {
            return Err(Errno::EPERM);
        }
        new.euid = uid;
        new.fsuid = uid;
        new.emulate_setxuid(self);
        Ok(new)
    }

    /// `setgid(gid)` (Linux's `__sys_setgid`).
    pub fn setgid(&self, gid: Gid) -> Result<Cred, Errno> {
        if gid == NO_ID {
            return Err(Errno::EINVAL);
        }
        let mut new = self.clone();
        if self.has_cap(cap::CAP_SETGID) {
            new.gid = gid;
            new.sgid = gid;
        } else if gid != self.gid && gid != self.sgid {
            return Err(Errno::EPERM);
        }
        new.egid = gid;
        new.fsgid = gid;
        Ok(new)
    }

    /// `setreuid(ruid, euid)` (Linux's `__sys_setreuid`).
    pub fn setreuid(&self, ruid: Uid, euid: Uid) -> Result<Cred, Errno> {
        let capable = self.has_cap(cap::CAP_SETUID);
        let mut new = self.clone();
        if ruid != NO_ID {
            new.uid = ruid;
            if self.uid != ruid && self.euid != ruid && !capable {
                return Err(Errno::EPERM);
            }
        }
        if euid != NO_ID {
            new.euid = euid;
            if self.uid != euid && self.euid != euid && self.suid != euid && !capable {
                return Err(Errno::EPERM);
            }
        }
        if ruid != NO_ID || (euid != NO_ID && euid != self.uid) {
            new.suid = new.euid;
        }
        new.fsuid = new.euid;
        new.emulate_setxuid(self);
        Ok(new)
    }

    /// `setregid(rgid, egid)` (Linux's `__sys_setregid`).
    pub fn setregid(&self, rgid: Gid, egid: Gid) -> Result<Cred, Errno> {
        let capable = self.has_cap(cap::CAP_SETGID);
        let mut new = self.clone();
        if rgid != NO_ID {
            new.gid = rgid;
            if self.gid != rgid && self.egid != rgid && !capable {
                return Err(Errno::EPERM);
            }
        }
        if egid != NO_ID {
            new.egid = egid;
            if self.gid != egid && self.egid != egid && self.sgid != egid && !capable {
                return Err(Errno::EPERM);
            }
        }
        if rgid != NO_ID || (egid != NO_ID && egid != self.gid) {
            new.sgid = new.egid;
        }
        new.fsgid = new.egid;
        Ok(new)
    }

    /// `setresuid(ruid, euid, suid)` (Linux's `__sys_setresuid`).
    pub fn setresuid(&self, ruid: Uid, euid: Uid, suid: Uid) -> Result<Cred, Errno> {
        let ok = |id: Uid| id == NO_ID || id == self.uid || id == self.euid || id == self.suid;
        let allowed = ok(ruid) && ok(euid) && ok(suid);
        if !(allowed || self.has_cap(cap::CAP_SETUID)) {
            return Err(Errno::EPERM);
        }
        let mut new = self.clone();
        if ruid != NO_ID {
            new.uid = ruid;
        }
        if euid != NO_ID {
            new.euid = euid;
        }
        if suid != NO_ID {
            new.suid = suid;
        }
        new.fsuid = new.euid;
        new.emulate_setxuid(self);
        Ok(new)
    }

    /// `setresgid(rgid, egid, sgid)` (Linux's `__sys_setresgid`).
    pub fn setresgid(&self, rgid: Gid, egid: Gid, sgid: Gid) -> Result<Cred, Errno> {
        let ok = |id: Gid| id == NO_ID || id == self.gid || id == self.egid || id == self.sgid;
        let allowed = ok(rgid) && ok(egid) && ok(sgid);
        if !(allowed || self.has_cap(cap::CAP_SETGID)) {
            return Err(Errno::EPERM);
        }
        let mut new = self.clone();
        if rgid != NO_ID {
            new.gid = rgid;
        }
        if egid != NO_ID {
            new.egid = egid;
        }
        if sgid != NO_ID {
            new.sgid = sgid;
        }
        new.fsgid = new.egid;
        Ok(new)
    }

    /// `setfsuid(uid)` (Linux's `__sys_setfsuid`): the new creds if the change is allowed
    /// (the call itself never fails; it returns the old fsuid either way).
    pub fn setfsuid(&self, uid: Uid) -> Option<Cred> {
        if uid == NO_ID {
            return None;
        }
        let allowed = uid == self.uid
            || uid == self.euid
            || uid == self.suid
            || uid == self.fsuid
            || self.has_cap(cap::CAP_SETUID);
        if !allowed || uid == self.fsuid {
            return None;
        }
        let mut new = self.clone();
        new.fsuid = uid;
        new.fix_fsuid(self.fsuid);
        Some(new)
    }

    /// `setfsgid(gid)` (Linux's `__sys_setfsgid`).
    pub fn setfsgid(&self, gid: Gid) -> Option<Cred> {
        if gid == NO_ID {
            return None;
        }
        let allowed = gid == self.gid
            || gid == self.egid
            || gid == self.sgid
            || gid == self.fsgid
            || self.has_cap(cap::CAP_SETGID);
        if !allowed || gid == self.fsgid {
            return None;
        }
        let mut new = self.clone();
        new.fsgid = gid;
        Some(new)
    }

    /// `setgroups(list)` (Linux's `sys_setgroups`: CAP_SETGID, then `groups_sort`).
    pub fn setgroups(&self, mut list: Vec<Gid>) -> Result<Cred, Errno> {
        if !self.has_cap(cap::CAP_SETGID) {
            return Err(Errno::EPERM);
        }
        list.sort_unstable();
        let mut new = self.clone();
        new.groups = Arc::new(list);
        Ok(new)
    }

    /// The credentials a program runs with after `execve` of a file with `mode`, `uid` and
    /// `gid` (Linux's `begin_new_exec` → `bprm_fill_uid` and `cap_bprm_creds_from_file`),
    /// and whether the exec is "secure" (`AT_SECURE`: the IDs or capabilities changed).
    /// `nosuid` ignores the set-ID bits (a `nosuid` mount, or a traced process).
    pub fn for_exec(&self, mode: u32, uid: Uid, gid: Gid, nosuid: bool) -> (Cred, bool) {
        let mut new = self.clone();
        if !nosuid && mode & 0o4000 != 0 {
            new.euid = uid;
        }
        // S_ISGID without group execute means mandatory locking, not set-group-ID.
        if !nosuid && mode & 0o2010 == 0o2010 {
            new.egid = gid;
        }
        // Root's powers: a program run by root, or set-user-ID root, gets the bounding
        // set; anyone else's program gets none (no file capabilities, no ambient set).
        if new.euid == 0 || new.uid == 0 {
            new.cap_permitted = new
                .cap_bset
                .union(new.cap_inheritable.intersect(new.cap_bset));
        } else {
            new.cap_permitted = CapSet::EMPTY;
        }
        new.cap_effective = if new.euid == 0 {
            new.cap_permitted
        } else {
            CapSet::EMPTY
        };
        new.suid = new.euid;
        new.fsuid = new.euid;
        new.sgid = new.egid;
        new.fsgid = new.egid;
        let secure = new.euid != self.uid
            || new.egid != self.gid
            || (self.uid != 0 && !new.cap_permitted.is_empty());
        (new, secure)
    }
}

#[cfg(target_os = "none")]
mod task_creds {
    use alloc::sync::Arc;
    use core::cell::UnsafeCell;

    use super::Cred;
    use crate::kernel::locking::{InitOnce, SpinLock};
    use crate::kernel::task::{current, TaskStruct};

    static INIT_CRED: InitOnce<Arc<Cred>> = InitOnce::new();

    /// The boot's credentials: root with every capability (Linux's `init_cred`). Only
    /// PID 0 (and the idle tasks) point at them implicitly; `fork` gives every other task
    /// its own reference, so the fast path never comes here.
    #[cold]
    fn init_cred() -> &'static Arc<Cred> {
        if INIT_CRED.get().is_none() {
            let _ = INIT_CRED.set(Arc::new(Cred::root()));
        }
        INIT_CRED.get().expect("init_cred was just set")
    }

    /// A task's pointer to its credentials (Linux's `task_struct.cred`, an RCU pointer).
    ///
    /// # Invariants
    ///
    /// Only the task itself replaces the pointer ([`commit_creds`]), or `copy_process`
    /// before the new task is visible to anyone; it does so with `lock` held. Other tasks
    /// read it only with `lock` held, taking their own reference. So the task itself may
    /// read its own pointer without the lock: nobody else writes it, and the `Cred` it
    /// points at lives until the task itself replaces it.
    pub struct TaskCred {
        lock: SpinLock<()>,
        /// `None` means `init_cred`.
        cred: UnsafeCell<Option<Arc<Cred>>>,
    }

    // SAFETY: `cred` is written only by its task under `lock` and read by others under
    // `lock` (see Invariants); `Cred` is immutable and `Arc` is thread-safe.
    unsafe impl Sync for TaskCred {}
    // SAFETY: as above.
    unsafe impl Send for TaskCred {}

    impl Default for TaskCred {
        fn default() -> Self {
            Self::new()
        }
    }

    impl TaskCred {
        /// `init_cred`'s, for a task made without `copy_process` (init_task).
        pub const fn new() -> Self {
            Self {
                lock: SpinLock::new(()),
                cred: UnsafeCell::new(None),
            }
        }

        /// A reference to the credentials, from any task (Linux's `get_task_cred`).
        pub fn get(&self) -> Arc<Cred> {
            let _guard = self.lock.lock();
            // SAFETY: writers hold `lock`, which we hold.
            let cred = unsafe { (*self.cred.get()).clone() };
            cred.unwrap_or_else(|| init_cred().clone())
        }

        /// Replace the credentials.
        ///
        /// # Safety
        ///
        /// The caller is the task owning this `TaskCred`, or `copy_process` before the task
        /// is visible, and holds no reference from [`TaskCred::owner_ref`].
        pub unsafe fn set(&self, new: Option<Arc<Cred>>) {
            let old = {
                let _guard = self.lock.lock();
                // SAFETY: we hold `lock`, and by the caller's promise no reference from
                // `owner_ref` is alive.
                unsafe { core::mem::replace(&mut *self.cred.get(), new) }
            };
            drop(old); // outside the lock: freeing may take the allocator's lock
        }

        /// The credentials, read by the owning task without the lock.
        ///
        /// # Safety
        ///
        /// The caller is the task owning this `TaskCred`, and does not call
        /// [`TaskCred::set`] while the reference is alive.
        #[inline(always)]
        unsafe fn owner_ref(&self) -> &Cred {
            // SAFETY: only the owner writes (Invariants), and it does not while this
            // reference lives (the caller's promise).
            match unsafe { &*self.cred.get() } {
                Some(cred) => cred,
                None => init_cred(),
            }
        }

        /// What a child gets at `fork` (Linux's `copy_creds`): the same credentials.
        pub fn copy_to(&self, child: &TaskCred) {
            let shared = {
                let _guard = self.lock.lock();
                // SAFETY: we hold `lock`.
                unsafe { (*self.cred.get()).clone() }
            }
            .unwrap_or_else(|| init_cred().clone());
            // SAFETY: `copy_process` calls this before the child is visible to anyone.
            unsafe { child.set(Some(shared)) };
        }
    }

    /// A task's credentials (Linux's `get_task_cred`).
    pub fn task_cred(task: &TaskStruct) -> Arc<Cred> {
        task.cred.get()
    }

    /// The current task's credentials, as a reference it keeps (Linux's `get_current_cred`).
    pub fn current_cred() -> Arc<Cred> {
        current().cred.get()
    }

    /// Run `f` on the current task's credentials without taking a reference or a lock
    /// (Linux's `current_cred()` under RCU): the fast path of permission checks. `f` must
    /// not change the credentials (it cannot: [`commit_creds`] needs no borrow, but a
    /// call from `f` would free what `f` reads; nothing in the permission checks does).
    #[inline]
    pub fn with_current_cred<R>(f: impl FnOnce(&Cred) -> R) -> R {
        // SAFETY: `current()` owns its `cred`, and `f` does not commit new credentials.
        f(unsafe { current().cred.owner_ref() })
    }

    /// A copy of the current credentials to change (Linux's `prepare_creds`).
    pub fn prepare_creds() -> Cred {
        with_current_cred(Cred::clone)
    }

    /// Make `new` the current task's credentials (Linux's `commit_creds`).
    pub fn commit_creds(new: Cred) {
        // SAFETY: `current()` owns its `cred`; callers hold `Arc`s or copies, never a
        // reference from `with_current_cred`, when they commit.
        unsafe { current().cred.set(Some(Arc::new(new))) };
    }
}

#[cfg(target_os = "none")]
pub use task_creds::*;

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: Uid, gid: Gid) -> Cred {
        root()
            .setgroups(Vec::new())
            .unwrap()
            .setresgid(gid, gid, gid)
            .unwrap()
            .setresuid(uid, uid, uid)
            .unwrap()
    }

    fn root() -> Cred {
        Cred::root()
    }

    #[test]
    fn root_drops_to_a_user_and_loses_capabilities() {
        let c = user(65534, 65534);
        assert_eq!(
            (c.uid, c.euid, c.suid, c.fsuid),
            (65534, 65534, 65534, 65534)
        );
        assert!(c.cap_permitted.is_empty() && c.cap_effective.is_empty());
        assert_eq!(c.setuid(0), Err(Errno::EPERM));
        assert_eq!(c.setgid(0), Err(Errno::EPERM));
        assert_eq!(c.setgroups(Vec::new()), Err(Errno::EPERM));
        assert_eq!(c.setreuid(0, NO_ID), Err(Errno::EPERM));
        assert_eq!(c.setresuid(NO_ID, 0, NO_ID), Err(Errno::EPERM));
        // Setting what it already has is allowed.
        assert!(c.setuid(65534).is_ok());
        assert!(c.setresuid(NO_ID, NO_ID, NO_ID).is_ok());
    }

    #[test]
    fn seteuid_round_trip_keeps_root_in_the_saved_id() {
        let c = root().setresuid(NO_ID, 1000, NO_ID).unwrap();
        assert_eq!((c.uid, c.euid, c.suid, c.fsuid), (0, 1000, 0, 1000));
        assert!(c.cap_effective.is_empty());
        assert!(!c.cap_permitted.is_empty());
        let back = c.setresuid(NO_ID, 0, NO_ID).unwrap();
        assert_eq!(back.euid, 0);
        assert_eq!(back.cap_effective, CapSet::FULL);
        // setuid with euid != 0 changes only the effective IDs.
        let c2 = c.setuid(0).unwrap();
        assert_eq!((c2.uid, c2.euid, c2.suid), (0, 0, 0));
    }

    #[test]
    fn setreuid_sets_the_saved_id_as_linux_does() {
        let c = root().setreuid(1000, 1001).unwrap();
        assert_eq!((c.uid, c.euid, c.suid), (1000, 1001, 1001));
        assert!(c.cap_permitted.is_empty());
        // An unprivileged swap of real and effective.
        let s = c.setreuid(1001, 1000).unwrap();
        assert_eq!((s.uid, s.euid, s.suid), (1001, 1000, 1000));
    }

    #[test]
    fn setfsuid_needs_a_known_id() {
        let c = user(1000, 1000);
        assert!(c.setfsuid(0).is_none());
        assert!(c.setfsuid(1000).is_none()); // no change
        let r = root().setfsuid(5).unwrap();
        assert_eq!(r.fsuid, 5);
        assert!(!r.has_cap(cap::CAP_DAC_OVERRIDE));
        assert!(r.has_cap(cap::CAP_KILL));
    }

    #[test]
    fn groups_are_sorted_and_searched() {
        let c = root().setgroups(alloc::vec![30, 10, 20]).unwrap();
        assert_eq!(*c.groups, alloc::vec![10, 20, 30]);
        assert!(c.in_group_p(20) && c.in_group_p(0) && !c.in_group_p(15));
    }

    #[test]
    fn set_user_id_exec() {
        let c = user(1000, 1000);
        let (n, secure) = c.for_exec(0o104755, 0, 0, false);
        assert_eq!((n.uid, n.euid, n.suid), (1000, 0, 0));
        assert!(secure && n.has_cap(cap::CAP_SETUID));
        let (p, secure) = c.for_exec(0o100755, 0, 0, false);
        assert_eq!(p, c);
        assert!(!secure);
        let (g, secure) = c.for_exec(0o102755, 0, 50, false);
        assert_eq!((g.egid, g.sgid, g.euid), (50, 50, 1000));
        assert!(secure);
        // Root's exec keeps everything and is not secure.
        let (r, secure) = root().for_exec(0o100755, 7, 7, false);
        assert_eq!(r, root());
        assert!(!secure);
    }
}
