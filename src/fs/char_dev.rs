//! Character devices by number (Linux: `fs/char_dev.c`).
//!
//! Drivers register a [`CharDevice`] under a (major, minor) pair, with Linux's numbers:
//! 1:3 `/dev/null`, 1:5 `/dev/zero`, 1:7 `/dev/full`, 1:8 `/dev/random`, 1:9
//! `/dev/urandom`, 5:0 `/dev/tty`, 5:1 `/dev/console`, 4:65 `/dev/ttyS1`,
//! 204:64 `/dev/ttyAMA0`. A device node in any filesystem reaches its driver through here.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use crate::fs::iov_iter::{short_copy, IovIter};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;

/// A character device driver.
pub trait CharDevice: Send + Sync {
    /// Read into `to`, copying as the data is taken (Linux's `read_iter`); may sleep. What
    /// a short copy did not deliver is not consumed (see [`crate::fs::inode::Inode::read_iter`]).
    fn read(&self, to: &mut IovIter<'_>) -> Result<usize, Errno>;
    /// Write from `from` (Linux's `write_iter`); may sleep.
    fn write(&self, from: &mut IovIter<'_>) -> Result<usize, Errno>;
    /// Device control.
    fn ioctl(&self, _cmd: u32, _arg: u64) -> Result<i64, Errno> {
        Err(Errno::ENOTTY)
    }
    /// True if a read would not block.
    fn poll_read_ready(&self) -> bool {
        true
    }
    /// The wake-up list of a device that can tell when it becomes readable (the tty); a
    /// device without one cannot be added to an epoll.
    fn poll_head(&self) -> Option<&'static crate::fs::select::PollHead> {
        None
    }
    /// A node of the device is being opened with `flags` (Linux's `file_operations.open`).
    fn open(&self, _flags: u32) -> Result<(), Errno> {
        Ok(())
    }
}

/// Linux's `MKDEV` for the 64-bit `dev_t` glibc uses (major in bits 8..20 and 32..44, minor
/// in 0..8 and 20..32), which is what `stat` reports.
pub const fn mkdev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xfff) << 8) | ((major & !0xfff) << 32) | (minor & 0xff) | ((minor & !0xff) << 12)
}

/// The major number of a `dev_t`.
pub const fn major(dev: u64) -> u32 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32
}

/// The minor number of a `dev_t`.
pub const fn minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32
}

static DEVICES: SpinLock<BTreeMap<u64, Arc<dyn CharDevice>>> = SpinLock::new(BTreeMap::new());

/// Register `dev` under `major:minor` (Linux's `register_chrdev_region` + `cdev_add`).
pub fn register(major_nr: u32, minor_nr: u32, dev: Arc<dyn CharDevice>) {
    DEVICES.lock().insert(mkdev(major_nr, minor_nr), dev);
}

fn get(rdev: u64) -> Result<Arc<dyn CharDevice>, Errno> {
    DEVICES.lock().get(&rdev).cloned().ok_or(Errno::ENXIO)
}

/// Open the device `rdev` (ENXIO if no driver has it).
pub fn open(rdev: u64, flags: u32) -> Result<(), Errno> {
    get(rdev)?.open(flags)
}

/// Read from the device `rdev`.
pub fn read(rdev: u64, to: &mut IovIter<'_>) -> Result<usize, Errno> {
    get(rdev)?.read(to)
}

/// Write to the device `rdev`.
pub fn write(rdev: u64, from: &mut IovIter<'_>) -> Result<usize, Errno> {
    get(rdev)?.write(from)
}

/// Device control on `rdev`.
pub fn ioctl(rdev: u64, cmd: u32, arg: u64) -> Result<i64, Errno> {
    get(rdev)?.ioctl(cmd, arg)
}

/// True if reading `rdev` would not block.
pub fn poll_read_ready(rdev: u64) -> bool {
    get(rdev).map(|d| d.poll_read_ready()).unwrap_or(true)
}

/// The wake-up list of the device `rdev`, if it has one.
pub fn poll_head(rdev: u64) -> Option<&'static crate::fs::select::PollHead> {
    get(rdev).ok().and_then(|d| d.poll_head())
}

/// `/dev/null`: reads see end of file, writes vanish unread (Linux: `drivers/char/mem.c`,
/// `read_null`, `write_null`: a bad buffer is not noticed).
pub struct Null;

impl CharDevice for Null {
    fn read(&self, _to: &mut IovIter<'_>) -> Result<usize, Errno> {
        Ok(0)
    }
    fn write(&self, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        Ok(from.count())
    }
}

/// Zeros into `to` until it is full or faults (Linux's `read_iter_zero`).
fn read_zero(to: &mut IovIter<'_>) -> Result<usize, Errno> {
    let want = to.count();
    short_copy(0, to.zero(want), want)
}

/// `/dev/zero`: endless zeros; writes vanish unread (Linux's `write_zero` is `write_null`).
pub struct Zero;

impl CharDevice for Zero {
    fn read(&self, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        read_zero(to)
    }
    fn write(&self, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        Ok(from.count())
    }
}

/// `/dev/full`: reads as zeros, every write fails with ENOSPC (the disk is full).
pub struct Full;

impl CharDevice for Full {
    fn read(&self, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        read_zero(to)
    }
    fn write(&self, _from: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::ENOSPC)
    }
}

/// `/dev/random` and `/dev/urandom`: the kernel's random bytes (Linux:
/// `drivers/char/random.c`; since 5.6 both read the same generator once it is seeded, and
/// Cradle's is seeded at boot). Writes are read (a bad buffer is EFAULT, as Linux's
/// `write_pool_user`) and, as on Linux without RNDADDENTROPY, credit nothing.
pub struct Random;

impl CharDevice for Random {
    fn read(&self, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        // Linux's `get_random_bytes_user`: a block at a time, straight into the iterator.
        let mut block = [0u8; 64];
        let mut done = 0;
        while to.count() > 0 {
            let want = block.len().min(to.count());
            crate::kernel::random::get_random_bytes(&mut block[..want]);
            let copied = to.copy_to_iter(&block[..want]);
            if copied < want {
                return short_copy(done, copied, want);
            }
            done += copied;
        }
        Ok(done)
    }
    fn write(&self, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        let mut block = [0u8; 64];
        let mut done = 0;
        while from.count() > 0 {
            let want = block.len().min(from.count());
            let copied = from.copy_from_iter(&mut block[..want]);
            if copied < want {
                return short_copy(done, copied, want);
            }
            done += copied;
        }
        Ok(done)
    }
}

/// Register the memory devices (Linux's `chr_dev_init`, with `drivers/char/mem.c`'s
/// numbers).
fn chr_dev_init() -> i32 {
    register(1, 3, Arc::new(Null));
    register(1, 5, Arc::new(Zero));
    register(1, 7, Arc::new(Full));
    register(1, 8, Arc::new(Random));
    register(1, 9, Arc::new(Random));
    0
}
crate::fs_initcall!(chr_dev_init);
