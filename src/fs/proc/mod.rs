//! procfs: the kernel's state as files (Linux: `fs/proc/`).
//!
//! Nothing here is stored. Directories list their entries when read — the root lists the
//! fixed files and one directory per process (`fs/proc/root.c`, `fs/proc/base.c`
//! `proc_pid_readdir`) — and files generate their whole text on every `read_at` and serve
//! the requested range of it, which is simple and correct for files this small (Linux's
//! `seq_file` does the same in effect). The formats are Linux's, byte for byte where the
//! values exist, because busybox's `ps`, `top`, `free`, `uptime`, `mount` and `df` parse
//! them.
//!
//! - `generic.rs`: the inode kinds (generated file, symlink) and inode numbering
//!   (`fs/proc/generic.c`, `fs/proc/inode.c`).
//! - `root.rs`: `/proc` itself and `/proc/self` (`fs/proc/root.c`, `fs/proc/self.c`).
//! - `base.rs`: `/proc/<pid>/` (`fs/proc/base.c`, `fs/proc/fd.c`); `fd.rs`: the text of
//!   `fdinfo/<n>`.
//! - `array.rs`: `/proc/<pid>/stat`, `status`, `statm` (`fs/proc/array.c`).
//! - `task_mmu.rs`: `/proc/<pid>/maps` (`fs/proc/task_mmu.c`).
//! - `meminfo.rs`, `stat.rs` (with `uptime` and `loadavg`), `cpuinfo.rs`, `misc.rs`
//!   (`version`, `cmdline`, `mounts`, `filesystems`), and `locks` (from `fs/locks.rs`): the
//!   system-wide files.
//!
//! A process that exits while one of its files is read is looked up again on every read:
//! once it is reaped the read fails with `ESRCH` (Linux does the same), never a crash.

mod array;
mod base;
mod cpuinfo;
mod fd;
pub mod generic;
mod meminfo;
mod misc;
mod proc_kunit;
pub mod proc_sysctl;
mod root;
mod stat;
mod task_mmu;

pub use root::proc_root;
