//! Character devices by number (Linux: `fs/char_dev.c`).
//!
//! Drivers register a [`CharDevice`] under a (major, minor) pair, with Linux's numbers:
//! 1:3 `/dev/null`, 1:5 `/dev/zero`, 1:7 `/dev/full`, 1:8 `/dev/random`, 1:9
//! `/dev/urandom`, 5:0 `/dev/tty`, 5:1 `/dev/console`, 4:65 `/dev/ttyS1`,
//! 204:64 `/dev/ttyAMA0`. A device node in any filesystem reaches its driver through here.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use crate::kernel::errno::Errno;
use crate::kernel::sync::SpinLock;

/// A character device driver.
pub trait CharDevice: Send + Sync {
    /// Read into `buf`; may sleep.
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno>;
    /// Write from `buf`; may sleep.
    fn write(&self, buf: &[u8]) -> Result<usize, Errno>;
    /// Device control.
    fn ioctl(&self, _cmd: u32, _arg: u64) -> Result<i64, Errno> {
        Err(Errno::ENOTTY)
    }
    /// True if a read would not block.
    fn poll_read_ready(&self) -> bool {
        true
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
pub fn read(rdev: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    get(rdev)?.read(buf)
}

/// Write to the device `rdev`.
pub fn write(rdev: u64, buf: &[u8]) -> Result<usize, Errno> {
    get(rdev)?.write(buf)
}

/// Device control on `rdev`.
pub fn ioctl(rdev: u64, cmd: u32, arg: u64) -> Result<i64, Errno> {
    get(rdev)?.ioctl(cmd, arg)
}

/// True if reading `rdev` would not block.
pub fn poll_read_ready(rdev: u64) -> bool {
    get(rdev).map(|d| d.poll_read_ready()).unwrap_or(true)
}

/// `/dev/null`: reads see end of file, writes vanish (Linux: `drivers/char/mem.c`).
pub struct Null;

impl CharDevice for Null {
    fn read(&self, _buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(0)
    }
    fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        Ok(buf.len())
    }
}

/// `/dev/zero`: endless zeros.
pub struct Zero;

impl CharDevice for Zero {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        Ok(buf.len())
    }
}

/// `/dev/full`: reads as zeros, every write fails with ENOSPC (the disk is full).
pub struct Full;

impl CharDevice for Full {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::ENOSPC)
    }
}

/// `/dev/random` and `/dev/urandom`: the kernel's random bytes (Linux:
/// `drivers/char/random.c`; since 5.6 both read the same generator once it is seeded, and
/// Cradle's is seeded at boot). Writes are accepted and, as on Linux without
/// RNDADDENTROPY, credit nothing.
pub struct Random;

impl CharDevice for Random {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        crate::kernel::random::get_random_bytes(buf);
        Ok(buf.len())
    }
    fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        Ok(buf.len())
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
