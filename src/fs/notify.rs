//! inotify, and the file-system events it reports (Linux: `fs/notify/fsnotify.c`,
//! `fs/notify/inotify/inotify_user.c`, `include/linux/fsnotify.h`).
//!
//! An inotify instance ([`InotifyGroup`], from `inotify_init1`) holds watches, each an inode
//! and a mask of events, numbered from 1 (the watch descriptor); `inotify_add_watch` on an
//! inode already watched changes that watch's mask (IN_MASK_ADD: adds to it; IN_MASK_CREATE:
//! EEXIST). A watch keeps its inode alive, as Linux's mark does.
//!
//! The VFS calls the `fsnotify_*` hooks below as it works: creating, deleting and renaming
//! names (IN_CREATE, IN_DELETE, IN_MOVED_FROM/IN_MOVED_TO with one cookie, IN_MOVE_SELF,
//! IN_DELETE_SELF when the last link goes), writing and truncating (IN_MODIFY), changing
//! attributes (IN_ATTRIB), opening, reading and closing (IN_OPEN, IN_ACCESS,
//! IN_CLOSE_WRITE/IN_CLOSE_NOWRITE). An event goes to the watches on the inode itself, and
//! to those on its parent directory with the child's name (Linux's `fsnotify_parent`).
//! Each instance queues `struct inotify_event`s: an event equal to the last one queued is
//! merged into it, and past [`MAX_QUEUED_EVENTS`] one IN_Q_OVERFLOW ends the queue.
//! `read` takes whole events (EINVAL if the first does not fit), waiting for one or
//! EAGAIN with IN_NONBLOCK; the file is readable (POLLIN) while events are queued, and
//! `FIONREAD` tells how many bytes are.
//!
//! Locks: the global watch index and each instance's state are spinlocks. Only
//! `inotify_add_watch` holds both (the instance's, then the index); no hook holds either
//! while it queues into an instance (the index is copied out first).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::anon_inodes::{anon_inode_getfd, AnonStat};
use super::file::{fdget, flags, File};
use super::inode::{FileType, Inode, Kiocb, Stat};
use super::iov_iter::IovIter;
use super::namei::{getname, inode_permission, lookup_at, Dentry};
use super::select::{pollbits, PollHead};
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueueHead;

/// Events and flags (Linux's `include/uapi/linux/inotify.h`).
pub mod mask {
    /// File was read.
    pub const IN_ACCESS: u32 = 0x1;
    /// File was written.
    pub const IN_MODIFY: u32 = 0x2;
    /// Attributes changed.
    pub const IN_ATTRIB: u32 = 0x4;
    /// A file open for writing was closed.
    pub const IN_CLOSE_WRITE: u32 = 0x8;
    /// A file not open for writing was closed.
    pub const IN_CLOSE_NOWRITE: u32 = 0x10;
    /// File was opened.
    pub const IN_OPEN: u32 = 0x20;
    /// A name was moved out of the watched directory.
    pub const IN_MOVED_FROM: u32 = 0x40;
    /// A name was moved into the watched directory.
    pub const IN_MOVED_TO: u32 = 0x80;
    /// A name was created in the watched directory.
    pub const IN_CREATE: u32 = 0x100;
    /// A name was deleted from the watched directory.
    pub const IN_DELETE: u32 = 0x200;
    /// The watched inode was deleted.
    pub const IN_DELETE_SELF: u32 = 0x400;
    /// The watched inode was moved.
    pub const IN_MOVE_SELF: u32 = 0x800;
    /// Every event.
    pub const IN_ALL_EVENTS: u32 = 0xfff;
    /// The file system was unmounted.
    pub const IN_UNMOUNT: u32 = 0x2000;
    /// The queue overflowed.
    pub const IN_Q_OVERFLOW: u32 = 0x4000;
    /// The watch was removed.
    pub const IN_IGNORED: u32 = 0x8000;
    /// Only watch a directory.
    pub const IN_ONLYDIR: u32 = 0x0100_0000;
    /// Do not follow a final symbolic link.
    pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
    /// No events for names once unlinked.
    pub const IN_EXCL_UNLINK: u32 = 0x0400_0000;
    /// Fail if the inode is already watched.
    pub const IN_MASK_CREATE: u32 = 0x1000_0000;
    /// Add to the mask of an existing watch.
    pub const IN_MASK_ADD: u32 = 0x2000_0000;
    /// The event is about a directory.
    pub const IN_ISDIR: u32 = 0x4000_0000;
    /// Remove the watch after one event.
    pub const IN_ONESHOT: u32 = 0x8000_0000;
    /// Every bit `inotify_add_watch` knows (Linux's `ALL_INOTIFY_BITS`).
    pub const ALL_INOTIFY_BITS: u32 = IN_ALL_EVENTS
        | IN_UNMOUNT
        | IN_Q_OVERFLOW
        | IN_IGNORED
        | IN_ONLYDIR
        | IN_DONT_FOLLOW
        | IN_EXCL_UNLINK
        | IN_MASK_ADD
        | IN_MASK_CREATE
        | IN_ISDIR
        | IN_ONESHOT;
}
use mask::*;

/// The most events an instance queues (Linux's default `max_queued_events`).
pub const MAX_QUEUED_EVENTS: usize = 16384;
/// `sizeof(struct inotify_event)` without its name.
const EVENT_SIZE: usize = 16;
/// `FIONREAD`.
const FIONREAD: u32 = 0x541b;

/// One queued event.
#[derive(Clone, PartialEq, Eq)]
struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Option<String>,
}

impl Event {
    /// The name's length in the record: with its NUL, rounded up to a multiple of the
    /// header size (Linux's `round_event_name_len`).
    fn name_len(&self) -> usize {
        self.name
            .as_ref()
            .map_or(0, |n| (n.len() + 1).div_ceil(EVENT_SIZE) * EVENT_SIZE)
    }

    fn size(&self) -> usize {
        EVENT_SIZE + self.name_len()
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut b = alloc::vec![0u8; self.size()];
        b[0..4].copy_from_slice(&self.wd.to_ne_bytes());
        b[4..8].copy_from_slice(&self.mask.to_ne_bytes());
        b[8..12].copy_from_slice(&self.cookie.to_ne_bytes());
        b[12..16].copy_from_slice(&(self.name_len() as u32).to_ne_bytes());
        if let Some(name) = &self.name {
            b[16..16 + name.len()].copy_from_slice(name.as_bytes());
        }
        b
    }
}

/// One watch, as the instance keeps it.
struct Watch {
    inode: Arc<dyn Inode>,
    mask: u32,
}

struct GroupState {
    /// Watches by descriptor.
    watches: BTreeMap<i32, Watch>,
    /// The next descriptor (Linux allocates them cyclically from 1).
    next_wd: i32,
    queue: VecDeque<Event>,
    /// The queue ended with IN_Q_OVERFLOW.
    overflowed: bool,
}

/// An inotify instance (Linux's `fsnotify_group` with its inotify data).
pub struct InotifyGroup {
    /// Lock: its own; never held while another instance's or the index's is taken.
    state: SpinLock<GroupState>,
    wait: WaitQueueHead,
    poll_head: PollHead,
    me: Weak<InotifyGroup>,
    stat: AnonStat,
}

/// A watch as the index has it: the instance, the descriptor, the mask.
type IndexEntry = (Weak<InotifyGroup>, i32, u32);

/// The index of watches by inode address. Lock: its own.
static WATCHES: SpinLock<BTreeMap<usize, Vec<IndexEntry>>> = SpinLock::new(BTreeMap::new());
/// How many watches exist: while none, the hooks do nothing.
static NR_WATCHES: AtomicUsize = AtomicUsize::new(0);
/// Cookies tying IN_MOVED_FROM to IN_MOVED_TO.
static NEXT_COOKIE: AtomicU32 = AtomicU32::new(1);

fn inode_key(inode: &Arc<dyn Inode>) -> usize {
    Arc::as_ptr(inode) as *const () as usize
}

impl InotifyGroup {
    /// Queue an event (Linux's `inotify_handle_inode_event` → `fsnotify_add_event`).
    fn queue(&self, event: Event) {
        {
            let mut st = self.state.lock();
            if st.overflowed || st.queue.back() == Some(&event) {
                return;
            }
            if st.queue.len() >= MAX_QUEUED_EVENTS - 1 {
                st.overflowed = true;
                st.queue.push_back(Event {
                    wd: -1,
                    mask: IN_Q_OVERFLOW,
                    cookie: 0,
                    name: None,
                });
            } else {
                st.queue.push_back(event);
            }
        }
        self.wait.wake_up_all();
        self.poll_head.wake();
    }

    /// Forget the watch `wd` and queue IN_IGNORED (Linux's `inotify_freeing_mark`).
    fn remove_watch(&self, wd: i32) -> bool {
        let Some(watch) = self.state.lock().watches.remove(&wd) else {
            return false;
        };
        unindex(&watch.inode, &self.me, wd);
        self.queue(Event {
            wd,
            mask: IN_IGNORED,
            cookie: 0,
            name: None,
        });
        true
    }
}

fn unindex(inode: &Arc<dyn Inode>, group: &Weak<InotifyGroup>, wd: i32) {
    let mut index = WATCHES.lock();
    let key = inode_key(inode);
    if let Some(list) = index.get_mut(&key) {
        let before = list.len();
        list.retain(|(g, w, _)| !(Weak::ptr_eq(g, group) && *w == wd));
        NR_WATCHES.fetch_sub(before - list.len(), Ordering::AcqRel);
        if list.is_empty() {
            index.remove(&key);
        }
    }
}

impl Drop for InotifyGroup {
    fn drop(&mut self) {
        let watches = core::mem::take(&mut self.state.lock().watches);
        for (wd, watch) in watches {
            unindex(&watch.inode, &self.me, wd);
        }
    }
}

/// Deliver `event` (with `name` for a parent's watches) to the watches on `inode`
/// (Linux's `fsnotify`).
fn fsnotify(inode: &Arc<dyn Inode>, event: u32, name: Option<&str>, cookie: u32) {
    if NR_WATCHES.load(Ordering::Acquire) == 0 {
        return;
    }
    let targets: Vec<IndexEntry> = match WATCHES.lock().get(&inode_key(inode)) {
        Some(list) => list.clone(),
        None => return,
    };
    let isdir = if event & IN_ISDIR != 0 { IN_ISDIR } else { 0 };
    for (group, wd, wanted) in targets {
        let Some(group) = group.upgrade() else {
            continue;
        };
        let hit = event & wanted & IN_ALL_EVENTS;
        if hit == 0 {
            continue;
        }
        group.queue(Event {
            wd,
            mask: hit | isdir,
            cookie,
            name: name.map(String::from),
        });
        if wanted & IN_ONESHOT != 0 {
            group.remove_watch(wd);
        }
    }
}

/// `event` happened to the object `dentry` names: its own watches, then its parent's
/// with its name (Linux's `fsnotify_parent` + `fsnotify`).
fn fsnotify_dentry(dentry: &Dentry, event: u32) {
    if NR_WATCHES.load(Ordering::Acquire) == 0 {
        return;
    }
    let isdir = if dentry.inode.file_type() == FileType::Directory {
        IN_ISDIR
    } else {
        0
    };
    fsnotify(&dentry.inode, event | isdir, None, 0);
    if let Some(parent) = &dentry.parent {
        fsnotify(&parent.inode, event | isdir, Some(dentry.name.as_str()), 0);
    }
}

/// A name was made in `dir` (Linux's `fsnotify_create`/`fsnotify_mkdir`).
pub fn fsnotify_create(dir: &Arc<dyn Inode>, name: &str, is_dir: bool) {
    fsnotify(
        dir,
        IN_CREATE | if is_dir { IN_ISDIR } else { 0 },
        Some(name),
        0,
    );
}

/// The name `name` of `inode` left `dir` (Linux's `vfs_unlink`/`vfs_rmdir`: IN_ATTRIB on a
/// file whose link count fell; when that was the last link IN_DELETE_SELF, after which the
/// watches on it go with IN_IGNORED; then IN_DELETE in the directory).
pub fn fsnotify_delete(dir: &Arc<dyn Inode>, name: &str, inode: &Arc<dyn Inode>) {
    if NR_WATCHES.load(Ordering::Acquire) == 0 {
        return;
    }
    let is_dir = inode.file_type() == FileType::Directory;
    if !is_dir {
        fsnotify(inode, IN_ATTRIB, None, 0);
    }
    // Linux's `d_delete_notify`: the dentry goes first (and with the last link, the
    // inode's own events), then the directory hears of it.
    inode_remove(inode);
    fsnotify(
        dir,
        IN_DELETE | if is_dir { IN_ISDIR } else { 0 },
        Some(name),
        0,
    );
}

/// If `inode` has no link left: IN_DELETE_SELF (without IN_ISDIR, as Linux reports it),
/// and its watches go (Linux's `fsnotify_inoderemove`).
fn inode_remove(inode: &Arc<dyn Inode>) {
    if inode.file_type() == FileType::Directory || inode.stat().nlink == 0 {
        fsnotify(inode, IN_DELETE_SELF, None, 0);
        drop_inode_watches(inode);
    }
}

/// A new link `name` to `inode` in `dir` (Linux's `fsnotify_link`): IN_ATTRIB on the inode,
/// IN_CREATE in the directory.
pub fn fsnotify_link(inode: &Arc<dyn Inode>, dir: &Arc<dyn Inode>, name: &str) {
    fsnotify(inode, IN_ATTRIB, None, 0);
    fsnotify_create(dir, name, false);
}

/// A rename replaced `inode` (Linux's `fsnotify_link_count` on the old target, then
/// `fsnotify_inoderemove` as its dentry goes).
pub fn fsnotify_replaced(inode: &Arc<dyn Inode>) {
    if NR_WATCHES.load(Ordering::Acquire) == 0 {
        return;
    }
    if inode.file_type() != FileType::Directory {
        fsnotify(inode, IN_ATTRIB, None, 0);
    }
    inode_remove(inode);
}

/// Every watch on `inode` goes, with IN_IGNORED.
fn drop_inode_watches(inode: &Arc<dyn Inode>) {
    let watches: Vec<IndexEntry> = WATCHES
        .lock()
        .get(&inode_key(inode))
        .cloned()
        .unwrap_or_default();
    for (group, wd, _) in watches {
        if let Some(group) = group.upgrade() {
            group.remove_watch(wd);
        }
    }
}

/// `inode` moved from `old_dir`/`old_name` to `new_dir`/`new_name` (Linux's
/// `fsnotify_move`).
pub fn fsnotify_move(
    old_dir: &Arc<dyn Inode>,
    old_name: &str,
    new_dir: &Arc<dyn Inode>,
    new_name: &str,
    inode: &Arc<dyn Inode>,
) {
    if NR_WATCHES.load(Ordering::Acquire) == 0 {
        return;
    }
    let cookie = NEXT_COOKIE.fetch_add(1, Ordering::Relaxed);
    let isdir = if inode.file_type() == FileType::Directory {
        IN_ISDIR
    } else {
        0
    };
    fsnotify(old_dir, IN_MOVED_FROM | isdir, Some(old_name), cookie);
    fsnotify(new_dir, IN_MOVED_TO | isdir, Some(new_name), cookie);
    fsnotify(inode, IN_MOVE_SELF | isdir, None, 0);
}

/// The object `dentry` names was written or truncated (Linux's `fsnotify_modify`).
pub fn fsnotify_modify(dentry: &Dentry) {
    fsnotify_dentry(dentry, IN_MODIFY);
}

/// The object `dentry` names was read (Linux's `fsnotify_access`).
pub fn fsnotify_access(dentry: &Dentry) {
    fsnotify_dentry(dentry, IN_ACCESS);
}

/// The attributes of the object `dentry` names changed (Linux's `fsnotify_change`).
pub fn fsnotify_attrib(dentry: &Dentry) {
    fsnotify_dentry(dentry, IN_ATTRIB);
}

/// `file` was opened (Linux's `fsnotify_open`).
pub fn fsnotify_open(file: &File) {
    fsnotify_dentry(&file.dentry, IN_OPEN);
}

/// `file` is being closed for the last time (Linux's `fsnotify_close`).
pub fn fsnotify_close(file: &File) {
    let event = if file.writable() {
        IN_CLOSE_WRITE
    } else {
        IN_CLOSE_NOWRITE
    };
    fsnotify_dentry(&file.dentry, event);
}

impl Inode for InotifyGroup {
    fn stat(&self) -> Stat {
        self.stat.stat()
    }

    /// Linux's `inotify_read`.
    fn read_iter(&self, iocb: &Kiocb, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        loop {
            let mut done = 0;
            loop {
                let event = {
                    let mut st = self.state.lock();
                    let Some(event) = st.queue.front() else { break };
                    if event.size() > to.count() {
                        if done == 0 {
                            return Err(Errno::EINVAL);
                        }
                        break;
                    }
                    let event = st.queue.pop_front();
                    if st.queue.is_empty() {
                        st.overflowed = false;
                    }
                    event
                };
                let Some(event) = event else { break };
                let bytes = event.to_bytes();
                if to.copy_to_iter(&bytes) != bytes.len() {
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EFAULT)
                    };
                }
                done += bytes.len();
            }
            if done > 0 {
                return Ok(done);
            }
            if iocb.nonblock() {
                return Err(Errno::EAGAIN);
            }
            self.wait
                .wait_event_interruptible(|| !self.state.lock().queue.is_empty())?;
        }
    }

    fn write_iter(&self, _iocb: &Kiocb, _from: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64, Errno> {
        if cmd != FIONREAD {
            return Err(Errno::EINVAL);
        }
        let bytes: usize = self.state.lock().queue.iter().map(Event::size).sum();
        copy_to_user(arg, &(bytes as i32).to_ne_bytes())?;
        Ok(0)
    }

    /// O_NONBLOCK is decided in `read_iter` (after the size check).
    fn poll_read_ready(&self) -> bool {
        true
    }

    fn poll(&self, _file_flags: u32) -> u32 {
        if self.state.lock().queue.is_empty() {
            0
        } else {
            pollbits::POLLIN | pollbits::POLLRDNORM
        }
    }

    /// Linux's `inotify_show_fdinfo`, without the file handle (Cradle has no exportfs).
    fn show_fdinfo(&self, out: &mut String) {
        use core::fmt::Write;
        let watches: Vec<(i32, Arc<dyn Inode>, u32)> = self
            .state
            .lock()
            .watches
            .iter()
            .map(|(&wd, w)| (wd, w.inode.clone(), w.mask))
            .collect();
        for (wd, inode, mask) in watches {
            let st = inode.stat();
            let _ = writeln!(
                out,
                "inotify wd:{:x} ino:{:x} sdev:{:x} mask:{:x} ignored_mask:0",
                wd,
                st.ino,
                st.dev,
                mask & IN_ALL_EVENTS
            );
        }
    }

    fn with_poll_head(&self, f: &mut dyn FnMut(&PollHead)) -> bool {
        f(&self.poll_head);
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

type SysResult = Result<u64, Errno>;

/// `inotify_init1(2)`.
pub fn sys_inotify_init1(iflags: i32) -> SysResult {
    let iflags = iflags as u32;
    if iflags & !(flags::O_CLOEXEC | flags::O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let group = Arc::new_cyclic(|me| InotifyGroup {
        state: SpinLock::new(GroupState {
            watches: BTreeMap::new(),
            next_wd: 1,
            queue: VecDeque::new(),
            overflowed: false,
        }),
        wait: WaitQueueHead::new(),
        poll_head: PollHead::new(),
        me: me.clone(),
        stat: AnonStat::new(),
    });
    anon_inode_getfd("inotify", group, iflags)
}

/// The inotify instance behind `fd`: EBADF if none, EINVAL if it is not one.
fn group_of(fd: i32) -> Result<(Arc<File>, Arc<InotifyGroup>), Errno> {
    let file = fdget(fd)?;
    let inode: Arc<dyn Any + Send + Sync> = file.inode.clone();
    let group = inode
        .downcast::<InotifyGroup>()
        .map_err(|_| Errno::EINVAL)?;
    Ok((file, group))
}

/// `inotify_add_watch(2)`, with Linux's checks in Linux's order.
pub fn sys_inotify_add_watch(fd: i32, pathname: u64, wmask: u32) -> SysResult {
    if wmask & ALL_INOTIFY_BITS == 0 {
        return Err(Errno::EINVAL);
    }
    if wmask & IN_MASK_ADD != 0 && wmask & IN_MASK_CREATE != 0 {
        return Err(Errno::EINVAL);
    }
    let (_file, group) = group_of(fd)?;
    let path = getname(pathname)?;
    let dentry = lookup_at(super::namei::AT_FDCWD, &path, wmask & IN_DONT_FOLLOW == 0)?;
    if wmask & IN_ONLYDIR != 0 && dentry.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    inode_permission(&dentry.inode, super::permission::MAY_READ)?;
    let inode = dentry.inode.clone();
    let stored = wmask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK);
    let mut st = group.state.lock();
    let existing = st
        .watches
        .iter()
        .find(|(_, w)| Arc::ptr_eq(&w.inode, &inode))
        .map(|(&wd, w)| (wd, w.mask));
    let (wd, new_mask) = match existing {
        Some(_) if wmask & IN_MASK_CREATE != 0 => return Err(Errno::EEXIST),
        Some((wd, old)) => {
            let new = if wmask & IN_MASK_ADD != 0 {
                old | stored
            } else {
                stored
            };
            if let Some(w) = st.watches.get_mut(&wd) {
                w.mask = new;
            }
            (wd, new)
        }
        None => {
            let wd = st.next_wd;
            st.next_wd = st.next_wd.checked_add(1).unwrap_or(1);
            st.watches.insert(
                wd,
                Watch {
                    inode: inode.clone(),
                    mask: stored,
                },
            );
            (wd, stored)
        }
    };
    // The index is updated under the instance's lock, so a concurrent rm_watch (which
    // takes the index after the instance's) cannot leave an entry behind.
    let mut index = WATCHES.lock();
    let list = index.entry(inode_key(&inode)).or_default();
    match list
        .iter_mut()
        .find(|(g, w, _)| Weak::ptr_eq(g, &group.me) && *w == wd)
    {
        Some(entry) => entry.2 = new_mask,
        None => {
            list.push((group.me.clone(), wd, new_mask));
            NR_WATCHES.fetch_add(1, Ordering::AcqRel);
        }
    }
    drop(index);
    drop(st);
    Ok(wd as u64)
}

/// `inotify_rm_watch(2)`: EINVAL for a descriptor the instance does not have.
pub fn sys_inotify_rm_watch(fd: i32, wd: i32) -> SysResult {
    let (_file, group) = group_of(fd)?;
    if !group.remove_watch(wd) {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}
